import { apportionIndexed, Scratch, type Accumulator, type Numbers } from './apportion.js';
import { createResult } from './matrix.js';
import { attributeToProducers, type ProducerAttribution } from './producers.js';
import { AllocationInputError, type AllocationResult, type IntervalMatrix } from './types.js';

import { HOUR_MS } from '../../../kernel/time.js';
/**
 * What distinguishes one rule from another: how the community's supply in one settlement
 * period is split over the members' imports. Everything else (reading the matrix, the
 * producer side, writing results) is shared by the drivers below.
 */
export interface IntervalKernel {
  /**
   * Writes into `received` (zeroed by the caller) the community energy each member gets,
   * never more than `imports[i]`, and returns Σ received (≤ min(supply, demand)).
   * `supply` = Σ exports, `demand` = Σ imports, `startMs` = start of the period.
   */
  allocate(supply: number, demand: number, imports: Numbers, received: Accumulator, startMs: number): number;
}

function resultFor(rule: string, input: IntervalMatrix, out: AllocationResult | undefined): AllocationResult {
  const n = input.memberIds.length;
  const T = input.intervalStartMs.length;
  if (!out) return createResult(rule, n, T);
  if (out.members !== n || out.intervals !== T) throw new RangeError(`result buffer is ${out.members}×${out.intervals}, input is ${n}×${T}`);
  return out;
}

function negative(input: IntervalMatrix, k: number): AllocationInputError {
  const n = input.memberIds.length;
  return new AllocationInputError(`negative energy for member ${input.memberIds[k % n]} in interval ${Math.floor(k / n)}`);
}

/** Runs a kernel on every 15-minute interval (Austria, France, the generic rules). */
export function runPerInterval(
  rule: string,
  kernel: IntervalKernel,
  input: IntervalMatrix,
  attribution: ProducerAttribution,
  out?: AllocationResult,
): AllocationResult {
  const result = resultFor(rule, input, out);
  const n = input.memberIds.length;
  const T = input.intervalStartMs.length;
  const { importWh, exportWh, intervalStartMs } = input;
  const { fromCommunityWh, toCommunityWh, sharedWh } = result;
  const scratch = new Scratch(n);
  for (let t = 0; t < T; t++) {
    const off = t * n;
    let supply = 0;
    let demand = 0;
    for (let i = 0; i < n; i++) {
      const imp = importWh[off + i]!;
      const exp = exportWh[off + i]!;
      if ((imp | exp) < 0) throw negative(input, off + i);
      demand += imp;
      supply += exp;
    }
    if (supply === 0 || demand === 0) {
      // Nothing to share (every night, for a PV community): the common fast path.
      fromCommunityWh.fill(0, off, off + n);
      toCommunityWh.fill(0, off, off + n);
      sharedWh[t] = 0;
      continue;
    }
    // The kernel writes straight into the Int32 result (no copy); the passes here are
    // memory-bound, so every pass saved shows.
    const received = fromCommunityWh.subarray(off, off + n);
    received.fill(0);
    const allocated = kernel.allocate(supply, demand, importWh.subarray(off, off + n), received, intervalStartMs[t]!);
    const exports = exportWh.subarray(off, off + n);
    if (allocated === supply) {
      toCommunityWh.set(exports, off);
    } else {
      const given = toCommunityWh.subarray(off, off + n);
      given.fill(0);
      attributeToProducers(allocated, supply, exports, given, attribution, scratch);
    }
    sharedWh[t] = allocated;
  }
  return result;
}

/**
 * Runs a kernel on hourly sums and spreads each member's hourly result back over its
 * quarter hours (Spain's hourly coefficients, Italy's hourly shared energy). Within the hour
 * a member's community energy goes to its quarter hours in proportion to its import there
 * (largest remainder, so never above the quarter's import) and a producer's part likewise in
 * proportion to its export. The community balance therefore holds per hour, not per quarter.
 */
export function runPerHour(
  rule: string,
  kernel: IntervalKernel,
  input: IntervalMatrix,
  attribution: ProducerAttribution,
  out?: AllocationResult,
): AllocationResult {
  const result = resultFor(rule, input, out);
  const n = input.memberIds.length;
  const T = input.intervalStartMs.length;
  const { importWh, exportWh, intervalStartMs } = input;
  const { fromCommunityWh, toCommunityWh, sharedWh } = result;
  // Hourly sums can exceed Int32 (four quarters), so the hourly driver works in Float64.
  const received = new Float64Array(n);
  const given = new Float64Array(n);
  const scratch = new Scratch(n);
  const hourImports = new Float64Array(n);
  const hourExports = new Float64Array(n);
  const small = new Scratch(8);
  const quarterWeights = new Float64Array(8);
  const quarterOut = new Float64Array(8);
  const quarterIdx = new Int32Array(8);
  let t0 = 0;
  while (t0 < T) {
    const hour = Math.floor(intervalStartMs[t0]! / HOUR_MS);
    let t1 = t0 + 1;
    while (t1 < T && Math.floor(intervalStartMs[t1]! / HOUR_MS) === hour) t1++;
    const quarters = t1 - t0;
    hourImports.fill(0);
    hourExports.fill(0);
    for (let t = t0; t < t1; t++) {
      const off = t * n;
      for (let i = 0; i < n; i++) {
        const imp = importWh[off + i]!;
        const exp = exportWh[off + i]!;
        if ((imp | exp) < 0) throw negative(input, off + i);
        hourImports[i]! += imp;
        hourExports[i]! += exp;
      }
    }
    let supply = 0;
    let demand = 0;
    for (let i = 0; i < n; i++) { supply += hourExports[i]!; demand += hourImports[i]!; }
    received.fill(0);
    given.fill(0);
    if (supply > 0 && demand > 0) {
      const allocated = kernel.allocate(supply, demand, hourImports, received, hour * HOUR_MS);
      attributeToProducers(allocated, supply, hourExports, given, attribution, scratch);
    }
    for (let t = t0; t < t1; t++) {
      fromCommunityWh.fill(0, t * n, (t + 1) * n);
      toCommunityWh.fill(0, t * n, (t + 1) * n);
      sharedWh[t] = 0;
    }
    for (let q = 0; q < quarters; q++) quarterIdx[q] = q;
    const spread = (total: number, source: Int32Array, target: Int32Array, i: number) => {
      if (total === 0) return;
      let W = 0;
      for (let q = 0; q < quarters; q++) {
        const w = source[(t0 + q) * n + i]!;
        quarterWeights[q] = w;
        W += w;
      }
      quarterOut.fill(0);
      apportionIndexed(total, quarterIdx, quarters, quarterWeights, W, quarterOut, small);
      for (let q = 0; q < quarters; q++) target[(t0 + q) * n + i] = quarterOut[q]!;
    };
    for (let i = 0; i < n; i++) {
      spread(received[i]!, importWh, fromCommunityWh, i);
      spread(given[i]!, exportWh, toCommunityWh, i);
    }
    for (let t = t0; t < t1; t++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += fromCommunityWh[t * n + i]!;
      sharedWh[t] = s;
    }
    t0 = t1;
  }
  return result;
}
