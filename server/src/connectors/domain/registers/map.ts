import type { Quantity } from '../../../kernel/quantities.js';
import { planReads, registersFrom, type RegisterRange } from '../reads.js';
import { scaleByPowerOfTen, sourceUnits, splitSigned, targetReading, unitExponent, type TargetReading } from '../readings.js';
import { decodeRegisters, registerCount, type RegisterEncoding } from './decode.js';

/**
 * A register map: where each quantity of a non-SunSpec device lives and how to read it. A
 * template (a meter model's map) gives the points; a device's own overrides change fields of a
 * point (matched by quantity and target), disable it, or add points the template lacks.
 */
export type RegisterFunction = 'holding' | 'input';

export interface RegisterPoint extends RegisterEncoding {
  readonly quantity: Quantity;
  readonly target: string;
  /** 0-based protocol address (register 30001 of a manual's "3x" table is input address 0). */
  readonly address: number;
  readonly function: RegisterFunction;
  /** Multiplier from the raw value to `unit` (0.1, 0.01, 1000 …). */
  readonly scale: number;
  /** The unit after scaling (kWh, W, V …), converted exactly to the quantity's unit. */
  readonly unit: string;
  /** For signed powers: negative values are this quantity (power.export for power.import). */
  readonly negativeQuantity?: Quantity | undefined;
  /** A raw value the device sends for "no value" (0x8000, 0xFFFF …): the point is then absent. */
  readonly notImplemented?: number | undefined;
}

export type TemplatePoint = Omit<RegisterPoint, 'target'>;

export interface RegisterTemplate {
  readonly name: string;
  readonly summary: string;
  /** Registers a read may bridge: the device answers for the registers between its points. */
  readonly maxGap: number;
  readonly points: readonly TemplatePoint[];
}

export type RegisterOverride = Partial<Omit<RegisterPoint, 'quantity'>> & { readonly quantity: Quantity; readonly disabled?: boolean | undefined };

export interface ResolvedMap {
  readonly points: readonly RegisterPoint[];
  readonly problems: readonly string[];
}

const REQUIRED: readonly (keyof RegisterPoint)[] = ['address', 'function', 'type', 'wordOrder', 'byteOrder', 'scale', 'unit'];

/** The template's points with the device's overrides applied; problems name the override at fault. */
export function resolveRegisterMap(template: RegisterTemplate | undefined, overrides: readonly RegisterOverride[], target: string): ResolvedMap {
  const points = new Map<string, RegisterPoint>();
  const key = (quantity: string, t: string): string => `${t}\u0000${quantity}`;
  for (const point of template?.points ?? []) points.set(key(point.quantity, target), { ...point, target });
  const problems: string[] = [];
  overrides.forEach((override, i) => {
    const t = override.target ?? target;
    const k = key(override.quantity, t);
    if (override.disabled) {
      if (!points.delete(k)) problems.push(`registers/${i}: ${override.quantity} is not in the map, nothing to disable`);
      return;
    }
    const { disabled: _disabled, ...fields } = override;
    const merged = { ...points.get(k), ...fields, target: t } as Partial<RegisterPoint>;
    const missing = REQUIRED.filter((f) => merged[f] === undefined);
    if (missing.length > 0) {
      problems.push(`registers/${i}: ${override.quantity} is not in the template; give ${missing.join(', ')}`);
      return;
    }
    points.set(k, merged as RegisterPoint);
  });
  for (const point of points.values()) {
    const at = `${point.target}/${point.quantity}`;
    if (!Number.isInteger(point.address) || point.address < 0 || point.address + registerCount(point.type) > 0x10000) problems.push(`${at}: address ${point.address} is outside 0–65535`);
    if (!Number.isFinite(point.scale) || point.scale === 0) problems.push(`${at}: scale must be a number other than 0`);
    for (const quantity of [point.quantity, point.negativeQuantity]) {
      if (quantity !== undefined && unitExponent(quantity, point.unit) === undefined) {
        problems.push(`${at}: ${quantity} cannot be given in ${point.unit} (use ${sourceUnits(quantity).join(', ')})`);
      }
    }
  }
  if (points.size === 0 && problems.length === 0) problems.push('the register map is empty: choose a template or add registers');
  return { points: [...points.values()], problems };
}

export interface RegisterReadPlan {
  readonly holding: readonly RegisterRange[];
  readonly input: readonly RegisterRange[];
}

export function planRegisterReads(points: readonly RegisterPoint[], maxGap: number): RegisterReadPlan {
  const ranges = (fn: RegisterFunction) => points.filter((p) => p.function === fn).map((p) => ({ address: p.address, count: registerCount(p.type) }));
  return { holding: planReads(ranges('holding'), maxGap), input: planReads(ranges('input'), maxGap) };
}

/** Blocks read per function: address of the block → its registers. */
export interface RegisterBlocks {
  readonly holding: ReadonlyMap<number, ArrayLike<number>>;
  readonly input: ReadonlyMap<number, ArrayLike<number>>;
}

/** A power of ten as an exponent (0.01 → −2), or undefined for other multipliers. */
function decimalExponent(scale: number): number | undefined {
  const exponent = Math.round(Math.log10(Math.abs(scale)));
  return scale > 0 && Math.abs(exponent) <= 15 && Number(`1e${exponent}`) === scale ? exponent : undefined;
}

export function registerReadings(points: readonly RegisterPoint[], plan: RegisterReadPlan, blocks: RegisterBlocks, tsMs: number): { readings: TargetReading[]; absent: string[] } {
  const readings: TargetReading[] = [];
  const absent: string[] = [];
  for (const point of points) {
    const regs = registersFrom(blocks[point.function], plan[point.function], point.address, registerCount(point.type));
    const raw = regs === undefined ? undefined : decodeRegisters(regs, 0, point);
    const at = `${point.target}/${point.quantity}`;
    if (raw === undefined || (point.notImplemented !== undefined && regs !== undefined && notImplemented(regs, point))) {
      absent.push(at);
      continue;
    }
    const unitShift = unitExponent(point.quantity, point.unit) ?? 0;
    const scaleShift = decimalExponent(point.scale);
    const value = scaleShift === undefined ? scaleByPowerOfTen(raw * point.scale, unitShift) : scaleByPowerOfTen(raw, scaleShift + unitShift);
    if (point.negativeQuantity !== undefined) readings.push(...splitSigned(point.target, tsMs, value, point.quantity, point.negativeQuantity));
    else readings.push(targetReading(point.target, tsMs, point.quantity, value));
  }
  return { readings, absent };
}

function notImplemented(regs: readonly number[], point: RegisterPoint): boolean {
  // Compared on the unsigned raw registers, so 0x8000 means the same for int16 and uint16.
  const rawUnsigned = decodeRegisters(regs, 0, { ...point, type: point.type.startsWith('int') ? (`u${point.type}` as RegisterPoint['type']) : point.type });
  return rawUnsigned === point.notImplemented;
}
