/**
 * Energy vocabulary: whole watt-hours (never floats in a total), the quality of a figure, and
 * energy split by source, which every capability from sharing to billing speaks.
 */

/** Whole watt-hours. */
export type Wh = number;

/** How sure a figure is: measured, estimated (interpolated, substituted) or missing. */
export type Quality = 'measured' | 'estimated' | 'missing';

const QUALITY_RANK: Record<Quality, number> = { measured: 0, estimated: 1, missing: 2 };

/** The quality of a combined value is that of its weakest part. */
export function worst(...qualities: Quality[]): Quality {
  return qualities.reduce((a, b) => (QUALITY_RANK[b] > QUALITY_RANK[a] ? b : a), 'measured' as Quality);
}

/** Energy by source: consumption = self + from community + from grid; production = self + to community + to grid. */
export interface EnergyBySource {
  readonly consumptionWh: Wh;
  readonly selfConsumedWh: Wh;
  readonly fromCommunityWh: Wh;
  readonly fromGridWh: Wh;
  readonly productionWh: Wh;
  readonly toCommunityWh: Wh;
  readonly toGridWh: Wh;
}

export const ENERGY_KEYS = ['consumptionWh', 'selfConsumedWh', 'fromCommunityWh', 'fromGridWh', 'productionWh', 'toCommunityWh', 'toGridWh'] as const satisfies readonly (keyof EnergyBySource)[];


/** One member's energy in one quarter hour, split by source. */
export interface MemberInterval {
  readonly startMs: number;
  /** Own PV used on site (behind the meter), where measured. */
  readonly selfConsumedWh: Wh;
  readonly fromCommunityWh: Wh;
  readonly fromGridWh: Wh;
  readonly toCommunityWh: Wh;
  readonly toGridWh: Wh;
  /**
   * Community energy allocated to the member's import, which is what is billed; defaults to
   * fromCommunityWh. Differs only with a battery behind the meter, which stored part of it
   * (fromCommunityWh is then what was consumed from the community, directly or via the battery).
   */
  readonly billedFromCommunityWh?: Wh;
  /** Part of fromCommunityWh that a community battery had stored from the grid: no CO2 avoided. */
  readonly gridOriginCommunityWh?: Wh;
}

/** Largest Wh value a member may have in one interval (Int32 storage). */
export const MAX_INTERVAL_WH = 2_147_483_647;

/** The grid's CO2 intensity: one figure, or one per UTC hour (start of hour in ms) with a fallback. */
export type Co2Intensity =
  | { readonly kind: 'constant'; readonly gramsPerKWh: number }
  | { readonly kind: 'hourly'; readonly gramsPerKWh: ReadonlyMap<number, number>; readonly fallback: number };

/**
 * What a device measures on the site it is bound to: the billing meter gives the site's import
 * and export (one per site); production (a PV inverter) its PV; storage (a battery) its charge and
 * discharge; a sub-load (a sub-meter, an EV charger, a heat pump) is recorded and feeds neither.
 */
export const DEVICE_ROLES = ['billing-meter', 'production', 'storage', 'sub-load'] as const;
export type DeviceRole = (typeof DEVICE_ROLES)[number];
