/**
 * Masking rules for exports (GENTE's "user-defined rule sets"): checking rule sets, the rules
 * themselves (HMAC-SHA-256 against RFC 4231, postcodes of seven countries), and two realistic
 * regulator exports: the allocation CSV `gridshare allocate` writes for a street of households
 * and a PV producer, and an EDA-like per-metering-point report with names and addresses.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAllocate } from '../../src/sharing/commands.js';
import { formatUtcInstant, HOUR_MS, QUARTER_HOUR_MS } from '../../src/kernel/time.js';
import {
  compileRuleSet, maskCsvRows, maskRecords, parseRuleSet, postcodeOf, type MaskingRuleSet, type RegulatorIntervalRow,
} from '../../src/privacy/domain/index.js';

// RFC 4231 test case 1: key 0x0b × 20, data "Hi There".
const RFC4231_KEY = new Uint8Array(20).fill(0x0b);
const RFC4231_HMAC = 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7';
const SALT = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff);
const OTHER_SALT = new Uint8Array(32).fill(7);

const ruleSet = (fields: Record<string, string>, schema = 'allocation', otherFields: 'keep' | 'drop' = 'keep'): MaskingRuleSet =>
  parseRuleSet({ name: 'test', schema, fields, otherFields });

describe('rule sets', () => {
  it('refuses unknown fields and rules, naming what is known', () => {
    expect(() => compileRuleSet(ruleSet({ member_name: 'drop' }), { salt: SALT })).toThrow(/unknown field "member_name" \(the allocation export has interval_start, member_id/);
    expect(() => compileRuleSet(ruleSet({ member_id: 'encrypt' }), { salt: SALT })).toThrow(/unknown rule "encrypt" for member_id \(rules: keep, drop, hash, postcode, hourly\)/);
    expect(() => compileRuleSet(ruleSet({}, 'eda-xml'), {})).toThrow(/unknown export schema "eda-xml"/);
  });

  it('reports every problem at once', () => {
    const error = (() => {
      try {
        compileRuleSet(ruleSet({ member_id: 'postcode', from_grid_wh: 'hash', interval_start: 'hash', nope: 'drop' }), {});
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    })();
    expect(error.message).toContain('unknown field "nope"');
    expect(error.message).toContain('rule "postcode" does not apply to member_id (a identifier field');
    expect(error.message).toContain('rule "hash" does not apply to from_grid_wh');
    expect(error.message).toContain('rule "hash" does not apply to interval_start');
    expect(error.message).toContain('needs the community\'s country');
  });

  it('needs a salt of 16 bytes for hashing and a known country for postcodes', () => {
    expect(() => compileRuleSet(ruleSet({ member_id: 'hash' }), {})).toThrow(/salt of at least 16 bytes/);
    expect(() => compileRuleSet(ruleSet({ member_id: 'hash' }), { salt: new Uint8Array(15) })).toThrow(/salt/);
    expect(() => compileRuleSet(ruleSet({ address: 'postcode' }, 'regulator-intervals'), { country: 'XX' })).toThrow(/country, one of AT, BE/);
  });

  it('refuses a second time rule and figures that cannot be summed into hours', () => {
    // participation_factor is optional: refused once a file has it.
    const hourly = compileRuleSet(ruleSet({ interval_start: 'hourly' }, 'regulator-intervals'), {});
    expect(hourly.timeGrain).toEqual({ field: 'interval_start', stepMs: HOUR_MS });
    const withFactor = [{ metering_point: 'AT1', member_name: 'A', address: 'x', interval_start: '2026-03-01T00:00:00Z', consumption_wh: 1, from_community_wh: 0, production_wh: 0, to_community_wh: 0, quality: 'measured', participation_factor: 0.5 }];
    expect(() => [...maskRecords(hourly, withFactor)]).toThrow(/participation_factor \(a number field\) cannot be generalised to the time rule of interval_start: drop it/);
    expect([...maskRecords(compileRuleSet(ruleSet({ interval_start: 'hourly', participation_factor: 'drop' }, 'regulator-intervals'), {}), withFactor)]).toHaveLength(1);
  });

  it('refuses malformed rule-set JSON', () => {
    expect(() => parseRuleSet([])).toThrow(/JSON object/);
    expect(() => parseRuleSet({ name: 'x', schema: 'allocation', fields: {}, extra: 1 })).toThrow(/unknown key "extra"/);
    expect(() => parseRuleSet({ name: 'x', schema: 'allocation', fields: { member_id: 5 } })).toThrow(/rule name/);
    expect(() => parseRuleSet({ name: '', schema: 'allocation', fields: {} })).toThrow(/name/);
    expect(() => parseRuleSet({ name: 'x', schema: 'allocation', fields: {}, otherFields: 'hash' })).toThrow(/otherFields/);
    expect(parseRuleSet({ name: 'x', schema: 'allocation', fields: {} }).otherFields).toBe('keep');
  });
});

describe('rules', () => {
  it('hash is HMAC-SHA-256 under the salt (RFC 4231), 128 bits of it, stable per salt', () => {
    const masking = compileRuleSet(ruleSet({ member_id: 'hash' }), { salt: RFC4231_KEY });
    const header = ['interval_start', 'member_id', 'from_community_wh', 'to_community_wh', 'from_grid_wh', 'to_grid_wh'];
    const rows = [...maskCsvRows(masking, header, [['2026-03-01T00:00:00Z', 'Hi There', '1', '0', '2', '0'], ['2026-03-01T00:00:00Z', '', '1', '0', '2', '0']])];
    expect(rows[1]![1]).toBe(RFC4231_HMAC.slice(0, 32));
    expect(rows[2]![1]).toBe('');
    const other = compileRuleSet(ruleSet({ member_id: 'hash' }), { salt: OTHER_SALT });
    expect([...maskCsvRows(other, header, [['2026-03-01T00:00:00Z', 'Hi There', '1', '0', '2', '0']])][1]![1]).not.toBe(rows[1]![1]);
  });

  it.each([
    ['AT', 'Hauptstraße 12, 1010 Wien', '1010'],
    ['AT', 'Sonnenweg 1234, A-4020 Linz', '4020'],
    ['DE', 'Unter den Linden 77, 10117 Berlin', '10117'],
    ['FR', '12 rue de la Paix, 75002 Paris', '75002'],
    ['ES', 'Calle de Alcalá 45, 28014 Madrid', '28014'],
    ['IT', 'Via del Corso 120, 00186 Roma RM', '00186'],
    ['NL', 'Keizersgracht 123, 1015CJ Amsterdam', '1015 CJ'],
    ['BE', 'Rue de la Loi 16, 1000 Bruxelles', '1000'],
    ['AT', 'Hauptstraße 12', ''],
    ['DE', 'Hausnummer 12345', ''],
  ])('postcode in %s: %s → "%s"', (country, address, postcode) => {
    expect(postcodeOf(address, country)).toBe(postcode);
  });
});

const MEMBERS = ['household-01', 'household-02', 'household-03', 'household-04', 'household-05', 'library-pv'];
const START = Date.UTC(2026, 5, 1);
const QUARTERS = 2 * 96;

/** Two June days of a street: households with morning and evening peaks, a library with 60 kWp PV. */
function intervalsCsv(): string {
  const lines = ['interval_start,member_id,import_wh,export_wh'];
  for (let q = 0; q < QUARTERS; q++) {
    const hour = (q % 96) / 4;
    const sun = Math.max(0, Math.sin(((hour - 5) / 16) * Math.PI));
    MEMBERS.forEach((member, m) => {
      if (member === 'library-pv') {
        lines.push(`${formatUtcInstant(START + q * QUARTER_HOUR_MS)},${member},${sun > 0 ? 0 : 40},${Math.round(60_000 * 0.8 * sun / 4)}`);
        return;
      }
      const peak = Math.exp(-((hour - 7) ** 2) / 2) + 1.5 * Math.exp(-((hour - 19) ** 2) / 3);
      lines.push(`${formatUtcInstant(START + q * QUARTER_HOUR_MS)},${member},${Math.round(50 + 120 * peak + 7 * m + (q % 5))},0`);
    });
  }
  return `${lines.join('\n')}\n`;
}

