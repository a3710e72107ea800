/**
 * The member's periods: presets, a year of months, a custom span of days (checked before it is
 * asked for), the period before to compare with, and how the comparison is shown.
 */
import { describe, expect, it } from 'vitest';
import type { EnergyFigures } from '@gridshare/contract/sharing';
import { compareFigures } from '../src/lib/energy.js';
import { formatter } from '../src/lib/format.js';
import { defaultSpan, MAX_SPAN_DAYS, periodQuery, spanDays, spanError, spanRange, spanUnit } from '../src/lib/periods.js';
import { parseDay, shiftDay, today } from '../src/lib/time.js';

const VIENNA = 'Europe/Vienna';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('the period before, to compare with', () => {
  // 10:00 on 15 June in Vienna.
  const now = new Date('2026-06-15T08:00:00Z');

  it('is yesterday, last month and last year, cut to the part that has passed of today, this month and this year', () => {
    // Today so far (00:00–10:00) against yesterday 00:00–10:00.
    expect(periodQuery('today', now, VIENNA)!.previous).toEqual({ range: { from: '2026-06-13T22:00:00.000Z', to: '2026-06-14T08:00:00.000Z' }, resolution: '1h' });
    // 1 June to now against 1 May to the same day and hour; asked per hour, so the cut is not rounded out to a whole day.
    expect(periodQuery('month', now, VIENNA)!.previous).toEqual({ range: { from: '2026-04-30T22:00:00.000Z', to: '2026-05-15T08:00:00.000Z' }, resolution: '1h' });
    // This year so far against last year to 15 June; per day, not per month.
    expect(periodQuery('year', now, VIENNA)!.previous).toEqual({ range: { from: '2024-12-31T23:00:00.000Z', to: '2025-06-15T08:00:00.000Z' }, resolution: '1d' });
    // The last 24 hours against the 24 before them, up to the same minute.
    expect(periodQuery('last24h', now, VIENNA)!.previous).toEqual({ range: { from: '2026-06-13T09:00:00.000Z', to: '2026-06-14T08:00:00.000Z' }, resolution: '1h' });
  });

  it('never reaches into the period itself: 31 March is compared with the whole of February', () => {
    const march31 = new Date('2026-03-31T10:00:00Z');
    const query = periodQuery('month', march31, VIENNA)!;
    expect(query.range.from).toBe('2026-02-28T23:00:00.000Z');
    expect(query.previous.range).toEqual({ from: '2026-01-31T23:00:00.000Z', to: '2026-02-28T23:00:00.000Z' });
    // Just after midnight the part that has passed is tiny, but never empty (the API refuses to ≤ from).
    const justAfter = periodQuery('today', new Date('2026-06-14T22:00:00Z'), VIENNA)!.previous.range;
    expect(Date.parse(justAfter.to) - Date.parse(justAfter.from)).toBe(60_000);
  });

  it('is the same number of days before a custom span, whole when the span is over', () => {
    const query = periodQuery('custom', now, VIENNA, { from: '2026-05-01', to: '2026-05-10' })!;
    expect(query).toEqual({
      range: { from: '2026-04-30T22:00:00.000Z', to: '2026-05-10T22:00:00.000Z' }, resolution: '1d', unit: 'day',
      previous: { range: { from: '2026-04-20T22:00:00.000Z', to: '2026-04-30T22:00:00.000Z' }, resolution: '1d' },
    });
    // A span up to today still runs: three days to now against the three days before, to the same hour.
    const running = periodQuery('custom', now, VIENNA, { from: '2026-06-13', to: '2026-06-15' })!;
    expect(running).toMatchObject({ resolution: '1h', unit: 'hour', range: { from: '2026-06-12T22:00:00.000Z', to: '2026-06-15T22:00:00.000Z' } });
    expect(running.previous).toEqual({ range: { from: '2026-06-09T22:00:00.000Z', to: '2026-06-12T08:00:00.000Z' }, resolution: '1h' });
  });

  it('keeps local days over a DST change: the week before the spring change is 168 hours, the week with it 167', () => {
    const query = periodQuery('custom', now, VIENNA, { from: '2026-03-29', to: '2026-04-04' })!;
    expect(Date.parse(query.range.to) - Date.parse(query.range.from)).toBe(7 * DAY - HOUR);
    expect(query.previous.range).toEqual({ from: '2026-03-21T23:00:00.000Z', to: '2026-03-28T23:00:00.000Z' });
  });
});

