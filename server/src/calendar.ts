import { createLocalClock, DAY_MS, type LocalClock } from './simulator/local-time.js';

/**
 * Days and months in a community's time zone as UTC instants. A local day is 92, 96 or 100
 * quarter hours long (DST), a month starts at local midnight of its first day.
 */
export type Resolution = '15m' | '1h' | '1d' | '1mo';

const QUARTER_MS = 900_000;
const HOUR_MS = 3_600_000;

/** Local calendar fields (UTC-based Date used as a plain calendar) of a UTC instant. */
function localDate(clock: LocalClock, utcMs: number): Date {
  return new Date(utcMs + clock.offsetMs(utcMs));
}

/** UTC instant of local midnight of the local day containing `utcMs`, shifted by `days`/`months`. */
function localMidnight(clock: LocalClock, utcMs: number, unit: 'day' | 'month', steps = 0): number {
  const d = localDate(clock, utcMs);
  const local = unit === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + steps)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + steps, 1);
  return clock.toUtc(local);
}

/** Start of the community's current month (UTC instant). */
export function currentMonthStart(timeZone: string, nowMs = Date.now()): number {
  return localMidnight(createLocalClock(timeZone), nowMs, 'month');
}

/** "2026-10" → [start, end) of that month in the zone, as UTC instants; undefined if not a month. */
export function monthRange(period: string, timeZone: string): { startMs: number; endMs: number } | undefined {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!match) return undefined;
  const clock = createLocalClock(timeZone);
  const year = Number(match[1]);
  const month = Number(match[2]) - 1;
  return { startMs: clock.toUtc(Date.UTC(year, month, 1)), endMs: clock.toUtc(Date.UTC(year, month + 1, 1)) };
}

/**
 * Bucket boundaries covering [fromMs, toMs): fixed 15-minute or 1-hour steps on UTC, local days
 * or local months. The first bucket starts at or before `fromMs` (aligned), the last ends at or
 * after `toMs`.
 */
export function bucketBoundaries(fromMs: number, toMs: number, resolution: Resolution, timeZone: string): number[] {
  const bounds: number[] = [];
  if (resolution === '15m' || resolution === '1h') {
    const step = resolution === '15m' ? QUARTER_MS : HOUR_MS;
    for (let t = Math.floor(fromMs / step) * step; ; t += step) {
      bounds.push(t);
      if (t >= toMs) break;
    }
    return bounds;
  }
  const clock = createLocalClock(timeZone);
  const unit = resolution === '1d' ? 'day' : 'month';
  let t = localMidnight(clock, fromMs, unit);
  bounds.push(t);
  while (t < toMs) {
    // From a point well inside the current bucket, so DST days never repeat or skip one.
    t = localMidnight(clock, t + (unit === 'day' ? DAY_MS / 2 : 15 * DAY_MS), unit, 1);
    bounds.push(t);
  }
  return bounds;
}
