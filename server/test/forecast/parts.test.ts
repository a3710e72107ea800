import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, QUARTER_HOUR_MS } from '../../src/kernel/time.js';
import type { CommunityPoint } from '../../src/forecast/index.js';
import { computeCommunity, type CommunityRunInput, type CommunityRunOutput, type ComputedSeries } from '../../src/forecast/community-worker.js';
import { issueDueForecasts, scoreForecasts, WeatherSources, type ForecastSettings } from '../../src/forecast/service.js';
import type { Db } from '../../src/platform/store/db.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';
import { openTestDb, storeKinds } from '../support/stores.js';
import { householdLoad, pvProduction, skyIndex, VIENNA } from './support/synthetic.js';

/**
 * Issue 22: a community's forecast run holds its points' 43 days of history in memory, in the
 * platform's thread and again in the worker's; 10,000 points at once held ≈ 330 MB twice. A run
 * goes a part of the points at a time, carrying only the aggregates' sums from part to part.
 */
const from = Date.UTC(2025, 3, 1);
const DAYS = 30;
const steps = DAYS * 96;
const sky = skyIndex(DAYS + 2, 5);

function points(): CommunityPoint[] {
  return Array.from({ length: 7 }, (_, i): CommunityPoint => {
    const consumption = { series: householdLoad(from, QUARTER_HOUR_MS, steps, 10 + i, 300 + 40 * i) };
    if (i % 2 === 1) return { id: `p${i}`, consumption };
    const production = { series: pvProduction(from, QUARTER_HOUR_MS, steps, 20 + i, 3 + i, VIENNA, { tiltDeg: 30, azimuthDeg: 180 }, sky), pv: { kwp: 3 + i } };
    return { id: `p${i}`, consumption, production };
  });
}

describe('a community forecast computed a part at a time', () => {
  const issuedAtMs = from + (DAYS - 1) * DAY_MS + 10 * HOUR_MS;
  const run = (forecastPoints: CommunityPoint[], sums: CommunityRunInput['sums'], last: boolean) => computeCommunity({
    timeZone: 'Europe/Vienna', country: 'AT', location: VIENNA, weather: undefined, points: forecastPoints, sums, last,
    due: [
      { horizon: 'intraday', task: { issuedAtMs, startMs: issuedAtMs, steps: 48 } },
      { horizon: 'day-ahead', task: { issuedAtMs, startMs: issuedAtMs + 14 * HOUR_MS, steps: 96 } },
    ],
  });
  const community = (series: readonly ComputedSeries[]) => series.filter((s) => s.pointId === undefined);

  it('stores exactly what one run of every point stores: each point once, the aggregates after the last part', () => {
    const all = points();
    const whole = run(all, undefined, true);
    const parts: CommunityRunOutput[] = [];
    for (let i = 0; i < all.length; i += 3) {
      parts.push(run(all.slice(i, i + 3), parts.at(-1)?.runs.map((r) => r.sums), i + 3 >= all.length));
    }
    expect(parts).toHaveLength(3);
    // Before the last part no aggregate is made: the sums are not complete yet.
    for (const part of parts.slice(0, -1)) for (const r of part.runs) expect(community(r.series)).toEqual([]);
    whole.runs.forEach((r, i) => {
      expect(community(r.series).map((s) => s.kind)).toEqual(['consumption', 'production', 'surplus']);
      expect(parts.flatMap((part) => part.runs[i]!.series)).toEqual(r.series);
      expect(parts.at(-1)!.runs[i]!.sums.consumption.forecasts).toBe(7);
      expect(parts.at(-1)!.runs[i]!.sums.production.forecasts).toBe(4);
    });
  });

  it('a part without any point forecast adds nothing, and no aggregate is made of nothing', () => {
    const empty = run([], undefined, true);
    for (const r of empty.runs) {
      expect(r.series).toEqual([]);
      expect(r.sums.consumption.forecasts).toBe(0);
    }
  });
});

