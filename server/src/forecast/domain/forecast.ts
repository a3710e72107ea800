import { DAY_MS } from '../../kernel/time.js';
import { autoCandidates, chooseBySkill, fallbackModel } from './auto.js';
import { bandFromErrors, type Band } from './conformal.js';
import { AUTO, REFERENCE_MODEL, requireModel } from './registry.js';
import { valueAt, type Series } from './series.js';
import { fillNightGaps } from './solar.js';
import { shiftTask, type ForecastTask } from './tasks.js';
import type { ForecastCalendar } from './calendar.js';
import type { FittedModel, ModelAdapter, ModelInput, ParameterValue, SiteContext } from './model.js';
import type { WeatherSeries } from './weather.js';

/**
 * One series, one forecast, as operation makes it (no stored past forecasts needed): the model
 * replays the same task on each of the last `calibrationDays` days (same wall-clock issue time,
 * same lead times, only data known then) and the errors of those replays give the band
 * (conformal). For `auto`, every candidate replays the last SELECTION_DAYS days, the one with the
 * lowest RMSE there is chosen and replays the rest. Models that are refitted
 * periodically in operation (regression, heat demand, PV physics) are fitted once, before the
 * replayed days, and that same fit makes the forecast, so the band describes exactly the fit that
 * forecasts; the others are cheap and fitted again on everything known.
 */
export interface SeriesForecastInput {
  readonly series: Series;
  readonly site: SiteContext;
  readonly calendar: ForecastCalendar;
  readonly weather?: WeatherSeries | undefined;
  readonly task: ForecastTask;
  /** A model name or `auto` (default). */
  readonly model?: string | undefined;
  readonly candidates?: readonly string[] | undefined;
  readonly calibrationDays?: number | undefined;
  readonly trainingDays?: number | undefined;
}

export interface SeriesForecast extends Band {
  readonly startMs: number;
  readonly stepMs: number;
  /** The model that made the forecast; undefined when no model could. */
  readonly model: string | undefined;
  readonly parameters: Readonly<Record<string, ParameterValue>>;
  /** Why there is no forecast (all values NaN), when there is none. */
  readonly unavailable?: string | undefined;
  /** Replay errors of that model: `replayErrors[d][lead]`, outcome − forecast, NaN where unknown (d = 0 is yesterday's replay). */
  readonly replayErrors: readonly Float64Array[];
  /** Heat models: the heat output (W thermal) behind the electric P50. */
  readonly thermalW?: Float64Array | undefined;
}

export const CALIBRATION_DAYS = 14;
/** auto compares its candidates on the replays of the last few days (the chosen one then replays the rest). */
export const SELECTION_DAYS = 5;
export const TRAINING_DAYS = 28;

interface Replay {
  readonly adapter: ModelAdapter;
  readonly fitted: FittedModel;
  /** Errors of the replays made so far, yesterday's first. */
  readonly errors: Float64Array[];
  sumSquares: number;
  count: number;
}

function fitAt(adapter: ModelAdapter, input: ModelInput, calendar: ForecastCalendar, task: ForecastTask, atMs: number, trainingDays: number): FittedModel {
  const trainingTasks: ForecastTask[] = [];
  const stepMs = input.series.stepMs;
  for (let d = trainingDays; d >= 1; d--) {
    const shifted = shiftTask(calendar, task, d + Math.ceil((task.issuedAtMs - atMs) / DAY_MS));
    if (shifted.startMs + shifted.steps * stepMs <= atMs && shifted.issuedAtMs >= input.series.startMs) trainingTasks.push(shifted);
  }
  return adapter.fit({ ...input, fitAtMs: atMs, trainingTasks });
}

/** Fits a model before the oldest replayed day (so every replay is out of sample) and replays the last `days` days. */
function startReplay(adapter: ModelAdapter, input: ModelInput, calendar: ForecastCalendar, task: ForecastTask, calibrationDays: number, trainingDays: number, days: number): Replay | undefined {
  const first = shiftTask(calendar, task, calibrationDays);
  if (adapter.unusable(input, first.issuedAtMs) !== undefined) return undefined;
  const replay: Replay = { adapter, fitted: fitAt(adapter, input, calendar, task, first.issuedAtMs, trainingDays), errors: [], sumSquares: 0, count: 0 };
  continueReplay(replay, input, calendar, task, days);
  return replay;
}

