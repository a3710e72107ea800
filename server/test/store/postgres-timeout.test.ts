import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/platform/store/postgres.js';

/**
 * A PostgreSQL address that accepts the connection and never answers (a server hung, a firewall
 * that drops replies) must not hold Gridshare's start, or a request, open for ever: the pool gives
 * up after its connection timeout with the driver's reason.
 */
describe('a PostgreSQL server that never answers', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  let port = 0;
  let accepted = 0;
  beforeAll(async () => {
    silent = createServer((socket) => {
      accepted++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('is given up on with a timeout instead of waiting for ever', async () => {
    await expect(openPostgres(`postgres://gridshare@127.0.0.1:${port}/gridshare`)).rejects.toThrow(/timeout/i);
    // The attempt reached the silent server: it was the connection that timed out, not a refusal.
    expect(accepted).toBeGreaterThanOrEqual(1);
  }, 25_000);
});
