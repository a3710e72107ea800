import type { Db, Queryable } from '../platform/store/db.js';
import type { QuarterMark } from '../kernel/events.js';
import { EventBus, type EventPublisher } from '../platform/events/index.js';
import { connectionCapacityW, type MeteringPointRole } from '../registry/index.js';
import { type DeviceRole, type Quality } from '../kernel/energy.js';
import { ceilToInterval, floorToInterval } from './domain/energy.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import {
  computeSiteIntervals, quantitiesByDevice, seriesSources, SERIES_QUANTITIES,
  type Finding, type Row, type SeriesSources,
} from './domain/site-energy.js';

const REACH_MS = 24 * 3_600_000;
/** Metering points one pass of the interval job takes. */
const MAX_POINTS = 200;
const REGISTERS = new Set(Object.values(SERIES_QUANTITIES).map((s) => s.register));

/** A metering point's range to recompute, and which of its devices' quantities matter. */
interface Span {
  readonly pointId: string;
  readonly from: number;
  readonly to: number;
  readonly quantities: ReadonlyMap<string, readonly string[]>;
}

/** Device, quantity and range triples flattened for unnest(). */
function triples(spans: readonly Span[], pick: (span: Span, device: string, quantities: readonly string[]) => readonly string[]) {
  const out = { points: [] as string[], devices: [] as string[], quantities: [] as string[], froms: [] as Date[], tos: [] as Date[] };
  for (const span of spans) {
    for (const [device, quantities] of span.quantities) {
      for (const quantity of pick(span, device, quantities)) {
        out.points.push(span.pointId);
        out.devices.push(device);
        out.quantities.push(quantity);
        out.froms.push(new Date(span.from));
        out.tos.push(new Date(span.to));
      }
    }
  }
  return out;
}

/**
 * Readings of each span's metering point that matter for the intervals in [from, to], per device
 * and quantity, and per device and quantity the nearest one on each side (within a day) for
 * interpolation at the edges.
 *
 * Of a register only the readings that can bracket a quarter-hour boundary are read: the first
 * and last of each quarter hour per device (the database walks the rest, Gridshare does not parse
 * it). Interpolation and gaps give exactly what all readings give. A point with a recorded meter
 * exchange in reach, and power samples (integrated, so every one counts), are read in full; a
 * device's power only for the kinds it has no register of.
 */
