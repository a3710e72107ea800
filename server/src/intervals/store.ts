import type { QuarterMark } from '../kernel/events.js';
import type { Queryable } from '../platform/store/db.js';
import { numbersFromText } from '../platform/store/text-lists.js';
import type { Quality } from '../kernel/energy.js';
import type { Finding, Series } from './domain/site-energy.js';

/**
 * The SQL of the intervals' own tables: intervals, interval_dirty (the marks of quarter hours to
 * recompute), interval_failures, interval_quarantine. Writes take a whole chunk of metering points
 * in one statement (arrays through unnest), never one statement per row.
 */

/** Bumps the version of a mark already there, so a pass that read the old one leaves it for the next. */
const MARK_AGAIN = `ON CONFLICT (metering_point_id, start, community_id) DO UPDATE SET version = nextval('interval_dirty_version')`;

/** One quarter hour marked dirty, exactly as read: only a mark with this version is cleared. */
export interface DirtyMark {
  readonly pointId: string;
  readonly start: Date;
  readonly version: number;
  /** The point failed before: a success clears that. */
  readonly failed: boolean;
}

/**
 * The marks of the `maxPoints` metering points marked longest ago (then by id, so the order is
 * defined) that are not set aside, by point then start; and whether more points are waiting.
 */
export async function pickDirtyMarks(db: Queryable, maxPoints: number): Promise<{ marks: DirtyMark[]; more: boolean }> {
  // One point beyond the pass is picked only to tell whether more are waiting.
  const rows = await db.query<{ metering_point_id: string; start: Date; version: number; failed: boolean; more: boolean }>(
    `WITH picked AS (
       SELECT d.metering_point_id, row_number() OVER (ORDER BY min(d.start), d.metering_point_id) AS n
       FROM interval_dirty d
       WHERE NOT EXISTS (SELECT 1 FROM interval_failures f WHERE f.metering_point_id = d.metering_point_id AND f.retry_at > now())
       GROUP BY d.metering_point_id ORDER BY min(d.start), d.metering_point_id LIMIT $1 + 1)
     SELECT d.metering_point_id, d.start, d.version, (SELECT count(*) FROM picked) > $1 AS more,
       EXISTS (SELECT 1 FROM interval_failures f WHERE f.metering_point_id = d.metering_point_id) AS failed
     FROM interval_dirty d JOIN picked USING (metering_point_id)
     WHERE picked.n <= $1
     ORDER BY picked.n, d.start`,
    [maxPoints],
  );
  return {
    marks: rows.map((r) => ({ pointId: r.metering_point_id, start: r.start, version: r.version, failed: r.failed })),
    more: rows[0]?.more ?? false,
  };
}

/** Forgets every mark of the metering points (they no longer exist: nothing to compute). */
export async function dropMarksOf(db: Queryable, pointIds: readonly string[]): Promise<void> {
  await db.query('DELETE FROM interval_dirty WHERE metering_point_id = ANY($1::uuid[])', [pointIds]);
}

/** Clears exactly the marks given, with the version they were read with; a mark bumped since stays. */
export async function clearMarks(tx: Queryable, marks: readonly DirtyMark[]): Promise<void> {
  await tx.query(
    `DELETE FROM interval_dirty d USING unnest($1::uuid[], $2::timestamptz[], $3::int8[]) AS m(p, s, v)
     WHERE d.metering_point_id = m.p AND d.start = m.s AND d.version = m.v`,
    [marks.map((m) => m.pointId), marks.map((m) => m.start), marks.map((m) => m.version)],
  );
}

/** Marks the point's quarantined quarter hours and those whose stored energy exceeds `limitWh`. */
export async function markQuarantinedOrBeyond(db: Queryable, communityId: string, pointId: string, limitWh: number): Promise<void> {
  await db.query(
    `INSERT INTO interval_dirty (community_id, metering_point_id, start)
     SELECT $3::uuid, $1::uuid, start FROM interval_quarantine WHERE metering_point_id = $1
     UNION SELECT $3::uuid, $1::uuid, start FROM intervals WHERE metering_point_id = $1
       AND greatest(import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh, heat_pump_wh) > $2
     ${MARK_AGAIN}`,
    [pointId, limitWh, communityId],
  );
}

