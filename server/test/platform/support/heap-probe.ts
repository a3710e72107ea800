/**
 * A process that sets its heap growth (argument: percent) as `gridshare start` does, then keeps a
 * live set of about 30 MB while chunks of objects pass through it, each living a few turns (promoted
 * to the old generation, then garbage): the shape of a job working through data a chunk at a time.
 * Prints whether the growth was set and the peak of the JavaScript heap used, in MB.
 */
import { setHeapGrowth } from '../../../src/platform/heap-growth.js';

const applied = setHeapGrowth(Number(process.argv[2]));
const live = Array.from({ length: 300 }, (_, i) => Array.from({ length: 12_500 }, (_, j) => i + j + 0.5));
const passing: unknown[] = [];
let peak = 0;
for (let round = 0; round < 1_500; round++) {
  passing.push(Array.from({ length: 20_000 }, (_, j) => ({ round, j })));
  if (passing.length > 8) passing.shift();
  if (round % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
  peak = Math.max(peak, process.memoryUsage().heapUsed);
}
process.stdout.write(`${JSON.stringify({ applied, peakMb: peak / 1e6, live: live.length })}\n`);
