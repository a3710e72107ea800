import { formatUtcInstant } from '../../../kernel/time.js';
import { apportionIndexed, Scratch, type Accumulator, type Numbers } from './apportion.js';
import type { IntervalKernel } from './engine.js';
import { kernelAllocator, registerRule, requireShares } from './registry.js';
import { AllocationInputError, type ShareSchedule, type ShareVector } from './types.js';

/**
 * `static`: every consumer is entitled to a fixed share of the production, capped at what it
 * imports; what a consumer cannot use, and any share that belongs to nobody, goes to the
 * grid. (Austria: "Wird der Anteil nicht verbraucht, gilt er als ins Netz eingespeister
 * Überschuss"; France: "clé statique".)
 *
 * Entitlements are whole Wh: production is apportioned by largest remainder over the members'
 * share weights plus one pseudo-member holding the unassigned share (last in ties), so
 * Σ entitlements = production exactly and each is within 1 Wh of share × production.
 */
export class StaticEntitlements {
  private vector: ShareVector | undefined;
  private readonly weights: Float64Array;
  private readonly idx: Int32Array;
  private count = 0;
  readonly entitled: Float64Array;
  private readonly scratch: Scratch;

  constructor(private readonly shares: ShareSchedule, private readonly members: number) {
    if (shares.members !== members) throw new AllocationInputError(`share key has ${shares.members} members, input has ${members}`);
    this.weights = new Float64Array(members + 1);
    this.idx = new Int32Array(members + 1);
    this.entitled = new Float64Array(members + 1);
    this.scratch = new Scratch(members + 1);
  }

  /** Fills `entitled[0..members)` for this production; index `members` is the unassigned rest. */
  compute(supply: number, startMs: number): void {
    const vector = this.shares.vectorFor(startMs);
    if (!vector) throw new AllocationInputError(`no shares for the interval starting ${formatUtcInstant(startMs)}`);
    if (vector !== this.vector) this.prepare(vector);
    this.entitled.fill(0);
    apportionIndexed(supply, this.idx, this.count, this.weights, vector.denominator, this.entitled, this.scratch);
  }

  private prepare(vector: ShareVector): void {
    const n = this.members;
    this.weights.set(vector.weights);
    this.weights[n] = vector.denominator - vector.total;
    this.count = 0;
    for (let i = 0; i <= n; i++) if (this.weights[i]! > 0) this.idx[this.count++] = i;
    this.vector = vector;
  }
}

export function staticKernel(shares: ShareSchedule, members: number): IntervalKernel {
  const key = new StaticEntitlements(shares, members);
  return {
    allocate(supply: number, _demand: number, imports: Numbers, received: Accumulator, startMs: number): number {
      key.compute(supply, startMs);
      const entitled = key.entitled;
      let sum = 0;
      for (let i = 0; i < members; i++) {
        const imp = imports[i]!;
        const e = entitled[i]!;
        const a = imp < e ? imp : e;
        received[i] = a;
        sum += a;
      }
      return sum;
    },
  };
}

registerRule({
  name: 'static',
  summary: 'fixed shares per consumer, each capped at its import; the rest goes to the grid',
  needs: 'shares',
  create(config) {
    const shares = requireShares('static', config);
    return kernelAllocator('static', 'interval', (n) => staticKernel(shares, n), config.producers);
  },
});
