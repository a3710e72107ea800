import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { packReadings, thinningStep, isRegister, registersOnly, UPLINK_LIMITS, type QueuedReading } from '../../src/agent/domain/outbox.js';
import { take, tokenBucket, waitFor, reconnectDelayMs } from '../../src/agent/domain/rate.js';
import { AgentConfigError, parseAgentConfig } from '../../src/agent/domain/config.js';
import { ClaimError, parseClaim } from '../../src/agent/domain/claim.js';
import { admitSetpoint, answerOf, checkCommand, type SetpointCommand } from '../../src/agent/domain/commands.js';
import { controlMode } from '../../src/agent/domain/fallback.js';
import { deviceFor, parseLocalDevices } from '../../src/agent/domain/local-devices.js';
import { registerSetup, setpointWrites } from '../../src/agent/domain/devices/modbus-registers.js';
import { sunspecControl, sunspecRelease, sunspecSetup } from '../../src/agent/domain/devices/sunspec.js';
import { digestAuthorization, parseDigestChallenge } from '../../src/agent/domain/devices/digest.js';
import { dueActions, parseSchedule, stillWanted, superseded, withAction, type ScheduledAction } from '../../src/agent/domain/schedule.js';
import { rpcResult, shellySetup, statusOf, switchSet, switchState } from '../../src/agent/domain/devices/shelly.js';
import { catalogKeys, message, pickLanguage } from '../../src/agent/domain/catalog.js';
import { LineHealth, buildHeartbeat } from '../../src/agent/domain/health.js';
import { renderLogin, renderStatusPage } from '../../src/agent/domain/page.js';
import { meterProfiles } from '../../src/agent/domain/profiles.js';
import { allowedHost, isLocalAddress } from '../../src/agent/domain/lan.js';
import { deviceConfigJson } from './support/agents.js';

const reading = (ts: string, quantity: string, value: number, unit: string): QueuedReading => ({ ts, quantity, value, unit });


describe('packing queued messages into uplink messages', () => {
  const row = (seq: number, count: number) => ({ seq, count, json: JSON.stringify(Array.from({ length: count }, (_, i) => reading(`2026-11-30T10:00:${String(i % 60).padStart(2, '0')}Z`, 'power.import', seq, 'W'))) });

  it('packs whole messages in order up to the grant and the platform\'s limits', () => {
    const rows = [row(1, 19), row(2, 19), row(3, 19), row(4, 19)];
    const packed = packReadings(rows, 40)!;
    expect(packed.seqs).toEqual([1, 2]);
    expect(packed.readings).toBe(38);
    expect(JSON.parse(packed.body).readings).toHaveLength(38);
    expect(packReadings(rows, 10_000)!.seqs).toEqual([1, 2, 3, 4]);
    // A message larger than the grant still goes alone, so the queue never stalls on it.
    expect(packReadings([row(9, 50)], 10)!.seqs).toEqual([9]);
    expect(packReadings([], 10)).toBeUndefined();
  });

  it('never exceeds 1,000 readings or the size limit, and keeps every reading once', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 5_000 }), (counts, grant) => {
      const rows = counts.map((c, i) => row(i + 1, c));
      const packed = packReadings(rows, grant)!;
      const body = JSON.parse(packed.body) as { readings: unknown[] };
      expect(body.readings).toHaveLength(packed.readings);
      expect(packed.seqs).toEqual(rows.slice(0, packed.seqs.length).map((r) => r.seq));
      if (packed.seqs.length > 1) {
        expect(packed.readings).toBeLessThanOrEqual(Math.min(grant, UPLINK_LIMITS.maxReadings));
        expect(packed.body.length).toBeLessThanOrEqual(UPLINK_LIMITS.maxBytes);
      }
    }), { numRuns: 200 });
  });
});

