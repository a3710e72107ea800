import type { Db, Queryable } from '../platform/store/db.js';
import { getRule } from './domain/allocation/index.js';
import type { BySource } from './domain/battery.js';
import { splitCommunity, type OperatorQuarter, type PointQuarter } from './domain/community-split.js';
import { HOUR_MS, QUARTER_HOUR_MS } from '../kernel/time.js';
import { allocationSettings, communityMeteringPoints, sharingParticipants } from '../registry/index.js';
import { firstIntervalStarts, intervalSeriesAt, intervalStartsBetween, startsWithIntervals, type IntervalSeries } from '../intervals/index.js';
import { clearCommunityMarks, clearMarks, dirtyCommunities, dirtyMarks, loadCoefficientPeriods, loadShareVersions, markQuarters, operatorAllocationsAt, poolsAt, writeMemberQuarters, writePools, type DirtyMark } from './store.js';

/**
 * Quarter hours of one community split and written per transaction (a day): memory stays
 * members × 96 whatever the period, and the marks of a chunk clear only with its rows.
 */
export const QUARTERS_PER_CHUNK = 96;

/**
 * Metering-point quarter hours per transaction at most: a large community's chunk shrinks below a
 * day (whole hours, at least one), so a chunk's memory is bounded by this and not by the community.
 */
const POINT_QUARTERS_PER_CHUNK = 24_000;

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

/** Each point's intervals by position in the chunk's quarter hours (no composite string keys: a chunk holds members × 96 of them). */
function intervalsByPoint(series: readonly IntervalSeries[], quarters: number): Map<string, (PointQuarter | undefined)[]> {
  const byPoint = new Map<string, (PointQuarter | undefined)[]>();
  for (const s of series) {
    const values = new Array<PointQuarter | undefined>(quarters);
    for (let k = 0; k < s.positions.length; k++) {
      values[s.positions[k]!] = {
        importWh: s.importWh[k]!, exportWh: s.exportWh[k]!, pvWh: s.pvWh[k]!,
        batteryChargeWh: s.batteryChargeWh[k]!, batteryDischargeWh: s.batteryDischargeWh[k]!, quality: s.quality[k]!,
      };
    }
    byPoint.set(s.meteringPointId, values);
  }
  return byPoint;
}

/** Loads what the split of the marked quarter hours needs (one query per owner), runs it, and stores the result. */
async function shareQuarters(db: Db, provisionalFigures: ProvisionalFigures, communityId: string, settings: CommunitySettings, marks: readonly DirtyMark[]): Promise<void> {
  const hourly = isHourly(settings.rule);
  const starts = new Set<number>();
  for (const mark of marks) {
    const ms = mark.startMs;
    if (!hourly || settings.mode === 'operator') { starts.add(ms); continue; }
    const hour = Math.floor(ms / HOUR_MS) * HOUR_MS;
    for (let q = 0; q < 4; q++) starts.add(hour + q * QUARTER_HOUR_MS);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  const firstMs = sorted[0]!;

  // Participants: members whose part in the sharing overlaps these quarter hours (the registry
  // keeps a former member who asked to join again on the earlier period, and a stable order).
  const members = await sharingParticipants(db, communityId, firstMs, sorted[sorted.length - 1]!);
  const periods = new Map(members.map((m) => [m.id, { fromMs: m.activeFromMs ?? -Infinity, untilMs: m.leftAtMs ?? Infinity }]));
  const takesPart = (memberId: string, ms: number) => {
    const period = periods.get(memberId);
    return period !== undefined && period.fromMs <= ms && ms < period.untilMs;
  };
  // Each point with its first quarter hour of data.
  const registered = await communityMeteringPoints(db, communityId);
  const pointIds = registered.map((p) => p.id);
  const dataFrom = await firstIntervalStarts(db, pointIds);
  const points = registered.map((p) => ({ id: p.id, memberId: p.memberId, communityBattery: p.communityBattery, dataFromMs: dataFrom.get(p.id) ?? null }));
  const memberOfPoint = new Map(points.map((p) => [p.id, p.memberId]));

  const position = new Map(sorted.map((ms, t) => [ms, t]));
  const intervals = intervalsByPoint(await intervalSeriesAt(db, pointIds, sorted), sorted.length);
  const operator = settings.mode === 'operator' ? await operatorAllocationsAt(db, communityId, sorted) : new Map<string, OperatorQuarter>();
  if (settings.mode === 'operator') {
    // Provisional substitutes (EDA L3) keep the quarter hour provisional until final figures come.
    for (const row of await provisionalFigures(db, communityId, sorted)) {
      const k = key(row.meteringPointId, row.startMs);
      const figures = operator.get(k);
      if (figures) operator.set(k, { ...figures, provisional: true });
    }
  }
  const versions = await loadShareVersions(db, communityId);
  const coefficientPeriods = await loadCoefficientPeriods(db, communityId, firstMs, sorted[sorted.length - 1]! + QUARTER_HOUR_MS);
  const storedPools = await poolsAt(db, pointIds, [...new Set([...sorted, ...sorted.map((ms) => ms - QUARTER_HOUR_MS)])]);

  // Outside a member's period its points count as empty, not as missing: it takes no part.
  const gone = (pointId: string, ms: number) => !takesPart(memberOfPoint.get(pointId)!, ms);
  const EMPTY: PointQuarter = { importWh: 0, exportWh: 0, pvWh: null, batteryChargeWh: null, batteryDischargeWh: null, quality: 'measured' };
  const output = splitCommunity({
    rule: settings.rule,
    mode: settings.mode,
    starts: sorted,
    memberIds: members.map((m) => m.id),
    points,
    shareVersions: versions,
    coefficientPeriods,
    interval: (pointId, ms) => (gone(pointId, ms) ? EMPTY : intervals.get(pointId)?.[position.get(ms)!]),
    operator: (pointId, ms) => operator.get(key(pointId, ms)),
    poolAfter: (pointId, ms) => storedPools.get(key(pointId, ms)),
  });
  const rows = output.members.filter((r) => takesPart(r.memberId, r.startMs));
  const changedPools = output.pools.filter((p) => !samePool(storedPools.get(key(p.pointId, p.startMs)), p.pool));

  await db.transaction(async (tx) => {
    await writeMemberQuarters(tx, communityId, rows, sorted);
    await writePools(tx, communityId, changedPools);
    // A battery's changed pool changes every later quarter hour of it: carry the change forward.
    const next = changedPools.map((p) => p.startMs + QUARTER_HOUR_MS).filter((ms) => !starts.has(ms));
    if (next.length > 0) await markSharingDirty(tx, communityId, await startsWithIntervals(tx, communityId, next));
    await clearMarks(tx, communityId, marks);
  });
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
    const points = (await communityMeteringPoints(db, communityId)).length;
    const chunk = Math.min(quartersPerChunk, Math.max(4, Math.floor(POINT_QUARTERS_PER_CHUNK / Math.max(1, points) / 4) * 4));
    // Marks are read afresh per chunk: one a battery's carried-forward pool set meanwhile has its new version.
    for (let doneHere = 0; doneHere < QUARTERS_PER_PASS;) {
      const marks = await dirtyMarks(db, communityId, Math.min(chunk, QUARTERS_PER_PASS - doneHere));
      if (marks.length === 0) break;
      await shareQuarters(db, provisionalFigures, communityId, community, marks);
      doneHere += marks.length;
      done += marks.length;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return done;
}