describe('a regulator export: the allocation CSV of gridshare allocate', () => {
  let dir: string;
  let header: string[];
  let rows: string[][];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'privacy-masking-'));
    await writeFile(join(dir, 'intervals.csv'), intervalsCsv());
    await runAllocate({ input: join(dir, 'intervals.csv'), rule: 'dynamic', out: join(dir, 'allocation.csv'), progress: false });
    [header, ...rows] = parse(await readFile(join(dir, 'allocation.csv'), 'utf8')) as string[][] as [string[], ...string[][]];
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('hashes the members and sums every member\'s quarter hours into hours, Wh for Wh', () => {
    expect(rows).toHaveLength(QUARTERS * MEMBERS.length);
    const masking = compileRuleSet(parseRuleSet(JSON.parse('{"name":"to the regulator","schema":"allocation","fields":{"member_id":"hash","interval_start":"hourly"}}')), { salt: SALT });
    const [outHeader, ...out] = [...maskCsvRows(masking, header, rows)] as [string[], ...string[][]];
    expect(outHeader).toEqual(header);
    expect(out).toHaveLength((QUARTERS / 4) * MEMBERS.length);

    // The hashes: one per member, 32 hex digits, none of the ids left.
    const text = out.map((r) => r.join(',')).join('\n');
    for (const member of MEMBERS) expect(text).not.toContain(member);
    const hashes = new Set(out.map((r) => r[1]));
    expect(hashes.size).toBe(MEMBERS.length);
    for (const h of hashes) expect(h).toMatch(/^[0-9a-f]{32}$/);

    // Every hour of every member holds the sum of its four quarter hours, column by column.
    const expected = new Map<string, number[]>();
    for (const row of rows) {
      const hour = Math.floor(Date.parse(row[0]!) / HOUR_MS) * HOUR_MS;
      const key = `${formatUtcInstant(hour)}|${row[1]}`;
      const sums = expected.get(key) ?? [0, 0, 0, 0];
      expected.set(key, sums.map((s, i) => s + Number(row[2 + i])));
    }
    const byHash = new Map(MEMBERS.map((m) => [[...maskCsvRows(masking, header, [[rows[0]![0]!, m, '0', '0', '0', '0']])][1]![1], m]));
    for (const row of out) {
      expect(row[0]).toMatch(/T\d\d:00:00Z$/);
      expect(row.slice(2).map(Number)).toEqual(expected.get(`${row[0]}|${byHash.get(row[1]!)}`));
    }
    // Totals are unchanged: nothing lost, nothing made up.
    const total = (table: string[][]) => table.reduce((s, r) => s + Number(r[2]) + Number(r[4]), 0);
    expect(total(out)).toBe(total(rows));
  });

  it('dropping the members and generalising to hours gives the community\'s hourly totals', () => {
    const masking = compileRuleSet(ruleSet({ member_id: 'drop', interval_start: 'hourly' }), {});
    const [outHeader, ...out] = [...maskCsvRows(masking, header, rows)];
    expect(outHeader).toEqual(['interval_start', 'from_community_wh', 'to_community_wh', 'from_grid_wh', 'to_grid_wh']);
    expect(out).toHaveLength(QUARTERS / 4);
    const shared = out.reduce((s, r) => s + Number(r[1]), 0);
    expect(shared).toBe(rows.reduce((s, r) => s + Number(r[2]), 0));
  });

  it('refuses a file whose columns or rows do not fit, changing nothing', () => {
    const masking = compileRuleSet(ruleSet({ interval_start: 'hourly' }), {});
    expect(() => [...maskCsvRows(masking, [...header, 'email'], [])]).toThrow(/column email is not in the allocation export/);
    expect(() => [...maskCsvRows(masking, header.filter((h) => h !== 'to_grid_wh'), [])]).toThrow(/lacks column to_grid_wh/);
    expect(() => [...maskCsvRows(masking, header, [rows[0]!.slice(0, 3)])]).toThrow(/row 1: expected 6 fields, found 3/);
    const bad = rows.slice(0, 12).map((r) => [...r]);
    bad[7]![3] = '12.5';
    expect(() => [...maskCsvRows(masking, header, bad)]).toThrow(/row 8: to_community_wh "12.5" is not whole Wh/);
    bad[7]![3] = '1';
    bad[9]![0] = '2026-06-01 00:15';
    expect(() => [...maskCsvRows(masking, header, bad)]).toThrow(/row 10: interval_start "2026-06-01 00:15" is not a UTC quarter hour/);
    // A later hour of a member, then an earlier one: rows out of order are refused, not mis-summed.
    const late = [rows[6 * 8]!, rows[0]!];
    expect(() => [...maskCsvRows(masking, header, late)]).toThrow(/row 2: .* rows must be in time order/);
  });
});

