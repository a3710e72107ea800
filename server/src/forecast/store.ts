import type { Queryable } from '../platform/store/db.js';
import type { AccuracySums } from './domain/metrics.js';
import type { StoredForecast } from './domain/stored.js';
import type { HorizonName } from './domain/tasks.js';
import type { WeatherSeries } from './domain/weather.js';
import { MINUTE_MS } from '../kernel/time.js';

/**
 * The only SQL on forecast's tables: forecasts (as issued, quantile arrays in whole W),
 * forecast_accuracy (daily sums per series, model and horizon), forecast_weather_sources and
 * forecast_weather_cache.
 */

export type ForecastKind = 'consumption' | 'production' | 'heat' | 'surplus';
export type Scope = 'point' | 'community';

export interface NewForecast {
  readonly seriesId: string;
  readonly scope: Scope;
  readonly kind: ForecastKind;
  readonly model: string;
  readonly p10: readonly (number | null)[];
  readonly p50: readonly (number | null)[];
  readonly p90: readonly (number | null)[];
}

/** Stores one run's forecasts (one statement); a run repeated at the same instant replaces its rows. */
export async function insertForecasts(
  db: Queryable, communityId: string, run: { horizon: HorizonName; issuedAtMs: number; startMs: number; stepMs: number }, series: readonly NewForecast[],
): Promise<void> {
  if (series.length === 0) return;
  await db.query(
    `INSERT INTO forecasts (community_id, series_id, scope, kind, horizon, issued_at, start, step_minutes, model, p10_w, p50_w, p90_w)
     SELECT $1, r.series_id, r.scope, r.kind, $2, $3, $4, $5, r.model, r.p10, r.p50, r.p90
     FROM jsonb_to_recordset($6::jsonb) AS r(series_id uuid, scope text, kind text, model text, p10 int4[], p50 int4[], p90 int4[])
     ON CONFLICT (series_id, kind, horizon, issued_at, community_id) DO UPDATE SET
       model = EXCLUDED.model, p10_w = EXCLUDED.p10_w, p50_w = EXCLUDED.p50_w, p90_w = EXCLUDED.p90_w, scored_at = NULL`,
    [communityId, run.horizon, new Date(run.issuedAtMs), new Date(run.startMs), run.stepMs / MINUTE_MS,
      JSON.stringify(series.map((s) => ({ series_id: s.seriesId, scope: s.scope, kind: s.kind, model: s.model, p10: s.p10, p50: s.p50, p90: s.p90 })))],
  );
}

/** When the community's newest intraday and day-ahead forecasts were issued. */
export async function lastIssued(db: Queryable, communityId: string): Promise<{ intraday: number | undefined; dayAhead: number | undefined }> {
  const rows = await db.query<{ horizon: HorizonName; issued_at: Date }>(
    `SELECT horizon, max(issued_at) AS issued_at FROM forecasts WHERE community_id = $1 AND series_id = $1 GROUP BY horizon`,
    [communityId],
  );
  const of = (h: HorizonName) => rows.find((r) => r.horizon === h)?.issued_at.getTime();
  return { intraday: of('intraday'), dayAhead: of('day-ahead') };
}

interface ForecastRow {
  series_id: string;
  scope: Scope;
  kind: ForecastKind;
  horizon: HorizonName;
  issued_at: Date;
  start: Date;
  step_minutes: number;
  model: string;
  p10_w: (number | null)[];
  p50_w: (number | null)[];
  p90_w: (number | null)[];
}

export interface StoredSeriesForecast extends StoredForecast {
  readonly seriesId: string;
  readonly scope: Scope;
  readonly kind: ForecastKind;
}

const toStored = (r: ForecastRow): StoredSeriesForecast => ({
  seriesId: r.series_id, scope: r.scope, kind: r.kind, horizon: r.horizon, issuedAtMs: r.issued_at.getTime(), startMs: r.start.getTime(),
  stepMs: r.step_minutes * MINUTE_MS, model: r.model, p10: r.p10_w, p50: r.p50_w, p90: r.p90_w,
});

const FORECAST_COLUMNS = 'series_id, scope, kind, horizon, issued_at, start, step_minutes, model, p10_w, p50_w, p90_w';

/** The series' forecasts issued by `issuedByMs` whose targets overlap [fromMs, toMs), of the horizons given. */
export async function forecastsCovering(
  db: Queryable, seriesId: string, kinds: readonly ForecastKind[], horizons: readonly HorizonName[], fromMs: number, toMs: number, issuedByMs: number,
): Promise<StoredSeriesForecast[]> {
  const rows = await db.query<ForecastRow>(
    `SELECT ${FORECAST_COLUMNS} FROM forecasts
     WHERE series_id = $1 AND kind = ANY($2::text[]) AND horizon = ANY($3::text[]) AND issued_at <= $6
       AND start < $5 AND start + step_minutes * cardinality(p50_w) * interval '1 minute' > $4
     ORDER BY issued_at`,
    [seriesId, kinds, horizons, new Date(fromMs), new Date(toMs), new Date(issuedByMs)],
  );
  return rows.map(toStored);
}

