import { chargerMinPowerW, type DeviceSpecs } from '@gridshare/contract/registry';
import { DEFAULT_RUN_W, evLimits, heatPumpLimits, type Limits } from './control.js';

/**
 * What a planned device can do, pure: its technical data as registry records it (the device's
 * own, else what its site records), narrowed by its member's control limits; where nothing is
 * recorded the member's limit stands in for it (as it did before devices carried data), else a
 * default. Every value says where it came from, and the plan keeps that with the asset.
 */
export type ValueSource = 'device' | 'site' | 'member-limit' | 'default';
export type Sources = Readonly<Record<string, ValueSource>>;

interface Sourced { readonly value: number; readonly source: ValueSource }

/** A technical value: the recorded one unless the member's limit is lower; else the limit; else the default. */
export function narrowed(recorded: { value: number | undefined | null; source: 'device' | 'site' }[], limit: number | undefined, fallback: number): Sourced {
  const found = recorded.find((r) => r.value !== undefined && r.value !== null);
  if (found) return limit !== undefined && limit < found.value! ? { value: limit, source: 'member-limit' } : { value: found.value!, source: found.source };
  return limit !== undefined ? { value: limit, source: 'member-limit' } : { value: fallback, source: 'default' };
}

const fixed = (value: number | undefined, fallback: number): Sourced => (value === undefined ? { value: fallback, source: 'default' } : { value, source: 'device' });

const sourcesOf = (values: Record<string, Sourced>): Sources => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.source]));

/** A battery's default capacity when neither the device, its site nor its member says. */
const BATTERY_WH = 10_000;
/** Default power: C/2 of the capacity (at least 100 W). */
const halfC = (capacityWh: number) => Math.max(100, Math.round(capacityWh / 2));
/** One direction's efficiency when the round trip is not recorded (the storage asset's default). */
const ONE_WAY_EFFICIENCY = 0.95;

export interface BatteryTechnical {
  readonly capacityWh: number;
  readonly maxChargeW: number;
  readonly maxDischargeW: number;
  /** Each direction's: the square root of the round trip. */
  readonly efficiency: number;
  readonly reserveSoc: number;
  readonly sources: Sources;
}

export function batteryTechnical(specs: DeviceSpecs, limits: Limits, siteBatteryWh: number | null): BatteryTechnical {
  const capacityWh = narrowed([{ value: specs.capacityWh, source: 'device' }, { value: siteBatteryWh, source: 'site' }], limits.capacityWh, BATTERY_WH);
  const maxChargeW = narrowed([{ value: specs.maxChargeW, source: 'device' }], limits.maxPowerW, halfC(capacityWh.value));
  const maxDischargeW = narrowed([{ value: specs.maxDischargeW, source: 'device' }], limits.maxPowerW, halfC(capacityWh.value));
  const efficiency = fixed(specs.roundTripEfficiency === undefined ? undefined : Math.sqrt(specs.roundTripEfficiency), ONE_WAY_EFFICIENCY);
  const reserveSoc: Sourced = limits.reserveSoc === undefined ? { value: 0.2, source: 'default' } : { value: limits.reserveSoc, source: 'member-limit' };
  return {
    capacityWh: capacityWh.value, maxChargeW: maxChargeW.value, maxDischargeW: maxDischargeW.value, efficiency: Math.round(efficiency.value * 1e6) / 1e6,
    reserveSoc: reserveSoc.value, sources: sourcesOf({ capacityWh, maxChargeW, maxDischargeW, efficiency, reserveSoc }),
  };
}

export interface ChargerTechnical {
  readonly maxPowerW: number;
  /** The least it charges with when it charges (0: any power). */
  readonly minPowerW: number;
  readonly sources: Sources;
}

export function chargerTechnical(specs: DeviceSpecs, limits: Limits): ChargerTechnical {
  const maxPowerW = narrowed([{ value: specs.maxPowerW, source: 'device' }], limits.maxPowerW, evLimits({}).maxPowerW);
  const least = chargerMinPowerW(specs);
  // A member's maximum below the charger's least power: it charges at exactly that maximum.
  const minPowerW: Sourced = least === undefined ? { value: 0, source: 'default' } : { value: Math.min(least, maxPowerW.value), source: 'device' };
  return { maxPowerW: maxPowerW.value, minPowerW: minPowerW.value, sources: sourcesOf({ maxPowerW, minPowerW }) };
}

export interface HeatPumpTechnical {
  readonly maxElectricW: number;
  readonly cop: number;
  readonly tankLitres: number;
  readonly tankLossWPerK: number;
  readonly sources: Sources;
}

export function heatPumpTechnical(specs: DeviceSpecs, limits: Limits): HeatPumpTechnical {
  const maxElectricW = narrowed([{ value: specs.maxElectricW, source: 'device' }], limits.maxPowerW, heatPumpLimits({}).maxPowerW);
  const cop = fixed(specs.cop, 3);
  const tankLitres = fixed(specs.tankLitres, 300);
  const tankLossWPerK = fixed(specs.tankLossWPerK, 2);
  return {
    maxElectricW: maxElectricW.value, cop: cop.value, tankLitres: tankLitres.value, tankLossWPerK: tankLossWPerK.value,
    sources: sourcesOf({ maxElectricW, cop, tankLitres, tankLossWPerK }),
  };
}

/** An appliance's run: the programme its member set, else the one its device records, else a washing machine's. */
export function applianceRun(specs: DeviceSpecs, limits: Limits): { readonly runPowerW: readonly number[]; readonly sources: Sources } {
  if (limits.runPowerW !== undefined) return { runPowerW: limits.runPowerW, sources: { runPowerW: 'member-limit' } };
  if (specs.runProfileW !== undefined) return { runPowerW: specs.runProfileW, sources: { runPowerW: 'device' } };
  return { runPowerW: DEFAULT_RUN_W, sources: { runPowerW: 'default' } };
}
