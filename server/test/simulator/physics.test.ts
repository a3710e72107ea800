import { beforeAll, describe, expect, it } from 'vitest';
import { createNeighbourhood, type SiteReadings } from '../../src/simulator/neighbourhood.js';
import { pvPowerW, type PvSystem } from '../../src/simulator/pv.js';
import { GARDEN_HOUSE, sunnyStreetSites, SUNNY_STREET } from '../../src/simulator/sites.js';
import { clearSky, sunPosition } from '../../src/simulator/sun.js';
import { CLEAR_SKY } from '../../src/simulator/weather.js';
import { batteryParams } from '../../src/simulator/battery.js';
import type { Quantity } from '../../src/kernel/quantities.js';

const DEG = Math.PI / 180;
const MINUTE = 60_000;
const { latitude, longitude } = SUNNY_STREET;

const southRoof = (peakW: number): PvSystem => ({
  peakW,
  plane: { tilt: 30 * DEG, azimuth: 180 * DEG },
  efficiency: 0.87,
  cloudDelayMs: 0,
  wobble: () => 0,
});

/** A cloudless day, minute by minute: energy in Wh and when the power peaked. */
function clearDay(system: PvSystem, day: string, ambientC: number) {
  const start = Date.parse(`${day}T00:00:00Z`);
  let wh = 0;
  let peakW = 0;
  let peakAt = 0;
  const powers: number[] = [];
  for (let t = start; t < start + 86_400_000; t += MINUTE) {
    const sun = sunPosition(t + MINUTE / 2, latitude, longitude);
    const power = pvPowerW(system, t, sun, clearSky(sun), CLEAR_SKY, ambientC);
    powers.push(power);
    wh += power / 60;
    if (power > peakW) [peakW, peakAt] = [power, t];
  }
  return { wh, peakW, peakAt, powers };
}

const value = (site: SiteReadings, quantity: Quantity): number => {
  const reading = site.readings.find((r) => r.quantity === quantity);
  if (!reading) throw new Error(`${site.site} has no ${quantity}`);
  return reading.value;
};

describe('sun position (NOAA / Spencer)', () => {
  it('puts the sun where it is over Vienna at the solstices', () => {
    // Solar noon in Vienna is ~10:56 UTC in June (16.38° E, equation of time −2 min).
    const june = sunPosition(Date.parse('2026-06-21T10:56:00Z'), latitude, longitude);
    expect(june.elevation / DEG).toBeCloseTo(90 - 48.17 + 23.44, 0);
    expect(june.azimuth / DEG).toBeCloseTo(180, -1);
    const december = sunPosition(Date.parse('2026-12-21T10:53:00Z'), latitude, longitude);
    expect(december.elevation / DEG).toBeCloseTo(90 - 48.17 - 23.44, 0);
    // Sunrise on 21 June is ~04:53 CEST = 02:53 UTC.
    expect(sunPosition(Date.parse('2026-06-21T02:30:00Z'), latitude, longitude).elevation).toBeLessThan(0);
    expect(sunPosition(Date.parse('2026-06-21T03:30:00Z'), latitude, longitude).elevation).toBeGreaterThan(0);
    // Morning sun is in the east, evening sun in the west.
    expect(sunPosition(Date.parse('2026-06-21T05:00:00Z'), latitude, longitude).azimuth / DEG).toBeLessThan(120);
    expect(sunPosition(Date.parse('2026-06-21T17:00:00Z'), latitude, longitude).azimuth / DEG).toBeGreaterThan(240);
  });
});

describe('PV on a clear day', () => {
  it('is zero at night and peaks near solar noon', () => {
    const day = clearDay(southRoof(5000), '2026-06-21', 24);
    const start = Date.parse('2026-06-21T00:00:00Z');
    // 00:00–02:30 and 19:30–24:00 UTC are night in Vienna in June.
    expect(day.powers.slice(0, 150).every((p) => p === 0)).toBe(true);
    expect(day.powers.slice(19.5 * 60).every((p) => p === 0)).toBe(true);
    const solarNoon = Date.parse('2026-06-21T10:56:00Z');
    expect(Math.abs(day.peakAt - solarNoon)).toBeLessThanOrEqual(20 * MINUTE);
    expect(day.peakAt).toBeGreaterThan(start);
  });

  it('yields 15–40 kWh from 5 kWp on a clear summer day, much less in winter, and never exceeds the rating', () => {
    const summer = clearDay(southRoof(5000), '2026-06-21', 24);
    const winter = clearDay(southRoof(5000), '2026-12-21', 1);
    expect(summer.wh / 1000).toBeGreaterThan(15);
    expect(summer.wh / 1000).toBeLessThan(40);
    expect(winter.wh).toBeLessThan(0.5 * summer.wh);
    expect(winter.wh).toBeGreaterThan(0);
    expect(summer.peakW).toBeLessThanOrEqual(1.1 * 5000);
    expect(Math.min(...summer.powers, ...winter.powers)).toBeGreaterThanOrEqual(0);
  });
});

