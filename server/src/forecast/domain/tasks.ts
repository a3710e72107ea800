import { DAY_MS, HOUR_MS } from '../../kernel/time.js';
import type { ForecastCalendar } from './calendar.js';

/**
 * One forecast to make: issued at `issuedAtMs` (only data of intervals that ended by then may be
 * used), for `steps` intervals of the series' step from `startMs`.
 */
export interface ForecastTask {
  readonly issuedAtMs: number;
  readonly startMs: number;
  readonly steps: number;
}

export type HorizonName = 'day-ahead' | 'intraday';
export const HORIZONS: readonly HorizonName[] = ['day-ahead', 'intraday'];

/** Day-ahead forecasts are issued at this local time for the whole next local day. */
export const DAY_AHEAD_ISSUE_LOCAL_HOUR = 12;
/** Intraday forecasts are issued every hour for the next 6 hours. */
export const INTRADAY_EVERY_MS = HOUR_MS;
export const INTRADAY_LENGTH_MS = 6 * HOUR_MS;

/** The day-ahead task issued on local day `day` (12:00 local) for local day `day + 1`. */
export function dayAheadTask(calendar: ForecastCalendar, day: number, stepMs: number): ForecastTask {
  const startMs = calendar.midnight(day + 1);
  const endMs = calendar.midnight(day + 2);
  return {
    issuedAtMs: calendar.clock.toUtc(day * DAY_MS + DAY_AHEAD_ISSUE_LOCAL_HOUR * HOUR_MS),
    startMs,
    steps: Math.round((endMs - startMs) / stepMs),
  };
}

/** Every task of a horizon whose issue time lies in [fromMs, toMs), in time order. */
export function tasksBetween(horizon: HorizonName, calendar: ForecastCalendar, fromMs: number, toMs: number, stepMs: number): ForecastTask[] {
  const tasks: ForecastTask[] = [];
  if (horizon === 'intraday') {
    const steps = INTRADAY_LENGTH_MS / stepMs;
    for (let t = Math.ceil(fromMs / INTRADAY_EVERY_MS) * INTRADAY_EVERY_MS; t < toMs; t += INTRADAY_EVERY_MS) {
      tasks.push({ issuedAtMs: t, startMs: t, steps });
    }
    return tasks;
  }
  for (let day = calendar.localDay(fromMs) - 1; ; day++) {
    const task = dayAheadTask(calendar, day, stepMs);
    if (task.issuedAtMs >= toMs) break;
    if (task.issuedAtMs >= fromMs) tasks.push(task);
  }
  return tasks;
}

/** The same task `days` local days earlier: same wall-clock issue time, same lead times. */
export function shiftTask(calendar: ForecastCalendar, task: ForecastTask, days: number): ForecastTask {
  const issuedAtMs = calendar.shiftLocalDays(task.issuedAtMs, days);
  return { issuedAtMs, startMs: issuedAtMs + (task.startMs - task.issuedAtMs), steps: task.steps };
}

/** Local minute of the day of an issue time: forecasts issued at the same minute share error statistics. */
export function issueSlot(calendar: ForecastCalendar, issuedAtMs: number): number {
  return Math.round(calendar.clock.local(issuedAtMs).minute);
}
