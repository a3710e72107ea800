import { apportionIndexed, Scratch, type Accumulator, type Numbers } from './apportion.js';
import type { IntervalKernel } from './engine.js';
import { kernelAllocator, registerRule } from './registry.js';

/**
 * `dynamic`: production is shared in proportion to consumption,
 *   received_i = min(import_i, P × import_i / Σ import),
 * so Σ received = min(P, Σ import) exactly. When production covers all imports everyone gets
 * their whole import; otherwise the ideal P × import_i / Σ import is below import_i and the
 * largest-remainder rounding keeps it there (see apportion.ts).
 */
export function dynamicKernel(members: number): IntervalKernel {
  const scratch = new Scratch(members);
  const idx = new Int32Array(members);
  return {
    allocate(supply: number, demand: number, imports: Numbers, received: Accumulator): number {
      if (supply >= demand) {
        for (let i = 0; i < members; i++) received[i] = imports[i]!;
        return demand;
      }
      let count = 0;
      for (let i = 0; i < members; i++) if (imports[i]! > 0) idx[count++] = i;
      apportionIndexed(supply, idx, count, imports, demand, received, scratch);
      return supply;
    },
  };
}

registerRule({
  name: 'dynamic',
  summary: 'production shared in proportion to consumption: min(import, P × import / Σ import)',
  needs: 'nothing',
  create: (config) => kernelAllocator('dynamic', 'interval', dynamicKernel, config.producers),
});
