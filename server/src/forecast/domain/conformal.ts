import { HOUR_MS } from '../../kernel/time.js';

/**
 * Uncertainty bands by conformal prediction: the band of a new forecast is the spread of the same
 * model's own past errors (outcome − forecast) for the same lead time, from forecasts issued at the
 * same time of day. Lead times within ±1 hour are pooled so each quantile rests on enough errors.
 * Quantiles use the finite-sample conformal ranks ⌊(n+1)·q⌋ and ⌈(n+1)·q⌉, so an 80 % band really
 * holds ~80 % of outcomes when errors are exchangeable.
 */
export const LOWER_Q = 0.1;
export const UPPER_Q = 0.9;
/** Fewer errors than this for a lead and the pool widens; with none at all, there is no band. */
export const MIN_ERRORS = 12;
export const POOL_MS = HOUR_MS;

export interface Band {
  readonly p10: Float64Array;
  readonly p50: Float64Array;
  readonly p90: Float64Array;
  /** False where no past errors were available: the band collapses onto the point forecast. */
  readonly calibrated: boolean;
}

/** Past errors of one forecast schedule, per lead step: `errors[lead]` (any order). */
export type ErrorsByLead = readonly (readonly number[])[];

/** Lower and upper error quantiles per lead step, NaN where no errors exist at all. */
export function errorQuantiles(errors: ErrorsByLead, steps: number, stepMs: number): { lower: Float64Array; upper: Float64Array } {
  const lower = new Float64Array(steps).fill(Number.NaN);
  const upper = new Float64Array(steps).fill(Number.NaN);
  const base = Math.max(0, Math.round(POOL_MS / stepMs));
  let total = 0;
  for (const e of errors) total += e?.length ?? 0;
  const pool = new Float64Array(total);
  for (let lead = 0; lead < steps; lead++) {
    let n = 0;
    for (let radius = base; ; radius = radius === 0 ? 1 : radius * 2) {
      n = 0;
      for (let j = Math.max(0, lead - radius); j <= Math.min(errors.length - 1, lead + radius); j++) {
        for (const e of errors[j] ?? []) pool[n++] = e;
      }
      if (n >= MIN_ERRORS || radius >= errors.length) break;
    }
    if (n === 0) continue;
    lower[lead] = select(pool, n, Math.min(n - 1, Math.max(0, Math.floor((n + 1) * LOWER_Q) - 1)));
    upper[lead] = select(pool, n, Math.min(n - 1, Math.max(0, Math.ceil((n + 1) * UPPER_Q) - 1)));
  }
  return { lower, upper };
}

/** The k-th smallest of values[0, n) (quickselect; reorders the values). */
function select(values: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i++] = values[j]!;
        values[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}

/**
 * P10/P50/P90 from a point forecast and past errors. Non-negative quantities (consumption,
 * production) are clamped at 0; the band always contains the median.
 */
export function bandFromErrors(point: Float64Array, errors: ErrorsByLead, stepMs: number, nonNegative: boolean): Band {
  const steps = point.length;
  const { lower, upper } = errorQuantiles(errors, steps, stepMs);
  const p10 = new Float64Array(steps);
  const p50 = new Float64Array(steps);
  const p90 = new Float64Array(steps);
  let calibrated = true;
  const floor = nonNegative ? 0 : Number.NEGATIVE_INFINITY;
  for (let k = 0; k < steps; k++) {
    const f = Math.max(floor, point[k]!);
    p50[k] = f;
    if (Number.isNaN(lower[k]!)) {
      calibrated = false;
      p10[k] = f;
      p90[k] = f;
      continue;
    }
    p10[k] = Math.max(floor, Math.min(f, f + lower[k]!));
    p90[k] = Math.max(f, f + upper[k]!);
  }
  return { p10, p50, p90, calibrated };
}
