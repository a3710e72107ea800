import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReadingsMessage } from '../../src/readings/message.js';
import type { Reading } from '../../src/kernel/quantities.js';
import { buildMessage } from '../../src/simulator/messages.js';
import { runSimulation, type SimulationStats } from '../../src/simulator/run.js';
import { catchUpTime, defaultStart, quarterHoursBetween, simulatedTime, slotTime } from '../../src/simulator/schedule.js';
import type { SiteSpec } from '../../src/simulator/sites.js';

const HOUR = 3_600_000;

interface Received {
  clientId: string;
  topic: string;
  qos: number;
  payload: string;
  receivedAt: number;
}

interface TestBroker {
  url: string;
  aedes: Aedes;
  logins: { clientId: string; username: string | undefined; password: string | undefined }[];
  messages: Received[];
  /** Connected clients by id. */
  clients: Map<string, Client>;
  close(): Promise<void>;
}

async function startBroker(): Promise<TestBroker> {
  const logins: TestBroker['logins'] = [];
  const messages: Received[] = [];
  const clients = new Map<string, Client>();
  const aedes = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      logins.push({ clientId: client.id, username, password: password?.toString('utf8') });
      done(null, client.id === username && password?.toString('utf8').startsWith(`token:${username}:`) === true);
    },
  });
  aedes.on('clientReady', (client) => clients.set(client.id, client));
  aedes.on('clientDisconnect', (client) => clients.delete(client.id));
  aedes.on('publish', (packet, client) => {
    if (!client) return; // the broker's own $SYS messages
    messages.push({ clientId: client.id, topic: packet.topic, qos: packet.qos, payload: packet.payload.toString(), receivedAt: Date.now() });
  });
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    aedes, logins, messages, clients,
    close: () => new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve()))),
  };
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sites: SiteSpec[] = [
  { kind: 'household', name: 'House 1', pvPeakW: 6000 },
  { kind: 'library', name: 'Library', pvPeakW: 60_000 },
  { kind: 'battery', name: 'Battery', capacityWh: 100_000, maxPowerW: 50_000 },
];

let broker: TestBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

describe('runSimulation against a real MQTT broker', () => {
  it('publishes valid readings per device with its credentials, and disconnects on abort', async () => {
    broker = await startBroker();
    const tokensIssued = new Map<string, number>();
    const controller = new AbortController();
    const updates: SimulationStats[] = [];
    const start = new Date(Date.now() - 3 * HOUR);
    const devices = sites.map((site, index) => ({
      deviceId: `sim-${index + 1}`,
      site,
      password: () => {
        const deviceId = `sim-${index + 1}`;
        const n = (tokensIssued.get(deviceId) ?? 0) + 1;
        tokensIssued.set(deviceId, n);
        return `token:${deviceId}:${n}`;
      },
    }));

    const running = runSimulation({
      mqttUrl: broker.url,
      devices,
      intervalMs: 150,
      speed: 3600, // an hour per second: each tick covers 9 simulated minutes
      start,
      anchor: start,
      seed: 3,
      signal: controller.signal,
      onPublish: (stats) => updates.push(stats),
    });

    const b = broker;
    await until(() => devices.every((d) => b.messages.filter((m) => m.clientId === d.deviceId).length >= 4));

    // A dropped connection: the client reconnects with a freshly issued token.
    const before = tokensIssued.get('sim-2')!;
    const client = b.clients.get('sim-2');
    expect(client).toBeDefined();
    client!.close();
    await until(() => b.logins.filter((l) => l.clientId === 'sim-2').length >= 2);
    expect(tokensIssued.get('sim-2')).toBe(before + 1);
    expect(b.logins.filter((l) => l.clientId === 'sim-2').at(-1)!.password).toBe(`token:sim-2:${before + 1}`);
    await until(() => b.messages.filter((m) => m.clientId === 'sim-2').length >= 6);

    controller.abort();
    const final = await running;

    // Credentials: client id = username = device id, password from the provider.
    for (const device of devices) {
      const login = b.logins.find((l) => l.clientId === device.deviceId)!;
      expect(login.username).toBe(device.deviceId);
      expect(login.password).toBe(`token:${device.deviceId}:1`);
    }

    // Messages: on the device's own topic, QoS 1, valid for the platform's parser, time moving forward but never ahead of the clock.
    const lastTs = new Map<string, number>();
    let boundaryReadings = 0;
    for (const message of b.messages) {
      expect(message.topic).toBe(`devices/${message.clientId}/messages/events`);
      expect(message.qos).toBe(1);
      const readings: Reading[] = parseReadingsMessage(message.payload, message.receivedAt);
      const instants = [...new Set(readings.map((r) => Date.parse(r.ts)))];
      const current = Math.max(...instants);
      expect(current).toBeLessThanOrEqual(message.receivedAt);
      expect(current).toBeGreaterThanOrEqual(start.getTime());
      expect(current).toBeGreaterThanOrEqual(lastTs.get(message.clientId) ?? 0);
      lastTs.set(message.clientId, current);
      // Earlier instants in a message are the quarter hours passed since the last one.
      for (const t of instants) if (t !== current) {
        expect(t % 900_000).toBe(0);
        boundaryReadings += 1;
      }
      const quantities = readings.filter((r) => Date.parse(r.ts) === current).map((r) => r.quantity);
      expect(quantities).toContain('energy.import');
      expect(quantities).toContain('power.export');
    }
    expect(boundaryReadings).toBeGreaterThan(0);
    const batteryMessage = b.messages.find((m) => m.clientId === 'sim-3')!;
    expect(batteryMessage.payload).toContain('battery.soc');
    const libraryMessage = b.messages.find((m) => m.clientId === 'sim-2')!;
    expect(libraryMessage.payload).toContain('pv.power');

    // Devices are staggered across the tick rather than sent in one burst.
    const firstTick = devices.map((d) => b.messages.find((m) => m.clientId === d.deviceId)!.receivedAt);
    expect(Math.max(...firstTick) - Math.min(...firstTick)).toBeGreaterThanOrEqual(50);

    // Counters: everything published was acknowledged or failed; all clients are gone.
    expect(final.published).toBeGreaterThanOrEqual(b.messages.length);
    expect(final.acknowledged + final.failed).toBe(final.published);
    expect(final.acknowledged).toBeGreaterThanOrEqual(12);
    expect(final.connected).toBe(0);
    expect(final.devices).toBe(3);
    expect(updates.length).toBeGreaterThan(0);
    await until(() => b.aedes.connectedClients === 0 && b.clients.size === 0, 5000);
    expect(Date.parse(final.simulatedTime)).toBeGreaterThan(start.getTime());
  });

  it('refuses a start in the future and nonsense options before connecting', async () => {
    const device = { deviceId: 'x', site: sites[0]!, password: () => 'p' };
    await expect(runSimulation({ mqttUrl: 'mqtt://127.0.0.1:1', devices: [device], intervalMs: 1000, speed: 1, start: new Date(Date.now() + HOUR) }))
      .rejects.toThrow(/future/);
    await expect(runSimulation({ mqttUrl: 'mqtt://127.0.0.1:1', devices: [device], intervalMs: 1000, speed: 0 })).rejects.toThrow(/speed/);
    await expect(runSimulation({ mqttUrl: 'mqtt://127.0.0.1:1', devices: [device, device], intervalMs: 1000, speed: 1 })).rejects.toThrow(/twice/);
  });

  it('continues the same register history after a restart (meter history from the anchor)', async () => {
    broker = await startBroker();
    const b = broker;
    const anchor = new Date(Math.floor((Date.now() - 6 * HOUR) / 900_000) * 900_000);
    const runOnce = async (start: Date) => {
      const controller = new AbortController();
      const from = b.messages.length;
      const running = runSimulation({
        mqttUrl: b.url,
        devices: sites.map((site, i) => ({ deviceId: `sim-${i + 1}`, site, password: () => `token:sim-${i + 1}:1` })),
        intervalMs: 90, speed: 10_000, start, anchor, seed: 9, signal: controller.signal,
      });
      await until(() => b.messages.length >= from + 12);
      controller.abort();
      await running;
      return b.messages.slice(from).flatMap((m) => parseReadingsMessage(m.payload, m.receivedAt).map((r) => ({ ...r, device: m.clientId })));
    };
    // The second run starts later, as after a restart; both report the quarter hours they pass.
    const first = await runOnce(new Date(anchor.getTime() + HOUR));
    const second = await runOnce(new Date(anchor.getTime() + HOUR + 30 * 60_000));
    const key = (r: Reading & { device: string }) => `${r.device}|${r.ts}|${r.quantity}`;
    const registers = (r: Reading) => /energy/.test(r.quantity);
    const firstValues = new Map(first.filter(registers).map((r) => [key(r), r.value]));
    const common = second.filter((r) => registers(r) && firstValues.has(key(r)));
    expect(common.length).toBeGreaterThan(3);
    for (const r of common) expect(r.value, key(r)).toBe(firstValues.get(key(r)));
  });
});

