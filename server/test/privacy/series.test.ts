/**
 * Reducing a series to a grant: never finer than granted, never outside the granted period,
 * never a bucket that can still change (so two reads cannot be subtracted to get finer data).
 * Known answers (hourly sums, a DST day in Vienna) and a property over random grants.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bucketBoundaries, type Resolution } from '../../src/kernel/calendar.js';
import { QUARTER_HOUR_MS } from '../../src/kernel/time.js';
import { reduceToGrant, type Grant, type QuarterPoint } from '../../src/privacy/domain/index.js';
import { annaToBert, DAY, HOUR, T0 } from './support.js';

const VIENNA = 'Europe/Vienna';

function series(fromMs: number, count: number, wh: (i: number) => number | null = (i) => i % 97): QuarterPoint[] {
  return Array.from({ length: count }, (_, i) => {
    const value = wh(i);
    return { startMs: fromMs + i * QUARTER_HOUR_MS, wh: value, quality: value === null ? 'missing' : i % 11 === 0 ? 'estimated' : 'measured' };
  });
}

const grantAt = (resolution: Resolution, fromMs = T0, toMs: number | null = T0 + 30 * DAY): Grant =>
  annaToBert({ scope: { meteringPoints: ['AT0010000000000000001000000000001'], quantities: ['import'], resolution, period: { fromMs, toMs } } });

describe('reduceToGrant', () => {
  it('sums quarter hours into the granted hours, the worst quality kept', () => {
    const points = series(T0, 8, (i) => 100 + i);
    const out = reduceToGrant(points, { grant: grantAt('1h'), resolution: '1h', window: { fromMs: T0, toMs: T0 + 2 * HOUR }, timeZone: VIENNA, completeBefore: T0 + DAY });
    expect(out).toEqual([
      { startMs: T0, endMs: T0 + HOUR, wh: 100 + 101 + 102 + 103, quality: 'estimated' },
      { startMs: T0 + HOUR, endMs: T0 + 2 * HOUR, wh: 104 + 105 + 106 + 107, quality: 'measured' },
    ]);
  });

  it('answers a request for 15 minutes on an hourly grant with hours', () => {
    const out = reduceToGrant(series(T0, 8), { grant: grantAt('1h'), resolution: '15m', window: { fromMs: T0, toMs: T0 + 2 * HOUR }, timeZone: VIENNA, completeBefore: T0 + DAY });
    expect(out.map((p) => p.endMs - p.startMs)).toEqual([HOUR, HOUR]);
  });

  it('cuts buckets the window or the granted period would cut, and those still filling', () => {
    const points = series(T0 - DAY, 4 * 96);
    // The window starts at 00:15 and ends at 02:30: only 01:00–02:00 is whole.
    const hours = reduceToGrant(points, { grant: grantAt('1h'), resolution: '1h', window: { fromMs: T0 + QUARTER_HOUR_MS, toMs: T0 + 2.5 * HOUR }, timeZone: VIENNA, completeBefore: T0 + DAY });
    expect(hours.map((p) => p.startMs)).toEqual([T0 + HOUR]);
    // Data before the granted period never shows, even when asked for.
    const before = reduceToGrant(points, { grant: grantAt('1h'), resolution: '1h', window: { fromMs: T0 - DAY, toMs: T0 + HOUR }, timeZone: VIENNA, completeBefore: T0 + DAY });
    expect(before.map((p) => p.startMs)).toEqual([T0]);
    // Local days start at 23:00 UTC in winter: 28 February starts before the granted period,
    // 1 and 2 March are whole, and 3 March is not over at 10:00 UTC (still filling).
    const days = reduceToGrant(points, { grant: grantAt('1d', T0 - DAY), resolution: '1d', window: { fromMs: T0 - DAY, toMs: T0 + 3 * DAY }, timeZone: VIENNA, completeBefore: T0 + 2 * DAY + 10 * HOUR });
    expect(days.map((p) => [p.startMs, p.endMs])).toEqual([[T0 - HOUR, T0 + 23 * HOUR], [T0 + 23 * HOUR, T0 + 47 * HOUR]]);
  });

  it('shows no value for a bucket with a missing quarter hour', () => {
    const gap = series(T0, 8, (i) => (i === 5 ? null : 10));
    const absent = series(T0, 8, () => 10).filter((_, i) => i !== 2);
    const grant = grantAt('1h');
    const options = { grant, resolution: '1h' as const, window: { fromMs: T0, toMs: T0 + 2 * HOUR }, timeZone: VIENNA, completeBefore: T0 + DAY };
    // (The first quarter hour of the series is estimated.)
    expect(reduceToGrant(gap, options).map((p) => [p.wh, p.quality])).toEqual([[40, 'estimated'], [null, 'missing']]);
    expect(reduceToGrant(absent, options).map((p) => [p.wh, p.quality])).toEqual([[null, 'missing'], [40, 'measured']]);
  });

  it('makes local days of 92 quarter hours on the spring-forward day', () => {
    // 2026-03-29 is 23 hours long in Vienna.
    const day = Date.UTC(2026, 2, 28, 23);
    const points = series(day, 92, () => 1).map((p) => ({ ...p, quality: 'measured' as const }));
    const grant = grantAt('1d', Date.UTC(2026, 2, 1), null);
    const out = reduceToGrant(points, { grant, resolution: '1d', window: { fromMs: day, toMs: day + 23 * HOUR }, timeZone: VIENNA, completeBefore: day + DAY });
    expect(out).toEqual([{ startMs: day, endMs: day + 23 * HOUR, wh: 92, quality: 'measured' }]);
  });

  it('refuses points off the grid, out of order or not whole Wh', () => {
    const options = { grant: grantAt('1h'), resolution: '1h' as const, window: { fromMs: T0, toMs: T0 + HOUR }, timeZone: VIENNA, completeBefore: T0 + DAY };
    expect(() => reduceToGrant([{ startMs: T0 + 1, wh: 1, quality: 'measured' }], options)).toThrow(/quarter hour/);
    expect(() => reduceToGrant([...series(T0 + QUARTER_HOUR_MS, 1), ...series(T0, 1)], options)).toThrow(/ascending/);
    expect(() => reduceToGrant([{ startMs: T0, wh: Number.NaN, quality: 'measured' }], options)).toThrow(/whole/);
    expect(() => reduceToGrant([{ startMs: T0, wh: -5, quality: 'measured' }], options)).toThrow(/whole/);
  });

  it('property: every bucket is whole, inside the grant and the window, final, at least as coarse as granted, and its sum is the source\'s', () => {
    const resolutions: Resolution[] = ['15m', '1h', '1d', '1mo'];
    fc.assert(fc.property(
      fc.record({
        granted: fc.constantFrom(...resolutions),
        requested: fc.constantFrom(...resolutions),
        periodStart: fc.integer({ min: 0, max: 40 * 96 }),
        periodLength: fc.option(fc.integer({ min: 1, max: 40 * 96 }), { nil: null }),
        windowStart: fc.integer({ min: -96, max: 50 * 96 }),
        windowLength: fc.integer({ min: 1, max: 50 * 96 }),
        complete: fc.integer({ min: 0, max: 60 * 96 }),
        zone: fc.constantFrom('Europe/Vienna', 'Europe/Lisbon', 'UTC'),
      }),
      (c) => {
        const base = Date.UTC(2026, 1, 20);
        const q = (n: number) => base + n * QUARTER_HOUR_MS;
        const grant = grantAt(c.granted, q(c.periodStart), c.periodLength === null ? null : q(c.periodStart + c.periodLength));
        const points = series(base - 5 * DAY, 70 * 96);
        const window = { fromMs: q(c.windowStart), toMs: q(c.windowStart + c.windowLength) };
        const out = reduceToGrant(points, { grant, resolution: c.requested, window, timeZone: c.zone, completeBefore: q(c.complete) });
        const effective = resolutions[Math.max(resolutions.indexOf(c.granted), resolutions.indexOf(c.requested))]!;
        const grantEnd = grant.scope.period.toMs ?? Number.POSITIVE_INFINITY;
        for (const bucket of out) {
          expect(bucket.startMs).toBeGreaterThanOrEqual(Math.max(window.fromMs, grant.scope.period.fromMs));
          expect(bucket.endMs).toBeLessThanOrEqual(Math.min(window.toMs, grantEnd, q(c.complete)));
          // The bucket is exactly one bucket of the effective resolution: never finer.
          expect(bucketBoundaries(bucket.startMs, bucket.endMs, effective, c.zone)).toEqual([bucket.startMs, bucket.endMs]);
          const inside = points.filter((p) => p.startMs >= bucket.startMs && p.startMs < bucket.endMs);
          expect(bucket.wh).toBe(inside.reduce((s, p) => s + p.wh!, 0));
        }
      },
    ), { numRuns: 150 });
  });
});
