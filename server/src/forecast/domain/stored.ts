import { HOUR_MS, MINUTE_MS, QUARTER_HOUR_MS } from '../../kernel/time.js';
import type { HorizonName } from './tasks.js';

/**
 * Stored forecasts read back: for each target quarter hour the forecast issued last (of the
 * horizons asked for) that covers it, then optionally as hourly means. Values are W, null where
 * no stored forecast covers a target.
 */
export interface StoredForecast {
  readonly horizon: HorizonName;
  readonly issuedAtMs: number;
  readonly startMs: number;
  readonly stepMs: number;
  readonly model: string;
  readonly p10: readonly (number | null)[];
  readonly p50: readonly (number | null)[];
  readonly p90: readonly (number | null)[];
}

export interface CombinedStep {
  readonly startMs: number;
  readonly p10: number | null;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly model: string | null;
  readonly horizon: HorizonName | null;
  readonly issuedAtMs: number | null;
}

/** The newest covering forecast per quarter hour of [fromMs, toMs). */
export function combineForecasts(stored: readonly StoredForecast[], fromMs: number, toMs: number): CombinedStep[] {
  const steps = Math.max(0, Math.round((toMs - fromMs) / QUARTER_HOUR_MS));
  const out: CombinedStep[] = Array.from({ length: steps }, (_, k) => ({
    startMs: fromMs + k * QUARTER_HOUR_MS, p10: null, p50: null, p90: null, model: null, horizon: null, issuedAtMs: null,
  }));
  for (const f of [...stored].sort((a, b) => a.issuedAtMs - b.issuedAtMs)) {
    for (let j = 0; j < f.p50.length; j++) {
      const t = f.startMs + j * f.stepMs;
      const k = (t - fromMs) / QUARTER_HOUR_MS;
      if (k < 0 || k >= steps || !Number.isInteger(k) || f.p50[j] === null) continue;
      out[k] = { startMs: t, p10: f.p10[j] ?? null, p50: f.p50[j] ?? null, p90: f.p90[j] ?? null, model: f.model, horizon: f.horizon, issuedAtMs: f.issuedAtMs };
    }
  }
  return out;
}

/**
 * Hourly means of quarter-hour steps (UTC hours; the first hour may be partial when `from` is not
 * on an hour). The hourly P10/P90 are the means of the quarter hours' quantiles: a slightly wider
 * band than the quantiles of the hourly mean would be. An hour with no known quarter hour is null.
 */
export function toHourly(steps: readonly CombinedStep[]): CombinedStep[] {
  const hours = new Map<number, CombinedStep[]>();
  for (const s of steps) {
    const h = Math.floor(s.startMs / HOUR_MS) * HOUR_MS;
    let list = hours.get(h);
    if (!list) hours.set(h, (list = []));
    list.push(s);
  }
  return [...hours.entries()].map(([startMs, list]) => {
    const known = list.filter((s) => s.p50 !== null);
    const mean = (pick: (s: CombinedStep) => number | null) => (known.length === 0 ? null : Math.round(known.reduce((sum, s) => sum + (pick(s) ?? 0), 0) / known.length));
    const last = known[known.length - 1];
    return {
      startMs, p10: mean((s) => s.p10), p50: mean((s) => s.p50), p90: mean((s) => s.p90),
      model: last?.model ?? null, horizon: last?.horizon ?? null, issuedAtMs: last?.issuedAtMs ?? null,
    };
  });
}

/** Whole watts for storage; NaN (no forecast) stays null. */
export const toStoredW = (values: ArrayLike<number>): (number | null)[] =>
  Array.from(values, (v) => (Number.isFinite(v) ? Math.round(v) : null));

export const STEP_MINUTES = QUARTER_HOUR_MS / MINUTE_MS;
