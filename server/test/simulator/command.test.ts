import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatConnectionString } from '../../src/provisioning/connection-string.js';
import { deviceResource, verifySasToken } from '../../src/provisioning/sas.js';
import { parseReadingsMessage } from '../../src/readings/message.js';
import { registerSimulateCommand, sasPassword } from '../../src/simulator/commands.js';
import { sunnyStreetSites } from '../../src/simulator/sites.js';

const HOST = 'gridshare.test';
const keys = new Map<string, string>();
const devices = sunnyStreetSites().slice(0, 3).map((site, i) => {
  const deviceId = `demo-${String(i + 1).padStart(3, '0')}`;
  const key = randomBytes(32).toString('base64');
  keys.set(deviceId, key);
  return { deviceId, connectionString: formatConnectionString({ hostName: HOST, deviceId, sharedAccessKey: key }), site };
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridshare-simulate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function program(signal?: AbortSignal): Command {
  const cli = new Command('gridshare').exitOverride();
  registerSimulateCommand(cli, signal ? { signal } : {});
  return cli;
}

describe('gridshare simulate', () => {
  it('signs a SAS token the platform accepts, for the device only', () => {
    const password = sasPassword(devices[0]!);
    const token = password();
    expect(verifySasToken(token, { expectedResource: deviceResource(HOST, 'demo-001'), keys: [keys.get('demo-001')!] })).toEqual({ ok: true, keyIndex: 0 });
    expect(verifySasToken(token, { expectedResource: deviceResource(HOST, 'demo-002'), keys: [keys.get('demo-001')!] }).ok).toBe(false);
    expect(() => sasPassword({ ...devices[0]!, deviceId: 'demo-002' })).toThrow(/for device demo-001/);
  });

  it('connects every device with its token and publishes until stopped', async () => {
    const file = join(dir, 'devices.json');
    await writeFile(file, JSON.stringify(devices));
    const refused: string[] = [];
    const received: { clientId: string; payload: string }[] = [];
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const key = username ? keys.get(username) : undefined;
        const verdict = key && password && client.id === username
          ? verifySasToken(password.toString('utf8'), { expectedResource: deviceResource(HOST, username!), keys: [key] })
          : undefined;
        if (!verdict?.ok) refused.push(client.id);
        done(null, verdict?.ok === true);
      },
    });
    aedes.on('publish', (packet, client) => {
      if (client) received.push({ clientId: client.id, payload: packet.payload.toString() });
    });
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const controller = new AbortController();
      const start = new Date(Date.now() - 2 * 3_600_000).toISOString();
      const running = program(controller.signal).parseAsync(
        ['simulate', '--mqtt-url', url, '--devices', file, '--speed', '600', '--interval-ms', '100', '--seed', '4', '--start', start, '--anchor', start, '--json'],
        { from: 'user' },
      );
      const deadline = Date.now() + 15_000;
      while (new Set(received.map((m) => m.clientId)).size < 3 || received.length < 9) {
        if (Date.now() > deadline) throw new Error(`only ${received.length} messages`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      controller.abort();
      await running;
      expect(refused).toEqual([]);
      for (const message of received) expect(parseReadingsMessage(message.payload).length).toBeGreaterThan(0);
      const json = stdout.mock.calls.map((call) => String(call[0])).find((line) => line.startsWith('{'));
      expect(JSON.parse(json!)).toMatchObject({ devices: 3, connected: 0 });
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
      await new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve())));
    }
  });

  it('names the file and the entry when the devices file is wrong', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify([{ ...devices[0], site: { kind: 'household' } }]));
    await expect(program().parseAsync(['simulate', '--mqtt-url', 'mqtt://127.0.0.1:1', '--devices', file], { from: 'user' }))
      .rejects.toThrow(/bad\.json: devices\[0\]\/site\/name/);
  });
});
