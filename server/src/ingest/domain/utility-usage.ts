/**
 * Gas, water and heat used per bucket, from the registers of a site's meters. Pure: readings in,
 * whole units out.
 *
 * A meter reports a counter (m³ or Wh), often far less often than a bucket is long (a water meter
 * once a day, a heat meter every hour). The counter's value at a bucket boundary is interpolated
 * linearly between the readings either side and rounded once to a whole unit (a litre, a Wh);
 * a bucket's usage is its end value minus its start value. Each boundary value is computed once,
 * so the buckets add up exactly to the difference between the first and the last reading. A
 * stretch no two readings bracket is unknown (`null`), never zero.
 */

export const UTILITY_QUANTITIES = ['gas.volume', 'water.volume', 'heat.energy'] as const;
export type UtilityQuantity = (typeof UTILITY_QUANTITIES)[number];

/** Volumes are counted in litres (meters resolve 0.001 m³), heat in Wh: whole numbers either way. */
export const UTILITY_UNITS: Readonly<Record<UtilityQuantity, 'L' | 'Wh'>> = { 'gas.volume': 'L', 'water.volume': 'L', 'heat.energy': 'Wh' };
const WHOLE_UNITS_PER_REGISTER_UNIT: Readonly<Record<UtilityQuantity, number>> = { 'gas.volume': 1000, 'water.volume': 1000, 'heat.energy': 1 };

export function isUtilityQuantity(quantity: string): quantity is UtilityQuantity {
  return (UTILITY_QUANTITIES as readonly string[]).includes(quantity);
}

export interface RegisterReading {
  readonly deviceId: string;
  readonly quantity: UtilityQuantity;
  readonly ts: number;
  /** In the quantity's register unit (m³ or Wh). */
  readonly value: number;
}

export interface UsageBucket {
  readonly start: number;
  readonly end: number;
  /** Whole litres or Wh; null where no meter's readings bracket any part of the bucket. */
  readonly amount: number | null;
  /** Every meter reporting the quantity has readings on both sides of the whole bucket. */
  readonly complete: boolean;
}

export interface UtilityUsage {
  readonly quantity: UtilityQuantity;
  readonly unit: 'L' | 'Wh';
  readonly buckets: readonly UsageBucket[];
  /** The sum of the known buckets. */
  readonly total: number;
}

interface Point { readonly ts: number; readonly whole: number; readonly value: number }

/**
 * A meter's readings split where the register went down: the writer refuses a register that
 * runs backwards unless a meter exchange was recorded, so a drop in stored readings is a new meter,
 * and what was used between the old meter's last reading and the new one's first is unknown.
 */
function segmentsOf(readings: readonly RegisterReading[], scale: number): Point[][] {
  const segments: Point[][] = [];
  let current: Point[] = [];
  for (const reading of readings) {
    const previous = current[current.length - 1];
    if (previous && reading.ts === previous.ts) continue;
    if (previous && reading.value < previous.value) {
      segments.push(current);
      current = [];
    }
    current.push({ ts: reading.ts, value: reading.value, whole: Math.round(reading.value * scale) });
  }
  if (current.length > 0) segments.push(current);
  return segments.filter((segment) => segment.length > 1);
}

/**
 * The register of a segment in whole units at instants asked in ascending order (the bucket
 * boundaries are): exact at a reading, interpolated between two. The cursor only moves forward,
 * so a long range costs one pass over the readings, not one per bucket.
 */
function registerCursor(segment: readonly Point[], scale: number): (ts: number) => number {
  let i = 0;
  return (ts) => {
    while (i + 1 < segment.length && segment[i + 1]!.ts <= ts) i++;
    const before = segment[i]!;
    if (before.ts === ts || i + 1 === segment.length) return before.whole;
    const after = segment[i + 1]!;
    return Math.round((before.value + ((after.value - before.value) * (ts - before.ts)) / (after.ts - before.ts)) * scale);
  };
}

/**
 * The usage of each quantity the readings hold, per bucket between consecutive `bounds`
 * (ascending instants). Readings may come in any order and from several meters of the same
 * quantity (their usage is added up); readings outside the bounds help to interpolate the edges.
 */
export function utilityUsage(readings: readonly RegisterReading[], bounds: readonly number[]): UtilityUsage[] {
  const byQuantity = new Map<UtilityQuantity, Map<string, RegisterReading[]>>();
  for (const reading of readings) {
    if (!Number.isFinite(reading.value) || !Number.isFinite(reading.ts)) continue;
    const devices = byQuantity.get(reading.quantity) ?? new Map<string, RegisterReading[]>();
    byQuantity.set(reading.quantity, devices);
    const own = devices.get(reading.deviceId);
    if (own) own.push(reading);
    else devices.set(reading.deviceId, [reading]);
  }
  return UTILITY_QUANTITIES.filter((quantity) => byQuantity.has(quantity)).map((quantity) => {
    const scale = WHOLE_UNITS_PER_REGISTER_UNIT[quantity];
    const meters = [...byQuantity.get(quantity)!.values()].map((own) =>
      segmentsOf(own.sort((a, b) => a.ts - b.ts), scale).map((segment) => ({ first: segment[0]!.ts, last: segment[segment.length - 1]!.ts, wholeAt: registerCursor(segment, scale) })));
    const buckets: UsageBucket[] = [];
    for (let b = 0; b + 1 < bounds.length; b++) {
      const start = bounds[b]!;
      const end = bounds[b + 1]!;
      let amount: number | null = null;
      let complete = true;
      for (const segments of meters) {
        let coversAll = false;
        for (const segment of segments) {
          const from = Math.max(start, segment.first);
          const to = Math.min(end, segment.last);
          if (from >= to) continue;
          amount = (amount ?? 0) - segment.wholeAt(from) + segment.wholeAt(to);
          coversAll ||= from === start && to === end;
        }
        complete &&= coversAll;
      }
      buckets.push({ start, end, amount, complete: amount !== null && complete });
    }
    return { quantity, unit: UTILITY_UNITS[quantity], buckets, total: buckets.reduce((sum, bucket) => sum + (bucket.amount ?? 0), 0) };
  });
}
