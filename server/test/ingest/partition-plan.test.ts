import { describe, expect, it } from 'vitest';
import { monthOfPartition, partitionName, planPartitions, type Month } from '../../src/ingest/domain/partitions.js';

const at = (iso: string) => Date.parse(iso);
const names = (months: readonly Month[]) => months.map(partitionName);

describe('the readings partition plan', () => {
  it('creates the current month and the months ahead, across a year end', () => {
    const plan = planPartitions({ nowMs: at('2026-11-20T10:00:00Z'), retentionDays: 90, aheadMonths: 2, existing: [], inDefault: [] });
    expect(names(plan.create)).toEqual(['readings_p202611', 'readings_p202612', 'readings_p202701']);
    expect(plan.drop).toEqual([]);
    expect(plan.cutoffMs).toBe(at('2026-08-22T10:00:00Z'));
  });

  it('creates only what is missing, so a second run plans nothing', () => {
    const first = planPartitions({ nowMs: at('2026-12-03T00:00:00Z'), retentionDays: 90, aheadMonths: 2, existing: [], inDefault: [] });
    const again = planPartitions({ nowMs: at('2026-12-03T00:00:00Z'), retentionDays: 90, aheadMonths: 2, existing: first.create, inDefault: [] });
    expect(again.create).toEqual([]);
    expect(again.drop).toEqual([]);
  });

  it('uses the UTC month: the last instant of a month is in it, the next one is not', () => {
    expect(names(planPartitions({ nowMs: at('2026-11-30T23:59:59.999Z'), retentionDays: 1, aheadMonths: 0, existing: [], inDefault: [] }).create)).toEqual(['readings_p202611']);
    expect(names(planPartitions({ nowMs: at('2026-12-01T00:00:00Z'), retentionDays: 1, aheadMonths: 0, existing: [], inDefault: [] }).create)).toEqual(['readings_p202612']);
  });

  it('creates an earlier month only when the default partition holds readings of it, and not one the retention has passed', () => {
    const plan = planPartitions({
      nowMs: at('2026-12-03T00:00:00Z'), retentionDays: 90, aheadMonths: 0, existing: [{ year: 2026, month: 12 }],
      inDefault: [{ year: 2026, month: 10 }, { year: 2026, month: 8 }, { year: 2025, month: 1 }],
    });
    // The cutoff is 2026-09-04: August ends before it, so its readings are removed, not given a partition.
    expect(names(plan.create)).toEqual(['readings_p202610']);
  });

  it('leaves a month far ahead in the default partition until it comes within reach', () => {
    const far = { year: 2031, month: 5 };
    const now = planPartitions({ nowMs: at('2026-12-03T00:00:00Z'), retentionDays: 90, aheadMonths: 2, existing: [], inDefault: [far] });
    expect(names(now.create)).not.toContain('readings_p203105');
    const later = planPartitions({ nowMs: at('2031-04-10T00:00:00Z'), retentionDays: 90, aheadMonths: 2, existing: [], inDefault: [far] });
    expect(names(later.create)).toContain('readings_p203105');
  });

  it('drops a month once the retention has passed for all of it, not while any of it is kept', () => {
    const existing = [{ year: 2026, month: 8 }, { year: 2026, month: 9 }, { year: 2026, month: 12 }];
    // 90 days before 2026-11-30T00:00Z is 2026-09-01T00:00Z: August has just ended before the cutoff.
    expect(names(planPartitions({ nowMs: at('2026-11-30T00:00:00Z'), retentionDays: 90, aheadMonths: 0, existing, inDefault: [] }).drop)).toEqual(['readings_p202608']);
    expect(names(planPartitions({ nowMs: at('2026-11-29T23:59:59Z'), retentionDays: 90, aheadMonths: 0, existing, inDefault: [] }).drop)).toEqual([]);
    // A longer retention (some community keeps raw readings for a year) keeps them all.
    expect(planPartitions({ nowMs: at('2026-11-30T00:00:00Z'), retentionDays: 366, aheadMonths: 0, existing, inDefault: [] }).drop).toEqual([]);
  });

  it('refuses a plan from a clock or a retention that makes no sense, instead of dropping everything', () => {
    const base = { nowMs: at('2026-12-03T00:00:00Z'), retentionDays: 90, aheadMonths: 2, existing: [], inDefault: [] };
    expect(() => planPartitions({ ...base, nowMs: Number.NaN })).toThrow(/not a time/);
    expect(() => planPartitions({ ...base, retentionDays: 0 })).toThrow(/retention/);
    expect(() => planPartitions({ ...base, retentionDays: 1.5 })).toThrow(/retention/);
    expect(() => planPartitions({ ...base, retentionDays: 10_000_000 })).toThrow(/retention/);
    expect(() => planPartitions({ ...base, aheadMonths: -1 })).toThrow(/ahead/);
    expect(() => planPartitions({ ...base, aheadMonths: 1000 })).toThrow(/ahead/);
  });

  it('reads a month back from a partition name, and nothing from another table\'s', () => {
    expect(monthOfPartition('readings_p202612')).toEqual({ year: 2026, month: 12 });
    expect(monthOfPartition('readings_default')).toBeUndefined();
    expect(monthOfPartition('readings_p202613')).toBeUndefined();
    expect(monthOfPartition('readings_p2026123')).toBeUndefined();
  });
});
