import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { apportion, Scratch, waterFill } from '../../src/sharing/domain/allocation/index.js';
import { referenceLargestRemainder, referenceWaterFill, sum } from './support/community.js';

const weightsArb = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 1_000_000 })), { minLength: 1, maxLength: 40 })
  .filter((w) => sum(w) > 0);

describe('largest-remainder apportionment', () => {
  it('adds up exactly, stays within 1 Wh of the ideal, and matches the reference (ties included)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), weightsArb, (total, weights) => {
      const out = Array.from(apportion(total, weights));
      expect(sum(out)).toBe(total);
      const W = sum(weights);
      out.forEach((a, i) => {
        expect(Math.abs(a - (total * weights[i]!) / W)).toBeLessThan(1);
        if (weights[i] === 0) expect(a).toBe(0);
      });
      expect(out).toEqual(referenceLargestRemainder(total, weights));
    }), { numRuns: 500 });
  });

  it('breaks ties towards the lower index when allocations are equal', () => {
    expect(Array.from(apportion(1, [1, 1, 1]))).toEqual([1, 0, 0]);
    expect(Array.from(apportion(2, [1, 1, 1]))).toEqual([1, 1, 0]);
    expect(Array.from(apportion(3, [2, 2, 2, 2]))).toEqual([1, 1, 1, 0]);
    // 2 × (4, 1, 1) / 6 = (1.33, 0.33, 0.33): equal remainders, but member 0 already has 1 Wh,
    // so the unit goes to the smaller allocation (member 1), not to the lower index.
    expect(Array.from(apportion(2, [4, 1, 1]))).toEqual([1, 1, 0]);
  });

  it('falls back to exact BigInt arithmetic beyond 2^52 and still matches the reference', () => {
    fc.assert(fc.property(
      fc.integer({ min: 2 ** 40, max: 2 ** 50 }),
      fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 12 }).filter((w) => sum(w) > 0),
      (total, weights) => {
        const out = Array.from(apportion(total, weights));
        expect(out).toEqual(referenceLargestRemainder(total, weights));
        expect(sum(out)).toBe(total);
      },
    ), { numRuns: 200 });
  });

  it('refuses fractions and negative weights', () => {
    expect(() => apportion(10, [1.5, 2])).toThrow(/whole number/);
    expect(() => apportion(10, [-1, 2])).toThrow(/whole number/);
    expect(() => apportion(10, [0, 0])).toThrow(/zero/);
    expect(Array.from(apportion(0, [0, 0]))).toEqual([0, 0]);
  });
});

describe('water-filling (repeated capped redistribution)', () => {
  const capsWeights = fc.integer({ min: 1, max: 30 }).chain((n) => fc.tuple(
    fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 100_000 })), { minLength: n, maxLength: n }),
    fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 1_000_000 })), { minLength: n, maxLength: n }),
  ));

  it('distributes min(supply, Σ eligible caps), respects caps, and is within 1 Wh of the iterated rule', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 500_000 }), capsWeights, (supply, [caps, weights]) => {
      const out = new Float64Array(caps.length);
      const given = waterFill(supply, caps, weights, out, new Scratch());
      const eligible = sum(caps.filter((_, i) => weights[i]! > 0));
      expect(given).toBe(Math.min(supply, eligible));
      expect(sum(Array.from(out))).toBe(given);
      const ideal = referenceWaterFill(supply, caps, weights);
      out.forEach((a, i) => {
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(caps[i]!);
        if (weights[i] === 0) expect(a).toBe(0);
        expect(Math.abs(a - ideal[i]!)).toBeLessThan(1 + 1e-6);
      });
    }), { numRuns: 500 });
  });

  it('stays exact with products beyond 2^52 (BigInt path)', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { minLength: 2, maxLength: 8 }),
      fc.array(fc.integer({ min: 2 ** 25, max: 2 ** 30 }), { minLength: 8, maxLength: 8 }),
      fc.integer({ min: 0, max: 2 ** 33 }),
      (caps, weights, supply) => {
        const out = new Float64Array(caps.length);
        const given = waterFill(supply, caps, weights.slice(0, caps.length), out, new Scratch());
        expect(given).toBe(Math.min(supply, sum(caps)));
        expect(sum(Array.from(out))).toBe(given);
        out.forEach((a, i) => expect(a).toBeLessThanOrEqual(caps[i]!));
      },
    ), { numRuns: 200 });
  });
});
