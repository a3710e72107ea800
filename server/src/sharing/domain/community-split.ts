import { apportion } from './allocation/apportion.js';
import { createAllocator, createMatrix, AllocationInputError, type ShareSchedule, type ShareVector } from './allocation/index.js';
import { NONE, SourcePool, splitByOrigin, trackBehindTheMeter, type BySource } from './battery.js';
import type { Quality } from '../../kernel/energy.js';
import { NO_ROW, QUALITY_CODE, splitRows, type SplitRows } from './member-days.js';

import { QUARTER_HOUR_MS, HOUR_MS } from '../../kernel/time.js';
/**
 * One community's quarter hours, split by source per member: pure, no I/O (the service loads
 * and stores). How the pieces fit (documented in sharing/README.md):
 *
 * - The engine sees one column per member (the sums of the member's metering points' import and
 *   export; a member's shares are per member) and one column per community battery.
 * - A metering point counts from its first quarter hour with data on (a site added later, or
 *   whose reader is not installed yet, erases nothing); a member none of whose points has data
 *   yet is missing, never a zero.
 * - A member with data missing at any of its counting metering points in a quarter hour takes no part in
 *   that quarter hour's split (neither receives nor gives), its row is `missing` with zeros, and
 *   every other member's row in the settlement period is `provisional`: the split is made on
 *   what is known and redone when the data arrives.
 * - In operator mode the operator's figures per metering point replace the engine (capped at
 *   our metered import/export); a metered point without the operator's figures, or with
 *   figures the operator marked provisional, makes the quarter hour provisional.
 * - Behind-the-meter batteries (charge/discharge measured) and community batteries are tracked
 *   with the proportional source pools of battery.ts; the pool after each quarter hour is
 *   returned so the service can store it and continue from it.
 * - A community battery's split is a row of its own (`batteries`), never part of the row of the
 *   member who holds it: the battery is the community's, its charging no member's consumption.
 */
/**
 * A metering point's intervals in the split's quarter hours, as columns rather than an object per
 * quarter hour (a 1,000-member chunk would make 96,000 of them): `at(t)` is where the interval of
 * quarter hour t (its index in `starts`) is in the columns, -1 where the point has none. A register
 * the meter does not have is null, or its column absent; quality is measured where absent.
 */
export interface PointSeries {
  at(t: number): number;
  readonly importWh: ArrayLike<number | null>;
  readonly exportWh: ArrayLike<number | null>;
  readonly pvWh?: ArrayLike<number | null>;
  readonly batteryChargeWh?: ArrayLike<number | null>;
  readonly batteryDischargeWh?: ArrayLike<number | null>;
  readonly quality?: ArrayLike<Quality>;
}

export interface OperatorQuarter {
  readonly fromCommunityWh: number | null;
  readonly toCommunityWh: number | null;
  /** The operator sent a provisional substitute (EDA L3) for some code: final figures will follow. */
  readonly provisional?: boolean;
}

export interface SplitPoint {
  readonly id: string;
  readonly memberId: string;
  readonly communityBattery: boolean;
  /** The point's first quarter hour with an interval; null while it has none. */
  readonly dataFromMs: number | null;
}

/** Whether a point counts in the quarter hour starting at `startMs`: from its first data on. */
const counts = (point: SplitPoint, startMs: number) => point.dataFromMs !== null && point.dataFromMs <= startMs;

/** A version of the static key: shares as exact decimals, 9 places at most. */
export interface ShareVersion {
  readonly validFromMs: number;
  readonly shares: ReadonlyMap<string, string>;
}

/**
 * A time-varying key for one period (Spain: an hour of distribution coefficients; France: a
 * 15- or 30-minute step of the PMO's coefficients): within it, it replaces the static key.
 */
export interface CoefficientPeriod {
  readonly startMs: number;
  readonly endMs: number;
  /** Member id → exact decimal coefficient; members without one have 0. */
  readonly shares: ReadonlyMap<string, string>;
}

export interface SplitInput {
  readonly rule: string;
  readonly mode: 'compute' | 'operator';
  /** Ascending UTC quarter hours; whole hours for hourly rules. */
  readonly starts: readonly number[];
  readonly memberIds: readonly string[];
  readonly points: readonly SplitPoint[];
  /** Ascending by validFromMs. */
  readonly shareVersions: readonly ShareVersion[];
  /** Ascending, not overlapping; where a quarter hour lies in one, its coefficients are the key. */
  readonly coefficientPeriods?: readonly CoefficientPeriod[];
  /** The point's intervals; undefined where it has none in these quarter hours. */
  series(pointId: string): PointSeries | undefined;
  operator(pointId: string, startMs: number): OperatorQuarter | undefined;
  /** The stored source pool of a battery after the quarter hour starting at `startMs`. */
  poolAfter(pointId: string, startMs: number): BySource | undefined;
  /**
   * Whether a member takes part in the quarter hour starting at `startMs` (every member in every
   * one where absent). Outside its period a member's points count as empty, not as missing, so it
   * neither receives nor gives, and it has no row; a community battery takes part while the member
   * who holds it does.
   */
  takesPart?(memberId: string, startMs: number): boolean;
}

