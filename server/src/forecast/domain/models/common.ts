import { DAY_MS } from '../../../kernel/time.js';
import { DAY_TYPES, type ForecastCalendar } from '../calendar.js';
import type { SeriesKind } from '../model.js';
import { knownDays, type Series } from '../series.js';

/** How far back models look for the same time of day. */
export const MAX_LOOKBACK_DAYS = 56;

/**
 * The same time of day on each of the last MAX_LOOKBACK_DAYS days (`times[b - 1]` is b days back)
 * and whether that day has the target's day type. Every series of a community asks for the same
 * target times, so the answers are kept per calendar.
 */
export interface Lookback {
  readonly times: Float64Array;
  readonly sameType: Uint8Array;
}

const lookbackCache = new WeakMap<ForecastCalendar, Map<number, Lookback>>();
const LOOKBACK_CACHE_LIMIT = 60_000;

export function lookback(kind: SeriesKind, calendar: ForecastCalendar, t: number): Lookback {
  let cache = lookbackCache.get(calendar);
  if (!cache) lookbackCache.set(calendar, (cache = new Map()));
  // PV (UTC alignment) and the rest (local alignment) under different keys: t is a multiple of a minute, so t + 1 is free.
  const key = kind === 'pv' ? t + 1 : t;
  let entry = cache.get(key);
  if (entry) return entry;
  const times = new Float64Array(MAX_LOOKBACK_DAYS);
  const sameType = new Uint8Array(MAX_LOOKBACK_DAYS);
  const local = t + calendar.clock.offsetMs(t);
  const day = Math.floor(local / DAY_MS);
  const type = calendar.dayType(day);
  for (let b = 1; b <= MAX_LOOKBACK_DAYS; b++) {
    // As daysBack, with the local time computed once: b local days back is local day − b.
    times[b - 1] = kind === 'pv' ? t - b * DAY_MS : calendar.clock.toUtc(local - b * DAY_MS);
    sameType[b - 1] = kind === 'pv' || calendar.dayType(day - b) === type ? 1 : 0;
  }
  entry = { times, sameType };
  if (cache.size >= LOOKBACK_CACHE_LIMIT) cache.clear();
  cache.set(key, entry);
  return entry;
}

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
export const CALENDAR_FEATURES = DAY_TYPES.length * (1 + 2 * HARMONICS);
const CALENDAR_CACHE_LIMIT = 50_000;

export function calendarFeatures(calendar: ForecastCalendar, t: number): Float64Array {
  let cache = calendarCache.get(calendar);
  if (!cache) calendarCache.set(calendar, (cache = new Map()));
  let row = cache.get(t);
  if (row) return row;
  row = new Float64Array(CALENDAR_FEATURES);
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

