import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the JavaScript heap grow past what its last full collection left live before it
 * collects again, in percent. V8's own policy lets it grow up to 4× (300 %) on a fast machine, so a
 * background job that works through data a chunk at a time holds several chunks' garbage at once:
 * the sharing job of 1,000 members × a month peaked 297 MB above its baseline under V8's policy,
 * 128 MB at 100 %, for about a tenth more of the job's CPU, while ingest's throughput and CPU per
 * reading did not change (bench/RESULTS.md, "Sharing job and settlement"). Memory, not CPU, is what
 * a community's small server runs out of.
 */
export const DEFAULT_HEAP_GROWTH_PERCENT = 100;
const MAX_HEAP_GROWTH_PERCENT = 1_000;

export const HEAP_GROWTH_EXPECTED = `a whole number of percent from 0 (V8's own policy) to ${MAX_HEAP_GROWTH_PERCENT}`;

export const isHeapGrowth = (percent: number): boolean => Number.isInteger(percent) && percent >= 0 && percent <= MAX_HEAP_GROWTH_PERCENT;

/** Sets this process's heap growth (`--heap-growth`); 0 leaves V8's own policy. */
export function setHeapGrowth(percent: number): void {
  if (!isHeapGrowth(percent)) throw new RangeError(`the heap growth is ${HEAP_GROWTH_EXPECTED}, not ${percent}`);
  // V8 reads the flag at every collection, so it applies from the next one on (Node's v8 API; it is not among NODE_OPTIONS' flags).
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
