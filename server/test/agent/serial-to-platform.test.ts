import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SerialPort } from 'serialport';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { readConfigFile } from '../../src/agent/config-file.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { meterProfile } from '../../src/agent/domain/profiles.js';
import { createLogger } from '../../src/agent/log.js';
import { decodeFrame } from '../../src/meters/index.js';
import { dsmrTelegramAt } from '../meters/telegrams.js';
import { loadVector, vectorIndex } from '../meters/vectors.js';
import { closePort, d0ReadoutBlock, netzNoeFramesAt, openMeter, ptyPair, send, socatMissing, type PtyPair } from './support/meter-line.js';
import { until, writeAgentConfig } from './support/agents.js';
import { freePort } from '../support/process.js';

// What the platform's own DSMR decoder yields for one telegram (registers plus the tariff totals).
const READINGS_PER_TELEGRAM = decodeFrame(dsmrTelegramAt(new Date(Date.UTC(2026, 0, 1)), 4_426), { format: 'dsmr', receivedAt: new Date() }).readings.length;

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;

describe.skipIf(socatMissing)('the agent on a real serial line (pseudo-terminals), into a real Gridshare', () => {
  let tp: TestPlatform;
  let w: World;
  let dir: string;
  let devices: string[];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform('pglite');
    w = await buildWorld(tp);
    const batch = await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 7 } });
    devices = batch.body.deviceIds;
    dir = mkdtempSync(join(tmpdir(), 'gridshare-agent-'));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await tp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A pty pair, the meter's end open at the profile's settings, and an agent on the other end. */
  async function meterAndAgent(deviceId: string, meter: Record<string, unknown>, web = false, endpoints: { mqttUrl?: string } = {}, uplink: Record<string, unknown> = {}): Promise<{ pair: PtyPair; port: SerialPort; agent: RunningAgent; configPath: string }> {
    const pair = await ptyPair();
    cleanups.push(() => pair.close());
    const profile = meterProfile(meter.profile as string)!;
    const port = await openMeter(pair.meterPath, profile.line);
    cleanups.push(() => closePort(port));
    const configPath = await writeAgentConfig(tp, w.managerA.token, deviceId, dir, {
      meter: { port: pair.agentPath, ...meter },
      web: { enabled: web, host: '127.0.0.1', port: 0 },
      uplink: { heartbeatSeconds: 1, ...uplink },
      mdns: false,
    }, endpoints);
    const agent = await startAgent(readConfigFile(configPath), { log: createLogger('warn', () => undefined) });
    cleanups.push(() => agent.close());
    await until('the serial port to open', () => agent.status().serial.open);
    return { pair, port, agent, configPath };
  }

  const stored = async (deviceId: string, quantity?: string) =>
    (await tp.platform.db.query<{ quantity: string; ts: Date; value: number }>(
      `SELECT quantity, ts, value FROM readings WHERE device_id = $1 ${quantity ? 'AND quantity = $2' : ''} ORDER BY ts, quantity`, quantity ? [deviceId, quantity] : [deviceId]))
      .map((r) => ({ quantity: r.quantity, ts: r.ts.toISOString(), value: r.value }));

  it('DSMR P1 at 115200 8N1: decoded on the device, stored, quarter hours computed; a corrupted telegram is counted, not sent', async () => {
    const { port, agent } = await meterAndAgent(w.provisionedA, { profile: 'dsmr-p1' });
    const base = Math.floor((Date.now() - 3 * 3_600_000) / QUARTER) * QUARTER;
    const telegrams = Array.from({ length: 91 }, (_, i) => dsmrTelegramAt(new Date(base + i * MINUTE), 4_426 + i * 20));
    const corrupted = Buffer.from(dsmrTelegramAt(new Date(base + 30_000), 9_999));
    corrupted[60] = corrupted[60]! ^ 0x04;
    await send(port, Buffer.concat([...telegrams.slice(0, 10), corrupted, ...telegrams.slice(10)]));

    const t1 = await until('91 registers on the platform', async () => {
      const rows = await stored(w.provisionedA, 'energy.import.t1');
      return rows.length === 91 ? rows : undefined;
    });
    expect(t1.map((r) => r.value)).toEqual(telegrams.map((_, i) => 4_426 + i * 20));
    expect(t1[0]!.ts).toBe(new Date(base).toISOString());
    expect((await stored(w.provisionedA)).length).toBe(91 * READINGS_PER_TELEGRAM);
    await until('the queue to empty', () => agent.status().queue.messages === 0);
    const status = agent.status();
    expect(status.serial).toMatchObject({ frames: 91, checksumErrors: 1, frameErrors: 0, profile: 'dsmr-p1', open: true });
    expect(status.uplink).toMatchObject({ transport: 'mqtt', sentReadings: 91 * READINGS_PER_TELEGRAM });

    await tp.platform.intervals.flush();
    const intervals = await tp.call('GET', `/api/v1/metering-points/${w.meteringPointA}/intervals?from=${new Date(base).toISOString()}&to=${new Date(base + 6 * QUARTER).toISOString()}`, { token: w.memberA.token });
    expect(intervals.status).toBe(200);
    // Energy comes from the registers (tariff 1 + tariff 2), not from the 244 W power sample:
    // tariff 1 rises 20 Wh a minute, 300 Wh in every quarter hour.
    expect(intervals.body.map((i: { importWh: number; quality: string }) => i.importWh)).toEqual([300, 300, 300, 300, 300, 300]);
  });

  it('Austrian M-Bus at 2400 8E1: the Netz NÖ frames decrypted with the key kept on the device', async () => {
    const entry = vectorIndex.find((e) => e.file === 'at-netznoe-evn-kaifa-mbus.hex')!;
    const { port, agent } = await meterAndAgent(devices[0]!, { profile: 'at-mbus', key: entry.key });
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 120_000);
    // Line noise first, then two telegrams five seconds apart, as the meter pushes them.
    await send(port, Buffer.concat([Buffer.from([0x00, 0xe5, 0x68]), netzNoeFramesAt(at, entry.key!), netzNoeFramesAt(new Date(at.getTime() + 5_000), entry.key!)]));
    const rows = await until('the decrypted readings', async () => {
      const found = await stored(devices[0]!);
      return found.length === 22 ? found : undefined;
    });
    expect(rows.filter((r) => r.quantity === 'energy.import')).toEqual([
      { quantity: 'energy.import', ts: at.toISOString(), value: 12_937 },
      { quantity: 'energy.import', ts: new Date(at.getTime() + 5_000).toISOString(), value: 12_937 },
    ]);
    expect(rows.find((r) => r.quantity === 'voltage.l1')!.value).toBeCloseTo(233.7, 6);
    expect(agent.status().serial).toMatchObject({ frames: 2, checksumErrors: 0, skippedBytes: 3 });
    // The key stays on the device: the platform has none for it.
    expect(await tp.platform.db.query('SELECT 1 FROM meter_keys WHERE device_id = $1', [devices[0]])).toHaveLength(0);
  });

  it('SML optical head at 9600 8N1: both vectors (CRC X-25 and KERMIT), stamped when they arrived', async () => {
    const { port } = await meterAndAgent(devices[1]!, { profile: 'sml' });
    const before = Date.now();
    // Two meters' telegrams on one device: the smaller register first, or the platform would see it go backwards.
    const importOf = (file: string) => decodeFrame(loadVector(file).bytes, { format: 'sml', receivedAt: new Date() }).readings.find((r) => r.quantity === 'energy.import')!.value;
    const files = ['sml-emh-smartmeter-obis.hex', 'sml-holley-kermit-crc-smllib.hex'].sort((a, b) => importOf(a) - importOf(b));
    for (const file of files) {
      await send(port, loadVector(file).bytes);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
    }
    const expected = files.flatMap((file) => decodeFrame(loadVector(file).bytes, { format: 'sml', receivedAt: new Date() }).readings.map((r) => `${r.quantity}=${r.value}`));
    const rows = await until('both SML telegrams', async () => {
      const found = await stored(devices[1]!);
      return found.length === expected.length ? found : undefined;
    });
    expect(rows.map((r) => `${r.quantity}=${r.value}`).sort()).toEqual(expected.sort());
    for (const r of rows) expect(Date.parse(r.ts)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
  });

  it('D0 mode C: sign-on at 300 Bd 7E1, the switch to 9600 Bd, the readout decoded', async () => {
    const pair = await ptyPair();
    cleanups.push(() => pair.close());
    const meter = await openMeter(pair.meterPath, meterProfile('d0')!.line);
    cleanups.push(() => closePort(meter));
    const { identification, block } = d0ReadoutBlock();
    // The vector's meter answers in mode B ("C"); here it answers in mode C at 9600 Bd ("5").
    const modeC = `${identification.slice(0, 4)}5${identification.slice(5)}`;
    const heard: string[] = [];
    let received = '';
    meter.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.endsWith('/?!\r\n')) {
        heard.push(received);
        received = '';
        void send(meter, Buffer.from(`${modeC}\r\n`, 'latin1'));
      } else if (received.endsWith('\x06050\r\n')) {
        heard.push(received);
        received = '';
        // IEC 62056-21 gives the reader 200 ms or more to switch its speed after the ACK.
        setTimeout(() => meter.update({ baudRate: 9_600 }, () => void send(meter, block).then(() => meter.update({ baudRate: 300 }))), 300);
      }
    });
    const configPath = await writeAgentConfig(tp, w.managerA.token, devices[2]!, dir, { meter: { port: pair.agentPath, profile: 'd0', pollIntervalSeconds: 3_600 }, web: { enabled: false }, mdns: false });
    const agent = await startAgent(readConfigFile(configPath), { log: createLogger('warn', () => undefined) });
    cleanups.push(() => agent.close());
    const rows = await until('the heat meter readout', async () => {
      const found = await stored(devices[2]!);
      return found.length > 0 ? found : undefined;
    });
    expect(heard).toEqual(['/?!\r\n', '\x06050\r\n']);
    expect(rows).toEqual([{ quantity: 'heat.energy', ts: expect.any(String), value: 29_055_000 }]);
    expect(agent.status().serial).toMatchObject({ frames: 1, checksumErrors: 0 });
  });

  it('D0 mode D push at 9600 7E1, through a gateway\'s filler bytes', async () => {
    const { port, agent } = await meterAndAgent(devices[3]!, { profile: 'd0-push' });
    await send(port, loadVector('d0-moded-easymeter-q3d-ndokter.txt').bytes);
    const rows = await until('the EasyMeter readings', async () => {
      const found = await stored(devices[3]!);
      return found.length === 6 ? found : undefined;
    });
    expect(rows.find((r) => r.quantity === 'energy.import')!.value).toBeCloseTo(52_185_782.5309, 3);
    expect(agent.status().serial.skippedBytes).toBeGreaterThan(33);
  });

  it('forwards raw frames for the platform to decode when configured so, and runs a PIN-protected local page', async () => {
    const { port, agent, configPath } = await meterAndAgent(devices[4]!, { profile: 'dsmr-p1', mode: 'forward' }, true);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 30_000);
    await send(port, dsmrTelegramAt(at, 5_000));
    const rows = await until('the forwarded telegram', async () => {
      const found = await stored(devices[4]!, 'energy.import.t1');
      return found.length === 1 ? found : undefined;
    });
    expect(rows).toEqual([{ quantity: 'energy.import.t1', ts: at.toISOString(), value: 5_000 }]);

    const base = `http://127.0.0.1:${agent.webPort}`;
    const form = (body: Record<string, string>, headers: Record<string, string> = {}) => ({
      method: 'POST', redirect: 'manual' as const, body: new URLSearchParams(body).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    const landing = await fetch(`${base}/`, { headers: { 'accept-language': 'de-AT,de' } });
    expect(await landing.text()).toContain('PIN des Adapters eingeben');
    // A name that resolves to the reader only through DNS rebinding is refused.
    const rebound = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: agent.webPort, path: '/', headers: { host: 'attacker.example.com' } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      }).on('error', reject).end();
    });
    expect(rebound).toBe(421);
    expect((await fetch(`${base}/login`, form({ pin: '000000x' }))).status).toBe(401);
    expect((await fetch(`${base}/login`, form({ pin: agent.pin }, { origin: 'http://attacker.example.com' }))).status).toBe(403);
    const login = await fetch(`${base}/login`, form({ pin: agent.pin }));
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${base}/`, { headers: { cookie } })).text();
    expect(page).toContain('connected (MQTT)');
    expect(page).toContain('energy.import.t1');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const newKey = '00112233445566778899AABBCCDDEEFF';
    // Without the form's token nothing changes (a page elsewhere cannot post the form).
    expect((await fetch(`${base}/settings`, form({ port: '', profile: 'dsmr-p1', key: newKey, language: 'en' }, { cookie }))).status).toBe(303);
    const refused = await fetch(`${base}/settings`, form({ csrf, port: '', profile: 'dsmr-p1', key: 'not-hex', language: 'en' }, { cookie }));
    expect(refused.status).toBe(400);
    expect(JSON.parse(readFileSync(configPath, 'utf8')).agent.meter.key).toBeUndefined();
    const saved = await fetch(`${base}/settings`, form({ csrf, port: '', profile: 'at-mbus', key: newKey, language: 'de' }, { cookie }));
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain('Gespeichert');
    const written = JSON.parse(readFileSync(configPath, 'utf8'));
    expect(written.agent.meter).toMatchObject({ profile: 'at-mbus', key: newKey });
    expect(written.agent.meter.port).toBeUndefined();
    expect(written.agent.web.language).toBe('de');
    const status = await (await fetch(`${base}/status.json`)).json();
    expect(status).toMatchObject({ type: 'heartbeat', deviceId: devices[4], serial: { profile: 'at-mbus' } });
  });

  it('takes the log level from a command on its commands topic, once, and refuses an expired one', async () => {
    const { agent } = await meterAndAgent(devices[5]!, { profile: 'd0-push' });
    await until('an MQTT connection', () => agent.status().uplink.transport === 'mqtt' || undefined);
    const publish = (command: Record<string, unknown>) => new Promise<void>((resolve, reject) =>
      tp.platform.broker!.aedes.publish({ cmd: 'publish', topic: `devices/${devices[5]}/commands`, payload: Buffer.from(JSON.stringify(command)), qos: 1, dup: false, retain: false }, (error) => (error ? reject(error) : resolve())));
    await publish({ id: 'old', type: 'set-log-level', level: 'error', expiresAt: new Date(Date.now() - 1_000).toISOString() });
    await publish({ id: 'c-1', type: 'set-log-level', level: 'debug', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await until('the new log level', () => agent.status().logLevel === 'debug' || undefined);
  });

  it('falls back to HTTP when MQTT is blocked; a message the platform refuses is dropped alone, the others arrive', async () => {
    const blocked = await freePort();
    const { port, agent } = await meterAndAgent(devices[6]!, { profile: 'dsmr-p1' }, false, { mqttUrl: `mqtt://127.0.0.1:${blocked}` }, { httpFallbackAfterSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const at = Math.floor(Date.now() / 1000) * 1000 - 100_000;
    // The third telegram comes from a meter clock an hour fast: the platform refuses it.
    const telegrams = [0, 1, 2, 3, 4, 5].map((i) => dsmrTelegramAt(new Date(i === 2 ? Date.now() + 3_600_000 : at + i * 10_000), 7_000 + i));
    await send(port, Buffer.concat(telegrams));
    const rows = await until('five telegrams over HTTP', async () => {
      const found = await stored(devices[6]!, 'energy.import.t1');
      return found.length === 5 && agent.status().queue.messages === 0 ? found : undefined;
    });
    expect(rows.map((r) => r.value)).toEqual([7_000, 7_001, 7_003, 7_004, 7_005]);
    expect(agent.status().uplink).toMatchObject({ transport: 'http', refusedMessages: 1, sentReadings: 5 * READINGS_PER_TELEGRAM });
    expect(agent.status().uplink.lastError).toMatch(/future/);
  });
});