export interface PoolAfter {
  readonly pointId: string;
  readonly startMs: number;
  readonly pool: BySource;
}

export interface SplitOutput {
  /** A column per member (`memberIds`). */
  readonly members: SplitRows;
  /** A column per community battery, its id the battery's metering point's. */
  readonly batteries: SplitRows;
  readonly pools: PoolAfter[];
}

const SHARE_DECIMALS = 9;
const SHARE_DENOMINATOR = 10 ** SHARE_DECIMALS;

/** "0.25" → 250000000 (out of 10⁹), exactly. */
export function shareUnits(text: string): number {
  const match = /^(\d)(?:\.(\d{1,9}))?$/.exec(text);
  if (!match) throw new AllocationInputError(`share "${text}" is not a decimal between 0 and 1 with at most 9 places`);
  const units = Number(match[1]) * SHARE_DENOMINATOR + Number((match[2] ?? '').padEnd(SHARE_DECIMALS, '0'));
  if (units > SHARE_DENOMINATOR) throw new AllocationInputError(`share ${text} is more than 1`);
  return units;
}

function shareVector(shares: ReadonlyMap<string, string>, columns: readonly string[]): ShareVector {
  const weights = Float64Array.from(columns, (id) => (shares.has(id) ? shareUnits(shares.get(id)!) : 0));
  let all = 0;
  for (const share of shares.values()) all += shareUnits(share);
  if (all > SHARE_DENOMINATOR) throw new AllocationInputError('shares add up to more than 1');
  const total = weights.reduce((a, b) => a + b, 0);
  return { weights, total, denominator: SHARE_DENOMINATOR };
}

/** The key of a quarter hour: the coefficients of its period where there are some, else the static key in force. */
function shareSchedule(versions: readonly ShareVersion[], periods: readonly CoefficientPeriod[], columns: readonly string[]): ShareSchedule {
  const vectors = versions.map((version) => ({ validFromMs: version.validFromMs, vector: shareVector(version.shares, columns) }));
  const periodVectors = new Map<CoefficientPeriod, ShareVector>();
  const none: ShareVector = { weights: new Float64Array(columns.length), total: 0, denominator: SHARE_DENOMINATOR };
  const periodAt = (startMs: number): CoefficientPeriod | undefined => {
    let lo = 0;
    let hi = periods.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const period = periods[mid]!;
      if (startMs < period.startMs) hi = mid - 1;
      else if (startMs >= period.endMs) lo = mid + 1;
      else return period;
    }
    return undefined;
  };
  return {
    members: columns.length,
    vectorFor(startMs) {
      const period = periodAt(startMs);
      if (period) {
        let vector = periodVectors.get(period);
        if (!vector) { vector = shareVector(period.shares, columns); periodVectors.set(period, vector); }
        return vector;
      }
      let current = none;
      for (const v of vectors) if (v.validFromMs <= startMs) current = v.vector;
      return current;
    },
  };
}

interface Column {
  readonly id: string;
  readonly memberId: string;
  readonly points: readonly SplitPoint[];
  readonly battery: boolean;
}

function columnsOf(input: SplitInput): Column[] {
  const pointsOf = new Map<string, SplitPoint[]>(input.memberIds.map((memberId) => [memberId, []]));
  for (const p of input.points) if (!p.communityBattery) pointsOf.get(p.memberId)?.push(p);
  const columns: Column[] = input.memberIds.map((memberId) => ({ id: memberId, memberId, points: pointsOf.get(memberId)!, battery: false }));
  for (const p of input.points) {
    if (p.communityBattery && pointsOf.has(p.memberId)) columns.push({ id: `battery:${p.id}`, memberId: p.memberId, points: [p], battery: true });
  }
  return columns;
}

/** Exact split of `total` over parts in proportion to `weights` (all to the first when the weights are 0). */
function spread(total: number, weights: readonly number[]): number[] {
  if (weights.length === 1) return [total];
  if (total === 0) return weights.map(() => 0);
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map((_, i) => (i === 0 ? total : 0));
  return Array.from(apportion(total, weights));
}

