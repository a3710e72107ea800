import { COMMAND_KINDS, type CommandKind } from '@gridshare/contract/control';
import type { ValueLimits } from './commands.js';

/**
 * `agent.connectors`: the devices in the home the agent reads and controls. Each names a local
 * device kind (`modbus-registers`, `modbus-sunspec`, `shelly-gen2`, `simulated`, or any
 * connector kind only read), its configuration, and per command kind what the device does with
 * a command (`setpoints`), with the device's own bounds (`limits`), and its safe state for when
 * the platform is gone. What `setpoints` and `safeState` hold is the kind's to say (`devices/`);
 * here only what every kind shares is checked.
 */
export interface LocalDevice {
  readonly name: string;
  readonly kind: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Read every this many seconds into the queue; 0: never read, only controlled. */
  readonly intervalSeconds: number;
  /** Per command kind the device takes: the kind's set-up of it (checked by the kind) and the value's bounds. */
  readonly setpoints: Readonly<Partial<Record<CommandKind, Setpoint>>>;
  /** The kind's description of its safe state; undefined: none. */
  readonly safeState: unknown;
}

export interface Setpoint {
  readonly spec: Readonly<Record<string, unknown>>;
  readonly limits: ValueLimits | undefined;
}

/** A problem in `agent.connectors`, at `path` (config.ts reports it as any config problem). */
export class LocalDeviceError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'LocalDeviceError';
  }
}

type Json = Record<string, unknown>;
export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;

export function fail(path: string, message: string): never {
  throw new LocalDeviceError(path, message);
}

export function int(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(path, `must be a whole number from ${min} to ${max}`);
  return value;
}

export function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'must be a number');
  return value;
}

function limitsOf(value: unknown, path: string): ValueLimits | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) fail(path, 'must be {min?, max?}');
  const min = value.min === undefined ? undefined : finite(value.min, `${path}/min`);
  const max = value.max === undefined ? undefined : finite(value.max, `${path}/max`);
  if (min !== undefined && max !== undefined && min > max) fail(path, 'min is above max');
  return { min, max };
}

/** Parses `agent.connectors`; the first problem is reported with its path. */
export function parseLocalDevices(value: unknown, path = 'agent/connectors'): LocalDevice[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 16) fail(path, 'must be a list of at most 16 local devices');
  const devices = value.map((item, i): LocalDevice => {
    const at = `${path}/${i}`;
    if (!isObject(item)) fail(at, 'must be an object');
    if (typeof item.name !== 'string' || !NAME.test(item.name)) fail(`${at}/name`, 'must be a short lower-case name (a-z, 0-9, -)');
    if (typeof item.kind !== 'string' || item.kind === '') fail(`${at}/kind`, 'must name a local device kind');
    if (!isObject(item.config)) fail(`${at}/config`, 'must be the device kind\'s configuration');
    const rawSetpoints = item.setpoints === undefined ? {} : item.setpoints;
    if (!isObject(rawSetpoints)) fail(`${at}/setpoints`, 'must map command kinds to what the device does');
    const setpoints: Partial<Record<CommandKind, Setpoint>> = {};
    for (const [kind, spec] of Object.entries(rawSetpoints)) {
      if (!(COMMAND_KINDS as readonly string[]).includes(kind)) fail(`${at}/setpoints/${kind}`, `is not a command kind (${COMMAND_KINDS.join(', ')})`);
      if (!isObject(spec)) fail(`${at}/setpoints/${kind}`, 'must be an object');
      setpoints[kind as CommandKind] = { spec, limits: limitsOf(spec.limits, `${at}/setpoints/${kind}/limits`) };
    }
    return {
      name: item.name,
      kind: item.kind,
      config: item.config,
      intervalSeconds: item.intervalSeconds === undefined ? 60 : int(item.intervalSeconds, `${at}/intervalSeconds`, 0, 86_400),
      setpoints,
      safeState: item.safeState,
    };
  });
  const names = new Set<string>();
  const kinds = new Set<string>();
  devices.forEach((device, i) => {
    if (names.has(device.name)) fail(`${path}/${i}/name`, `${device.name} is named twice`);
    names.add(device.name);
    for (const kind of Object.keys(device.setpoints)) {
      // One device per kind: a command says what, not where.
      if (kinds.has(kind)) fail(`${path}/${i}/setpoints/${kind}`, 'another local device takes this kind already');
      kinds.add(kind);
    }
  });
  return devices;
}

/** Command kinds without a value: the appliance starts, the heat pump is blocked (control sends null). */
export const takesValue = (kind: CommandKind): boolean => kind !== 'heat-pump-block' && kind !== 'appliance-start';

/** The local device that carries out a kind. */
export function deviceFor(devices: readonly LocalDevice[], kind: CommandKind): LocalDevice | undefined {
  return devices.find((device) => device.setpoints[kind] !== undefined);
}

/**
 * Seconds from now until a command expires, for devices that return to their own behaviour by
 * themselves (a SunSpec revert timer, a Shelly's toggle_after): at least 1, at most `max`.
 */
export function secondsUntil(expiresAtMs: number, nowMs: number, max: number): number {
  return Math.min(max, Math.max(1, Math.ceil((expiresAtMs - nowMs) / 1000)));
}
