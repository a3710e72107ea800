import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLocalClock } from '../../src/kernel/calendar.js';
import { createNeighbourhood, type NeighbourhoodConfig, type SiteReadings } from '../../src/simulator/neighbourhood.js';
import { mulberry32, noiseTrack, valueNoise } from '../../src/simulator/random.js';
import { GARDEN_HOUSE, SITE_WITH_INVERTER, sunnyStreetDevices, sunnyStreetSites, SUNNY_STREET, validateSites } from '../../src/simulator/sites.js';

const HOUR = 3_600_000;
const start = new Date('2026-07-01T00:00:00Z');
const config = (seed: number): NeighbourhoodConfig => ({ seed, sites: sunnyStreetSites(), start, ...SUNNY_STREET });

/** Steps through `instants` and returns the readings at each. */
function run(cfg: NeighbourhoodConfig, instants: number[]): SiteReadings[][] {
  const street = createNeighbourhood(cfg);
  return instants.map((t) => street.step(new Date(t)));
}

const registersOf = (readings: SiteReadings[]) =>
  readings.map((site) => Object.fromEntries(site.readings.filter((r) => /energy/.test(r.quantity)).map((r) => [r.quantity, r.value])));

describe('randomness', () => {
  it('is reproducible', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('tracks value noise exactly, in any order of evaluation', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 50 }), (xs) => {
      const track = noiseTrack(99, 1000);
      for (const x of xs) {
        const v = track(x);
        if (v !== valueNoise(99, x / 1000)) return false;
        if (v < -1 || v > 1) return false;
      }
      return true;
    }));
  });
});

