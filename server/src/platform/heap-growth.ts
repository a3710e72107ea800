import { getHeapStatistics, setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the JavaScript heap grow past what its last full collection left live before it
 * collects again, in percent, at most. With a heap limit of 2 GB or more (Node's default on a host
 * with about 8 GB of memory or more) V8's own policy lets it grow up to 4× on a fast machine, so a
 * background job that works through data a chunk at a time holds several chunks' garbage at once:
 * the sharing job of 1,000 members × a month peaked 297 MB above its baseline under V8's policy,
 * 128 MB at 100 %, for about a tenth more of the job's CPU, while ingest's throughput and CPU per
 * reading did not change (bench/RESULTS.md, "Sharing job and settlement"). Below that limit V8
 * scales its own factor between 1.3× and 2× and is left alone: the flag replaces V8's factor
 * outright, so setting it there could only let the heap grow further.
 */
export const DEFAULT_HEAP_GROWTH_PERCENT = 100;
const MAX_HEAP_GROWTH_PERCENT = 1_000;
/** The heap limit from which V8's own growth factor can reach 4× (its heap controller's largest size class). */
const FULL_GROWTH_HEAP_LIMIT_BYTES = 2 * 1024 ** 3;

export const HEAP_GROWTH_EXPECTED = `a whole number of percent from 0 (V8's own policy) to ${MAX_HEAP_GROWTH_PERCENT}`;

export const isHeapGrowth = (percent: number): boolean => Number.isInteger(percent) && percent >= 0 && percent <= MAX_HEAP_GROWTH_PERCENT;

/**
 * Sets this process's heap growth (`--heap-growth`) where V8's own could exceed it; 0 leaves V8's
 * own policy. Returns whether it was set.
 */
export function setHeapGrowth(percent: number, heapLimitBytes = getHeapStatistics().heap_size_limit): boolean {
  if (!isHeapGrowth(percent)) throw new RangeError(`the heap growth is ${HEAP_GROWTH_EXPECTED}, not ${percent}`);
  if (percent === 0 || heapLimitBytes < FULL_GROWTH_HEAP_LIMIT_BYTES) return false;
  // V8 reads the flag at every collection, so it applies from the next one on (Node's v8 API; it is not among NODE_OPTIONS' flags).
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
