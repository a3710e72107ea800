/**
 * The community's wall clock. People boil kettles at 7 o'clock local time, so load shapes are
 * written in local time; the offset comes from Intl, so DST changes happen on the right days.
 */

const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
/** Offsets are multiples of 15 minutes and change on quarter hours, so a change is found to the quarter hour. */
const BUCKET_MS = 15 * MINUTE_MS;

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
  // (found by bisection). Assumes at most one change per day, true of every zone in use.
  interface DayOffsets { readonly before: number; readonly after: number; readonly changeAt: number }
  const days = new Map<number, DayOffsets>();
  const offsetsOf = (d: number): DayOffsets => {
    const dayStart = d * DAY_MS;
    const buckets = DAY_MS / BUCKET_MS;
    const before = offsetAt(dayStart);
    const after = offsetAt(dayStart + (buckets - 1) * BUCKET_MS);
    if (before === after) return { before, after, changeAt: Number.POSITIVE_INFINITY };
    let lo = 0;
    let hi = buckets - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (offsetAt(dayStart + mid * BUCKET_MS) === before) lo = mid;
      else hi = mid;
    }
    return { before, after, changeAt: dayStart + hi * BUCKET_MS };
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