describe('a custom span of days', () => {
  const now = new Date('2026-12-03T10:00:00Z');

  it('is shown in hours for up to three days, in days up to 92, in months beyond', () => {
    expect(spanUnit({ from: '2026-12-01', to: '2026-12-01' })).toBe('hour');
    expect(spanUnit({ from: '2026-11-29', to: '2026-12-01' })).toBe('hour');
    expect(spanUnit({ from: '2026-11-28', to: '2026-12-01' })).toBe('day');
    expect(spanDays({ from: '2026-09-01', to: '2026-12-01' })).toBe(92);
    expect(spanUnit({ from: '2026-09-01', to: '2026-12-01' })).toBe('day');
    expect(spanUnit({ from: '2026-08-31', to: '2026-12-01' })).toBe('month');
    expect(periodQuery('custom', now, VIENNA, { from: '2025-01-01', to: '2025-12-31' })).toMatchObject({
      range: { from: '2024-12-31T23:00:00.000Z', to: '2025-12-31T23:00:00.000Z' }, resolution: '1mo', unit: 'month',
    });
  });

  it('starts as the last seven days up to today in the community, not in the browser', () => {
    // 23:30 UTC on 31 December is already 1 January in Vienna.
    expect(defaultSpan(new Date('2026-12-31T23:30:00Z'), VIENNA)).toEqual({ from: '2026-12-26', to: '2027-01-01' });
    expect(spanDays(defaultSpan(now, VIENNA))).toBe(7);
    expect(spanError(defaultSpan(now, VIENNA), now, VIENNA)).toBeUndefined();
  });

  it('refuses what is not a pair of real days, a last day before the first, and days after today', () => {
    for (const [from, to] of [['', '2026-12-01'], ['2026-02-30', '2026-03-01'], ['2026-12-01', 'yesterday'], ['1999-12-31', '2000-01-05'], ['2000-01-01', '2000-01-05'], ['26-12-01', '2026-12-02'], ['NaN', 'NaN']]) {
      expect(spanError({ from: from!, to: to! }, now, VIENNA), `${from} ${to}`).toBe('invalid');
    }
    expect(spanError({ from: '2000-01-02', to: '2000-01-05' }, now, VIENNA)).toBeUndefined();
    expect(spanError({ from: '2026-12-02', to: '2026-12-01' }, now, VIENNA)).toBe('order');
    expect(spanError({ from: '2026-12-03', to: '2026-12-03' }, now, VIENNA)).toBeUndefined();
    expect(spanError({ from: '2026-12-01', to: '2026-12-04' }, now, VIENNA)).toBe('future');
    // Today is the community's: at 23:30 UTC on 3 December it is already the 4th in Vienna, not yet in New York.
    const late = new Date('2026-12-03T23:30:00Z');
    expect(spanError({ from: '2026-12-01', to: '2026-12-04' }, late, VIENNA)).toBeUndefined();
    expect(spanError({ from: '2026-12-01', to: '2026-12-04' }, late, 'America/New_York')).toBe('future');
    expect(periodQuery('custom', now, VIENNA, { from: '2026-12-02', to: '2026-12-01' })).toBeUndefined();
  });

  it('refuses a span longer than the API answers, measured as the API measures it, in time', () => {
    expect(MAX_SPAN_DAYS).toBe(1_100);
    const longest = { from: '2023-11-01', to: shiftDay('2023-11-01', MAX_SPAN_DAYS - 1) };
    expect(spanDays(longest)).toBe(MAX_SPAN_DAYS);
    expect(spanError(longest, now, VIENNA)).toBeUndefined();
    expect(spanError({ ...longest, to: shiftDay(longest.to, 1) }, now, VIENNA)).toBe('tooLong');
    // As many days from summer time into winter time are an hour longer than 1,100 × 24 hours: too long for the API.
    const summerToWinter = { from: '2023-10-25', to: shiftDay('2023-10-25', MAX_SPAN_DAYS - 1) };
    const { from, to } = spanRange(summerToWinter, VIENNA);
    expect(Date.parse(to) - Date.parse(from)).toBe(MAX_SPAN_DAYS * DAY + HOUR);
    expect(spanError(summerToWinter, now, VIENNA)).toBe('tooLong');
  });

  it('reads date inputs strictly', () => {
    expect(parseDay('2024-02-29')).toEqual({ year: 2024, month: 2, day: 29 });
    expect(parseDay('2026-02-29')).toBeUndefined();
    expect(parseDay('2026-1-05')).toBeUndefined();
    expect(shiftDay('2026-03-01', -1)).toBe('2026-02-28');
    expect(shiftDay('2026-12-31', 1)).toBe('2027-01-01');
    expect(today(new Date('2026-06-30T22:30:00Z'), VIENNA)).toBe('2026-07-01');
  });
});

