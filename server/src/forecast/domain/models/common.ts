import { DAY_MS } from '../../../kernel/time.js';
import type { ForecastCalendar } from '../calendar.js';
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
