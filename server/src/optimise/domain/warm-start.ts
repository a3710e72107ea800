import type { MilpModel } from './model.js';
import type { WarmStart } from './solve-report.js';

/**
 * A solved plan's column values by name, kept so the next plan can start from it. Names end
 * in `.t<step>`; a new horizon that starts `shift` steps later finds yesterday's step t + shift
 * under step t. Columns the new model does not have are dropped, new ones stay open: HiGHS
 * completes a partial start itself and ignores one that turns out infeasible.
 */
export interface NamedSolution {
  readonly startMs: number;
  readonly stepMs: number;
  readonly names: readonly string[];
  readonly values: Float64Array;
}

const STEP = /^(.*)\.t(\d+)$/;

export function namedSolution(model: MilpModel, startMs: number, stepMs: number, values: Float64Array): NamedSolution {
  return { startMs, stepMs, names: model.columns.names, values };
}

export function warmStartFrom(previous: NamedSolution, model: MilpModel, startMs: number): WarmStart {
  const shift = Math.round((startMs - previous.startMs) / previous.stepMs);
  const known = new Map<string, number>();
  previous.names.forEach((name, j) => {
    const match = STEP.exec(name);
    if (!match) known.set(name, previous.values[j]!);
    else if (Number(match[2]) - shift >= 0) known.set(`${match[1]}.t${Number(match[2]) - shift}`, previous.values[j]!);
  });
  const indices: number[] = [];
  const values: number[] = [];
  model.columns.names.forEach((name, j) => {
    const value = known.get(name);
    if (value === undefined) return;
    indices.push(j);
    // Binaries start where they were; continuous values are clipped into their new bounds.
    values.push(Math.min(model.columns.upper[j]!, Math.max(model.columns.lower[j]!, model.columns.integer[j] ? Math.round(value) : value)));
  });
  return { indices: Int32Array.from(indices), values: Float64Array.from(values) };
}

/** Turns the names of conflicting constraints into "site/asset: constraint at step" lines. */
export function describeConflict(names: readonly string[], stepInstant: (t: number) => string): string[] {
  return names.map((name) => {
    const [site, asset, ...rest] = name.split('.');
    const step = STEP.exec(name);
    const what = (step ? step[1]!.split('.').slice(2) : rest).join('.');
    return `${site}/${asset}: ${what}${step ? ` at ${stepInstant(Number(step[2]))}` : ''}`;
  });
}
