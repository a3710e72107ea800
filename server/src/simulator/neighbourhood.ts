/**
 * The street as a whole: every site's load, PV and battery on one time grid, with the meters
 * that count it. Pure and deterministic: the same seed, sites and start give the same readings,
 * and energy does not depend on how the caller steps through time.
 *
 * Time is cut into cells (60 s by default) aligned to the UTC epoch. Within a cell every power
 * is constant (loads are cell means, PV is sampled at the middle), so integrating a partial
 * cell is exact and a year in 15-minute steps or in 1-second steps gives the same registers.
 * The battery decides once per cell, from the street's net in that cell and its charge when
 * the cell begins, which keeps its state of charge inside its window for the whole cell.
 */
import { QUANTITY_UNITS, type Quantity, type Reading } from '../kernel/quantities.js';
import { batteryParams, decideBatteryPower, storedDeltaWh, type BatteryParams } from './battery.js';
import type { Cell } from './cell.js';
import { createHousehold } from './household.js';
import { createLibrary } from './library.js';
import { createLocalClock } from '../kernel/calendar.js';
import { createPvSystem, FLAT_ROOF, HOUSE_ROOF, pvPowerW, type PvSystem } from './pv.js';
import { deriveSeed, mulberry32, uniform } from './random.js';
import { EnergyRegister } from './register.js';
import { validateSites, type SiteSpec } from './sites.js';
import { clearSky, sunPosition } from './sun.js';
import { createWeather, winterness, type RoofSky } from './weather.js';

import { HOUR_MS } from '../kernel/time.js';
const YEAR_MS = 365.2425 * 24 * HOUR_MS;
/** Meter readings at the start are "years in service" from this reference, so later starts show larger registers. */
const REGISTER_REFERENCE_MS = Date.UTC(2026, 0, 1);
/** Typical Vienna yield of a south-facing roof, Wh per W of peak power per year. */
const TYPICAL_YIELD_WH_PER_W = 1050;

export interface NeighbourhoodConfig {
  readonly seed: number;
  readonly sites: readonly SiteSpec[];
  readonly start: Date;
  readonly latitude: number;
  readonly longitude: number;
  /** IANA zone for the residents' daily rhythm, e.g. "Europe/Vienna". */
  readonly timeZone: string;
  /** Length of a simulation cell in seconds (power is constant within one); default 60. */
  readonly resolutionSeconds?: number;
}

/** What one site's meter (and inverter or battery) reports at one instant. */
export interface SiteReadings {
  readonly site: string;
  readonly readings: Reading[];
}

/** Unrounded energy flows since the start, for analysis and tests. */
export interface SiteTotals {
  readonly site: string;
  readonly kind: SiteSpec['kind'];
  /** Consumption of the site itself (for the battery: its controller and cooling). */
  readonly loadWh: number;
  readonly pvWh: number;
  readonly importWh: number;
  readonly exportWh: number;
  /** AC energy into / out of a battery. */
  readonly chargeWh: number;
  readonly dischargeWh: number;
  /** Energy stored in a battery now, and at the start. */
  readonly storedWh: number;
  readonly initialStoredWh: number;
}

export interface Neighbourhood {
  readonly sites: readonly SiteSpec[];
  /** The simulated instant reached so far. */
  now(): Date;
  /** Advances to `to` (any distance, not backwards) and returns every site's readings at `to`, in site order. */
  step(to: Date): SiteReadings[];
  totals(): SiteTotals[];
}

interface BatteryState {
  readonly params: BatteryParams;
  storedWh: number;
  readonly initialStoredWh: number;
  readonly charge: EnergyRegister;
  readonly discharge: EnergyRegister;
}

interface SiteModel {
  readonly spec: SiteSpec;
  readonly loadOf: ((cell: Cell) => number) | undefined;
  readonly pv: PvSystem | undefined;
  readonly sky: RoofSky | undefined;
  readonly battery: BatteryState | undefined;
  readonly imports: EnergyRegister;
  readonly exports: EnergyRegister;
  readonly pvEnergy: EnergyRegister | undefined;
  loadWh: number;
  /** Powers in the current cell, W (battery: + charging, − discharging). */
  loadW: number;
  pvW: number;
  batteryW: number;
}

/** Site power at the grid connection: + import, − export. */
function netW(site: SiteModel): number {
  return site.loadW - site.pvW + site.batteryW;
}

