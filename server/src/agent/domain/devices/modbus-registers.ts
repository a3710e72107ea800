import type { CommandKind } from '@gridshare/contract/control';
import { fail, finite, int, isObject, type LocalDevice } from '../local-devices.js';

/**
 * `modbus-registers` (Modbus TCP) and `modbus-rtu` (a serial line) as a command target: per
 * command kind, what to write (fixed values first, e.g. a mode register to "remote", then the
 * command's value scaled into its register), and the safe state as fixed writes (e.g. the
 * battery's mode register to self-consumption). Written through the connectors' write command.
 * A plain register has no timer of its own, so the agent reverts it: with `revertAtExpiry` (the
 * default when the device has a safe state) the safe state is written when the command expires,
 * unless a later command of its kind came first.
 */
/** A register type of the connectors' register maps (int16 … float64); the connector checks it when it writes. */
type RegisterType = string;
type Order = 'big' | 'little';

export interface FixedWrite { readonly address: number; readonly type: RegisterType; readonly wordOrder?: Order | undefined; readonly byteOrder?: Order | undefined; readonly value: number }
export interface ValueRegister { readonly address: number; readonly type: RegisterType; readonly wordOrder?: Order | undefined; readonly byteOrder?: Order | undefined; readonly scale: number }

export interface RegisterSetpoint {
  readonly writes: readonly FixedWrite[];
  /** Where the command's value goes (W ÷ scale); absent for kinds without a value (a start, a block). */
  readonly register: ValueRegister | undefined;
  /** The safe state is written when the command expires. */
  readonly revertAtExpiry: boolean;
}

export interface RegisterSetup {
  readonly setpoints: Readonly<Partial<Record<CommandKind, RegisterSetpoint>>>;
  readonly safeState: readonly FixedWrite[];
}

/** The command `modbus-registers` takes (server/src/connectors/kinds/modbus-registers.ts). */
export interface WriteCommand { readonly type: 'write'; readonly writes: readonly FixedWrite[] }

type Json = Record<string, unknown>;

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

function setpointOf(value: Json, path: string, hasSafeState: boolean): RegisterSetpoint {
  let register: ValueRegister | undefined;
  if (value.register !== undefined) {
    if (!isObject(value.register)) fail(`${path}/register`, 'must be {address, type, scale?}');
    const scale = value.register.scale === undefined ? 1 : finite(value.register.scale, `${path}/register/scale`);
    if (scale === 0) fail(`${path}/register/scale`, 'must not be 0');
    register = { ...encoding(value.register, `${path}/register`), scale };
  }
  const writes = fixedWrites(value.writes, `${path}/writes`);
  if (writes.length === 0 && register === undefined) fail(path, 'writes nothing: give writes or register');
  if (value.revertAtExpiry !== undefined && typeof value.revertAtExpiry !== 'boolean') fail(`${path}/revertAtExpiry`, 'must be true or false');
  const revertAtExpiry = value.revertAtExpiry ?? hasSafeState;
  if (revertAtExpiry && !hasSafeState) fail(`${path}/revertAtExpiry`, 'reverts to the safe state: give the device a safeState');
  return { writes, register, revertAtExpiry };
}

/** Checks a `modbus-registers` device's setpoints and safe state; `path` names it in agent.json. */
export function registerSetup(device: LocalDevice, path: string): RegisterSetup {
  const safeState = fixedWrites(device.safeState, `${path}/safeState`);
  const setpoints: Partial<Record<CommandKind, RegisterSetpoint>> = {};
  for (const [kind, setpoint] of Object.entries(device.setpoints) as [CommandKind, { spec: Json }][]) {
    setpoints[kind] = setpointOf(setpoint.spec, `${path}/setpoints/${kind}`, safeState.length > 0);
  }
  return { setpoints, safeState };
}

/** The register writes of a set-point: the fixed ones, then the value in the register's units. */
export function setpointWrites(spec: RegisterSetpoint, value: number | null): WriteCommand {
  const writes = [...spec.writes];
  if (spec.register && value !== null) {
    const { scale, ...register } = spec.register;
    const raw = value / scale;
    // Half away from zero, so a charge and a discharge of the same size round alike.
    writes.push({ ...register, value: register.type.startsWith('float') ? raw : Math.sign(raw) * Math.round(Math.abs(raw)) });
  }
  return { type: 'write', writes };
}
