import { DAY_MS, HOUR_MS } from '../../kernel/time.js';
import { BadRequestError } from '../../kernel/errors.js';
import { autoCandidates, chooseBySkill, fallbackModel } from './auto.js';
import { bandFromErrors } from './conformal.js';
import { AccuracyAccumulator, type Accuracy } from './metrics.js';
import { AUTO, REFERENCE_MODEL, requireModel } from './registry.js';
import { endOf, valueAt, type Series } from './series.js';
import { fillNightGaps } from './solar.js';
import { issueSlot, tasksBetween, type ForecastTask, type HorizonName } from './tasks.js';
import { TrackRecord } from './track-record.js';
import type { ForecastCalendar } from './calendar.js';
import type { FittedModel, ModelAdapter, ModelInput, SiteContext } from './model.js';
import type { WeatherSeries } from './weather.js';

/**
 * Walk-forward backtest of one series: forecasts are issued on the horizon's schedule (day-ahead
 * at 12:00 local for the next local day; intraday every hour for the next 6 h), each from data of
 * intervals that ended before its issue time only; models are refitted as they would be in
 * operation; bands come from each model's own earlier errors. A pure function of plain data, so
 * it can run in a worker thread.
 */
export interface BacktestInput {
  readonly series: Series;
  readonly site: SiteContext;
  readonly calendar: ForecastCalendar;
  readonly weather?: WeatherSeries | undefined;
  /** A model name or `auto`. */
  readonly model: string;
  readonly horizon: HorizonName;
  /** Targets before series start + warm-up are not reported (at most 28 days). */
  readonly warmUpDays?: number | undefined;
  /** `auto`'s candidates (default: every model for the kind). */
  readonly candidates?: readonly string[] | undefined;
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface BacktestRows {
  readonly issuedAtMs: Float64Array;
  readonly targetMs: Float64Array;
  readonly p10: Float64Array;
  readonly p50: Float64Array;
  readonly p90: Float64Array;
  readonly actual: Float64Array;
  /** Persistence's forecast of the same target (NaN where it had none). */
  readonly persistence: Float64Array;
}

export interface HorizonAccuracy extends Accuracy {
  /** `day-ahead`, `intraday`, or a lead band like `intraday 0-1h`. */
  readonly horizon: string;
}

export interface BacktestResult {
  readonly model: string;
  readonly horizon: HorizonName;
  readonly stepMs: number;
  readonly issues: number;
  readonly rows: BacktestRows;
  readonly accuracy: readonly HorizonAccuracy[];
  /** Every model run (auto's candidates and persistence), scored on the reported period without bands. */
  readonly models: readonly { readonly model: string; readonly accuracy: Accuracy }[];
  /** auto: how many issues each model was chosen for. */
  readonly chosen: Readonly<Record<string, number>>;
}

export const MAX_WARM_UP_DAYS = 28;
/** Errors this far back shape the bands and auto's choice. */
export const TRACK_DAYS = 28;
/** Training window handed to models that learn from past tasks (regression, heat). */
export const TRAINING_DAYS = 56;

interface ModelState {
  readonly adapter: ModelAdapter;
  fitted: FittedModel | undefined;
  fittedAtMs: number;
  readonly record: TrackRecord;
}

/** The tasks of `all` (sorted by issue) a model fitted at `atMs` may learn from: the last `days`, targets already past. */
export function trainingTasks(all: readonly ForecastTask[], atMs: number, stepMs: number, days = TRAINING_DAYS, every = 1): ForecastTask[] {
  const picked: ForecastTask[] = [];
  for (const task of all) {
    if (task.issuedAtMs < atMs - days * DAY_MS) continue;
    if (task.startMs + task.steps * stepMs > atMs) break;
    picked.push(task);
  }
  return every > 1 ? picked.filter((_, i) => i % every === 0) : picked;
}

export function runBacktest(input: BacktestInput): BacktestResult {
  const warmUpDays = input.warmUpDays ?? MAX_WARM_UP_DAYS;
  if (!(warmUpDays >= 0 && warmUpDays <= MAX_WARM_UP_DAYS)) throw new BadRequestError(`the warm-up must be 0–${MAX_WARM_UP_DAYS} days`, 'warmUpDays');
  const { site, calendar, weather, horizon } = input;
  const series = site.kind === 'pv' && site.location ? fillNightGaps(input.series, site.location) : input.series;
  const stepMs = series.stepMs;
  const modelInput: ModelInput = { series, site, calendar, weather };
  const isAuto = input.model === AUTO;
  const reference = requireModel(REFERENCE_MODEL, site.kind);
  const adapters = isAuto ? autoCandidates(site.kind, input.candidates) : [requireModel(input.model, site.kind)];
  if (isAuto && adapters.length === 0) throw new BadRequestError(`none of the candidates forecasts ${site.kind}`, 'candidates');
  if (!adapters.includes(reference)) adapters.unshift(reference);
  const keepMs = (TRACK_DAYS + 2) * DAY_MS;
  const states = new Map<string, ModelState>(adapters.map((adapter) => [adapter.name, { adapter, fitted: undefined, fittedAtMs: Number.NEGATIVE_INFINITY, record: new TrackRecord(series, keepMs) }]));
  const outputRecord = new TrackRecord(series, keepMs);

  const tasks = tasksBetween(horizon, calendar, series.startMs + DAY_MS, endOf(series), stepMs)
    .filter((t) => t.startMs + t.steps * stepMs <= endOf(series));
  const reportFrom = series.startMs + warmUpDays * DAY_MS;
  const trainEvery = horizon === 'intraday' ? 3 : 1;

  const rows = { issuedAtMs: [] as number[], targetMs: [] as number[], p10: [] as number[], p50: [] as number[], p90: [] as number[], actual: [] as number[], persistence: [] as number[] };
  const byHorizon = new Map<string, AccuracyAccumulator>();
  const perModel = new Map<string, AccuracyAccumulator>(adapters.map((a) => [a.name, new AccuracyAccumulator()]));
  const chosen: Record<string, number> = {};
  let autoChoice: string | undefined;
  let autoChoiceDay = Number.NaN;

  tasks.forEach((task, index) => {
    const slot = issueSlot(calendar, task.issuedAtMs);
    const predictions = new Map<string, Float64Array>();
    for (const state of states.values()) {
      if (state.adapter.unusable(modelInput, task.issuedAtMs) !== undefined) continue;
      const refitEvery = state.adapter.refitEveryMs;
      if (!state.fitted || refitEvery === undefined || task.issuedAtMs - state.fittedAtMs >= refitEvery) {
        state.fitted = state.adapter.fit({ ...modelInput, fitAtMs: task.issuedAtMs, trainingTasks: trainingTasks(tasks, task.issuedAtMs, stepMs, TRAINING_DAYS, trainEvery) });
        state.fittedAtMs = task.issuedAtMs;
      }
      const values = state.fitted.predict(task);
      predictions.set(state.adapter.name, values);
      state.record.add(slot, { issuedAtMs: task.issuedAtMs, startMs: task.startMs, values });
    }

    // auto re-chooses once a local day, on the errors known by then.
    let name = input.model;
    if (isAuto) {
      const day = calendar.localDay(task.issuedAtMs);
      if (day !== autoChoiceDay || autoChoice === undefined || !predictions.has(autoChoice)) {
        const since = task.issuedAtMs - TRACK_DAYS * DAY_MS;
        autoChoice = chooseBySkill([...states.values()].filter((s) => predictions.has(s.adapter.name)).map((s) => s.record.score(s.adapter.name, since, task.issuedAtMs)))
          ?? fallbackModel(adapters, modelInput, task.issuedAtMs)?.name;
        autoChoiceDay = day;
      }
      name = autoChoice ?? REFERENCE_MODEL;
      chosen[name] = (chosen[name] ?? 0) + 1;
    }
    const persistence = predictions.get(REFERENCE_MODEL) ?? new Float64Array(task.steps).fill(Number.NaN);
    const point = (predictions.get(name) ?? persistence).slice();
    for (let k = 0; k < point.length; k++) if (Number.isNaN(point[k]!)) point[k] = persistence[k]!;
    const band = bandFromErrors(point, outputRecord.errors(slot, task.issuedAtMs - TRACK_DAYS * DAY_MS, task.issuedAtMs), stepMs, true);
    outputRecord.add(slot, { issuedAtMs: task.issuedAtMs, startMs: task.startMs, values: point });

    if (task.startMs >= reportFrom) {
      for (let k = 0; k < task.steps; k++) {
        const t = task.startMs + k * stepMs;
        const actual = valueAt(series, t);
        const p50 = Number.isNaN(point[k]!) ? Number.NaN : band.p50[k]!;
        const p10 = band.calibrated && !Number.isNaN(p50) ? band.p10[k]! : Number.NaN;
        const p90 = band.calibrated && !Number.isNaN(p50) ? band.p90[k]! : Number.NaN;
        rows.issuedAtMs.push(task.issuedAtMs);
        rows.targetMs.push(t);
        rows.p10.push(p10);
        rows.p50.push(p50);
        rows.p90.push(p90);
        rows.actual.push(actual);
        rows.persistence.push(persistence[k]!);
        const lead = t - task.issuedAtMs;
        const labels = horizon === 'day-ahead' ? ['day-ahead'] : ['intraday', `intraday ${Math.floor(lead / HOUR_MS)}-${Math.floor(lead / HOUR_MS) + 1}h`];
        for (const label of labels) {
          let acc = byHorizon.get(label);
          if (!acc) byHorizon.set(label, (acc = new AccuracyAccumulator()));
          acc.add(actual, p50, persistence[k]!, p10, p90);
        }
        for (const [model, values] of predictions) perModel.get(model)!.add(actual, values[k]!, persistence[k]!);
      }
    }
    input.onProgress?.(index + 1, tasks.length);
  });

  const order = (label: string) => (label === 'day-ahead' || label === 'intraday' ? '' : label);
  return {
    model: input.model,
    horizon,
    stepMs,
    issues: tasks.length,
    rows: {
      issuedAtMs: Float64Array.from(rows.issuedAtMs),
      targetMs: Float64Array.from(rows.targetMs),
      p10: Float64Array.from(rows.p10),
      p50: Float64Array.from(rows.p50),
      p90: Float64Array.from(rows.p90),
      actual: Float64Array.from(rows.actual),
      persistence: Float64Array.from(rows.persistence),
    },
    accuracy: [...byHorizon.entries()].sort((a, b) => order(a[0]).localeCompare(order(b[0]))).map(([label, acc]) => ({ horizon: label, ...acc.result() })),
    models: [...perModel.entries()].map(([model, acc]) => ({ model, accuracy: acc.result() })),
    chosen,
  };
}