/** Plausible meter readings for a site that has been in service for some years. */
function initialRegisters(seed: number, spec: SiteSpec, annualLoadWh: number, start: number) {
  const rng = mulberry32(deriveSeed(seed, 'meter', spec.name));
  const installed = REGISTER_REFERENCE_MS - uniform(rng, 1, 7) * YEAR_MS;
  const years = Math.max(0.1, (start - installed) / YEAR_MS);
  const pvYearWh = spec.kind === 'battery' ? 0 : (spec.pvPeakW ?? 0) * TYPICAL_YIELD_WH_PER_W;
  let importYearWh: number;
  let exportYearWh: number;
  let batteryYearWh = 0;
  if (spec.kind === 'battery') {
    // ~250 full cycles a year.
    batteryYearWh = 250 * spec.capacityWh;
    importYearWh = batteryYearWh;
    exportYearWh = batteryYearWh * 0.9;
  } else {
    const selfUse = Math.min((spec.kind === 'library' ? 0.55 : 0.3) * annualLoadWh, 0.35 * pvYearWh);
    importYearWh = annualLoadWh - selfUse;
    exportYearWh = pvYearWh - selfUse;
  }
  const at = (perYear: number) => Math.round(perYear * years * uniform(rng, 0.9, 1.1));
  return {
    importWh: at(importYearWh),
    exportWh: at(exportYearWh),
    pvWh: at(pvYearWh),
    chargeWh: at(batteryYearWh),
    dischargeWh: at(batteryYearWh * 0.9),
    soc: uniform(rng, 0.3, 0.7),
  };
}

