import { apportion } from './allocation/apportion.js';
import { createAllocator, createMatrix, AllocationInputError, type ShareSchedule, type ShareVector } from './allocation/index.js';
import { NONE, SourcePool, splitByOrigin, trackBehindTheMeter, type BySource } from './battery.js';
import { worst, type Quality, type EnergyBySource } from '../../kernel/energy.js';

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
export interface PointQuarter {
  readonly importWh: number | null;
  readonly exportWh: number | null;
  readonly pvWh: number | null;
  readonly batteryChargeWh: number | null;
  readonly batteryDischargeWh: number | null;
  readonly quality: Quality;
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
  interval(pointId: string, startMs: number): PointQuarter | undefined;
  operator(pointId: string, startMs: number): OperatorQuarter | undefined;
  /** The stored source pool of a battery after the quarter hour starting at `startMs`. */
  poolAfter(pointId: string, startMs: number): BySource | undefined;
}

export interface MemberQuarter extends EnergyBySource {
  readonly memberId: string;
  readonly startMs: number;
  readonly importWh: number;
  readonly exportWh: number;
  readonly allocatedFromCommunityWh: number;
  readonly communityGridOriginWh: number;
  readonly quality: Quality;
  readonly provisional: boolean;
}

/** A community battery's quarter hour, as a member's but for its metering point. */
export type BatteryQuarter = Omit<MemberQuarter, 'memberId'> & { readonly meteringPointId: string };

export interface PoolAfter {
  readonly pointId: string;
  readonly startMs: number;
  readonly pool: BySource;
}

