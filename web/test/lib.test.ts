import { describe, expect, it } from 'vitest';
import type { EnergyBucket, EnergyFigures } from '@gridshare/contract/sharing';
import type { LiveReading } from '@gridshare/contract/live';
import { claimCodeFrom } from '../src/lib/claim.js';
import { energyFlows, FLOW_NODES, livePower, mergeLive, selfSufficiency, stackedBySource, stackedTotals } from '../src/lib/energy.js';
import { formatter } from '../src/lib/format.js';
import { loadMessages, translator } from '../src/lib/i18n/index.js';
import { emitLines } from '../src/lib/ndjson.js';
import { parseCsv } from '../src/lib/csv.js';
import { freshness } from '../src/lib/live.js';
import { dayRange, lastHours, localDaysFrom, localMidnight, monthRange, nextLocalTime, previousPeriod, restOfTodayAndTomorrow, type Range } from '../src/lib/time.js';
import { sumP50 } from '../src/lib/forecast.js';
import type { Forecast } from '@gridshare/contract/forecast';
import { periodQuery } from '../src/lib/periods.js';
import { equalShares, formatUnits, ONE_UNITS, shareUnits, sumShares } from '../src/lib/shares.js';
import { matchPath } from '../src/router.js';
import { takingPart } from '../src/lib/members.js';
import type { Member, MeteringPoint } from '@gridshare/contract/registry';

const figures = (f: Partial<EnergyFigures>): EnergyFigures => ({
  consumptionWh: 0, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0, ...f,
});

describe('community time', () => {
  it('finds local midnight in Vienna in winter and summer', () => {
    expect(localMidnight({ year: 2026, month: 1, day: 15 }, 'Europe/Vienna').toISOString()).toBe('2026-01-14T23:00:00.000Z');
    expect(localMidnight({ year: 2026, month: 7, day: 15 }, 'Europe/Vienna').toISOString()).toBe('2026-07-14T22:00:00.000Z');
    expect(localMidnight({ year: 2026, month: 7, day: 15 }, 'America/New_York').toISOString()).toBe('2026-07-15T04:00:00.000Z');
  });

  it('gives DST days 23 and 25 hours', () => {
    const spring = dayRange(new Date('2026-03-29T10:00:00Z'), 'Europe/Vienna');
    expect(spring).toEqual({ from: '2026-03-28T23:00:00.000Z', to: '2026-03-29T22:00:00.000Z' });
    const autumn = dayRange(new Date('2026-10-25T10:00:00Z'), 'Europe/Vienna');
    expect(Date.parse(autumn.to) - Date.parse(autumn.from)).toBe(25 * 3_600_000);
  });

  it('takes the community day, not the browser or UTC day', () => {
    // 23:30 UTC on 31 Dec is already 1 Jan in Vienna.
    expect(dayRange(new Date('2026-12-31T23:30:00Z'), 'Europe/Vienna').from).toBe('2026-12-31T23:00:00.000Z');
    expect(monthRange(new Date('2026-12-31T23:30:00Z'), 'Europe/Vienna')).toEqual({ from: '2026-12-31T23:00:00.000Z', to: '2027-01-31T23:00:00.000Z' });
    expect(previousPeriod(new Date('2026-01-10T00:00:00Z'), 'Europe/Vienna')).toBe('2025-12');
  });

  it('takes the last 24 whole hours up to the end of the current one', () => {
    expect(lastHours(new Date('2026-06-01T10:20:00Z'), 24)).toEqual({ from: '2026-05-31T11:00:00.000Z', to: '2026-06-01T11:00:00.000Z' });
    // On the hour, the hour just begun is included.
    expect(lastHours(new Date('2026-06-01T10:00:00Z'), 24).to).toBe('2026-06-01T11:00:00.000Z');
  });

  it('asks hourly figures for a day, local days for the month and local months for the year', () => {
    const now = new Date('2026-06-15T08:00:00Z');
    const expected = (range: Range, resolution: string, unit: string) => expect.objectContaining({ range, resolution, unit });
    expect(periodQuery('last24h', now, 'Europe/Vienna')).toEqual(expected(lastHours(now, 24), '1h', 'hour'));
    expect(periodQuery('today', now, 'Europe/Vienna')).toEqual(expected(dayRange(now, 'Europe/Vienna'), '1h', 'hour'));
    expect(periodQuery('month', now, 'Europe/Vienna')).toEqual(expected(monthRange(now, 'Europe/Vienna'), '1d', 'day'));
    // Twelve local months, from local midnight of 1 January.
    expect(periodQuery('year', now, 'Europe/Vienna')).toEqual(expected({ from: '2025-12-31T23:00:00.000Z', to: '2026-12-31T23:00:00.000Z' }, '1mo', 'month'));
    // Before the community (its zone) is known, only the last 24 hours can be asked for.
    expect(periodQuery('last24h', now, undefined)).toEqual(periodQuery('last24h', now, 'Europe/Vienna'));
    expect(periodQuery('today', now, undefined)).toBeUndefined();
    expect(periodQuery('year', now, undefined)).toBeUndefined();
    // A custom span is asked only once there is a valid one.
    expect(periodQuery('custom', now, 'Europe/Vienna')).toBeUndefined();
    expect(periodQuery('custom', now, 'Europe/Vienna', { from: '2026-06-10', to: '2026-06-16' })).toBeUndefined();
  });
});

