import { REFERENCE_MODEL, modelsFor } from './registry.js';
import type { ModelAdapter, ModelInput, SeriesKind } from './model.js';

/**
 * `auto`: per series, the model with the best recent walk-forward skill, i.e. the lowest RMSE of
 * its own forecasts over the recent past (skill against persistence ranks models the same way as
 * RMSE on the same intervals). A model that forecast less than half as many of those intervals
 * as the best-covered one is not compared (it was unusable part of the time).
 */
export interface CandidateScore {
  readonly name: string;
  readonly sumSquares: number;
  readonly count: number;
}

export const MIN_COVERED_SHARE = 0.5;

export function chooseBySkill(scores: readonly CandidateScore[]): string | undefined {
  const most = Math.max(0, ...scores.map((s) => s.count));
  if (most === 0) return undefined;
  let best: CandidateScore | undefined;
  for (const s of scores) {
    if (s.count < most * MIN_COVERED_SHARE) continue;
    if (!best || s.sumSquares / s.count < best.sumSquares / best.count) best = s;
  }
  return best?.name;
}

/**
 * Candidate models for a series: the named ones, else every registered model for its kind except
 * the variants marked `inAuto: false` (persistence first).
 */
export function autoCandidates(kind: SeriesKind, names?: readonly string[]): ModelAdapter[] {
  const all = modelsFor(kind);
  const picked = names ? all.filter((m) => names.includes(m.name)) : all.filter((m) => m.inAuto !== false);
  return [...picked.filter((m) => m.name === REFERENCE_MODEL), ...picked.filter((m) => m.name !== REFERENCE_MODEL)];
}

/**
 * With no track record yet (a new site): the first usable model in this order — the standard
 * profile and physics need no history, similar days need a day, persistence an hour.
 */
const FALLBACK_ORDER = ['similar-day', 'pv-physical', 'heat-demand', 'standard-profile', 'persistence'];

export function fallbackModel(candidates: readonly ModelAdapter[], input: ModelInput, atMs: number): ModelAdapter | undefined {
  const usable = candidates.filter((m) => m.unusable(input, atMs) === undefined);
  for (const name of FALLBACK_ORDER) {
    const m = usable.find((c) => c.name === name);
    if (m) return m;
  }
  return usable[0];
}
