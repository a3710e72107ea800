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

export class AccuracyAccumulator {
  private n = 0;
  private abs = 0;
  private sq = 0;
  private actualSum = 0;
  private referenceSq = 0;
  private banded = 0;
  private inside = 0;

  add(actual: number, forecast: number, reference: number, p10 = Number.NaN, p90 = Number.NaN): void {
    if (Number.isNaN(actual) || Number.isNaN(forecast) || Number.isNaN(reference)) return;
    const e = forecast - actual;
    this.n++;
    this.abs += Math.abs(e);
    this.sq += e * e;
    this.actualSum += actual;
    this.referenceSq += (reference - actual) ** 2;
    if (!Number.isNaN(p10) && !Number.isNaN(p90)) {
      this.banded++;
      if (actual >= p10 && actual <= p90) this.inside++;
    }
  }

  result(): Accuracy {
    const n = this.n;
    if (n === 0) return { count: 0, maeW: null, rmseW: null, nrmse: null, persistenceRmseW: null, skill: null, coverage: null };
    const rmse = Math.sqrt(this.sq / n);
    const reference = Math.sqrt(this.referenceSq / n);
    const mean = this.actualSum / n;
    return {
      count: n,
      maeW: this.abs / n,
      rmseW: rmse,
      nrmse: mean !== 0 ? rmse / Math.abs(mean) : null,
      persistenceRmseW: reference,
      skill: reference > 0 ? 1 - rmse / reference : null,
      coverage: this.banded > 0 ? this.inside / this.banded : null,
    };
  }
}

/** Accuracy of one series' forecast arrays (all of one length) in a single call. */
export function accuracyOf(actual: ArrayLike<number>, forecast: ArrayLike<number>, reference: ArrayLike<number>, p10?: ArrayLike<number>, p90?: ArrayLike<number>): Accuracy {
  const acc = new AccuracyAccumulator();
  for (let i = 0; i < actual.length; i++) acc.add(actual[i]!, forecast[i]!, reference[i]!, p10?.[i] ?? Number.NaN, p90?.[i] ?? Number.NaN);
  return acc.result();
}