/** Forecasts of the community not yet scored whose last target ended by `endedByMs`, oldest first (at most `limit`). */
export async function unscoredForecasts(db: Queryable, communityId: string, endedByMs: number, limit: number): Promise<StoredSeriesForecast[]> {
  const rows = await db.query<ForecastRow>(
    `SELECT ${FORECAST_COLUMNS} FROM forecasts
     WHERE community_id = $1 AND scored_at IS NULL AND start + step_minutes * cardinality(p50_w) * interval '1 minute' <= $2
     ORDER BY start, series_id, kind, horizon, issued_at LIMIT $3`,
    [communityId, new Date(endedByMs), limit],
  );
  return rows.map(toStored);
}

export interface AccuracyDay extends AccuracySums {
  readonly seriesId: string;
  readonly scope: Scope;
  readonly kind: ForecastKind;
  readonly model: string;
  readonly horizon: HorizonName;
  /** UTC day, YYYY-MM-DD. */
  readonly day: string;
}

/** Adds scored sums to the days' rows and marks the forecasts scored, in one transaction's two statements. */
export async function recordScores(
  tx: Queryable, communityId: string, days: readonly AccuracyDay[], scored: readonly Pick<StoredSeriesForecast, 'seriesId' | 'kind' | 'horizon' | 'issuedAtMs'>[],
): Promise<void> {
  if (days.length > 0) {
    await tx.query(
      `INSERT INTO forecast_accuracy (community_id, series_id, scope, kind, model, horizon, day, n, sum_abs_w, sum_sq_w2, sum_actual_w, sum_reference_sq_w2, banded, inside)
       SELECT $1, s, sc, k, m, h, d, n, a, q, o, r, b, i
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::int8[])
         AS u(s, sc, k, m, h, d, n, a, q, o, r, b, i)
       ON CONFLICT (series_id, kind, model, horizon, day, community_id) DO UPDATE SET
         n = forecast_accuracy.n + EXCLUDED.n, sum_abs_w = forecast_accuracy.sum_abs_w + EXCLUDED.sum_abs_w,
         sum_sq_w2 = forecast_accuracy.sum_sq_w2 + EXCLUDED.sum_sq_w2, sum_actual_w = forecast_accuracy.sum_actual_w + EXCLUDED.sum_actual_w,
         sum_reference_sq_w2 = forecast_accuracy.sum_reference_sq_w2 + EXCLUDED.sum_reference_sq_w2,
         banded = forecast_accuracy.banded + EXCLUDED.banded, inside = forecast_accuracy.inside + EXCLUDED.inside`,
      [communityId, days.map((d) => d.seriesId), days.map((d) => d.scope), days.map((d) => d.kind), days.map((d) => d.model), days.map((d) => d.horizon),
        days.map((d) => d.day), days.map((d) => d.n), days.map((d) => d.sumAbs), days.map((d) => d.sumSq), days.map((d) => d.sumActual),
        days.map((d) => d.sumReferenceSq), days.map((d) => d.banded), days.map((d) => d.inside)],
    );
  }
  if (scored.length > 0) {
    await tx.query(
      `UPDATE forecasts f SET scored_at = now() FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS u(s, k, h, i)
       WHERE f.series_id = u.s AND f.kind = u.k AND f.horizon = u.h AND f.issued_at = u.i`,
      [scored.map((s) => s.seriesId), scored.map((s) => s.kind), scored.map((s) => s.horizon), scored.map((s) => new Date(s.issuedAtMs))],
    );
  }
}

interface SumRow {
  n: string; sum_abs_w: string; sum_sq_w2: string; sum_actual_w: string; sum_reference_sq_w2: string; banded: string; inside: string;
}
const SUMS = `sum(n) AS n, sum(sum_abs_w) AS sum_abs_w, sum(sum_sq_w2) AS sum_sq_w2, sum(sum_actual_w) AS sum_actual_w,
  sum(sum_reference_sq_w2) AS sum_reference_sq_w2, sum(banded) AS banded, sum(inside) AS inside`;
const toSums = (r: SumRow): AccuracySums => ({
  n: Number(r.n), sumAbs: Number(r.sum_abs_w), sumSq: Number(r.sum_sq_w2), sumActual: Number(r.sum_actual_w),
  sumReferenceSq: Number(r.sum_reference_sq_w2), banded: Number(r.banded), inside: Number(r.inside),
});

export type AccuracyKey = Pick<AccuracyDay, 'seriesId' | 'scope' | 'kind' | 'model' | 'horizon'>;

/** Sums per series, model and horizon over the days from `sinceDay` on, of the community (or of one series). */
export async function accuracySums(db: Queryable, communityId: string, sinceDay: string, seriesId?: string): Promise<(AccuracyKey & AccuracySums)[]> {
  const rows = await db.query<SumRow & { series_id: string; scope: Scope; kind: ForecastKind; model: string; horizon: HorizonName }>(
    `SELECT series_id, scope, kind, model, horizon, ${SUMS} FROM forecast_accuracy
     WHERE community_id = $1 AND day >= $2::date AND ($3::uuid IS NULL OR series_id = $3)
     GROUP BY series_id, scope, kind, model, horizon ORDER BY scope, series_id, kind, horizon, model`,
    [communityId, sinceDay, seriesId ?? null],
  );
  return rows.map((r) => ({ seriesId: r.series_id, scope: r.scope, kind: r.kind, model: r.model, horizon: r.horizon, ...toSums(r) }));
}

