import { parentPort } from 'node:worker_threads';
import * as highsModule from 'highs';
import type { Highs, Model, ModelData } from 'highs';
import { modelSize, objectiveValue, worstViolation, type MilpModel } from './domain/model.js';
import type { SolveResult, WarmStart } from './domain/solve-report.js';
import type { SolveRequest, SolveResponse } from './solver-protocol.js';

/**
 * The solver thread: HiGHS (WebAssembly) solves one model at a time here, so the platform's
 * event loop never waits for it. Everything HiGHS-specific lives in this file.
 */

// The package's types describe its CommonJS build (the loader as `default.default`); imported
// as ESM, the loader is the default export itself.
export const loadHighs = highsModule.default as unknown as typeof highsModule.default.default;

/** Set when HiGHS aborted: its WebAssembly instance is unusable, so the thread ends after answering. */
let aborted = false;
/** Emscripten's abort throws a WebAssembly.RuntimeError. */
const isAbort = (error: unknown): boolean => error instanceof Error && error.name === 'RuntimeError';

const FEASIBILITY_TOLERANCE = 1e-6;
/** Time for the small MIP that repairs one asset in a rounding with no deadline. */
const REPAIR_LIMIT_S = 30;
/** HiGHS-js takes only finite option values: "no time limit". */
const NO_LIMIT_S = 1e9;
/** Models up to this many columns get an infeasible subsystem computed to explain infeasibility. */
const IIS_MAX_COLUMNS = 50_000;

function modelData(highs: Highs, model: MilpModel): ModelData {
  const { columns, rows } = model;
  const m = rows.names.length;
  const rowLower = new Float64Array(m);
  const rowUpper = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const sense = rows.sense[i];
    rowLower[i] = sense === '<=' ? -highs.infinity : rows.rhs[i]!;
    rowUpper[i] = sense === '>=' ? highs.infinity : rows.rhs[i]!;
  }
  return {
    numCols: columns.names.length,
    numRows: m,
    offset: model.objectiveOffset,
    colCost: columns.cost,
    colLower: columns.lower.map((v) => (v === Number.NEGATIVE_INFINITY ? -highs.infinity : v)),
    colUpper: columns.upper.map((v) => (v === Number.POSITIVE_INFINITY ? highs.infinity : v)),
    rowLower,
    rowUpper,
    matrix: { format: 'csr', numRows: m, numCols: columns.names.length, starts: rows.starts, indices: rows.index, values: rows.value },
    integrality: Int32Array.from(columns.integer),
  };
}

const finite = (v: number | bigint): number | null => {
  const n = Number(v);
  return Number.isFinite(n) && Math.abs(n) < 1e20 ? n : null;
};

function gaps(objective: number | null, bound: number | null): { relativeGap: number | null; absoluteGap: number | null } {
  if (objective === null || bound === null) return { relativeGap: null, absoluteGap: null };
  const absoluteGap = Math.max(0, objective - bound);
  return { absoluteGap, relativeGap: absoluteGap === 0 ? 0 : absoluteGap / Math.max(Math.abs(objective), 1e-9) };
}

/**
 * Share of the time limit the relaxation and its rounding may take before the MILP search: on
 * community models HiGHS-js spends seconds per root cut round, so the rounding is what
 * usually brings the plan within the gap, and the search gets what is left.
 */
const DIVE_SHARE = 0.8;

type Candidate = { readonly x: Float64Array; readonly objective: number; readonly origin: string };

const better = (a: Candidate | null, b: Candidate | null): Candidate | null => (!a ? b : !b ? a : b.objective < a.objective ? b : a);

/**
 * Solves a model in three steps. (1) The start (the previous plan, or what the assets would
 * do anyway) is completed by one LP. (2) For a model with binaries, the LP relaxation gives a
 * proven bound and, rounded by diving, a plan; if the better plan is already within the gaps
 * of that bound, that is the answer. (3) Otherwise HiGHS searches branch-and-cut from the
 * better plan for the rest of the time. When the time runs out, the best plan found is used;
 * when there is none, the relaxation is rounded without a time limit.
 */
