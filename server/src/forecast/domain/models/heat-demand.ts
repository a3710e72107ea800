import { DAY_MS } from '../../../kernel/time.js';
import { electricFromHeatW, heatFromElectricW } from '../heat-pump.js';
import { fitRidge, predictRidge } from '../ridge.js';
import { registerModel } from '../registry.js';
import { knownBefore, knownDays } from '../series.js';
import { weatherAt, weatherHas, weatherMean, type WeatherSeries } from '../weather.js';
import type { FitInput, FittedModel, ModelAdapter, ModelInput } from '../model.js';
import { intervalKey, sharedMemo } from '../memo.js';
import { calendarFeatures } from './common.js';

/**
 * Heat demand of a heat-pump site. The series is the heat pump's electric power; with the outdoor
 * temperature each past interval becomes heat delivered (COP × electric, see heat-pump.ts). A
 * ridge regression explains heat by heating degrees (below 15 °C) now and of the mean over the past 24 h (the
 * building's inertia), the temperature, and day type × time of day; the forecast heat is turned
 * back into electric power with the COP at the forecast temperature. Needs temperatures for the
 * history and the targets; an interval without one is not forecast (the driver falls back).
 */
/** Days of the heat pump's known power the model needs. */
export const HEAT_DEMAND_MIN_DAYS = 7;
const TRAINING_DAYS = 56;
const LAMBDA = 1e-3;
const MAX_ROWS = 800;
const BASE_C = 15;

/** Temperature over the interval and its mean over the 24 h before, shared by every heat pump of a community. */
const temperatureMemo = sharedMemo<WeatherSeries, readonly [number, number]>(100_000);

function temperatureRow(weather: WeatherSeries, t: number, stepMs: number): readonly [number, number] | undefined {
  const entry = temperatureMemo(weather, intervalKey(t, stepMs), () => {
    const now = weatherAt(weather, 'temperatureC', t, t + stepMs);
    const day = weatherMean(weather, 'temperatureC', t - DAY_MS, t);
    return [now, Number.isNaN(day) ? now : day] as const;
  });
  return Number.isNaN(entry[0]) ? undefined : entry;
}

function row(input: ModelInput, t: number): { features: Float64Array; ambientC: number } | undefined {
  const temperatures = temperatureRow(input.weather!, t, input.series.stepMs);
  if (!temperatures) return undefined;
  const [now, day] = temperatures;
  const calendar = calendarFeatures(input.calendar, t);
  const features = new Float64Array(calendar.length + 3);
  features.set(calendar);
  features[calendar.length] = Math.max(0, BASE_C - now);
  features[calendar.length + 1] = Math.max(0, BASE_C - day);
  features[calendar.length + 2] = now;
  return { features, ambientC: now };
}

function fit(input: FitInput): FittedModel {
  const { series, site, fitAtMs } = input;
  const history = knownBefore(series, fitAtMs);
  const rows: Float64Array[] = [];
  const y: number[] = [];
  const from = Math.max(series.startMs, history.knownUntilMs - TRAINING_DAYS * DAY_MS);
  // Beyond MAX_ROWS rows the fit costs more without learning more: every stride-th interval.
  const stride = Math.max(1, Math.ceil((history.knownUntilMs - from) / series.stepMs / MAX_ROWS));
  for (let t = from; t < history.knownUntilMs; t += stride * series.stepMs) {
    const electric = history.at(t);
    if (Number.isNaN(electric)) continue;
    const r = row(input, t);
    if (!r) continue;
    rows.push(r.features);
    y.push(heatFromElectricW(electric, r.ambientC, site.heatPump));
  }
  const ridge = fitRidge(rows, y, LAMBDA);
  const thermal = (task: { startMs: number; steps: number }) => {
    const out = new Float64Array(task.steps).fill(Number.NaN);
    if (!ridge) return out;
    for (let k = 0; k < task.steps; k++) {
      const r = row(input, task.startMs + k * series.stepMs);
      if (r) out[k] = Math.max(0, predictRidge(ridge, r.features));
    }
    return out;
  };
  return {
    model: 'heat-demand',
    parameters: { trainingRows: rows.length, wattsPerKelvin: ridge ? Math.round(ridge.slopes[ridge.slopes.length - 3]!) : null },
    predictThermal: thermal,
    predict(task) {
      const heat = thermal(task);
      const out = new Float64Array(task.steps).fill(Number.NaN);
      for (let k = 0; k < task.steps; k++) {
        const t = task.startMs + k * series.stepMs;
        const ambient = weatherAt(input.weather!, 'temperatureC', t, t + series.stepMs);
        if (!Number.isNaN(heat[k]!) && !Number.isNaN(ambient)) out[k] = electricFromHeatW(heat[k]!, ambient, site.heatPump);
      }
      return out;
    },
  };
}

const heatDemand: ModelAdapter = {
  name: 'heat-demand',
  summary: 'heat demand from temperature and calendar (COP × electric), turned back into electric power',
  kinds: ['heat'],
  needs: { minHistoryDays: HEAT_DEMAND_MIN_DAYS, location: false, weather: 'required', text: `outdoor temperature (history and forecast) and ${HEAT_DEMAND_MIN_DAYS} days of the heat pump's electric power` },
  refitEveryMs: 7 * DAY_MS,
  unusable(input: ModelInput, atMs: number) {
    if (!weatherHas(input.weather, 'temperatureC')) return 'needs outdoor temperatures (a weather source)';
    const days = knownDays(input.series, atMs);
    return days < HEAT_DEMAND_MIN_DAYS ? `needs ${HEAT_DEMAND_MIN_DAYS} days of history, has ${days.toFixed(1)}` : undefined;
  },
  fit,
};

registerModel(heatDemand);