describe('formatting in the community locale', () => {
  const at = formatter({ locale: 'de-AT', currency: 'EUR', timeZone: 'Europe/Vienna' });
  const us = formatter({ locale: 'en-US', currency: 'USD', timeZone: 'America/New_York' });

  it('scales power and energy with units', () => {
    expect(at.power(420)).toBe('420 W');
    expect(at.power(1234)).toBe('1,23 kW');
    expect(us.power(20_700)).toBe('20.7 kW');
    expect(us.energy(812)).toBe('812 Wh');
    expect(us.energy(1_500_000)).toBe('1.5 MWh');
    expect(us.energy(0)).toBe('0 Wh');
  });

  it('shows gas and water in litres, and in m³ from a thousand litres on', () => {
    expect(us.volume(850)).toBe('850 L');
    expect(at.volume(12_345)).toBe('12,35 m³');
    expect(us.volume(1_000)).toBe('1 m³');
  });

  it('formats exact money strings without float rounding', () => {
    expect(us.money('1.23')).toBe('$1.23');
    expect(us.money('0.2450')).toBe('$0.245');
    expect(at.money('1234.5')).toMatch(/^€\s1\.234,50$/);
    // More digits than a float holds exactly stay exact.
    expect(us.money('123456.123456')).toBe('$123,456.123456');
  });

  it('shows a dash for a ratio without a denominator', () => {
    expect(us.percent(null)).toBe('–');
    expect(us.percent(0.42)).toBe('42%');
    expect(at.co2('4.567')).toBe('4,6 kg CO₂');
  });
});