export function solve(highs: Highs, request: SolveRequest): SolveResult {
  const started = performance.now();
  const elapsedS = () => (performance.now() - started) / 1000;
  const { model, settings, warmStart } = request;
  const size = modelSize(model);
  const base = { size, settings, warmStart: warmStart !== undefined, solver: `HiGHS ${highs.version.string}` };
  const none = { objective: null, bound: null, relativeGap: null, absoluteGap: null };
  const within = (objective: number, bound: number) => {
    const g = gaps(objective, bound);
    return g.absoluteGap! <= settings.absoluteGap + 1e-9 || g.relativeGap! <= settings.relativeGap + 1e-12;
  };
  const candidate = (x: Float64Array | null, origin: string): Candidate | null => (x ? { x, objective: objectiveValue(model, x), origin } : null);

  let best = warmStart && warmStart.indices.length > 0 ? candidate(completeStart(highs, model, warmStart), 'the warm start') : null;
  let relaxationBound: number | null = null;
  if (size.integers > 0) {
    const dive = roundRelaxation(highs, model, started + DIVE_SHARE * settings.timeLimitS * 1000);
    if (dive.infeasible) return { ...base, ...none, status: 'infeasible', message: 'the model has no feasible plan (not even its LP relaxation)', timeS: elapsedS(), nodes: 0, solution: null, ...dive.conflict };
    relaxationBound = dive.bound;
    best = better(best, candidate(dive.solution, 'the rounded LP relaxation'));
    if (best && relaxationBound !== null && within(best.objective, relaxationBound)) {
      return { ...base, status: 'optimal', message: `${best.origin} is within the gap of the LP relaxation's bound`, objective: best.objective, bound: relaxationBound, ...gaps(best.objective, relaxationBound), timeS: elapsedS(), nodes: 0, solution: best.x };
    }
  }

  const instance = highs.createModel(modelData(highs, model));
  try {
    instance.options.set({
      output_flag: false,
      time_limit: Math.max(0.05, settings.timeLimitS - elapsedS()),
      mip_rel_gap: settings.relativeGap,
      mip_abs_gap: settings.absoluteGap,
    });
    if (best) instance.setSolution({ colValue: best.x });
    try {
      instance.run();
    } catch (error) {
      // HiGHS-js aborts on internal failures (seen once deep in a long search on 200
      // households); a plan found before is still good, and the thread is replaced after this.
      if (!isAbort(error) || !best) throw error;
      aborted = true;
      const bound = relaxationBound;
      return { ...base, status: 'time-limit', message: `HiGHS stopped with an internal error (${(error as Error).message}); the best plan found before (from ${best.origin}) is used`, objective: best.objective, bound, ...gaps(best.objective, bound), timeS: elapsedS(), nodes: 0, solution: best.x };
    }
    const status = instance.getModelStatus();
    const codes = highs.constants.modelStatus;
    const nodes = size.integers > 0 ? Number(instance.info.get('mip_node_count')) : 0;
    const feasible = Number(instance.info.get('primal_solution_status')) === highs.constants.solutionStatus.feasible;

    if (status === codes.infeasible || status === codes.unboundedOrInfeasible) {
      return { ...base, ...none, status: 'infeasible', message: 'the model has no feasible plan', timeS: elapsedS(), nodes, solution: null, ...conflictOf(instance, model) };
    }
    if (status === codes.unbounded) {
      return { ...base, ...none, status: 'unbounded', message: 'the objective is unbounded (a price or weight lets a variable without limit earn money)', timeS: elapsedS(), nodes, solution: null };
    }
    const limited = status === codes.timeLimit || status === codes.interrupted || status === codes.iterationLimit || status === codes.solutionLimit;
    if ((status === codes.optimal || limited) && feasible) {
      const solution = instance.getSolution().colValue;
      const objective = objectiveValue(model, solution);
      const mipBound = size.integers > 0 ? finite(instance.info.get('mip_dual_bound')) : objective;
      const bound = mipBound === null ? relaxationBound : relaxationBound === null ? mipBound : Math.max(mipBound, relaxationBound);
      const origin = best && Math.abs(best.objective - objective) <= 1e-9 * Math.max(1, Math.abs(objective)) ? best.origin : 'the branch-and-cut search';
      const optimal = status === codes.optimal;
      return {
        ...base,
        status: optimal ? 'optimal' : 'time-limit',
        message: optimal ? 'solved within the gap asked for' : `stopped by the ${settings.timeLimitS} s limit; the best plan found (from ${origin}) is used`,
        objective,
        bound,
        ...gaps(objective, bound),
        timeS: elapsedS(),
        nodes,
        solution,
      };
    }
    if (limited) {
      const rounded = roundRelaxation(highs, model, Number.POSITIVE_INFINITY);
      const objective = rounded.solution ? objectiveValue(model, rounded.solution) : null;
      const message = rounded.solution
        ? `stopped by the ${settings.timeLimitS} s limit before any plan was found; the LP relaxation was rounded to a feasible plan (${rounded.rounds} LP solves)`
        : `stopped by the ${settings.timeLimitS} s limit before any plan was found, and rounding the LP relaxation found none either (${rounded.reason})`;
      return { ...base, status: rounded.solution ? 'rounded-relaxation' : 'failed', message, objective, bound: rounded.bound, ...gaps(objective, rounded.bound), timeS: elapsedS(), nodes, solution: rounded.solution };
    }
    return { ...base, ...none, status: 'failed', message: `HiGHS ended with model status ${status}`, timeS: elapsedS(), nodes, solution: null };
  } finally {
    instance.dispose();
  }
}

