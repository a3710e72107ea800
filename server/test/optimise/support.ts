import type { Highs } from 'highs';
import '../../src/optimise/domain/assets/index.js';
import { buildModel, type BuildOptions, type BuiltModel } from '../../src/optimise/domain/build.js';
import { worstViolation } from '../../src/optimise/domain/model.js';
import { baseline, type Outcome } from '../../src/optimise/domain/plan.js';
import { readSolution } from '../../src/optimise/domain/build.js';
import { parseScenario, type Scenario } from '../../src/optimise/domain/scenario.js';
import type { SolveResult } from '../../src/optimise/domain/solve-report.js';
import { loadHighs, solve } from '../../src/optimise/solver-thread.js';

/**
 * Small scenarios with hourly steps, so optima can be checked by hand, solved in this process
 * (the worker is tested on its own in solver.test.ts) to proven optimality (gaps 0).
 */
let highs: Promise<Highs> | undefined;
export const inProcessHighs = (): Promise<Highs> => (highs ??= loadHighs());

export const START = '2026-06-01T00:00:00Z';
export const hour = (h: number): string => new Date(Date.parse(START) + h * 3_600_000).toISOString().replace('.000Z', 'Z');

/** A one-site scenario with `steps` hourly steps; prices per kWh. */
export function oneSite(steps: number, assets: Record<string, unknown>[], grid: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test',
    start: START,
    steps,
    stepMinutes: 60,
    sites: [{ id: 'home', member: 'm1', grid: { importPrice: 0, exportPrice: 0, ...grid }, assets }],
    ...extra,
  };
}

export interface Solved {
  readonly scenario: Scenario;
  readonly built: BuiltModel;
  readonly result: SolveResult;
  readonly plan: Outcome;
  readonly base: Outcome;
  /** Plan of one asset by id (first site). */
  asset(id: string): Outcome['sites'][number]['assets'][number]['steps'];
}

export async function solveScenario(raw: unknown, options: BuildOptions = {}): Promise<Solved> {
  const scenario = parseScenario(raw);
  const built = buildModel(scenario, options);
  const result = solve(await inProcessHighs(), { id: 1, model: built.model, settings: { timeLimitS: 20, relativeGap: 0, absoluteGap: 0 } });
  if (!result.solution) throw new Error(`no solution: ${result.status} ${result.message} ${result.conflict?.join(', ') ?? ''}`);
  // Every plan the tests look at is checked against the model independently of HiGHS.
  const violation = worstViolation(built.model, result.solution);
  if (violation.amount > 1e-6) throw new Error(`solution violates ${violation.where} by ${violation.amount}`);
  const plan = readSolution(built, result.solution);
  return {
    scenario, built, result, plan, base: baseline(scenario),
    asset: (id) => plan.sites[0]!.assets.find((a) => a.id === id)!.steps,
  };
}

/** Energy per step in kWh, for readable expectations. */
export const kwh = (wh: ArrayLike<number>): number[] => Array.from(wh, (v) => v / 1000);