describe('a regulator export: EDA-like rows per metering point', () => {
  const person = (i: number) => ({
    metering_point: `AT00100000000000000010000000000${10 + i}`,
    member_name: ['Anna Maier', 'Bert Huber', 'Cara Novak'][i]!,
    member_email: ['anna@example.at', 'bert@example.at', 'cara@example.at'][i]!,
    address: ['Hauptstraße 12, 1010 Wien', 'Lindengasse 3/4, 1070 Wien', 'Am Hof 1, 3100 St. Pölten'][i]!,
  });
  // Ordered by metering point, then time, as an operator's report is; Cara's 01:45 is missing.
  const rows: RegulatorIntervalRow[] = [0, 1, 2].flatMap((i) => Array.from({ length: 8 }, (_, q) => ({
    ...person(i),
    interval_start: formatUtcInstant(START + q * QUARTER_HOUR_MS),
    consumption_wh: 100 + q,
    from_community_wh: 40 + i,
    production_wh: i === 2 ? 0 : 10,
    to_community_wh: 0,
    quality: q === 3 ? 'estimated' as const : 'measured' as const,
    participation_factor: 0.25,
  })).filter((_, q) => !(i === 2 && q === 7)));

  it('drops names and emails, keeps postcodes, hashes metering points, sums into hours', () => {
    const masking = compileRuleSet(parseRuleSet({
      name: 'E-Control', schema: 'regulator-intervals', otherFields: 'keep',
      fields: { member_name: 'drop', member_email: 'drop', address: 'postcode', metering_point: 'hash', interval_start: 'hourly', participation_factor: 'drop' },
    }), { salt: SALT, country: 'AT' });
    // Each hour comes out once its series has moved on to the next (the last ones at the end).
    // Anna, Bert and Cara live in 1010, 1070 and 3100: sorted by postcode and time, they are in input order again.
    const order = (r: Record<string, unknown>) => `${r.address}|${r.interval_start}`;
    const out = [...maskRecords(masking, rows)].sort((a, b) => order(a).localeCompare(order(b)));
    expect(out).toHaveLength(6);
    expect(Object.keys(out[0]!)).toEqual(['metering_point', 'address', 'interval_start', 'consumption_wh', 'from_community_wh', 'production_wh', 'to_community_wh', 'quality']);
    expect(out.map((r) => r.address)).toEqual(['1010', '1010', '1070', '1070', '3100', '3100']);
    expect(out[0]).toMatchObject({ interval_start: formatUtcInstant(START), consumption_wh: 100 + 101 + 102 + 103, from_community_wh: 160, quality: 'estimated' });
    expect(out[1]).toMatchObject({ consumption_wh: 104 + 105 + 106 + 107, quality: 'measured' });
    // Cara's second hour lacks a quarter hour: its sum covers three, and says so.
    expect(out[5]).toMatchObject({ consumption_wh: 104 + 105 + 106, quality: 'missing' });
    const text = JSON.stringify(out);
    for (const i of [0, 1, 2]) for (const value of Object.values(person(i))) expect(text).not.toContain(value);
  });

  it('keeps everything unnamed out with otherFields "drop"', () => {
    const masking = compileRuleSet(parseRuleSet({ name: 'minimal', schema: 'regulator-intervals', otherFields: 'drop', fields: { interval_start: 'keep', consumption_wh: 'keep' } }), {});
    const out = [...maskRecords(masking, rows.slice(0, 2))];
    expect(out).toEqual([
      { interval_start: formatUtcInstant(START), consumption_wh: 100 },
      { interval_start: formatUtcInstant(START + QUARTER_HOUR_MS), consumption_wh: 101 },
    ]);
  });

  it('refuses rows with fields the first row lacked, unknown fields, or non-finite figures', () => {
    const masking = compileRuleSet(parseRuleSet({ name: 'x', schema: 'regulator-intervals', fields: { participation_factor: 'drop' } }), {});
    const withoutEmail = rows.slice(0, 2).map(({ member_email: _, ...rest }) => rest);
    expect(() => [...maskRecords(masking, [withoutEmail[0]!, rows[1]!])]).toThrow(/row 2: member_email is not a field of the first row/);
    expect(() => [...maskRecords(masking, [{ ...rows[0]!, iban: 'AT61 1904 3002 3457 3201' } as RegulatorIntervalRow])]).toThrow(/column iban is not in the regulator-intervals export/);
    expect(() => [...maskRecords(masking, [rows[0]!, { ...rows[1]!, consumption_wh: Number.POSITIVE_INFINITY }])]).toThrow(/row 2: consumption_wh is not a finite number/);
  });
});
