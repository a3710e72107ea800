import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/agent/config-file.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { createLogger } from '../../src/agent/log.js';
import { testConnector } from '../../src/connectors/index.js';
import { startModbusRtuDevice, type ModbusDevice } from '../connectors/support/modbus-device.js';
import { deviceConfigJson, startDeviceBroker, until, type DeviceBroker } from './support/agents.js';
import { ptyPair, socatMissing, type PtyPair } from './support/pty.js';
import { startShellyPlug, type ShellyPlug } from './support/shelly-plug.js';

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** The battery's registers: its mode (1 remote, 2 self-consumption), its power set-point (W, int16), its energy counter (Wh, uint32). */
const MODE = 10;
const SETPOINT = 11;
const ENERGY = 20;
const REMOTE = 1;
const SELF_CONSUMPTION = 2;
const UNIT = 3;
const PASSWORD = 'correct horse battery';
/** The battery's counter as a register-map point. */
const COUNTER = { quantity: 'energy.import', address: ENERGY, function: 'holding', type: 'uint32', wordOrder: 'big', byteOrder: 'big', scale: 1, unit: 'Wh' };
const asInt16 = (raw: number | undefined) => (raw === undefined ? undefined : raw >= 0x8000 ? raw - 0x10000 : raw);

/**
 * Commands through `gridshare agent` to a battery on a Modbus RTU line (jsmodbus's RTU server at
 * the far end of a socat pseudo-terminal pair, unit 3, 9600 8E1, as behind a USB–RS-485 adapter)
 * and to Shelly plugs that have a password (a real HTTP server on loopback asking for digest
 * authentication as a Gen2 does), delivered on a real MQTT broker (aedes): set-points written
 * and read back over the serial line, reverted to the safe state when they expire, the battery's
 * counter read over the line; a protected plug switched, a wrong password and a missing one
 * refused with the plug untouched.
 */
