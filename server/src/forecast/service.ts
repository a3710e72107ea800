import type { Db, Queryable } from '../platform/store/db.js';
import { communityIntervals } from '../intervals/index.js';
import { loadCommunity, meteringPointsOfCommunity, type Community } from '../registry/index.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, QUARTER_HOUR_MS, floorToQuarterHour } from '../kernel/time.js';
import { createForecastCalendar, type ForecastCalendar } from './domain/calendar.js';
import type { CommunityPoint } from './domain/community.js';
import { AccuracyAccumulator, type AccuracySums } from './domain/metrics.js';
import { dueForecasts } from './domain/schedule.js';
import { valueAt, createSeries, type Series } from './domain/series.js';
import { modelForHeat, modelForHistory, pointSeries } from './domain/site-series.js';
import type { WeatherSeries } from './domain/weather.js';
import { createOpenMeteoClient, type WeatherClient } from './weather-client.js';
import { combineForecasts } from './domain/stored.js';
import { HORIZONS } from './domain/tasks.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { CommunityRunInput, CommunityRunOutput } from './community-worker.js';
import {
  accuracySums, cacheWeather, cachedWeather, forecastsCovering, insertForecasts, lastIssued, pruneForecasts, recordScores, unscoredForecasts, weatherSourceOf,
  type AccuracyDay, type ForecastKind, type StoredSeriesForecast,
} from './store.js';

/** History a run reads: the domain's 14 replayed days plus 28 training days, and a day's margin. */
export const HISTORY_DAYS = 43;
/** Forecasts are kept this long (the accuracy window is 30 days; a few days more for late data), then pruned. */
export const RETENTION_DAYS = 35;
export const ACCURACY_DAYS = 30;
/** A forecast is scored once its last target ended this long ago and every target has an outcome… */
export const SCORE_DELAY_MS = 30 * MINUTE_MS;
/** …or, with outcomes still missing, this long after its last target, with the outcomes there are. */
export const SCORE_GIVE_UP_MS = 6 * HOUR_MS;
/** A cached weather answer older than this is not used when the source fails. */
export const WEATHER_CACHE_MAX_AGE_MS = 2 * DAY_MS;
const SCORE_BATCH = 2_000;
/**
 * Metering points a run reads and forecasts at once (one worker thread per part). Each point holds
 * 43 days of quarter hours per series (≈ 33 KB) in this thread and again in the worker: 10,000
 * points at once held ≈ 330 MB twice (issue 22's bench:scale), a part of this size ≈ 17 MB.
 */
export const POINTS_PER_PART = 500;

export interface ForecastSettings {
  /** The clock (tests move it). */
  readonly now: () => number;
  /** Local time of the day-ahead run, "HH:MM". */
  readonly dayAheadLocalTime: string;
  /** Runs the pure forecast of a community (a worker thread in operation). */
  readonly compute: (input: CommunityRunInput) => Promise<CommunityRunOutput>;
  readonly log: (line: string) => void;
  /** Tells others (`forecast.issued`) that new forecasts are stored. */
  readonly events?: EventPublisher;
  /** Points per part of a run (default POINTS_PER_PART; tests make it small). */
  readonly pointsPerPart?: number;
}

function partSize(settings: ForecastSettings): number {
  const perPart = settings.pointsPerPart ?? POINTS_PER_PART;
  if (!Number.isInteger(perPart) || perPart < 1) throw new RangeError(`points per part must be a positive whole number, not ${perPart}`);
  return perPart;
}

export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function minuteOfDay(localTime: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(localTime);
  if (!m) throw new RangeError(`day-ahead time "${localTime}" is not HH:MM`);
  return Number(m[1]) * 60 + Number(m[2]);
}

const calendarOf = (community: Community): ForecastCalendar => createForecastCalendar(community.timeZone, community.country ?? undefined);

type MeteringPoint = Awaited<ReturnType<typeof meteringPointsOfCommunity>>[number];