describe('energy by source', () => {
  const bucket = (start: string, f: Partial<EnergyFigures>, quality: EnergyBucket['quality'] = 'measured', provisional = false): EnergyBucket =>
    ({ start, end: new Date(Date.parse(start) + 3_600_000).toISOString(), quality, provisional, ...figures(f) });

  it('stacks consumption by source, adds up to the totals and flags past buckets that are not final', () => {
    const series = [
      bucket('2026-06-01T10:00:00.000Z', { consumptionWh: 812, selfConsumedWh: 100, fromCommunityWh: 140, fromGridWh: 572, productionWh: 300, toCommunityWh: 150, toGridWh: 50 }),
      bucket('2026-06-01T11:00:00.000Z', { consumptionWh: 0 }, 'missing'),
      bucket('2026-06-01T12:00:00.000Z', { consumptionWh: 90, fromGridWh: 90 }, 'measured', true),
      // Still running at "now": incomplete by nature, not flagged.
      bucket('2026-06-01T13:00:00.000Z', { consumptionWh: 5, fromGridWh: 5 }, 'partial'),
    ];
    const s = stackedBySource(series, Date.parse('2026-06-01T13:30:00Z'));
    expect(s.fromGrid).toEqual([572, 0, 90, 5]);
    expect(s.fromCommunity).toEqual([140, 0, 0, 0]);
    expect(s.flagged).toEqual([
      { start: '2026-06-01T11:00:00.000Z', quality: 'missing', provisional: false },
      { start: '2026-06-01T12:00:00.000Z', quality: 'measured', provisional: true },
    ]);
    expect(stackedTotals(s)).toEqual({ selfConsumedWh: 100, fromCommunityWh: 140, fromGridWh: 667, toCommunityWh: 150, toGridWh: 50 });
  });

  it('draws the flow without cycles and without zero links, conserving every Wh', () => {
    const totals = figures({ consumptionWh: 1000, selfConsumedWh: 300, fromCommunityWh: 200, fromGridWh: 500, productionWh: 700, toCommunityWh: 400, toGridWh: 0 });
    const flows = energyFlows(totals);
    expect(flows.find((f) => f.target === FLOW_NODES.toGrid)).toBeUndefined();
    const into = (node: string) => flows.filter((f) => f.target === node).reduce((a, f) => a + f.valueWh, 0);
    const outOf = (node: string) => flows.filter((f) => f.source === node).reduce((a, f) => a + f.valueWh, 0);
    expect(into(FLOW_NODES.home)).toBe(totals.consumptionWh);
    expect(outOf(FLOW_NODES.pv)).toBe(totals.productionWh);
    const sources = new Set(flows.map((f) => f.source));
    expect(flows.some((f) => sources.has(f.target))).toBe(false);
    expect(selfSufficiency(totals)).toBe(0.5);
    expect(selfSufficiency(figures({}))).toBeNull();
  });
});

describe('static shares', () => {
  it('reads exact decimals from 0 to 1 with at most 9 places, nothing else', () => {
    expect(shareUnits('0.25')).toBe(250_000_000);
    expect(shareUnits('1')).toBe(ONE_UNITS);
    expect(shareUnits('0.000000001')).toBe(1);
    for (const bad of ['1.5', '0.1234567891', '.5', '-0.1', '0,5', 'NaN', '', '1e-3', '2']) expect(shareUnits(bad), bad).toBeNull();
  });

  it('adds up exactly where floats would not', () => {
    // 0.1 + 0.2 is 0.30000000000000004 in floating point.
    expect(formatUnits(sumShares(['0.1', '0.2']).units)).toBe('0.3');
    expect(sumShares(['0.5', ' ', 'x', '0.500000001'])).toEqual({ units: ONE_UNITS + 1, invalid: 1 });
    expect(formatUnits(0)).toBe('0');
  });

  it('gives equal shares that never add up to more than 1', () => {
    expect(equalShares(3)).toEqual(['0.333333333', '0.333333333', '0.333333333']);
    expect(sumShares(equalShares(7)).units).toBeLessThanOrEqual(ONE_UNITS);
    expect(equalShares(1)).toEqual(['1']);
    expect(equalShares(0)).toEqual([]);
  });
});

