import { describe, expect, it } from 'vitest';
import { bucketBoundaries, monthRange } from '../../src/kernel/calendar.js';
import { rollUp, type QuarterRow } from '../../src/sharing/energy.js';

const Q = 900_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe('local days and months of a community (Europe/Vienna)', () => {
  it('has days of 92, 96 and 100 quarter hours around the DST changes', () => {
    // 29 March 2026 (CET → CEST) and 25 October 2026 (CEST → CET), from local midnight to local midnight.
    const spring = bucketBoundaries(Date.parse('2026-03-28T23:00:00Z'), Date.parse('2026-03-30T22:00:00Z'), '1d', 'Europe/Vienna');
    expect(spring.map(iso)).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z']);
    expect((spring[1]! - spring[0]!) / Q).toBe(92);
    const autumn = bucketBoundaries(Date.parse('2026-10-24T22:00:00Z'), Date.parse('2026-10-26T23:00:00Z'), '1d', 'Europe/Vienna');
    expect(autumn.map(iso)).toEqual(['2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z', '2026-10-26T23:00:00.000Z']);
    expect((autumn[1]! - autumn[0]!) / Q).toBe(100);
    expect((autumn[2]! - autumn[1]!) / Q).toBe(96);
  });

  it('turns a month into its local boundaries, 2,980 quarter hours for October', () => {
    const october = monthRange('2026-10', 'Europe/Vienna')!;
    expect([iso(october.startMs), iso(october.endMs)]).toEqual(['2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z']);
    expect((october.endMs - october.startMs) / Q).toBe(2980);
    expect((monthRange('2026-03', 'Europe/Vienna')!.endMs - monthRange('2026-03', 'Europe/Vienna')!.startMs) / Q).toBe(2972);
    for (const bad of ['2026-00', '2026-13', '26-10', '2026-10-01', '']) expect(monthRange(bad, 'Europe/Vienna')).toBeUndefined();
    const months = bucketBoundaries(october.startMs, Date.parse('2027-01-15T00:00:00Z'), '1mo', 'Europe/Vienna');
    expect(months.map(iso)).toEqual(['2026-09-30T22:00:00.000Z', '2026-10-31T23:00:00.000Z', '2026-11-30T23:00:00.000Z', '2026-12-31T23:00:00.000Z', '2027-01-31T23:00:00.000Z']);
  });

  it('aligns fixed resolutions outwards on UTC', () => {
    expect(bucketBoundaries(Date.parse('2026-10-05T10:07:00Z'), Date.parse('2026-10-05T10:31:00Z'), '15m', 'Europe/Vienna').map(iso))
      .toEqual(['2026-10-05T10:00:00.000Z', '2026-10-05T10:15:00.000Z', '2026-10-05T10:30:00.000Z', '2026-10-05T10:45:00.000Z']);
  });
});

describe('rolling quarter hours up into buckets', () => {
  const row = (startMs: number, wh: number, extra: Partial<QuarterRow> = {}): QuarterRow => ({
    startMs, consumptionWh: wh, selfConsumedWh: 0, fromCommunityWh: wh, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0,
    missing: false, incomplete: false, estimated: false, provisional: false, ...extra,
  });
  it('sums, and says measured, estimated, partial or missing', () => {
    const h = Date.UTC(2026, 9, 5, 10);
    const bounds = [h, h + 4 * Q, h + 8 * Q, h + 12 * Q, h + 16 * Q];
    const rows = [
      row(h, 1), row(h + Q, 2), row(h + 2 * Q, 3), row(h + 3 * Q, 4),
      row(h + 4 * Q, 1), row(h + 5 * Q, 1, { estimated: true }), row(h + 6 * Q, 1), row(h + 7 * Q, 1, { provisional: true }),
      row(h + 8 * Q, 5), row(h + 9 * Q, 0, { missing: true }),
    ];
    const { series, totals } = rollUp(rows, bounds);
    expect(series.map((b) => [b.consumptionWh, b.quality, b.provisional])).toEqual([
      [10, 'measured', false], [4, 'estimated', true], [5, 'partial', false], [0, 'missing', false],
    ]);
    expect(totals.consumptionWh).toBe(19);
  });
});
