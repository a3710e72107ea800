import type { Db, Queryable } from '../platform/store/db.js';
import { getRule } from './domain/allocation/index.js';
import type { BySource } from './domain/battery.js';
import { splitCommunity, type CoefficientPeriod, type OperatorQuarter, type PointSeries, type PoolAfter, type ShareVersion, type SplitPoint } from './domain/community-split.js';
import { dayOf, mergeDay, slotOf, type DayChanges, type EnergyDay } from './domain/member-days.js';
import { HOUR_MS, QUARTER_HOUR_MS } from '../kernel/time.js';
import { allocationSettings, communityMeteringPoints, sharingParticipants, type CommunityMeteringPoint, type SharingParticipant } from '../registry/index.js';
import { firstIntervalStarts, intervalSeriesAt, intervalStartsBetween, startsWithIntervals, type IntervalSeries } from '../intervals/index.js';
import { clearCommunityMarks, clearMarks, communityDay, dirtyCommunities, dirtyMarks, loadCoefficientPeriods, loadShareVersions, markQuarters, operatorAllocationsAt, poolsAt, writeEnergyDays, writePools, type DirtyMark } from './store.js';

/**
 * Quarter hours of one community split and written per transaction (a UTC day, whose rows are one
 * stored row per member): memory stays members × 96 whatever the period, and the marks of a chunk
 * clear only with its rows.
 */
export const QUARTERS_PER_CHUNK = 96;

/**
 * Metering-point quarter hours per transaction at most: a community of more than 2,000 points gets
 * chunks of less than a day (whole hours, at least one), so a chunk's memory is bounded by this and
 * not by the community. Up to that a chunk is a whole day, written as one row per member; a part
 * of a day is merged into the stored day first, which costs a read and a rewrite of the member's
 * whole row (half-day chunks for 1,000 points: three times the server's CPU, bench/RESULTS.md).
 */
const POINT_QUARTERS_PER_CHUNK = 192_000;

/** At most this many quarter hours of one community per pass (a month), so other communities get their turn. */
const QUARTERS_PER_PASS = 3_000;

/** Marks quarter hours of a community for recomputation, inside the caller's transaction. */
export async function markSharingDirty(tx: Queryable, communityId: string, startsMs: readonly number[]): Promise<void> {
  if (startsMs.length > 0) await markQuarters(tx, communityId, startsMs);
}

/** Marks every quarter hour of the community in [fromMs, toMs) that has intervals (a new key, a new mode). */
export async function markSharingDirtyFrom(tx: Queryable, communityId: string, fromMs: number, toMs = Number.POSITIVE_INFINITY): Promise<void> {
  await markSharingDirty(tx, communityId, await intervalStartsBetween(tx, communityId, fromMs, toMs));
}

interface CommunitySettings {
  rule: string;
  mode: 'compute' | 'operator';
}

/**
 * What the job reads of the operator mode's tables: quarter hours whose imported figures hold a
 * provisional substitute (EDA L3). The composition root passes the operator capability's answer,
 * since the operator mode writes through sharing and sharing must not import it back.
 */
export type ProvisionalFigures = (db: Queryable, communityId: string, startsMs: readonly number[]) => Promise<{ meteringPointId: string; startMs: number }[]>;

/** Hourly rules (Spain, Italy) settle whole hours: a dirty quarter hour recomputes its hour. */
function isHourly(rule: string): boolean {
  const probe = getRule(rule)?.create({ shares: { members: 0, vectorFor: () => undefined } });
  return probe?.granularity === 'hour';
}

const key = (pointId: string, ms: number) => `${pointId}|${ms}`;

/**
 * Each point's intervals as the split reads them: the series' own columns, found by position in the
 * chunk's quarter hours (no object per point and quarter hour, no composite string keys).
 */
function seriesByPoint(series: readonly IntervalSeries[], quarters: number): Map<string, PointSeries> {
  const byPoint = new Map<string, PointSeries>();
  for (const s of series) {
    const index = new Int32Array(quarters).fill(-1);
    for (let k = 0; k < s.positions.length; k++) index[s.positions[k]!] = k;
    byPoint.set(s.meteringPointId, {
      at: (t) => index[t]!,
      importWh: s.importWh, exportWh: s.exportWh, pvWh: s.pvWh, batteryChargeWh: s.batteryChargeWh, batteryDischargeWh: s.batteryDischargeWh, quality: s.quality,
    });
  }
  return byPoint;
}

/** What a pass reads of a community once, whatever the number of its chunks. */
interface PassContext {
  communityId: string;
  settings: CommunitySettings;
  hourly: boolean;
  /** Members whose part in the sharing overlaps the pass (the registry's stable order). */
  participants: SharingParticipant[];
  points: SplitPoint[];
  pointIds: string[];
  shareVersions: ShareVersion[];
  coefficientPeriods: CoefficientPeriod[];
}