const MEASURED = QUALITY_CODE.measured;
const ESTIMATED = QUALITY_CODE.estimated;
const MISSING = QUALITY_CODE.missing;

/** What a member's points read as outside its period: nothing imported or exported, measured. */
const EMPTY: PointSeries = { at: () => 0, importWh: [0], exportWh: [0] };

const valueAt = (column: ArrayLike<number | null> | undefined, at: number): number | null => column?.[at] ?? null;
const qualityAt = (series: PointSeries, at: number): number => (series.quality ? QUALITY_CODE[series.quality[at]!] : MEASURED);

export function splitCommunity(input: SplitInput): SplitOutput {
  const columns = columnsOf(input);
  const n = columns.length;
  // Members' columns come first (columnsOf), the community batteries' after them.
  const memberCount = input.memberIds.length;
  const T = input.starts.length;
  const matrix = createMatrix(columns.map((c) => c.id), Float64Array.from(input.starts));
  const missing = new Uint8Array(n * T);
  const quality = new Uint8Array(n * T);
  const absent = new Uint8Array(n * T);
  // Where each column's counting points' intervals are in their series, per quarter hour (-1: the
  // point does not count there), found once: the split and the rows below both need them.
  // `pointStart[c]` is where column c's points begin in a quarter hour's slice.
  const pointStart = new Int32Array(n + 1);
  for (let c = 0; c < n; c++) pointStart[c + 1] = pointStart[c]! + columns[c]!.points.length;
  const P = pointStart[n]!;
  const series = columns.flatMap((column) => column.points.map((p) => input.series(p.id)));
  const seriesAt = (k: number, point: number): PointSeries | undefined => (absent[k] ? EMPTY : series[point]);
  const counted = new Int32Array(P * T).fill(-1);
  for (let t = 0; t < T; t++) {
    const startMs = input.starts[t]!;
    for (let c = 0; c < n; c++) {
      const k = t * n + c;
      const column = columns[c]!;
      if (input.takesPart && !input.takesPart(column.memberId, startMs)) absent[k] = 1;
      const points = column.points;
      let imp = 0;
      let exp = 0;
      let q = MEASURED;
      let countingPoints = 0;
      for (let j = 0; j < points.length; j++) {
        if (!counts(points[j]!, startMs)) continue;
        countingPoints++;
        const point = pointStart[c]! + j;
        const s = seriesAt(k, point);
        const at = s ? s.at(t) : -1;
        // A series the meter does not have (a consumer without an export register) is null with
        // the interval still measured: that is 0, not missing.
        if (!s || at < 0 || qualityAt(s, at) === MISSING || (valueAt(s.importWh, at) === null && valueAt(s.exportWh, at) === null)) {
          missing[k] = 1;
          break;
        }
        counted[t * P + point] = at;
        imp += valueAt(s.importWh, at) ?? 0;
        exp += valueAt(s.exportWh, at) ?? 0;
        q = Math.max(q, qualityAt(s, at));
      }
      // A member with points, none of which has data yet, is not known; a community battery before
      // its first data is not there yet (it takes no part and has no row).
      if (countingPoints === 0 && points.length > 0 && !column.battery) missing[k] = 1;
      // A member without any metering point has nothing to share, which is known, not missing.
      if (missing[k]) { quality[k] = MISSING; continue; }
      matrix.importWh[k] = imp;
      matrix.exportWh[k] = exp;
      quality[k] = q;
    }
  }

  const fromCommunity = new Int32Array(n * T);
  const toCommunity = new Int32Array(n * T);
  const provisional = new Uint8Array(T);
  if (input.mode === 'compute') {
    const allocator = createAllocator(input.rule, { shares: shareSchedule(input.shareVersions, input.coefficientPeriods ?? [], columns.map((c) => (c.battery ? '' : c.id))) });
    const result = allocator.allocate(matrix);
    fromCommunity.set(result.fromCommunityWh);
    toCommunity.set(result.toCommunityWh);
    // Missing data anywhere in a settlement period makes the whole period provisional.
    const periodOf = (ms: number) => (allocator.granularity === 'hour' ? Math.floor(ms / HOUR_MS) : ms);
    const incomplete = new Set<number>();
    for (let t = 0; t < T; t++) for (let c = 0; c < n; c++) if (missing[t * n + c]) incomplete.add(periodOf(input.starts[t]!));
    for (let t = 0; t < T; t++) if (incomplete.has(periodOf(input.starts[t]!))) provisional[t] = 1;
  } else {
    for (let t = 0; t < T; t++) {
      const startMs = input.starts[t]!;
      for (let c = 0; c < n; c++) {
        const k = t * n + c;
        if (missing[k]) { provisional[t] = 1; continue; }
        const points = columns[c]!.points;
        for (let j = 0; j < points.length; j++) {
          const point = pointStart[c]! + j;
          const at = counted[t * P + point]!;
          if (at < 0) continue;
          const s = seriesAt(k, point)!;
          const op = input.operator(points[j]!.id, startMs);
          const imp = valueAt(s.importWh, at) ?? 0;
          const exp = valueAt(s.exportWh, at) ?? 0;
          if ((!op && (imp > 0 || exp > 0)) || op?.provisional) provisional[t] = 1;
          fromCommunity[k]! += Math.min(op?.fromCommunityWh ?? 0, imp);
          toCommunity[k]! += Math.min(op?.toCommunityWh ?? 0, exp);
        }
      }
    }
  }

  const members = splitRows(input.memberIds, T, provisional);
  const batteries = splitRows(columns.slice(memberCount).map((c) => c.points[0]!.id), T, provisional);
  const batteryCount = n - memberCount;
  const pools: PoolAfter[] = [];
  const lastPool = new Map<string, { startMs: number; pool: BySource }>();
  const poolBefore = (pointId: string, startMs: number): BySource => {
    const last = lastPool.get(pointId);
    if (last && last.startMs === startMs - QUARTER_HOUR_MS) return last.pool;
    return input.poolAfter(pointId, startMs - QUARTER_HOUR_MS) ?? NONE;
  };
  const keepPool = (pointId: string, startMs: number, pool: BySource) => {
    lastPool.set(pointId, { startMs, pool });
    pools.push({ pointId, startMs, pool });
  };
  // One accumulator for every row, so that a row costs no object.
  const row = rowTotals();

  for (let t = 0; t < T; t++) {
    const startMs = input.starts[t]!;
    const off = t * n;
    // Community batteries: what they gave the community that they had stored from the grid.
    let gridOrigin = 0;
    for (let c = 0; c < n; c++) {
      const column = columns[c]!;
      if (!column.battery || missing[off + c] || !counts(column.points[0]!, startMs)) continue;
      const pool = new SourcePool(poolBefore(column.points[0]!.id, startMs));
      const imp = matrix.importWh[off + c]!;
      pool.charge({ ownPv: 0, community: fromCommunity[off + c]!, grid: imp - fromCommunity[off + c]! });
      const released = pool.take(matrix.exportWh[off + c]!);
      keepPool(column.points[0]!.id, startMs, pool.soc);
      const [gridGiven] = spread(toCommunity[off + c]!, [released.grid, released.ownPv + released.community]);
      gridOrigin += gridGiven!;
    }
    const received = Array.from(fromCommunity.subarray(off, off + n));
    const pooled = received.reduce((a, b) => a + b, 0);
    const gridOriginByColumn = gridOrigin === 0 ? new Float64Array(n) : splitByOrigin(received, pooled, Math.min(gridOrigin, pooled)).gridOriginWh;

    for (let c = 0; c < n; c++) {
      const column = columns[c]!;
      const k = off + c;
      if (absent[k]) continue;
      const fc = fromCommunity[k]!;
      const tc = toCommunity[k]!;
      if (column.battery) {
        if (!counts(column.points[0]!, startMs)) continue;
        const r = t * batteryCount + c - memberCount;
        if (missing[k]) { batteries.quality[r] = MISSING; continue; }
        resetRow(row);
        const imp = matrix.importWh[k]!;
        addFlows(row, imp, matrix.exportWh[k]!, 0, fc, imp - fc, fc, tc);
        writeRow(batteries, r, row, quality[k]!, 0);
        continue;
      }
      const r = t * memberCount + c;
      if (missing[k]) { members.quality[r] = MISSING; continue; }
      resetRow(row);
      let consumedCommunity = 0;
      const first = pointStart[c]!;
      if (column.points.length === 1) {
        // Most members have one point: it takes the member's whole split (no arrays per member and quarter hour).
        const at = counted[t * P + first]!;
        if (at >= 0) consumedCommunity += addPoint(row, column.points[0]!.id, startMs, series[first]!, at, fc, tc, poolBefore, keepPool);
      } else {
        const points: number[] = [];
        for (let j = 0; j < column.points.length; j++) if (counted[t * P + first + j]! >= 0) points.push(j);
        const atOf = (j: number) => counted[t * P + first + j]!;
        const fcParts = spread(fc, points.map((j) => valueAt(series[first + j]!.importWh, atOf(j)) ?? 0));
        const tcParts = spread(tc, points.map((j) => valueAt(series[first + j]!.exportWh, atOf(j)) ?? 0));
        points.forEach((j, x) => {
          consumedCommunity += addPoint(row, column.points[j]!.id, startMs, series[first + j]!, atOf(j), fcParts[x]!, tcParts[x]!, poolBefore, keepPool);
        });
      }
      writeRow(members, r, row, Math.max(quality[k]!, row.estimated ? ESTIMATED : MEASURED), Math.min(gridOriginByColumn[c]!, consumedCommunity));
    }
  }
  return { members, batteries, pools };
}