describe('the queue\'s cap policy', () => {
  it('keeps registers and drops samples when thinning', () => {
    const readings = [reading('2026-11-30T10:00:00Z', 'energy.import', 1, 'Wh'), reading('2026-11-30T10:00:00Z', 'power.import', 2, 'W'), reading('2026-11-30T10:00:00Z', 'gas.volume', 3, 'm3'), reading('2026-11-30T10:00:00Z', 'voltage.l1', 230, 'V')];
    expect(registersOnly(readings).map((r) => r.quantity)).toEqual(['energy.import', 'gas.volume']);
    expect(isRegister(reading('x', 'energy.reactive.import', 1, 'varh'))).toBe(true);
  });

  it('keeps the first and the last message of every quarter hour and kind', () => {
    const rows = [
      { seq: 1, quarter: 10, kind: 'readings' }, { seq: 2, quarter: 10, kind: 'readings' }, { seq: 3, quarter: 10, kind: 'readings' }, { seq: 4, quarter: 10, kind: 'readings' },
      { seq: 5, quarter: 11, kind: 'readings' },
      { seq: 6, quarter: 12, kind: 'readings' }, { seq: 7, quarter: 12, kind: 'dsmr' }, { seq: 8, quarter: 12, kind: 'readings' },
      { seq: 9, quarter: 13, kind: 'readings' }, { seq: 10, quarter: 13, kind: 'readings' }, { seq: 11, quarter: 13, kind: 'readings' },
    ];
    expect(thinningStep(rows, true)).toEqual({ drop: [2, 3, 10], keep: [1, 4, 5, 6, 7, 8, 9, 11] });
    // Part of a longer run: its last quarter hour may go on, so it waits for the next step.
    expect(thinningStep(rows, false)).toEqual({ drop: [2, 3], keep: [1, 4, 5, 6, 7, 8] });
  });
});

describe('drain rate and reconnects', () => {
  it('grants at most the rate, refilled with time', () => {
    let bucket = tokenBucket(100, 0);
    const first = take(bucket, 250, 0);
    expect(first.granted).toBe(100);
    bucket = first.bucket;
    expect(take(bucket, 50, 0).granted).toBe(0);
    expect(waitFor(bucket, 50, 0)).toBe(500);
    expect(take(bucket, 50, 500).granted).toBe(50);
    // Over a long run the average is the rate, whatever the requests.
    let b = tokenBucket(1_000, 0);
    let sent = 0;
    for (let t = 0; t <= 10_000; t += 7) {
      const r = take(b, 37, t);
      b = r.bucket;
      sent += r.granted;
    }
    expect(sent).toBeGreaterThan(10_000);
    expect(sent).toBeLessThanOrEqual(11_000);
  });

  it('backs off exponentially with jitter, capped at a minute', () => {
    expect(reconnectDelayMs(0, 0)).toBe(500);
    expect(reconnectDelayMs(0, 1)).toBe(1_000);
    expect(reconnectDelayMs(3, 1)).toBe(8_000);
    expect(reconnectDelayMs(30, 1)).toBe(60_000);
    expect(reconnectDelayMs(30, 0.5)).toBeLessThan(60_000);
  });
});

describe('agent.json', () => {
  it('reads the provisioning config with defaults for the agent section', () => {
    const config = parseAgentConfig(deviceConfigJson());
    expect(config.agent.meter).toMatchObject({ profile: 'dsmr-p1', mode: 'decode', port: undefined });
    expect(config.agent.store.maxBytes).toBe(256 * 1024 * 1024);
    expect(config.agent.uplink).toMatchObject({ drainReadingsPerSecond: 2_000, heartbeatOverMqtt: true });
    expect(config.agent.control).toEqual({ fallbackAfterSeconds: 300, pollSeconds: 30 });
    expect(config.agent.connectors).toEqual([]);
    // A config.json from before commands were answered: the one ack topic and polling URL there are.
    expect(config.mqtt.topics.commandAck).toBe('devices/dev-1/commands/ack');
    expect(config.http.commandsUrl).toBe('https://energy.example.org/api/v1/devices/dev-1/commands');
    expect(config.agent.web).toMatchObject({ enabled: true, port: 8475, language: 'en' });
  });

  it('refuses a bad file with the path of the first problem', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...deviceConfigJson(), deviceId: '../x' }, /^deviceId/],
      [{ ...deviceConfigJson(), connectionString: 'HostName=h;DeviceId=other;SharedAccessKey=abc' }, /^connectionString: is not the connection string of device dev-1/],
      [deviceConfigJson('dev-1', { meter: { profile: 'nope' } }), /^agent\/meter\/profile: must be one of dsmr-p1/],
      [deviceConfigJson('dev-1', { meter: { key: 'abc' } }), /^agent\/meter\/key: must be 32 hex digits/],
      [deviceConfigJson('dev-1', { meter: { port: 'COM3' } }), /^agent\/meter\/port/],
      [deviceConfigJson('dev-1', { control: { fallbackAfterSeconds: 1 } }), /^agent\/control\/fallbackAfterSeconds: must be a whole number from 10/],
      [deviceConfigJson('dev-1', { connectors: [{ name: 'Battery!' }] }), /^agent\/connectors\/0\/name/],
      [deviceConfigJson('dev-1', { meter: { line: { baudRate: 1234 } } }), /^agent\/meter\/line\/baudRate/],
      [deviceConfigJson('dev-1', { store: { maxBytes: Number.NaN } }), /^agent\/store\/maxBytes/],
      [deviceConfigJson('dev-1', { web: { pin: '12' } }), /^agent\/web\/pin/],
      [{ ...deviceConfigJson(), mqtt: { url: 'ftp://x', topics: {} } }, /^mqtt\/url/],
      [{ ...deviceConfigJson(), mqtt: { ...(deviceConfigJson().mqtt as object), topics: { events: 'devices/other/messages/events', frames: 'x', commands: 'y' } } }, /^mqtt\/topics\/events: must be devices\/dev-1/],
    ];
    for (const [raw, pattern] of bad) expect(() => parseAgentConfig(raw), pattern.source).toThrow(pattern);
    expect(() => parseAgentConfig([])).toThrow(AgentConfigError);
  });
});

