import { apportion, Scratch, type Numbers } from './allocation/apportion.js';
import { AllocationInputError } from './allocation/types.js';

/**
 * Source tracking for batteries, so that stored grid energy never comes back out as
 * "own solar" (or as community energy).
 *
 * Method: a proportional pool ("well-mixed tank"). A battery's stored energy is tracked as
 * three whole-Wh stocks: own PV, community, grid. Charging adds to the stock of the source
 * that charged it. Discharging (and losses) take from all stocks in proportion to their
 * current size, rounded by largest remainder so the parts are whole Wh, add up exactly, and
 * never exceed a stock. Ties go first to the smaller part, then grid before community before
 * own PV, so rounding never makes energy greener. Energy taken beyond the tracked stock (a
 * battery that was already charged when tracking began) has an unknown origin and counts as
 * grid. Consequences: for every source, discharged + lost ≤ charged (+ initial stock); and
 * the state of charge by source is always ≥ 0 and sums to the tracked state of charge.
 *
 * Why proportional and not FIFO/LIFO: a battery cannot tell which electrons it releases;
 * proportional mixing needs no queue, is order-independent within an interval, and is what
 * the "energy pool" accounting of community storage (France: stored quantities count as
 * consumption, released quantities as production) implies.
 */
export type Source = 'ownPv' | 'community' | 'grid';

export interface BySource {
  readonly ownPv: number;
  readonly community: number;
  readonly grid: number;
}

export const NONE: BySource = { ownPv: 0, community: 0, grid: 0 };

export function totalOf(b: BySource): number {
  return b.ownPv + b.community + b.grid;
}

// Internal order puts grid first so that index-based ties favour grid.
const GRID = 0;
const COMMUNITY = 1;
const OWN_PV = 2;

function fromArray(a: Numbers): BySource {
  return { ownPv: a[OWN_PV]!, community: a[COMMUNITY]!, grid: a[GRID]! };
}

function checkWh(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0) throw new AllocationInputError(`${what} must be a whole number of Wh ≥ 0, got ${value}`);
}

/** The stored energy of one battery by source. */
export class SourcePool {
  private readonly stock = new Float64Array(3);
  private readonly scratch = new Scratch(3);

  constructor(initial: BySource = NONE) {
    this.charge(initial);
  }

  charge(by: BySource): void {
    checkWh(by.ownPv, 'own PV charge');
    checkWh(by.community, 'community charge');
    checkWh(by.grid, 'grid charge');
    this.stock[OWN_PV]! += by.ownPv;
    this.stock[COMMUNITY]! += by.community;
    this.stock[GRID]! += by.grid;
  }

  /** Removes `wh` in proportion to the pool's composition (beyond the stock: grid). */
  take(wh: number): BySource {
    checkWh(wh, 'discharge');
    const total = this.stock[0]! + this.stock[1]! + this.stock[2]!;
    if (wh >= total) {
      const taken = fromArray(this.stock);
      this.stock.fill(0);
      return { ...taken, grid: taken.grid + (wh - total) };
    }
    const parts = apportion(wh, this.stock, this.scratch);
    for (let s = 0; s < 3; s++) this.stock[s]! -= parts[s]!;
    return fromArray(parts);
  }

  get soc(): BySource {
    return fromArray(this.stock);
  }
}

/** Splits `total` into two parts in proportion to `a` and `b` (exact; ties to `b`). */
function splitTwo(total: number, a: number, b: number): [number, number] {
  if (total === 0) return [0, 0];
  if (a + b === 0) throw new AllocationInputError(`cannot split ${total} Wh of nothing`);
  // b first so that on a tie the unit goes to b (grid, or the exported part).
  const parts = apportion(total, [b, a]);
  return [parts[1]!, parts[0]!];
}

function splitBySource(total: number, by: BySource): BySource {
  if (total === 0) return NONE;
  const parts = apportion(total, [by.grid, by.community, by.ownPv]);
  return fromArray(parts);
}

function minus(a: BySource, b: BySource): BySource {
  return { ownPv: a.ownPv - b.ownPv, community: a.community - b.community, grid: a.grid - b.grid };
}

/** One interval of a member with PV and a battery behind its meter. */
export interface MeterInterval {
  readonly importWh: number;
  readonly exportWh: number;
  readonly pvWh: number;
  readonly batteryChargeWh: number;
  readonly batteryDischargeWh: number;
  /** Community energy the allocation gave this member's import in this interval. */
  readonly fromCommunityWh: number;
  /** Energy the battery lost in the interval (conversion, self-discharge), if known. */
  readonly batteryLossWh?: number;
}

/** Where one interval's consumption came from, and what the battery did. */
export interface SourcedInterval {
  /** Household consumption: import + PV + discharge − export − charge. */
  readonly consumptionWh: number;
  readonly ownPvWh: number;
  readonly fromCommunityWh: number;
  readonly fromGridWh: number;
  readonly charged: BySource;
  readonly discharged: BySource;
  /** The part of `discharged` that was exported rather than consumed. */
  readonly dischargedExported: BySource;
  /** Stored energy by source after the interval. */
  readonly soc: BySource;
}

