import { formatUtcInstant } from '../../../kernel/time.js';
import { Scratch, waterFill, type Accumulator, type Numbers } from './apportion.js';
import type { IntervalKernel } from './engine.js';
import { kernelAllocator, registerRule, requireShares } from './registry.js';
import { StaticEntitlements } from './static.js';
import { AllocationInputError, type ShareSchedule } from './types.js';

/**
 * `static-redistributed` (hybrid): static shares first; what consumers cannot take because of
 * their caps (and any unassigned share) is redistributed to consumers who still import, again
 * and again until no energy or no demand is left.
 *
 * - `shares` (default): leftovers go in proportion to the members' shares. Repeating "give
 *   the leftover away in proportion to shares, capped" converges to water-filling: member i
 *   gets min(import_i, λ·share_i) for the λ that uses up the production (λ ≥ production, so
 *   nobody gets less than the static rule would give). That fixed point is computed directly
 *   and rounded once. Members with share 0 receive nothing.
 * - `consumption`: the static step as in `static`, then the leftover is water-filled over the
 *   remaining demand in proportion to each member's import (members with share 0 included).
 *
 * Σ received = min(P, Σ import of members who can receive) exactly.
 */
export function staticRedistributedKernel(shares: ShareSchedule, members: number, mode: 'shares' | 'consumption'): IntervalKernel {
  const scratch = new Scratch(members);
  if (mode === 'shares') {
    if (shares.members !== members) throw new AllocationInputError(`share key has ${shares.members} members, input has ${members}`);
    return {
      allocate(supply: number, _demand: number, imports: Numbers, received: Accumulator, startMs: number): number {
        const vector = shares.vectorFor(startMs);
        if (!vector) throw new AllocationInputError(`no shares for the interval starting ${formatUtcInstant(startMs)}`);
        return waterFill(supply, imports, vector.weights, received, scratch);
      },
    };
  }
  const key = new StaticEntitlements(shares, members);
  const remaining = new Float64Array(members);
  return {
    allocate(supply: number, _demand: number, imports: Numbers, received: Accumulator, startMs: number): number {
      key.compute(supply, startMs);
      const entitled = key.entitled;
      let given = 0;
      for (let i = 0; i < members; i++) {
        const imp = imports[i]!;
        const e = entitled[i]!;
        const a = imp < e ? imp : e;
        received[i] = a;
        remaining[i] = imp - a;
        given += a;
      }
      return given + waterFill(supply - given, remaining, imports, received, scratch);
    },
  };
}

registerRule({
  name: 'static-redistributed',
  summary: 'static shares first, leftovers from caps redistributed to consumers who still import (by shares or consumption)',
  needs: 'shares',
  create(config) {
    const shares = requireShares('static-redistributed', config);
    const mode = config.redistribution ?? 'shares';
    return kernelAllocator('static-redistributed', 'interval', (n) => staticRedistributedKernel(shares, n, mode), config.producers);
  },
});
