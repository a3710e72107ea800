import { valueAt, type Series } from './series.js';
import type { ErrorsByLead } from './conformal.js';
import type { CandidateScore } from './auto.js';

/**
 * A model's past forecasts for one series, to score it and to draw its bands from. Errors are
 * computed only for targets that had happened by the time they are asked for.
 */
export interface PastForecast {
  readonly issuedAtMs: number;
  readonly startMs: number;
  readonly values: Float64Array;
}

export class TrackRecord {
  private readonly bySlot = new Map<number, PastForecast[]>();

  constructor(private readonly series: Series, private readonly keepMs: number) {}

  add(slot: number, forecast: PastForecast): void {
    let list = this.bySlot.get(slot);
    if (!list) this.bySlot.set(slot, (list = []));
    list.push(forecast);
    while (list.length > 0 && list[0]!.issuedAtMs < forecast.issuedAtMs - this.keepMs) list.shift();
  }

  /** Errors (outcome − forecast) per lead of forecasts issued at `slot` in [sinceMs, nowMs), for targets before nowMs. */
  errors(slot: number, sinceMs: number, nowMs: number): ErrorsByLead {
    const out: number[][] = [];
    for (const f of this.bySlot.get(slot) ?? []) {
      if (f.issuedAtMs < sinceMs || f.issuedAtMs >= nowMs) continue;
      const step = this.series.stepMs;
      for (let k = 0; k < f.values.length; k++) {
        const t = f.startMs + k * step;
        if (t + step > nowMs) break;
        const e = valueAt(this.series, t) - f.values[k]!;
        if (Number.isNaN(e)) continue;
        (out[k] ??= []).push(e);
      }
    }
    return out;
  }

  /** Σ squared error and count over every slot's forecasts issued in [sinceMs, nowMs), targets before nowMs. */
  score(name: string, sinceMs: number, nowMs: number): CandidateScore {
    let sumSquares = 0;
    let count = 0;
    for (const slot of this.bySlot.keys()) {
      for (const lead of this.errors(slot, sinceMs, nowMs)) {
        for (const e of lead ?? []) {
          sumSquares += e * e;
          count++;
        }
      }
    }
    return { name, sumSquares, count };
  }
}