/**
 * Consumption by source for a member with behind-the-meter PV and battery. Within an
 * interval: PV serves the load first, then charges the battery, then is exported; battery
 * discharge serves the load before being exported; imports serve the load, then the battery.
 * Imported energy has the member's import composition (the allocated community energy and
 * the grid rest, in proportion). Charging and discharging in the same interval are netted
 * (the recirculated energy stays in the pool unchanged). consumption = ownPv + community +
 * grid exactly, per interval.
 */
export function trackBehindTheMeter(intervals: readonly MeterInterval[], initial: BySource = NONE): SourcedInterval[] {
  const pool = new SourcePool(initial);
  return intervals.map((iv, t) => {
    for (const key of ['importWh', 'exportWh', 'pvWh', 'batteryChargeWh', 'batteryDischargeWh', 'fromCommunityWh'] as const) checkWh(iv[key], `interval ${t} ${key}`);
    if (iv.fromCommunityWh > iv.importWh) throw new AllocationInputError(`interval ${t}: community energy exceeds the import`);
    const recirculated = Math.min(iv.batteryChargeWh, iv.batteryDischargeWh);
    const bc = iv.batteryChargeWh - recirculated;
    const bd = iv.batteryDischargeWh - recirculated;
    const load = iv.importWh + iv.pvWh + bd - iv.exportWh - bc;
    if (load < 0) throw new AllocationInputError(`interval ${t}: export and charging exceed import, PV and discharge`);

    const pvToLoad = Math.min(iv.pvWh, load);
    const batteryToLoad = Math.min(bd, load - pvToLoad);
    const importToLoad = load - pvToLoad - batteryToLoad;
    const pvToBattery = Math.min(iv.pvWh - pvToLoad, bc);
    const importToBattery = bc - pvToBattery;

    // Import composition → what went to the battery and what went to the load.
    const gridImport = iv.importWh - iv.fromCommunityWh;
    const [communityToBattery, gridToBattery] = splitTwo(importToBattery, iv.fromCommunityWh, gridImport);
    const [communityToLoad] = splitTwo(importToLoad, iv.fromCommunityWh - communityToBattery, gridImport - gridToBattery);
    const gridToLoad = importToLoad - communityToLoad;

    const charged: BySource = { ownPv: pvToBattery, community: communityToBattery, grid: gridToBattery };
    pool.charge(charged);
    if (iv.batteryLossWh) pool.take(iv.batteryLossWh);
    const discharged = pool.take(bd);
    const toLoad = bd === 0 ? NONE : splitBySource(batteryToLoad, discharged);
    return {
      consumptionWh: load,
      ownPvWh: pvToLoad + toLoad.ownPv,
      fromCommunityWh: communityToLoad + toLoad.community,
      fromGridWh: gridToLoad + toLoad.grid,
      charged,
      discharged,
      dischargedExported: minus(discharged, toLoad),
      soc: pool.soc,
    };
  });
}

/** One interval of a community battery at its own metering point. */
export interface CommunityBatteryInterval {
  /** Charging energy drawn at its meter. */
  readonly importWh: number;
  /** The part of it the allocation gave from the community. */
  readonly fromCommunityWh: number;
  /** Discharged energy fed in at its meter. */
  readonly exportWh: number;
  readonly lossWh?: number;
}

/**
 * Origin of what a community battery releases: community (renewable) energy it stored, or
 * grid energy it stored. Feed the grid part to `splitByOrigin` so members who received
 * community energy from the battery see it as grid-origin.
 */
export function trackCommunityBattery(intervals: readonly CommunityBatteryInterval[], initial: BySource = NONE): BySource[] {
  const pool = new SourcePool(initial);
  return intervals.map((iv, t) => {
    checkWh(iv.importWh, `interval ${t} import`);
    checkWh(iv.exportWh, `interval ${t} export`);
    checkWh(iv.fromCommunityWh, `interval ${t} community energy`);
    if (iv.fromCommunityWh > iv.importWh) throw new AllocationInputError(`interval ${t}: community energy exceeds the import`);
    pool.charge({ ownPv: 0, community: iv.fromCommunityWh, grid: iv.importWh - iv.fromCommunityWh });
    if (iv.lossWh) pool.take(iv.lossWh);
    return pool.take(iv.exportWh);
  });
}

/**
 * Splits each member's community energy into a renewable part and a grid-origin part when
 * `gridOriginWh` of the `poolWh` the community shared came from stored grid energy (a
 * community battery's grid stock). The grid-origin parts are the largest-remainder shares of
 * `gridOriginWh` in proportion to what each member received: they add up to it exactly and
 * never exceed a member's energy.
 */
export function splitByOrigin(receivedWh: Numbers, poolWh: number, gridOriginWh: number): { renewableWh: Float64Array; gridOriginWh: Float64Array } {
  if (gridOriginWh > poolWh) throw new AllocationInputError('grid-origin energy exceeds the shared energy');
  let sum = 0;
  for (let i = 0; i < receivedWh.length; i++) sum += receivedWh[i]!;
  if (sum !== poolWh) throw new AllocationInputError(`members received ${sum} Wh, the pool holds ${poolWh} Wh`);
  const grid = gridOriginWh === 0 ? new Float64Array(receivedWh.length) : apportion(gridOriginWh, receivedWh);
  const renewable = Float64Array.from(receivedWh, (v, i) => v - grid[i]!);
  return { renewableWh: renewable, gridOriginWh: grid };
}