/** Replays the task on further past days, until `days` days are replayed. */
function continueReplay(replay: Replay, input: ModelInput, calendar: ForecastCalendar, task: ForecastTask, days: number): void {
  const stepMs = input.series.stepMs;
  for (let d = replay.errors.length + 1; d <= days; d++) {
    const past = shiftTask(calendar, task, d);
    const predicted = replay.fitted.predict(past);
    const e = new Float64Array(task.steps).fill(Number.NaN);
    for (let k = 0; k < task.steps; k++) {
      const t = past.startMs + k * stepMs;
      if (t + stepMs > task.issuedAtMs) break;
      const v = valueAt(input.series, t) - predicted[k]!;
      if (Number.isNaN(v)) continue;
      e[k] = v;
      replay.sumSquares += v * v;
      replay.count++;
    }
    replay.errors.push(e);
  }
}

export function forecastSeries(input: SeriesForecastInput): SeriesForecast {
  const { site, calendar, weather, task } = input;
  const series = site.kind === 'pv' && site.location ? fillNightGaps(input.series, site.location) : input.series;
  const stepMs = series.stepMs;
  const modelInput: ModelInput = { series, site, calendar, weather };
  const days = input.calibrationDays ?? CALIBRATION_DAYS;
  const trainingDays = input.trainingDays ?? TRAINING_DAYS;
  const name = input.model ?? AUTO;
  const candidates = name === AUTO ? autoCandidates(site.kind, input.candidates) : [requireModel(name, site.kind)];
  const usable = candidates.filter((m) => m.unusable(modelInput, task.issuedAtMs) === undefined);

  // Candidates are compared on the most recent days; the chosen one is then replayed on all of them.
  const selectionDays = name === AUTO ? Math.min(days, SELECTION_DAYS) : days;
  const replays = new Map<string, Replay>();
  for (const adapter of usable) {
    const r = startReplay(adapter, modelInput, calendar, task, days, trainingDays, selectionDays);
    if (r) replays.set(adapter.name, r);
  }
  const chosenName = name === AUTO
    ? chooseBySkill([...replays.values()].map((r) => ({ name: r.adapter.name, sumSquares: r.sumSquares, count: r.count }))) ?? fallbackModel(usable, modelInput, task.issuedAtMs)?.name
    : usable[0]?.name;
  const empty = (reason: string): SeriesForecast => {
    const nan = () => new Float64Array(task.steps).fill(Number.NaN);
    return { startMs: task.startMs, stepMs, model: undefined, parameters: {}, unavailable: reason, p10: nan(), p50: nan(), p90: nan(), calibrated: false, replayErrors: [] };
  };
  if (chosenName === undefined) {
    const reasons = candidates.map((m) => `${m.name}: ${m.unusable(modelInput, task.issuedAtMs) ?? 'no result'}`);
    return empty(`no model can forecast this series (${reasons.join('; ')})`);
  }
  const chosen = requireModel(chosenName);
  const replayed = replays.get(chosenName);
  if (replayed) continueReplay(replayed, modelInput, calendar, task, days);
  const fitted = replayed && chosen.refitEveryMs !== undefined ? replayed.fitted : fitAt(chosen, modelInput, calendar, task, task.issuedAtMs, trainingDays);
  const point = fitted.predict(task);
  if (point.some(Number.isNaN)) {
    // Gaps the model cannot fill (e.g. weather missing for some targets) take persistence's value.
    const reference = requireModel(REFERENCE_MODEL);
    if (reference.unusable(modelInput, task.issuedAtMs) === undefined) {
      const fallback = fitAt(reference, modelInput, calendar, task, task.issuedAtMs, 0).predict(task);
      for (let k = 0; k < point.length; k++) if (Number.isNaN(point[k]!)) point[k] = fallback[k]!;
    }
  }
  const errors = replayed?.errors ?? [];
  const byLead: number[][] = Array.from({ length: task.steps }, () => []);
  for (const e of errors) for (let k = 0; k < e.length; k++) if (!Number.isNaN(e[k]!)) byLead[k]!.push(e[k]!);
  const band = bandFromErrors(point, byLead, stepMs, true);
  const nan = point.some(Number.isNaN);
  const thermalW = fitted.predictThermal?.(task);
  return {
    startMs: task.startMs,
    stepMs,
    model: chosenName,
    parameters: fitted.parameters,
    ...(nan ? { unavailable: 'some intervals could not be forecast (no usable history for them)' } : {}),
    p10: band.p10.map((v, k) => (Number.isNaN(point[k]!) ? Number.NaN : v)),
    p50: band.p50.map((v, k) => (Number.isNaN(point[k]!) ? Number.NaN : v)),
    p90: band.p90.map((v, k) => (Number.isNaN(point[k]!) ? Number.NaN : v)),
    calibrated: band.calibrated,
    replayErrors: errors,
    ...(thermalW ? { thermalW } : {}),
  };
}