export interface SplitOutput {
  readonly members: MemberQuarter[];
  readonly batteries: BatteryQuarter[];
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

export function splitCommunity(input: SplitInput): SplitOutput {
  const columns = columnsOf(input);
  const n = columns.length;
  const T = input.starts.length;
  const matrix = createMatrix(columns.map((c) => c.id), Float64Array.from(input.starts));
  const missing = new Uint8Array(n * T);
  const quality: Quality[] = new Array(n * T).fill('measured');
  // Each column's counting points' intervals per quarter hour, asked for once: the split and the
  // rows below both need them. `pointStart[c]` is where column c's points begin in a quarter hour's slice.
  const pointStart = new Int32Array(n + 1);
  for (let c = 0; c < n; c++) pointStart[c + 1] = pointStart[c]! + columns[c]!.points.length;
  const P = pointStart[n]!;
  const counted: (PointQuarter | undefined)[] = new Array(P * T);
  for (let t = 0; t < T; t++) {
    const startMs = input.starts[t]!;
    for (let c = 0; c < n; c++) {
      const k = t * n + c;
      const points = columns[c]!.points;
      let imp = 0;
      let exp = 0;
      let q: Quality = 'measured';
      let countingPoints = 0;
      for (let j = 0; j < points.length; j++) {
        const p = points[j]!;
        if (!counts(p, startMs)) continue;
        countingPoints++;
        const iv = input.interval(p.id, startMs);
        // A series the meter does not have (a consumer without an export register) is null with
        // the interval still measured: that is 0, not missing.
        if (!iv || iv.quality === 'missing' || (iv.importWh === null && iv.exportWh === null)) {
          missing[k] = 1;
          break;
        }
        counted[t * P + pointStart[c]! + j] = iv;
        imp += iv.importWh ?? 0;
        exp += iv.exportWh ?? 0;
        q = worst(q, iv.quality);
      }
      // A member with points, none of which has data yet, is not known; a community battery before
      // its first data is not there yet (it takes no part and has no row).
      if (countingPoints === 0 && points.length > 0 && !columns[c]!.battery) missing[k] = 1;
      // A member without any metering point has nothing to share, which is known, not missing.
      if (missing[k]) { quality[k] = 'missing'; continue; }
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
      for (let c = 0; c < n; c++) {
        const k = t * n + c;
        if (missing[k]) { provisional[t] = 1; continue; }
        for (const p of columns[c]!.points.filter((point) => counts(point, input.starts[t]!))) {
          const iv = input.interval(p.id, input.starts[t]!)!;
          const op = input.operator(p.id, input.starts[t]!);
          const imp = iv.importWh ?? 0;
          const exp = iv.exportWh ?? 0;
          if ((!op && (imp > 0 || exp > 0)) || op?.provisional) provisional[t] = 1;
          fromCommunity[k]! += Math.min(op?.fromCommunityWh ?? 0, imp);
          toCommunity[k]! += Math.min(op?.toCommunityWh ?? 0, exp);
        }
      }
    }
  }

  const members: MemberQuarter[] = [];
  const batteries: BatteryQuarter[] = [];
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

    // Every member has its own column and, listed after all of them, the community batteries theirs.
    for (let c = 0; c < n; c++) {
      const column = columns[c]!;
      const k = off + c;
      const row = emptyRow(column.memberId, startMs, provisional[t] === 1);
      if (missing[k]) row.missing = true;
      else row.quality = worst(row.quality, quality[k]!);
      const fc = fromCommunity[k]!;
      const tc = toCommunity[k]!;
      if (column.battery) {
        if (!counts(column.points[0]!, startMs)) continue;
        if (!row.missing) add(row, { imp: matrix.importWh[k]!, exp: matrix.exportWh[k]!, self: 0, fromCommunity: fc, fromGrid: matrix.importWh[k]! - fc, allocated: fc, toCommunity: tc });
        const { memberId: _holder, ...quarter } = finish(row);
        batteries.push({ meteringPointId: column.points[0]!.id, ...quarter });
        continue;
      }
      if (row.missing) { members.push(finish(row)); continue; }
      let consumedCommunity = 0;
      if (column.points.length === 1) {
        // Most members have one point: it takes the member's whole split (no arrays per member and quarter hour).
        const iv = counted[t * P + pointStart[c]!];
        if (iv) consumedCommunity += addPoint(row, column.points[0]!, iv, fc, tc, poolBefore, keepPool);
      } else {
        const points: { point: SplitPoint; iv: PointQuarter }[] = [];
        for (let j = 0; j < column.points.length; j++) {
          const iv = counted[t * P + pointStart[c]! + j];
          if (iv) points.push({ point: column.points[j]!, iv });
        }
        const fcParts = spread(fc, points.map((x) => x.iv.importWh ?? 0));
        const tcParts = spread(tc, points.map((x) => x.iv.exportWh ?? 0));
        for (let j = 0; j < points.length; j++) consumedCommunity += addPoint(row, points[j]!.point, points[j]!.iv, fcParts[j]!, tcParts[j]!, poolBefore, keepPool);
      }
      row.communityGridOriginWh += Math.min(gridOriginByColumn[c]!, consumedCommunity);
      members.push(finish(row));
    }
  }
  return { members, batteries, pools };
}

/** Adds one metering point's quarter hour, given its part of the member's split, to the member's row; returns its community energy consumed. */
function addPoint(row: MemberQuarterBuilder, point: SplitPoint, iv: PointQuarter, fc: number, tc: number,
  poolBefore: (pointId: string, startMs: number) => BySource, keepPool: (pointId: string, startMs: number, pool: BySource) => void): number {
  const flows = pointFlows(iv, fc, tc, poolBefore, point.id, row.startMs);
  if (flows.pool) keepPool(point.id, row.startMs, flows.pool);
  if (flows.estimated) row.quality = worst(row.quality, 'estimated');
  add(row, flows);
  return flows.fromCommunity;
}

/** A metering point's (or a member's summed) metered flows and their split, in Wh. */
interface PointTotals {
  imp: number;
  exp: number;
  self: number;
  fromCommunity: number;
  fromGrid: number;
  allocated: number;
  toCommunity: number;
}

interface Flows extends PointTotals {
  pool?: BySource | undefined;
  estimated?: boolean;
}

