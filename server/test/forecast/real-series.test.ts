import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { DAY_MS } from '../../src/kernel/time.js';
import {
  calibratePv, createForecastCalendar, createSeries, fillNightGaps, knownBefore, modelsFor, parseTimeColumns, runBacktest,
  type BacktestResult, type Series, type SiteContext,
} from '../../src/forecast/index.js';

/**
 * The household of ../shared/data/series (EMHASS test data, MIT): a year of load and PV at
 * 30 minutes, somewhere in eastern France (Europe/Paris). Skipped with a message without it.
 */
const folder = new URL('../../../../shared/data/series/', import.meta.url);
const present = existsSync(new URL('emhass_household_load_30min.csv', folder));
if (!present) process.stderr.write('forecast: ../shared/data/series not found: the real-series forecasting tests are skipped\n');

const calendar = createForecastCalendar('Europe/Paris');
const location = { latitude: 48.6, longitude: 7.5 };
const read = (file: string): Series => {
  const table = parseTimeColumns(readFileSync(new URL(file, folder), 'utf8'), { max: 1 });
  return createSeries(table.startMs, table.stepMs, [...table.columns.values()][0]!);
};
const slice = (s: Series, fromDay: number, days: number): Series => {
  const per = DAY_MS / s.stepMs;
  return { ...s, startMs: s.startMs + fromDay * DAY_MS, values: s.values.subarray(fromDay * per, (fromDay + days) * per) };
};
const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));

/** Share of outcomes inside [P10, P90] for targets at or after `fromMs`; PV nights (all zero) left out. */
function coverage(result: BacktestResult, fromMs: number, skipNight: boolean): { share: number; n: number } {
  const { targetMs, p10, p90, actual } = result.rows;
  let inside = 0;
  let n = 0;
  for (let i = 0; i < targetMs.length; i++) {
    if (targetMs[i]! < fromMs || Number.isNaN(actual[i]!) || Number.isNaN(p10[i]!)) continue;
    if (skipNight && p90[i] === 0 && actual[i] === 0) continue;
    n++;
    if (actual[i]! >= p10[i]! && actual[i]! <= p90[i]!) inside++;
  }
  return { share: inside / n, n };
}

describe.skipIf(!present)('forecasting one real household (../shared/data/series)', () => {
  const load = present ? read('emhass_household_load_30min.csv') : undefined!;
  const pv = present ? read('emhass_pv_30min.csv') : undefined!;
  const loadSite: SiteContext = { kind: 'load' };
  const pvSite: SiteContext = { kind: 'pv', location };
  // Held back: the last five months, never used to choose any setting of the models.
  const heldBackFrom = Date.UTC(2024, 8, 28);

  it.each([['load', loadSite], ['pv', pvSite]] as const)('auto beats persistence day-ahead on %s, and its band holds 80 %% ± 5 %% on held-back months', (name, site) => {
    const series = name === 'load' ? load : pv;
    const result = runBacktest({ series, site, calendar, model: 'auto', horizon: 'day-ahead' });
    const dayAhead = result.accuracy.find((a) => a.horizon === 'day-ahead')!;
    const band = coverage(result, heldBackFrom, name === 'pv');
    process.stdout.write(`forecast ${name} day-ahead auto: skill vs persistence ${fmt(dayAhead.skill)}, RMSE ${dayAhead.rmseW!.toFixed(0)} W (persistence ${dayAhead.persistenceRmseW!.toFixed(0)} W), `
      + `P10–P90 coverage ${(100 * band.share).toFixed(1)}% of ${band.n} held-back ${name === 'pv' ? 'daylight ' : ''}intervals; chose ${JSON.stringify(result.chosen)}\n`);
    for (const m of result.models) process.stdout.write(`  ${m.model}: skill ${fmt(m.accuracy.skill)}\n`);
    expect(dayAhead.skill!).toBeGreaterThan(0);
    expect(band.share).toBeGreaterThanOrEqual(0.75);
    expect(band.share).toBeLessThanOrEqual(0.85);
    // DST days: 46 and 50 half hours (92 and 100 quarter hours at 15 minutes), each issued once.
    const rowsOn = (y: number, m: number, d: number) => {
      const day = calendar.localDay(Date.UTC(y, m - 1, d, 12));
      return result.rows.targetMs.filter((t) => calendar.localDay(t) === day).length;
    };
    expect([rowsOn(2024, 3, 31), rowsOn(2024, 10, 27), rowsOn(2024, 6, 12)]).toEqual([46, 50, 48]);
    // Every reported target lies after the warm-up and was issued at 12:00 Paris time the day before.
    expect(result.rows.targetMs[0]!).toBeGreaterThanOrEqual(series.startMs + 28 * DAY_MS);
    expect(calendar.clock.local(result.rows.issuedAtMs[0]!).minute).toBe(12 * 60);
  });

  it('calibrates the unknown PV system from its production (README: ~4.7 kWp, tilt ~30°, azimuth ~205°, an assumption)', () => {
    const at = pv.startMs + 150 * DAY_MS;
    const fit = calibratePv(knownBefore(fillNightGaps(pv, location), at), location, {})!;
    process.stdout.write(`forecast pv calibration in July: ${fit.kwp.toFixed(2)} kWp, tilt ${fit.orientation.tiltDeg}°, azimuth ${fit.orientation.azimuthDeg}° (${fit.clearDays} clear days)\n`);
    expect(fit.kwp).toBeGreaterThan(4);
    expect(fit.kwp).toBeLessThan(5.5);
    expect(fit.orientation.azimuthDeg).toBeGreaterThanOrEqual(180);
    expect(fit.orientation.azimuthDeg).toBeLessThanOrEqual(225);
    expect(fit.orientation.tiltDeg).toBeGreaterThanOrEqual(20);
    expect(fit.orientation.tiltDeg).toBeLessThanOrEqual(50);
  });

  it('every model backtests on its kind (two months, day-ahead) and intraday scores per lead hour', () => {
    const shortLoad = slice(load, 200, 60);
    const shortPv = slice(pv, 100, 60);
    for (const [series, site] of [[shortLoad, loadSite], [shortPv, pvSite]] as const) {
      for (const model of modelsFor(site.kind)) {
        if (model.needs.weather === 'required') continue; // heat-demand: in domain.test.ts with weather
        const result = runBacktest({ series, site, calendar, model: model.name, horizon: 'day-ahead' });
        const a = result.accuracy[0]!;
        expect(a.count, model.name).toBeGreaterThan(30 * 40);
        expect(Number.isFinite(a.rmseW!), model.name).toBe(true);
        process.stdout.write(`  ${site.kind} ${model.name}: skill ${fmt(a.skill)}\n`);
      }
    }
    const intraday = runBacktest({ series: slice(load, 200, 45), site: loadSite, calendar, model: 'similar-day', horizon: 'intraday', warmUpDays: 14 });
    expect(intraday.accuracy.map((a) => a.horizon)).toEqual(['intraday', 'intraday 0-1h', 'intraday 1-2h', 'intraday 2-3h', 'intraday 3-4h', 'intraday 4-5h', 'intraday 5-6h']);
    expect(intraday.rows.targetMs.length).toBeGreaterThan(30 * 24 * 12 - 100);
  });
});
