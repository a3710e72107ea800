import { Gauge, type Registry } from 'prom-client';
import type { Db } from '../platform/store/db.js';
import type { EventSubscriber } from '../platform/events/index.js';
import type { JobDefinition, JobWaker } from '../platform/jobs/index.js';
import { runInWorker } from '../platform/workers/worker-thread.js';
import { communitiesWithMeteringPoints } from '../registry/index.js';
import { DAY_MS, MINUTE_MS } from '../kernel/time.js';
import { accuracyFromSums, type Accuracy } from './domain/metrics.js';
import { ACCURACY_DAYS, issueDueForecasts, pruneOld, scoreForecasts, utcDay, WeatherSources, type ForecastSettings } from './service.js';
import { accuracySumsByKind } from './store.js';
import type { CommunityRunInput, CommunityRunOutput } from './community-worker.js';

export const FORECAST_JOB = 'forecast';

const WORKER = new URL('./community-worker.ts', import.meta.url);

/** The pure community forecast in a worker thread, so HTTP, MQTT and ingestion keep being served. */
export const computeInWorker = (input: CommunityRunInput): Promise<CommunityRunOutput> => runInWorker<CommunityRunInput, CommunityRunOutput, never>(WORKER, input);

export interface ForecastJobOptions extends Partial<ForecastSettings> {
  /** How long after a wake-up (new intervals) a pass starts. */
  readonly delayMs?: number;
}

/** What the composition root holds: the job definition and a way to have every community forecast again now. */
export interface ForecastJob {
  readonly definition: JobDefinition;
  /** Forecasts every community again on the next pass, due or not (the demo, once its history is in). */
  refreshAll(): void;
}

/**
 * The forecast job on the platform's runner, each community leased: issues the due intraday
 * (every quarter hour, next 12 h) and day-ahead (daily at the local issue time, next 48 h)
 * forecasts, scores forecasts whose targets have ended against the intervals, and prunes what is
 * older than the retention. Runs every 15 minutes and after new intervals.
 */
export function forecastJob(db: Db, options: ForecastJobOptions = {}): ForecastJob {
  const settings: ForecastSettings = {
    now: options.now ?? Date.now,
    dayAheadLocalTime: options.dayAheadLocalTime ?? '12:00',
    compute: options.compute ?? computeInWorker,
    log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    ...(options.events ? { events: options.events } : {}),
  };
  const weather = new WeatherSources(settings.log);
  const attempted = new Map<string, { intraday?: number; dayAhead?: number }>();
  let refresh = false;
  return {
    refreshAll() {
      refresh = true;
    },
    definition: {
      name: FORECAST_JOB,
      delayMs: options.delayMs ?? 30_000,
      everyMs: 15 * MINUTE_MS,
      async pass({ lease }) {
        const force = refresh;
        refresh = false;
        let done = 0;
        let more = false;
        for (const communityId of await lease(await communitiesWithMeteringPoints(db))) {
          done += await issueDueForecasts(db, settings, weather, communityId, attempted, force);
          const scored = await scoreForecasts(db, settings, communityId);
          done += scored.done;
          more ||= scored.more;
          await pruneOld(db, settings, communityId);
        }
        return { done, more };
      },
    },
  };
}

/** New quarter hours are outcomes to score forecasts against: the job is woken after they are stored. */
export function subscribeForecast(events: EventSubscriber, jobs: JobWaker): void {
  events.afterCommit('intervals.changed', () => jobs.wake(FORECAST_JOB));
}

/**
 * `/metrics`: the rolling 30-day accuracy per series kind, model and horizon, pooled over every
 * series of every community (points and community aggregates, the latter as model
 * `community-sum`), so the label set stays small whatever the number of points.
 */
export function registerForecastMetrics(db: Db, registry: Registry, now: () => number = Date.now): void {
  // One query per scrape, shared by the gauges.
  let rows: ReturnType<typeof accuracySumsByKind> | undefined;
  const read = () => {
    if (!rows) {
      rows = accuracySumsByKind(db, utcDay(now() - ACCURACY_DAYS * DAY_MS));
      setTimeout(() => (rows = undefined), 1_000).unref();
    }
    return rows;
  };
  const gauge = (name: string, help: string, pick: (a: Accuracy) => number | null) => new Gauge({
    name, help, labelNames: ['kind', 'model', 'horizon'], registers: [registry],
    async collect() {
      this.reset();
      for (const row of await read()) {
        const value = pick(accuracyFromSums(row));
        if (value !== null) this.set({ kind: row.kind, model: row.model, horizon: row.horizon }, value);
      }
    },
  });
  gauge('gridshare_forecast_mae_watts', 'Mean absolute error of the P50 forecasts over the last 30 days, W', (a) => a.maeW);
  gauge('gridshare_forecast_rmse_watts', 'Root mean square error of the P50 forecasts over the last 30 days, W', (a) => a.rmseW);
  gauge('gridshare_forecast_nrmse', 'RMSE divided by the mean outcome, last 30 days', (a) => a.nrmse);
  gauge('gridshare_forecast_skill', 'Skill against persistence (1 - RMSE / RMSE of persistence), last 30 days', (a) => a.skill);
  gauge('gridshare_forecast_band_coverage', 'Share of outcomes inside the P10-P90 band, last 30 days', (a) => a.coverage);
}