describe.skipIf(socatMissing)('commands through the agent to a Modbus RTU battery and password-protected Shelly plugs', () => {
  const deviceId = 'agent-rtu-1';
  let broker: DeviceBroker;
  let line: PtyPair;
  let battery: ModbusDevice;
  let washer: ShellyPlug;
  let heatPump: ShellyPlug;
  let charger: ShellyPlug;
  let agent: RunningAgent;
  let dir: string;
  const clock = { now: Math.floor(Date.now() / MINUTE) * MINUTE };

  beforeAll(async () => {
    broker = await startDeviceBroker(deviceId);
    line = await ptyPair();
    battery = await startModbusRtuDevice(line.meterPath, { unitId: UNIT, holding: new Map([[MODE, SELF_CONSUMPTION], [SETPOINT, 0], [ENERGY, 0], [ENERGY + 1, 8_765]]) });
    [washer, heatPump, charger] = await Promise.all([startShellyPlug({ password: PASSWORD }), startShellyPlug({ password: PASSWORD }), startShellyPlug({ password: PASSWORD })]);
    dir = mkdtempSync(join(tmpdir(), 'gridshare-agent-rtu-'));
    const plug = (name: string, at: ShellyPlug, setpoints: Record<string, unknown>, password?: string) => ({
      name, kind: 'shelly-gen2', intervalSeconds: 0, config: { host: '127.0.0.1', port: at.port, ...(password === undefined ? {} : { password }) }, setpoints,
    });
    const config = deviceConfigJson(deviceId, {
      web: { enabled: false }, mdns: false,
      control: { fallbackAfterSeconds: 3_600, pollSeconds: 3_600 },
      connectors: [
        {
          name: 'battery', kind: 'modbus-rtu', intervalSeconds: 1,
          config: {
            path: line.agentPath, baudRate: 9600, parity: 'even', unitId: UNIT, target: 'battery',
            registers: [COUNTER],
          },
          setpoints: { 'battery-power': { writes: [{ address: MODE, type: 'uint16', value: REMOTE }], register: { address: SETPOINT, type: 'int16' }, limits: { min: -3_000, max: 3_000 } } },
          safeState: [{ address: MODE, type: 'uint16', value: SELF_CONSUMPTION }, { address: SETPOINT, type: 'int16', value: 0 }],
        },
        plug('washer', washer, { 'appliance-start': {} }, PASSWORD),
        plug('heat-pump', heatPump, { 'heat-pump-block': {} }, 'not the password'),
        plug('charger', charger, { 'ev-charge-power': { onAtLeastW: 1_400 } }),
      ],
    }) as { mqtt: { url: string }; http: Record<string, string> };
    config.mqtt.url = `mqtt://127.0.0.1:${broker.port}`;
    config.http = { readingsUrl: `http://127.0.0.1:9/api/v1/devices/${deviceId}/readings` };
    const path = join(dir, 'agent.json');
    writeFileSync(path, JSON.stringify(config));
    agent = await startAgent(readConfigFile(path), { log: createLogger('error', () => undefined), now: () => clock.now });
    await until('the agent online', () => agent.status().uplink.transport === 'mqtt');
  }, 60_000);
  afterAll(async () => {
    await agent?.close();
    await broker?.close();
    await battery?.close();
    await line?.close();
    for (const plug of [washer, heatPump, charger]) await plug?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const command = (kind: string, value: number | null, expiresAtMs = clock.now + 15 * MINUTE) => ({
    id: randomUUID(), kind, value, validFrom: iso(clock.now), expiresAt: iso(expiresAtMs), issuedAt: iso(clock.now),
  });
  const deliver = (body: Record<string, unknown>) => broker.deliver(body);
  const answered = async (id: string) => (await until(`the answer to ${id}`, () => broker.answers.find((a) => a.commandId === id)));

  it('writes a discharge over the serial line, each register read back, and acknowledges it', async () => {
    const discharge = command('battery-power', -1_500);
    await deliver(discharge);
    expect(await answered(discharge.id)).toEqual({ commandId: discharge.id, result: 'acknowledged' });
    expect([battery.holding.get(MODE), asInt16(battery.holding.get(SETPOINT))]).toEqual([REMOTE, -1_500]);
    expect(battery.writes).toEqual([{ address: MODE, values: [REMOTE] }, { address: SETPOINT, values: [0x10000 - 1_500] }]);
  });

  it('refuses a value beyond the battery\'s limit, writing nothing', async () => {
    const writes = battery.writes.length;
    const tooMuch = command('battery-power', 5_000);
    await deliver(tooMuch);
    expect(await answered(tooMuch.id)).toEqual({ commandId: tooMuch.id, result: 'rejected', reason: 'limit: 5000 W is above the device\'s limit of 3000 W' });
    expect(battery.writes.length).toBe(writes);
    expect(asInt16(battery.holding.get(SETPOINT))).toBe(-1_500);
  });

  it('reverts the battery to its safe state when the set-point expires, and not before', async () => {
    const charge = command('battery-power', 2_000, clock.now + 5 * MINUTE);
    await deliver(charge);
    await answered(charge.id);
    expect(asInt16(battery.holding.get(SETPOINT))).toBe(2_000);
    clock.now += 4 * MINUTE;
    await agent.controlTick();
    expect([battery.holding.get(MODE), asInt16(battery.holding.get(SETPOINT))]).toEqual([REMOTE, 2_000]);
    clock.now += MINUTE;
    await agent.controlTick();
    expect([battery.holding.get(MODE), asInt16(battery.holding.get(SETPOINT))]).toEqual([SELF_CONSUMPTION, 0]);
    expect(battery.writes.slice(-2)).toEqual([{ address: MODE, values: [SELF_CONSUMPTION] }, { address: SETPOINT, values: [0] }]);
  });

  it('does not revert a set-point a later command replaced', async () => {
    const first = command('battery-power', 1_000, clock.now + 2 * MINUTE);
    await deliver(first);
    await answered(first.id);
    clock.now += MINUTE;
    const second = command('battery-power', 1_200, clock.now + 10 * MINUTE);
    await deliver(second);
    await answered(second.id);
    clock.now += 2 * MINUTE;
    await agent.controlTick();
    expect([battery.holding.get(MODE), asInt16(battery.holding.get(SETPOINT))]).toEqual([REMOTE, 1_200]);
  });

  it('reads the battery\'s counter over the line into the queue and on to the broker', async () => {
    const reported = await until('the battery\'s energy counter', () => broker.events.flatMap((e) => e.readings).find((r) => r.quantity === 'energy.import'));
    expect(reported.value).toBe(8_765);
  });

  it('names the unit that does not answer on the line, and an adapter that is not there', async () => {
    const report = await testConnector('modbus-rtu', {
      path: line.agentPath, unitId: 9, requestTimeoutMs: 300, registers: [COUNTER],
    });
    expect(report.ok).toBe(false);
    expect(report.error).toEqual({ code: 'timeout', message: expect.stringMatching(new RegExp(`^${line.agentPath} \\(9600 8E1\\) unit 9 did not answer a read of 2 holding registers at ${ENERGY} within 300 ms`)) });
    const missing = await testConnector('modbus-rtu', { path: join(dir, 'no-such-adapter'), registers: [COUNTER] });
    expect(missing.error).toEqual({ code: 'unreachable', message: expect.stringMatching(/^cannot open .*no-such-adapter: .*is the adapter plugged in/) });
  });

  it('switches a plug that has a password, answering its digest challenge once and reusing it', async () => {
    const start = command('appliance-start', null);
    await deliver(start);
    expect(await answered(start.id)).toEqual({ commandId: start.id, result: 'acknowledged' });
    expect(washer.state.output).toBe(true);
    // One challenge for the first request; Switch.Set and Switch.GetStatus then went through with it.
    expect(washer.unauthorized).toBe(1);
    expect(washer.calls.map((c) => c.method)).toEqual(['Switch.Set', 'Switch.GetStatus']);
  });

  it('answers a new challenge when the plug no longer takes its nonce (the plug restarted)', async () => {
    washer.forgetNonces();
    washer.state.output = false;
    const start = command('appliance-start', null);
    await deliver(start);
    expect(await answered(start.id)).toEqual({ commandId: start.id, result: 'acknowledged' });
    expect(washer.state.output).toBe(true);
    expect(washer.unauthorized).toBe(2);
  });

  it('refuses a block on a plug whose password is wrong, and a plug whose password is not configured, neither switched', async () => {
    heatPump.state.output = true;
    const block = command('heat-pump-block', null);
    await deliver(block);
    expect(await answered(block.id)).toEqual({ commandId: block.id, result: 'rejected', reason: `device: 127.0.0.1:${heatPump.port} refused the password (user admin)` });
    expect(heatPump.state.output).toBe(true);
    expect(heatPump.calls).toEqual([]);

    const charge = command('ev-charge-power', 7_000);
    await deliver(charge);
    expect(await answered(charge.id)).toEqual({ commandId: charge.id, result: 'rejected', reason: `device: 127.0.0.1:${charger.port} asks for a password: set config.password to the one set on the plug` });
    expect(charger.state.output).toBe(false);
    expect(charger.calls).toEqual([]);
  });
});
