import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { formatUtcInstant, HOUR_MS } from '../../src/kernel/time.js';
import { formatBacktestSummary, OUTPUT_HEADER, runBacktestCommand } from '../../src/forecast/commands.js';
import { householdLoad, pvProduction, VIENNA, weatherSeries } from './support/synthetic.js';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'gridshare-forecast-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

const from = Date.UTC(2025, 2, 1);
async function seriesCsv(name: string, values: Float64Array, stepMs: number, column = 'load_w'): Promise<string> {
  const lines = [`timestamp_utc,${column}`];
  values.forEach((v, i) => lines.push(`${formatUtcInstant(from + i * stepMs)},${Number.isNaN(v) ? '' : v.toFixed(1)}`));
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

describe('gridshare forecast backtest', () => {
  it('writes issued_at,timestamp_utc,p10_w,p50_w,p90_w for every target after the warm-up and reports accuracy', async () => {
    const step = 30 * 60_000;
    const load = householdLoad(from, step, 45 * 48, 4);
    // Missing values in the input: empty cells.
    load.values.fill(Number.NaN, 40 * 48, 40 * 48 + 10);
    const input = await seriesCsv('load.csv', load.values, step);
    const out = join(dir, 'forecasts.csv');
    const progress: string[] = [];
    const summary = await runBacktestCommand({ input, out, model: 'similar-day', warmUpDays: 7 }, (line) => progress.push(line));
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe(OUTPUT_HEADER.join(','));
    expect(lines).toHaveLength(1 + summary.rows);
    const [issued, target, p10, p50, p90] = lines[1]!.split(',');
    expect(issued).toBe('2025-03-08T11:00:00Z'); // 12:00 Vienna
    expect(target).toBe('2025-03-08T23:00:00Z'); // the first local midnight after start + 7 days
    expect(Number(p10)).toBeLessThanOrEqual(Number(p50));
    expect(Number(p50)).toBeLessThanOrEqual(Number(p90));
    expect(summary.stepMinutes).toBe(30);
    expect(summary.country).toBe('AT');
    expect(summary.accuracy[0]!.horizon).toBe('day-ahead');
    expect(summary.accuracy[0]!.skill).not.toBeNull();
    expect(progress.at(-1)).toMatch(/100% of \d+ issues/);
    expect(formatBacktestSummary(summary)).toMatch(/skill vs persistence/);
  });

  it('PV with location and a weather file (NaN cells included), intraday', async () => {
    const step = 60 * 60_000;
    const pv = pvProduction(from, step, 35 * 24, 9, 4, VIENNA);
    const input = await seriesCsv('pv.csv', pv.values.map((v) => (v === 0 ? Number.NaN : v)), step, 'pv_w'); // nights empty
    const w = weatherSeries(from, 36 * 24, 9);
    const weatherLines = ['timestamp_utc,temperature_c,ghi_w_m2,cloud_cover_pct'];
    for (let h = 0; h < 36 * 24; h++) weatherLines.push(`${formatUtcInstant(from + h * HOUR_MS)},${h % 50 === 0 ? 'NaN' : w.temperatureC[h]!.toFixed(1)},${w.ghiWm2[h]!.toFixed(0)},${w.cloudCoverPct[h]}`);
    const weather = join(dir, 'weather.csv');
    await writeFile(weather, weatherLines.join('\n'));
    const out = join(dir, 'pv-forecasts.csv');
    const summary = await runBacktestCommand({ input, out, kind: 'pv', model: 'pv-physical', horizon: 'intraday', latitude: VIENNA.latitude, longitude: VIENNA.longitude, weather, warmUpDays: 5 });
    expect(summary.accuracy.map((a) => a.horizon)).toContain('intraday 5-6h');
    expect(summary.accuracy[0]!.skill!).toBeGreaterThan(0);
    const rows = (await readFile(out, 'utf8')).trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows.every((r) => r[3] !== '')).toBe(true);
  });

  it('refuses bad input with a clear error and writes nothing', async () => {
    const out = join(dir, 'never.csv');
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'timestamp_utc,load_w\n2025-01-01T00:00:00Z,1\n2025-01-01T00:30:00Z,x\n');
    await expect(runBacktestCommand({ input: bad, out })).rejects.toThrow(/bad\.csv: line 3: load_w "x" is not a number/);
    await writeFile(bad, 'timestamp_utc,a,b\n2025-01-01T00:00:00Z,1,2\n');
    await expect(runBacktestCommand({ input: bad, out })).rejects.toThrow(/expected 1 value column/);
    await expect(runBacktestCommand({ input: join(dir, 'missing.csv'), out })).rejects.toThrow(/no such file/);
    await expect(runBacktestCommand({ input: bad, out, latitude: 48 })).rejects.toThrow(/--latitude and --longitude together/);
    const ok = await seriesCsv('ok.csv', householdLoad(from, HOUR_MS, 5 * 24, 1).values, HOUR_MS);
    await expect(runBacktestCommand({ input: ok, out, model: 'nope' })).rejects.toThrow(/unknown forecast model "nope"/);
    await expect(runBacktestCommand({ input: ok, out, kind: 'load', model: 'pv-physical' })).rejects.toThrow(/does not forecast load/);
    await expect(runBacktestCommand({ input: ok, out, timeZone: 'Nowhere/Land' })).rejects.toThrow(/unknown time zone/);
    await expect(runBacktestCommand({ input: ok, out, weather: bad })).rejects.toThrow(/unknown column "a"/);
    expect(existsSync(out)).toBe(false);
  });

  it('the gridshare command lists its options', async () => {
    const bin = new URL('../../bin/gridshare.js', import.meta.url).pathname;
    const { stdout } = await run(process.execPath, [bin, 'forecast', 'backtest', '--help']);
    for (const option of ['--input', '--kind', '--model', '--horizon', '--time-zone', '--latitude', '--kwp', '--tilt', '--azimuth', '--weather', '--out', '--json']) expect(stdout).toContain(option);
    expect(stdout).toMatch(/auto.*persistence.*similar-day/s);
  });
});
