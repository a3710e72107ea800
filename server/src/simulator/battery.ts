/**
 * The community battery and its controller: a simple rule, as many community batteries run —
 * charge from the street's surplus, discharge into the street's deficit, within the power
 * rating and the state-of-charge window. Losses are split between charging and discharging.
 */

export interface BatteryParams {
  readonly capacityWh: number;
  readonly maxPowerW: number;
  /** Fraction of AC energy taken in that ends up stored. */
  readonly chargeEfficiency: number;
  /** Fraction of stored energy taken out that reaches the AC side. */
  readonly dischargeEfficiency: number;
  readonly minSoc: number;
  readonly maxSoc: number;
  /** Below this street imbalance the battery idles, so it does not chatter around zero. */
  readonly deadbandW: number;
  /** Controller, cooling and inverter standby, drawn from the grid all the time. */
  readonly auxiliaryW: number;
}

/** ~90 % round trip, typical of lithium-ion systems with their inverter. */
export function batteryParams(capacityWh: number, maxPowerW: number): BatteryParams {
  return {
    capacityWh,
    maxPowerW,
    chargeEfficiency: 0.95,
    dischargeEfficiency: 0.95,
    minSoc: 0.1,
    maxSoc: 0.95,
    deadbandW: 150,
    auxiliaryW: 40,
  };
}

/** AC power of the battery: positive charging, negative discharging. */
export type BatteryPowerW = number;

/**
 * What the battery does for a span of `seconds` starting with `storedWh` in it, given the
 * street's net demand (load minus production of everyone else, W; negative = surplus). The
 * power is limited so that the state of charge stays inside its window over the whole span.
 */
export function decideBatteryPower(params: BatteryParams, storedWh: number, streetNetW: number, seconds: number): BatteryPowerW {
  const hours = seconds / 3600;
  if (streetNetW < -params.deadbandW) {
    const room = Math.max(0, params.maxSoc * params.capacityWh - storedWh);
    return Math.min(-streetNetW, params.maxPowerW, room / params.chargeEfficiency / hours);
  }
  if (streetNetW > params.deadbandW) {
    const available = Math.max(0, storedWh - params.minSoc * params.capacityWh);
    return -Math.min(streetNetW, params.maxPowerW, (available * params.dischargeEfficiency) / hours);
  }
  return 0;
}

/** Change of stored energy when running at `powerW` for `hours`. */
export function storedDeltaWh(params: BatteryParams, powerW: BatteryPowerW, hours: number): number {
  return powerW >= 0 ? powerW * hours * params.chargeEfficiency : (powerW * hours) / params.dischargeEfficiency;
}