describe('pairing by claim URL or code', () => {
  it('takes the QR\'s URL or the code typed off the sticker', () => {
    expect(parseClaim('https://energy.example.org/claim?code=7K2Q-M9XD-4RTA', 'energy.example.org')).toEqual({ code: '7K2Q-M9XD-4RTA', url: 'https://energy.example.org/claim?code=7K2Q-M9XD-4RTA' });
    expect(parseClaim(' 7k2q m9xd 4rta ')).toEqual({ code: '7K2Q-M9XD-4RTA' });
    expect(parseClaim('7K2QM9XD4RTO')).toEqual({ code: '7K2Q-M9XD-4RT0' });
  });

  it('refuses another platform\'s sticker and things that are no claim', () => {
    expect(() => parseClaim('https://evil.example.com/claim?code=7K2Q-M9XD-4RTA', 'energy.example.org')).toThrow(/is for evil.example.com/);
    expect(() => parseClaim('https://energy.example.org/login?code=7K2Q-M9XD-4RTA')).toThrow(ClaimError);
    expect(() => parseClaim('7K2Q')).toThrow(/12 letters and digits/);
    expect(() => parseClaim('UUUU-UUUU-UUUU')).toThrow(ClaimError);
  });
});

describe('commands', () => {
  const now = Date.parse('2026-11-30T10:00:00Z');
  it('sets the log level once per id, and refuses expired, duplicate, unknown and malformed commands', () => {
    const command = { id: 'c-1', type: 'set-log-level', level: 'debug', expiresAt: '2026-11-30T10:05:00Z' };
    expect(checkCommand(JSON.stringify(command), now, new Set())).toMatchObject({ ok: true, command: { id: 'c-1', level: 'debug' } });
    expect(checkCommand(JSON.stringify(command), now, new Set(['c-1']))).toMatchObject({ ok: false, reason: 'duplicate' });
    expect(checkCommand(JSON.stringify({ ...command, expiresAt: '2026-11-30T09:59:59Z' }), now, new Set())).toMatchObject({ ok: false, reason: 'expired' });
    expect(checkCommand(JSON.stringify({ ...command, expiresAt: '2026-11-30T10:05:00' }), now, new Set())).toMatchObject({ ok: false, reason: 'malformed' });
    expect(checkCommand(JSON.stringify({ ...command, type: 'set-point' }), now, new Set())).toMatchObject({ ok: false, reason: 'unsupported' });
    expect(checkCommand(JSON.stringify({ ...command, level: 'verbose' }), now, new Set())).toMatchObject({ ok: false, reason: 'malformed' });
    expect(checkCommand('{', now, new Set())).toMatchObject({ ok: false, reason: 'malformed' });
    expect(checkCommand(JSON.stringify({ ...command, id: 'x'.repeat(20_000) }), now, new Set())).toMatchObject({ ok: false, reason: 'malformed' });
  });

  const id = '0b8a4c1e-2f3d-4e5f-8a9b-0c1d2e3f4a5b';
  const setpoint = { id, kind: 'battery-power', value: 2_000, validFrom: '2026-11-30T09:55:00Z', expiresAt: '2026-11-30T10:10:00Z', issuedAt: '2026-11-30T09:54:00Z' };
  const parsed = (fields: Record<string, unknown> = {}) => {
    const check = checkCommand(JSON.stringify({ ...setpoint, ...fields }), now, new Set());
    if (!check.ok) throw new Error(check.message);
    return check.command as SetpointCommand;
  };

  it('reads control\'s set-points and refuses bad ones with the field at fault', () => {
    expect(parsed()).toEqual({ id, type: 'setpoint', kind: 'battery-power', value: 2_000, validFromMs: Date.parse(setpoint.validFrom), expiresAtMs: Date.parse(setpoint.expiresAt), issuedAtMs: Date.parse(setpoint.issuedAt), limits: undefined });
    expect(parsed({ kind: 'appliance-start', value: null }).value).toBeNull();
    const refused = (fields: Record<string, unknown>) => checkCommand(JSON.stringify({ ...setpoint, ...fields }), now, new Set());
    expect(refused({ expiresAt: '2026-11-30T10:00:00Z' })).toMatchObject({ ok: false, reason: 'expired', id });
    expect(refused({ kind: 'kettle-power' })).toMatchObject({ ok: false, reason: 'unsupported' });
    expect(refused({ expiresAt: undefined })).toMatchObject({ ok: false, reason: 'malformed', message: 'expiresAt is required' });
    for (const value of [1.5, '2000', 1e12, true]) expect(refused({ value })).toMatchObject({ ok: false, reason: 'malformed' });
    expect(refused({ validFrom: 'yesterday' })).toMatchObject({ ok: false, reason: 'malformed', message: expect.stringContaining('validFrom') });
    expect(refused({ validFrom: '2026-11-30T10:10:00Z' })).toMatchObject({ ok: false, reason: 'malformed' });
    expect(refused({ limits: { max: 'lots' } })).toMatchObject({ ok: false, reason: 'malformed' });
    // Answers: a rejection carries its reason; a duplicate and an id-less command get none.
    expect(answerOf(refused({ kind: 'kettle-power' }))).toEqual({ commandId: id, result: 'rejected', reason: 'unsupported: unknown command kind "kettle-power"' });
    expect(answerOf(checkCommand(JSON.stringify(setpoint), now, new Set([id])))).toBeUndefined();
    expect(answerOf(checkCommand('{"value":1}', now, new Set()))).toBeUndefined();
  });

  it('admits a set-point only for a kind a local device takes, within both limits, never older than one carried out', () => {
    const capability = { limits: { min: -3_000, max: 3_000 }, takesValue: true };
    expect(admitSetpoint(parsed(), capability, undefined).ok).toBe(true);
    expect(admitSetpoint(parsed(), undefined, undefined)).toMatchObject({ ok: false, reason: 'unsupported' });
    expect(admitSetpoint(parsed({ value: 3_500 }), capability, undefined)).toMatchObject({ ok: false, reason: 'limit', message: '3500 W is above the device\'s limit of 3000 W' });
    expect(admitSetpoint(parsed({ value: -1_500, limits: { min: -1_000 } }), capability, undefined)).toMatchObject({ ok: false, reason: 'limit', message: '-1500 W is below the member\'s limit of -1000 W' });
    expect(admitSetpoint(parsed({ value: null }), capability, undefined)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(admitSetpoint(parsed(), capability, Date.parse('2026-11-30T09:54:30Z'))).toMatchObject({ ok: false, reason: 'superseded' });
    expect(admitSetpoint(parsed(), capability, Date.parse(setpoint.issuedAt)).ok).toBe(true);
  });
});

describe('local devices and the safe fallback', () => {
  const battery = {
    name: 'battery', kind: 'modbus-registers', config: { host: '127.0.0.1', registers: [] },
    setpoints: { 'battery-power': { writes: [{ address: 10, type: 'uint16', value: 1 }], register: { address: 11, type: 'int16', scale: 10 }, limits: { min: -5_000, max: 5_000 } } },
    safeState: [{ address: 10, type: 'uint16', value: 2 }],
  };

  const problem = (parse: () => unknown) => {
    try {
      parse();
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('maps a command kind to its device and its writes, the value scaled into the register', () => {
    const devices = parseLocalDevices([battery]);
    const device = deviceFor(devices, 'battery-power')!;
    expect(device.name).toBe('battery');
    expect(device.setpoints['battery-power']!.limits).toEqual({ min: -5_000, max: 5_000 });
    const setup = registerSetup(device, 'agent/connectors/0');
    expect(setpointWrites(setup.setpoints['battery-power']!, -2_345)).toMatchObject({ type: 'write', writes: [{ address: 10, type: 'uint16', value: 1 }, { address: 11, type: 'int16', wordOrder: undefined, byteOrder: undefined, value: -235 }] });
    expect(setup.safeState).toEqual([{ address: 10, type: 'uint16', value: 2, wordOrder: undefined, byteOrder: undefined }]);
    // A plain register keeps a set-point: with a safe state the agent writes it back at expiry, unless told not to.
    expect(setup.setpoints['battery-power']!.revertAtExpiry).toBe(true);
    const noSafeState = registerSetup(parseLocalDevices([{ ...battery, safeState: undefined }])[0]!, 'agent/connectors/0');
    expect(noSafeState.setpoints['battery-power']!.revertAtExpiry).toBe(false);
    const kept = registerSetup(parseLocalDevices([{ ...battery, setpoints: { 'battery-power': { register: { address: 11, type: 'int16' }, revertAtExpiry: false } } }])[0]!, 'agent/connectors/0');
    expect(kept.setpoints['battery-power']!.revertAtExpiry).toBe(false);
    expect(deviceFor(devices, 'ev-charge-power')).toBeUndefined();
    expect(devices[0]!.intervalSeconds).toBe(60);
  });

  it('refuses a setup it could not carry out, naming the place', () => {
    expect(problem(() => parseLocalDevices([battery, battery]))).toBe('agent/connectors/1/name: battery is named twice');
    expect(problem(() => parseLocalDevices([battery, { ...battery, name: 'second' }]))).toBe('agent/connectors/1/setpoints/battery-power: another local device takes this kind already');
    expect(problem(() => parseLocalDevices([{ ...battery, setpoints: { 'kettle-power': {} } }]))).toMatch(/^agent\/connectors\/0\/setpoints\/kettle-power: is not a command kind/);
    expect(problem(() => parseLocalDevices([{ ...battery, setpoints: { 'battery-power': { limits: { min: 5, max: 1 } } } }]))).toBe('agent/connectors/0/setpoints/battery-power/limits: min is above max');
    expect(problem(() => parseLocalDevices({}))).toBe('agent/connectors: must be a list of at most 16 local devices');
    const registers = (item: Record<string, unknown>) => () => registerSetup(parseLocalDevices([item])[0]!, 'agent/connectors/0');
    expect(problem(registers({ ...battery, setpoints: { 'battery-power': { register: { address: 70_000, type: 'int16' } } } }))).toBe('agent/connectors/0/setpoints/battery-power/register/address: must be a whole number from 0 to 65535');
    expect(problem(registers({ ...battery, setpoints: { 'battery-power': { limits: { max: 1 } } } }))).toBe('agent/connectors/0/setpoints/battery-power: writes nothing: give writes or register');
    expect(problem(registers({ ...battery, safeState: [{ address: 1, type: 'int12', value: 1 }] }))).toBe('agent/connectors/0/safeState/0/type: must be a register type (int16 … float64)');
    expect(problem(registers({ ...battery, safeState: [{ address: 1, type: 'int16', value: Number.NaN }] }))).toBe('agent/connectors/0/safeState/0/value: must be a number');
    expect(problem(registers({ ...battery, safeState: undefined, setpoints: { 'battery-power': { register: { address: 11, type: 'int16' }, revertAtExpiry: true } } }))).toBe('agent/connectors/0/setpoints/battery-power/revertAtExpiry: reverts to the safe state: give the device a safeState');
    expect(problem(registers({ ...battery, setpoints: { 'battery-power': { register: { address: 11, type: 'int16' }, revertAtExpiry: 'yes' } } }))).toBe('agent/connectors/0/setpoints/battery-power/revertAtExpiry: must be true or false');
  });

  it('turns watts into SunSpec percentages with the revert timer at the command\'s expiry', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    const device = parseLocalDevices([{ name: 'hybrid', kind: 'modbus-sunspec', config: { host: '127.0.0.1' }, setpoints: { 'pv-limit': { ratedW: 5_000 }, 'battery-power': { maxChargeW: 3_000, maxDischargeW: 2_500 } }, safeState: 'release' }])[0]!;
    const setup = sunspecSetup(device, 'agent/connectors/0');
    expect(sunspecControl(setup, 'pv-limit', 2_125, now + 15 * 60_000, now)).toEqual({ type: 'power-limit', percent: 42.5, revertAfterS: 900 });
    // Beyond the rating is no limit at all, below 0 is none fed in; a day is more than model 123's timer holds.
    expect(sunspecControl(setup, 'pv-limit', 9_000, now + 86_400_000, now)).toEqual({ type: 'power-limit', percent: 100, revertAfterS: 65_534 });
    expect(sunspecControl(setup, 'pv-limit', -10, now + 500, now)).toEqual({ type: 'power-limit', percent: 0, revertAfterS: 1 });
    expect(sunspecControl(setup, 'battery-power', 1_500, now + 60_000, now)).toEqual({ type: 'battery', chargePercent: 50, dischargePercent: 0, revertAfterS: 60 });
    expect(sunspecControl(setup, 'battery-power', -1_000, now + 60_000, now)).toEqual({ type: 'battery', chargePercent: 0, dischargePercent: 40, revertAfterS: 60 });
    expect(sunspecRelease(setup)).toEqual([{ type: 'power-limit', percent: null }, { type: 'battery', chargePercent: null, dischargePercent: null }]);
    const sunspec = (item: Record<string, unknown>) => () => sunspecSetup(parseLocalDevices([{ name: 'pv', kind: 'modbus-sunspec', config: {}, ...item }])[0]!, 'agent/connectors/0');
    expect(problem(sunspec({ setpoints: { 'pv-limit': { ratedW: 0 } } }))).toBe('agent/connectors/0/setpoints/pv-limit/ratedW: must be above 0 W');
    expect(problem(sunspec({ setpoints: { 'heat-pump-block': {} } }))).toBe('agent/connectors/0/setpoints/heat-pump-block: a SunSpec device takes pv-limit and battery-power only');
    expect(problem(sunspec({ safeState: [{ address: 1 }] }))).toBe('agent/connectors/0/safeState: must be "release" (limits lifted) or absent');
  });

  it('switches a Shelly plug per command kind, its own timer back at expiry, and reads its answers strictly', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    const device = parseLocalDevices([{ name: 'plug', kind: 'shelly-gen2', config: { host: '192.168.1.50' }, setpoints: { 'appliance-start': {}, 'heat-pump-block': {}, 'ev-charge-power': { onAtLeastW: 1_400 } }, safeState: { on: false } }])[0]!;
    const setup = shellySetup(device, 'agent/connectors/0');
    expect(setup.config).toEqual({ host: '192.168.1.50', port: 80, switchId: 0, timeoutMs: 5_000 });
    expect(setup.safeState).toBe(false);
    // A start switches on and stays on (a washing programme is not cut); a block switches off until it expires.
    expect(setup.setpoints['appliance-start']).toEqual({ on: true, onAtLeastW: undefined, revertAtExpiry: false });
    expect(setup.setpoints['heat-pump-block']).toEqual({ on: false, onAtLeastW: undefined, revertAtExpiry: true });
    expect(switchState(setup.setpoints['ev-charge-power']!, 1_400)).toBe(true);
    expect(switchState(setup.setpoints['ev-charge-power']!, 1_000)).toBe(false);
    expect(switchSet(setup.config, false, { expiresAtMs: now + 30 * 60_000, nowMs: now }, 7)).toEqual({ id: 7, method: 'Switch.Set', params: { id: 0, on: false, toggle_after: 1_800 } });
    expect(switchSet(setup.config, true, undefined, 8)).toEqual({ id: 8, method: 'Switch.Set', params: { id: 0, on: true } });
    const request = switchSet(setup.config, true, undefined, 9);
    expect(rpcResult({ id: 9, src: 'shellyplusplugs', result: { was_on: false } }, request)).toEqual({ ok: true, result: { was_on: false } });
    expect(rpcResult({ id: 9, error: { code: -103, message: 'Invalid argument' } }, request)).toEqual({ ok: false, error: 'Switch.Set: Invalid argument (-103)' });
    expect(rpcResult({ id: 8, result: {} }, request)).toEqual({ ok: false, error: 'Switch.Set: not an answer to this request' });
    expect(rpcResult('<html>', request)).toEqual({ ok: false, error: 'the plug did not answer JSON-RPC' });
    expect(statusOf({ id: 0, output: true, apower: 1_987.4, aenergy: { total: 12_345.678 } }, now)).toEqual({
      output: true, readings: [{ ts: '2026-11-30T10:00:00.000Z', quantity: 'power.import', value: 1_987.4, unit: 'W' }, { ts: '2026-11-30T10:00:00.000Z', quantity: 'energy.import', value: 12_345.678, unit: 'Wh' }],
    });
    // A plug without metering, or one answering nonsense, yields no readings rather than wrong ones.
    expect(statusOf({ output: false, apower: 'NaN', aenergy: { total: -5 } }, now)).toEqual({ output: false, readings: [] });
    const shelly = (item: Record<string, unknown>) => () => shellySetup(parseLocalDevices([{ name: 'plug', kind: 'shelly-gen2', config: { host: 'plug.local' }, ...item }])[0]!, 'agent/connectors/0');
    expect(problem(shelly({ config: { host: 'http://x/' } }))).toBe('agent/connectors/0/config/host: must be the plug\'s host name or IP address');
    expect(problem(shelly({ setpoints: { 'appliance-start': { on: 'yes' } } }))).toBe('agent/connectors/0/setpoints/appliance-start/on: must be true or false');
    expect(problem(shelly({ safeState: { on: 1 } }))).toBe('agent/connectors/0/safeState/on: must be true or false');
    expect(problem(shelly({ config: { host: 'plug.local', password: '' } }))).toBe('agent/connectors/0/config/password: must be the password set on the plug (1 to 64 characters)');
    expect(shelly({ config: { host: 'plug.local', password: 'secret' } })().config.password).toBe('secret');
  });

  it('answers a digest challenge as RFC 7616 computes it, and refuses challenges it cannot answer', () => {
    // RFC 7616 section 3.9.1: the same request signed with SHA-256 and with MD5.
    const header = (algorithm: string) => `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;
    const request = { username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nc: 1 };
    const sha256 = parseDigestChallenge(header('SHA-256'));
    expect(sha256).toEqual({ realm: 'http-auth@example.org', nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v', opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS', algorithm: 'SHA-256' });
    expect(digestAuthorization(sha256 as Exclude<typeof sha256, { problem: string }>, request)).toMatch(/ nc=00000001, .*response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/);
    const md5 = parseDigestChallenge(header('MD5'));
    expect(digestAuthorization(md5 as Exclude<typeof md5, { problem: string }>, request)).toMatch(/response="8ca523f5e9506fed4657c9700eebdbec"/);
    // A Shelly's own challenge, as a Plus Plug S sends it.
    expect(parseDigestChallenge('Digest qop="auth", realm="shellyplusplugs-a0b1c2d3e4f5", nonce="1733230000", algorithm=SHA-256')).toMatchObject({ realm: 'shellyplusplugs-a0b1c2d3e4f5', nonce: '1733230000', algorithm: 'SHA-256' });
    expect(parseDigestChallenge('Basic realm="x"')).toEqual({ problem: 'asks for a password without a digest challenge' });
    expect(parseDigestChallenge(null)).toEqual({ problem: 'asks for a password without a digest challenge' });
    expect(parseDigestChallenge('Digest realm="x", nonce="n", qop="auth-int"')).toEqual({ problem: 'offers digest qop auth-int, not auth' });
    expect(parseDigestChallenge('Digest realm="x", nonce="n", algorithm=SHA-512-256')).toEqual({ problem: 'asks for digest algorithm SHA-512-256 (SHA-256 and MD5 are spoken)' });
    expect(parseDigestChallenge('Digest realm="x"')).toEqual({ problem: 'sent a digest challenge without realm or nonce' });
  });

  it('falls back once contact is older than the limit, and follows again after contact', () => {
    const t = Date.parse('2026-11-30T10:00:00Z');
    expect(controlMode(t, t + 300_000, 300)).toBe('following');
    expect(controlMode(t, t + 300_001, 300)).toBe('safe');
    expect(controlMode(t + 300_001, t + 300_001, 300)).toBe('following');
  });
});

describe('what the agent has to do later', () => {
  const t = Date.parse('2026-11-30T10:00:00Z');
  const command = (kind: SetpointCommand['kind'], issuedAtMs: number, validFromMs = issuedAtMs, expiresAtMs = validFromMs + 900_000): SetpointCommand => ({
    id: `c-${kind}-${issuedAtMs}`, type: 'setpoint', kind, value: 1_000, validFromMs, expiresAtMs, issuedAtMs, limits: undefined,
  });

  it('keeps its actions in time order, and a later command of a kind takes over from earlier ones', () => {
    const start = { atMs: t + 600_000, action: 'carry-out', command: command('appliance-start', t, t + 600_000) } as const;
    const revert = { atMs: t + 900_000, action: 'revert', command: command('battery-power', t) } as const;
    const list = withAction(withAction([], revert), start);
    expect(list).toEqual([start, revert]);
    expect(dueActions(list, t + 599_999)).toEqual([]);
    expect(dueActions(list, t + 900_000)).toEqual([start, revert]);
    expect(superseded(list, 'battery-power', t + 60_000)).toEqual([start]);
    // The same command (a redelivery) or an older one takes nothing away.
    expect(superseded(list, 'battery-power', t)).toEqual(list);
  });

  it('leaves out an action whose command was replaced, in the safe state, or a start that expired while the agent was down', () => {
    const start: ScheduledAction = { atMs: t + 600_000, action: 'carry-out', command: command('appliance-start', t, t + 600_000) };
    expect(stillWanted(start, t + 600_000, 'following', t)).toEqual({ run: true });
    expect(stillWanted(start, t + 600_000, 'following', t + 1)).toEqual({ run: false, why: 'a later appliance-start command came' });
    expect(stillWanted(start, t + 600_000, 'safe', t)).toEqual({ run: false, why: 'the devices are in their safe state' });
    expect(stillWanted(start, t + 1_500_000, 'following', t)).toEqual({ run: false, why: 'it expired before it could be carried out' });
    // A revert is due exactly at expiry, and still wanted long after it (the agent was down then).
    const revert: ScheduledAction = { atMs: t + 900_000, action: 'revert', command: command('battery-power', t) };
    expect(stillWanted(revert, t + 86_400_000, 'following', t)).toEqual({ run: true });
  });

  it('reads the stored list back, leaving out what is not an action', () => {
    const revert: ScheduledAction = { atMs: t + 900_000, action: 'revert', command: command('battery-power', t) };
    const start: ScheduledAction = { atMs: t + 600_000, action: 'carry-out', command: command('appliance-start', t, t + 600_000) };
    expect(parseSchedule(JSON.stringify([revert, start]))).toEqual([start, revert]);
    expect(parseSchedule(JSON.stringify([{ ...revert, action: 'explode' }, { ...start, command: { ...start.command, kind: 'kettle' } }, null, 3]))).toEqual([]);
    expect(parseSchedule('{')).toEqual([]);
    expect(parseSchedule(undefined)).toEqual([]);
  });
});

describe('the local page', () => {
  const line = new LineHealth();
  line.frame(Date.parse('2026-11-30T10:00:00Z'));
  line.checksumErrors = 2;
  const status = buildHeartbeat({
    deviceId: 'dev-1', version: '0.1.0', nowMs: Date.parse('2026-11-30T10:00:30Z'), startedAtMs: Date.parse('2026-11-30T09:00:00Z'), logLevel: 'info',
    queue: { messages: 3, readings: 57, bytes: 4_000, oldestAtMs: undefined, droppedReadings: 0, thinnedMessages: 0 },
    serial: { port: '/dev/ttyUSB0', profile: 'dsmr-p1', open: true, line },
    uplink: { transport: 'offline', sentMessages: 0, sentReadings: 0, refusedMessages: 0, lastAckAtMs: undefined, lastError: '<script>alert(1)</script>' },
    control: { mode: 'following', acknowledged: 0, rejected: 0, lastCommandAt: null, pendingAnswers: 0 },
  });

  it('has the same messages in English and German', () => {
    expect(catalogKeys('de')).toEqual(catalogKeys('en'));
    expect(message('de', 'status.queueValue', { readings: 5, messages: 1 })).toBe('5 Messwerte in 1 Nachrichten');
    expect(pickLanguage('de-AT,de;q=0.9,en;q=0.5')).toBe('de');
    expect(pickLanguage('fr-FR,en;q=0.5')).toBe('en');
    expect(pickLanguage(undefined, 'de')).toBe('de');
  });

  it('shows status, readings and settings with every value escaped', () => {
    const html = renderStatusPage({
      language: 'de', deviceId: 'dev-1', status, csrf: 'tok"en',
      readings: [reading('2026-11-30T10:00:00Z', 'energy.import', 1234.5, 'Wh')],
      claim: { code: '7K2Q-M9XD-4RTA', url: 'https://energy.example.org/claim?code=7K2Q-M9XD-4RTA' },
      settings: { ports: ['/dev/ttyUSB0', '/dev/ttyAMA0'], port: '/dev/ttyUSB0', profile: 'dsmr-p1', profiles: meterProfiles(), keySet: true, authKeySet: false },
    });
    expect(html).toContain('<html lang="de">');
    expect(html).toContain('offline: Messwerte bleiben im Adapter gespeichert');
    expect(html).toContain('57 Messwerte in 3 Nachrichten');
    expect(html).toContain(`${new Intl.NumberFormat('de-AT').format(1234.5)} Wh`);
    expect(html).toContain('7K2Q-M9XD-4RTA');
    expect(html).toContain('value="tok&quot;en"');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<option value="/dev/ttyUSB0" selected>');
    expect(html).toContain('Ein Schlüssel ist gespeichert');
    expect(renderLogin('en', 'dev-1', '')).toContain('Enter the reader&#39;s PIN');
  });

  it('answers only the local network', () => {
    for (const address of ['127.0.0.1', '::1', '10.1.2.3', '172.16.0.9', '172.31.255.1', '192.168.1.20', '::ffff:192.168.1.20', '169.254.3.4', 'fe80::1', 'fd12::3']) expect(isLocalAddress(address), address).toBe(true);
    for (const address of ['8.8.8.8', '172.32.0.1', '::ffff:1.2.3.4', '2001:db8::1', '100.64.0.1']) expect(isLocalAddress(address), address).toBe(false);
    for (const host of ['192.168.1.20:8475', '[fe80::1]:8475', 'localhost:8475', 'gridshare-reader.local']) expect(allowedHost(host), host).toBe(true);
    for (const host of [undefined, 'attacker.example.com', 'reader.local.attacker.example', 'localhost.evil']) expect(allowedHost(host), host).toBe(false);
  });
});
