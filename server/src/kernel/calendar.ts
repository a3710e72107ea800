import { BadRequestError } from './errors.js';
import { DAY_MS, HOUR_MS, isYearWithinDateRange, MINUTE_MS, QUARTER_HOUR_MS } from './time.js';

/**
 * A community's wall clock and calendar. People boil kettles at 7 o'clock local time and bills
 * run from local midnight, so days and months are local; the offset comes from Intl, so DST
 * changes happen on the right days. A local day is 92, 96 or 100 quarter hours long.
 */

export interface LocalTime {
  /** Local calendar day as days since 1970-01-01 (local). */
  readonly day: number;
  /** Minutes since local midnight, fractional, 0 ≤ minute < 1440 (on the fall-back day one hour comes twice). */
  readonly minute: number;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
}

export interface LocalClock {
  readonly timeZone: string;
  /** Local time minus UTC, in ms, at a UTC instant. */
  offsetMs(utcMs: number): number;
  local(utcMs: number): LocalTime;
  /** The UTC instant of a local wall-clock time (given as ms since 1970-01-01 local); in a spring-forward gap, the instant after it. */
  toUtc(localMs: number): number;
}

/** Throws a RangeError for a zone Intl does not know. */
export function createLocalClock(timeZone: string): LocalClock {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  const offsetAt = (utcMs: number): number => {
    const fields: Record<string, number> = {};
    for (const part of format.formatToParts(utcMs)) {
      if (part.type !== 'literal') fields[part.type] = Number(part.value);
    }
    const asUtc = Date.UTC(fields.year ?? 1970, (fields.month ?? 1) - 1, fields.day ?? 1, fields.hour ?? 0, fields.minute ?? 0, fields.second ?? 0);
    return asUtc - Math.floor(utcMs / 1000) * 1000;
  };

  // Intl is slow (~10 µs a call), so offsets are kept per UTC day: the offset at the day's first
  // and last quarter hour, and, on the rare day they differ, the quarter hour of the change
  // (found by bisection). Offsets are multiples of 15 minutes and change on quarter hours.
  // Assumes at most one change per day, true of every zone in use.
  interface DayOffsets { readonly before: number; readonly after: number; readonly changeAt: number }
  const days = new Map<number, DayOffsets>();
  const offsetsOf = (d: number): DayOffsets => {
    const dayStart = d * DAY_MS;
    const buckets = DAY_MS / QUARTER_HOUR_MS;
    const before = offsetAt(dayStart);
    const after = offsetAt(dayStart + (buckets - 1) * QUARTER_HOUR_MS);
    if (before === after) return { before, after, changeAt: Number.POSITIVE_INFINITY };
    let lo = 0;
    let hi = buckets - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (offsetAt(dayStart + mid * QUARTER_HOUR_MS) === before) lo = mid;
      else hi = mid;
    }
    return { before, after, changeAt: dayStart + hi * QUARTER_HOUR_MS };
  };
  let lastDay = Number.NaN;
  let last: DayOffsets = { before: 0, after: 0, changeAt: 0 };
  const offsetMs = (utcMs: number): number => {
    const d = Math.floor(utcMs / DAY_MS);
    if (d !== lastDay) {
      let entry = days.get(d);
      if (!entry) {
        // Callers move through time, touching a few neighbouring days: a small cache suffices.
        if (days.size >= 64) days.clear();
        entry = offsetsOf(d);
        days.set(d, entry);
      }
      lastDay = d;
      last = entry;
    }
    return utcMs < last.changeAt ? last.before : last.after;
  };

  return {
    timeZone,
    offsetMs,
    local(utcMs) {
      const localMs = utcMs + offsetMs(utcMs);
      const day = Math.floor(localMs / DAY_MS);
      return { day, minute: (localMs - day * DAY_MS) / MINUTE_MS, weekday: (((day + 4) % 7) + 7) % 7 };
    },
    toUtc(localMs) {
      // Two rounds settle on the offset valid at the result (one round is wrong near a change).
      const guess = localMs - offsetMs(localMs);
      return localMs - offsetMs(guess);
    },
  };
}

