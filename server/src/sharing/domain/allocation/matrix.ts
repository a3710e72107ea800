import { AllocationInputError, type AllocationResult, type IntervalMatrix } from './types.js';

import { HOUR_MS, QUARTER_HOUR_MS } from '../../../kernel/time.js';
/** An empty input of the given shape (all zeros), to be filled by the caller. */
export function createMatrix(memberIds: readonly string[], intervalStartMs: Float64Array, withPv = false): IntervalMatrix {
  const size = memberIds.length * intervalStartMs.length;
  return {
    memberIds,
    intervalStartMs,
    importWh: new Int32Array(size),
    exportWh: new Int32Array(size),
    pvWh: withPv ? new Int32Array(size).fill(-1) : undefined,
  };
}

/** A result buffer for `members × intervals`, reusable across chunks of the same size. */
export function createResult(rule: string, members: number, intervals: number): AllocationResult {
  return {
    rule,
    members,
    intervals,
    fromCommunityWh: new Int32Array(members * intervals),
    toCommunityWh: new Int32Array(members * intervals),
    sharedWh: new Float64Array(intervals),
  };
}

/** A view of the first `intervals` intervals of a larger result buffer (no copy), for the last, shorter chunk. */
export function resultView(result: AllocationResult, rule: string, intervals: number): AllocationResult {
  const size = result.members * intervals;
  if (size > result.fromCommunityWh.length) throw new RangeError('result buffer too small');
  return {
    rule,
    members: result.members,
    intervals,
    fromCommunityWh: result.fromCommunityWh.subarray(0, size),
    toCommunityWh: result.toCommunityWh.subarray(0, size),
    sharedWh: result.sharedWh.subarray(0, intervals),
  };
}

/** Intervals [from, to) of an input, as views (no copy), for processing in chunks. */
export function sliceMatrix(input: IntervalMatrix, from: number, to: number): IntervalMatrix {
  const n = input.memberIds.length;
  return {
    memberIds: input.memberIds,
    intervalStartMs: input.intervalStartMs.subarray(from, to),
    importWh: input.importWh.subarray(from * n, to * n),
    exportWh: input.exportWh.subarray(from * n, to * n),
    pvWh: input.pvWh?.subarray(from * n, to * n),
  };
}

/**
 * Chunk boundaries of about `target` intervals that never split a UTC hour, so rules that
 * work on hours (Spain, Italy) see whole hours in every chunk.
 */
export function chunkBoundaries(intervalStartMs: Float64Array, target: number): number[] {
  const bounds = [0];
  const T = intervalStartMs.length;
  let next = target;
  while (next < T) {
    let cut = next;
    while (cut < T && Math.floor(intervalStartMs[cut]! / HOUR_MS) === Math.floor(intervalStartMs[cut - 1]! / HOUR_MS)) cut++;
    if (cut >= T) break;
    bounds.push(cut);
    next = cut + target;
  }
  bounds.push(T);
  return bounds;
}

/**
 * Checks shape and values: intervals on the 15-minute UTC grid and strictly ascending,
 * energy values ≥ 0 (Int32 storage already makes them whole and ≤ 2^31 − 1), PV either −1 (not measured) or ≥ the
 * export it explains.
 */
export function validateMatrix(input: IntervalMatrix): void {
  const n = input.memberIds.length;
  const T = input.intervalStartMs.length;
  if (new Set(input.memberIds).size !== n) throw new AllocationInputError('member ids are not unique');
  for (const name of ['importWh', 'exportWh', 'pvWh'] as const) {
    const values = input[name];
    if (values && values.length !== n * T) throw new AllocationInputError(`${name} has ${values.length} values, expected ${n} members × ${T} intervals`);
  }
  for (let t = 0; t < T; t++) {
    const ms = input.intervalStartMs[t]!;
    if (!Number.isInteger(ms) || ms % QUARTER_HOUR_MS !== 0) throw new AllocationInputError(`interval ${t} does not start on a 15-minute UTC boundary`);
    if (t > 0 && ms <= input.intervalStartMs[t - 1]!) throw new AllocationInputError(`interval ${t} is not after interval ${t - 1}`);
  }
  const { importWh, exportWh, pvWh } = input;
  for (let k = 0; k < n * T; k++) {
    if (importWh[k]! < 0 || exportWh[k]! < 0) {
      throw new AllocationInputError(`negative energy for member ${input.memberIds[k % n]} in interval ${Math.floor(k / n)}`);
    }
    if (pvWh && pvWh[k]! !== -1 && pvWh[k]! < exportWh[k]!) {
      throw new AllocationInputError(`member ${input.memberIds[k % n]} exports more than its PV produced in interval ${Math.floor(k / n)}`);
    }
  }
}

