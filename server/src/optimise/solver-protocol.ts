import type { MilpModel } from './domain/model.js';
import type { SolveResult, SolveSettings, WarmStart } from './domain/solve-report.js';

/** Messages between the solver runner and its worker thread. */
export interface SolveRequest {
  readonly id: number;
  readonly model: MilpModel;
  readonly settings: SolveSettings;
  readonly warmStart?: WarmStart | undefined;
}

export type SolveResponse =
  | { readonly id: number; readonly result: SolveResult }
  | { readonly id: number; readonly error: string };
