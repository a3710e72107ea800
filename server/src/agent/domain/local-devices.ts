import { COMMAND_KINDS, type CommandKind } from '@gridshare/contract/control';
import type { KindCapability, ValueLimits } from './commands.js';

/**
 * `agent.connectors`: the devices in the home the agent reads and controls through the
 * platform's connector adapters, with the same configuration as a connector instance (a
 * `modbus-registers` map with its template, a `modbus-sunspec` device …). For control, a
 * `modbus-registers` device names per command kind what to write (fixed values first, e.g. a
 * mode register to "remote", then the command's value scaled into its register), and its safe
 * state (e.g. the battery's mode register to self-consumption) for when the platform is gone.
 */
/** A register type of the connectors' register maps (int16 … float64); the connector checks it when it writes. */
type RegisterType = string;
type Order = 'big' | 'little';

export interface FixedWrite { readonly address: number; readonly type: RegisterType; readonly wordOrder?: Order | undefined; readonly byteOrder?: Order | undefined; readonly value: number }
export interface ValueRegister { readonly address: number; readonly type: RegisterType; readonly wordOrder?: Order | undefined; readonly byteOrder?: Order | undefined; readonly scale: number }

export interface SetpointSpec {
  readonly writes: readonly FixedWrite[];
  /** Where the command's value goes (W ÷ scale); absent for kinds without a value (a start, a block). */
  readonly register: ValueRegister | undefined;
  readonly limits: ValueLimits | undefined;
}

export interface LocalDevice {
  readonly name: string;
  /** A connector kind (`modbus-registers`, `modbus-sunspec` …). */
  readonly kind: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Read every this many seconds into the queue; 0: never read, only controlled. */
  readonly intervalSeconds: number;
  readonly setpoints: Readonly<Partial<Record<CommandKind, SetpointSpec>>>;
  readonly safeState: readonly FixedWrite[];
}

/** The command `modbus-registers` takes (server/src/connectors/kinds/modbus-registers.ts). */
export interface WriteCommand { readonly type: 'write'; readonly writes: readonly FixedWrite[] }

/** A problem in `agent.connectors`, at `path` (config.ts reports it as any config problem). */
export class LocalDeviceError extends Error {
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'LocalDeviceError';
  }
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
const CONTROLLABLE_KIND = 'modbus-registers';

function fail(path: string, message: string): never {
  throw new LocalDeviceError(path, message);
}

function int(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(path, `must be a whole number from ${min} to ${max}`);
  return value;
}

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'must be a number');
  return value;
}

function encoding(raw: Json, path: string): Pick<FixedWrite, 'address' | 'type' | 'wordOrder' | 'byteOrder'> {
  if (typeof raw.type !== 'string' || !/^(u?int(16|32|64)|float(32|64))$/.test(raw.type)) fail(`${path}/type`, 'must be a register type (int16 … float64)');
  for (const order of ['wordOrder', 'byteOrder'] as const) {
    if (raw[order] !== undefined && raw[order] !== 'big' && raw[order] !== 'little') fail(`${path}/${order}`, 'must be big or little');
  }
  return { address: int(raw.address, `${path}/address`, 0, 65_535), type: raw.type, wordOrder: raw.wordOrder as Order | undefined, byteOrder: raw.byteOrder as Order | undefined };
}

function fixedWrites(value: unknown, path: string): FixedWrite[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 8) fail(path, 'must be a list of at most 8 register writes');
  return value.map((item, i) => {
    if (!isObject(item)) fail(`${path}/${i}`, 'must be {address, type, value}');
    return { ...encoding(item, `${path}/${i}`), value: finite(item.value, `${path}/${i}/value`) };
  });
}

function limitsOf(value: unknown, path: string): ValueLimits | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) fail(path, 'must be {min?, max?}');
  const min = value.min === undefined ? undefined : finite(value.min, `${path}/min`);
  const max = value.max === undefined ? undefined : finite(value.max, `${path}/max`);
  if (min !== undefined && max !== undefined && min > max) fail(path, 'min is above max');
  return { min, max };
}