/** Reads participants, points (with their first quarter hour of data) and keys for the quarter hours [firstMs, lastMs] of a pass. */
async function passContext(db: Db, communityId: string, settings: CommunitySettings, registered: readonly CommunityMeteringPoint[], firstMs: number, lastMs: number): Promise<PassContext> {
  const hourly = isHourly(settings.rule);
  // An hourly rule's chunk takes its marks' whole hours.
  const fromMs = hourly ? Math.floor(firstMs / HOUR_MS) * HOUR_MS : firstMs;
  const toMs = hourly ? Math.floor(lastMs / HOUR_MS) * HOUR_MS + HOUR_MS - QUARTER_HOUR_MS : lastMs;
  const pointIds = registered.map((p) => p.id);
  const dataFrom = await firstIntervalStarts(db, pointIds);
  return {
    communityId, settings, hourly, pointIds,
    participants: await sharingParticipants(db, communityId, fromMs, toMs),
    points: registered.map((p) => ({ id: p.id, memberId: p.memberId, communityBattery: p.communityBattery, dataFromMs: dataFrom.get(p.id) ?? null })),
    shareVersions: await loadShareVersions(db, communityId),
    coefficientPeriods: await loadCoefficientPeriods(db, communityId, fromMs, toMs + QUARTER_HOUR_MS),
  };
}

/**
 * Splits the marked quarter hours of one chunk (all in one UTC day) and stores the result: the
 * chunk's intervals read set-based, the split by the pure core, merged into the stored days,
 * and in one transaction the changed days written, the pools, and the marks cleared.
 */