/** Each of these metering points' consumption, production and heat-pump power over [fromMs, toMs), from the intervals capability. */
async function pointsOf(db: Queryable, communityId: string, fromMs: number, toMs: number, points: readonly MeteringPoint[]) {
  const byPoint = new Map<string, Parameters<typeof pointSeries>[0][number][]>();
  for (const row of await communityIntervals(db, communityId, fromMs, toMs, points.map((point) => point.id))) {
    let list = byPoint.get(row.meteringPointId);
    if (!list) byPoint.set(row.meteringPointId, (list = []));
    list.push(row);
  }
  return points.map((point) => ({
    point,
    series: pointSeries(byPoint.get(point.id) ?? [], point.role, point.pvCapacityW !== null && point.pvCapacityW > 0, fromMs, toMs),
  }));
}

/** The community's weather: fresh from its source, else the cached answer (not too old), else none. */
export class WeatherSources {
  private readonly clients = new Map<string, WeatherClient>();

  constructor(private readonly log: (line: string) => void) {}

  async weatherFor(db: Queryable, community: Community, nowMs: number): Promise<WeatherSeries | undefined> {
    const source = await weatherSourceOf(db, community.id);
    if (!source || !community.location) return undefined;
    let client = this.clients.get(source.url);
    if (!client) this.clients.set(source.url, (client = createOpenMeteoClient({ baseUrl: source.url })));
    try {
      const answer = await client.hourly({ location: community.location, pastDays: HISTORY_DAYS, forecastDays: 3 });
      if (!answer.stale) await cacheWeather(db, community.id, source.url, answer.fetchedAtMs, answer.weather);
      return answer.weather;
    } catch (error) {
      const cached = await cachedWeather(db, community.id);
      this.log(`gridshare: forecast weather for community ${community.id}: ${(error as Error).message}${cached ? ' (using the cached answer)' : ''}`);
      return cached && cached.url === source.url && nowMs - cached.fetchedAtMs <= WEATHER_CACHE_MAX_AGE_MS ? cached.weather : undefined;
    }
  }
}

/** Issues the community's due forecasts (intraday, day-ahead) and stores them; returns how many series were stored. */
export async function issueDueForecasts(
  db: Db, settings: ForecastSettings, weather: WeatherSources, communityId: string, attempted: Map<string, { intraday?: number; dayAhead?: number }>, force: boolean,
): Promise<number> {
  const community = await loadCommunity(db, communityId);
  if (!community) return 0;
  const nowMs = settings.now();
  const calendar = calendarOf(community);
  const stored = await lastIssued(db, communityId);
  const tried = attempted.get(communityId) ?? {};
  const latest = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));
  const due = dueForecasts({
    nowMs, calendar, dayAheadMinute: minuteOfDay(settings.dayAheadLocalTime),
    lastIntradayMs: latest(stored.intraday, tried.intraday), lastDayAheadMs: latest(stored.dayAhead, tried.dayAhead), force,
  });
  if (due.length === 0) return 0;
  const toMs = floorToQuarterHour(nowMs);
  const fromMs = toMs - HISTORY_DAYS * DAY_MS;
  const all = await meteringPointsOfCommunity(db, communityId);
  if (all.length === 0) return 0;
  const pv = (kwp: number | null) => (kwp !== null && kwp > 0 ? { kwp: kwp / 1000 } : undefined);
  const weatherSeries = await weather.weatherFor(db, community, nowMs);
  const perPart = partSize(settings);
  // A part at a time: its history read, forecast in the worker, its points' forecasts stored; only
  // the aggregates' sums go on to the next part. The aggregates, stored with `forecast.issued` after
  // the last part, mark the run as issued (lastIssued), so a run cut short is done again whole.
  let sums: CommunityRunInput['sums'];
  let count = 0;
  for (let from = 0; from < all.length; from += perPart) {
    const last = from + perPart >= all.length;
    const points = await pointsOf(db, communityId, fromMs, toMs, all.slice(from, from + perPart));
    const output = await settings.compute({
      timeZone: community.timeZone,
      country: calendar.country ?? null,
      location: community.location ?? undefined,
      weather: weatherSeries,
      due,
      points: points.map(({ point, series }): CommunityPoint => {
        const system = pv(point.pvCapacityW);
        return {
          id: point.id,
          consumption: series.consumption && { series: series.consumption, model: modelForHistory(series.consumption, 'consumption', undefined) },
          production: series.production && { series: series.production, pv: system, model: modelForHistory(series.production, 'production', system?.kwp) },
          // The heat pump is metered behind the billing meter: its power is in consumption already.
          heat: series.heat && { series: series.heat, model: modelForHeat(series.heat, weatherSeries, nowMs) },
          heatInConsumption: true,
        };
      }),
      sums,
      last,
    });
    sums = output.runs.map((run) => run.sums);
    if (last) {
      // A run that stores nothing (no point has a forecast) is not tried again before it is due again;
      // a run whose computation threw is, after the runner's backoff.
      attempted.set(communityId, {
        intraday: due.some((d) => d.horizon === 'intraday') ? nowMs : tried.intraday,
        dayAhead: due.some((d) => d.horizon === 'day-ahead') ? nowMs : tried.dayAhead,
      });
    }
    const store = async (tx: Queryable) => {
      for (const run of output.runs) {
        await insertForecasts(tx, communityId, { horizon: run.due.horizon, issuedAtMs: run.due.task.issuedAtMs, startMs: run.due.task.startMs, stepMs: QUARTER_HOUR_MS },
          run.series.map((s) => ({
            seriesId: s.pointId ?? communityId, scope: s.pointId ? 'point' : 'community', kind: s.kind, model: s.model, p10: s.p10, p50: s.p50, p90: s.p90,
          })));
        count += run.series.length;
      }
    };
    if (last && settings.events) {
      await settings.events.transaction(db, async (tx, publish) => {
        await store(tx);
        if (count > 0) await publish('forecast.issued', { communityId, issuedAtMs: nowMs });
      });
    } else {
      await db.transaction(store);
    }
  }
  return count;
}