export function createNeighbourhood(config: NeighbourhoodConfig): Neighbourhood {
  validateSites(config.sites);
  const resolutionMs = Math.round((config.resolutionSeconds ?? 60) * 1000);
  if (!(resolutionMs >= 1000 && resolutionMs <= 3_600_000)) throw new RangeError('resolutionSeconds must be between 1 and 3600');
  if (!(Math.abs(config.latitude) <= 90 && Math.abs(config.longitude) <= 180)) throw new RangeError('latitude/longitude out of range');
  let now = config.start.getTime();
  if (!Number.isFinite(now)) throw new RangeError('start is not a valid date');

  const clock = createLocalClock(config.timeZone);
  const weather = createWeather(config.seed);
  const sites: SiteModel[] = config.sites.map((spec) => {
    let loadOf: ((cell: Cell) => number) | undefined;
    let annualLoadWh = 0;
    let pv: PvSystem | undefined;
    let battery: BatteryState | undefined;
    if (spec.kind === 'household') {
      const home = createHousehold(config.seed, spec, clock);
      loadOf = home.loadW;
      annualLoadWh = home.traits.annualKWh * 1000;
      if (spec.pvPeakW) pv = createPvSystem(config.seed, spec.name, spec.pvPeakW, HOUSE_ROOF);
    } else if (spec.kind === 'library') {
      loadOf = createLibrary(config.seed, spec.name).loadW;
      annualLoadWh = 37_000_000;
      if (spec.pvPeakW) pv = createPvSystem(config.seed, spec.name, spec.pvPeakW, FLAT_ROOF);
    }
    const initial = initialRegisters(config.seed, spec, annualLoadWh, now);
    if (spec.kind === 'battery') {
      const params = batteryParams(spec.capacityWh, spec.maxPowerW);
      // The battery's own consumption (controller, cooling) is its site's load.
      loadOf = () => params.auxiliaryW;
      const storedWh = initial.soc * params.capacityWh;
      battery = { params, storedWh, initialStoredWh: storedWh, charge: new EnergyRegister(initial.chargeWh), discharge: new EnergyRegister(initial.dischargeWh) };
    }
    return {
      spec, loadOf, pv, battery,
      sky: pv ? weather.roof(pv.cloudDelayMs) : undefined,
      imports: new EnergyRegister(initial.importWh),
      exports: new EnergyRegister(initial.exportWh),
      pvEnergy: pv ? new EnergyRegister(initial.pvWh) : undefined,
      loadWh: 0, loadW: 0, pvW: 0, batteryW: 0,
    };
  });

  let cellIndex = Number.NaN;
  const enterCell = (index: number) => {
    const start = index * resolutionMs;
    const mid = start + resolutionMs / 2;
    const sun = sunPosition(mid, config.latitude, config.longitude);
    const local = clock.local(mid);
    const winter = winterness(local.day);
    const cover = weather.cover(mid);
    const cell: Cell = {
      start, end: start + resolutionMs, mid, local,
      weekend: local.weekday === 0 || local.weekday === 6,
      winter, sun, clear: clearSky(sun), cover,
      ambientC: weather.ambientC(mid, local, winter, cover),
    };
    let streetW = 0;
    for (const site of sites) {
      site.loadW = site.loadOf ? site.loadOf(cell) : 0;
      site.pvW = site.pv && site.sky && sun.elevation > 0 ? pvPowerW(site.pv, mid, sun, cell.clear, site.sky(mid, cover), cell.ambientC) : 0;
      if (!site.battery) streetW += site.loadW - site.pvW;
    }
    // Several batteries serve the street in turn: each covers what the ones before it left.
    for (const site of sites) {
      if (!site.battery) continue;
      site.batteryW = decideBatteryPower(site.battery.params, site.battery.storedWh, streetW, resolutionMs / 1000);
      streetW += site.batteryW;
    }
    cellIndex = index;
  };

  const advance = (hours: number) => {
    for (const site of sites) {
      const net = netW(site);
      if (net > 0) site.imports.add(net * hours);
      else site.exports.add(-net * hours);
      site.loadWh += site.loadW * hours;
      site.pvEnergy?.add(site.pvW * hours);
      const battery = site.battery;
      if (battery) {
        if (site.batteryW > 0) battery.charge.add(site.batteryW * hours);
        else battery.discharge.add(-site.batteryW * hours);
        battery.storedWh += storedDeltaWh(battery.params, site.batteryW, hours);
      }
    }
  };

  const readingsAt = (): SiteReadings[] => {
    const ts = new Date(now).toISOString();
    const reading = (quantity: Quantity, value: number): Reading => ({ ts, quantity, value, unit: QUANTITY_UNITS[quantity] });
    return sites.map((site) => {
      const net = netW(site);
      // Rounded separately, but from one signed value: at most one of them is non-zero.
      const readings: Reading[] = [
        reading('energy.import', site.imports.value),
        reading('energy.export', site.exports.value),
        reading('power.import', Math.round(Math.max(0, net))),
        reading('power.export', Math.round(Math.max(0, -net))),
      ];
      if (site.pv && site.pvEnergy) {
        readings.push(reading('pv.energy', site.pvEnergy.value), reading('pv.power', Math.round(site.pvW)));
      }
      const battery = site.battery;
      if (battery) {
        const soc = (100 * battery.storedWh) / battery.params.capacityWh;
        readings.push(
          reading('battery.soc', Math.round(soc * 10) / 10),
          reading('battery.power.charge', Math.round(Math.max(0, site.batteryW))),
          reading('battery.power.discharge', Math.round(Math.max(0, -site.batteryW))),
          reading('battery.energy.charge', battery.charge.value),
          reading('battery.energy.discharge', battery.discharge.value),
        );
      }
      return { site: site.spec.name, readings };
    });
  };

  // The instant values at the start are those of the cell it falls in.
  enterCell(Math.floor(now / resolutionMs));

  return {
    sites: config.sites,
    now: () => new Date(now),
    step(to) {
      const target = to.getTime();
      if (!Number.isFinite(target)) throw new RangeError('step: not a valid date');
      if (target < now) throw new RangeError(`step: cannot go back from ${new Date(now).toISOString()} to ${to.toISOString()}`);
      while (now < target) {
        const index = Math.floor(now / resolutionMs);
        if (index !== cellIndex) enterCell(index);
        const end = Math.min(target, (index + 1) * resolutionMs);
        advance((end - now) / HOUR_MS);
        now = end;
      }
      return readingsAt();
    },
    totals: () =>
      sites.map((site) => ({
        site: site.spec.name,
        kind: site.spec.kind,
        loadWh: site.loadWh,
        pvWh: site.pvEnergy?.accumulatedWh ?? 0,
        importWh: site.imports.accumulatedWh,
        exportWh: site.exports.accumulatedWh,
        chargeWh: site.battery?.charge.accumulatedWh ?? 0,
        dischargeWh: site.battery?.discharge.accumulatedWh ?? 0,
        storedWh: site.battery?.storedWh ?? 0,
        initialStoredWh: site.battery?.initialStoredWh ?? 0,
      })),
  };
}
