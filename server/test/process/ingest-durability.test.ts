import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { unzipSync, strFromU8 } from 'fflate';
import { freePort, oneTimePassword, runGridshare, waitForHealth, type RunningGridshare } from '../support/process.js';
import { pdfPageCount, pdfText } from '../support/pdf.js';

const dataDir = mkdtempSync(join(tmpdir(), 'gridshare-ingest-durability-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(httpPort: number, mqttPort: number): Promise<RunningGridshare> {
  const running = runGridshare(['start', '--host', '127.0.0.1', '--port', String(httpPort), '--mqtt-port', String(mqttPort), '--data', dataDir]);
  await waitForHealth(running);
  return running;
}

async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : null,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, cookie: response.headers.get('set-cookie')?.split(';')[0] };
}

async function cli(args: string[], env: Record<string, string>) {
  const run = runGridshare(args, env);
  const code = await run.exited;
  return { code, output: run.output() };
}

describe('devices from provisioning to a crash', () => {
  it('provisions with the CLI, ingests over MQTT, and keeps every acknowledged reading across kill -9', async () => {
    const httpPort = await freePort();
    const mqttPort = await freePort();
    let running = await start(httpPort, mqttPort);
    const base = running.baseUrl;
    const otp = await oneTimePassword(running);
    const login = await call(base, 'POST', '/api/v1/auth/login', undefined, { email: 'admin@gridshare.local', password: otp });
    const cookieHeaders = { cookie: login.cookie! };
    await fetch(`${base}/api/v1/me/password`, { method: 'POST', headers: { ...cookieHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ currentPassword: otp, newPassword: 'ingest-admin-pw' }) });
    const tokenResponse = await fetch(`${base}/api/v1/me/tokens`, { method: 'POST', headers: { ...cookieHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'cli' }) });
    const token = ((await tokenResponse.json()) as { token: string }).token;
    const community = await call(base, 'POST', '/api/v1/communities', token, { name: 'Crash Street', timeZone: 'Europe/Vienna', currency: 'EUR' });

    // Provision three readers with the CLI, as a manager on a bench would, with their sticker sheet.
    const zipPath = join(dataDir, 'batch.zip');
    const stickersPath = join(dataDir, 'stickers.pdf');
    const env = { GRIDSHARE_URL: base, GRIDSHARE_TOKEN: token };
    const refused = await cli(['provision', '--community', community.body.id, '--count', '3', '--name', 'cellar\u202Egnp.exe', '--out', zipPath], env);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/bidi controls.*U\+202E.*\(400 bad_request\)/);
    const provision = await cli(['provision', '--community', community.body.id, '--count', '3', '--name', 'Cellar readers', '--out', zipPath, '--stickers', stickersPath, '--json'], env);
    expect(provision.code, provision.output).toBe(0);
    expect(provision.output).toMatch(/provisioning \[#+\] 100% database 3\/3/);
    expect(JSON.parse(provision.output.slice(provision.output.indexOf('{')))).toMatchObject({ name: 'Cellar readers', size: 3, zip: zipPath, stickers: stickersPath });
    const files = unzipSync(readFileSync(zipPath));
    const manifest = strFromU8(files['manifest.csv']!).trim().split('\r\n').slice(1);
    expect(manifest).toHaveLength(3);
    const [deviceId, , connectionString] = manifest[0]!.split(',') as [string, string, string];
    const stickers = readFileSync(stickersPath);
    expect(pdfPageCount(stickers)).toBe(1);
    const stickerText = pdfText(stickers);
    for (const line of manifest) {
      expect(stickerText).toContain(line.split(',')[0]);
      expect(stickerText).toContain(line.split('code=')[1]);
    }
    expect(stickerText).toContain('Cellar readers');

    // The master key was made at the first start, owner-only; rotate it while the server runs.
    const keyPath = join(dataDir, 'secret.key');
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(running.output()).toMatch(/Secrets +sealed with master key [0-9a-f]{16} from the key file .*secret\.key \(created now/);
    const firstKey = /sealed with master key ([0-9a-f]{16})/.exec(running.output())![1]!;
    const rotate = await cli(['secrets', 'rotate', '--json'], { GRIDSHARE_URL: base, GRIDSHARE_TOKEN: token });
    expect(rotate.code, rotate.output).toBe(0);
    const rotation = JSON.parse(rotate.output.slice(rotate.output.indexOf('{')));
    expect(rotation).toMatchObject({ retiredKeyIds: [firstKey], resealed: { device_credentials: 3, meter_keys: 0 } });
    expect(rotation.activeKeyId).not.toBe(firstKey);
    // The file holds the new key only; the old one is retired.
    expect(readFileSync(keyPath, 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'))).toHaveLength(1);

    // `gridshare token` makes the MQTT password from the connection string.
    const tokenRun = await cli(['token', '--connection-string', connectionString, '--json'], {});
    expect(tokenRun.code).toBe(0);
    const sas = JSON.parse(tokenRun.output).token as string;
    expect((await cli(['token', '--connection-string', 'HostName=x;DeviceId=y'], {})).code).toBe(2);

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: deviceId, username: deviceId, password: sas, reconnectPeriod: 0 });
    const start0 = Date.now() - 60 * 60_000;
    const acknowledged: number[] = [];
    const publishes = Array.from({ length: 200 }, (_, i) => {
      const ts = new Date(start0 + i * 10_000).toISOString();
      const payload = JSON.stringify({ readings: [{ ts, quantity: 'energy.import', value: 5_000_000 + i * 3, unit: 'Wh' }] });
      return client.publishAsync(`devices/${deviceId}/messages/events`, payload, { qos: 1 }).then(() => acknowledged.push(i));
    });
    // Kill the server the moment 150 acknowledgements have arrived, with the rest still in flight.
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (acknowledged.length >= 150) {
          clearInterval(check);
          resolve();
        }
      }, 1);
    });
    running.child.kill('SIGKILL');
    await running.exited;
    const ackedAtKill = [...acknowledged];
    client.end(true);
    void Promise.allSettled(publishes);

    running = await start(httpPort, mqttPort);
    // The restarted server opens the keys with the rotated master key from the file.
    expect(running.output()).toContain(`sealed with master key ${rotation.activeKeyId}`);
    const again = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: deviceId, username: deviceId, password: sas, reconnectPeriod: 0 });
    await again.endAsync();
    // Every acknowledged reading is there, by value.
    const stored = await call(base, 'GET', `/api/v1/devices/${deviceId}/readings?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z`, token);
    expect(stored.status).toBe(200);
    const values = new Set(stored.body.map((r: { value: number }) => r.value));
    expect(ackedAtKill.length).toBeGreaterThanOrEqual(150);
    expect(ackedAtKill.filter((i) => !values.has(5_000_000 + i * 3))).toEqual([]);
    const rollback = await cli(['rollback', provisionBatchId(provision.output), '--json'], { GRIDSHARE_URL: base, GRIDSHARE_TOKEN: token });
    expect(rollback.code, rollback.output).toBe(0);
    const result = JSON.parse(rollback.output);
    expect(result.kept).toEqual([{ deviceId, reason: 'has-readings' }]);
    expect(result.removed).toHaveLength(2);
    running.child.kill('SIGTERM');
    await running.exited;
  }, 120_000);
});

function provisionBatchId(output: string): string {
  return JSON.parse(output.slice(output.indexOf('{'))).id;
}