/** Resolutions of energy series: fixed 15-minute or 1-hour steps on UTC, local days, local months. */
export type Resolution = '15m' | '1h' | '1d' | '1mo';

/** Local calendar fields (UTC-based Date used as a plain calendar) of a UTC instant. */
function localDate(clock: LocalClock, utcMs: number): Date {
  return new Date(utcMs + clock.offsetMs(utcMs));
}

/** UTC instant of local midnight of the local day (or month) containing `utcMs`, shifted by `steps`. */
export function localMidnight(clock: LocalClock, utcMs: number, unit: 'day' | 'month', steps = 0): number {
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

/** "2026-10" → [start, end) of that month in the zone, as UTC instants; undefined if not a month (or outside the date range). */
export function monthRange(period: string, timeZone: string): { startMs: number; endMs: number } | undefined {
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(period);
  if (!match) return undefined;
  const year = Number(match[1]);
  if (!isYearWithinDateRange(year)) return undefined;
  const clock = createLocalClock(timeZone);
  const month = Number(match[2]) - 1;
  return { startMs: clock.toUtc(Date.UTC(year, month, 1)), endMs: clock.toUtc(Date.UTC(year, month + 1, 1)) };
}

/**
 * "2026-03-29" → [start, end) of that local day in the zone, as UTC instants (92, 96 or 100
 * quarter hours long); undefined if not a calendar date.
 */
export function dayRange(day: string, timeZone: string): { startMs: number; endMs: number } | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const [year, month, date] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
  const local = Date.UTC(year, month, date);
  if (new Date(local).getUTCMonth() !== month || new Date(local).getUTCDate() !== date) return undefined;
  const clock = createLocalClock(timeZone);
  return { startMs: clock.toUtc(local), endMs: clock.toUtc(Date.UTC(year, month, date + 1)) };
}

/** The local calendar day ("2026-03-29") containing a UTC instant. */
export function localDateOf(utcMs: number, clock: LocalClock): string {
  return localDate(clock, utcMs).toISOString().slice(0, 10);
}

/**
 * A UTC instant as ISO 8601 local time with the zone's offset there, to the second:
 * "2026-12-01T00:00:00+01:00". Unambiguous on the fall-back night, where the local hour repeats.
 */
export function localIsoString(utcMs: number, clock: LocalClock): string {
  const offsetMs = clock.offsetMs(utcMs);
  const minutes = Math.abs(offsetMs) / MINUTE_MS;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${localDate(clock, utcMs).toISOString().slice(0, 19)}${offsetMs < 0 ? '-' : '+'}${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
}

/**
 * Bucket boundaries covering [fromMs, toMs): fixed 15-minute or 1-hour steps on UTC, local days
 * or local months. The first bucket starts at or before `fromMs` (aligned), the last ends at or
 * after `toMs`.
 */
export function bucketBoundaries(fromMs: number, toMs: number, resolution: Resolution, timeZone: string): number[] {
  const bounds: number[] = [];
  if (resolution === '15m' || resolution === '1h') {
    const step = resolution === '15m' ? QUARTER_HOUR_MS : HOUR_MS;
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

/**
 * The boundaries of a range a caller asked for (query `from`, `to`): `to` must be after `from`
 * and the range at most `maxDays` long, else a 400 naming the field; aligned outwards to whole buckets.
 */
export function requestedBucketBoundaries(from: string, to: string, resolution: Resolution, timeZone: string, maxDays: number): number[] {
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  if (!(toMs > fromMs)) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
  if (toMs - fromMs > maxDays * DAY_MS) {
    throw new BadRequestError(`querystring/to: at most ${maxDays} days at resolution ${resolution}`, 'querystring/to');
  }
  return bucketBoundaries(fromMs, toMs, resolution, timeZone);
}