/** Marks every quarter hour of the point from the one `first` falls in to the one `last` falls in. */
export async function markQuarterHoursBetween(db: Queryable, communityId: string, pointId: string, first: Date, last: Date): Promise<void> {
  await db.query(
    `INSERT INTO interval_dirty (community_id, metering_point_id, start)
     SELECT $4::uuid, $1::uuid, s FROM generate_series(date_bin('15 minutes', $2::timestamptz, TIMESTAMPTZ '2000-01-01 00:00:00+00'), $3::timestamptz, interval '15 minutes') AS s
     ${MARK_AGAIN}`,
    [pointId, first, last, communityId],
  );
}

/** Records that a point's computation failed and when to try it again (after the n-th failure in a row: firstMs × 2^(n−1), at most maxMs); returns n. */
export async function recordFailure(
  db: Queryable,
  failure: { pointId: string; communityId: string; error: string },
  retry: { firstMs: number; maxMs: number },
): Promise<number> {
  const rows = await db.query<{ attempts: number }>(
    `INSERT INTO interval_failures (metering_point_id, community_id, error, attempts, retry_at)
     VALUES ($1, $2, $3, 1, now() + $4::float8 * interval '1 millisecond')
     ON CONFLICT (metering_point_id, community_id) DO UPDATE SET error = EXCLUDED.error, attempts = interval_failures.attempts + 1,
       last_failed_at = now(), retry_at = now() + least($4::float8 * 2 ^ interval_failures.attempts, $5::float8) * interval '1 millisecond'
     RETURNING attempts`,
    [failure.pointId, failure.communityId, failure.error, retry.firstMs, retry.maxMs],
  );
  return rows[0]?.attempts ?? 1;
}

/** The points computed fine again: they are no longer set aside. */
export async function clearFailures(tx: Queryable, pointIds: readonly string[]): Promise<void> {
  await tx.query('DELETE FROM interval_failures WHERE metering_point_id = ANY($1::uuid[])', [pointIds]);
}

/** Computed quarter hours, column by column (the same index is one row), for one multi-row write. */
export interface IntervalColumns {
  points: string[];
  communities: string[];
  starts: Date[];
  importWh: (number | null)[];
  exportWh: (number | null)[];
  pvWh: (number | null)[];
  batteryChargeWh: (number | null)[];
  batteryDischargeWh: (number | null)[];
  heatPumpWh: (number | null)[];
  quality: Quality[];
}

/** Writes the computed quarter hours in one statement; returns those whose values changed (only those are written). */
export async function writeIntervals(tx: Queryable, out: IntervalColumns): Promise<{ communityId: string; start: Date }[]> {
  const changed = await tx.query<{ community_id: string; start: Date }>(
    `INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh, heat_pump_wh, quality, computed_at)
     SELECT p, s, c, i, e, v, bc, bd, hp, q, now()
     FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::text[])
       AS u(p, s, c, i, e, v, bc, bd, hp, q)
     ON CONFLICT (metering_point_id, start, community_id) DO UPDATE SET
       import_wh = EXCLUDED.import_wh, export_wh = EXCLUDED.export_wh, pv_wh = EXCLUDED.pv_wh,
       battery_charge_wh = EXCLUDED.battery_charge_wh, battery_discharge_wh = EXCLUDED.battery_discharge_wh,
       heat_pump_wh = EXCLUDED.heat_pump_wh, quality = EXCLUDED.quality, computed_at = now()
     WHERE (intervals.import_wh, intervals.export_wh, intervals.pv_wh, intervals.battery_charge_wh, intervals.battery_discharge_wh, intervals.heat_pump_wh, intervals.quality)
       IS DISTINCT FROM (EXCLUDED.import_wh, EXCLUDED.export_wh, EXCLUDED.pv_wh, EXCLUDED.battery_charge_wh, EXCLUDED.battery_discharge_wh, EXCLUDED.heat_pump_wh, EXCLUDED.quality)
     RETURNING community_id, start`,
    [out.points, out.starts, out.communities, out.importWh, out.exportWh, out.pvWh, out.batteryChargeWh, out.batteryDischargeWh, out.heatPumpWh, out.quality],
  );
  return changed.map((r) => ({ communityId: r.community_id, start: r.start }));
}

/** A finding of the computation, with the point it was found at. */
export type PointFinding = Finding & { pointId: string; communityId: string };

