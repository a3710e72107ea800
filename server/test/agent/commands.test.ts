import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { communityBody } from '../support/world.js';
import { platformStoreKinds } from '../support/stores.js';
import { readConfigFile } from '../../src/agent/config-file.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/agent/log.js';
import { startModbusDevice, type ModbusDevice } from '../connectors/support/modbus-device.js';
import { startForwarder, until, writeAgentConfig, type Forwarder } from './support/agents.js';

const MINUTE = 60_000;
/** The battery's registers: its mode (0 remote control, 2 self-consumption), its power set-point (W, int16), its energy counter (Wh). */
const MODE = 10;
const SETPOINT = 11;
const ENERGY = 20;
const REMOTE = 0;
const SELF_CONSUMPTION = 2;
const asInt16 = (raw: number | undefined) => (raw === undefined ? undefined : raw >= 0x8000 ? raw - 0x10000 : raw);

/**
 * Commands through `gridshare agent` to a battery that speaks Modbus TCP, from a real Gridshare
 * whose control clock the test sets (the agent has its own clock, also set by the test): plan and
 * manual commands written and acknowledged, an expired command rejected and not written, a
 * repeated delivery written once, the safe fallback when the platform goes away and the way back.
 */
// The platform tests' one store (platformStoreKinds): the agent's side is the subject here.
describe('commands through the agent to a Modbus TCP battery', () => {
  let tp: TestPlatform;
  let manager: TestUser;
  let communityId: string;
  let batteryId: string;
  let battery: ModbusDevice;
  let agent: RunningAgent;
  let mqttLink: Forwarder;
  let dir: string;
  const clock = { now: Math.floor(Date.now() / MINUTE) * MINUTE };
  const agentClock = { offsetMs: 0 };

  beforeAll(async () => {
    tp = await startTestPlatform(platformStoreKinds[0]!, { control: { now: () => clock.now, retryMs: MINUTE } });
    manager = await signUp(tp, 'manager');
    communityId = (await tp.call('POST', '/api/v1/communities', { token: manager.token, body: communityBody(unique('Agents ')) })).body.id;
    const point = (await tp.call('POST', `/api/v1/communities/${communityId}/metering-points`, {
      token: manager.token, body: { name: 'Battery site', gridConnectionId: unique('AT001GC'), role: 'prosumer' },
    })).body.id;
    const batch = await tp.call('POST', `/api/v1/communities/${communityId}/device-batches`, { token: manager.token, body: { count: 1, kind: 'battery' } });
    [batteryId] = batch.body.deviceIds;
    expect((await tp.call('PATCH', `/api/v1/devices/${batteryId}`, { token: manager.token, body: { meteringPointId: point } })).status).toBe(200);

    battery = await startModbusDevice({ holding: new Map([[MODE, SELF_CONSUMPTION], [SETPOINT, 0], [ENERGY, 0], [ENERGY + 1, 4_321]]) });
    mqttLink = await startForwarder(tp.platform.broker!.port);
    dir = mkdtempSync(join(tmpdir(), 'gridshare-agent-commands-'));
    // HTTP goes nowhere, so the platform is reachable only through the MQTT link the test cuts.
    const configPath = await writeAgentConfig(tp, manager.token, batteryId, dir, {
      web: { enabled: false }, mdns: false,
      uplink: { heartbeatSeconds: 1 },
      control: { fallbackAfterSeconds: 300, pollSeconds: 3_600 },
      connectors: [{
        name: 'battery',
        kind: 'modbus-registers',
        intervalSeconds: 1,
        config: { host: '127.0.0.1', port: battery.port, target: 'battery', registers: [{ quantity: 'energy.import', address: ENERGY, function: 'holding', type: 'uint32', wordOrder: 'big', byteOrder: 'big', scale: 1, unit: 'Wh' }] },
        setpoints: { 'battery-power': { writes: [{ address: MODE, type: 'uint16', value: REMOTE }], register: { address: SETPOINT, type: 'int16' }, limits: { min: -3_000, max: 3_000 } } },
        safeState: [{ address: MODE, type: 'uint16', value: SELF_CONSUMPTION }],
      }],
    }, { mqttUrl: `mqtt://127.0.0.1:${mqttLink.port}`, httpBase: 'http://127.0.0.1:9' });
    agent = await startAgent(readConfigFile(configPath), { log: createLogger('warn', () => undefined), now: () => clock.now + agentClock.offsetMs });
    await until('the agent online', () => agent.status().uplink.transport === 'mqtt');
  }, 180_000);
  afterAll(async () => {
    await agent?.close();
    await mqttLink?.close();
    await battery?.close();
    await tp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const commandsOf = async () => (await tp.call('GET', `/api/v1/communities/${communityId}/commands?deviceId=${batteryId}&limit=500`, { token: manager.token })).body.items as {
    id: string; kind: string; value: number | null; state: string; reason: string | null; validFrom: string; expiresAt: string; issuedAt: string;
  }[];
  const answered = (id: string) => until(`command ${id} answered`, async () => {
    const command = (await commandsOf()).find((c) => c.id === id);
    return command && command.state !== 'sent' && command.state !== 'queued' ? command : undefined;
  });
  const plan = async (value: number, issuedAtMs = clock.now) => {
    await tp.platform.events.publish(tp.platform.db, 'plan.decided', {
      communityId, planId: randomUUID(), decidedAtMs: issuedAtMs,
      commands: [{ deviceId: batteryId, kind: 'battery-power', value, validFromMs: clock.now, expiresAtMs: clock.now + 15 * MINUTE }],
    });
    await tp.platform.commands.flush();
    return until('the plan\'s command', async () => (await commandsOf()).find((c) => c.value === value && c.issuedAt === new Date(issuedAtMs).toISOString()));
  };
  /** Publishes on the agent's commands topic through the embedded broker, as a redelivery would. */
  const deliverAgain = (command: Record<string, unknown>) => new Promise<void>((resolve, reject) => tp.platform.broker!.aedes.publish({
    cmd: 'publish', topic: `devices/${batteryId}/commands`, payload: Buffer.from(JSON.stringify(command)), qos: 1, retain: false, dup: true,
  }, (error) => (error ? reject(error) : resolve())));
  const setpointWrites = () => battery.writes.filter((w) => w.address === SETPOINT);

  it('writes a plan\'s command to the battery\'s registers and acknowledges it', async () => {
    const command = await plan(2_000);
    expect(await answered(command.id)).toMatchObject({ state: 'acknowledged', reason: null });
    expect(battery.holding.get(MODE)).toBe(REMOTE);
    expect(battery.holding.get(SETPOINT)).toBe(2_000);
    expect(battery.writes).toEqual([{ address: MODE, values: [REMOTE] }, { address: SETPOINT, values: [2_000] }]);
    expect(agent.status().control).toMatchObject({ mode: 'following', acknowledged: 1, rejected: 0 });
  });

  it('writes a member\'s manual command (a discharge) and acknowledges it', async () => {
    clock.now += MINUTE;
    const issued = await tp.call('POST', `/api/v1/devices/${batteryId}/manual-commands`, { token: manager.token, body: { kind: 'battery-power', value: -1_500, durationMinutes: 30 } });
    expect(issued.status).toBe(201);
    await tp.platform.commands.flush();
    expect(await answered(issued.body.id)).toMatchObject({ state: 'acknowledged' });
    expect(asInt16(battery.holding.get(SETPOINT))).toBe(-1_500);
  });

  it('rejects a command that expired before it arrived, with the reason, and writes nothing', async () => {
    // The agent's clock is 20 minutes ahead: the platform still thinks the command valid, the agent does not.
    agentClock.offsetMs = 20 * MINUTE;
    clock.now += MINUTE;
    const before = battery.writes.length;
    const command = await plan(1_000);
    expect(await answered(command.id)).toMatchObject({ state: 'rejected', reason: expect.stringMatching(/^expired: command .* expired at /) });
    expect(battery.writes.length).toBe(before);
    expect(asInt16(battery.holding.get(SETPOINT))).toBe(-1_500);
    agentClock.offsetMs = 0;
  });

  it('rejects a value beyond the device\'s limit and a kind no local device takes, writing nothing', async () => {
    clock.now += MINUTE;
    const before = battery.writes.length;
    const tooMuch = await plan(4_000);
    expect(await answered(tooMuch.id)).toMatchObject({ state: 'rejected', reason: 'limit: 4000 W is above the device\'s limit of 3000 W' });
    // Control sends a battery only battery commands; a broker that delivered another kind gets a refusal.
    const rejected = agent.status().control.rejected;
    await deliverAgain({ id: randomUUID(), kind: 'ev-charge-power', value: 7_000, validFrom: new Date(clock.now).toISOString(), expiresAt: new Date(clock.now + MINUTE).toISOString(), issuedAt: new Date(clock.now).toISOString() });
    await until('the refusal', () => agent.status().control.rejected === rejected + 1);
    expect(battery.writes.length).toBe(before);
  });

  it('writes a command delivered twice once, and answers the repeat the same', async () => {
    clock.now += MINUTE;
    const command = await plan(2_500);
    await answered(command.id);
    expect(setpointWrites().filter((w) => w.values[0] === 2_500)).toHaveLength(1);
    const before = battery.writes.length;
    const acknowledged = agent.status().control.acknowledged;
    // The broker delivers the same message again (as after a lost PUBACK).
    const { id, kind, value, validFrom, expiresAt, issuedAt } = command;
    await deliverAgain({ id, kind, value, validFrom, expiresAt, issuedAt });
    await agent.controlTick();
    expect(battery.writes.length).toBe(before);
    expect(agent.status().control.acknowledged).toBe(acknowledged);
    expect((await commandsOf()).find((c) => c.id === id)!.state).toBe('acknowledged');
  });

  it('reads the battery into the queue and on to the platform', async () => {
    const rows = await until('the battery\'s energy counter on the platform', async () => {
      const found = await tp.platform.db.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1 AND quantity = $2', [batteryId, 'energy.import']);
      return found.length > 0 ? found : undefined;
    });
    expect(rows[0]!.value).toBe(4_321);
  });

  it('reports its health in a heartbeat the platform keeps and shows its managers', async () => {
    const health = await until('the agent\'s heartbeat on the platform', async () => {
      const response = await tp.call('GET', `/api/v1/communities/${communityId}/agent-health`, { token: manager.token });
      expect(response.status).toBe(200);
      return response.body.find((h: { deviceId: string; queueMessages: number }) => h.deviceId === batteryId);
    });
    expect(health).toMatchObject({ version: agent.status().version, transport: 'mqtt', controlMode: 'following', lastFrameAt: null, framesPerMinute: 0, checksumErrors: 0 });
    expect(health.uptimeSeconds).toBeGreaterThanOrEqual(0);
    // Someone outside the community sees nothing of it.
    const stranger = await signUp(tp, 'stranger');
    expect((await tp.call('GET', `/api/v1/communities/${communityId}/agent-health`, { token: stranger.token })).status).toBe(404);
  });

  it('puts the battery into self-consumption when the platform is gone too long, and follows commands again once it is back', async () => {
    await mqttLink.cut();
    await until('the agent offline', () => agent.status().uplink.transport === 'offline');
    // Not yet: 5 minutes are the limit.
    agentClock.offsetMs = 4 * MINUTE;
    await agent.controlTick();
    expect(agent.status().control.mode).toBe('following');
    expect(battery.holding.get(MODE)).toBe(REMOTE);
    agentClock.offsetMs = 6 * MINUTE;
    await agent.controlTick();
    expect(agent.status().control.mode).toBe('safe');
    expect(battery.holding.get(MODE)).toBe(SELF_CONSUMPTION);
    expect(battery.writes.at(-1)).toEqual({ address: MODE, values: [SELF_CONSUMPTION] });

    await mqttLink.restore();
    await until('the agent back online', () => agent.status().uplink.transport === 'mqtt', 30_000);
    await agent.controlTick();
    expect(agent.status().control.mode).toBe('following');
    // Following again: the next command takes the battery back to remote control.
    clock.now += 7 * MINUTE;
    agentClock.offsetMs = 0;
    const command = await plan(1_200);
    expect(await answered(command.id)).toMatchObject({ state: 'acknowledged' });
    expect(battery.holding.get(MODE)).toBe(REMOTE);
    expect(battery.holding.get(SETPOINT)).toBe(1_200);
  });
});
