import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { registerAllocateCommand, runAllocate, type AllocateOptions } from '../../src/sharing/commands.js';

const run = promisify(execFile);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridshare-allocate-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const HEADER = 'interval_start,member_id,import_wh,export_wh';
const GOOD = [
  HEADER,
  '2025-06-01T10:00:00Z,alice,100,0',
  '2025-06-01T10:00:00Z,bob,200,0',
  '2025-06-01T10:00:00Z,school,0,250',
  '2025-06-01T10:15:00Z,alice,50,0',
  '2025-06-01T10:15:00Z,bob,0,30',
  '2025-06-01T10:15:00Z,school,0,10',
].join('\n');

async function allocate(input: string, extra: Partial<AllocateOptions> = {}) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}.csv`);
  const summary = await runAllocate({ input, rule: 'dynamic', out, ...extra });
  return { summary, out, csv: await readFile(out, 'utf8') };
}

/** Runs with bad input and checks the error, that nothing was written and no temp file is left. */
async function refused(input: string, message: RegExp, extra: Partial<AllocateOptions> = {}) {
  const out = join(dir, 'refused.csv');
  await writeFile(out, 'previous result\n');
  await expect(runAllocate({ input, rule: 'dynamic', out, ...extra })).rejects.toThrow(message);
  expect(await readFile(out, 'utf8')).toBe('previous result\n');
  expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
}

describe('gridshare allocate', () => {
  it('writes the allocation and a summary', async () => {
    const { summary, csv } = await allocate(await file('good.csv', GOOD));
    // 10:00: 250 Wh over imports 100 + 200 → 83.3 / 166.7 → 83 / 167 (largest remainder).
    // 10:15: 40 Wh (bob 30 + school 10) to alice's 50.
    expect(csv).toBe([
      'interval_start,member_id,from_community_wh,to_community_wh,from_grid_wh,to_grid_wh',
      '2025-06-01T10:00:00Z,alice,83,0,17,0',
      '2025-06-01T10:00:00Z,bob,167,0,33,0',
      '2025-06-01T10:00:00Z,school,0,250,0,0',
      '2025-06-01T10:15:00Z,alice,40,0,10,0',
      '2025-06-01T10:15:00Z,bob,0,30,0,0',
      '2025-06-01T10:15:00Z,school,0,10,0,0',
      '',
    ].join('\n'));
    expect(summary).toMatchObject({
      rule: 'dynamic', rows: 6, members: 3, intervals: 2,
      firstInterval: '2025-06-01T10:00:00Z', lastInterval: '2025-06-01T10:15:00Z',
      totals: { importWh: 350, exportWh: 290, sharedWh: 290, fromGridWh: 60, toGridWh: 0, selfConsumedWh: null },
    });
  });

  it('accepts rows in any order, gaps, CRLF, a BOM and quoted ids; writes rows by interval then member', async () => {
    const input = await file('messy.csv', `\uFEFF${HEADER}\r\n2025-06-01T11:00:00.000+00:00,"Müller, Anna",10,0\r\n\r\n2025-06-01T10:00:00Z,school,0,5\r\n2025-06-01T10:00:00Z,"Müller, Anna",10,0\r\n`);
    const { csv, summary } = await allocate(input);
    expect(csv.split('\n').slice(1)).toEqual([
      '2025-06-01T10:00:00Z,"Müller, Anna",5,0,5,0',
      '2025-06-01T10:00:00Z,school,0,5,0,0',
      '2025-06-01T11:00:00Z,"Müller, Anna",0,0,10,0',
      '',
    ]);
    expect(summary.intervals).toBe(2);
  });

  it('splits own PV use when pv_wh is given (empty = no PV meter)', async () => {
    const input = await file('pv.csv', `${HEADER},pv_wh\n2025-06-01T10:00:00Z,alice,0,300,1000\n2025-06-01T10:00:00Z,bob,400,0,\n`);
    const { csv, summary } = await allocate(input);
    expect(csv.split('\n')).toEqual([
      'interval_start,member_id,from_community_wh,to_community_wh,from_grid_wh,to_grid_wh,self_consumed_wh',
      '2025-06-01T10:00:00Z,alice,0,300,0,0,700',
      '2025-06-01T10:00:00Z,bob,300,0,100,0,',
      '',
    ]);
    expect(summary.totals.selfConsumedWh).toBe(700);
  });

  it('runs static rules with a shares file and Spanish coefficients', async () => {
    const shares = await file('shares.csv', 'member_id,share\nalice,0.25\nbob,0.75\n');
    const { csv } = await allocate(await file('good2.csv', GOOD), { rule: 'static', shares });
    // 250 × 0.25 = 62.5 → 63 (tie, lower index), 250 × 0.75 = 187.5 → 187.
    expect(csv.split('\n')[1]).toBe('2025-06-01T10:00:00Z,alice,63,0,37,0');
    expect(csv.split('\n')[2]).toBe('2025-06-01T10:00:00Z,bob,187,0,13,0');
    // Hybrid: alice is entitled to 0.9 × 250 = 225 but imports 100; the leftover goes to bob,
    // the only one still importing (by shares or by consumption alike): 25 + 125 = 150.
    const hybridShares = await file('shares-h.csv', 'member_id,share\nalice,0.9\nbob,0.1\n');
    for (const redistribute of ['shares', 'consumption'] as const) {
      const h = await allocate(await file(`good-h-${redistribute}.csv`, GOOD), { rule: 'static-redistributed', shares: hybridShares, redistribute });
      expect(h.csv.split('\n').slice(1, 3)).toEqual(['2025-06-01T10:00:00Z,alice,100,0,0,0', '2025-06-01T10:00:00Z,bob,150,0,50,0']);
    }
    // 1 June 2025 10:00 UTC is hour 3636 of 2025 in Spanish local time.
    const coefficients = await file('ES0031300000000001AB0FA000_2025.txt', 'alice;3636;0,500000\nbob;3636;0,500000\n');
    const es = await allocate(await file('good3.csv', GOOD), { rule: 'es-coefficients', coefficients });
    expect(es.summary.totals.sharedWh).toBeGreaterThan(0);
    expect(es.summary.membersWithoutData).toEqual([]);
  });

  it('reports progress when asked', async () => {
    const lines: string[] = [];
    await runAllocate({ input: await file('p.csv', GOOD), rule: 'dynamic', out: join(dir, 'p-out.csv'), progress: true }, { progress: (line) => lines.push(line) });
    expect(lines.at(-1)).toMatch(/^done: 6 rows, 3 members, 2 intervals/);
  });

  it('refuses bad rows with the line number and writes nothing', async () => {
    const bad = async (row: string, message: RegExp) => refused(await file('bad.csv', `${HEADER}\n2025-06-01T10:00:00Z,alice,1,0\n${row}\n`), message);
    await bad('2025-06-01T10:00:00Z,bob,1.5,0', /line 3: import_wh "1.5" is not a whole number of Wh/);
    await bad('2025-06-01T10:00:00Z,bob,-3,0', /line 3: import_wh "-3" is negative/);
    await bad('2025-06-01T10:00:00Z,bob,1,NaN', /line 3: export_wh "NaN" is not a number/);
    await bad('2025-06-01T10:00:00Z,bob,,0', /line 3: import_wh "" is empty/);
    await bad('2025-06-01T10:00:00Z,bob,1e3,0', /line 3: import_wh "1e3" is not a number/);
    await bad('2025-06-01T10:00:00Z,bob,99999999999,0', /line 3: import_wh 99999999999 is larger than 2147483647 Wh/);
    await bad('2025-06-01T10:07:00Z,bob,1,0', /line 3: interval_start 2025-06-01T10:07:00Z is not on a 15-minute UTC boundary/);
    await bad('2025-06-01T10:00:30Z,bob,1,0', /line 3: .* not on a 15-minute UTC boundary/);
    await bad('2025-06-01 10:00,bob,1,0', /line 3: interval_start "2025-06-01 10:00" is not a UTC ISO timestamp/);
    await bad('2025-06-01T12:00:00+02:00,bob,1,0', /line 3: .* is not a UTC ISO timestamp/);
    await bad('2025-02-30T10:00:00Z,bob,1,0', /line 3: .* is not a UTC ISO timestamp/);
    await bad('2025-06-01T10:00:00Z,,1,0', /line 3: member_id is empty/);
    await bad('2025-06-01T10:00:00Z,bob,1', /line 3: expected 4 fields, found 3/);
    await bad('2025-06-01T10:00:00Z,"bob,1,0', /line 3: unterminated quoted field/);
    await bad('2025-06-01T10:00:00Z,alice,2,0', /line 3: duplicate row for member alice at 2025-06-01T10:00:00Z \(first on line 2\)/);    // Line numbers count blank lines too.
    await refused(await file('blank.csv', `${HEADER}\n\n2025-06-01T10:00:00Z,alice,1,0\n\n\n2025-06-01T10:00:00Z,bob,1,0\n2025-06-01T10:00:00Z,alice,1,0\n`),
      /line 7: duplicate row for member alice at 2025-06-01T10:00:00Z \(first on line 3\)/);
  });

  it('refuses bad files, rules and options', async () => {
    await refused(await file('hdr.csv', 'time,member,import,export\n'), /line 1: header must be "interval_start,member_id,import_wh,export_wh"/);
    await refused(await file('empty.csv', ''), /input file is empty/);
    await refused(await file('only-header.csv', `${HEADER}\n`), /header but no rows/);
    await refused(join(dir, 'missing.csv'), /input file .*missing.csv does not exist/);
    await refused(await file('pvbad.csv', `${HEADER},pv_wh\n2025-06-01T10:00:00Z,a,0,10,5\n`), /line 2: pv_wh 5 is smaller than export_wh 10/);
    const good = await file('ok.csv', GOOD);
    await refused(good, /unknown rule "fair"; choose one of: static, dynamic/, { rule: 'fair' });
    await refused(good, /rule static needs --shares or --coefficients/, { rule: 'static' });
    await refused(good, /rule fr-acc-dynamic-simple needs --coefficients/, { rule: 'fr-acc-dynamic-simple', shares: await file('s.csv', 'member_id,share\nalice,1\n') });
    await refused(good, /rule dynamic takes no shares or coefficients/, { shares: await file('s2.csv', 'member_id,share\nalice,1\n') });
    await refused(good, /s3.csv: line 3: share "lots" is not a decimal/, { rule: 'static', shares: await file('s3.csv', 'member_id,share\nalice,0.5\nbob,lots\n') });
    await refused(good, /give either --shares or --coefficients/, { rule: 'static', shares: 'a', coefficients: 'b' });
    await refused(good, /--redistribute applies to static-redistributed only/, { rule: 'static', shares: await file('s4.csv', 'member_id,share\nalice,1\n'), redistribute: 'consumption' });
    // Coefficients that miss an interval of the input: the run fails and writes nothing.
    const partial = await file('c.csv', 'member_id,timestamp,coefficient\nalice,2025-06-01T10:00:00Z,1\n');
    await refused(good, /no shares for the interval starting 2025-06-01T10:15:00Z/, { rule: 'fr-acc-dynamic-simple', coefficients: partial, coefficientsResolution: 15 });
  });

  it('works as a commander command, with --json and clear errors (separate process)', async () => {
    const script = join(import.meta.dirname, 'support', 'gridshare-allocate.ts');
    const input = await file('proc.csv', GOOD);
    const out = join(dir, 'proc-out.csv');
    const ok = await run(process.execPath, ['--import', 'tsx', script, 'allocate', '--input', input, '--rule', 'fr-acc-default', '--out', out, '--json']);
    expect(JSON.parse(ok.stdout)).toMatchObject({ rule: 'fr-acc-default', rows: 6, totals: { sharedWh: 290 } });
    expect(existsSync(out)).toBe(true);
    const bad = await file('proc-bad.csv', `${HEADER}\n2025-06-01T10:00:00Z,alice,x,0\n`);
    const failed = await run(process.execPath, ['--import', 'tsx', script, 'allocate', '--input', bad, '--rule', 'dynamic', '--out', join(dir, 'never.csv')]).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain('gridshare: line 2: import_wh "x" is not a number');
    expect(existsSync(join(dir, 'never.csv'))).toBe(false);
  });

  it('registers on any commander program with help', () => {
    const program = new Command('gridshare').exitOverride();
    registerAllocateCommand(program);
    const allocateCommand = program.commands.find((c) => c.name() === 'allocate')!;
    const help = allocateCommand.helpInformation();
    for (const option of ['--input', '--rule', '--shares', '--coefficients', '--out', '--json']) expect(help).toContain(option);
    expect(help).toContain('es-coefficients');
  });
});
