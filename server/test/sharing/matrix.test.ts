import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  createAllocator, createMatrix, memberFlows, summarize, validateMatrix,
} from '../../src/sharing/domain/allocation/index.js';
import { community, sum, toMatrix } from './support/community.js';

describe('interval matrix', () => {
  it('validates shape, the 15-minute grid, order and values', () => {
    const ok = createMatrix(['a', 'b'], Float64Array.from([0, 900_000]), true);
    expect(() => validateMatrix(ok)).not.toThrow();
    expect(() => validateMatrix(createMatrix(['a', 'a'], Float64Array.from([0])))).toThrow(/not unique/);
    expect(() => validateMatrix(createMatrix(['a'], Float64Array.from([60_000])))).toThrow(/15-minute UTC boundary/);
    expect(() => validateMatrix(createMatrix(['a'], Float64Array.from([900_000, 0])))).toThrow(/not after/);
    const negative = createMatrix(['a'], Float64Array.from([0]));
    negative.importWh[0] = -1;
    expect(() => validateMatrix(negative)).toThrow(/negative energy for member a/);
    // The engine refuses negative values too, rather than allocating nonsense.
    expect(() => createAllocator('dynamic').allocate(negative)).toThrow(/negative energy for member a/);
    const pv = createMatrix(['a'], Float64Array.from([0]), true);
    pv.exportWh[0] = 10;
    pv.pvWh![0] = 5;
    expect(() => validateMatrix(pv)).toThrow(/exports more than its PV produced/);
  });

  it('derives grid flows and own PV use; period totals are the sums of the intervals', () => {
    fc.assert(fc.property(community(), (c) => {
      const m = toMatrix(c);
      const r = createAllocator('dynamic').allocate(m);
      const s = summarize(m, r);
      const n = m.memberIds.length;
      let fromGrid = 0;
      let toGrid = 0;
      for (let t = 0; t < c.imports.length; t++) {
        for (let i = 0; i < n; i++) {
          const f = memberFlows(m, r, t, i);
          expect(f.fromCommunityWh + f.fromGridWh).toBe(c.imports[t]![i]);
          expect(f.toCommunityWh + f.toGridWh).toBe(c.exports[t]![i]);
          expect(f.selfConsumedWh).toBeUndefined();
          fromGrid += f.fromGridWh;
          toGrid += f.toGridWh;
        }
      }
      expect(s.importWh).toBe(sum(c.imports.flat()));
      expect(s.exportWh).toBe(sum(c.exports.flat()));
      expect(s.sharedWh).toBe(sum(Array.from(r.sharedWh)));
      expect(s.fromGridWh).toBe(fromGrid);
      expect(s.toGridWh).toBe(toGrid);
      expect(sum(Array.from(s.perMember.fromCommunityWh))).toBe(s.sharedWh);
      expect(sum(Array.from(s.perMember.toCommunityWh))).toBe(s.sharedWh);
    }), { numRuns: 200 });
  });

  it('reports own PV used where PV is measured: production = self-consumed + to community + to grid', () => {
    const m = createMatrix(['prosumer', 'neighbour'], Float64Array.from([0]), true);
    m.pvWh!.set([1000, -1]);
    m.exportWh.set([400, 0]);
    m.importWh.set([0, 300]);
    const r = createAllocator('dynamic').allocate(m);
    const p = memberFlows(m, r, 0, 0);
    expect(p).toMatchObject({ selfConsumedWh: 600, toCommunityWh: 300, toGridWh: 100 });
    expect(p.selfConsumedWh! + p.toCommunityWh + p.toGridWh).toBe(1000);
    expect(memberFlows(m, r, 0, 1).selfConsumedWh).toBeUndefined();
    expect(summarize(m, r).selfConsumedWh).toBe(600);
  });
});