async function loadSamples(db: Queryable, spans: readonly Span[], full: ReadonlySet<string>): Promise<Map<string, Row[]>> {
  const byPoint = new Map<string, Row[]>(spans.map((s) => [s.pointId, []]));
  const read = async (set: ReturnType<typeof triples>, edgesOnly: boolean) => {
    if (set.points.length === 0) return;
    const inside = `SELECT quantity, device_id, ts, value FROM readings
           WHERE device_id = u.d AND quantity = u.q AND ts >= u.f AND ts <= u.t AND metering_point_id = u.p`;
    const rows = await db.query<Row & { point: string }>(
      `SELECT u.p AS point, r.quantity, r.device_id, r.ts, r.value
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS u(p, d, q, f, t) CROSS JOIN LATERAL (
         ${edgesOnly ? `SELECT quantity, device_id, ts, value FROM (
           SELECT i.*, date_bin('15 minutes', i.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS slot,
             lag(date_bin('15 minutes', i.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')) OVER w AS slot_before,
             lead(date_bin('15 minutes', i.ts, TIMESTAMPTZ '2000-01-01 00:00:00+00')) OVER w AS slot_after
           FROM (${inside}) i WINDOW w AS (ORDER BY i.ts)) e
           WHERE slot_before IS DISTINCT FROM slot OR slot_after IS DISTINCT FROM slot` : inside}
         UNION ALL
         (SELECT quantity, device_id, ts, value FROM readings
          WHERE device_id = u.d AND quantity = u.q AND ts < u.f AND ts >= u.f - interval '24 hours' AND metering_point_id = u.p
          ORDER BY ts DESC LIMIT 1)
         UNION ALL
         (SELECT quantity, device_id, ts, value FROM readings
          WHERE device_id = u.d AND quantity = u.q AND ts > u.t AND ts <= u.t + interval '24 hours' AND metering_point_id = u.p
          ORDER BY ts ASC LIMIT 1)) r`,
      [set.points, set.devices, set.quantities, set.froms, set.tos],
    );
    for (const { point, ...row } of rows) byPoint.get(point)!.push(row);
  };
  const registers = (_span: Span, _device: string, quantities: readonly string[]) => quantities.filter((q) => REGISTERS.has(q));
  await read(triples(spans.filter((s) => !full.has(s.pointId)), registers), true);
  await read(triples(spans.filter((s) => full.has(s.pointId)), registers), false);
  // Per device, the power series of every kind it has no register of.
  await read(triples(spans, (span, device, quantities) => {
    const rows = byPoint.get(span.pointId)!;
    return Object.values(SERIES_QUANTITIES)
      .filter((s) => quantities.includes(s.power) && !rows.some((r) => r.device_id === device && r.quantity === s.register))
      .map((s) => s.power);
  }), false);
  return byPoint;
}

/**
 * Meter exchanges around each span (only those can lie between the samples read) of the devices
 * that reported for its point there, per device. Starts from the few exchanges, not from the readings.
 */
async function loadExchanges(db: Queryable, spans: readonly Span[]): Promise<Map<string, Map<string, number[]>>> {
  const rows = await db.query<{ point: string; device_id: string; ts: Date }>(
    `SELECT DISTINCT u.p AS point, e.device_id, e.ts
     FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(p, f, t)
     JOIN meter_exchanges e ON e.ts >= u.f AND e.ts <= u.t
     WHERE EXISTS (SELECT 1 FROM readings r WHERE r.device_id = e.device_id AND r.metering_point_id = u.p AND r.ts >= u.f AND r.ts <= u.t)`,
    [spans.map((s) => s.pointId), spans.map((s) => new Date(s.from - REACH_MS)), spans.map((s) => new Date(s.to + REACH_MS))],
  );
  const byPoint = new Map<string, Map<string, number[]>>();
  for (const row of rows) {
    const devices = byPoint.get(row.point) ?? new Map<string, number[]>();
    devices.set(row.device_id, [...(devices.get(row.device_id) ?? []), row.ts.getTime()]);
    byPoint.set(row.point, devices);
  }
  return byPoint;
}

export type { IntervalRow } from './domain/site-energy.js';

interface DirtyPoint {
  readonly pointId: string;
  readonly communityId: string;
  /** The marks exactly as read: only these are cleared once the point is recomputed. */
  readonly starts: Date[];
  readonly versions: number[];
  /** The point failed before: a success clears that. */
  readonly failedBefore: boolean;
}

export interface ProcessDirtyOptions {
  /** Metering points one pass takes. */
  maxPoints?: number;
  /** Metering points read and written together. */
  chunkPoints?: number;
  /**
   * Where `intervals.changed` goes, published in the transaction that wrote a community's
   * intervals with the quarter hours whose values changed, so what derives from them (sharing)
   * is marked atomically. Without it nobody hears of the change (tests of this job alone).
   */
  events?: EventPublisher;
  /** Takes metering points under the job runner's lease; returns those this pass may do. */
  lease?: (pointIds: readonly string[]) => Promise<string[]>;
}

const UNHEARD = new EventBus();

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
  const { maxPoints = MAX_POINTS, chunkPoints = db.kind === 'pglite' ? 1 : 100, events = UNHEARD, lease } = options;
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
  // Points another process is working on are left to it.
  const held = lease ? new Set(await lease([...points.keys()])) : undefined;
  let written = 0;
  const all = [...points.values()].filter((point) => !held || held.has(point.pointId));
  for (let i = 0; i < all.length; i += chunkPoints) {
    const chunk = all.slice(i, i + chunkPoints);
    try {
      written += await recompute(db, events, chunk);
    } catch (error) {
      if (chunk.length === 1) await setAside(db, chunk[0]!, error as Error);
      else for (const point of chunk) written += await recompute(db, events, [point]).catch(async (alone: Error) => (await setAside(db, point, alone), 0));
    }
    // Let waiting ingestion commits go first: they acknowledge devices, this can wait.
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Points that no longer exist leave nothing to compute.
  await db.query('DELETE FROM interval_dirty d WHERE NOT EXISTS (SELECT 1 FROM metering_points mp WHERE mp.id = d.metering_point_id)');
  return { points: all.length, intervals: written, more: marks[0]?.more ?? false };
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

/** Per point: where its devices' data comes from, and its physical limit per quarter hour. */
interface Site {
  readonly sources: SeriesSources;
  readonly quantities: Map<string, string[]>;
  readonly limitWh: number;
}

async function loadSites(db: Queryable, pointIds: readonly string[]): Promise<Map<string, Site>> {
  const rows = await db.query<{ id: string; role: MeteringPointRole; pv_capacity_w: number | null; connection_capacity_w: number | null; devices: [string, DeviceRole][] }>(
    `SELECT mp.id, mp.role, mp.pv_capacity_w, mp.connection_capacity_w,
       COALESCE((SELECT json_agg(json_build_array(dr.device_id, dr.role)) FROM device_roles dr WHERE dr.metering_point_id = mp.id), '[]') AS devices
     FROM metering_points mp WHERE mp.id = ANY($1::uuid[])`,
    [pointIds],
  );
  return new Map(rows.map((row) => {
    const sources = seriesSources(new Map(row.devices));
    const capacity = connectionCapacityW({ role: row.role, pvCapacityW: row.pv_capacity_w, connectionCapacityW: row.connection_capacity_w });
    // W over a quarter hour, in Wh.
    return [row.id, { sources, quantities: quantitiesByDevice(sources), limitWh: capacity / 4 }];
  }));
}

async function recompute(db: Db, events: EventPublisher, dirty: readonly DirtyPoint[]): Promise<number> {
  const sites = await loadSites(db, dirty.map((p) => p.pointId));
  const firsts = dirty.map((p) => Math.min(...p.starts.map((s) => s.getTime())));
  const lasts = dirty.map((p) => Math.max(...p.starts.map((s) => s.getTime())) + QUARTER_HOUR_MS);
  const marked: Span[] = dirty.map((p, i) => ({ pointId: p.pointId, from: firsts[i]!, to: lasts[i]!, quantities: sites.get(p.pointId)?.quantities ?? new Map() }));
  // A new reading changes the interpolation back to the previous reading and on to the next one
  // of its series: the span reaches the furthest of those (within a day) over the site's devices.
  const probes = triples(marked, (_span, _device, quantities) => quantities);
  const around = await db.query<{ point: string; before: Date | null; after: Date | null }>(
    `SELECT u.p AS point, min(b.ts) AS before, max(a.ts) AS after
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[]) AS u(p, d, q, f, t)
     LEFT JOIN LATERAL (SELECT ts FROM readings WHERE device_id = u.d AND quantity = u.q AND ts < u.f AND ts >= u.f - interval '24 hours'
       AND metering_point_id = u.p ORDER BY ts DESC LIMIT 1) b ON true
     LEFT JOIN LATERAL (SELECT ts FROM readings WHERE device_id = u.d AND quantity = u.q AND ts > u.t AND ts <= u.t + interval '24 hours'
       AND metering_point_id = u.p ORDER BY ts ASC LIMIT 1) a ON true
     GROUP BY u.p`,
    [probes.points, probes.devices, probes.quantities, probes.froms, probes.tos],
  );
  const edges = new Map(around.map((r) => [r.point, r]));
  const spans: Span[] = marked.map((span) => {
    const edge = edges.get(span.pointId);
    return {
      ...span,
      from: floorToInterval(Math.min(span.from, edge?.before?.getTime() ?? span.from)),
      to: ceilToInterval(Math.max(span.to, edge?.after?.getTime() ?? span.to)),
    };
  });
  const exchanges = await loadExchanges(db, spans);
  const samples = await loadSamples(db, spans, new Set(exchanges.keys()));
  const out = { points: [] as string[], communities: [] as string[], starts: [] as Date[], importWh: [] as (number | null)[],
    exportWh: [] as (number | null)[], pvWh: [] as (number | null)[], batteryChargeWh: [] as (number | null)[],
    batteryDischargeWh: [] as (number | null)[], quality: [] as Quality[] };
  const findings: (Finding & { pointId: string; communityId: string })[] = [];
  dirty.forEach((point, i) => {
    const span = spans[i]!;
    const site = sites.get(point.pointId);
    if (!site) return;
    const computed = computeSiteIntervals({
      rows: samples.get(point.pointId)!, exchanges: exchanges.get(point.pointId) ?? new Map(), sources: site.sources, limitWh: site.limitWh,
    }, span.from, span.to);
    for (const finding of computed.findings) findings.push({ ...finding, pointId: point.pointId, communityId: point.communityId });
    for (const row of computed.rows) {
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
  await events.transaction(db, async (tx, publish) => {
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
      const byCommunity = new Map<string, number[]>();
      for (const row of changed) byCommunity.set(row.community_id, [...(byCommunity.get(row.community_id) ?? []), row.start.getTime()]);
      for (const [communityId, startsMs] of byCommunity) await publish('intervals.changed', { communityId, startsMs });
    }
    await writeFindings(tx, spans, findings);
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

/** The findings of the recomputed spans replace what was found there before. */
async function writeFindings(tx: Queryable, spans: readonly Span[], findings: readonly (Finding & { pointId: string; communityId: string })[]): Promise<void> {
  await tx.query(
    `DELETE FROM interval_quarantine q USING unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(p, f, t)
     WHERE q.metering_point_id = u.p AND q.start >= u.f AND q.start < u.t`,
    [spans.map((s) => s.pointId), spans.map((s) => new Date(s.from)), spans.map((s) => new Date(s.to))],
  );
  if (findings.length === 0) return;
  await tx.query(
    `INSERT INTO interval_quarantine (metering_point_id, start, series, community_id, energy_wh, limit_wh, device_ids, readings)
     SELECT u.p, u.s, u.series, u.c, u.e, u.l, ARRAY(SELECT jsonb_array_elements_text(u.d)), u.r
     FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::uuid[], $5::float8[], $6::float8[], $7::jsonb[], $8::jsonb[]) AS u(p, s, series, c, e, l, d, r)`,
    [findings.map((f) => f.pointId), findings.map((f) => new Date(f.start)), findings.map((f) => f.series), findings.map((f) => f.communityId),
      findings.map((f) => f.energyWh), findings.map((f) => f.limitWh), findings.map((f) => JSON.stringify(f.deviceIds)), findings.map((f) => JSON.stringify(f.readings))],
  );
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
    `INSERT INTO interval_dirty (metering_point_id, start)
     SELECT DISTINCT p, s FROM unnest($1::uuid[], $2::timestamptz[]) AS u(p, s) ORDER BY 1, 2
     ON CONFLICT (metering_point_id, start) DO UPDATE SET version = nextval('interval_dirty_version')`,
    [quarters.map((q) => q.meteringPointId), quarters.map((q) => new Date(q.startMs))],
  );
}

/**
 * After a metering point's limit changed (its connection capacity, role or PV capacity): its
 * quarantined quarter hours and those now beyond the limit are computed again.
 */
export async function recheckPlausibility(db: Queryable, pointId: string): Promise<void> {
  const [site] = [...(await loadSites(db, [pointId])).values()];
  if (!site) return;
  await db.query(
    `INSERT INTO interval_dirty (metering_point_id, start)
     SELECT $1, start FROM interval_quarantine WHERE metering_point_id = $1
     UNION SELECT $1, start FROM intervals WHERE metering_point_id = $1
       AND greatest(import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh) > $2
     ON CONFLICT (metering_point_id, start) DO UPDATE SET version = nextval('interval_dirty_version')`,
    [pointId, site.limitWh],
  );
}

/**
 * After a device's role at a metering point changed: the quarter hours it has readings in there
 * are computed again with the new role (from its first reading there to its last).
 */
export async function recheckDeviceReadings(db: Queryable, deviceId: string, pointId: string): Promise<void> {
  await db.query(
    `INSERT INTO interval_dirty (metering_point_id, start)
     SELECT $2, s FROM (SELECT min(ts) AS first, max(ts) AS last FROM readings WHERE device_id = $1 AND metering_point_id = $2) r,
       generate_series(date_bin('15 minutes', r.first, TIMESTAMPTZ '2000-01-01 00:00:00+00'), r.last, interval '15 minutes') AS s
     ON CONFLICT (metering_point_id, start) DO UPDATE SET version = nextval('interval_dirty_version')`,
    [deviceId, pointId],
  );
}