describe('the community clock', () => {
  const vienna = createLocalClock('Europe/Vienna');

  it('follows daylight saving time in Vienna', () => {
    // Spring forward on 29 March 2026 at 01:00 UTC (02:00 CET → 03:00 CEST).
    expect(vienna.local(Date.parse('2026-03-29T00:30:00Z')).minute).toBe(90);
    expect(vienna.local(Date.parse('2026-03-29T01:30:00Z')).minute).toBe(210);
    // Fall back on 25 October 2026 at 01:00 UTC: 02:30 happens twice.
    expect(vienna.local(Date.parse('2026-10-25T00:30:00Z')).minute).toBe(150);
    expect(vienna.local(Date.parse('2026-10-25T01:30:00Z')).minute).toBe(150);
    expect(vienna.toUtc(Date.UTC(2026, 6, 1, 8, 0))).toBe(Date.parse('2026-07-01T06:00:00Z'));
    expect(vienna.toUtc(Date.UTC(2026, 0, 15, 8, 0))).toBe(Date.parse('2026-01-15T07:00:00Z'));
    const thursday = vienna.local(Date.parse('2026-01-01T12:00:00Z'));
    expect(thursday.weekday).toBe(4);
  });

  it('refuses an unknown zone', () => {
    expect(() => createLocalClock('Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('the neighbourhood', () => {
  it('gives the same readings for the same seed, and different ones for another seed', () => {
    const instants = [1, 2, 6, 13, 24].map((h) => start.getTime() + h * HOUR);
    const a = run(config(5), instants);
    expect(run(config(5), instants)).toEqual(a);
    expect(run(config(6), instants)).not.toEqual(a);
  });

  it('reports every site in order with plausible, non-zero starting registers', () => {
    const street = createNeighbourhood(config(5));
    const readings = street.step(start);
    expect(readings.map((r) => r.site)).toEqual(sunnyStreetSites().map((s) => s.name));
    for (const site of readings) {
      expect(site.readings.every((r) => r.ts === start.toISOString())).toBe(true);
      const imported = site.readings.find((r) => r.quantity === 'energy.import')!.value;
      expect(imported, site.site).toBeGreaterThan(1_000_000);
      expect(Number.isInteger(imported)).toBe(true);
    }
    // A PV household shows its inverter; the battery its state.
    expect(readings[2]!.readings.map((r) => r.quantity)).toEqual(['energy.import', 'energy.export', 'power.import', 'power.export', 'pv.energy', 'pv.power']);
    expect(readings[31]!.readings.map((r) => r.quantity)).toContain('battery.soc');
    // Later starts show larger registers: a meter that has been running longer.
    const later = createNeighbourhood({ ...config(5), start: new Date('2027-07-01T00:00:00Z') }).step(new Date('2027-07-01T00:00:00Z'));
    expect(later[0]!.readings[0]!.value).toBeGreaterThan(readings[0]!.readings[0]!.value);
  });

  it('integrates energy independently of the step size', () => {
    const end = start.getTime() + 48 * HOUR;
    const quarterHours = Array.from({ length: 192 }, (_, i) => start.getTime() + (i + 1) * 900_000);
    const reference = registersOf(run(config(11), quarterHours).at(-1)!);
    const oneJump = registersOf(run(config(11), [end])[0]!);
    expect(oneJump).toEqual(reference);

    fc.assert(
      // Steps of at least five minutes: 48 h stays at most 576 steps (one-millisecond steps would
      // make 172 million instants and exhaust the heap).
      fc.property(fc.array(fc.integer({ min: 300_000, max: 3 * HOUR }), { minLength: 1, maxLength: 300 }), (steps) => {
        const instants: number[] = [];
        for (let t = start.getTime(), i = 0; t < end; i++) {
          t = Math.min(end, t + steps[i % steps.length]!);
          instants.push(t);
        }
        const registers = registersOf(run(config(11), instants).at(-1)!);
        for (const [index, site] of registers.entries()) {
          for (const [quantity, value] of Object.entries(site)) {
            // Only the floating-point summation order differs: at most 1 Wh from flooring.
            expect(Math.abs(value - reference[index]![quantity]!), `${index} ${quantity}`).toBeLessThanOrEqual(1);
          }
        }
      }),
      { numRuns: 6 },
    );
  });

  it('refuses to go back in time and rejects bad sites', () => {
    const street = createNeighbourhood(config(1));
    street.step(new Date(start.getTime() + HOUR));
    expect(() => street.step(start)).toThrow(RangeError);
    expect(() => validateSites([{ kind: 'household', name: 'a' }, { kind: 'household', name: 'a' }])).toThrow(/duplicate/);
    expect(() => validateSites([{ kind: 'battery', name: 'b', capacityWh: 0, maxPowerW: 1 }])).toThrow(/capacityWh/);
    expect(() => createNeighbourhood({ ...config(1), timeZone: 'Nowhere/Land' })).toThrow(RangeError);
  });

  it('describes the demo community as the seed does', () => {
    const sites = sunnyStreetSites();
    expect(sites).toHaveLength(33);
    const pv = sites.flatMap((site, i) => (site.kind === 'household' && site.pvPeakW ? [[i + 1, site.pvPeakW]] : []));
    expect(pv).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30].map((n) => [n, 5000 + (n % 4) * 1000]));
    expect(sites[30]).toEqual({ kind: 'library', name: 'District library', pvPeakW: 60_000 });
    expect(sites[31]).toEqual({ kind: 'battery', name: 'Community battery', capacityWh: 100_000, maxPowerW: 50_000 });
    // Household 2's second site, with a meter of its own.
    expect(sites[32]).toEqual({ kind: 'household', name: GARDEN_HOUSE, annualKWh: 900 });
    // One device per site, Sunny Street 3's meter reporting the grid only beside its PV inverter.
    const devices = sunnyStreetDevices();
    expect(devices).toHaveLength(34);
    expect(devices.map((d) => d.readings).filter((r) => r !== 'all')).toEqual(['grid', 'pv']);
    expect([devices[2]!.site, devices[33]!.site]).toEqual([sites[2], sites[2]]);
    expect(sites[2]!.name).toBe(SITE_WITH_INVERTER);
  });
});