/**
 * The findings of the recomputed ranges replace what was found there before (two statements for
 * all of them). Returns the findings that are new: quarantined now and not before.
 */
export async function replaceFindings(
  tx: Queryable,
  ranges: readonly { pointId: string; from: number; to: number }[],
  findings: readonly PointFinding[],
): Promise<PointFinding[]> {
  const before = await tx.query<{ metering_point_id: string; start: Date }>(
    `DELETE FROM interval_quarantine q USING unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(p, f, t)
     WHERE q.metering_point_id = u.p AND q.start >= u.f AND q.start < u.t RETURNING q.metering_point_id, q.start`,
    [ranges.map((s) => s.pointId), ranges.map((s) => new Date(s.from)), ranges.map((s) => new Date(s.to))],
  );
  if (findings.length === 0) return [];
  const known = new Set(before.map((r) => `${r.metering_point_id}|${r.start.getTime()}`));
  await tx.query(
    `INSERT INTO interval_quarantine (metering_point_id, start, series, community_id, energy_wh, limit_wh, device_ids, readings)
     SELECT u.p, u.s, u.series, u.c, u.e, u.l, ARRAY(SELECT jsonb_array_elements_text(u.d)), u.r
     FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::uuid[], $5::float8[], $6::float8[], $7::jsonb[], $8::jsonb[]) AS u(p, s, series, c, e, l, d, r)`,
    [findings.map((f) => f.pointId), findings.map((f) => new Date(f.start)), findings.map((f) => f.series), findings.map((f) => f.communityId),
      findings.map((f) => f.energyWh), findings.map((f) => f.limitWh), findings.map((f) => JSON.stringify(f.deviceIds)), findings.map((f) => JSON.stringify(f.readings))],
  );
  return findings.filter((f) => !known.has(`${f.pointId}|${f.start}`));
}

/** One stored quarter hour of a metering point (Wh; null where that register is not measured). */
export interface StoredInterval {
  meteringPointId: string;
  startMs: number;
  importWh: number | null;
  exportWh: number | null;
  pvWh: number | null;
  batteryChargeWh: number | null;
  batteryDischargeWh: number | null;
  /** The site's heat pumps' electric energy: recorded only, already in import (behind the billing meter). */
  heatPumpWh: number | null;
  quality: Quality;
}

interface IntervalRow {
  metering_point_id: string;
  start: Date;
  import_wh: number | null;
  export_wh: number | null;
  pv_wh: number | null;
  battery_charge_wh: number | null;
  battery_discharge_wh: number | null;
  heat_pump_wh: number | null;
  quality: Quality;
}

const INTERVAL_COLUMNS = 'metering_point_id, start, import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh, heat_pump_wh, quality';

const toInterval = (r: IntervalRow): StoredInterval => ({
  meteringPointId: r.metering_point_id, startMs: r.start.getTime(), importWh: r.import_wh, exportWh: r.export_wh,
  pvWh: r.pv_wh, batteryChargeWh: r.battery_charge_wh, batteryDischargeWh: r.battery_discharge_wh, heatPumpWh: r.heat_pump_wh, quality: r.quality,
});

/** The stored quarter hours of a metering point in [fromMs, toMs). */
export async function pointIntervals(db: Queryable, pointId: string, fromMs: number, toMs: number): Promise<StoredInterval[]> {
  const rows = await db.query<IntervalRow>(
    `SELECT ${INTERVAL_COLUMNS} FROM intervals WHERE metering_point_id = $1 AND start >= $2 AND start < $3`,
    [pointId, new Date(fromMs), new Date(toMs)],
  );
  return rows.map(toInterval);
}

/** A metering point whose computation is set aside after failing. */
export interface StoredFailure {
  meteringPointId: string;
  error: string;
  attempts: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
  retryAt: Date;
}

/** The community's points set aside, oldest failure first. */
export async function failuresOf(db: Queryable, communityId: string): Promise<StoredFailure[]> {
  const rows = await db.query<{ metering_point_id: string; error: string; attempts: number; first_failed_at: Date; last_failed_at: Date; retry_at: Date }>(
    `SELECT metering_point_id, error, attempts, first_failed_at, last_failed_at, retry_at
     FROM interval_failures WHERE community_id = $1 ORDER BY first_failed_at, metering_point_id`,
    [communityId],
  );
  return rows.map((r) => ({
    meteringPointId: r.metering_point_id, error: r.error, attempts: r.attempts,
    firstFailedAt: r.first_failed_at, lastFailedAt: r.last_failed_at, retryAt: r.retry_at,
  }));
}

