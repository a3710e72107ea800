import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { meanRunPowerW, runTimeline, type ApplianceRun } from '../../src/simulator/appliances.js';
import { batteryParams, decideBatteryPower, storedDeltaWh } from '../../src/simulator/battery.js';
import { parseDevicesFile } from '../../src/simulator/devices-file.js';
import { householdTraits } from '../../src/simulator/household.js';
import { openness } from '../../src/simulator/library.js';
import { EnergyRegister } from '../../src/simulator/register.js';

describe('appliance runs', () => {
  const run = fc.record({ start: fc.integer({ min: 0, max: 10_000 }), length: fc.integer({ min: 1, max: 3_000 }), watts: fc.integer({ min: 1, max: 11_000 }) })
    .map(({ start, length, watts }): ApplianceRun => ({ start, end: start + length, watts }));

  it('gives the same mean power from the timeline as from the list, in any query order', () => {
    fc.assert(fc.property(fc.array(run, { maxLength: 12 }), fc.array(fc.tuple(fc.integer({ min: -500, max: 14_000 }), fc.integer({ min: 1, max: 2_000 })), { minLength: 1, maxLength: 40 }), (runs, queries) => {
      const timeline = runTimeline(runs);
      for (const [from, length] of queries) {
        expect(timeline.meanPowerW(from, from + length)).toBeCloseTo(meanRunPowerW(runs, from, from + length), 6);
      }
    }));
  });
});

describe('households', () => {
  it('are different from one another but the same for the same seed', () => {
    const a = householdTraits(1, { name: 'A' });
    expect(householdTraits(1, { name: 'A' })).toEqual(a);
    expect(householdTraits(1, { name: 'B' }).annualKWh).not.toBe(a.annualKWh);
    expect(householdTraits(2, { name: 'A' }).annualKWh).not.toBe(a.annualKWh);
  });

  it('have 2,700–4,200 kWh a year, a car adds to it, and an explicit target is kept', () => {
    for (let n = 0; n < 50; n++) {
      const home = householdTraits(7, { name: `home ${n}` });
      expect(home.annualKWh).toBeGreaterThanOrEqual(2700);
      expect(home.annualKWh).toBeLessThanOrEqual(4200);
      expect(home.shapeW).toBeGreaterThan(0);
      expect(home.standbyW).toBeGreaterThan(60);
      expect(home.standbyW).toBeLessThan(250);
    }
    const withCar = householdTraits(7, { name: 'garage', evChargerW: 11_000 });
    expect(withCar.annualKWh).toBeGreaterThan(3800);
    expect(withCar.annualKWh).toBeLessThan(4450);
    expect(withCar.appliances.map((a) => a.name)).toContain('electric car');
    expect(householdTraits(7, { name: 'x', annualKWh: 3000 }).annualKWh).toBe(3000);
  });
});

describe('the library', () => {
  it('is open on weekdays and Saturday mornings only', () => {
    expect(openness(0, 12 * 60)).toBe(0);
    expect(openness(2, 12 * 60)).toBe(1);
    expect(openness(2, 3 * 60)).toBe(0);
    expect(openness(6, 11 * 60)).toBe(1);
    expect(openness(6, 16 * 60)).toBe(0);
  });
});

describe('the battery controller', () => {
  const params = batteryParams(100_000, 50_000);

  it('charges from surplus and discharges into deficit within its power rating', () => {
    expect(decideBatteryPower(params, 50_000, -20_000, 60)).toBe(20_000);
    expect(decideBatteryPower(params, 50_000, -80_000, 60)).toBe(50_000);
    expect(decideBatteryPower(params, 50_000, 12_000, 60)).toBe(-12_000);
    expect(decideBatteryPower(params, 50_000, 100, 60)).toBe(0);
  });

  it('never leaves the 10–95 % window over the span it decides for', () => {
    fc.assert(fc.property(
      fc.double({ min: 10_000, max: 95_000, noNaN: true }),
      fc.double({ min: -200_000, max: 200_000, noNaN: true }),
      fc.integer({ min: 1, max: 3600 }),
      (stored, street, seconds) => {
        const power = decideBatteryPower(params, stored, street, seconds);
        const after = stored + storedDeltaWh(params, power, seconds / 3600);
        return after >= 10_000 - 1e-6 && after <= 95_000 + 1e-6 && Math.abs(power) <= 50_000;
      },
    ));
  });
});

describe('energy registers', () => {
  it('only grow and show whole Wh', () => {
    const register = new EnergyRegister(1000);
    register.add(0.4);
    expect(register.value).toBe(1000);
    register.add(0.7);
    expect(register.value).toBe(1001);
    register.add(-50);
    expect(register.value).toBe(1001);
    expect(() => new EnergyRegister(-1)).toThrow(RangeError);
  });
});

describe('the devices file', () => {
  const entry = { deviceId: 'demo-001', connectionString: 'HostName=h;DeviceId=demo-001;SharedAccessKey=a2V5', site: { kind: 'household', name: 'Sunny Street 1', pvPeakW: 5000 } };

  it('reads a list or { devices }', () => {
    expect(parseDevicesFile(JSON.stringify([entry]))).toEqual([entry]);
    expect(parseDevicesFile(JSON.stringify({ devices: [entry] }))).toEqual([entry]);
  });

  it('names what is wrong', () => {
    expect(() => parseDevicesFile('{')).toThrow(/JSON/);
    expect(() => parseDevicesFile('[]')).toThrow(/non-empty/);
    expect(() => parseDevicesFile(JSON.stringify([{ ...entry, deviceId: 'a/b' }]))).toThrow(/devices\[0\]\/deviceId/);
    expect(() => parseDevicesFile(JSON.stringify([{ ...entry, site: { kind: 'castle', name: 'x' } }]))).toThrow(/site\/kind/);
    expect(() => parseDevicesFile(JSON.stringify([{ ...entry, site: { kind: 'battery', name: 'b', capacityWh: 1 } }]))).toThrow(/maxPowerW/);
    expect(() => parseDevicesFile(JSON.stringify([entry, entry]))).toThrow(/twice/);
    // Two devices may measure one site (a grid meter and a PV inverter), if they describe it alike.
    expect(parseDevicesFile(JSON.stringify([{ ...entry, readings: 'grid' }, { ...entry, deviceId: 'demo-002', readings: 'pv' }])).map((d) => d.readings)).toEqual(['grid', 'pv']);
    expect(() => parseDevicesFile(JSON.stringify([entry, { ...entry, deviceId: 'demo-002', site: { ...entry.site, annualKWh: 1234 } }]))).toThrow(/described differently/);
    expect(() => parseDevicesFile(JSON.stringify([{ ...entry, readings: 'water' }]))).toThrow(/devices\[0\]\/readings/);
  });
});
