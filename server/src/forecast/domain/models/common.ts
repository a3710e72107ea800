import { DAY_MS } from '../../../kernel/time.js';
import { DAY_TYPES, type ForecastCalendar } from '../calendar.js';
import type { SeriesKind } from '../model.js';
import { knownDays, type Series } from '../series.js';

/**
 * "The same time k days ago". Households live by the wall clock, so load and heat look back in
 * local time (across a DST change 07:00 stays 07:00); the sun keeps UTC time, so PV looks back
 * exactly k·24 h.
 */
export function daysBack(kind: SeriesKind, calendar: ForecastCalendar, utcMs: number, days: number): number {
  return kind === 'pv' ? utcMs - days * DAY_MS : calendar.shiftLocalDays(utcMs, days);
}

/** The reason a model needing `days` of history cannot run, or undefined. */
export function lacksHistory(series: Series, atMs: number, days: number): string | undefined {
  const have = knownDays(series, atMs);
  return have + 1e-9 < days ? `needs ${days} day(s) of history, has ${have.toFixed(1)}` : undefined;
}

/** Day type × harmonics of the local time of day; shared by every series of a calendar. */
const calendarCache = new WeakMap<ForecastCalendar, Map<number, Float64Array>>();
const HARMONICS = 3;
const CALENDAR_CACHE_LIMIT = 50_000;

export function calendarFeatures(calendar: ForecastCalendar, t: number): Float64Array {
  let cache = calendarCache.get(calendar);
  if (!cache) calendarCache.set(calendar, (cache = new Map()));
  let row = cache.get(t);
  if (row) return row;
  row = new Float64Array(DAY_TYPES.length * (1 + 2 * HARMONICS));
  const local = calendar.clock.local(t);
  const type = DAY_TYPES.indexOf(calendar.dayType(local.day));
  const at = type * (1 + 2 * HARMONICS);
  row[at] = 1;
  for (let h = 1; h <= HARMONICS; h++) {
    const angle = (2 * Math.PI * h * local.minute) / 1440;
    row[at + 2 * h - 1] = Math.sin(angle);
    row[at + 2 * h] = Math.cos(angle);
  }
  if (cache.size >= CALENDAR_CACHE_LIMIT) cache.clear();
  cache.set(t, row);
  return row;
}