/** A quarantined quarter hour as stored. */
export interface StoredQuarantine {
  meteringPointId: string;
  start: Date;
  series: Series;
  energyWh: number;
  limitWh: number;
  deviceIds: string[];
  readings: { deviceId: string; quantity: string; ts: string; value: number }[];
  detectedAt: Date;
}

/** The community's newest quarantined quarter hours (at most `limit`), and how many there are in all. */
export async function quarantineOf(db: Queryable, communityId: string, limit: number): Promise<{ newest: StoredQuarantine[]; total: number }> {
  const rows = await db.query<{
    metering_point_id: string; start: Date; series: Series; energy_wh: number; limit_wh: number;
    device_ids: string[]; readings: StoredQuarantine['readings']; detected_at: Date; total: number;
  }>(
    `SELECT metering_point_id, start, series, energy_wh, limit_wh, device_ids, readings, detected_at, count(*) OVER ()::int AS total
     FROM interval_quarantine WHERE community_id = $1 ORDER BY start DESC, metering_point_id, series LIMIT $2`,
    [communityId, limit],
  );
  return {
    newest: rows.map((r) => ({
      meteringPointId: r.metering_point_id, start: r.start, series: r.series, energyWh: r.energy_wh, limitWh: r.limit_wh,
      deviceIds: r.device_ids, readings: r.readings, detectedAt: r.detected_at,
    })),
    total: rows[0]?.total ?? 0,
  };
}

/** Quarter hours quarantined as implausible, over all communities (for /metrics). */
export async function countQuarantined(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM interval_quarantine');
  return rows[0]?.n ?? 0;
}

/** Metering points set aside right now, over all communities (for /metrics). */
export async function countFailingPoints(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM interval_failures');
  return rows[0]?.n ?? 0;
}

/**
 * Marks the quarter hours that new readings fell in, in the transaction that stored them
 * (`readings.committed`). Rows go in key order, so concurrent commits take their row locks in
 * the same order; a mark already there gets a new version, so a pass that read the old one
 * leaves it for the next.
 */
export async function markQuarters(tx: Queryable, quarters: readonly QuarterMark[]): Promise<void> {
  if (quarters.length === 0) return;
  await tx.query(
    `INSERT INTO interval_dirty (community_id, metering_point_id, start)
     SELECT DISTINCT c, p, s FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS u(c, p, s) ORDER BY 2, 3, 1
     ${MARK_AGAIN}`,
    [quarters.map((q) => q.communityId), quarters.map((q) => q.meteringPointId), quarters.map((q) => new Date(q.startMs))],
  );
}

/**
 * The intervals of `pointIds` at `startsMs`, one entry per point with intervals there, column-wise:
 * `positions[k]` is the index in `startsMs` of the k-th quarter hour, the other columns its values.
 * One row per point comes back instead of one per point and quarter hour, with no timestamp or id
 * to parse per value: what the sharing job reads a chunk with.
 */
export interface IntervalSeries {
  meteringPointId: string;
  positions: number[];
  importWh: (number | null)[];
  exportWh: (number | null)[];
  pvWh: (number | null)[];
  batteryChargeWh: (number | null)[];
  batteryDischargeWh: (number | null)[];
  quality: Quality[];
}

const QUALITIES: readonly Quality[] = ['measured', 'estimated', 'missing'];

