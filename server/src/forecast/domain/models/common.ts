import { DAY_MS } from '../../../kernel/time.js';
import { DAY_TYPES, type ForecastCalendar } from '../calendar.js';
import { sharedMemo } from '../memo.js';
import type { SeriesKind } from '../model.js';
import { knownDays, type Series } from '../series.js';

/** How far back models look for the same time of day. */
export const MAX_LOOKBACK_DAYS = 56;

/**
 * The same time of day on each of the last MAX_LOOKBACK_DAYS days (`times[b - 1]` is b days back)
 * and whether that day has the target's day type. Households live by the wall clock, so load and
 * heat look back in local time (across a DST change 07:00 stays 07:00); the sun keeps UTC time,
 * so PV looks back exactly b·24 h. Every series of a community asks for the same target times,
 * so the answers are kept per calendar.
 */
export interface Lookback {
  readonly times: Float64Array;
  readonly sameType: Uint8Array;
}

const lookbackMemo = sharedMemo<ForecastCalendar, Lookback>(60_000);

export function lookback(kind: SeriesKind, calendar: ForecastCalendar, t: number): Lookback {
  // PV (UTC alignment) and the rest (local alignment) under different keys.
  return lookbackMemo(calendar, kind === 'pv' ? t + 1 : t, () => computeLookback(kind, calendar, t));
}

function computeLookback(kind: SeriesKind, calendar: ForecastCalendar, t: number): Lookback {
  const times = new Float64Array(MAX_LOOKBACK_DAYS);
  const sameType = new Uint8Array(MAX_LOOKBACK_DAYS);
  const local = t + calendar.clock.offsetMs(t);
  const day = Math.floor(local / DAY_MS);
  const type = calendar.dayType(day);
  for (let b = 1; b <= MAX_LOOKBACK_DAYS; b++) {
    times[b - 1] = kind === 'pv' ? t - b * DAY_MS : calendar.clock.toUtc(local - b * DAY_MS);
    sameType[b - 1] = kind === 'pv' || calendar.dayType(day - b) === type ? 1 : 0;
  }
  return { times, sameType };
}

/** The reason a model needing `days` of history cannot run, or undefined. */
export function lacksHistory(series: Series, atMs: number, days: number): string | undefined {
  const have = knownDays(series, atMs);
  return have + 1e-9 < days ? `needs ${days} day(s) of history, has ${have.toFixed(1)}` : undefined;
}

/** Day type × harmonics of the local time of day; shared by every series of a calendar. */
const HARMONICS = 3;
export const CALENDAR_FEATURES = DAY_TYPES.length * (1 + 2 * HARMONICS);
const calendarMemo = sharedMemo<ForecastCalendar, Float64Array>(50_000);

export function calendarFeatures(calendar: ForecastCalendar, t: number): Float64Array {
  return calendarMemo(calendar, t, () => {
    const row = new Float64Array(CALENDAR_FEATURES);
    const local = calendar.clock.local(t);
    const at = DAY_TYPES.indexOf(calendar.dayType(local.day)) * (1 + 2 * HARMONICS);
    row[at] = 1;
    for (let h = 1; h <= HARMONICS; h++) {
      const angle = (2 * Math.PI * h * local.minute) / 1440;
      row[at + 2 * h - 1] = Math.sin(angle);
      row[at + 2 * h] = Math.cos(angle);
    }
    return row;
  });
}