/**
 * A start fixes binaries; the continuous variables that go with them come from one LP with
 * those binaries fixed (and any other binary rounded from the relaxation is left free for the
 * LP). A start whose LP is infeasible is dropped: the solver then starts without one.
 */
function completeStart(highs: Highs, model: MilpModel, warmStart: WarmStart): Float64Array | null {
  const data = modelData(highs, model);
  const lower = Float64Array.from(data.colLower);
  const upper = Float64Array.from(data.colUpper);
  warmStart.indices.forEach((j, k) => {
    if (!model.columns.integer[j]) return;
    const value = Math.min(upper[j]!, Math.max(lower[j]!, Math.round(warmStart.values[k]!)));
    lower[j] = value;
    upper[j] = value;
  });
  const lp = highs.createModel({ ...data, colLower: lower, colUpper: upper, integrality: new Int32Array(model.columns.names.length) });
  try {
    lp.options.set({ output_flag: false });
    lp.run();
    if (lp.getModelStatus() !== highs.constants.modelStatus.optimal) return null;
    const x = lp.getSolution().colValue;
    // Binaries not in the start were free in this LP: the start is complete only if they came out whole.
    for (let j = 0; j < x.length; j++) if (model.columns.integer[j] && Math.abs(x[j]! - Math.round(x[j]!)) > FEASIBILITY_TOLERANCE) return null;
    return x;
  } finally {
    lp.dispose();
  }
}

function conflictOf(instance: Model, model: MilpModel): { conflict?: string[] } {
  if (model.columns.names.length > IIS_MAX_COLUMNS) return {};
  try {
    const iis = instance.getIis();
    const names = Array.from(iis.rowIndex, (i) => model.rows.names[i]!).slice(0, 20);
    return names.length > 0 ? { conflict: names } : {};
  } catch {
    return {};
  }
}

/**
 * Rounds the LP relaxation to a feasible plan by diving: solve the relaxation; fix every
 * binary that came out 0 or 1; round the fractional ones to the nearer side and solve again;
 * if that is infeasible, round them to the other side; if that fails too, try again with the
 * half nearest to a whole value, down to a single binary. Repeat until nothing is fractional.
 * The continuous variables are then optimal for the binaries chosen, so the plan is feasible,
 * and the relaxation's objective is a proven bound to report its gap against. Stops without a
 * plan at the deadline.
 */
