/**
 * `gridshare mask`: a rule set applied to an exported CSV file, offline. Refused input (rules,
 * salt, a bad row) leaves any previous output untouched and no temporary file behind; the
 * command line itself is run once, end to end.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { readSaltFile, registerMaskCommand, runMask, type MaskOptions } from '../../src/privacy/commands.js';

const run = promisify(execFile);
const script = new URL('../../bin/gridshare.js', import.meta.url).pathname;
const SALT_HEX = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

const HEADER = 'metering_point,member_name,address,interval_start,consumption_wh,from_community_wh,production_wh,to_community_wh,quality';
const rowsOf = (point: string, name: string, address: string, hours: number) => Array.from({ length: hours * 4 }, (_, q) => {
  const at = new Date(Date.UTC(2026, 2, 1) + q * 900_000).toISOString().replace('.000Z', 'Z');
  return `${point},"${name}","${address}",${at},${100 + q},${20 + q},0,0,measured`;
});
const CSV = [
  HEADER,
  ...rowsOf('AT0010000000000000001000000000011', 'Maier, Anna', 'Hauptstraße 12, 1010 Wien', 2),
  ...rowsOf('AT0010000000000000001000000000012', 'Huber, Bert', 'Lindengasse 3, 1070 Wien', 2).slice(0, 7),
].join('\n');
const RULES = { name: 'E-Control', schema: 'regulator-intervals', otherFields: 'keep', fields: { member_name: 'drop', address: 'postcode', metering_point: 'hash', interval_start: 'hourly' } };

let dir: string;
const path = (name: string) => join(dir, name);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridshare-mask-'));
  await writeFile(path('export.csv'), CSV);
  await writeFile(path('rules.json'), JSON.stringify(RULES));
  await writeFile(path('salt.hex'), `${SALT_HEX}\n`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const options = async (overrides: Partial<MaskOptions> = {}): Promise<MaskOptions> => ({
  rules: path('rules.json'), input: path('export.csv'), out: path('masked.csv'), salt: await readSaltFile(path('salt.hex')), country: 'at', ...overrides,
});

describe('gridshare mask', () => {
  it('masks a regulator export: names gone, postcodes kept, metering points hashed, hours summed', async () => {
    const summary = await runMask(await options());
    expect(summary).toMatchObject({ ruleSet: 'E-Control', schema: 'regulator-intervals', rowsIn: 15, rowsOut: 4, incompleteHours: 1 });
    const text = await readFile(path('masked.csv'), 'utf8');
    const [header, ...lines] = text.trim().split('\n');
    expect(header).toBe('metering_point,address,interval_start,consumption_wh,from_community_wh,production_wh,to_community_wh,quality');
    expect(lines.map((l) => l.split(',').slice(1))).toEqual([
      ['1010', '2026-03-01T00:00:00Z', '406', '86', '0', '0', 'measured'],
      ['1070', '2026-03-01T00:00:00Z', '406', '86', '0', '0', 'measured'],
      ['1010', '2026-03-01T01:00:00Z', '422', '102', '0', '0', 'measured'],
      ['1070', '2026-03-01T01:00:00Z', '315', '75', '0', '0', 'missing'],
    ]);
    for (const secret of ['Maier', 'Huber', 'Hauptstraße', 'Lindengasse', 'AT00100']) expect(text).not.toContain(secret);
    expect(new Set(lines.map((l) => l.split(',')[0])).size).toBe(2);
  });

  it.each([
    ['a rules file that is not JSON', async () => { await writeFile(path('bad-rules.json'), '{"name":'); return options({ rules: path('bad-rules.json') }); }, /is not JSON/],
    ['an unknown rule', async () => { await writeFile(path('bad-rules.json'), JSON.stringify({ ...RULES, fields: { address: 'blur' } })); return options({ rules: path('bad-rules.json') }); }, /unknown rule "blur"/],
    ['a missing salt', () => options({ salt: undefined }), /needs the community's salt/],
    ['a missing input file', () => options({ input: path('nope.csv') }), /does not exist/],
    ['a row of the wrong length', async () => { await writeFile(path('short.csv'), `${HEADER}\nAT1,x,y,2026-03-01T00:00:00Z,1\n`); return options({ input: path('short.csv') }); }, /Invalid Record Length/],
    ['a column the schema does not know', async () => { await writeFile(path('iban.csv'), `${HEADER},iban\n`); return options({ input: path('iban.csv') }); }, /column iban is not in the regulator-intervals export/],
    ['a bad figure deep in the file', async () => { await writeFile(path('nan.csv'), `${CSV}\nAT0010000000000000001000000000012,b,c,2026-03-01T02:00:00Z,NaN,0,0,0,measured\n`); return options({ input: path('nan.csv') }); }, /row 16: consumption_wh "NaN" is not whole Wh/],
    ['an empty file', async () => { await writeFile(path('empty.csv'), ''); return options({ input: path('empty.csv') }); }, /is empty/],
  ])('refuses %s, leaving the previous output alone', async (_what, make, message) => {
    await writeFile(path('kept.csv'), 'previous result\n');
    await expect(runMask({ ...(await make()), out: path('kept.csv') })).rejects.toThrow(message);
    expect(await readFile(path('kept.csv'), 'utf8')).toBe('previous result\n');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('refuses a salt file that is short or not hex', async () => {
    await writeFile(path('short.hex'), 'abcdef');
    await expect(readSaltFile(path('short.hex'))).rejects.toThrow(/at least 16 bytes/);
    await writeFile(path('text.hex'), 'correct horse battery staple, correct horse');
    await expect(readSaltFile(path('text.hex'))).rejects.toThrow(/hex/);
  });

  it('runs from the command line, with the rules and schemas in --help', async () => {
    const { stdout } = await run(process.execPath, [script, 'mask', '--rules', path('rules.json'), '--input', path('export.csv'), '--out', path('cli.csv'), '--salt-file', path('salt.hex'), '--country', 'AT', '--json']);
    expect(JSON.parse(stdout)).toMatchObject({ rowsIn: 15, rowsOut: 4 });
    expect(await readFile(path('cli.csv'), 'utf8')).toBe(await readFile(path('masked.csv'), 'utf8'));
    let help = '';
    const program = new Command();
    registerMaskCommand(program);
    program.commands[0]!.configureOutput({ writeOut: (text) => { help += text; } }).outputHelp();
    expect(help).toContain('postcode  keep only the postcode of an address');
    expect(help).toContain('regulator-intervals: metering_point (identifier)');
  }, 60_000);
});
