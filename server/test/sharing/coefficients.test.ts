import { describe, expect, it } from 'vitest';
import { bindShares, parseCoefficients, parseDecimal, parseSharesCsv } from '../../src/sharing/domain/allocation/index.js';

const A = 'ES0031300000000001AB0F';
const B = 'ES0031300000000002CD0F';
const H = 3_600_000;

describe('decimal shares', () => {
  it('are read exactly, with a point or a comma', () => {
    expect(parseDecimal('0.25')).toEqual({ units: 25, decimals: 2 });
    expect(parseDecimal('0,250000')).toEqual({ units: 25, decimals: 2 });
    expect(parseDecimal('1')).toEqual({ units: 1, decimals: 0 });
    expect(parseDecimal('0.333333333')).toEqual({ units: 333333333, decimals: 9 });
    for (const bad of ['', '-0.1', '1e-3', '25%', '0.1234567891', 'abc', '0.', '.5']) expect(parseDecimal(bad), bad).toBeUndefined();
  });
});

describe('shares file (member_id,share)', () => {
  it('reads a key and binds it to the input members', () => {
    const table = parseSharesCsv('member_id,share\nanna,0.5\nben,0.25\r\nghost,0.125\n');
    const schedule = bindShares(table, ['ben', 'anna', 'cem']);
    const v = schedule.vectorFor(0)!;
    expect(v.denominator).toBe(1000);
    expect(Array.from(v.weights)).toEqual([250, 500, 0]);
    // ghost has no rows: its 1/8 belongs to nobody in this run.
    expect(v.total).toBe(750);
  });

  it('refuses bad files with the line number', () => {
    expect(() => parseSharesCsv('member,share\na,1')).toThrow(/line 1: .*header/);
    expect(() => parseSharesCsv('member_id,share\na,0.5\nb,x')).toThrow(/line 3: share "x" is not a decimal/);
    expect(() => parseSharesCsv('member_id,share\na,0.5\na,0.1')).toThrow(/line 3: member a appears twice/);
    expect(() => parseSharesCsv('member_id,share\na,1.5')).toThrow(/line 2: share 1.5 is more than 1/);
    expect(() => parseSharesCsv('member_id,share\na,0.6\nb,0.5')).toThrow(/add up to more than 1/);
    expect(() => parseSharesCsv('member_id,share\na,0.6,1')).toThrow(/line 2: expected 2 fields/);
    expect(() => parseSharesCsv('member_id,share\n')).toThrow(/no members/);
  });
});

describe('coefficient files', () => {
  it('reads the Spanish layout: CUPS;hour;coefficient, year from <CAU>_<year>.txt, hours from 1 Jan 00:00 CET', () => {
    const table = parseCoefficients(`${A};1;0,600000\n${B};1;0,400000\n${A};8760;1,000000;\n`, { fileName: 'ES0031300000000001AB0FA000_2025.txt' });
    expect(table.periodMs).toBe(H);
    const s = bindShares(table, [A, B]);
    // Hour 1 starts at local midnight, 31 Dec 2024 23:00 UTC. (Trailing zeros are dropped:
    // 0,600000 = 6/10.)
    const first = s.vectorFor(Date.UTC(2024, 11, 31, 23, 0))!;
    expect({ weights: Array.from(first.weights), denominator: first.denominator }).toEqual({ weights: [6, 4], denominator: 10 });
    expect(Array.from(s.vectorFor(Date.UTC(2024, 11, 31, 23, 45))!.weights)).toEqual([6, 4]);
    // Hour 8760 is the last hour of 2025: 31 Dec 2025 22:00 UTC.
    expect(Array.from(s.vectorFor(Date.UTC(2025, 11, 31, 22, 0))!.weights)).toEqual([10, 0]);
    expect(s.vectorFor(Date.UTC(2025, 0, 1, 0, 0))).toBeUndefined();
  });

  it('counts Canary hours from UTC midnight and knows leap years', () => {
    const t = parseCoefficients(`${A};8784;1\n`, { year: 2024, utcOffsetHours: 0 });
    expect(bindShares(t, [A]).vectorFor(Date.UTC(2024, 11, 31, 23, 0))).toBeDefined();
    expect(() => parseCoefficients(`${A};8761;1\n`, { year: 2025 })).toThrow(/line 1: hour 8761 is outside 1..8760 of 2025/);
  });

  it('reads Gridshare CSV with hours of the year or timestamps', () => {
    const hours = parseCoefficients('member_id,hour_of_year_or_timestamp,coefficient\nanna,1,0.5\nben,1,0.5\n', { year: 2025 });
    expect(bindShares(hours, ['anna', 'ben']).vectorFor(Date.UTC(2024, 11, 31, 23, 30))!.total).toBe(10);
    const stamps = parseCoefficients('member_id,timestamp,coefficient\nanna,2025-03-30T01:00:00Z,0.25\n', { resolutionMinutes: 15 });
    const s = bindShares(stamps, ['anna']);
    expect(s.vectorFor(Date.UTC(2025, 2, 30, 1, 0))!.weights[0]).toBe(25);
    expect(s.vectorFor(Date.UTC(2025, 2, 30, 1, 15))).toBeUndefined();
  });

  it('refuses bad coefficient files with the line number', () => {
    const csv = (rows: string) => `member_id,hour_of_year_or_timestamp,coefficient\n${rows}`;
    expect(() => parseCoefficients(`${A};1;0,6\n${B};1;0,5\n`, { year: 2025 })).toThrow(/period starting 2024-12-31T23:00:00Z add up to more than 1/);
    expect(() => parseCoefficients(`${A};1;0,6\n${A};1;0,1\n`, { year: 2025 })).toThrow(/line 2: .* two coefficients for the same period/);
    expect(() => parseCoefficients(`${A};1;0,6\n`)).toThrow(/line 1: hour-of-year coefficients need the year/);
    expect(() => parseCoefficients(`${A};x;0,6\n`, { year: 2025 })).toThrow(/line 1: hour "x" is not a whole number/);
    expect(() => parseCoefficients(`${A};1;1,5\n`, { year: 2025 })).toThrow(/line 1: coefficient 1,5 is more than 1/);
    expect(() => parseCoefficients(`${A};1\n`, { year: 2025 })).toThrow(/line 1: expected CUPS;hour;coefficient/);
    expect(() => parseCoefficients('cups,hour,beta\n')).toThrow(/line 1: coefficients CSV must start with the header/);
    expect(() => parseCoefficients(csv('anna,2025-01-01T00:10:00Z,0.5\n'))).toThrow(/line 2: .* does not start a 60-minute period/);
    expect(() => parseCoefficients(csv('anna,2025-01-01 00:00,0.5\n'))).toThrow(/line 2: .* neither an hour of the year nor a UTC timestamp/);
    expect(() => parseCoefficients(csv('anna,1,0.5\nben,2025-01-01T00:00:00Z,0.5\n'), { year: 2025 })).toThrow(/line 3: mixes hours of the year and timestamps/);
    expect(() => parseCoefficients(csv('anna,1,abc\n'), { year: 2025 })).toThrow(/line 2: coefficient "abc" is not a decimal/);
    expect(() => parseCoefficients('\n\n')).toThrow(/empty/);
  });
});
