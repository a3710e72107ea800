import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform } from '../../src/platform/compose.js';
import { MovedPortMemory } from '../../src/platform/net/listen.js';
import { createMigratedTestDatabase } from '../support/stores.js';
import { freePort } from '../support/process.js';

function occupy(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const artefactsDir = mkdtempSync(join(tmpdir(), 'gridshare-moved-ports-'));
const blockers: Server[] = [];
afterAll(() => {
  for (const blocker of blockers) blocker.close();
  rmSync(artefactsDir, { recursive: true, force: true });
});

async function start(defaultMqttPort: number) {
  const database = await createMigratedTestDatabase('pglite');
  return startPlatform({
    store: database.config,
    artefactsDir,
    http: { port: 0, host: '127.0.0.1', explicit: true },
    mqtt: { port: defaultMqttPort, host: '127.0.0.1', explicit: false },
    forecast: { delayMs: 600_000 },
  });
}

describe('a default port that is taken', () => {
  it('is replaced by the same port at every start while that one is free, and loudly by another when not', async () => {
    const defaultPort = await freePort();
    blockers.push(await occupy(defaultPort));

    const first = await start(defaultPort);
    const replacement = first.broker!.port;
    expect(first.movedPorts).toEqual([{ what: 'MQTT', from: defaultPort, to: replacement }]);
    await first.close();

    // Devices provisioned now were given `replacement`: the next start must use it again.
    const second = await start(defaultPort);
    expect(second.broker!.port).toBe(replacement);
    expect(second.movedPorts).toEqual([{ what: 'MQTT', from: defaultPort, to: replacement }]);
    await second.close();

    blockers.push(await occupy(replacement));
    const third = await start(defaultPort);
    const another = third.broker!.port;
    expect(another).not.toBe(replacement);
    expect(third.movedPorts).toEqual([{ what: 'MQTT', from: defaultPort, to: another, previous: replacement }]);
    await third.close();
    expect(new MovedPortMemory(artefactsDir).previous('MQTT')).toBe(another);
  }, 120_000);

  it('ignores a remembered port that is not a port, and a memory that is not JSON', () => {
    const folder = mkdtempSync(join(tmpdir(), 'gridshare-moved-ports-'));
    try {
      const memory = new MovedPortMemory(folder);
      writeFileSync(join(folder, 'moved-ports.json'), '{"MQTT": 70000, "HTTP": "8080"}');
      expect(memory.previous('MQTT')).toBeUndefined();
      expect(memory.previous('HTTP')).toBeUndefined();
      writeFileSync(join(folder, 'moved-ports.json'), 'not json');
      expect(memory.previous('MQTT')).toBeUndefined();
      memory.remember('MQTT', 41_883);
      expect(memory.previous('MQTT')).toBe(41_883);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
