/**
 * A member's energy as CSV, without database or network: RFC 4180 records, local ISO 8601 times
 * with the offset (also on the night the clocks go back), whole Wh, and no cell a spreadsheet
 * would run as a formula.
 */
import { describe, expect, it } from 'vitest';
import { createLocalClock, localIsoString } from '../../src/kernel/calendar.js';
import { csvRecord, escapeField, formulaSafe } from '../../src/kernel/csv.js';
import { ENERGY_CSV_COLUMNS, energyCsv, type CsvBucket } from '../../src/sharing/domain/energy-csv.js';

const vienna = createLocalClock('Europe/Vienna');

const bucket = (start: string, end: string, wh: Partial<CsvBucket> = {}): CsvBucket => ({
  start, end, consumptionWh: 0, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0,
  quality: 'measured', provisional: false, ...wh,
});

describe('local ISO 8601 with the offset', () => {
  it('writes the community\'s wall clock and its offset, in winter and summer, and on both sides of the fall-back hour', () => {
    expect(localIsoString(Date.parse('2026-11-30T23:00:00Z'), vienna)).toBe('2026-12-01T00:00:00+01:00');
    expect(localIsoString(Date.parse('2026-06-30T22:00:00Z'), vienna)).toBe('2026-07-01T00:00:00+02:00');
    // 02:00–03:00 comes twice on 25 October 2026: the offset tells the two apart.
    expect(localIsoString(Date.parse('2026-10-25T00:15:00Z'), vienna)).toBe('2026-10-25T02:15:00+02:00');
    expect(localIsoString(Date.parse('2026-10-25T01:15:00Z'), vienna)).toBe('2026-10-25T02:15:00+01:00');
    expect(localIsoString(Date.parse('2026-01-15T12:00:00Z'), createLocalClock('America/St_Johns'))).toBe('2026-01-15T08:30:00-03:30');
    expect(localIsoString(Date.parse('2026-01-15T12:00:00Z'), createLocalClock('Asia/Kathmandu'))).toBe('2026-01-15T17:45:00+05:45');
    expect(localIsoString(Date.parse('2026-01-15T12:00:00Z'), createLocalClock('UTC'))).toBe('2026-01-15T12:00:00+00:00');
    // Read back, each is the same instant.
    for (const utc of ['2026-10-25T00:15:00.000Z', '2026-10-25T01:15:00.000Z']) expect(new Date(localIsoString(Date.parse(utc), vienna)).toISOString()).toBe(utc);
  });
});

describe('CSV cells', () => {
  it('defuses text a spreadsheet would run as a formula, and leaves figures alone', () => {
    for (const text of ['=1+2', '+SUM(A1)', '-2+3', '@cmd', '\tx', '\rx', '=HYPERLINK("http://evil.example","click")']) expect(formulaSafe(text), text).toBe(`'${text}`);
    for (const text of ['-17.28', '42', 'measured', 'a=b', '']) expect(formulaSafe(text), text).toBe(text);
    expect(escapeField('say "hi", then go')).toBe('"say ""hi"", then go"');
    expect(csvRecord(['=HYPERLINK("http://evil.example","click")', -300, true, 'line\nbreak'])).toBe('"\'=HYPERLINK(""http://evil.example"",""click"")",-300,true,"line\nbreak"');
  });
});

describe('a member\'s energy as CSV', () => {
  it('has a header row of the API\'s fields, one CRLF-ended record per bucket, whole Wh, quality and provisional', () => {
    const csv = energyCsv([
      bucket('2026-11-30T23:00:00.000Z', '2026-12-01T23:00:00.000Z', {
        consumptionWh: 8_123, selfConsumedWh: 1_000, fromCommunityWh: 2_000, fromGridWh: 5_123, productionWh: 3_000, toCommunityWh: 1_500, toGridWh: 500,
      }),
      bucket('2026-12-01T23:00:00.000Z', '2026-12-02T23:00:00.000Z', { quality: 'partial', provisional: true, consumptionWh: 1, fromGridWh: 1 }),
    ], vienna);
    expect(csv).toBe([
      'start,end,consumption_wh,self_consumed_wh,from_community_wh,from_grid_wh,production_wh,to_community_wh,to_grid_wh,quality,provisional',
      '2026-12-01T00:00:00+01:00,2026-12-02T00:00:00+01:00,8123,1000,2000,5123,3000,1500,500,measured,false',
      '2026-12-02T00:00:00+01:00,2026-12-03T00:00:00+01:00,1,0,0,1,0,0,0,partial,true',
      '',
    ].join('\r\n'));
    expect(ENERGY_CSV_COLUMNS).toHaveLength(11);
  });

  it('writes only the header for no buckets, and the 25-hour day of the fall-back change as one local day', () => {
    expect(energyCsv([], vienna)).toBe(`${ENERGY_CSV_COLUMNS.join(',')}\r\n`);
    const lines = energyCsv([bucket('2026-10-24T22:00:00.000Z', '2026-10-25T23:00:00.000Z')], vienna).split('\r\n');
    expect(lines[1]!.startsWith('2026-10-25T00:00:00+02:00,2026-10-26T00:00:00+01:00,')).toBe(true);
  });
});
