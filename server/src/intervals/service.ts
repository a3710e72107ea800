import type { Db, Queryable } from '../platform/store/db.js';
import { EventBus, type EventPublisher } from '../platform/events/index.js';
import { connectionCapacityW, meteringPointSites, meteringPointSummaries } from '../registry/index.js';
import { meterExchangesAt, readingSpan, readingsAround, readingsForIntervals, type SeriesProbes } from '../ingest/index.js';
import { ceilToInterval, floorToInterval } from './domain/energy.js';
import { computeSiteIntervals, quantitiesByDevice, seriesSources, SERIES_QUANTITIES, type Row, type SeriesSources } from './domain/site-energy.js';
import { clearFailures, clearMarks, dropMarksOf, type DirtyMark, type IntervalColumns, markQuarantinedOrBeyond, markQuarterHoursBetween, pickDirtyMarks, type PointFinding, recordFailure, replaceFindings, writeIntervals } from './store.js';

import { QUARTER_HOUR_MS } from '../kernel/time.js';
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

/** Device, quantity and range triples flattened for one set-based read. */
function triples(spans: readonly Span[], pick: (span: Span, device: string, quantities: readonly string[]) => readonly string[]): SeriesProbes {
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
  const read = async (set: SeriesProbes, edgesOnly: boolean) => {
    if (set.points.length === 0) return;
    for (const { point, ...row } of await readingsForIntervals(db, set, edgesOnly)) byPoint.get(point)!.push(row);
  };
  const registers = (_span: Span, _device: string, quantities: readonly string[]) => quantities.filter((q) => REGISTERS.has(q));
  await read(triples(spans.filter((s) => !full.has(s.pointId)), registers), true);
  await read(triples(spans.filter((s) => full.has(s.pointId)), registers), false);
  // Per device, the power series of every kind it has no register of.
  await read(triples(spans, (span, device, quantities) => {
    const rows = byPoint.get(span.pointId)!;
    return [...new Set(Object.values(SERIES_QUANTITIES)
      .filter((s) => quantities.includes(s.power) && !rows.some((r) => r.device_id === device && r.quantity === s.register))
      .map((s) => s.power))];
  }), false);
  return byPoint;
}

/**
 * Meter exchanges around each span (only those can lie between the samples read) of the devices
 * that reported for its point there, per device. Starts from the few exchanges, not from the readings.
 */
async function loadExchanges(db: Queryable, spans: readonly Span[]): Promise<Map<string, Map<string, number[]>>> {
  const rows = await meterExchangesAt(db, {
    points: spans.map((s) => s.pointId), froms: spans.map((s) => new Date(s.from - REACH_MS)), tos: spans.map((s) => new Date(s.to + REACH_MS)),
  });
  const byPoint = new Map<string, Map<string, number[]>>();
  for (const row of rows) {
    const devices = byPoint.get(row.pointId) ?? new Map<string, number[]>();
    devices.set(row.deviceId, [...(devices.get(row.deviceId) ?? []), row.ts.getTime()]);
    byPoint.set(row.pointId, devices);
  }
  return byPoint;
}

export type { IntervalRow } from './domain/site-energy.js';

