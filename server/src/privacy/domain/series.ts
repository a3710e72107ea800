import { bucketBoundaries, type Resolution } from '../../kernel/calendar.js';
import { worst, type Quality } from '../../kernel/energy.js';
import { QUARTER_HOUR_MS } from '../../kernel/time.js';
import type { Grant } from './consent.js';
import { coarser } from './scope.js';

/**
 * Cuts a metering point's quarter-hour series down to what a grant allows: its period, its
 * resolution (never finer), and only buckets that can no longer change. A bucket still filling
 * (today, for a daily grant) or with a quarter hour missing is never shown with a value: read
 * again later, the difference between two answers would be the finer data the grant withholds.
 */

/** One quarter hour of one quantity; `wh: null` when missing. */
export interface QuarterPoint {
  readonly startMs: number;
  readonly wh: number | null;
  readonly quality: Quality;
}

export interface ReducedPoint {
  readonly startMs: number;
  readonly endMs: number;
  /** Σ Wh of the bucket's quarter hours; null when any of them is missing. */
  readonly wh: number | null;
  readonly quality: Quality;
}

export interface Reduction {
  readonly grant: Grant;
  /** The resolution asked for; the answer is at the coarser of it and the grant's. */
  readonly resolution: Resolution;
  /** The data window asked for; clipped to the grant's period. */
  readonly window: { readonly fromMs: number; readonly toMs: number };
  /** The community's zone: days and months are local. */
  readonly timeZone: string;
  /** Data before this instant is final (e.g. the interval job's watermark, at most now). */
  readonly completeBefore: number;
}

/**
 * The buckets lying wholly inside the window ∩ the grant's period and before `completeBefore`,
 * at the coarser of the requested and granted resolutions. `points` are ascending quarter hours
 * (others are ignored: outside the window or the grant, they are never read).
 */
export function reduceToGrant(points: Iterable<QuarterPoint>, reduction: Reduction): ReducedPoint[] {
  const { grant, window, timeZone, completeBefore } = reduction;
  const resolution = coarser(reduction.resolution, grant.scope.resolution);
  const fromMs = Math.max(window.fromMs, grant.scope.period.fromMs);
  const toMs = Math.min(window.toMs, grant.scope.period.toMs ?? Number.POSITIVE_INFINITY, completeBefore);
  if (!(fromMs < toMs)) return [];
  const bounds = bucketBoundaries(fromMs, toMs, resolution, timeZone);
  // Whole buckets only: a bucket cut by the window's edge would be finer data.
  const first = bounds.findIndex((b) => b >= fromMs);
  let last = bounds.length - 1;
  while (last > first && bounds[last]! > toMs) last--;
  if (first < 0 || last <= first) return [];

  const out: ReducedPoint[] = [];
  let bucket = first;
  let sum = 0;
  let seen = 0;
  let quality: Quality = 'measured';
  let missing = false;
  let previous = Number.NEGATIVE_INFINITY;
  const close = () => {
    const startMs = bounds[bucket]!;
    const endMs = bounds[bucket + 1]!;
    const complete = !missing && seen === (endMs - startMs) / QUARTER_HOUR_MS;
    out.push({ startMs, endMs, wh: complete ? sum : null, quality: complete ? quality : 'missing' });
    sum = 0;
    seen = 0;
    quality = 'measured';
    missing = false;
    bucket++;
  };
  for (const point of points) {
    if (point.startMs % QUARTER_HOUR_MS !== 0) throw new RangeError(`series point at ${point.startMs} is not on a quarter hour`);
    if (point.startMs <= previous) throw new RangeError('series points must be ascending quarter hours without repeats');
    previous = point.startMs;
    if (point.startMs < bounds[first]!) continue;
    while (bucket < last && point.startMs >= bounds[bucket + 1]!) close();
    if (bucket >= last) break;
    seen++;
    if (point.wh === null || point.quality === 'missing') missing = true;
    else {
      if (!Number.isSafeInteger(point.wh) || point.wh < 0) throw new RangeError(`series point at ${point.startMs} is not whole non-negative Wh: ${point.wh}`);
      sum += point.wh;
      quality = worst(quality, point.quality);
    }
  }
  while (bucket < last) close();
  return out;
}
