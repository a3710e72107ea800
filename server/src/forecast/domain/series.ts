import { DAY_MS, MINUTE_MS } from '../../kernel/time.js';
import { BadRequestError } from '../../kernel/errors.js';

/**
 * A regular time series of mean power in W: `values[i]` is the mean over
 * [startMs + i·stepMs, startMs + (i+1)·stepMs). NaN marks a missing value. Steps divide an hour
 * (15, 20, 30 or 60 minutes) and the start is aligned to the step on UTC, so every series of one
 * step shares one grid.
 */
export interface Series {
  readonly startMs: number;
  readonly stepMs: number;
  readonly values: Float64Array;
}

export const SUPPORTED_STEPS_MIN: readonly number[] = [15, 20, 30, 60];

export function checkStep(stepMs: number): void {
  if (!SUPPORTED_STEPS_MIN.includes(stepMs / MINUTE_MS)) {
    throw new BadRequestError(`a series step must be one of ${SUPPORTED_STEPS_MIN.join(', ')} minutes, not ${stepMs / MINUTE_MS}`);
  }
}

export function createSeries(startMs: number, stepMs: number, values: Float64Array): Series {
  checkStep(stepMs);
  if (startMs % stepMs !== 0) throw new BadRequestError(`a series must start on a ${stepMs / MINUTE_MS}-minute UTC boundary`);
  return { startMs, stepMs, values };
}

export const endOf = (series: Series): number => series.startMs + series.values.length * series.stepMs;

/** The value of the interval starting at `ms`, or NaN when it is outside the series or missing. */
export function valueAt(series: Series, ms: number): number {
  const i = (ms - series.startMs) / series.stepMs;
  if (i < 0 || i >= series.values.length || !Number.isInteger(i)) return Number.NaN;
  return series.values[i]!;
}

/**
 * What a forecaster may see at an issue time: the values of intervals that ended by then.
 * Every model reads history through this, so none can peek at the outcome it forecasts.
 */
export interface KnownHistory {
  readonly series: Series;
  readonly knownUntilMs: number;
  at(ms: number): number;
}

export function knownBefore(series: Series, issuedAtMs: number): KnownHistory {
  const { startMs, stepMs, values } = series;
  // The last index whose interval has ended by the issue time.
  const limit = Math.min(values.length, Math.floor((issuedAtMs - startMs) / stepMs));
  return {
    series,
    knownUntilMs: startMs + Math.max(0, limit) * stepMs,
    at(ms) {
      const i = (ms - startMs) / stepMs;
      if (i < 0 || i >= limit || !Number.isInteger(i)) return Number.NaN;
      return values[i]!;
    },
  };
}

/** Number of known (non-NaN) values before `untilMs`. */
export function countKnown(series: Series, untilMs = endOf(series)): number {
  const limit = Math.min(series.values.length, Math.floor((untilMs - series.startMs) / series.stepMs));
  let n = 0;
  for (let i = 0; i < limit; i++) if (!Number.isNaN(series.values[i]!)) n++;
  return n;
}

/** Days of known data before `untilMs` (known values × step / day). */
export const knownDays = (series: Series, untilMs?: number): number => (countKnown(series, untilMs) * series.stepMs) / DAY_MS;