interface DirtyPoint {
  readonly pointId: string;
  readonly communityId: string;
  /** The marks exactly as read: only these are cleared once the point is recomputed. */
  readonly marks: DirtyMark[];
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
  const { marks, more } = await pickDirtyMarks(db, maxPoints);
  const existing = await meteringPointSummaries(db, [...new Set(marks.map((m) => m.pointId))]);
  const points = new Map<string, DirtyPoint>();
  for (const mark of marks) {
    const community = existing.get(mark.pointId)?.communityId;
    if (community === undefined) continue;
    let point = points.get(mark.pointId);
    if (!point) {
      point = { pointId: mark.pointId, communityId: community, marks: [], failedBefore: mark.failed };
      points.set(point.pointId, point);
    }
    point.marks.push(mark);
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
  const gone = [...new Set(marks.map((m) => m.pointId))].filter((id) => !existing.has(id));
  if (gone.length > 0) await dropMarksOf(db, gone);
  return { points: all.length, intervals: written, more };
}

/** Records that a point's computation failed and when to try it again; its marks stay. */
async function setAside(db: Db, point: DirtyPoint, error: Error): Promise<void> {
  const attempts = await recordFailure(db, { pointId: point.pointId, communityId: point.communityId, error: error.message.slice(0, 2_000) },
    { firstMs: RETRY_FIRST_MS, maxMs: RETRY_MAX_MS });
  process.stderr.write(`gridshare: intervals of metering point ${point.pointId} failed (${attempts} in a row), set aside: ${error.message}\n`);
}

/** Per point: where its devices' data comes from, and its physical limit per quarter hour. */
interface Site {
  readonly sources: SeriesSources;
  readonly quantities: Map<string, string[]>;
  readonly limitWh: number;
}

async function loadSites(db: Queryable, pointIds: readonly string[]): Promise<Map<string, Site>> {
  return new Map((await meteringPointSites(db, pointIds)).map((point) => {
    const heatPumps = new Set([...point.deviceKinds].filter(([, kind]) => kind === 'heat-pump').map(([id]) => id));
    const sources = seriesSources(point.deviceRoles, heatPumps);
    // W over a quarter hour, in Wh.
    return [point.id, { sources, quantities: quantitiesByDevice(sources), limitWh: connectionCapacityW(point) / 4 }];
  }));
}

async function recompute(db: Db, events: EventPublisher, dirty: readonly DirtyPoint[]): Promise<number> {
  const sites = await loadSites(db, dirty.map((p) => p.pointId));
  const firsts = dirty.map((p) => Math.min(...p.marks.map((m) => m.start.getTime())));
  const lasts = dirty.map((p) => Math.max(...p.marks.map((m) => m.start.getTime())) + QUARTER_HOUR_MS);
  const marked: Span[] = dirty.map((p, i) => ({ pointId: p.pointId, from: firsts[i]!, to: lasts[i]!, quantities: sites.get(p.pointId)?.quantities ?? new Map() }));
  // A new reading changes the interpolation back to the previous reading and on to the next one
  // of its series: the span reaches the furthest of those (within a day) over the site's devices.
  const probes = triples(marked, (_span, _device, quantities) => quantities);
  const around = await readingsAround(db, probes);
  const edges = new Map(around.map((r) => [r.pointId, r]));
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
  const out: IntervalColumns = { points: [], communities: [], starts: [], importWh: [], exportWh: [], pvWh: [], batteryChargeWh: [],
    batteryDischargeWh: [], heatPumpWh: [], quality: [] };
  const findings: PointFinding[] = [];
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
      out.heatPumpWh.push(row.heatPumpWh);
      out.quality.push(row.quality);
    }
  });
  await events.transaction(db, async (tx, publish) => {
    if (out.points.length > 0) {
      // Only rows whose values changed are written and returned: what derives from them is redone.
      const changed = await writeIntervals(tx, out);
      const byCommunity = new Map<string, number[]>();
      for (const row of changed) byCommunity.set(row.communityId, [...(byCommunity.get(row.communityId) ?? []), row.start.getTime()]);
      for (const [communityId, startsMs] of byCommunity) await publish('intervals.changed', { communityId, startsMs });
    }
    // Quarter hours quarantined now and not before: the community's managers are told (notifications).
    const quarantined = new Map<string, { communityId: string; startsMs: Set<number> }>();
    for (const f of await replaceFindings(tx, spans, findings)) {
      const point = quarantined.get(f.pointId) ?? { communityId: f.communityId, startsMs: new Set<number>() };
      point.startsMs.add(f.start);
      quarantined.set(f.pointId, point);
    }
    for (const [meteringPointId, { communityId, startsMs }] of quarantined) {
      await publish('intervals.quarantined', { communityId, meteringPointId, startsMs: [...startsMs].sort((a, b) => a - b) });
    }
    const recovered = dirty.filter((p) => p.failedBefore).map((p) => p.pointId);
    if (recovered.length > 0) await clearFailures(tx, recovered);
    await clearMarks(tx, dirty.flatMap((p) => p.marks));
  });
  return out.points.length;
}

/**
 * After a metering point's limit changed (its connection capacity, role or PV capacity): its
 * quarantined quarter hours and those now beyond the limit are computed again.
 */
export async function recheckPlausibility(db: Queryable, communityId: string, pointId: string): Promise<void> {
  const [site] = [...(await loadSites(db, [pointId])).values()];
  if (!site) return;
  await markQuarantinedOrBeyond(db, communityId, pointId, site.limitWh);
}

/**
 * After a device's role at a metering point changed: the quarter hours it has readings in there
 * are computed again with the new role (from its first reading there to its last).
 */
export async function recheckDeviceReadings(db: Queryable, communityId: string, deviceId: string, pointId: string): Promise<void> {
  const span = await readingSpan(db, deviceId, pointId);
  if (span) await markQuarterHoursBetween(db, communityId, pointId, span.first, span.last);
}