/** Sums of every community's series per kind, model and horizon from `sinceDay` on (for /metrics: bounded labels). */
export async function accuracySumsByKind(db: Queryable, sinceDay: string): Promise<({ kind: ForecastKind; model: string; horizon: HorizonName } & AccuracySums)[]> {
  const rows = await db.query<SumRow & { kind: ForecastKind; model: string; horizon: HorizonName }>(
    `SELECT kind, model, horizon, ${SUMS} FROM forecast_accuracy WHERE day >= $1::date GROUP BY kind, model, horizon`, [sinceDay],
  );
  return rows.map((r) => ({ kind: r.kind, model: r.model, horizon: r.horizon, ...toSums(r) }));
}

/** Drops the community's forecasts issued before `beforeMs` and accuracy days before `beforeDay`; returns how many forecasts went. */
export async function pruneForecasts(db: Queryable, communityId: string, beforeMs: number, beforeDay: string): Promise<number> {
  const gone = await db.query<{ n: number }>(
    `WITH gone AS (DELETE FROM forecasts WHERE community_id = $1 AND issued_at < $2 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
    [communityId, new Date(beforeMs)],
  );
  await db.query('DELETE FROM forecast_accuracy WHERE community_id = $1 AND day < $2::date', [communityId, beforeDay]);
  return gone[0]?.n ?? 0;
}

/** Every community that has forecasts stored (the job prunes those too when they have no points any more). */
export async function communitiesWithForecasts(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ community_id: string }>('SELECT DISTINCT community_id FROM forecasts');
  return rows.map((r) => r.community_id);
}

// ---- weather ----------------------------------------------------------------------------------

export interface WeatherSource {
  readonly url: string;
  readonly updatedAt: Date;
}

export async function weatherSourceOf(db: Queryable, communityId: string): Promise<WeatherSource | undefined> {
  const rows = await db.query<{ url: string; updated_at: Date }>('SELECT url, updated_at FROM forecast_weather_sources WHERE community_id = $1', [communityId]);
  const row = rows[0];
  return row && { url: row.url, updatedAt: row.updated_at };
}

/** Sets (or with null removes) the community's weather source; a new source's cached answer goes. */
export async function setWeatherSource(db: Queryable, communityId: string, url: string | null): Promise<void> {
  if (url === null) {
    await db.query('DELETE FROM forecast_weather_sources WHERE community_id = $1', [communityId]);
  } else {
    await db.query(
      `INSERT INTO forecast_weather_sources (community_id, url) VALUES ($1, $2)
       ON CONFLICT (community_id) DO UPDATE SET url = EXCLUDED.url, updated_at = now()`,
      [communityId, url],
    );
  }
  await db.query('DELETE FROM forecast_weather_cache WHERE community_id = $1 AND url IS DISTINCT FROM $2', [communityId, url]);
}

interface WeatherJson {
  startMs: number;
  stepMs: number;
  temperatureC: (number | null)[];
  ghiWm2: (number | null)[];
  cloudCoverPct: (number | null)[];
}

const toJson = (values: Float64Array) => Array.from(values, (v) => (Number.isFinite(v) ? v : null));
const fromJson = (values: readonly (number | null)[]) => Float64Array.from(values, (v) => v ?? Number.NaN);

export async function cacheWeather(db: Queryable, communityId: string, url: string, fetchedAtMs: number, weather: WeatherSeries): Promise<void> {
  const json: WeatherJson = {
    startMs: weather.startMs, stepMs: weather.stepMs,
    temperatureC: toJson(weather.temperatureC), ghiWm2: toJson(weather.ghiWm2), cloudCoverPct: toJson(weather.cloudCoverPct),
  };
  await db.query(
    `INSERT INTO forecast_weather_cache (community_id, url, fetched_at, weather) VALUES ($1, $2, $3, $4)
     ON CONFLICT (community_id) DO UPDATE SET url = EXCLUDED.url, fetched_at = EXCLUDED.fetched_at, weather = EXCLUDED.weather`,
    [communityId, url, new Date(fetchedAtMs), JSON.stringify(json)],
  );
}

export async function cachedWeather(db: Queryable, communityId: string): Promise<{ url: string; fetchedAtMs: number; weather: WeatherSeries } | undefined> {
  const rows = await db.query<{ url: string; fetched_at: Date; weather: WeatherJson }>(
    'SELECT url, fetched_at, weather FROM forecast_weather_cache WHERE community_id = $1', [communityId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const w = row.weather;
  return {
    url: row.url, fetchedAtMs: row.fetched_at.getTime(),
    weather: { startMs: w.startMs, stepMs: w.stepMs, temperatureC: fromJson(w.temperatureC), ghiWm2: fromJson(w.ghiWm2), cloudCoverPct: fromJson(w.cloudCoverPct) },
  };
}
