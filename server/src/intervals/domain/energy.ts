/**
 * Quarter-hour energy from meter data: pure functions over plain arrays.
 *
 * From a cumulative register, the register value at each UTC quarter-hour boundary is
 * interpolated linearly between the readings around it and rounded once to whole Wh; the
 * energy of an interval is the difference of its two boundary values. Because every boundary
 * is rounded once and shared by its two intervals, consecutive intervals always add up exactly
 * to the register difference between the outer boundaries.
 */
import { QUARTER_HOUR_MS, ceilToQuarterHour, floorToQuarterHour } from '../../kernel/time.js';
import type { Quality } from '../../kernel/energy.js';

export interface Sample {
  /** UTC instant, ms since the epoch. */
  readonly ts: number;
  readonly value: number;
}

export interface IntervalEnergy {
  readonly start: number;
  /** Null when missing: a gap is never a silent zero. */
  readonly wh: number | null;
  readonly quality: Quality;
}

export interface EnergyOptions {
  /**
   * Boundaries interpolated between readings at most this far apart count as measured: a
   * reader sending every few seconds, or every 15 minutes, gives values accurate to the Wh.
   */
  readonly measuredGapMs?: number;
  /** Up to this gap the energy is spread linearly over the gap and marked estimated; beyond, missing. */
  readonly estimatedGapMs?: number;
  /** Meter exchanges: a register is never differenced across one. */
  readonly exchanges?: readonly number[];
}

const DEFAULTS = { measuredGapMs: QUARTER_HOUR_MS, estimatedGapMs: 24 * 3_600_000 };

export const floorToInterval = floorToQuarterHour;
export const ceilToInterval = ceilToQuarterHour;

/** Sorted by time, one sample per instant (the first given wins, as the database keeps the first stored). */
export function normaliseSamples(samples: readonly Sample[]): Sample[] {
  const sorted = [...samples].sort((a, b) => a.ts - b.ts);
  const out: Sample[] = [];
  for (const sample of sorted) {
    if (out.length > 0 && out[out.length - 1]!.ts === sample.ts) continue;
    out.push(sample);
  }
  return out;
}

interface Boundary {
  readonly value: number | null;
  readonly gap: number;
}

function crossesExchange(exchanges: readonly number[], from: number, to: number): boolean {
  return exchanges.some((x) => x > from && x <= to);
}

/** Register value at each boundary `from, from+15', …, to` (inclusive). */
function boundaries(samples: readonly Sample[], from: number, to: number, exchanges: readonly number[], estimatedGapMs: number): Boundary[] {
  const out: Boundary[] = [];
  let j = 0; // first sample with ts >= boundary
  for (let b = from; b <= to; b += QUARTER_HOUR_MS) {
    while (j < samples.length && samples[j]!.ts < b) j++;
    const next = samples[j];
    if (next && next.ts === b) {
      out.push({ value: Math.round(next.value), gap: 0 });
      continue;
    }
    const prev = j > 0 ? samples[j - 1] : undefined;
    if (!prev || !next || next.ts - prev.ts > estimatedGapMs || crossesExchange(exchanges, prev.ts, next.ts)) {
      out.push({ value: null, gap: Infinity });
      continue;
    }
    const value = prev.value + ((next.value - prev.value) * (b - prev.ts)) / (next.ts - prev.ts);
    out.push({ value: Math.round(value), gap: next.ts - prev.ts });
  }
  return out;
}

/**
 * Energy per interval from a cumulative register, for the intervals starting in [from, to).
 * Intervals containing a meter exchange add the energy measured on each side of it when both
 * sides are bracketed, and are marked estimated (the energy around the exchange is not metered).
 */
export function energyFromRegister(input: readonly Sample[], from: number, to: number, options: EnergyOptions = {}): IntervalEnergy[] {
  const { measuredGapMs, estimatedGapMs } = { ...DEFAULTS, ...options };
  const exchanges = options.exchanges ?? [];
  const samples = normaliseSamples(input);
  const start = floorToInterval(from);
  const bounds = boundaries(samples, start, ceilToInterval(to), exchanges, estimatedGapMs);
  const out: IntervalEnergy[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const intervalStart = start + i * QUARTER_HOUR_MS;
    const a = bounds[i]!;
    const b = bounds[i + 1]!;
    const exchange = exchanges.find((x) => x > intervalStart && x <= intervalStart + QUARTER_HOUR_MS);
    if (exchange !== undefined) {
      out.push(acrossExchange(samples, intervalStart, exchange, a, b));
      continue;
    }
    if (a.value === null || b.value === null) {
      out.push({ start: intervalStart, wh: null, quality: 'missing' });
      continue;
    }
    const wh = Math.max(0, b.value - a.value);
    const quality: Quality = a.gap <= measuredGapMs && b.gap <= measuredGapMs ? 'measured' : 'estimated';
    out.push({ start: intervalStart, wh, quality });
  }
  return out;
}

function acrossExchange(samples: readonly Sample[], start: number, exchange: number, a: Boundary, b: Boundary): IntervalEnergy {
  const lastOld = [...samples].reverse().find((s) => s.ts < exchange && s.ts >= start);
  const firstNew = samples.find((s) => s.ts >= exchange && s.ts <= start + QUARTER_HOUR_MS);
  if (a.value === null || b.value === null || !lastOld || !firstNew) return { start, wh: null, quality: 'missing' };
  return { start, wh: Math.max(0, Math.round(lastOld.value) - a.value) + Math.max(0, b.value - Math.round(firstNew.value)), quality: 'estimated' };
}

/**
 * Energy per interval from power samples (W) when no register exists: trapezoids between
 * consecutive samples no more than `maxGapMs` apart, split at the boundaries. An interval
 * fully covered is measured; one at least half covered is scaled up and estimated; else missing.
 */
export function energyFromPower(input: readonly Sample[], from: number, to: number, maxGapMs = 5 * 60_000): IntervalEnergy[] {
  const samples = normaliseSamples(input);
  const start = floorToInterval(from);
  const count = Math.max(0, Math.ceil((to - start) / QUARTER_HOUR_MS));
  const wattMs = new Float64Array(count);
  const covered = new Float64Array(count);
  for (let k = 0; k + 1 < samples.length; k++) {
    const p = samples[k]!;
    const q = samples[k + 1]!;
    if (q.ts - p.ts > maxGapMs) continue;
    let t = Math.max(p.ts, start);
    const end = Math.min(q.ts, start + count * QUARTER_HOUR_MS);
    while (t < end) {
      const index = Math.floor((t - start) / QUARTER_HOUR_MS);
      const pieceEnd = Math.min(end, start + (index + 1) * QUARTER_HOUR_MS);
      const at = (x: number) => p.value + ((q.value - p.value) * (x - p.ts)) / (q.ts - p.ts);
      wattMs[index]! += ((at(t) + at(pieceEnd)) / 2) * (pieceEnd - t);
      covered[index]! += pieceEnd - t;
      t = pieceEnd;
    }
  }
  const out: IntervalEnergy[] = [];
  for (let i = 0; i < count; i++) {
    const share = covered[i]! / QUARTER_HOUR_MS;
    const wh = wattMs[i]! / 3_600_000;
    if (share >= 0.999) out.push({ start: start + i * QUARTER_HOUR_MS, wh: Math.round(wh), quality: 'measured' });
    else if (share >= 0.5) out.push({ start: start + i * QUARTER_HOUR_MS, wh: Math.round(wh / share), quality: 'estimated' });
    else out.push({ start: start + i * QUARTER_HOUR_MS, wh: null, quality: 'missing' });
  }
  return out;
}