function roundRelaxation(highs: Highs, model: MilpModel, deadlineMs: number): { solution: Float64Array | null; bound: number | null; rounds: number; reason: string; infeasible: boolean; conflict?: { conflict?: string[] } } {
  const { columns } = model;
  const integers: number[] = [];
  for (let j = 0; j < columns.integer.length; j++) if (columns.integer[j]) integers.push(j);
  const lp = highs.createModel({ ...modelData(highs, model), integrality: new Int32Array(columns.names.length) });
  try {
    lp.options.set({ output_flag: false });
    const codes = highs.constants.modelStatus;
    let rounds = 0;
    const outOfTime = { solution: null, bound: null, rounds: 0, reason: 'out of time', infeasible: false } as const;
    const timedOut = () => lp.getModelStatus() === codes.timeLimit;
    const solveLp = (): Float64Array | null => {
      rounds++;
      // Each LP gets what is left before the deadline, so a large one cannot overrun it.
      lp.zeroAllClocks();
      lp.options.set({ time_limit: Number.isFinite(deadlineMs) ? Math.max(0.01, (deadlineMs - performance.now()) / 1000) : NO_LIMIT_S });
      lp.run();
      return lp.getModelStatus() === codes.optimal ? lp.getSolution().colValue : null;
    };
    let x = solveLp();
    if (!x) {
      const status = lp.getModelStatus();
      if (timedOut()) return { ...outOfTime, rounds };
      const infeasible = status === codes.infeasible || status === codes.unboundedOrInfeasible;
      return { solution: null, bound: null, rounds, reason: 'the LP relaxation has no solution', infeasible, ...(infeasible ? { conflict: conflictOf(lp, model) } : {}) };
    }
    const bound = objectiveValue(model, x);
    // Bound changes keep the simplex basis: each further LP starts where the last one ended.
    lp.options.set({ presolve: 'off' });
    const fix = (j: number, value: number) => lp.changeColBounds(j, value, value);
    const release = (j: number) => lp.changeColBounds(j, columns.lower[j]!, columns.upper[j]!);
    const fixed = new Uint8Array(columns.names.length);
    let batchLimit = Number.POSITIVE_INFINITY;
    const repaired = new Set<string>();
    const repairAsset = (stuck: number): Float64Array | null => {
      const asset = columns.names[stuck]!.split('.').slice(0, 2).join('.');
      if (repaired.has(asset)) return null;
      repaired.add(asset);
      const own = integers.filter((j) => columns.names[j]!.startsWith(`${asset}.`));
      for (const j of own) {
        fixed[j] = 0;
        release(j);
      }
      lp.changeColsIntegrality({ kind: 'set', indices: Int32Array.from(own) }, new Int32Array(own.length).fill(1));
      lp.zeroAllClocks();
      lp.options.set({ presolve: 'on', time_limit: Number.isFinite(deadlineMs) ? Math.max(0.01, (deadlineMs - performance.now()) / 1000) : REPAIR_LIMIT_S });
      lp.run();
      const found = Number(lp.info.get('primal_solution_status')) === highs.constants.solutionStatus.feasible ? lp.getSolution().colValue : null;
      lp.changeColsIntegrality({ kind: 'set', indices: Int32Array.from(own) }, new Int32Array(own.length));
      lp.options.set({ presolve: 'off' });
      if (!found) return null;
      for (const j of own) {
        fixed[j] = 1;
        fix(j, Math.round(found[j]!));
      }
      return solveLp();
    };
    for (;;) {
      if (performance.now() > deadlineMs) return { ...outOfTime, bound, rounds };
      const fractional: number[] = [];
      for (const j of integers) {
        if (fixed[j]) continue;
        const v = x[j]!;
        if (Math.abs(v - Math.round(v)) <= FEASIBILITY_TOLERANCE) {
          fixed[j] = 1;
          fix(j, Math.round(v));
        } else fractional.push(j);
      }
      if (fractional.length === 0) {
        const solution = Float64Array.from(x);
        for (const j of integers) solution[j] = Math.round(solution[j]!);
        const violation = worstViolation(model, solution);
        if (violation.amount > 1e-5) return { solution: null, bound, rounds, reason: `the rounded plan violates ${violation.where} by ${violation.amount}`, infeasible: false };
        return { solution, bound, rounds, reason: '', infeasible: false };
      }
      const current = x;
      const distance = (j: number) => Math.abs(current[j]! - Math.round(current[j]!));
      fractional.sort((a, b) => distance(a) - distance(b));
      const batch = fractional.slice(0, Math.min(batchLimit, fractional.length));
      for (const j of batch) fix(j, Math.round(current[j]!));
      let next = solveLp();
      if (!next && !timedOut()) {
        for (const j of batch) fix(j, 1 - Math.round(current[j]!));
        next = solveLp();
      }
      if (!next && timedOut()) return { ...outOfTime, bound, rounds };
      if (!next) {
        for (const j of batch) release(j);
        if (batch.length > 1) {
          batchLimit = Math.ceil(batch.length / 2);
          continue;
        }
        // A dead end: this asset's earlier roundings leave no way for this binary. Its
        // binaries are released and solved as a small MIP with everything else held.
        next = repairAsset(batch[0]!);
        if (!next) return { solution: null, bound, rounds, reason: `no rounding of ${columns.names[batch[0]!]} keeps the plan feasible`, infeasible: false };
      }
      x = next;
    }
  } finally {
    lp.dispose();
  }
}

// Runs only as a worker thread; importing the module elsewhere (tests) just gives `solve`.
if (parentPort) {
  const port = parentPort;
  const highs = await loadHighs();
  port.on('message', (request: SolveRequest) => {
    let response: SolveResponse;
    try {
      response = { id: request.id, result: solve(highs, request) };
    } catch (error) {
      if (isAbort(error)) aborted = true;
      response = { id: request.id, error: (error as Error).message };
    }
    const transfer = 'result' in response && response.result.solution ? [response.result.solution.buffer as ArrayBuffer] : [];
    port.postMessage(response, transfer);
    if (aborted) process.exit(1);
  });
  port.postMessage({ ready: true });
}
