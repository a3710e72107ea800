import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatUtcInstant, MINUTE_MS } from '../kernel/time.js';
import { BadRequestError } from '../kernel/errors.js';
import './domain/models/index.js';
import { AUTO, modelNames } from './domain/registry.js';
import { HORIZONS, type HorizonName } from './domain/tasks.js';
import { MAX_WARM_UP_DAYS, runBacktest, type BacktestResult } from './domain/backtest.js';
import { SERIES_KINDS, type SeriesKind } from './domain/model.js';
import { createForecastCalendar } from './domain/calendar.js';
import { createSeries } from './domain/series.js';
import { parseTimeColumns } from './domain/time-csv.js';
import { parseWeatherCsv, type WeatherSeries } from './domain/weather.js';
import type { Accuracy } from './domain/metrics.js';

/**
 * `gridshare forecast backtest`: scores Gridshare's forecasts on anyone's own data, offline.
 *
 *   input   timestamp_utc,<name>   (UTC ISO interval starts, mean W, 15–60 minutes, empty = missing)
 *   output  issued_at,timestamp_utc,p10_w,p50_w,p90_w   (input resolution, after the warm-up)
 */
export const OUTPUT_HEADER = ['issued_at', 'timestamp_utc', 'p10_w', 'p50_w', 'p90_w'] as const;
const MAX_INPUT_BYTES = 256 * 1024 * 1024;

export interface BacktestCommandOptions {
  readonly input: string;
  readonly out: string;
  readonly kind?: SeriesKind | undefined;
  readonly model?: string | undefined;
  readonly horizon?: HorizonName | undefined;
  readonly timeZone?: string | undefined;
  readonly country?: string | undefined;
  readonly latitude?: number | undefined;
  readonly longitude?: number | undefined;
  readonly kwp?: number | undefined;
  readonly tilt?: number | undefined;
  readonly azimuth?: number | undefined;
  readonly annualKwh?: number | undefined;
  readonly weather?: string | undefined;
  readonly warmUpDays?: number | undefined;
}

