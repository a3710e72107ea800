import { DAY_MS, HOUR_MS, MINUTE_MS, QUARTER_HOUR_MS } from '../../kernel/time.js';
import type { ForecastCalendar } from './calendar.js';
import type { ForecastTask, HorizonName } from './tasks.js';

/**
 * When the operational forecasts are due (the job asks this on every pass, the clock passed in):
 * - intraday: once per quarter hour, issued now, for the next INTRADAY_HOURS from the next quarter hour;
 * - day-ahead: once a day at the community's local issue time, for DAY_AHEAD_HOURS from the next
 *   local midnight. A community that has no day-ahead forecast since the last scheduled issue time
 *   (a new community, a process that was down) gets one at once.
 */
export const INTRADAY_HOURS = 12;
export const DAY_AHEAD_HOURS = 48;

export interface DueForecast {
  readonly horizon: HorizonName;
  readonly task: ForecastTask;
}

export interface ScheduleInput {
  readonly nowMs: number;
  readonly calendar: ForecastCalendar;
  /** Local issue time of the day-ahead run, minutes after midnight (720 = 12:00). */
  readonly dayAheadMinute: number;
  /** Issue times of the newest stored forecasts, if any. */
  readonly lastIntradayMs: number | undefined;
  readonly lastDayAheadMs: number | undefined;
  /** Issue everything now, whatever is stored (the demo after its history is in). */
  readonly force?: boolean | undefined;
}

/** The newest scheduled day-ahead issue instant at or before `nowMs`. */
export function lastDayAheadSlot(calendar: ForecastCalendar, dayAheadMinute: number, nowMs: number): number {
  const today = calendar.localDay(nowMs);
  const slot = calendar.clock.toUtc(today * DAY_MS + dayAheadMinute * MINUTE_MS);
  return slot <= nowMs ? slot : calendar.clock.toUtc((today - 1) * DAY_MS + dayAheadMinute * MINUTE_MS);
}

export function dueForecasts(input: ScheduleInput): DueForecast[] {
  const { nowMs, calendar } = input;
  const due: DueForecast[] = [];
  const quarter = Math.floor(nowMs / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
  if (input.force || input.lastIntradayMs === undefined || input.lastIntradayMs < quarter) {
    due.push({ horizon: 'intraday', task: { issuedAtMs: nowMs, startMs: quarter + QUARTER_HOUR_MS, steps: (INTRADAY_HOURS * HOUR_MS) / QUARTER_HOUR_MS } });
  }
  const slot = lastDayAheadSlot(calendar, input.dayAheadMinute, nowMs);
  if (input.force || input.lastDayAheadMs === undefined || input.lastDayAheadMs < slot) {
    const startMs = calendar.midnight(calendar.localDay(nowMs) + 1);
    due.push({ horizon: 'day-ahead', task: { issuedAtMs: nowMs, startMs, steps: (DAY_AHEAD_HOURS * HOUR_MS) / QUARTER_HOUR_MS } });
  }
  return due;
}