/** Adds a point's series to a running sum per step; NaN where a point that has the series at all has no value there. */
function addSeries(sum: Float64Array, series: Series | undefined): void {
  if (!series || series.values.every((v) => Number.isNaN(v))) return;
  for (let k = 0; k < sum.length; k++) sum[k]! += series.values[k]!;
}

/**
 * The outcomes the stored series are compared with: the points' own (of the points in `scored`
 * only) and the community's sums and surplus. Read a part of the points at a time, as a run is,
 * so that scoring a community of 10,000 points holds one part's intervals, not all of them.
 */
async function outcomesOf(db: Queryable, communityId: string, fromMs: number, toMs: number, scored: ReadonlySet<string>, perPart: number) {
  const steps = Math.round((toMs - fromMs) / QUARTER_HOUR_MS);
  const byKey = new Map<string, Series>();
  const consumption = new Float64Array(steps);
  const production = new Float64Array(steps);
  const all = await meteringPointsOfCommunity(db, communityId);
  for (let from = 0; from < all.length; from += perPart) {
    for (const { point, series } of await pointsOf(db, communityId, fromMs, toMs, all.slice(from, from + perPart))) {
      addSeries(consumption, series.consumption);
      addSeries(production, series.production);
      if (!scored.has(point.id)) continue;
      if (series.consumption) byKey.set(`${point.id}/consumption`, series.consumption);
      if (series.production) byKey.set(`${point.id}/production`, series.production);
      if (series.heat) byKey.set(`${point.id}/heat`, series.heat);
    }
  }
  const surplus = new Float64Array(steps);
  for (let k = 0; k < steps; k++) surplus[k] = Math.max(0, production[k]! - consumption[k]!);
  byKey.set(`${communityId}/consumption`, createSeries(fromMs, QUARTER_HOUR_MS, consumption));
  byKey.set(`${communityId}/production`, createSeries(fromMs, QUARTER_HOUR_MS, production));
  byKey.set(`${communityId}/surplus`, createSeries(fromMs, QUARTER_HOUR_MS, surplus));
  return (seriesId: string, kind: ForecastKind) => byKey.get(`${seriesId}/${kind}`);
}

/**
 * Compares the community's forecasts whose targets have ended with what the intervals say and
 * adds the errors to the daily accuracy sums; persistence (the same quarter hour a local day
 * earlier) is the reference for the skill. Returns how many forecasts were scored and whether more wait.
 */