describe('a forecast run of the platform', () => {
  let db: Db;
  let close: () => Promise<void>;
  let communityId: string;
  const nowMs = Date.UTC(2026, 2, 10, 9, 7);
  beforeAll(async () => {
    // PostgreSQL when the environment names one (faster to migrate), else PGlite: the run is the same SQL.
    ({ db, close } = await openTestDb(storeKinds.at(-1)!));
    const fixture = await insertCommunityWithDevice(db);
    communityId = fixture.communityId;
    for (let i = 0; i < 4; i++) {
      await db.query(`INSERT INTO metering_points (community_id, member_id, name, grid_connection_id, role) VALUES ($1, $2, $3, $4, 'consumer')`,
        [communityId, fixture.memberId, `Home ${i}`, `ATPARTS${i}`]);
    }
  }, 180_000);
  afterAll(() => close?.());

  const issue = async (pointsPerPart: number) => {
    const inputs: CommunityRunInput[] = [];
    const settings: ForecastSettings = {
      now: () => nowMs, dayAheadLocalTime: '12:00', log: () => undefined, pointsPerPart,
      compute: async (input) => {
        inputs.push(input);
        return computeCommunity(input);
      },
    };
    const count = await issueDueForecasts(db, settings, new WeatherSources(() => undefined), communityId, new Map(), true);
    const stored = await db.query<{ series_id: string; kind: string; horizon: string; p10_w: number[]; p50_w: number[]; p90_w: number[] }>(
      'SELECT series_id::text, kind, horizon, p10_w, p50_w, p90_w FROM forecasts WHERE community_id = $1 ORDER BY series_id, kind, horizon', [communityId]);
    return { count, inputs, stored };
  };

  it('hands the worker at most a part of the points at a time, and stores what one part of all would', async () => {
    const inParts = await issue(2);
    // 5 points in parts of at most 2: three runs, each point in exactly one, the sums carried on.
    expect(inParts.inputs.map((input) => input.points.length)).toEqual([2, 2, 1]);
    expect(new Set(inParts.inputs.flatMap((input) => input.points.map((p) => p.id))).size).toBe(5);
    expect(inParts.inputs.map((input) => input.sums === undefined)).toEqual([true, false, false]);
    expect(inParts.inputs.map((input) => input.last)).toEqual([false, false, true]);
    // Every point's consumption and the community's consumption and surplus, intraday and day-ahead.
    expect(inParts.count).toBe(2 * (5 + 2));
    expect(inParts.stored.filter((row) => row.series_id === communityId).map((row) => row.kind).sort()).toEqual(['consumption', 'consumption', 'surplus', 'surplus']);

    const atOnce = await issue(100);
    expect(atOnce.inputs.map((input) => input.points.length)).toEqual([5]);
    expect(atOnce.count).toBe(inParts.count);
    expect(atOnce.stored).toEqual(inParts.stored);
  });

  it('refuses to forget the part size: nonsense is not a part size', async () => {
    await expect(issue(0)).rejects.toThrow(/points per part/);
  });

  it('scores the forecasts reading a part of the points\' intervals at a time, as one read of all would', async () => {
    const quarter = Math.floor(nowMs / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    await db.query(
      `INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, pv_wh, quality)
       SELECT p.id, g, p.community_id, (40 + 10 * extract(hour from g))::int, 0, 0, 'measured'
       FROM metering_points p, generate_series($2::timestamptz, $3::timestamptz, interval '15 minutes') g WHERE p.community_id = $1`,
      [communityId, new Date(quarter - 2 * DAY_MS), new Date(quarter + 2 * DAY_MS)],
    );
    // What the scoring reads of the intervals (each read's points), observed on the real database.
    const reads: number[] = [];
    const observed = new Proxy(db, {
      get(target, property) {
        if (property === 'query') {
          return (sql: string, params?: unknown[]) => {
            if (sql.includes('FROM intervals') && Array.isArray(params?.[3])) reads.push(params[3].length);
            return target.query(sql, params);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const score = async (pointsPerPart: number) => {
      reads.length = 0;
      await db.query('UPDATE forecasts SET scored_at = NULL WHERE community_id = $1', [communityId]);
      await db.query('DELETE FROM forecast_accuracy WHERE community_id = $1', [communityId]);
      const settings: ForecastSettings = { now: () => nowMs + 3 * DAY_MS, dayAheadLocalTime: '12:00', log: () => undefined, pointsPerPart, compute: async (input) => computeCommunity(input) };
      const { done } = await scoreForecasts(observed, settings, communityId);
      const rows = await db.query<{ series_id: string; kind: string; horizon: string; day: string; n: string; sum_abs_w: string; sum_actual_w: string }>(
        `SELECT series_id::text, kind, horizon, day::text, n::text, sum_abs_w::text, sum_actual_w::text FROM forecast_accuracy WHERE community_id = $1
         ORDER BY series_id, kind, horizon, day`, [communityId]);
      return { done, rows, reads: [...reads] };
    };
    const inParts = await score(2);
    expect(inParts.reads).toEqual([2, 2, 1]);
    const atOnce = await score(100);
    expect(atOnce.reads).toEqual([5]);
    expect(inParts.done).toBeGreaterThan(0);
    expect(inParts.done).toBe(atOnce.done);
    // Every point and the community scored, with the outcomes of all five points in the community's sums.
    expect(new Set(inParts.rows.map((row) => row.series_id)).size).toBe(6);
    expect(inParts.rows.filter((row) => row.series_id === communityId && row.kind === 'consumption').every((row) => Number(row.n) > 0)).toBe(true);
    expect(inParts.rows).toEqual(atOnce.rows);
  });
});