async function shareChunk(db: Db, provisionalFigures: ProvisionalFigures, pass: PassContext, marks: readonly DirtyMark[], laterInPass: ReadonlySet<number>): Promise<void> {
  const { communityId, settings } = pass;
  const starts = new Set<number>();
  for (const mark of marks) {
    const ms = mark.startMs;
    if (!pass.hourly || settings.mode === 'operator') { starts.add(ms); continue; }
    const hour = Math.floor(ms / HOUR_MS) * HOUR_MS;
    for (let q = 0; q < 4; q++) starts.add(hour + q * QUARTER_HOUR_MS);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  const firstMs = sorted[0]!;
  const lastMs = sorted[sorted.length - 1]!;

  // The pass's participants whose period overlaps this chunk (as the registry would list them for it).
  const members = pass.participants.filter((m) => (m.activeFromMs === null || m.activeFromMs <= lastMs) && (m.leftAtMs === null || m.leftAtMs > firstMs));
  const periods = new Map(members.map((m) => [m.id, { fromMs: m.activeFromMs ?? -Infinity, untilMs: m.leftAtMs ?? Infinity }]));
  const takesPart = (memberId: string, ms: number) => {
    const period = periods.get(memberId);
    return period !== undefined && period.fromMs <= ms && ms < period.untilMs;
  };
  // Most members take part in the whole chunk: theirs need no check per quarter hour.
  const wholeChunk = new Set(members.filter((m) => takesPart(m.id, firstMs) && takesPart(m.id, lastMs)).map((m) => m.id));
  const takesPartAt = (memberId: string, ms: number) => wholeChunk.has(memberId) || takesPart(memberId, ms);

  // Everything the chunk reads comes first, so that its split (columns of members × quarter hours) is
  // made, merged and dropped in one synchronous step: none of it lives on while the write is awaited.
  const series = await intervalSeriesAt(db, pass.pointIds, sorted);
  const operator = settings.mode === 'operator' ? await operatorAllocationsAt(db, communityId, sorted) : new Map<string, OperatorQuarter>();
  if (settings.mode === 'operator') {
    // Provisional substitutes (EDA L3) keep the quarter hour provisional until final figures come.
    for (const row of await provisionalFigures(db, communityId, sorted)) {
      const k = key(row.meteringPointId, row.startMs);
      const figures = operator.get(k);
      if (figures) operator.set(k, { ...figures, provisional: true });
    }
  }
  const storedPools = await poolsAt(db, pass.pointIds, [...new Set([...sorted, ...sorted.map((ms) => ms - QUARTER_HOUR_MS)])]);
  const dayMs = dayOf(firstMs);
  const stored = { members: await communityDay(db, 'members', communityId, dayMs), batteries: await communityDay(db, 'batteries', communityId, dayMs) };
  const { changes, changedPools } = splitChunk(pass, sorted, members.map((m) => m.id), takesPartAt, series, operator, storedPools, stored);

  await db.transaction(async (tx) => {
    for (const kind of ['members', 'batteries'] as const) {
      const removed = [...stored[kind].keys()].some((id) => !changes[kind].present.includes(id));
      if (changes[kind].write.length > 0 || removed) await writeEnergyDays(tx, kind, communityId, dayMs, changes[kind]);
    }
    await writePools(tx, communityId, changedPools);
    // A battery's changed pool changes every later quarter hour of it: carry the change forward
    // (a quarter hour still marked for a later chunk of this pass is split after this commit anyway).
    const next = changedPools.map((p) => p.startMs + QUARTER_HOUR_MS).filter((ms) => !starts.has(ms) && !laterInPass.has(ms));
    if (next.length > 0) await markSharingDirty(tx, communityId, await startsWithIntervals(tx, communityId, next));
    await clearMarks(tx, communityId, marks);
  });
}

/** A chunk's stored days, or the changes to them, of the members and of the community batteries. */
interface ByKind<T> { members: T; batteries: T }

/**
 * Pure part of a chunk: its intervals by point, the split, and the split merged into the stored
 * day (`stored`); returns the days and pools to write.
 */
function splitChunk(
  pass: PassContext, sorted: readonly number[], memberIds: readonly string[], takesPartAt: (memberId: string, ms: number) => boolean,
  series: readonly IntervalSeries[], operator: ReadonlyMap<string, OperatorQuarter>, storedPools: ReadonlyMap<string, BySource>,
  stored: ByKind<ReadonlyMap<string, EnergyDay>>,
): { changes: ByKind<DayChanges>; changedPools: PoolAfter[] } {
  const intervals = seriesByPoint(series, sorted.length);
  const output = splitCommunity({
    rule: pass.settings.rule,
    mode: pass.settings.mode,
    starts: sorted,
    memberIds,
    points: pass.points,
    shareVersions: pass.shareVersions,
    coefficientPeriods: pass.coefficientPeriods,
    series: (pointId) => intervals.get(pointId),
    operator: (pointId, ms) => operator.get(key(pointId, ms)),
    poolAfter: (pointId, ms) => storedPools.get(key(pointId, ms)),
    takesPart: takesPartAt,
  });
  const slots = sorted.map(slotOf);
  return {
    changes: { members: mergeDay(stored.members, slots, output.members), batteries: mergeDay(stored.batteries, slots, output.batteries) },
    changedPools: output.pools.filter((p) => !samePool(storedPools.get(key(p.pointId, p.startMs)), p.pool)),
  };
}

/** A pass's marks in chunks: a chunk never crosses UTC midnight (its rows are one stored day) and holds at most `size` marks. */
export function chunksOfMarks(marks: readonly DirtyMark[], size: number): DirtyMark[][] {
  const chunks: DirtyMark[][] = [];
  let current: DirtyMark[] = [];
  for (const mark of marks) {
    if (current.length > 0 && (current.length >= size || dayOf(mark.startMs) !== dayOf(current[0]!.startMs))) {
      chunks.push(current);
      current = [];
    }
    current.push(mark);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const samePool = (a: BySource | undefined, b: BySource) => !!a && a.ownPv === b.ownPv && a.community === b.community && a.grid === b.grid;

/**
 * Works off the quarter hours marked for sharing, oldest community first, a bounded number of
 * quarter hours per community and pass, a chunk (a day) per transaction: the marks of a chunk
 * clear in the transaction that writes its rows, so a process that dies mid-pass leaves every
 * chunk either written and cleared or untouched and marked. Returns the number of quarter hours done.
 */
export async function processSharingDirty(
  db: Db,
  provisionalFigures: ProvisionalFigures,
  maxCommunities = 20,
  /** Takes communities under the job runner's lease; returns those this pass may do. */
  lease?: (communityIds: readonly string[]) => Promise<string[]>,
  quartersPerChunk = QUARTERS_PER_CHUNK,
): Promise<number> {
  const waiting = await dirtyCommunities(db, maxCommunities);
  // Communities another process is working on are left to it.
  const held = lease ? new Set(await lease(waiting)) : undefined;
  const communities = waiting.filter((communityId) => !held || held.has(communityId));
  const settings = await allocationSettings(db, communities);
  let done = 0;
  for (const communityId of communities) {
    const community = settings.get(communityId);
    if (community === undefined) {
      await clearCommunityMarks(db, communityId);
      continue;
    }
    const registered = await communityMeteringPoints(db, communityId);
    const chunk = Math.min(quartersPerChunk, Math.max(4, Math.floor(POINT_QUARTERS_PER_CHUNK / Math.max(1, registered.length) / 4) * 4));
    // Marks, participants, points and keys are read once per pass; the chunks go in time order.
    const marks = await dirtyMarks(db, communityId, QUARTERS_PER_PASS);
    if (marks.length === 0) continue;
    const pass = await passContext(db, communityId, community, registered, marks[0]!.startMs, marks[marks.length - 1]!.startMs);
    const laterInPass = new Set(marks.map((m) => m.startMs));
    for (const chunkMarks of chunksOfMarks(marks, chunk)) {
      for (const mark of chunkMarks) laterInPass.delete(mark.startMs);
      await shareChunk(db, provisionalFigures, pass, chunkMarks, laterInPass);
      done += chunkMarks.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return done;
}