/** One metering point's quarter hour by source; with a battery behind the meter, by its pool (asked for only then). */
function pointFlows(iv: PointQuarter, fc: number, tc: number, poolBefore: (pointId: string, startMs: number) => BySource, pointId: string, startMs: number): Flows {
  const imp = iv.importWh ?? 0;
  const exp = iv.exportWh ?? 0;
  if (iv.batteryChargeWh === null && iv.batteryDischargeWh === null) return plainFlows(iv, fc, tc, false);
  const before = poolBefore(pointId, startMs);
  try {
    const [r] = trackBehindTheMeter([{
      importWh: imp, exportWh: exp, pvWh: iv.pvWh ?? 0, fromCommunityWh: fc,
      batteryChargeWh: iv.batteryChargeWh ?? 0, batteryDischargeWh: iv.batteryDischargeWh ?? 0,
    }], before);
    return { imp, exp, self: r!.ownPvWh, fromCommunity: r!.fromCommunityWh, fromGrid: r!.fromGridWh, allocated: fc, toCommunity: tc, pool: r!.soc };
  } catch (error) {
    if (!(error instanceof AllocationInputError)) throw error;
    // Meters that contradict each other (export + charge > import + PV + discharge): the battery
    // is not tracked in this quarter hour (its pool carries over), and the figures are estimated.
    return { ...plainFlows(iv, fc, tc, true), pool: before, estimated: true };
  }
}

/** A point's flows without a battery behind its meter (own PV used is PV − export where PV is measured). */
function plainFlows(iv: PointQuarter, fc: number, tc: number, estimated: boolean): Flows {
  const imp = iv.importWh ?? 0;
  const exp = iv.exportWh ?? 0;
  const self = iv.pvWh === null ? 0 : Math.max(0, iv.pvWh - exp);
  return { imp, exp, self, fromCommunity: fc, fromGrid: imp - fc, allocated: fc, toCommunity: tc, estimated };
}

interface MemberQuarterBuilder extends PointTotals {
  memberId: string;
  startMs: number;
  provisional: boolean;
  missing: boolean;
  quality: Quality;
  communityGridOriginWh: number;
}

function emptyRow(memberId: string, startMs: number, provisional: boolean): MemberQuarterBuilder {
  return { memberId, startMs, provisional, missing: false, quality: 'measured', imp: 0, exp: 0, self: 0, fromCommunity: 0, fromGrid: 0, allocated: 0, toCommunity: 0, communityGridOriginWh: 0 };
}

function add(row: MemberQuarterBuilder, f: Flows): void {
  row.imp += f.imp;
  row.exp += f.exp;
  row.self += f.self;
  row.fromCommunity += f.fromCommunity;
  row.fromGrid += f.fromGrid;
  row.allocated += f.allocated;
  row.toCommunity += f.toCommunity;
}

function finish(row: MemberQuarterBuilder): MemberQuarter {
  if (row.missing) {
    return {
      memberId: row.memberId, startMs: row.startMs, importWh: 0, exportWh: 0, consumptionWh: 0, selfConsumedWh: 0,
      fromCommunityWh: 0, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0, allocatedFromCommunityWh: 0,
      communityGridOriginWh: 0, quality: 'missing', provisional: row.provisional,
    };
  }
  return {
    memberId: row.memberId,
    startMs: row.startMs,
    importWh: row.imp,
    exportWh: row.exp,
    consumptionWh: row.self + row.fromCommunity + row.fromGrid,
    selfConsumedWh: row.self,
    fromCommunityWh: row.fromCommunity,
    fromGridWh: row.fromGrid,
    productionWh: row.self + row.exp,
    toCommunityWh: row.toCommunity,
    toGridWh: row.exp - row.toCommunity,
    allocatedFromCommunityWh: row.allocated,
    communityGridOriginWh: row.communityGridOriginWh,
    quality: row.quality,
    provisional: row.provisional,
  };
}