/** A row's metered flows and their split so far, in Wh. */
interface RowTotals {
  imp: number;
  exp: number;
  self: number;
  fromCommunity: number;
  fromGrid: number;
  allocated: number;
  toCommunity: number;
  /** A battery behind a meter was not tracked (its meters contradict each other). */
  estimated: boolean;
}

const rowTotals = (): RowTotals => ({ imp: 0, exp: 0, self: 0, fromCommunity: 0, fromGrid: 0, allocated: 0, toCommunity: 0, estimated: false });

function resetRow(row: RowTotals): void {
  row.imp = 0;
  row.exp = 0;
  row.self = 0;
  row.fromCommunity = 0;
  row.fromGrid = 0;
  row.allocated = 0;
  row.toCommunity = 0;
  row.estimated = false;
}

function addFlows(row: RowTotals, imp: number, exp: number, self: number, fromCommunity: number, fromGrid: number, allocated: number, toCommunity: number): void {
  row.imp += imp;
  row.exp += exp;
  row.self += self;
  row.fromCommunity += fromCommunity;
  row.fromGrid += fromGrid;
  row.allocated += allocated;
  row.toCommunity += toCommunity;
}

/**
 * Adds one metering point's quarter hour (at `at` in its series), given its part of the member's
 * split, to the member's row; with a battery behind the meter by its pool (asked for only then).
 * Returns the point's community energy consumed.
 */
