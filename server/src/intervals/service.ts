import type { Db, Queryable } from '../store/db.js';
import { BackgroundJob } from '../background-job.js';
import {
  ceilToInterval, energyFromPower, energyFromRegister, floorToInterval, INTERVAL_MS, worst,
  type IntervalEnergy, type Quality, type Sample,
} from './energy.js';

const REACH_MS = 24 * 3_600_000;
/** Metering points one pass of the interval job takes. */
const MAX_POINTS = 200;
const SERIES = {
  import: { register: 'energy.import', power: 'power.import' },
  export: { register: 'energy.export', power: 'power.export' },
  pv: { register: 'pv.energy', power: 'pv.power' },
  batteryCharge: { register: 'battery.energy.charge', power: 'battery.power.charge' },
  batteryDischarge: { register: 'battery.energy.discharge', power: 'battery.power.discharge' },
} as const;
const INTERVAL_QUANTITIES = Object.values(SERIES).flatMap((s) => [s.register, s.power]);

interface Row {
  quantity: string;
  device_id: string;
  ts: Date;
  value: number;
}

/** A metering point's range to recompute. */
interface Span {
  readonly pointId: string;
  readonly from: number;
  readonly to: number;
}

/**
 * Readings of each span's metering point that matter for the intervals in [from, to], and per
 * quantity the nearest one on each side (within a day) for interpolation at the edges.
 *
 * Of a register only the readings that can bracket a quarter-hour boundary or a change of
 * device are read: the first and last of each quarter hour and the two around a device change
 * (the database walks the rest, Gridshare does not parse it). Interpolation, gaps and device
 * changes give exactly what all readings give. A point with a recorded meter exchange in reach,
 * and power samples (integrated, so every one counts), are read in full; power only for the
 * kinds a point has no register of.
 */