describe('live power', () => {
  const reading = (point: string, ts: string, values: Record<string, number>): LiveReading => ({ meteringPointId: point, deviceId: 'd', ts, values });

  it('keeps the newest value per point and quantity and sums the points', () => {
    let latest = new Map<string, LiveReading>();
    latest = mergeLive(latest, reading('p1', '2026-06-01T10:00:05Z', { 'power.import': 400, 'pv.power': 0 }));
    latest = mergeLive(latest, reading('p2', '2026-06-01T10:00:06Z', { 'power.import': 20, 'power.export': 0 }));
    latest = mergeLive(latest, reading('p1', '2026-06-01T10:00:10Z', { 'power.import': 0, 'power.export': 900 }));
    // Late and older: ignored.
    latest = mergeLive(latest, reading('p1', '2026-06-01T10:00:01Z', { 'power.import': 9999 }));
    expect(livePower(latest)).toEqual({ importW: 20, exportW: 900, pvW: 0, at: '2026-06-01T10:00:10Z', points: 2 });
  });

  it('says how fresh the newest reading is, with its time once it is old, and "live" only for a young one on an open stream', async () => {
    const fmt = formatter({ locale: 'en-GB', currency: 'EUR', timeZone: 'Europe/Vienna' });
    const t = translator('en-GB', await loadMessages('en'));
    const now = Date.parse('2026-06-01T10:00:30Z');
    expect(freshness('2026-06-01T10:00:18Z', now, 'open', fmt, t)).toBe('Updated 12 seconds ago · live');
    expect(freshness('2026-06-01T10:00:18Z', now, 'reconnecting', fmt, t)).toBe('Updated 12 seconds ago · reconnecting…');
    expect(freshness('2026-06-01T09:55:30Z', now, 'open', fmt, t)).toBe('Updated 5 minutes ago');
    // The demo replays yesterday over an open stream: an old reading is never called live.
    expect(freshness('2026-05-31T20:00:00Z', now, 'open', fmt, t)).toBe(`Latest reading from ${fmt.dateTime('2026-05-31T20:00:00Z')}`);
  });
});

describe('small parsers', () => {
  it('reads claim codes from sticker URLs and typed codes, nothing else', () => {
    expect(claimCodeFrom('https://grid.example/claim?code=7K2Q-M9XD-4RTA')).toBe('7K2Q-M9XD-4RTA');
    expect(claimCodeFrom(' 7k2q-m9xd-4rta ')).toBe('7K2Q-M9XD-4RTA');
    expect(claimCodeFrom('https://evil.example/other?code=7K2Q-M9XD-4RTA')).toBeUndefined();
    expect(claimCodeFrom('WIFI:S:home;T:WPA;P:secret;;')).toBeUndefined();
  });

  it('emits complete NDJSON lines and keeps the unfinished rest', () => {
    const seen: unknown[] = [];
    const rest = emitLines('{"progress":{"done":1}}\n\n{"batch":{"id":"x"}}\n{"par', (v) => seen.push(v));
    expect(seen).toEqual([{ progress: { done: 1 } }, { batch: { id: 'x' } }]);
    expect(rest).toBe('{"par');
  });

  it('reads CSV as the server writes it: quoted commas, doubled quotes, CRLF, a last line without its end', () => {
    expect(parseCsv('a,b\r\n"Hauptstraße 12, Wien","say ""hi"""\r\n,x')).toEqual([['a', 'b'], ['Hauptstraße 12, Wien', 'say "hi"'], ['', 'x']]);
    expect(parseCsv('a\r\n')).toEqual([['a']]);
    expect(parseCsv('')).toEqual([]);
  });

  it('matches route patterns and decodes parameters', () => {
    expect(matchPath('/members/:memberId/devices', '/members/abc/devices')).toEqual({ memberId: 'abc' });
    expect(matchPath('/members/:memberId', '/members/abc/devices')).toBeNull();
    expect(matchPath('/manage/:communityId', '/manage/a%20b')).toEqual({ communityId: 'a b' });
    expect(matchPath('/', '/')).toEqual({});
  });
});