function addPoint(row: RowTotals, pointId: string, startMs: number, series: PointSeries, at: number, fc: number, tc: number,
  poolBefore: (pointId: string, startMs: number) => BySource, keepPool: (pointId: string, startMs: number, pool: BySource) => void): number {
  const imp = valueAt(series.importWh, at) ?? 0;
  const exp = valueAt(series.exportWh, at) ?? 0;
  const pv = valueAt(series.pvWh, at);
  const charge = valueAt(series.batteryChargeWh, at);
  const discharge = valueAt(series.batteryDischargeWh, at);
  // Without a battery behind the meter, own PV used is PV − export where PV is measured.
  const plainSelf = pv === null ? 0 : Math.max(0, pv - exp);
  if (charge === null && discharge === null) {
    addFlows(row, imp, exp, plainSelf, fc, imp - fc, fc, tc);
    return fc;
  }
  const before = poolBefore(pointId, startMs);
  try {
    const [r] = trackBehindTheMeter([{
      importWh: imp, exportWh: exp, pvWh: pv ?? 0, fromCommunityWh: fc, batteryChargeWh: charge ?? 0, batteryDischargeWh: discharge ?? 0,
    }], before);
    keepPool(pointId, startMs, r!.soc);
    addFlows(row, imp, exp, r!.ownPvWh, r!.fromCommunityWh, r!.fromGridWh, fc, tc);
    return r!.fromCommunityWh;
  } catch (error) {
    if (!(error instanceof AllocationInputError)) throw error;
    // Meters that contradict each other (export + charge > import + PV + discharge): the battery
    // is not tracked in this quarter hour (its pool carries over), and the figures are estimated.
    keepPool(pointId, startMs, before);
    row.estimated = true;
    addFlows(row, imp, exp, plainSelf, fc, imp - fc, fc, tc);
    return fc;
  }
}

/** Row r of `rows` from its totals (a missing row keeps its zeros and is only marked). */
function writeRow(rows: SplitRows, r: number, row: RowTotals, quality: number, communityGridOriginWh: number): void {
  rows.quality[r] = quality;
  rows.consumptionWh[r] = row.self + row.fromCommunity + row.fromGrid;
  rows.selfConsumedWh[r] = row.self;
  rows.fromCommunityWh[r] = row.fromCommunity;
  rows.fromGridWh[r] = row.fromGrid;
  rows.productionWh[r] = row.self + row.exp;
  rows.toCommunityWh[r] = row.toCommunity;
  rows.toGridWh[r] = row.exp - row.toCommunity;
  rows.allocatedFromCommunityWh[r] = row.allocated;
  rows.communityGridOriginWh[r] = communityGridOriginWh;
}
