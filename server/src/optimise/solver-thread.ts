import { parentPort } from 'node:worker_threads';
import * as highsModule from 'highs';
import type { Highs, Model, ModelData } from 'highs';
import { modelSize, objectiveValue, worstViolation, type MilpModel } from './domain/model.js';
import type { SolveResult } from './domain/solve-report.js';
import type { SolveRequest, SolveResponse } from './solver-protocol.js';

/**
 * The solver thread: HiGHS (WebAssembly) solves one model at a time here, so the platform's
 * event loop never waits for it. Everything HiGHS-specific lives in this file.
 */

// The package's types describe its CommonJS build (the loader as `default.default`); imported
// as ESM, the loader is the default export itself.
const loadHighs = highsModule.default as unknown as typeof highsModule.default.default;

const FEASIBILITY_TOLERANCE = 1e-6;
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

export function solve(highs: Highs, request: SolveRequest): SolveResult {
  const started = performance.now();
  const { model, settings, warmStart } = request;
  const size = modelSize(model);
  const base = { size, settings, warmStart: warmStart !== undefined, solver: `HiGHS ${highs.version.string}` };
  const instance = highs.createModel(modelData(highs, model));
  try {
    instance.options.set({
      output_flag: false,
      time_limit: settings.timeLimitS,
      mip_rel_gap: settings.relativeGap,
      mip_abs_gap: settings.absoluteGap,
    });
    if (warmStart && warmStart.indices.length > 0) instance.setSolution({ indices: warmStart.indices, values: warmStart.values });
    instance.run();
    const status = instance.getModelStatus();
    const codes = highs.constants.modelStatus;
    const nodes = size.integers > 0 ? Number(instance.info.get('mip_node_count')) : 0;
    const timeS = () => (performance.now() - started) / 1000;
    const feasible = Number(instance.info.get('primal_solution_status')) === highs.constants.solutionStatus.feasible;

    if (status === codes.infeasible || status === codes.unboundedOrInfeasible) {
      return { ...base, status: 'infeasible', message: 'the model has no feasible plan', objective: null, bound: null, relativeGap: null, absoluteGap: null, timeS: timeS(), nodes, solution: null, ...conflictOf(instance, model) };
    }
    if (status === codes.unbounded) {
      return { ...base, status: 'unbounded', message: 'the objective is unbounded (a price or weight lets a variable without limit earn money)', objective: null, bound: null, relativeGap: null, absoluteGap: null, timeS: timeS(), nodes, solution: null };
    }
    if ((status === codes.optimal || status === codes.timeLimit || status === codes.interrupted || status === codes.iterationLimit || status === codes.solutionLimit) && feasible) {
      const solution = instance.getSolution().colValue;
      const objective = objectiveValue(model, solution);
      const bound = size.integers > 0 ? finite(instance.info.get('mip_dual_bound')) : objective;
      const optimal = status === codes.optimal;
      return {
        ...base,
        status: optimal ? 'optimal' : 'time-limit',
        message: optimal ? 'solved within the gap asked for' : `stopped by the ${settings.timeLimitS} s limit; the best plan found is used`,
        objective,
        bound,
        ...gaps(objective, bound),
        timeS: timeS(),
        nodes,
        solution,
      };
    }
    if (status === codes.timeLimit || status === codes.interrupted || status === codes.iterationLimit) {
      const rounded = roundRelaxation(highs, instance, model);
      const message = rounded.solution
        ? `stopped by the ${settings.timeLimitS} s limit before any plan was found; the LP relaxation was rounded to a feasible plan (${rounded.rounds} dives)`
        : `stopped by the ${settings.timeLimitS} s limit before any plan was found, and rounding the LP relaxation found none either (${rounded.reason})`;
      const objective = rounded.solution ? objectiveValue(model, rounded.solution) : null;
      return { ...base, status: rounded.solution ? 'rounded-relaxation' : 'failed', message, objective, bound: rounded.bound, ...gaps(objective, rounded.bound), timeS: timeS(), nodes, solution: rounded.solution };
    }
    return { ...base, status: 'failed', message: `HiGHS ended with model status ${status}`, objective: null, bound: null, relativeGap: null, absoluteGap: null, timeS: timeS(), nodes, solution: null };
  } finally {
    instance.dispose();
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
 * binary that is already 0 or 1; round the quarter of the fractional ones that are nearest to
 * 0 or 1 (at least one) and solve again; if that is infeasible, round that batch the other way
 * instead; repeat until nothing is fractional. The continuous variables are then optimal for
 * the binaries chosen, so the plan is feasible and its gap to the relaxation's bound is honest.
 */
function roundRelaxation(highs: Highs, instance: Model, model: MilpModel): { solution: Float64Array | null; bound: number | null; rounds: number; reason: string } {
  const { columns } = model;
  const integers: number[] = [];
  for (let j = 0; j < columns.integer.length; j++) if (columns.integer[j]) integers.push(j);
  instance.clearSolver();
  instance.clearIntegrality();
  instance.options.set({ time_limit: 1e6, presolve: 'off' });
  const codes = highs.constants.modelStatus;
  const solveLp = (): Float64Array | null => {
    instance.run();
    return instance.getModelStatus() === codes.optimal ? instance.getSolution().colValue : null;
  };
  let x = solveLp();
  if (!x) return { solution: null, bound: null, rounds: 0, reason: 'the LP relaxation has no solution' };
  const bound = objectiveValue(model, x);
  const fixed = new Uint8Array(columns.integer.length);
  const fix = (j: number, value: number) => {
    fixed[j] = 1;
    instance.changeColBounds(j, value, value);
  };
  const release = (j: number) => {
    fixed[j] = 0;
    instance.changeColBounds(j, columns.lower[j]!, columns.upper[j]!);
  };
  for (let rounds = 1; rounds <= integers.length + 1; rounds++) {
    const fractional: number[] = [];
    for (const j of integers) {
      if (fixed[j]) continue;
      const v = x[j]!;
      if (Math.abs(v - Math.round(v)) <= FEASIBILITY_TOLERANCE) fix(j, Math.round(v));
      else fractional.push(j);
    }
    if (fractional.length === 0) {
      const solution = Float64Array.from(x);
      for (const j of integers) solution[j] = Math.round(solution[j]!);
      const violation = worstViolation(model, solution);
      if (violation.amount > 1e-5) return { solution: null, bound, rounds, reason: `the rounded plan violates ${violation.where} by ${violation.amount}` };
      return { solution, bound, rounds, reason: '' };
    }
    const distance = (j: number) => Math.abs(x![j]! - Math.round(x![j]!));
    fractional.sort((a, b) => distance(a) - distance(b));
    const batch = fractional.slice(0, Math.max(1, Math.ceil(fractional.length / 4)));
    for (const j of batch) fix(j, Math.round(x[j]!));
    let next = solveLp();
    if (!next) {
      for (const j of batch) fix(j, 1 - Math.round(x[j]!));
      next = solveLp();
    }
    if (!next && batch.length > 1) {
      // Neither way round works for the whole batch: round only the nearest one.
      for (const j of batch) release(j);
      fix(batch[0]!, Math.round(x[batch[0]!]!));
      next = solveLp() ?? (fix(batch[0]!, 1 - Math.round(x[batch[0]!]!)), solveLp());
    }
    if (!next) return { solution: null, bound, rounds, reason: `no rounding of ${columns.names[batch[0]!]} keeps the plan feasible` };
    x = next;
  }
  return { solution: null, bound, rounds: integers.length, reason: 'diving did not converge' };
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
      response = { id: request.id, error: (error as Error).message };
    }
    const transfer = 'result' in response && response.result.solution ? [response.result.solution.buffer as ArrayBuffer] : [];
    port.postMessage(response, transfer);
  });
  port.postMessage({ ready: true });
}