describe('a year of Sunny Street in 15-minute steps', () => {
  const sites = sunnyStreetSites();
  const batteryIndex = sites.findIndex((site) => site.kind === 'battery');
  const battery = batteryParams(100_000, 50_000);
  let totals: ReturnType<ReturnType<typeof createNeighbourhood>['totals']>;
  const problems: string[] = [];
  let socMin = Infinity;
  let socMax = -Infinity;
  let maxPvShare = 0;
  let nightLoadW = 0;
  let nightSamples = 0;
  let elapsedMs = 0;

  beforeAll(() => {
    const began = performance.now();
    const start = new Date('2025-01-01T00:00:00Z');
    const street = createNeighbourhood({ seed: 2026, sites, start, ...SUNNY_STREET });
    const previous = new Map<string, number>();
    const first = street.step(start);
    for (const site of first) for (const r of site.readings) previous.set(`${site.site}|${r.quantity}`, r.value);
    for (let t = start.getTime() + 15 * MINUTE; t <= Date.parse('2026-01-01T00:00:00Z'); t += 15 * MINUTE) {
      const readings = street.step(new Date(t));
      const localHour = (new Date(t).getUTCHours() + 1) % 24; // CET is enough to pick the small hours
      for (const [index, site] of readings.entries()) {
        for (const r of site.readings) {
          if (r.quantity.startsWith('energy.') || r.quantity.endsWith('.energy') || r.quantity.startsWith('battery.energy')) {
            const key = `${site.site}|${r.quantity}`;
            if (!Number.isInteger(r.value)) problems.push(`${key} not an integer: ${r.value}`);
            if (r.value < (previous.get(key) ?? 0)) problems.push(`${key} went backwards at ${r.ts}`);
            previous.set(key, r.value);
          }
        }
        if (value(site, 'power.import') > 0 && value(site, 'power.export') > 0) problems.push(`${site.site} imports and exports at ${site.readings[0]!.ts}`);
        const spec = sites[index]!;
        if (spec.kind !== 'battery' && spec.pvPeakW) maxPvShare = Math.max(maxPvShare, value(site, 'pv.power') / spec.pvPeakW);
        if (spec.kind === 'household' && !spec.pvPeakW && localHour >= 2 && localHour < 4) {
          nightLoadW += value(site, 'power.import');
          nightSamples += 1;
        }
      }
      const soc = value(readings[batteryIndex]!, 'battery.soc');
      socMin = Math.min(socMin, soc);
      socMax = Math.max(socMax, soc);
    }
    totals = street.totals();
    elapsedMs = performance.now() - began;
  });

  it('runs fast', () => {
    expect(elapsedMs).toBeLessThan(20_000);
  });

  it('gives every household 2,500–4,500 kWh a year', () => {
    const households = totals.filter((site) => site.kind === 'household' && site.site !== GARDEN_HOUSE);
    expect(households).toHaveLength(30);
    // Household 2's garden house is a small second site.
    const garden = totals.find((site) => site.site === GARDEN_HOUSE)!;
    expect(garden.loadWh / 1000).toBeGreaterThan(600);
    expect(garden.loadWh / 1000).toBeLessThan(1_200);
    for (const home of households) {
      expect(home.loadWh / 1000, home.site).toBeGreaterThan(2500);
      expect(home.loadWh / 1000, home.site).toBeLessThan(4500);
    }
  });

  it('has a night base load of a few hundred watts', () => {
    expect(nightLoadW / nightSamples).toBeGreaterThan(150);
    expect(nightLoadW / nightSamples).toBeLessThan(300);
  });

  it('yields a Vienna-like 900–1,300 kWh per kWp a year, never above 1.1 × the rating', () => {
    for (const [index, spec] of sites.entries()) {
      if (spec.kind === 'battery' || !spec.pvPeakW) continue;
      const specific = totals[index]!.pvWh / spec.pvPeakW;
      expect(specific, spec.name).toBeGreaterThan(900);
      expect(specific, spec.name).toBeLessThan(1300);
    }
    expect(maxPvShare).toBeLessThanOrEqual(1.1);
    expect(maxPvShare).toBeGreaterThan(0.6);
  });

  it('makes the library a net producer', () => {
    const library = totals.find((site) => site.kind === 'library')!;
    expect(library.exportWh).toBeGreaterThan(library.importWh);
    expect(library.loadWh / 1e6).toBeGreaterThan(25);
    expect(library.loadWh / 1e6).toBeLessThan(50);
  });

  it('keeps registers monotone integers and never imports and exports at once', () => {
    expect(problems).toEqual([]);
  });

  it('keeps the battery inside 10–95 % and uses it', () => {
    expect(socMin).toBeGreaterThanOrEqual(10);
    expect(socMax).toBeLessThanOrEqual(95);
    const stored = totals[batteryIndex]!;
    // At least 100 full cycles a year from the street's surplus.
    expect(stored.chargeWh).toBeGreaterThan(100 * 100_000);
  });

  it('conserves energy at the battery: charged × η_in − discharged / η_out = Δ stored', () => {
    const b = totals[batteryIndex]!;
    const balance = b.chargeWh * battery.chargeEfficiency - b.dischargeWh / battery.dischargeEfficiency;
    expect(Math.abs(balance - (b.storedWh - b.initialStoredWh))).toBeLessThan(1);
    // Round trip: about 10 % is lost.
    expect(b.dischargeWh).toBeLessThan(b.chargeWh);
    // Its meter exports what it discharges, less its own small consumption meanwhile.
    expect(b.exportWh).toBeLessThanOrEqual(b.dischargeWh);
    expect(b.exportWh).toBeGreaterThan(0.95 * b.dischargeWh);
  });

  it('balances every meter: import − export = load − PV (+ battery)', () => {
    for (const site of totals) {
      const expected = site.loadWh - site.pvWh + site.chargeWh - site.dischargeWh;
      expect(site.importWh - site.exportWh, site.site).toBeCloseTo(expected, -1);
    }
  });
});
