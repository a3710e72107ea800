import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/agent/config-file.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/agent/log.js';
import { modelDef } from '../../src/connectors/domain/sunspec/index.js';
import { SITE_MODELS, startModbusDevice, sunspecRegisters, type ModbusDevice } from '../connectors/support/modbus-device.js';
import { deviceConfigJson, startDeviceBroker, startForwarder, until, type CommandAnswer, type DeviceBroker, type Forwarder } from './support/agents.js';
import { startShellyPlug, type ShellyPlug } from './support/shelly-plug.js';

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const quiet = () => createLogger('error', () => undefined);

/** The holding register of a SunSpec point in the test site's map (SITE_MODELS from 40000). */
function pointAddress(modelId: number, name: string): number {
  let address = 40_002;
  for (const image of SITE_MODELS) {
    const def = modelDef(image.id)!;
    if (image.id === modelId) return address + 2 + def.points.get(name)!.offset;
    address += 2 + (image.length ?? def.length);
  }
  throw new Error(`no model ${modelId}`);
}

/**
 * Commands through `gridshare agent` to a SunSpec hybrid inverter (a real Modbus TCP server with
 * the models 123 and 124) and a Shelly Gen2 plug (a real HTTP server speaking its local RPC),
 * delivered on the agent's commands topic of a real MQTT broker (aedes), answered on its ack
 * topic: watts written as SunSpec percentages with the revert timer at expiry, the plug switched
 * and read back, an expired command and a repeat, a device that does not do what it was told,
 * and the safe fallback when the broker is out of reach.
 */
