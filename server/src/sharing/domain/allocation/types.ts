/**
 * Data model of the allocation engine.
 *
 * Energy is in whole Wh. Inputs and results are interval-major typed arrays: the value of
 * member `i` in interval `t` sits at `t * members + i`, so the per-interval loop (which is
 * what every rule does) walks contiguous memory. Int32 keeps one member-interval at 4 bytes:
 * 1,000 members × 35,040 intervals of import + export + the two results fit in ~560 MB,
 * where Float64 would need twice that. 2^31 − 1 Wh in 15 minutes is 8.6 GW, far above any
 * metering point.
 */



/** Metered input of a community over a run of intervals. */
export interface IntervalMatrix {
  /** Member ids; member index `i` everywhere refers to `memberIds[i]`. */
  readonly memberIds: readonly string[];
  /** UTC start of each interval in ms since the epoch, ascending. */
  readonly intervalStartMs: Float64Array;
  /** Grid import at each member's metering point, `intervals × members`, interval-major. */
  readonly importWh: Int32Array;
  /** Grid export at each member's metering point, same layout. */
  readonly exportWh: Int32Array;
  /**
   * Behind-the-meter PV production where measured (same layout), `-1` where the member has
   * no PV meter. Only used for the "own PV used" (self-consumed) part of the split.
   */
  readonly pvWh?: Int32Array | undefined;
}

/** What a rule computed for a run of intervals (same layout as the input). */
export interface AllocationResult {
  readonly rule: string;
  readonly members: number;
  readonly intervals: number;
  /** Community energy allocated to each member's import. */
  readonly fromCommunityWh: Int32Array;
  /** Part of each member's export that went to the community. */
  readonly toCommunityWh: Int32Array;
  /** Σ fromCommunityWh per interval. */
  readonly sharedWh: Float64Array;
}

/**
 * Fixed-point shares of production for one interval: member `i` is entitled to
 * `weights[i] / denominator` of the community's production. Weights are whole numbers, so the
 * engine can apportion with exact integer arithmetic; `total` (Σ weights) ≤ denominator, and
 * what is left (`denominator − total`) belongs to nobody (goes to the grid under `static`).
 */
export interface ShareVector {
  readonly weights: Float64Array;
  readonly total: number;
  readonly denominator: number;
}

/** Shares per interval: constant (a share key) or varying (hourly coefficients). */
export interface ShareSchedule {
  readonly members: number;
  /** The shares in force for the interval starting at `startMs`, or undefined if none. */
  vectorFor(startMs: number): ShareVector | undefined;
}

/** Bad input to the engine or to one of its parsers; `line` is 1-based where known. */
export class AllocationInputError extends Error {
  constructor(message: string, readonly line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'AllocationInputError';
  }
}