describe('forecasts on the dashboards', () => {
  it('asks from this hour to the end of tomorrow in the community, and tells today from tomorrow there', () => {
    const now = new Date('2026-01-15T22:30:00Z'); // 23:30 in Vienna
    expect(restOfTodayAndTomorrow(now, 'Europe/Vienna')).toEqual({ from: '2026-01-15T22:00:00.000Z', to: '2026-01-16T23:00:00.000Z' });
    expect(localDaysFrom(now, new Date('2026-01-15T22:45:00Z'), 'Europe/Vienna')).toBe(0);
    expect(localDaysFrom(now, new Date('2026-01-15T23:15:00Z'), 'Europe/Vienna')).toBe(1);
  });

  it('reads an appliance\'s "done by 18:00" in the community\'s zone: today if still ahead, else tomorrow', () => {
    expect(nextLocalTime(new Date('2026-06-15T10:00:00Z'), '18:00', 'Europe/Vienna').toISOString()).toBe('2026-06-15T16:00:00.000Z');
    expect(nextLocalTime(new Date('2026-06-15T16:30:00Z'), '18:00', 'Europe/Vienna').toISOString()).toBe('2026-06-16T16:00:00.000Z');
    // The night the clocks go back: 07:00 is UTC+1 again.
    expect(nextLocalTime(new Date('2026-10-24T22:00:00Z'), '07:00', 'Europe/Vienna').toISOString()).toBe('2026-10-25T06:00:00.000Z');
  });

  it('sums a member\'s points per hour, leaving out what a point does not forecast', () => {
    const forecast = (values: (number | null)[], kind: 'consumption' | 'production' = 'consumption'): Forecast => ({
      id: 'x', timeZone: 'Europe/Vienna', from: '', to: '', resolution: 60,
      series: [{ kind, models: [], issuedAt: null, values: values.map((p50W, k) => ({ start: `2026-01-15T0${k}:00:00.000Z`, p50W })) }],
    });
    expect(sumP50([forecast([100, null, null]), forecast([50, 60, null])], 'consumption')).toEqual({
      starts: ['2026-01-15T00:00:00.000Z', '2026-01-15T01:00:00.000Z', '2026-01-15T02:00:00.000Z'], p50W: [150, 60, null],
    });
    expect(sumP50([forecast([1, 2])], 'production')).toBeUndefined();
  });
});

