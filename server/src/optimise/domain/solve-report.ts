import type { ModelSize } from './model.js';

/** What a solve was asked for and what it reports: plain data, shared by the runner and the plan. */

export interface SolveSettings {
  /** Wall-clock limit of the MILP search in seconds. */
  readonly timeLimitS: number;
  /** Stop when (incumbent − bound) / |incumbent| is at most this. */
  readonly relativeGap: number;
  /** …or when incumbent − bound is at most this (currency units): community objectives can be near zero or negative. */
  readonly absoluteGap: number;
}

/** A start for the MILP: values of some columns (by index of the model being solved). */
export interface WarmStart {
  readonly indices: Int32Array;
  readonly values: Float64Array;
}

export type SolveStatus =
  /** Solved to the gaps asked for (or proved optimal). */
  | 'optimal'
  /** The time limit ended the search; the best solution found is used. */
  | 'time-limit'
  /** The time limit ended the search before any solution; the LP relaxation was rounded to a feasible plan. */
  | 'rounded-relaxation'
  | 'infeasible'
  | 'unbounded'
  /** No plan: the solver failed, or the rounding found no feasible plan either. */
  | 'failed';

export interface SolveReport {
  readonly status: SolveStatus;
  readonly message: string;
  /** Objective of the plan (money-equivalent), offset included. */
  readonly objective: number | null;
  /** Best proven bound on the objective. */
  readonly bound: number | null;
  /** (objective − bound) / max(|objective|, tiny). */
  readonly relativeGap: number | null;
  /** objective − bound, in currency units. */
  readonly absoluteGap: number | null;
  readonly timeS: number;
  readonly nodes: number;
  readonly size: ModelSize;
  readonly settings: SolveSettings;
  /** Whether a start was given (HiGHS uses it when it is feasible); optimise() and stored plans: the previous plan's solution. */
  readonly warmStart: boolean;
  /** Names of constraints in an irreducible infeasible subsystem, where HiGHS found one. */
  readonly conflict?: readonly string[];
  /** HiGHS version that solved it. */
  readonly solver: string;
}

export interface SolveResult extends SolveReport {
  /** The column values of the plan; null when there is none. */
  readonly solution: Float64Array | null;
}