export async function intervalSeriesAt(db: Queryable, pointIds: readonly string[], startsMs: readonly number[]): Promise<IntervalSeries[]> {
  if (pointIds.length === 0 || startsMs.length === 0) return [];
  // Each column travels as one text (an empty item for NULL), read without a string per value.
  const list = (column: string) => `array_to_string(array_agg(${column}), ',', '')`;
  const rows = await db.query<{ id: string; t: string; i: string; e: string; pv: string; bc: string; bd: string; q: string }>(
    `SELECT i.metering_point_id AS id, ${list('u.t - 1')} AS t, ${list('i.import_wh')} AS i, ${list('i.export_wh')} AS e,
       ${list('i.pv_wh')} AS pv, ${list('i.battery_charge_wh')} AS bc, ${list('i.battery_discharge_wh')} AS bd,
       ${list('array_position($3::text[], i.quality) - 1')} AS q
     FROM intervals i JOIN unnest($2::timestamptz[]) WITH ORDINALITY AS u(start, t) ON u.start = i.start
     WHERE i.metering_point_id = ANY($1::uuid[]) AND i.start = ANY($2::timestamptz[])
     GROUP BY i.metering_point_id`,
    [pointIds, startsMs.map((ms) => new Date(ms)), QUALITIES],
  );
  return rows.map((r) => ({
    meteringPointId: r.id, positions: numbersFromText(r.t) as number[], importWh: numbersFromText(r.i), exportWh: numbersFromText(r.e),
    pvWh: numbersFromText(r.pv), batteryChargeWh: numbersFromText(r.bc), batteryDischargeWh: numbersFromText(r.bd),
    quality: numbersFromText(r.q).map((q) => QUALITIES[q!]!),
  }));
}

/**
 * Every interval of the community's metering points in [fromMs, toMs), or of those of `pointIds`
 * only (a large community read a part at a time, so weeks of it are never in memory at once).
 */
export async function communityIntervals(db: Queryable, communityId: string, fromMs: number, toMs: number, pointIds?: readonly string[]): Promise<StoredInterval[]> {
  const rows = await db.query<IntervalRow>(
    `SELECT ${INTERVAL_COLUMNS} FROM intervals WHERE community_id = $1 AND start >= $2 AND start < $3${pointIds ? ' AND metering_point_id = ANY($4::uuid[])' : ''}`,
    [communityId, new Date(fromMs), new Date(toMs), ...(pointIds ? [pointIds] : [])],
  );
  return rows.map(toInterval);
}

/** Each point's first quarter hour with an interval (one probe of the primary key per point); absent: none yet. */
export async function firstIntervalStarts(db: Queryable, pointIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await db.query<{ id: string; data_from: Date | null }>(
    `SELECT p.id, (SELECT i.start FROM intervals i WHERE i.metering_point_id = p.id ORDER BY i.start LIMIT 1) AS data_from
     FROM unnest($1::uuid[]) AS p(id)`,
    [pointIds],
  );
  return new Map(rows.flatMap((r) => (r.data_from === null ? [] : [[r.id, r.data_from.getTime()] as const])));
}

/** Which of the quarter hours `startsMs` have an interval of some metering point of the community. */
export async function startsWithIntervals(db: Queryable, communityId: string, startsMs: readonly number[]): Promise<number[]> {
  const rows = await db.query<{ start: Date }>(
    'SELECT DISTINCT start FROM intervals WHERE community_id = $1 AND start = ANY($2::timestamptz[])',
    [communityId, startsMs.map((ms) => new Date(ms))],
  );
  return rows.map((r) => r.start.getTime());
}

/** The quarter hours in [fromMs, toMs) for which a community has intervals. */
export async function intervalStartsBetween(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<number[]> {
  const rows = await db.query<{ start: Date }>(
    'SELECT DISTINCT start FROM intervals WHERE community_id = $1 AND start >= $2 AND ($3::timestamptz IS NULL OR start < $3) ORDER BY start',
    [communityId, new Date(fromMs), Number.isFinite(toMs) ? new Date(toMs) : null],
  );
  return rows.map((r) => r.start.getTime());
}

/** Per point, how many quarter hours of its window [fromMs, toMs) have energy (measured or estimated: not missing). */
export async function knownQuarterHours(db: Queryable, windows: readonly { pointId: string; fromMs: number; toMs: number }[]): Promise<Map<string, number>> {
  if (windows.length === 0) return new Map();
  const rows = await db.query<{ id: string; known: string | number }>(
    `SELECT w.id, count(i.start)::int8 AS known
     FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS w(id, f, t)
     LEFT JOIN intervals i ON i.metering_point_id = w.id AND i.start >= w.f AND i.start < w.t AND i.quality <> 'missing'
     GROUP BY w.id`,
    [windows.map((w) => w.pointId), windows.map((w) => new Date(w.fromMs)), windows.map((w) => new Date(w.toMs))],
  );
  return new Map(rows.map((r) => [r.id, Number(r.known)]));
}
