import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, oneTimePassword, runGridshare, waitForHealth, type RunningGridshare } from '../support/process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gridshare-durability-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(): Promise<RunningGridshare> {
  const running = runGridshare(['start', '--host', '127.0.0.1', '--port', String(await freePort()), '--mqtt-port', String(await freePort()), '--data', dataDir]);
  await waitForHealth(running);
  return running;
}

async function json(running: RunningGridshare, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${running.baseUrl}${path}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : null,
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as any, cookie: response.headers.get('set-cookie')?.split(';')[0] };
}

describe('durability of the embedded database (PGlite)', () => {
  it('keeps every acknowledged write across kill -9 and across a clean restart', async () => {
    let running = await start();
    const password = await oneTimePassword(running);
    const login = await json(running, 'POST', '/api/v1/auth/login', { email: 'admin@gridshare.local', password });
    expect(login.status).toBe(200);
    const cookie = login.cookie!;
    expect((await json(running, 'POST', '/api/v1/me/password', { currentPassword: password, newPassword: 'durable-admin-pw' }, { cookie })).status).toBe(204);

    // Concurrent writes; the process is killed the moment the last acknowledgement arrives.
    const acknowledged = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        json(running, 'POST', '/api/v1/communities', { name: `Durable ${i}`, timeZone: 'Europe/Berlin', currency: 'EUR' }, { cookie }),
      ),
    );
    running.child.kill('SIGKILL');
    expect(await running.exited).toBeNull();
    expect(acknowledged.every((r) => r.status === 201)).toBe(true);

    running = await start();
    // The one-time password is not printed again: the admin already exists.
    expect(running.output()).not.toMatch(/one-time password/);
    const relogin = await json(running, 'POST', '/api/v1/auth/login', { email: 'admin@gridshare.local', password: 'durable-admin-pw' });
    expect(relogin.status).toBe(200);
    for (const write of acknowledged) {
      const read = await json(running, 'GET', `/api/v1/communities/${write.body.id}`, undefined, { cookie: relogin.cookie! });
      expect(read.status).toBe(200);
      expect(read.body.name).toBe(write.body.name);
    }

    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    running = await start();
    const listed = await json(running, 'GET', '/api/v1/communities?q=Durable&limit=100');
    expect(listed.body).toHaveLength(40);
    running.child.kill('SIGTERM');
    await running.exited;
  }, 300_000);
});