describe('date fields in the person\'s locale', () => {
  const de = formatter({ locale: 'de' });
  const gb = formatter({ locale: 'en-GB' });
  const en = formatter({ locale: 'en' });
  const letters = { de: { day: 'TT', month: 'MM', year: 'JJJJ' }, en: { day: 'DD', month: 'MM', year: 'YYYY' } };

  it('shows a day and a month in the order and with the separators of the locale', () => {
    expect(de.dateInput('2026-12-01', 'date')).toBe('01.12.2026');
    expect(gb.dateInput('2026-12-01', 'date')).toBe('01/12/2026');
    expect(en.dateInput('2026-12-01', 'date')).toBe('12/01/2026');
    expect(de.dateInput('2026-03', 'month')).toBe('03.2026');
    expect(gb.dateInput('2026-03', 'month')).toBe('03/2026');
    expect(de.dateInput('', 'date')).toBe('');
    expect(de.dateInputPattern('date', letters.de)).toBe('TT.MM.JJJJ');
    expect(de.dateInputPattern('month', letters.de)).toBe('MM.JJJJ');
    expect(gb.dateInputPattern('date', letters.en)).toBe('DD/MM/YYYY');
    expect(en.dateInputPattern('date', letters.en)).toBe('MM/DD/YYYY');
    expect(en.dateInputPattern('month', letters.en)).toBe('MM/YYYY');
  });

  it('reads back what it shows, with or without leading zeros and spaces around the separators', () => {
    for (const fmt of [de, gb, en]) {
      for (const day of ['2026-12-01', '2024-02-29', '1999-01-31']) expect(fmt.parseDateInput(fmt.dateInput(day, 'date'), 'date')).toEqual({ iso: day });
      expect(fmt.parseDateInput(fmt.dateInput('2026-07', 'month'), 'month')).toEqual({ iso: '2026-07' });
    }
    expect(de.parseDateInput('15.12.2026', 'date')).toEqual({ iso: '2026-12-15' });
    expect(de.parseDateInput(' 5. 1. 2026 ', 'date')).toEqual({ iso: '2026-01-05' });
    expect(gb.parseDateInput('5/1/2026', 'date')).toEqual({ iso: '2026-01-05' });
    expect(en.parseDateInput('5/1/2026', 'date')).toEqual({ iso: '2026-05-01' });
    expect(de.parseDateInput('3.2026', 'month')).toEqual({ iso: '2026-03' });
    expect(de.parseDateInput('   ', 'date')).toEqual({ iso: '' });
  });

  it('refuses what is not a day in the calendar or not in the locale\'s pattern', () => {
    const calendar = { error: 'calendar' };
    const format = { error: 'format' };
    expect(de.parseDateInput('31.02.2026', 'date')).toEqual(calendar);
    expect(de.parseDateInput('29.02.2027', 'date')).toEqual(calendar);
    expect(de.parseDateInput('31.04.2026', 'date')).toEqual(calendar);
    expect(de.parseDateInput('00.12.2026', 'date')).toEqual(calendar);
    expect(de.parseDateInput('01.13.2026', 'date')).toEqual(calendar);
    expect(de.parseDateInput('01.00.2026', 'date')).toEqual(calendar);
    expect(gb.parseDateInput('12/31/2026', 'date')).toEqual(calendar);
    expect(de.parseDateInput('13.2026', 'month')).toEqual(calendar);
    expect(de.parseDateInput('01.12.0999', 'date')).toEqual(calendar);
    // ISO, another locale's separators, letters, two-digit years, huge numbers, trailing text.
    for (const text of ['2026-13-01', '2026-12-01', '01/12/2026', '1.Dez.2026', 'abc', 'TT.MM.JJJJ', '01.12.26', '01.12.20266',
      '100.12.2026', '01.123.2026', '99999999999999999999.1.2026', '01.12.2026x', '01..12.2026', '-1.12.2026', '1e1.12.2026']) {
      expect(de.parseDateInput(text, 'date'), text).toEqual(format);
    }
    expect(gb.parseDateInput('01.12.2026', 'date')).toEqual(format);
    expect(de.parseDateInput('01.12.2026', 'month')).toEqual(format);
  });

  it('takes a day or month within min and max, both included, and says on which side one is outside', () => {
    const bounds = { min: '2000-01-02', max: '2026-12-04' };
    expect(de.parseDateInput('02.01.2000', 'date', bounds)).toEqual({ iso: '2000-01-02' });
    expect(de.parseDateInput('4.12.2026', 'date', bounds)).toEqual({ iso: '2026-12-04' });
    expect(de.parseDateInput('01.01.2000', 'date', bounds)).toEqual({ error: 'min' });
    expect(gb.parseDateInput('05/12/2026', 'date', bounds)).toEqual({ error: 'max' });
    expect(de.parseDateInput('31.12.1999', 'date', { max: bounds.max })).toEqual({ iso: '1999-12-31' });
    expect(de.parseDateInput('05.12.2026', 'date', { min: bounds.min })).toEqual({ iso: '2026-12-05' });
    expect(de.parseDateInput('11.2026', 'month', { min: '2026-12' })).toEqual({ error: 'min' });
    expect(de.parseDateInput('12.2026', 'month', { min: '2026-12', max: '2026-12' })).toEqual({ iso: '2026-12' });
    // An empty field or one that is no day is not judged against the bounds.
    expect(de.parseDateInput('', 'date', bounds)).toEqual({ iso: '' });
    expect(de.parseDateInput('31.02.2030', 'date', bounds)).toEqual({ error: 'calendar' });
    expect(de.parseDateInput('2030-01-01', 'date', bounds)).toEqual({ error: 'format' });
  });
});

describe('who takes part (the manager\'s counts and share editor)', () => {
  const member = (id: string, role: Member['role']) => ({ id, role, state: 'active' }) as Member;
  const site = (memberId: string, communityBattery: boolean) => ({ memberId, communityBattery }) as MeteringPoint;

  it('leaves out a manager who only holds the community battery, and counts one with a home of their own', () => {
    const members = [member('anna', 'member'), member('runs', 'manager'), member('lives', 'manager'), { ...member('gone', 'member'), state: 'left' } as Member];
    const points = [site('anna', false), site('runs', true), site('lives', false), site('lives', true)];
    expect(takingPart(members, points).map((m) => m.id)).toEqual(['anna', 'lives']);
    // A member takes part before their site is registered.
    expect(takingPart([member('new', 'member')], []).map((m) => m.id)).toEqual(['new']);
  });
});