export interface BacktestSummary {
  readonly input: string;
  readonly out: string;
  readonly kind: SeriesKind;
  readonly model: string;
  readonly horizon: HorizonName;
  readonly timeZone: string;
  readonly country: string | null;
  readonly stepMinutes: number;
  readonly issues: number;
  readonly rows: number;
  readonly firstIssue: string | null;
  readonly lastIssue: string | null;
  readonly accuracy: BacktestResult['accuracy'];
  readonly models: BacktestResult['models'];
  readonly chosen: BacktestResult['chosen'];
  readonly durationMs: number;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    const info = await stat(path);
    if (info.size > MAX_INPUT_BYTES) throw new BadRequestError(`${what} ${path} is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MB`);
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof BadRequestError) throw error;
    throw new BadRequestError(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

const cell = (v: number) => (Number.isNaN(v) ? '' : v.toFixed(1));

export async function runBacktestCommand(options: BacktestCommandOptions, progress?: (line: string, final: boolean) => void): Promise<BacktestSummary> {
  const started = performance.now();
  const kind = options.kind ?? 'load';
  const model = options.model ?? AUTO;
  const horizon = options.horizon ?? 'day-ahead';
  const timeZone = options.timeZone ?? 'Europe/Vienna';
  if ((options.latitude === undefined) !== (options.longitude === undefined)) throw new BadRequestError('give --latitude and --longitude together');
  const inputText = await readText(options.input, 'input file');
  let columns;
  try {
    columns = parseTimeColumns(inputText, { max: 1 });
  } catch (error) {
    throw new BadRequestError(`${options.input}: ${(error as Error).message}`);
  }
  const series = createSeries(columns.startMs, columns.stepMs, [...columns.columns.values()][0]!);
  let weather: WeatherSeries | undefined;
  if (options.weather) {
    const text = await readText(options.weather, 'weather file');
    try {
      weather = parseWeatherCsv(text);
    } catch (error) {
      throw new BadRequestError(`${options.weather}: ${(error as Error).message}`);
    }
  }
  const calendar = createForecastCalendar(timeZone, options.country);
  const site = {
    kind,
    location: options.latitude !== undefined && options.longitude !== undefined ? { latitude: options.latitude, longitude: options.longitude } : undefined,
    pv: { kwp: options.kwp, tiltDeg: options.tilt, azimuthDeg: options.azimuth },
    annualConsumptionKwh: options.annualKwh,
  };
  let last = 0;
  const result = runBacktest({
    series, site, calendar, weather, model, horizon, warmUpDays: options.warmUpDays,
    onProgress: progress && ((done, total) => {
      const now = performance.now();
      if (done < total && now - last < 500) return;
      last = now;
      progress(`backtest (${model}, ${horizon}): ${Math.floor((100 * done) / total)}% of ${total.toLocaleString('en')} issues`, done === total);
    }),
  });

  const { rows } = result;
  const lines: string[] = [OUTPUT_HEADER.join(',')];
  for (let i = 0; i < rows.targetMs.length; i++) {
    lines.push(`${formatUtcInstant(rows.issuedAtMs[i]!)},${formatUtcInstant(rows.targetMs[i]!)},${cell(rows.p10[i]!)},${cell(rows.p50[i]!)},${cell(rows.p90[i]!)}`);
  }
  // Written whole to a temporary file and renamed, so a failed run leaves no partial output.
  const tmp = `${options.out}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, `${lines.join('\n')}\n`);
    await rename(tmp, options.out);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new BadRequestError(`cannot write ${options.out}: ${(error as Error).message}`);
  }
  const issued = rows.issuedAtMs;
  return {
    input: options.input,
    out: options.out,
    kind,
    model,
    horizon,
    timeZone,
    country: calendar.country ?? null,
    stepMinutes: series.stepMs / MINUTE_MS,
    issues: result.issues,
    rows: rows.targetMs.length,
    firstIssue: issued.length > 0 ? formatUtcInstant(issued[0]!) : null,
    lastIssue: issued.length > 0 ? formatUtcInstant(issued[issued.length - 1]!) : null,
    accuracy: result.accuracy,
    models: result.models,
    chosen: result.chosen,
    durationMs: Math.round(performance.now() - started),
  };
}

function formatAccuracy(label: string, a: Accuracy): string {
  const w = (v: number | null) => (v === null ? 'n/a' : `${Math.round(v).toLocaleString('en')} W`);
  const f = (v: number | null, digits = 3) => (v === null ? 'n/a' : v.toFixed(digits));
  const coverage = a.coverage === null ? '' : `  P10–P90 coverage ${(100 * a.coverage).toFixed(1)}%`;
  return `  ${label.padEnd(18)} MAE ${w(a.maeW).padStart(8)}  RMSE ${w(a.rmseW).padStart(8)}  nRMSE ${f(a.nrmse)}  skill vs persistence ${f(a.skill)}${coverage}  (${a.count.toLocaleString('en')} intervals)`;
}

export function formatBacktestSummary(s: BacktestSummary): string {
  const lines = [
    `Backtest of ${s.model} (${s.kind}, ${s.horizon}) on ${s.input}: ${s.issues.toLocaleString('en')} issues, ${s.rows.toLocaleString('en')} forecast intervals at ${s.stepMinutes} min, ${s.timeZone}${s.country ? ` (${s.country} holidays)` : ''}, in ${(s.durationMs / 1000).toFixed(1)} s`,
    ...s.accuracy.map((a) => formatAccuracy(a.horizon, a)),
  ];
  if (s.models.length > 1) {
    lines.push('  each model on the same intervals:');
    for (const m of s.models) lines.push(formatAccuracy(`  ${m.model}`, m.accuracy));
  }
  const chosen = Object.entries(s.chosen);
  if (chosen.length > 0) lines.push(`  auto chose: ${chosen.sort((a, b) => b[1] - a[1]).map(([m, n]) => `${m} ${n}×`).join(', ')}`);
  lines.push(`  written to ${s.out}`);
  return lines.join('\n');
}

const number = (what: string, lo: number, hi: number) => (value: string): number => {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < lo || v > hi) throw new InvalidArgumentError(`${what} between ${lo} and ${hi}`);
  return v;
};

export function registerForecastCommand(program: Command): void {
  const forecast = program.command('forecast').description('Forecasting: score Gridshare\'s forecasts on your own data');
  forecast
    .command('backtest')
    .description('Walk-forward backtest of a forecast model on a CSV series: forecasts CSV out, MAE/RMSE/skill printed')
    .requiredOption('--input <file>', 'series CSV: timestamp_utc,<name> (UTC ISO interval starts, mean W, 15–60 min, empty = missing)')
    .requiredOption('--out <file>', `forecasts CSV to write: ${OUTPUT_HEADER.join(',')}`)
    .addOption(new Option('--kind <kind>', 'what the series measures (heat: a heat pump\'s electric power)').choices([...SERIES_KINDS]).default('load'))
    .addOption(new Option('--model <model>', 'forecast model').choices([AUTO, ...modelNames()]).default(AUTO))
    .addOption(new Option('--horizon <horizon>', 'day-ahead: issued 12:00 local for the next local day; intraday: hourly for the next 6 h').choices([...HORIZONS]).default('day-ahead'))
    .option('--time-zone <zone>', 'IANA time zone of the site (days, holidays, issue times)', 'Europe/Vienna')
    .option('--country <code>', 'ISO country code for public holidays (default: the time zone\'s country)')
    .option('--latitude <deg>', 'site latitude (PV physics)', number('a latitude', -90, 90))
    .option('--longitude <deg>', 'site longitude (PV physics)', number('a longitude', -180, 180))
    .option('--kwp <kWp>', 'PV peak power (calibrated from the series when absent)', number('a kWp', 0.01, 1_000_000))
    .option('--tilt <deg>', 'PV tilt, 0 = flat (calibrated when absent)', number('a tilt', 0, 90))
    .option('--azimuth <deg>', 'PV azimuth, 180 = south (calibrated when absent)', number('an azimuth', 0, 360))
    .option('--annual-kwh <kWh>', 'annual consumption for the standard profile before history exists', number('an annual consumption', 1, 1e9))
    .option('--weather <file>', 'weather CSV: timestamp_utc and any of temperature_c, ghi_w_m2, cloud_cover_pct')
    .option('--warm-up-days <days>', `days before the first reported target (0–${MAX_WARM_UP_DAYS})`, number('a number of days', 0, MAX_WARM_UP_DAYS), MAX_WARM_UP_DAYS)
    .option('--json', 'print the summary as JSON', false)
    .option('--quiet', 'no progress on stderr', false)
    .action(async (opts: {
      input: string; out: string; kind: SeriesKind; model: string; horizon: HorizonName; timeZone: string; country?: string;
      latitude?: number; longitude?: number; kwp?: number; tilt?: number; azimuth?: number; annualKwh?: number; weather?: string;
      warmUpDays: number; json: boolean; quiet: boolean;
    }) => {
      const tty = process.stderr.isTTY === true;
      const summary = await runBacktestCommand({ ...opts, country: opts.country?.toUpperCase() }, opts.quiet ? undefined : (line, final) => {
        process.stderr.write(tty ? `\r\x1b[2K${line}${final ? '\n' : ''}` : `${line}\n`);
      });
      process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatBacktestSummary(summary)}\n`);
    });
}