describe('run schedule', () => {
  it('keeps simulated time at or behind the wall clock', () => {
    const real0 = Date.parse('2026-11-22T12:00:00Z');
    const start = real0 - 24 * HOUR;
    expect(simulatedTime(start, 480, real0, real0)).toBe(start);
    expect(simulatedTime(start, 480, real0, real0 + 60_000)).toBe(start + 480 * 60_000);
    const caughtUp = catchUpTime(start, 480, real0);
    expect(caughtUp - real0).toBeCloseTo((24 * HOUR) / 479, 0);
    // After catching up: real time.
    expect(simulatedTime(start, 480, real0, caughtUp + 10_000)).toBe(caughtUp + 10_000);
    expect(simulatedTime(real0, 1, real0, real0 + 5000)).toBe(real0 + 5000);
    expect(defaultStart(real0, 1).getTime()).toBe(real0);
    expect(defaultStart(real0, 480).getTime()).toBe(start);
  });

  it('spreads devices over a tick and lists passed quarter hours', () => {
    expect([0, 1, 2, 3].map((i) => slotTime(0, 1000, 2, i, 4))).toEqual([2000, 2250, 2500, 2750]);
    const t = Date.parse('2026-11-22T12:00:00Z');
    expect(quarterHoursBetween(t, t + 1800_000)).toEqual([t + 900_000, t + 1800_000]);
    expect(quarterHoursBetween(t + 1, t + 899_999)).toEqual([]);
  });

  it('trims the oldest quarter hours so a message stays within the platform limits', () => {
    const ts = new Date().toISOString();
    const at = (i: number): Reading[] => [
      { ts: new Date(Date.now() - (500 - i) * 900_000).toISOString(), quantity: 'energy.import', value: 1000 + i, unit: 'Wh' },
      { ts: new Date(Date.now() - (500 - i) * 900_000).toISOString(), quantity: 'energy.export', value: 10 + i, unit: 'Wh' },
    ];
    const message = buildMessage([{ ts, quantity: 'power.import', value: 300, unit: 'W' }], Array.from({ length: 480 }, (_, i) => at(i)));
    const readings = parseReadingsMessage(message.payload);
    expect(readings.length).toBe(message.readings);
    expect(readings.length).toBeLessThanOrEqual(1000);
    expect(readings.at(-1)!.quantity).toBe('power.import');
    // The newest boundary is kept.
    expect(readings.at(-2)!.value).toBe(10 + 479);
  });
});