describe('commands through the agent to SunSpec and Shelly devices', () => {
  const deviceId = 'agent-devices-1';
  let broker: DeviceBroker;
  let link: Forwarder;
  let inverter: ModbusDevice;
  let plug: ShellyPlug;
  let agent: RunningAgent;
  let dir: string;
  const clock = { now: Math.floor(Date.now() / MINUTE) * MINUTE };

  beforeAll(async () => {
    broker = await startDeviceBroker(deviceId);
    link = await startForwarder(broker.port);
    inverter = await startModbusDevice({ holding: sunspecRegisters(SITE_MODELS) });
    plug = await startShellyPlug();
    dir = mkdtempSync(join(tmpdir(), 'gridshare-agent-devices-'));
    const config = deviceConfigJson(deviceId, {
      web: { enabled: false }, mdns: false,
      control: { fallbackAfterSeconds: 300, pollSeconds: 3_600 },
      connectors: [
        {
          name: 'hybrid', kind: 'modbus-sunspec', intervalSeconds: 0, config: { host: '127.0.0.1', port: inverter.port },
          setpoints: { 'pv-limit': { ratedW: 5_000 }, 'battery-power': { maxChargeW: 3_000, maxDischargeW: 3_000, limits: { min: -3_000, max: 3_000 } } },
          safeState: 'release',
        },
        {
          name: 'plug', kind: 'shelly-gen2', intervalSeconds: 1, config: { host: '127.0.0.1', port: plug.port },
          setpoints: { 'appliance-start': {}, 'heat-pump-block': {} }, safeState: { on: false },
        },
      ],
    }) as { mqtt: { url: string }; http: Record<string, string> };
    config.mqtt.url = `mqtt://127.0.0.1:${link.port}`;
    config.http = { readingsUrl: `http://127.0.0.1:9/api/v1/devices/${deviceId}/readings` };
    const path = join(dir, 'agent.json');
    writeFileSync(path, JSON.stringify(config));
    agent = await startAgent(readConfigFile(path), { log: quiet(), now: () => clock.now });
    await until('the agent online', () => agent.status().uplink.transport === 'mqtt');
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await link?.close();
    await broker?.close();
    await inverter?.close();
    await plug?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const command = (kind: string, value: number | null, times: { validFromMs?: number; expiresAtMs?: number } = {}) => ({
    id: randomUUID(), kind, value,
    validFrom: iso(times.validFromMs ?? clock.now), expiresAt: iso(times.expiresAtMs ?? clock.now + 15 * MINUTE), issuedAt: iso(clock.now),
  });
  const deliver = (body: Record<string, unknown>) => broker.deliver(body);
  const answered = (id: string, count = 1) => until(`the answer to ${id}`, () => {
    const found = broker.answers.filter((a) => a.commandId === id);
    return found.length >= count ? found : undefined;
  });
  const holding = (model: number, point: string) => inverter.holding.get(pointAddress(model, point));

  it('limits the inverter\'s feed-in through model 123, reverting by itself when the command expires', async () => {
    const limit = command('pv-limit', 3_000);
    await deliver(limit);
    expect(await answered(limit.id)).toEqual([{ commandId: limit.id, result: 'acknowledged' }]);
    // 3,000 of 5,000 W rated: 60 % (scale factor 0); the device's own timer at the command's 15 minutes.
    expect(holding(123, 'WMaxLimPct')).toBe(60);
    expect(holding(123, 'WMaxLimPct_RvrtTms')).toBe(900);
    expect(holding(123, 'WMaxLim_Ena')).toBe(1);
    expect(inverter.writes.at(-1)).toEqual({ address: pointAddress(123, 'WMaxLim_Ena'), values: [1] });
  });

  it('discharges the battery through model 124 and refuses a value beyond its limit, writing nothing', async () => {
    const discharge = command('battery-power', -1_500, { expiresAtMs: clock.now + 10 * MINUTE });
    await deliver(discharge);
    expect(await answered(discharge.id)).toEqual([{ commandId: discharge.id, result: 'acknowledged' }]);
    expect([holding(124, 'InWRte'), holding(124, 'OutWRte'), holding(124, 'InOutWRte_RvrtTms'), holding(124, 'StorCtl_Mod')]).toEqual([0, 50, 600, 3]);
    const writes = inverter.writes.length;
    const tooMuch = command('battery-power', 4_000);
    await deliver(tooMuch);
    expect((await answered(tooMuch.id))[0]).toEqual({ commandId: tooMuch.id, result: 'rejected', reason: 'limit: 4000 W is above the device\'s limit of 3000 W' });
    expect(inverter.writes.length).toBe(writes);
  });

  it('answers a repeated delivery the same without writing again, and rejects an expired command unwritten', async () => {
    const limit = command('pv-limit', 1_000);
    await deliver(limit);
    await answered(limit.id);
    const writes = inverter.writes.length;
    await deliver(limit);
    expect(await answered(limit.id, 2)).toEqual([{ commandId: limit.id, result: 'acknowledged' }, { commandId: limit.id, result: 'acknowledged' }]);
    expect(inverter.writes.length).toBe(writes);
    const late = command('pv-limit', 500, { validFromMs: clock.now - 20 * MINUTE, expiresAtMs: clock.now - MINUTE });
    await deliver(late);
    expect((await answered(late.id))[0]).toMatchObject({ result: 'rejected', reason: expect.stringMatching(/^expired: command .* expired at /) });
    expect(inverter.writes.length).toBe(writes);
    expect(holding(123, 'WMaxLimPct')).toBe(20);
  });

  it('starts the appliance on the plug at its validFrom, staying on; blocks with the plug\'s own timer back at expiry', async () => {
    const start = command('appliance-start', null, { validFromMs: clock.now + 1_500 });
    await deliver(start);
    // Acknowledged when accepted; switched when it becomes valid.
    expect(await answered(start.id)).toEqual([{ commandId: start.id, result: 'acknowledged' }]);
    expect(plug.state.output).toBe(false);
    // Carried out on the agent's clock: a pass before validFrom leaves it, the first after switches it.
    await agent.controlTick();
    expect(plug.state.output).toBe(false);
    clock.now += 2_000;
    await agent.controlTick();
    expect(plug.state.output).toBe(true);
    expect(plug.calls.filter((c) => c.method === 'Switch.Set').at(-1)!.params).toEqual({ id: 0, on: true });

    const block = command('heat-pump-block', null, { expiresAtMs: clock.now + 30 * MINUTE });
    await deliver(block);
    expect(await answered(block.id)).toEqual([{ commandId: block.id, result: 'acknowledged' }]);
    expect(plug.state).toMatchObject({ output: false, toggleAfter: 1_800 });
  });

  it('reads the plug\'s power and energy into the queue and on to the broker', async () => {
    const reported = await until('the plug\'s energy counter', () => broker.events.flatMap((e) => e.readings).find((r) => r.quantity === 'energy.import'));
    expect(reported.value).toBe(12_345.6);
  });

  it('rejects a command the plug takes but does not carry out, with the device\'s reason', async () => {
    plug.state.stuck = true;
    try {
      const start = command('appliance-start', null);
      await deliver(start);
      expect((await answered(start.id))[0]).toEqual({ commandId: start.id, result: 'rejected', reason: 'device: switch 0 took Switch.Set but is off' });
    } finally {
      plug.state.stuck = false;
    }
  });

  it('lifts the inverter\'s limits and switches the plug off when the broker is gone too long, and follows commands again once it is back', async () => {
    const start = command('appliance-start', null);
    await deliver(start);
    await answered(start.id);
    expect(plug.state.output).toBe(true);
    await link.cut();
    await until('the agent offline', () => agent.status().uplink.transport === 'offline');
    clock.now += 4 * MINUTE;
    await agent.controlTick();
    expect(agent.status().control.mode).toBe('following');
    expect(holding(123, 'WMaxLim_Ena')).toBe(1);
    clock.now += 2 * MINUTE;
    await agent.controlTick();
    expect(agent.status().control.mode).toBe('safe');
    expect(holding(123, 'WMaxLim_Ena')).toBe(0);
    expect(holding(124, 'StorCtl_Mod')).toBe(0);
    expect(plug.state).toMatchObject({ output: false, toggleAfter: undefined });

    await link.restore();
    await until('the agent back online', () => agent.status().uplink.transport === 'mqtt', 30_000);
    await agent.controlTick();
    expect(agent.status().control.mode).toBe('following');
    const limit = command('pv-limit', 4_000);
    await deliver(limit);
    expect(await answered(limit.id)).toEqual([{ commandId: limit.id, result: 'acknowledged' }]);
    expect([holding(123, 'WMaxLimPct'), holding(123, 'WMaxLim_Ena')]).toEqual([80, 1]);
  });
});

/**
 * An answer the platform did not take stays in the agent's SQLite queue: the agent is stopped
 * with it unsent and started again, and sends it then. Commands come over HTTP (MQTT blocked),
 * the platform's answer endpoint fails with 503 until the restart; the command is served once.
 */
describe('unsent command answers across an agent restart', () => {
  const deviceId = 'agent-devices-2';
  let server: HttpServer;
  let plug: ShellyPlug;
  let dir: string;
  let path: string;
  const posted: string[] = [];
  const platform = { ackStatus: 503, served: false };
  const nowMs = Date.now();
  const pending = command();

  function command() {
    return { id: randomUUID(), kind: 'appliance-start', value: null, validFrom: iso(nowMs - 1_000), expiresAt: iso(nowMs + 30 * MINUTE), issuedAt: iso(nowMs - 1_000) };
  }

  beforeAll(async () => {
    plug = await startShellyPlug();
    server = createHttpServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => { body += chunk.toString('utf8'); });
      request.on('end', () => {
        if (request.method === 'GET' && request.url === `/api/v1/devices/${deviceId}/commands`) {
          const commands = platform.served ? [] : [pending];
          platform.served = true;
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ commands }));
        } else if (request.method === 'POST' && request.url === `/api/v1/devices/${deviceId}/commands/ack`) {
          if (platform.ackStatus === 204) posted.push(body);
          response.writeHead(platform.ackStatus).end();
        } else {
          response.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/devices/${deviceId}`;
    dir = mkdtempSync(join(tmpdir(), 'gridshare-agent-answers-'));
    const config = deviceConfigJson(deviceId, {
      web: { enabled: false }, mdns: false, uplink: { httpFallbackAfterSeconds: 1 },
      control: { fallbackAfterSeconds: 3_600, pollSeconds: 1 },
      connectors: [{ name: 'washer', kind: 'shelly-gen2', intervalSeconds: 0, config: { host: '127.0.0.1', port: plug.port }, setpoints: { 'appliance-start': {} } }],
    }) as { mqtt: { url: string }; http: Record<string, string> };
    config.mqtt.url = 'mqtt://127.0.0.1:9';
    config.http = { readingsUrl: `${base}/readings`, commandsUrl: `${base}/commands` };
    path = join(dir, 'agent.json');
    writeFileSync(path, JSON.stringify(config));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await plug?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the answer in its queue file through a restart and sends it then, the plug switched once', async () => {
    const first = await startAgent(readConfigFile(path), { log: quiet() });
    try {
      await until('the command carried out, its answer unsent', () => first.status().control.pendingAnswers === 1 && plug.state.output, 30_000);
    } finally {
      await first.close();
    }
    const queue = new Database(join(dir, 'agent-queue.db'), { readonly: true });
    try {
      const kept = queue.prepare(`SELECT value FROM meta WHERE name = 'pendingAnswers'`).get() as { value: string };
      expect(JSON.parse(kept.value)).toEqual([JSON.stringify({ commandId: pending.id, result: 'acknowledged' })]);
    } finally {
      queue.close();
    }

    platform.ackStatus = 204;
    const second = await startAgent(readConfigFile(path), { log: quiet() });
    try {
      await until('the answer sent', () => (posted.length > 0 ? posted : undefined), 30_000);
      expect(posted.map((body) => JSON.parse(body) as CommandAnswer)).toEqual([{ commandId: pending.id, result: 'acknowledged' }]);
      await until('nothing left to send', () => second.status().control.pendingAnswers === 0);
    } finally {
      await second.close();
    }
    expect(plug.calls.filter((c) => c.method === 'Switch.Set')).toHaveLength(1);
  });
});
