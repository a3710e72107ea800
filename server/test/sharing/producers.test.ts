import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { apportion, producerConsumerFlows } from '../../src/sharing/domain/allocation/index.js';
import { sum } from './support/community.js';

describe('who gave how much to whom', () => {
  it('keeps both margins exact with every cell within 1 Wh of the proportional ideal', () => {
    const side = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 100_000 })), { minLength: 1, maxLength: 25 });
    fc.assert(fc.property(side, side, fc.nat(), (received, weights, seed) => {
      // The producers' side must add up to what consumers received: apportion it by weights.
      const A = sum(received);
      const w = sum(weights) > 0 ? weights : weights.map((_, j) => (j === seed % weights.length ? 1 : 0));
      const given = Array.from(apportion(A, w));
      const flows = producerConsumerFlows(received, given);
      const P = flows.producers.length;
      flows.consumers.forEach((i, c) => {
        const row = Array.from(flows.flowWh.subarray(c * P, (c + 1) * P));
        expect(sum(row)).toBe(received[i]);
        row.forEach((v, p) => {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(Math.abs(v - (received[i]! * given[flows.producers[p]!]!) / A)).toBeLessThan(1);
        });
      });
      flows.producers.forEach((j, p) => {
        let col = 0;
        for (let c = 0; c < flows.consumers.length; c++) col += flows.flowWh[c * P + p]!;
        expect(col).toBe(given[j]);
      });
    }), { numRuns: 500 });
  });

  it('refuses margins that do not balance', () => {
    expect(() => producerConsumerFlows([10, 5], [14])).toThrow(/received 15 Wh but producers gave 14 Wh/);
  });
});
