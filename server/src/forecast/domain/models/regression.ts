import { DAY_MS, HOUR_MS } from '../../../kernel/time.js';
import { fitRidge, predictRidge, type RidgeFit } from '../ridge.js';
import { registerModel } from '../registry.js';
import { knownBefore, valueAt, type KnownHistory } from '../series.js';
import { clearSkyGhi } from '../solar.js';
import { weatherAt, weatherHas, type WeatherQuantity, type WeatherSeries } from '../weather.js';
import type { FitInput, FittedModel, ModelAdapter, ModelInput } from '../model.js';
import type { ForecastTask } from '../tasks.js';
import { intervalKey, sharedMemo } from '../memo.js';
import { CALENDAR_FEATURES, calendarFeatures, lacksHistory, lookback } from './common.js';

/**
 * Ridge regression on features known at issue time:
 * - calendar: day type (working day, Saturday, Sunday/holiday) × 3 harmonics of the local time of day;
 * - lags: the persistence value (same time on the most recent known day), the same time a week
 *   earlier, the mean of the last 24 h, and the last known value fading with the lead time;
 * - PV with a location: clear-sky GHI, alone and times the last day's clear-sky index;
 * - weather when present: temperature, heating and cooling degrees (below 15 °C, above 22 °C), GHI,
 *   cloud cover at the target.
 * It learns from past tasks of the same horizon (the last 56 days) and is refitted weekly. Where a target's weather is
 * missing the model forecasts it with its weather-free twin, fitted on the same rows.
 */
const MIN_DAYS = 14;
const LAMBDA = 1e-3;
const MAX_ROWS = 600;
const WEATHER: readonly WeatherQuantity[] = ['temperatureC', 'ghiWm2', 'cloudCoverPct'];

interface Layout {
  readonly location: boolean;
  readonly weather: readonly WeatherQuantity[];
}

const LAG_FEATURES = 5;

function width(layout: Layout): number {
  return CALENDAR_FEATURES + LAG_FEATURES + (layout.location ? 2 : 0) + layout.weather.reduce((n, q) => n + (q === 'temperatureC' ? 3 : 1), 0);
}

/** Writes the feature row of target t into `out`; false where a weather value it needs is missing. */
function features(out: Float64Array, input: ModelInput, layout: Layout, history: KnownHistory, task: ForecastTask, context: IssueContext, t: number): boolean {
  const { site, calendar, weather, series } = input;
  const stepMs = series.stepMs;
  out.set(calendarFeatures(calendar, t));
  let j = CALENDAR_FEATURES;
  const times = lookback(site.kind, calendar, t).times;
  let persistence = Number.NaN;
  for (let back = 1; back <= 7 && Number.isNaN(persistence); back++) persistence = history.at(times[back - 1]!);
  let week = Number.NaN;
  for (let back = 7; back <= 28 && Number.isNaN(week); back += 7) week = history.at(times[back - 1]!);
  const fade = Math.exp(-(t - task.issuedAtMs) / (2 * HOUR_MS));
  out[j++] = Number.isNaN(persistence) ? context.level : persistence;
  out[j++] = Number.isNaN(week) ? context.level : week;
  out[j++] = context.level;
  out[j++] = context.last * fade;
  out[j++] = fade;
  if (layout.location) {
    const clear = clearSkyGhi(site.location!, t, stepMs);
    out[j++] = clear;
    out[j++] = clear * context.clearIndex;
  }
  if (layout.weather.length > 0) {
    const w = weatherFeatures(weather!, t, stepMs);
    for (const q of layout.weather) {
      const at = WEATHER_COLUMNS[q];
      if (Number.isNaN(w[at]!)) return false;
      out[j++] = w[at]!;
      if (q === 'temperatureC') {
        out[j++] = w[3]!;
        out[j++] = w[4]!;
      }
    }
  }
  return true;
}

/** Temperature, GHI, cloud cover, heating and cooling degrees at t: the same for every series of a community. */
const WEATHER_COLUMNS: Record<WeatherQuantity, number> = { temperatureC: 0, ghiWm2: 1, cloudCoverPct: 2 };
const weatherMemo = sharedMemo<WeatherSeries, Float64Array>(100_000);