/** The four flows of one member in one interval (plus own PV used where PV is measured). */
export interface MemberFlows {
  readonly importWh: number;
  readonly exportWh: number;
  readonly fromCommunityWh: number;
  readonly toCommunityWh: number;
  readonly fromGridWh: number;
  readonly toGridWh: number;
  /** PV produced and used on site (pv − export); undefined without a PV meter. */
  readonly selfConsumedWh: number | undefined;
}

export function memberFlows(input: IntervalMatrix, result: AllocationResult, t: number, i: number): MemberFlows {
  const k = t * input.memberIds.length + i;
  const importWh = input.importWh[k]!;
  const exportWh = input.exportWh[k]!;
  const fromCommunityWh = result.fromCommunityWh[k]!;
  const toCommunityWh = result.toCommunityWh[k]!;
  const pv = input.pvWh?.[k];
  return {
    importWh,
    exportWh,
    fromCommunityWh,
    toCommunityWh,
    fromGridWh: importWh - fromCommunityWh,
    toGridWh: exportWh - toCommunityWh,
    selfConsumedWh: pv === undefined || pv < 0 ? undefined : pv - exportWh,
  };
}

/** Period totals per member and for the community; every total is the sum of its intervals. */
export interface AllocationSummary {
  readonly members: number;
  readonly intervals: number;
  readonly importWh: number;
  readonly exportWh: number;
  readonly sharedWh: number;
  readonly fromGridWh: number;
  readonly toGridWh: number;
  /** Own PV used on site, over members with a PV meter. */
  readonly selfConsumedWh: number;
  readonly perMember: {
    readonly importWh: Float64Array;
    readonly exportWh: Float64Array;
    readonly fromCommunityWh: Float64Array;
    readonly toCommunityWh: Float64Array;
    readonly selfConsumedWh: Float64Array;
  };
}

/** Adds one run of intervals to running totals (so chunked runs can be summed as they go). */
export function accumulate(into: AllocationSummaryBuilder, input: IntervalMatrix, result: AllocationResult): void {
  const n = input.memberIds.length;
  const T = input.intervalStartMs.length;
  const { importWh, exportWh, pvWh } = input;
  const { fromCommunityWh, toCommunityWh } = result;
  const m = into.perMember;
  for (let t = 0; t < T; t++) {
    const off = t * n;
    for (let i = 0; i < n; i++) {
      const k = off + i;
      m.importWh[i]! += importWh[k]!;
      m.exportWh[i]! += exportWh[k]!;
      m.fromCommunityWh[i]! += fromCommunityWh[k]!;
      m.toCommunityWh[i]! += toCommunityWh[k]!;
      if (pvWh) {
        const pv = pvWh[k]!;
        if (pv >= 0) m.selfConsumedWh[i]! += pv - exportWh[k]!;
      }
    }
  }
  into.intervals += T;
}

export interface AllocationSummaryBuilder {
  intervals: number;
  readonly perMember: AllocationSummary['perMember'];
}

export function summaryBuilder(members: number): AllocationSummaryBuilder {
  return {
    intervals: 0,
    perMember: {
      importWh: new Float64Array(members),
      exportWh: new Float64Array(members),
      fromCommunityWh: new Float64Array(members),
      toCommunityWh: new Float64Array(members),
      selfConsumedWh: new Float64Array(members),
    },
  };
}

export function finishSummary(builder: AllocationSummaryBuilder): AllocationSummary {
  const m = builder.perMember;
  const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
  const importWh = sum(m.importWh);
  const exportWh = sum(m.exportWh);
  const sharedWh = sum(m.fromCommunityWh);
  return {
    members: m.importWh.length,
    intervals: builder.intervals,
    importWh,
    exportWh,
    sharedWh,
    fromGridWh: importWh - sharedWh,
    toGridWh: exportWh - sum(m.toCommunityWh),
    selfConsumedWh: sum(m.selfConsumedWh),
    perMember: m,
  };
}

export function summarize(input: IntervalMatrix, result: AllocationResult): AllocationSummary {
  const builder = summaryBuilder(input.memberIds.length);
  accumulate(builder, input, result);
  return finishSummary(builder);
}
