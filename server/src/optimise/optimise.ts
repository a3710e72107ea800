import { buildModel, startFrom, type BuiltModel, type ExchangeTargets, readSolution } from './domain/build.js';
import { stepInstant } from './domain/horizon.js';
import { baseline, planDocument, type PlanDocument } from './domain/plan.js';
import { explainSavings, shareByBaselineImport, type MemberSavings, type SavingsSharing } from './domain/savings.js';
import type { Scenario } from './domain/scenario.js';
import type { SolveResult, SolveSettings } from './domain/solve-report.js';
import { describeConflict, namedSolution, warmStartFrom, type NamedSolution } from './domain/warm-start.js';
import { Solver } from './solver.js';

/**
 * Scenario → model → solve → plan, in one call: what the CLI runs and what the MPC job of
 * phase 2 will run every 15 minutes (with its long-lived Solver and the previous solution).
 */
export interface OptimiseOptions {
  /** A running solver to use (default: a fresh worker for this call). */
  readonly solver?: Solver;
  /** Overrides the scenario's own solver settings. */
  readonly settings?: Partial<SolveSettings>;
  /** The previous plan's solution, to warm-start from; without one of its columns in this model, the baseline is the start. */
  readonly previous?: NamedSolution;
  /** How community-level savings land on members (default: by baseline import). */
  readonly sharing?: SavingsSharing;
  /** Soft bounds on some sites' summed net import at some steps (a flexibility request; see ExchangeTargets). */
  readonly exchangeTargets?: ExchangeTargets;
  /** Called when the model is built, before the solve. */
  readonly onBuilt?: (built: BuiltModel) => void;
}

export interface OptimiseResult {
  readonly built: BuiltModel;
  /** `warmStart`: whether the solve started from the previous plan's solution. */
  readonly result: SolveResult;
  /** The plan; undefined when the solver found none (result.status says why). */
  readonly document?: PlanDocument & { readonly members: readonly MemberSavings[] };
  /** Reasons, when the model is infeasible or unbounded. */
  readonly problems?: readonly string[];
  /** For the next plan's warm start. */
  readonly solution?: NamedSolution;
}

export async function optimise(scenario: Scenario, options: OptimiseOptions = {}): Promise<OptimiseResult> {
  const built = buildModel(scenario, options.exchangeTargets ? { exchangeTargets: options.exchangeTargets } : {});
  options.onBuilt?.(built);
  const { horizon } = scenario;
  const settings = { ...scenario.solver, ...options.settings };
  // The previous plan if there is one, else what the assets would do anyway: either way the
  // solver holds a plan from the start and only improves on it.
  const base = baseline(scenario);
  const fromPrevious = options.previous && warmStartFrom(options.previous, built.model, horizon.startMs);
  const warm = fromPrevious !== undefined && fromPrevious.indices.length > 0;
  const solver = options.solver ?? new Solver();
  let result: SolveResult;
  try {
    result = { ...await solver.solve(built.model, settings, warm ? fromPrevious : startFrom(built, base)), warmStart: warm };
  } finally {
    if (!options.solver) await solver.close();
  }
  if (!result.solution) {
    const problems = result.conflict ? describeConflict(result.conflict, (t) => stepInstant(horizon, t)) : [result.message];
    return { built, result, problems };
  }
  const plan = readSolution(built, result.solution);
  const { solution, ...report } = result;
  const members = explainSavings(scenario, plan, base, options.sharing ?? shareByBaselineImport);
  return {
    built,
    result,
    document: { ...planDocument(scenario, report, plan, base), members },
    solution: namedSolution(built.model, horizon.startMs, horizon.stepMs, solution),
  };
}
