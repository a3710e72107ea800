import { AllocationInputError, type ShareSchedule, type ShareVector } from './types.js';

/**
 * Shares and coefficients arrive as decimal fractions ("0.25", Spanish "0,250000"). They are
 * kept as exact fixed-point numbers (units / 10^decimals) so the engine never rounds a share:
 * the rounding happens once, in whole Wh, by largest remainder.
 */
export interface Fraction {
  readonly units: number;
  readonly decimals: number;
}

/** Up to 9 decimals keeps units · 10^k and Wh · weight products far inside exact doubles. */
export const MAX_SHARE_DECIMALS = 9;

const DECIMAL = /^(\d+)(?:[.,](\d+))?$/;

/** Parses "0.25", "0,25", "1" (not signs, exponents or percent); undefined if not a decimal. */
export function parseDecimal(text: string): Fraction | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match) return undefined;
  const whole = match[1]!;
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > MAX_SHARE_DECIMALS || whole.length > 6) return undefined;
  return { units: Number(whole + fraction), decimals: fraction.length };
}

export function fractionToNumber(f: Fraction): number {
  return f.units / 10 ** f.decimals;
}

/** Compares Σ fractions with 1 exactly. */
export function sumExceedsOne(fractions: Iterable<Fraction>): boolean {
  let decimals = 0;
  const list = [...fractions];
  for (const f of list) decimals = Math.max(decimals, f.decimals);
  let sum = 0;
  for (const f of list) sum += f.units * 10 ** (decimals - f.decimals);
  return sum > 10 ** decimals;
}

/**
 * Shares by member id: one key for all intervals (`periodMs` undefined) or one key per period
 * of `periodMs` (hourly coefficients), indexed by floor(startMs / periodMs).
 */
export interface ShareTable {
  readonly periodMs: number | undefined;
  readonly periods: ReadonlyMap<number, ReadonlyMap<string, Fraction>>;
  readonly memberIds: ReadonlySet<string>;
}

/** The constant-key period index. */
export const CONSTANT_PERIOD = 0;

/**
 * Aligns a share table with the members of an input. Members of the table that have no rows
 * in the input keep their share (it is nobody's in this run, so it goes to the grid under
 * `static`); input members missing from the table have share 0.
 */
export function bindShares(table: ShareTable, memberIds: readonly string[]): ShareSchedule {
  const n = memberIds.length;
  const index = new Map<string, number>();
  memberIds.forEach((id, i) => index.set(id, i));
  let decimals = 0;
  for (const period of table.periods.values()) for (const f of period.values()) decimals = Math.max(decimals, f.decimals);
  const denominator = 10 ** decimals;
  const vectors = new Map<number, ShareVector>();
  for (const [key, period] of table.periods) {
    const weights = new Float64Array(n);
    let total = 0;
    let all = 0;
    for (const [id, f] of period) {
      const w = f.units * 10 ** (decimals - f.decimals);
      all += w;
      const i = index.get(id);
      if (i !== undefined) { weights[i] = w; total += w; }
    }
    if (all > denominator) throw new AllocationInputError(`shares of period ${key} add up to more than 1`);
    vectors.set(key, { weights, total, denominator });
  }
  const periodMs = table.periodMs;
  if (periodMs === undefined) {
    const vector = vectors.get(CONSTANT_PERIOD) ?? { weights: new Float64Array(n), total: 0, denominator };
    return { members: n, vectorFor: () => vector };
  }
  return { members: n, vectorFor: (startMs) => vectors.get(Math.floor(startMs / periodMs)) };
}

/** A constant key from plain numbers (tests, API callers): `shares[i]` of production to member i. */
export function constantShares(shares: readonly number[], decimals = 6): ShareSchedule {
  const denominator = 10 ** decimals;
  const weights = Float64Array.from(shares, (s) => Math.round(s * denominator));
  const total = weights.reduce((a, b) => a + b, 0);
  if (weights.some((w) => w < 0)) throw new AllocationInputError('shares must not be negative');
  if (total > denominator) throw new AllocationInputError('shares add up to more than 1');
  const vector: ShareVector = { weights, total, denominator };
  return { members: shares.length, vectorFor: () => vector };
}

/** A key given directly as whole-number weights out of `denominator`. */
export function weightShares(weights: readonly number[], denominator: number): ShareSchedule {
  const w = Float64Array.from(weights);
  const total = w.reduce((a, b) => a + b, 0);
  if (w.some((x) => x < 0 || !Number.isInteger(x))) throw new AllocationInputError('share weights must be whole numbers ≥ 0');
  if (total > denominator) throw new AllocationInputError('share weights add up to more than the denominator');
  const vector: ShareVector = { weights: w, total, denominator };
  return { members: weights.length, vectorFor: () => vector };
}

/** Parses a shares file: header `member_id,share`, one decimal fraction per member, Σ ≤ 1. */
export function parseSharesCsv(text: string): ShareTable {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').replace(/^\uFEFF/, '').trim().toLowerCase();
  if (header.replace(/\s/g, '') !== 'member_id,share') {
    throw new AllocationInputError('shares file must start with the header "member_id,share"', 1);
  }
  const shares = new Map<string, Fraction>();
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k]!.trim();
    if (line === '') continue;
    const fields = line.split(',');
    if (fields.length !== 2) throw new AllocationInputError(`expected 2 fields (member_id,share), found ${fields.length}`, k + 1);
    const id = fields[0]!.trim();
    if (id === '') throw new AllocationInputError('member_id is empty', k + 1);
    const share = parseDecimal(fields[1]!);
    if (!share) throw new AllocationInputError(`share "${fields[1]}" is not a decimal number like 0.25`, k + 1);
    if (share.units > 10 ** share.decimals) throw new AllocationInputError(`share ${fields[1]} is more than 1`, k + 1);
    if (shares.has(id)) throw new AllocationInputError(`member ${id} appears twice`, k + 1);
    shares.set(id, share);
  }
  if (shares.size === 0) throw new AllocationInputError('shares file has no members');
  if (sumExceedsOne(shares.values())) throw new AllocationInputError('shares add up to more than 1');
  return { periodMs: undefined, periods: new Map([[CONSTANT_PERIOD, shares]]), memberIds: new Set(shares.keys()) };
}