export async function scoreForecasts(db: Db, settings: ForecastSettings, communityId: string): Promise<{ done: number; more: boolean }> {
  const nowMs = settings.now();
  const due = await unscoredForecasts(db, communityId, nowMs - SCORE_DELAY_MS, SCORE_BATCH);
  if (due.length === 0) return { done: 0, more: false };
  const community = await loadCommunity(db, communityId);
  if (!community) return { done: 0, more: false };
  const calendar = calendarOf(community);
  const fromMs = Math.min(...due.map((f) => f.startMs)) - DAY_MS - HOUR_MS;
  const toMs = Math.max(...due.map((f) => f.startMs + f.p50.length * f.stepMs));
  const actualOf = await outcomesOf(db, communityId, fromMs, toMs, new Set(due.map((f) => f.seriesId)), partSize(settings));
  const days = new Map<string, { key: Omit<AccuracyDay, keyof AccuracySums>; acc: AccuracyAccumulator }>();
  const scored: StoredSeriesForecast[] = [];
  for (const f of due) {
    const actual = actualOf(f.seriesId, f.kind);
    const endMs = f.startMs + f.p50.length * f.stepMs;
    const complete = actual !== undefined && f.p50.every((_, j) => !Number.isNaN(valueAt(actual, f.startMs + j * f.stepMs)));
    if (!complete && endMs > nowMs - SCORE_GIVE_UP_MS) continue;
    scored.push(f);
    if (!actual) continue;
    for (let j = 0; j < f.p50.length; j++) {
      const p50 = f.p50[j];
      if (p50 === null || p50 === undefined) continue;
      const t = f.startMs + j * f.stepMs;
      const day = utcDay(t);
      const id = `${f.seriesId}/${f.kind}/${f.model}/${f.horizon}/${day}`;
      let entry = days.get(id);
      if (!entry) days.set(id, (entry = { key: { seriesId: f.seriesId, scope: f.scope, kind: f.kind, model: f.model, horizon: f.horizon, day }, acc: new AccuracyAccumulator() }));
      entry.acc.add(valueAt(actual, t), p50, valueAt(actual, calendar.shiftLocalDays(t, 1)), f.p10[j] ?? Number.NaN, f.p90[j] ?? Number.NaN);
    }
  }
  const rows = [...days.values()].map(({ key, acc }) => ({ ...key, ...acc.totals() })).filter((r) => r.n > 0);
  await db.transaction((tx) => recordScores(tx, communityId, rows, scored));
  return { done: scored.length, more: due.length === SCORE_BATCH && scored.length > 0 };
}

/** Drops forecasts issued more than RETENTION_DAYS ago and accuracy days older than that. */
export async function pruneOld(db: Queryable, settings: ForecastSettings, communityId: string): Promise<number> {
  const beforeMs = settings.now() - RETENTION_DAYS * DAY_MS;
  return pruneForecasts(db, communityId, beforeMs, utcDay(beforeMs));
}

/** The rolling accuracy (last ACCURACY_DAYS) of a community's series, or of one series. */
export async function rollingAccuracy(db: Queryable, nowMs: number, communityId: string, seriesId?: string) {
  return accuracySums(db, communityId, utcDay(nowMs - ACCURACY_DAYS * DAY_MS), seriesId);
}

/**
 * For other capabilities (optimise): the P50 of each point's consumption, production and heat
 * forecasts over [fromMs, fromMs + steps quarter hours), the newest forecast issued by `nowMs`
 * per quarter hour (null where none covers it). Points without any forecast are left out.
 */
export async function pointForecastsP50(
  db: Queryable, pointIds: readonly string[], fromMs: number, steps: number, nowMs: number,
): Promise<Map<string, Partial<Record<'consumption' | 'production' | 'heat', (number | null)[]>>>> {
  const toMs = fromMs + steps * QUARTER_HOUR_MS;
  const out = new Map<string, Partial<Record<'consumption' | 'production' | 'heat', (number | null)[]>>>();
  for (const pointId of pointIds) {
    const stored = await forecastsCovering(db, pointId, ['consumption', 'production', 'heat'], HORIZONS, fromMs, toMs, nowMs);
    if (stored.length === 0) continue;
    const series: Partial<Record<'consumption' | 'production' | 'heat', (number | null)[]>> = {};
    for (const kind of ['consumption', 'production', 'heat'] as const) {
      const own = stored.filter((f) => f.kind === kind);
      if (own.length > 0) series[kind] = combineForecasts(own, fromMs, toMs).map((s) => s.p50);
    }
    out.set(pointId, series);
  }
  return out;
}
