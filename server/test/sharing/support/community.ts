/**
 * Test helpers: random communities for fast-check, matrices from plain arrays, and reference
 * implementations written independently of the engine (plain BigInt arithmetic, full sorts),
 * used as oracles.
 */
import fc from 'fast-check';
import { createMatrix, weightShares, type AllocationResult, type IntervalMatrix, type ShareSchedule } from '../../../src/sharing/domain/allocation/index.js';

import { HOUR_MS, QUARTER_HOUR_MS } from '../../../src/kernel/time.js';
export const BASE_MS = Date.UTC(2025, 5, 1, 10, 0);

/** A community as plain arrays: rows = intervals, columns = members. */
export interface Community {
  readonly imports: number[][];
  readonly exports: number[][];
  /** Share weights per member (whole numbers) and their denominator (≥ Σ weights). */
  readonly weights: number[];
  readonly denominator: number;
  /** Index of the first interval's quarter within its hour (0..3), to vary hour alignment. */
  readonly offset: number;
}

/** Energy values: many zeros, small values (ties, rounding), and a few large ones. */
export const energy = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 20 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
);

export function community(options: { maxMembers?: number; maxIntervals?: number; maxValue?: fc.Arbitrary<number> } = {}): fc.Arbitrary<Community> {
  const maxMembers = options.maxMembers ?? 7;
  const maxIntervals = options.maxIntervals ?? 6;
  const value = options.maxValue ?? energy;
  return fc.record({
    n: fc.integer({ min: 1, max: maxMembers }),
    t: fc.integer({ min: 1, max: maxIntervals }),
    offset: fc.integer({ min: 0, max: 3 }),
    spare: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 })),
    seed: fc.array(fc.tuple(value, value), { minLength: maxMembers * maxIntervals, maxLength: maxMembers * maxIntervals }),
    w: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 1000 })), { minLength: maxMembers, maxLength: maxMembers }),
  }).map(({ n, t, offset, spare, seed, w }) => {
    const imports: number[][] = [];
    const exports: number[][] = [];
    for (let r = 0; r < t; r++) {
      imports.push(Array.from({ length: n }, (_, i) => seed[r * maxMembers + i]![0]));
      exports.push(Array.from({ length: n }, (_, i) => seed[r * maxMembers + i]![1]));
    }
    const weights = w.slice(0, n);
    const sum = weights.reduce((a, b) => a + b, 0);
    return { imports, exports, weights, denominator: Math.max(1, sum + spare), offset };
  });
}

export function toMatrix(c: Pick<Community, 'imports' | 'exports'> & { offset?: number }): IntervalMatrix {
  const T = c.imports.length;
  const n = c.imports[0]?.length ?? 0;
  const start = BASE_MS + (c.offset ?? 0) * QUARTER_HOUR_MS;
  const m = createMatrix(Array.from({ length: n }, (_, i) => `m${i}`), Float64Array.from({ length: T }, (_, t) => start + t * QUARTER_HOUR_MS));
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      m.importWh[t * n + i] = c.imports[t]![i]!;
      m.exportWh[t * n + i] = c.exports[t]![i]!;
    }
  }
  return m;
}

export function sharesOf(c: Community): ShareSchedule {
  return weightShares(c.weights, c.denominator);
}

/** Result as rows × members arrays. */
export function rows(result: AllocationResult): { from: number[][]; to: number[][] } {
  const n = result.members;
  const from: number[][] = [];
  const to: number[][] = [];
  for (let t = 0; t < result.intervals; t++) {
    from.push(Array.from(result.fromCommunityWh.subarray(t * n, (t + 1) * n)));
    to.push(Array.from(result.toCommunityWh.subarray(t * n, (t + 1) * n)));
  }
  return { from, to };
}

export const sum = (a: readonly number[]): number => a.reduce((s, v) => s + v, 0);

/**
 * Reference largest remainder, straight from the definition: floors by BigInt division,
 * leftover units to the largest remainders; ties to the smaller (base + floor), then the lower
 * index. Weights of 0 take no part.
 */
export function referenceLargestRemainder(total: number, weights: readonly number[], base: readonly number[] = weights.map(() => 0)): number[] {
  const W = weights.reduce((s, w) => s + BigInt(w), 0n);
  if (total === 0) return weights.map(() => 0);
  if (W === 0n) throw new Error('no weights');
  const T = BigInt(total);
  const floors = weights.map((w) => (T * BigInt(w)) / W);
  const rems = weights.map((w) => (T * BigInt(w)) % W);
  let left = Number(T - floors.reduce((s, f) => s + f, 0n));
  const order = weights.map((_, i) => i).filter((i) => weights[i]! > 0).sort((a, b) => {
    if (rems[a] !== rems[b]) return rems[a]! > rems[b]! ? -1 : 1;
    return (base[a]! + Number(floors[a]!)) - (base[b]! + Number(floors[b]!)) || a - b;
  });
  const out = floors.map(Number);
  for (const i of order) {
    if (left === 0) break;
    out[i]! += 1;
    left -= 1;
  }
  return out;
}

/**
 * Reference water-filling in exact rationals: repeatedly give the remaining supply away in
 * proportion to weights, capped, exactly as the rule text says; returns the real-valued
 * allocation (as numbers, for closeness checks).
 */
export function referenceWaterFill(supply: number, caps: readonly number[], weights: readonly number[]): number[] {
  const alloc = caps.map(() => 0);
  let left = supply;
  let active = caps.map((_, i) => i).filter((i) => weights[i]! > 0 && caps[i]! > 0);
  for (let round = 0; round < 1000 && left > 1e-9 && active.length > 0; round++) {
    const W = sum(active.map((i) => weights[i]!));
    let given = 0;
    const next: number[] = [];
    for (const i of active) {
      const share = (left * weights[i]!) / W;
      const room = caps[i]! - alloc[i]!;
      const take = Math.min(room, share);
      alloc[i]! += take;
      given += take;
      if (caps[i]! - alloc[i]! > 1e-9) next.push(i);
    }
    left -= given;
    active = next;
  }
  return alloc;
}

/** Groups interval indices by UTC hour. */
export function hourGroups(m: IntervalMatrix): number[][] {
  const groups: number[][] = [];
  let last = NaN;
  for (let t = 0; t < m.intervalStartMs.length; t++) {
    const h = Math.floor(m.intervalStartMs[t]! / HOUR_MS);
    if (h !== last) groups.push([]);
    groups[groups.length - 1]!.push(t);
    last = h;
  }
  return groups;
}
