import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ispAt, ispStartMs, layOut, perIsp, periodGrid, periodOf, periodsBetween, sameUtcOffsets, toRanges } from '../../src/flex/domain/isp.js';
import { formatUtcInstant } from '../../src/kernel/time.js';

describe('ISP arithmetic', () => {
  it('counts the ISPs of a Period in its time zone, DST days included', () => {
    expect(periodGrid('2026-06-01', 'Europe/Amsterdam', 15)!.count).toBe(96);
    expect(periodGrid('2026-03-29', 'Europe/Amsterdam', 15)!.count).toBe(92);
    expect(periodGrid('2026-10-25', 'Europe/Amsterdam', 15)!.count).toBe(100);
    expect(periodGrid('2026-10-25', 'Europe/Amsterdam', 60)!.count).toBe(25);
    expect(periodGrid('2026-06-01', 'America/New_York', 30)!.count).toBe(48);
    expect(periodGrid('2026-06-01', 'Europe/Amsterdam', 7)).toBeUndefined();
    expect(periodGrid('2026-02-30', 'Europe/Amsterdam', 15)).toBeUndefined();
    expect(periodGrid('2026-06-01', 'Mars/Olympus_Mons', 15)).toBeUndefined();
  });

  it('numbers ISPs from local midnight in real time: the fall-back hour comes twice', () => {
    const grid = periodGrid('2026-10-25', 'Europe/Amsterdam', 15)!;
    expect(formatUtcInstant(ispStartMs(grid, 1))).toBe('2026-10-24T22:00:00Z');
    // 02:00 local (CEST) is ISP 9; the second 02:00 (CET) is ISP 13.
    expect(formatUtcInstant(ispStartMs(grid, 9))).toBe('2026-10-25T00:00:00Z');
    expect(formatUtcInstant(ispStartMs(grid, 13))).toBe('2026-10-25T01:00:00Z');
    expect(ispAt(grid, Date.UTC(2026, 9, 25, 1, 14))).toBe(13);
    expect(ispAt(grid, ispStartMs(grid, 101))).toBeUndefined();
    expect(periodOf(Date.UTC(2026, 9, 24, 22, 0), 'Europe/Amsterdam')).toBe('2026-10-25');
    expect(periodsBetween('2026-02-27', '2026-03-02')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02']);
  });

  it('lays ISP elements out: conflicts, out-of-bounds, and a hostile Duration costs nothing', () => {
    const layout = layOut([{ start: 1, duration: 4 }, { start: 2, duration: 1 }, { start: 95, duration: 3 }, { start: 0, duration: 1 }, { start: 5, duration: 1e15 }], 96);
    expect(layout.conflicts).toEqual([2]);
    expect(layout.outOfBounds.map((e) => e.start)).toEqual([95, 0, 5]);
    expect([...layout.byIsp.keys()]).toEqual([1, 2, 3, 4]);
  });

  it('merges equal neighbours into ranges and expands them back (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 100 }), (powers) => {
      const values = new Map(powers.map((p, i) => [i + 1, p]));
      const ranges = toRanges(values);
      expect(perIsp(ranges, (r) => r.value)).toEqual(values);
      for (let k = 1; k < ranges.length; k++) {
        const before = ranges[k - 1]!;
        expect(before.start + before.duration === ranges[k]!.start && before.value === ranges[k]!.value).toBe(false);
      }
    }));
  });

  it('tells zones with the same offsets on a Period from zones without', () => {
    const grid = periodGrid('2026-06-01', 'Europe/Amsterdam', 15)!;
    expect(sameUtcOffsets(grid, 'Europe/Brussels')).toBe(true);
    expect(sameUtcOffsets(grid, 'Europe/London')).toBe(false);
    expect(sameUtcOffsets(grid, 'Africa/Lagos')).toBe(false); // UTC+1 all year: differs in summer
    expect(sameUtcOffsets(periodGrid('2026-01-15', 'Europe/Amsterdam', 15)!, 'Africa/Lagos')).toBe(true);
    expect(sameUtcOffsets(grid, 'Europe/Nowhere')).toBe(false);
  });
});
