import { describe, expect, it } from 'vitest';
import { formatFixed, parseDecimal, toFixedUnits, trimDecimal } from '../src/kernel/decimal.js';
import { ceilToQuarterHour, floorToQuarterHour, formatUtcInstant, isQuarterHour, isWithinDateRange, isYearWithinDateRange, parseUtcInstant } from '../src/kernel/time.js';
import { monthRange } from '../src/kernel/calendar.js';
import { worst } from '../src/kernel/energy.js';
import { createLocalClock, dayRange, localDateOf } from '../src/kernel/calendar.js';

describe('kernel: exact decimals', () => {
  it('parses what meters, prices and shares write, exactly', () => {
    expect(parseDecimal('00052185.7825309')).toEqual({ mantissa: 521857825309n, exponent: -7 });
    expect(parseDecimal('-0.5')).toEqual({ mantissa: -5n, exponent: -1 });
    expect(parseDecimal('+12')).toEqual({ mantissa: 12n, exponent: -0 });
  });
  it('refuses anything that is not a plain decimal, and what is longer than the limits', () => {
    for (const bad of ['', 'NaN', '1e5', '1,5', '.5', '5.', '--1', 'R', '2026-01-01']) expect(parseDecimal(bad)).toBeUndefined();
    expect(parseDecimal('1.234', { fractionDigits: 2 })).toBeUndefined();
    expect(parseDecimal('123', { integerDigits: 2 })).toBeUndefined();
    expect(parseDecimal('-1', { signed: false })).toBeUndefined();
  });
  it('converts to fixed units only when no place is lost', () => {
    expect(toFixedUnits(parseDecimal('0.1425')!, 6)).toBe(142500n);
    expect(toFixedUnits(parseDecimal('1.2300')!, 2)).toBe(123n);
    expect(toFixedUnits(parseDecimal('1.235')!, 2)).toBeUndefined();
  });
  it('formats and trims', () => {
    expect(formatFixed(-5n, 2)).toBe('-0.05');
    expect(formatFixed(1728n, 0)).toBe('1728');
    expect(trimDecimal('0.245000')).toBe('0.245');
    expect(trimDecimal('12.000')).toBe('12');
    expect(trimDecimal('100')).toBe('100');
    expect(trimDecimal('0.000')).toBe('0');
  });
});

describe('kernel: the UTC quarter-hour grid', () => {
  it('floors and ceils to quarter hours', () => {
    const t = Date.UTC(2026, 2, 29, 1, 7, 30);
    expect(formatUtcInstant(floorToQuarterHour(t))).toBe('2026-03-29T01:00:00Z');
    expect(formatUtcInstant(ceilToQuarterHour(t))).toBe('2026-03-29T01:15:00Z');
    expect(isQuarterHour(Date.UTC(2026, 0, 1, 0, 45))).toBe(true);
    expect(isQuarterHour(t)).toBe(false);
  });
  it('reads only UTC instants and refuses impossible dates', () => {
    expect(parseUtcInstant('2024-02-29T23:45:00Z')).toBe(Date.UTC(2024, 1, 29, 23, 45));
    for (const bad of ['2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-01-01T00:00:00+01:00', '2024-01-01 00:00']) expect(parseUtcInstant(bad)).toBeUndefined();
  });
  it('one date range for everything from outside: 2000-01-01 to 2100-01-01 UTC, both included', () => {
    expect(isWithinDateRange(Date.UTC(2000, 0, 1))).toBe(true);
    expect(isWithinDateRange(Date.UTC(2100, 0, 1))).toBe(true);
    expect(isWithinDateRange(Date.UTC(2000, 0, 1) - 1)).toBe(false);
    expect(isWithinDateRange(Date.UTC(2100, 0, 1) + 1)).toBe(false);
    expect(isWithinDateRange(Number.NaN)).toBe(false);
    expect([1999, 2000, 2100, 2101, 0, 2026.5].map(isYearWithinDateRange)).toEqual([false, true, true, false, false, false]);
    // Date.UTC reads years 0–99 as 1900–1999: "0000-…" must not become 1900.
    for (const bad of ['0000-01-01T00:00:00Z', '0001-01-01T00:00:00Z', '0099-06-01T00:00:00Z', '1999-12-31T23:45:00Z', '9999-12-31T23:45:00Z', '2100-01-01T00:15:00Z']) {
      expect(parseUtcInstant(bad), bad).toBeUndefined();
    }
    expect(parseUtcInstant('2100-01-01T00:00:00Z')).toBe(Date.UTC(2100, 0, 1));
    expect(monthRange('0000-01', 'Europe/Vienna')).toBeUndefined();
    expect(monthRange('9999-12', 'Europe/Vienna')).toBeUndefined();
    expect(monthRange('2000-01', 'Europe/Vienna')).toEqual({ startMs: Date.UTC(1999, 11, 31, 23), endMs: Date.UTC(2000, 0, 31, 23) });
  });
  it('the quality of a combination is that of its weakest part', () => {
    expect(worst('measured', 'estimated')).toBe('estimated');
    expect(worst('estimated', 'missing', 'measured')).toBe('missing');
    expect(worst()).toBe('measured');
  });
});

describe('kernel: local days', () => {
  it('a local day is 92, 96 or 100 quarter hours long across DST changes', () => {
    const quarterHours = (day: string) => {
      const range = dayRange(day, 'Europe/Amsterdam')!;
      return (range.endMs - range.startMs) / 900_000;
    };
    expect(quarterHours('2026-03-29')).toBe(92);
    expect(quarterHours('2026-06-01')).toBe(96);
    expect(quarterHours('2026-10-25')).toBe(100);
    expect(formatUtcInstant(dayRange('2026-06-01', 'Europe/Amsterdam')!.startMs)).toBe('2026-05-31T22:00:00Z');
    for (const bad of ['2026-02-30', '2026-13-01', '26-01-01', '']) expect(dayRange(bad, 'Europe/Amsterdam')).toBeUndefined();
  });
  it('names the local day of an instant', () => {
    const clock = createLocalClock('Europe/Amsterdam');
    expect(localDateOf(Date.UTC(2026, 4, 31, 22, 0), clock)).toBe('2026-06-01');
    expect(localDateOf(Date.UTC(2026, 4, 31, 21, 59), clock)).toBe('2026-05-31');
  });
});