function weatherFeatures(weather: WeatherSeries, t: number, stepMs: number): Float64Array {
  return weatherMemo(weather, intervalKey(t, stepMs), () => {
    const temperature = weatherAt(weather, 'temperatureC', t, t + stepMs);
    return Float64Array.of(temperature, weatherAt(weather, 'ghiWm2', t, t + stepMs), weatherAt(weather, 'cloudCoverPct', t, t + stepMs), Math.max(0, 15 - temperature), Math.max(0, temperature - 22));
  });
}

/** What is known at the issue time and shared by all its targets. */
interface IssueContext {
  readonly level: number;
  readonly last: number;
  readonly clearIndex: number;
}

function issueContext(input: ModelInput, history: KnownHistory): IssueContext {
  const { series, site } = input;
  const until = history.knownUntilMs;
  let sum = 0;
  let n = 0;
  let clear = 0;
  let last = Number.NaN;
  for (let t = until - DAY_MS; t < until; t += series.stepMs) {
    const v = history.at(t);
    if (Number.isNaN(v)) continue;
    sum += v;
    n++;
    last = v;
    if (site.kind === 'pv' && site.location) clear += clearSkyGhi(site.location, t, series.stepMs);
  }
  const level = n > 0 ? sum / n : 0;
  return { level, last: Number.isNaN(last) ? level : last, clearIndex: clear > 0 ? sum / clear : 0 };
}

function fit(input: FitInput): FittedModel {
  const { series, site, weather } = input;
  const location = site.kind === 'pv' && site.location !== undefined;
  const withWeather: Layout = { location, weather: WEATHER.filter((q) => weatherHas(weather, q)) };
  const plain: Layout = { location, weather: [] };
  // Beyond MAX_ROWS rows the fit costs more without learning more: every stride-th target of each task.
  const candidates = input.trainingTasks.reduce((n, task) => n + task.steps, 0);
  const stride = Math.max(1, Math.ceil(candidates / MAX_ROWS));
  const rowsFor = (layout: Layout) => {
    const rows: Float64Array[] = [];
    const y: number[] = [];
    for (const task of input.trainingTasks) {
      const history = knownBefore(series, task.issuedAtMs);
      const context = issueContext(input, history);
      for (let k = Math.floor(task.issuedAtMs / series.stepMs) % stride; k < task.steps; k += stride) {
        const t = task.startMs + k * series.stepMs;
        if (t + series.stepMs > input.fitAtMs) break;
        const actual = valueAt(series, t);
        if (Number.isNaN(actual)) continue;
        const row = new Float64Array(width(layout));
        if (!features(row, input, layout, history, task, context, t)) continue;
        rows.push(row);
        y.push(actual);
      }
    }
    return fitRidge(rows, y, LAMBDA);
  };
  const weatherFit = withWeather.weather.length > 0 ? rowsFor(withWeather) : undefined;
  let plainFit: RidgeFit | undefined | null = withWeather.weather.length > 0 ? null : rowsFor(plain);
  const plainModel = () => {
    if (plainFit === null) plainFit = rowsFor(plain);
    return plainFit;
  };
  return {
    model: 'regression',
    parameters: { trainingTasks: input.trainingTasks.length, weather: withWeather.weather.join('+') || 'none', fitted: (weatherFit ?? plainFit) !== undefined },
    predict(task) {
      const history = knownBefore(series, task.issuedAtMs);
      const context = issueContext(input, history);
      const out = new Float64Array(task.steps).fill(Number.NaN);
      const row = new Float64Array(width(withWeather));
      const plainRow = new Float64Array(width(plain));
      for (let k = 0; k < task.steps; k++) {
        const t = task.startMs + k * series.stepMs;
        if (weatherFit && features(row, input, withWeather, history, task, context, t)) {
          out[k] = predictRidge(weatherFit, row);
          continue;
        }
        const fallback = plainModel();
        if (fallback && features(plainRow, input, plain, history, task, context, t)) out[k] = predictRidge(fallback, plainRow);
      }
      for (let k = 0; k < out.length; k++) if (out[k]! < 0) out[k] = 0;
      return out;
    },
  };
}

const regression: ModelAdapter = {
  name: 'regression',
  summary: 'ridge regression on lags, calendar and (when present) weather',
  kinds: ['load', 'pv', 'heat'],
  needs: { minHistoryDays: MIN_DAYS, location: false, weather: 'optional', text: `${MIN_DAYS} days of history; uses weather and (for PV) the location when given` },
  refitEveryMs: 7 * DAY_MS,
  unusable: (input: ModelInput, atMs: number) => lacksHistory(input.series, atMs, MIN_DAYS),
  fit,
};

registerModel(regression);