function setpointOf(value: unknown, path: string): SetpointSpec {
  if (!isObject(value)) fail(path, 'must be {writes?, register?, limits?}');
  let register: ValueRegister | undefined;
  if (value.register !== undefined) {
    if (!isObject(value.register)) fail(`${path}/register`, 'must be {address, type, scale?}');
    const scale = value.register.scale === undefined ? 1 : finite(value.register.scale, `${path}/register/scale`);
    if (scale === 0) fail(`${path}/register/scale`, 'must not be 0');
    register = { ...encoding(value.register, `${path}/register`), scale };
  }
  const writes = fixedWrites(value.writes, `${path}/writes`);
  if (writes.length === 0 && register === undefined) fail(path, 'writes nothing: give writes or register');
  return { writes, register, limits: limitsOf(value.limits, `${path}/limits`) };
}

/** Parses `agent.connectors`; the first problem is reported with its path. */
export function parseLocalDevices(value: unknown, path = 'agent/connectors'): LocalDevice[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 16) fail(path, 'must be a list of at most 16 local devices');
  const devices = value.map((item, i): LocalDevice => {
    const at = `${path}/${i}`;
    if (!isObject(item)) fail(at, 'must be an object');
    if (typeof item.name !== 'string' || !NAME.test(item.name)) fail(`${at}/name`, 'must be a short lower-case name (a-z, 0-9, -)');
    if (typeof item.kind !== 'string' || item.kind === '') fail(`${at}/kind`, 'must name a connector kind');
    if (!isObject(item.config)) fail(`${at}/config`, 'must be the connector\'s configuration');
    const rawSetpoints = item.setpoints === undefined ? {} : item.setpoints;
    if (!isObject(rawSetpoints)) fail(`${at}/setpoints`, 'must map command kinds to writes');
    const setpoints: Partial<Record<CommandKind, SetpointSpec>> = {};
    for (const [kind, spec] of Object.entries(rawSetpoints)) {
      if (!(COMMAND_KINDS as readonly string[]).includes(kind)) fail(`${at}/setpoints/${kind}`, `is not a command kind (${COMMAND_KINDS.join(', ')})`);
      setpoints[kind as CommandKind] = setpointOf(spec, `${at}/setpoints/${kind}`);
    }
    const safeState = fixedWrites(item.safeState, `${at}/safeState`);
    if ((Object.keys(setpoints).length > 0 || safeState.length > 0) && item.kind !== CONTROLLABLE_KIND) {
      fail(`${at}/kind`, `only ${CONTROLLABLE_KIND} devices take setpoints and a safe state`);
    }
    return {
      name: item.name,
      kind: item.kind,
      config: item.config,
      intervalSeconds: item.intervalSeconds === undefined ? 60 : int(item.intervalSeconds, `${at}/intervalSeconds`, 0, 86_400),
      setpoints,
      safeState,
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

/** The local device that carries out a kind, with what the command checks need to know. */
export function deviceFor(devices: readonly LocalDevice[], kind: CommandKind): { readonly device: LocalDevice; readonly spec: SetpointSpec; readonly capability: KindCapability } | undefined {
  for (const device of devices) {
    const spec = device.setpoints[kind];
    if (spec) return { device, spec, capability: { limits: spec.limits, takesValue: spec.register !== undefined } };
  }
  return undefined;
}

/** The register writes of a set-point: the fixed ones, then the value in the register's units. */
export function setpointWrites(spec: SetpointSpec, value: number | null): WriteCommand {
  const writes = [...spec.writes];
  if (spec.register && value !== null) {
    const { scale, ...register } = spec.register;
    const raw = value / scale;
    // Half away from zero, so a charge and a discharge of the same size round alike.
    writes.push({ ...register, value: register.type.startsWith('float') ? raw : Math.sign(raw) * Math.round(Math.abs(raw)) });
  }
  return { type: 'write', writes };
}
