import type { Quantity, Reading } from '../kernel/quantities.js';
import { QUANTITY_UNITS } from '../kernel/quantities.js';
import { demoDeviceId } from './seed.js';

/**
 * Gas, heat and water meters of a few Sunny Street households, read over M-Bus by the household's
 * meter reader (as a DSMR P1 reader reads the gas meter on its M-Bus channel): their registers go
 * out in the reader's own messages, through its agent and ingest like every other reading, so the
 * member's dashboard shows gas, water and heat (GET /members/{id}/utilities).
 *
 * Pure. A register is a closed form of the instant — a yearly swing (more in winter) and a daily
 * one around a mean rate that never goes below zero — so it only grows, and every start of the
 * demo (replaying any stretch, in any order of devices) writes the same value for the same
 * instant: a replayed reading is a duplicate, never a register running backwards.
 */

type UtilityQuantity = Extract<Quantity, 'gas.volume' | 'heat.energy' | 'water.volume'>;

interface UtilityMeter {
  readonly quantity: UtilityQuantity;
  /** Register unit per hour (m³ or Wh): the mean rate, its yearly swing (peak mid-January) and its daily swing (peak at `peakHourUtc`). */
  readonly meanPerHour: number;
  readonly yearlySwingPerHour: number;
  readonly dailySwingPerHour: number;
  readonly peakHourUtc: number;
  /** The register at the epoch. */
  readonly startValue: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const YEAR_MS = 365.25 * DAY_MS;
const EPOCH_MS = Date.UTC(2026, 0, 1);
const WINTER_PEAK_MS = Date.UTC(2026, 0, 15);

/** A gas boiler heating a house: about 1,200 m³ a year, five times more in January than in July. */
const gas = (scale: number, startValue: number): UtilityMeter => ({
  quantity: 'gas.volume', meanPerHour: 0.137 * scale, yearlySwingPerHour: 0.09 * scale, dailySwingPerHour: 0.04 * scale, peakHourUtc: 6, startValue,
});
/** Heat delivered (a heat pump's or district heating's heat meter): about 10 MWh a year. */
const heat = (scale: number, startValue: number): UtilityMeter => ({
  quantity: 'heat.energy', meanPerHour: 1_140 * scale, yearlySwingPerHour: 800 * scale, dailySwingPerHour: 300 * scale, peakHourUtc: 5, startValue,
});
/** Cold water of a family: about 300 litres a day, most of it in the evening. */
const water = (startValue: number): UtilityMeter => ({
  quantity: 'water.volume', meanPerHour: 0.0125, yearlySwingPerHour: 0, dailySwingPerHour: 0.01, peakHourUtc: 18, startValue,
});

/** The households' meter readers (demo-00n is Sunny Street n's) and the meters on their M-Bus. */
export const DEMO_UTILITY_METERS: ReadonlyMap<string, readonly UtilityMeter[]> = new Map([
  // Household 1: its heat pump's heat meter and the house's water meter.
  [demoDeviceId(0), [heat(1, 4_210_000), water(187.412)]],
  [demoDeviceId(1), [gas(1.1, 2_315.204)]],
  [demoDeviceId(6), [gas(0.8, 941.77)]],
  // Household 8 is on district heating.
  [demoDeviceId(7), [heat(0.7, 12_904_000)]],
  [demoDeviceId(10), [gas(1.3, 5_120.5)]],
]);

/** The register at `ms`: the integral of the rate from the epoch, in closed form. */
export function registerAt(meter: UtilityMeter, ms: number): number {
  const wave = (periodMs: number, peakMs: number) => (periodMs / HOUR_MS / (2 * Math.PI))
    * (Math.sin((2 * Math.PI * (ms - peakMs)) / periodMs) - Math.sin((2 * Math.PI * (EPOCH_MS - peakMs)) / periodMs));
  const value = meter.startValue + (meter.meanPerHour * (ms - EPOCH_MS)) / HOUR_MS
    + meter.yearlySwingPerHour * wave(YEAR_MS, WINTER_PEAK_MS)
    + meter.dailySwingPerHour * wave(DAY_MS, EPOCH_MS + meter.peakHourUtc * HOUR_MS);
  // Meters resolve a litre (0.001 m³) or a Wh: rounding a growing value keeps it from going down.
  return meter.quantity === 'heat.energy' ? Math.round(value) : Math.round(value * 1000) / 1000;
}

/** A reader's message with its M-Bus meters' registers added at each instant it reports. */
export function withUtilityReadings(deviceId: string, readings: readonly Reading[]): readonly Reading[] {
  const meters = DEMO_UTILITY_METERS.get(deviceId);
  if (!meters) return readings;
  const instants = [...new Set(readings.map((reading) => reading.ts))];
  return [
    ...readings,
    ...instants.flatMap((ts) => meters.map((meter) => ({ ts, quantity: meter.quantity, value: registerAt(meter, Date.parse(ts)), unit: QUANTITY_UNITS[meter.quantity] }))),
  ];
}