async function loadSamples(db: Queryable, spans: readonly Span[], full: ReadonlySet<string>): Promise<Map<string, Row[]>> {
  const byPoint = new Map<string, Row[]>(spans.map((s) => [s.pointId, []]));
  const read = async (quantities: readonly string[], only: readonly Span[], edgesOnly: boolean) => {
    if (only.length === 0) return;
    const inside = `SELECT quantity, device_id, ts, value FROM readings
           WHERE metering_point_id = u.p AND quantity = ANY($4::text[]) AND ts >= u.f AND ts <= u.t`;
    const rows = await db.query<Row & { point: string }>(
      `SELECT u.p AS point, r.quantity, r.device_id, r.ts, r.value
       FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(p, f, t) CROSS JOIN LATERAL (
         ${edgesOnly ? `SELECT quantity, device_id, ts, value FROM (
           SELECT i.*, date_bin('15 minutes', i.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS slot,
             lag(date_bin('15 minutes', i.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')) OVER w AS slot_before,
             lead(date_bin('15 minutes', i.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')) OVER w AS slot_after,
             lag(i.device_id) OVER w AS device_before, lead(i.device_id) OVER w AS device_after
           FROM (${inside}) i WINDOW w AS (PARTITION BY i.quantity ORDER BY i.ts)) e
           WHERE slot_before IS DISTINCT FROM slot OR slot_after IS DISTINCT FROM slot
             OR device_before IS DISTINCT FROM device_id OR device_after IS DISTINCT FROM device_id` : inside}
         UNION ALL
         SELECT q.quantity, b.device_id, b.ts, b.value FROM unnest($4::text[]) AS q(quantity) CROSS JOIN LATERAL (
           SELECT device_id, ts, value FROM readings
           WHERE metering_point_id = u.p AND quantity = q.quantity AND ts < u.f AND ts >= u.f - interval '24 hours'
           ORDER BY ts DESC LIMIT 1) b
         UNION ALL
         SELECT q.quantity, a.device_id, a.ts, a.value FROM unnest($4::text[]) AS q(quantity) CROSS JOIN LATERAL (
           SELECT device_id, ts, value FROM readings
           WHERE metering_point_id = u.p AND quantity = q.quantity AND ts > u.t AND ts <= u.t + interval '24 hours'
           ORDER BY ts ASC LIMIT 1) a) r`,
      [only.map((s) => s.pointId), only.map((s) => new Date(s.from)), only.map((s) => new Date(s.to)), quantities],
    );
    for (const { point, ...row } of rows) byPoint.get(point)!.push(row);
  };
  const registers = Object.values(SERIES).map((s) => s.register);
  await read(registers, spans.filter((s) => !full.has(s.pointId)), true);
  await read(registers, spans.filter((s) => full.has(s.pointId)), false);
  // Per point, the power series of every kind without a register.
  const powerFor = new Map<string, string[]>();
  for (const span of spans) {
    const rows = byPoint.get(span.pointId)!;
    const wanted = Object.values(SERIES).filter((s) => !rows.some((r) => r.quantity === s.register)).map((s) => s.power);
    if (wanted.length > 0) powerFor.set(span.pointId, wanted);
  }
  for (const quantities of new Set([...powerFor.values()].map((q) => q.join(',')))) {
    await read(quantities.split(','), spans.filter((s) => powerFor.get(s.pointId)?.join(',') === quantities), false);
  }
  return byPoint;
}

/**
 * Meter exchanges around each span (only those can lie between the samples read) of the devices
 * that reported for its point there. Starts from the few exchanges, not from the readings.
 */
async function loadExchanges(db: Queryable, spans: readonly Span[]): Promise<Map<string, number[]>> {
  const rows = await db.query<{ point: string; ts: Date }>(
    `SELECT DISTINCT u.p AS point, e.ts
     FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(p, f, t)
     JOIN meter_exchanges e ON e.ts >= u.f AND e.ts <= u.t
     WHERE EXISTS (SELECT 1 FROM readings r WHERE r.device_id = e.device_id AND r.metering_point_id = u.p AND r.ts >= u.f AND r.ts <= u.t)`,
    [spans.map((s) => s.pointId), spans.map((s) => new Date(s.from - REACH_MS)), spans.map((s) => new Date(s.to + REACH_MS))],
  );
  const byPoint = new Map<string, number[]>();
  for (const row of rows) byPoint.set(row.point, [...(byPoint.get(row.point) ?? []), row.ts.getTime()]);
  return byPoint;
}

/** A register series per metering point; a change of device (a replaced reader) counts as a meter exchange. */
function series(rows: readonly Row[], quantity: string, exchanges: readonly number[]): { samples: Sample[]; exchanges: number[] } {
  const own = rows.filter((r) => r.quantity === quantity).sort((a, b) => a.ts.getTime() - b.ts.getTime());
  const breaks = [...exchanges];
  for (let i = 1; i < own.length; i++) if (own[i]!.device_id !== own[i - 1]!.device_id) breaks.push(own[i]!.ts.getTime());
  return { samples: own.map((r) => ({ ts: r.ts.getTime(), value: r.value })), exchanges: breaks };
}

function energyOf(rows: readonly Row[], kind: keyof typeof SERIES, from: number, to: number, exchanges: number[]): IntervalEnergy[] | undefined {
  const register = series(rows, SERIES[kind].register, exchanges);
  if (register.samples.length > 0) return energyFromRegister(register.samples, from, to, { exchanges: register.exchanges });
  const power = series(rows, SERIES[kind].power, []);
  if (power.samples.length > 0) return energyFromPower(power.samples, from, to);
  return undefined;
}

export interface IntervalRow {
  start: number;
  importWh: number | null;
  exportWh: number | null;
  pvWh: number | null;
  batteryChargeWh: number | null;
  batteryDischargeWh: number | null;
  quality: Quality;
}

/** The intervals of one metering point in [from, to) from its readings (pure). */
function computeIntervals(rows: readonly Row[], exchanges: number[], from: number, to: number): IntervalRow[] {
  if (rows.length === 0) return [];
  // Intervals after the newest reading are not known yet: they are not written at all.
  const newest = Math.max(...rows.map((r) => r.ts.getTime()));
  const end = Math.min(to, ceilToInterval(newest));
  if (end <= from) return [];
  const imports = energyOf(rows, 'import', from, end, exchanges);
  const exports = energyOf(rows, 'export', from, end, exchanges);
  const pv = energyOf(rows, 'pv', from, end, exchanges);
  const charge = energyOf(rows, 'batteryCharge', from, end, exchanges);
  const discharge = energyOf(rows, 'batteryDischarge', from, end, exchanges);
  if (!imports && !exports && !pv && !charge && !discharge) return [];
  const computed: IntervalRow[] = [];
  for (let i = 0, t = from; t < end; i++, t += INTERVAL_MS) {
    const im = imports?.[i];
    const ex = exports?.[i];
    computed.push({
      start: t,
      importWh: im?.wh ?? null,
      exportWh: ex?.wh ?? null,
      pvWh: pv?.[i]?.wh ?? null,
      batteryChargeWh: charge?.[i]?.wh ?? null,
      batteryDischargeWh: discharge?.[i]?.wh ?? null,
      quality: worst(...[im, ex].filter((x): x is IntervalEnergy => !!x).map((x) => x.quality)),
    });
  }
  return computed;
}

interface DirtyPoint {
  readonly pointId: string;
  readonly communityId: string;
  /** The marks exactly as read: only these are cleared once the point is recomputed. */
  readonly starts: Date[];
  readonly versions: number[];
  /** The point failed before: a success clears that. */
  readonly failedBefore: boolean;
}

/**
 * Called in the transaction that wrote a community's intervals, with the quarter hours whose
 * values changed, so what is derived from them (sharing) is marked atomically.
 */
export type IntervalsChanged = (tx: Queryable, communityId: string, startsMs: readonly number[]) => Promise<void>;

export interface ProcessDirtyOptions {
  /** Metering points one pass takes. */
  maxPoints?: number;
  /** Metering points read and written together. */
  chunkPoints?: number;
  onChanged?: IntervalsChanged;
}

/** After the n-th failure in a row a point waits 15 s × 2^(n−1), at most an hour, before it is tried again. */
const RETRY_FIRST_MS = 15_000;
const RETRY_MAX_MS = 3_600_000;

/**
 * Works off the quarter hours marked dirty by ingestion, oldest mark first (then by metering
 * point, so the order is defined). Each metering point's dirty range is widened to the readings
 * around it (a new reading changes the interpolation up to its neighbours) and recomputed; the
 * result is written and exactly the marks that were read — the same quarter hour with the same
 * version — are cleared in one short transaction. A mark written or bumped after the read (even
 * by a transaction that drew its version earlier and committed later) stays, so its readings are
 * computed in a later pass; a crash only means doing it again. Points go in chunks, each read
 * with a few queries outside any transaction: on the embedded store a transaction holds the only
 * connection, and ingestion's commits must not wait behind a recomputation.
 *
 * A chunk that fails is done again point by point, and a point that fails on its own is set
 * aside with its error (`interval_failures`) until its retry time, which doubles with every
 * failure in a row: one point's bad data never holds up another's quarter hours.
 */
export async function processDirty(db: Db, options: ProcessDirtyOptions = {}): Promise<{ points: number; intervals: number; more: boolean }> {
  const { maxPoints = MAX_POINTS, chunkPoints = db.kind === 'pglite' ? 1 : 100, onChanged } = options;
  // One point beyond the pass is picked only to tell whether more are waiting.
  const marks = await db.query<{ metering_point_id: string; community_id: string; start: Date; version: number; failed: boolean; more: boolean }>(
    `WITH picked AS (
       SELECT d.metering_point_id, row_number() OVER (ORDER BY min(d.start), d.metering_point_id) AS n
       FROM interval_dirty d
       WHERE NOT EXISTS (SELECT 1 FROM interval_failures f WHERE f.metering_point_id = d.metering_point_id AND f.retry_at > now())
       GROUP BY d.metering_point_id ORDER BY min(d.start), d.metering_point_id LIMIT $1 + 1)
     SELECT d.metering_point_id, mp.community_id, d.start, d.version, (SELECT count(*) FROM picked) > $1 AS more,
       EXISTS (SELECT 1 FROM interval_failures f WHERE f.metering_point_id = d.metering_point_id) AS failed
     FROM interval_dirty d JOIN picked USING (metering_point_id) JOIN metering_points mp ON mp.id = d.metering_point_id
     WHERE picked.n <= $1
     ORDER BY picked.n, d.start`,
    [maxPoints],
  );
  const points = new Map<string, DirtyPoint>();
  for (const mark of marks) {
    let point = points.get(mark.metering_point_id);
    if (!point) {
      point = { pointId: mark.metering_point_id, communityId: mark.community_id, starts: [], versions: [], failedBefore: mark.failed };
      points.set(point.pointId, point);
    }
    point.starts.push(mark.start);
    point.versions.push(mark.version);
  }
  let written = 0;
  const all = [...points.values()];
  for (let i = 0; i < all.length; i += chunkPoints) {
    const chunk = all.slice(i, i + chunkPoints);
    try {
      written += await recompute(db, chunk, onChanged);
    } catch (error) {
      if (chunk.length === 1) await setAside(db, chunk[0]!, error as Error);
      else for (const point of chunk) written += await recompute(db, [point], onChanged).catch(async (alone: Error) => (await setAside(db, point, alone), 0));
    }
    // Let waiting ingestion commits go first: they acknowledge devices, this can wait.
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Points that no longer exist leave nothing to compute.
  await db.query('DELETE FROM interval_dirty d WHERE NOT EXISTS (SELECT 1 FROM metering_points mp WHERE mp.id = d.metering_point_id)');
  return { points: points.size, intervals: written, more: marks[0]?.more ?? false };
}

/** Records that a point's computation failed and when to try it again; its marks stay. */
async function setAside(db: Db, point: DirtyPoint, error: Error): Promise<void> {
  const rows = await db.query<{ attempts: number }>(
    `INSERT INTO interval_failures (metering_point_id, community_id, error, attempts, retry_at)
     VALUES ($1, $2, $3, 1, now() + $4::float8 * interval '1 millisecond')
     ON CONFLICT (metering_point_id) DO UPDATE SET error = EXCLUDED.error, attempts = interval_failures.attempts + 1,
       last_failed_at = now(), retry_at = now() + least($4::float8 * 2 ^ interval_failures.attempts, $5::float8) * interval '1 millisecond'
     RETURNING attempts`,
    [point.pointId, point.communityId, error.message.slice(0, 2_000), RETRY_FIRST_MS, RETRY_MAX_MS],
  );
  process.stderr.write(`gridshare: intervals of metering point ${point.pointId} failed (${rows[0]?.attempts ?? 1} in a row), set aside: ${error.message}\n`);
}

async function recompute(db: Db, dirty: readonly DirtyPoint[], onChanged: IntervalsChanged | undefined): Promise<number> {
  const firsts = dirty.map((p) => Math.min(...p.starts.map((s) => s.getTime())));
  const lasts = dirty.map((p) => Math.max(...p.starts.map((s) => s.getTime())) + INTERVAL_MS);
  // The nearest reading of an interval quantity on each side, one index probe per quantity.
  const around = await db.query<{ point: string; before: Date | null; after: Date | null }>(
    `SELECT u.p AS point,
       (SELECT max(b.ts) FROM unnest($4::text[]) AS q(quantity) CROSS JOIN LATERAL (
          SELECT ts FROM readings WHERE metering_point_id = u.p AND quantity = q.quantity AND ts < u.f AND ts >= u.f - interval '24 hours'
          ORDER BY ts DESC LIMIT 1) b) AS before,
       (SELECT min(a.ts) FROM unnest($4::text[]) AS q(quantity) CROSS JOIN LATERAL (
          SELECT ts FROM readings WHERE metering_point_id = u.p AND quantity = q.quantity AND ts > u.t AND ts <= u.t + interval '24 hours'
          ORDER BY ts ASC LIMIT 1) a) AS after
     FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(p, f, t)`,
    [dirty.map((p) => p.pointId), firsts.map((t) => new Date(t)), lasts.map((t) => new Date(t)), INTERVAL_QUANTITIES],
  );
  const edges = new Map(around.map((r) => [r.point, r]));
  const spans: Span[] = dirty.map((p, i) => {
    const edge = edges.get(p.pointId);
    return {
      pointId: p.pointId,
      from: floorToInterval(Math.min(firsts[i]!, edge?.before?.getTime() ?? firsts[i]!)),
      to: ceilToInterval(Math.max(lasts[i]!, edge?.after?.getTime() ?? lasts[i]!)),
    };
  });
  const exchanges = await loadExchanges(db, spans);
  const samples = await loadSamples(db, spans, new Set(exchanges.keys()));
  const out = { points: [] as string[], communities: [] as string[], starts: [] as Date[], importWh: [] as (number | null)[],
    exportWh: [] as (number | null)[], pvWh: [] as (number | null)[], batteryChargeWh: [] as (number | null)[],
    batteryDischargeWh: [] as (number | null)[], quality: [] as Quality[] };
  dirty.forEach((point, i) => {
    const span = spans[i]!;
    for (const row of computeIntervals(samples.get(point.pointId)!, exchanges.get(point.pointId) ?? [], span.from, span.to)) {
      out.points.push(point.pointId);
      out.communities.push(point.communityId);
      out.starts.push(new Date(row.start));
      out.importWh.push(row.importWh);
      out.exportWh.push(row.exportWh);
      out.pvWh.push(row.pvWh);
      out.batteryChargeWh.push(row.batteryChargeWh);
      out.batteryDischargeWh.push(row.batteryDischargeWh);
      out.quality.push(row.quality);
    }
  });
  await db.transaction(async (tx) => {
    if (out.points.length > 0) {
      // Only rows whose values changed are written and returned: what derives from them is redone.
      const changed = await tx.query<{ community_id: string; start: Date }>(
        `INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh, quality, computed_at)
         SELECT p, s, c, i, e, v, bc, bd, q, now()
         FROM unnest($1::uuid[], $2::timestamptz[], $3::uuid[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::text[])
           AS u(p, s, c, i, e, v, bc, bd, q)
         ON CONFLICT (metering_point_id, start) DO UPDATE SET
           import_wh = EXCLUDED.import_wh, export_wh = EXCLUDED.export_wh, pv_wh = EXCLUDED.pv_wh,
           battery_charge_wh = EXCLUDED.battery_charge_wh, battery_discharge_wh = EXCLUDED.battery_discharge_wh,
           quality = EXCLUDED.quality, computed_at = now()
         WHERE (intervals.import_wh, intervals.export_wh, intervals.pv_wh, intervals.battery_charge_wh, intervals.battery_discharge_wh, intervals.quality)
           IS DISTINCT FROM (EXCLUDED.import_wh, EXCLUDED.export_wh, EXCLUDED.pv_wh, EXCLUDED.battery_charge_wh, EXCLUDED.battery_discharge_wh, EXCLUDED.quality)
         RETURNING community_id, start`,
        [out.points, out.starts, out.communities, out.importWh, out.exportWh, out.pvWh, out.batteryChargeWh, out.batteryDischargeWh, out.quality],
      );
      if (onChanged) {
        const byCommunity = new Map<string, number[]>();
        for (const row of changed) byCommunity.set(row.community_id, [...(byCommunity.get(row.community_id) ?? []), row.start.getTime()]);
        for (const [communityId, starts] of byCommunity) await onChanged(tx, communityId, starts);
      }
    }
    const recovered = dirty.filter((p) => p.failedBefore).map((p) => p.pointId);
    if (recovered.length > 0) await tx.query('DELETE FROM interval_failures WHERE metering_point_id = ANY($1::uuid[])', [recovered]);
    await tx.query(
      `DELETE FROM interval_dirty d USING unnest($1::uuid[], $2::timestamptz[], $3::int8[]) AS m(p, s, v)
       WHERE d.metering_point_id = m.p AND d.start = m.s AND d.version = m.v`,
      [dirty.flatMap((p) => p.starts.map(() => p.pointId)), dirty.flatMap((p) => p.starts), dirty.flatMap((p) => p.versions)],
    );
  });
  return out.points.length;
}

/**
 * Runs `processDirty` shortly after ingestion and on a timer, one pass per nudge, so under a
 * steady stream each dirty point is recomputed about once per delay rather than over and over;
 * a backlog (more points than a pass takes) and `flush` go on until it is done.
 */
export class IntervalScheduler extends BackgroundJob {
  constructor(db: Db, delayMs = 1_000, options: { onChanged?: IntervalsChanged; afterRun?: () => void } = {}) {
    super('interval computation', async () => {
      const { points, more } = await processDirty(db, { maxPoints: MAX_POINTS, ...(options.onChanged ? { onChanged: options.onChanged } : {}) });
      return { done: points, more };
    }, delayMs, options.afterRun);
  }
}
