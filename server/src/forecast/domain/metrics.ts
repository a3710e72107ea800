/**
 * Accuracy of forecasts against outcomes: MAE, RMSE, RMSE normalised by the mean outcome, skill
 * against persistence (1 − RMSE / RMSE of persistence on the same intervals), and how often the
 * outcome fell inside the P10–P90 band. Only intervals where the outcome, the forecast and the
 * persistence forecast are all known count, so every figure compares like with like.
 */
export interface Accuracy {
  readonly count: number;
  readonly maeW: number | null;
  readonly rmseW: number | null;
  /** RMSE ÷ mean outcome; null when the mean outcome is 0. */
  readonly nrmse: number | null;
  readonly persistenceRmseW: number | null;
  /** 1 − RMSE / RMSE_persistence; null when persistence is perfect. */
  readonly skill: number | null;
  /** Share of outcomes inside [P10, P90]; null without bands. */
  readonly coverage: number | null;
}

/**
 * What accuracy is made of, as sums that add up over forecasts, series and days (the job stores
 * them per day in whole watts and sums the last 30 days).
 */
export interface AccuracySums {
  readonly n: number;
  readonly sumAbs: number;
  readonly sumSq: number;
  readonly sumActual: number;
  readonly sumReferenceSq: number;
  readonly banded: number;
  readonly inside: number;
}

export const NO_SUMS: AccuracySums = { n: 0, sumAbs: 0, sumSq: 0, sumActual: 0, sumReferenceSq: 0, banded: 0, inside: 0 };

export const addSums = (a: AccuracySums, b: AccuracySums): AccuracySums => ({
  n: a.n + b.n, sumAbs: a.sumAbs + b.sumAbs, sumSq: a.sumSq + b.sumSq, sumActual: a.sumActual + b.sumActual,
  sumReferenceSq: a.sumReferenceSq + b.sumReferenceSq, banded: a.banded + b.banded, inside: a.inside + b.inside,
});

export function accuracyFromSums(s: AccuracySums): Accuracy {
  const n = s.n;
  if (n === 0) return { count: 0, maeW: null, rmseW: null, nrmse: null, persistenceRmseW: null, skill: null, coverage: null };
  const rmse = Math.sqrt(s.sumSq / n);
  const reference = Math.sqrt(s.sumReferenceSq / n);
  const mean = s.sumActual / n;
  return {
    count: n,
    maeW: s.sumAbs / n,
    rmseW: rmse,
    nrmse: mean !== 0 ? rmse / Math.abs(mean) : null,
    persistenceRmseW: reference,
    skill: reference > 0 ? 1 - rmse / reference : null,
    coverage: s.banded > 0 ? s.inside / s.banded : null,
  };
}

export class AccuracyAccumulator {
  private sums: { -readonly [K in keyof AccuracySums]: number } = { ...NO_SUMS };

  add(actual: number, forecast: number, reference: number, p10 = Number.NaN, p90 = Number.NaN): void {
    if (Number.isNaN(actual) || Number.isNaN(forecast) || Number.isNaN(reference)) return;
    const s = this.sums;
    const e = forecast - actual;
    s.n++;
    s.sumAbs += Math.abs(e);
    s.sumSq += e * e;
    s.sumActual += actual;
    s.sumReferenceSq += (reference - actual) ** 2;
    if (!Number.isNaN(p10) && !Number.isNaN(p90)) {
      s.banded++;
      if (actual >= p10 && actual <= p90) s.inside++;
    }
  }

  /** The sums so far (a copy). */
  totals(): AccuracySums {
    return { ...this.sums };
  }

  result(): Accuracy {
    return accuracyFromSums(this.sums);
  }
}

/** Accuracy of one series' forecast arrays (all of one length) in a single call. */
export function accuracyOf(actual: ArrayLike<number>, forecast: ArrayLike<number>, reference: ArrayLike<number>, p10?: ArrayLike<number>, p90?: ArrayLike<number>): Accuracy {
  const acc = new AccuracyAccumulator();
  for (let i = 0; i < actual.length; i++) acc.add(actual[i]!, forecast[i]!, reference[i]!, p10?.[i] ?? Number.NaN, p90?.[i] ?? Number.NaN);
  return acc.result();
}