describe('the comparison as shown', () => {
  const figures = (f: Partial<EnergyFigures>): EnergyFigures => ({
    consumptionWh: 0, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0, ...f,
  });

  it('subtracts exact Wh, and gives no relative change where the period before had nothing', () => {
    const rows = compareFigures(figures({ consumptionWh: 12_345, fromGridWh: 1_000, productionWh: 500 }), figures({ consumptionWh: 10_000, fromGridWh: 4_000 }));
    expect(rows.map((r) => r.field)).toEqual(['consumptionWh', 'selfConsumedWh', 'fromCommunityWh', 'fromGridWh', 'productionWh', 'toCommunityWh', 'toGridWh']);
    expect(rows[0]).toEqual({ field: 'consumptionWh', currentWh: 12_345, previousWh: 10_000, differenceWh: 2_345, change: 0.2345 });
    expect(rows[3]).toMatchObject({ differenceWh: -3_000, change: -0.75 });
    expect(rows[4]).toMatchObject({ differenceWh: 500, change: null });
    expect(rows[1]).toMatchObject({ differenceWh: 0, change: null });
  });

  it('writes differences with their sign and spans of days or hours in the reader\'s language and the community\'s zone', () => {
    const en = formatter({ locale: 'en-GB', currency: 'EUR', timeZone: VIENNA });
    const de = formatter({ locale: 'de-AT', currency: 'EUR', timeZone: VIENNA });
    expect(en.energyDifference(2_346)).toBe('+2.35 kWh');
    expect(en.energyDifference(-300)).toBe('-300 Wh');
    expect(en.energyDifference(0)).toBe('0 Wh');
    expect(de.energyDifference(-1_500_000)).toBe('-1,5 MWh');
    expect(en.percentChange(0.2345)).toBe('+23%');
    expect(en.percentChange(-0.75)).toBe('-75%');
    expect(en.percentChange(null)).toBe('–');
    // [1 Dec, 4 Dec) local is 1–3 December (English sets the dash between thin spaces).
    expect(en.span('2026-11-30T23:00:00.000Z', '2026-12-03T23:00:00.000Z', false)).toBe('1\u2009–\u20093 Dec 2026');
    expect(de.span('2026-11-30T23:00:00.000Z', '2026-12-03T23:00:00.000Z', false)).toBe('01.–03.12.2026');
    expect(en.span('2026-12-02T09:00:00.000Z', '2026-12-03T09:00:00.000Z', true)).toBe('2 Dec 2026, 10:00\u2009–\u20093 Dec 2026, 10:00');
    expect(en.bucket('2025-12-31T23:00:00.000Z', 'month')).toBe('Jan 2026');
    expect(de.bucket('2026-02-28T23:00:00.000Z', 'month')).toBe('März 2026');
  });
});
