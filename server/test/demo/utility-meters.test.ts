import { describe, expect, it } from 'vitest';
import { DEMO_UTILITY_METERS, registerAt, withUtilityReadings } from '../../src/demo/utility-meters.js';
import { demoDeviceId } from '../../src/demo/seed.js';
import type { Reading } from '../../src/kernel/quantities.js';

const HOUR = 3_600_000;
const meters = [...DEMO_UTILITY_METERS.values()].flat();

describe('the demo households\' gas, heat and water meters', () => {
  it('only ever count up, at the meter\'s resolution, the same value for the same instant at every start', () => {
    const problems: string[] = [];
    for (const meter of meters) {
      let previous = registerAt(meter, Date.UTC(2025, 11, 1));
      // Odd steps over fourteen months: every hour of the day and day of the year comes up.
      for (let ms = Date.UTC(2025, 11, 1) + 7 * 60_000; ms < Date.UTC(2027, 1, 1); ms += 97 * 60_000 + 13_000) {
        const value = registerAt(meter, ms);
        const scaled = meter.quantity === 'heat.energy' ? value : value * 1000;
        if (value < previous) problems.push(`${meter.quantity} went down at ${new Date(ms).toISOString()}`);
        if (registerAt(meter, ms) !== value) problems.push(`${meter.quantity} differs at ${new Date(ms).toISOString()}`);
        // Whole litres (0.001 m³) or whole Wh.
        if (Math.abs(scaled - Math.round(scaled)) > 1e-6) problems.push(`${meter.quantity} not whole at ${new Date(ms).toISOString()}: ${value}`);
        previous = value;
      }
    }
    expect(problems).toEqual([]);
  });

  it('use plausible amounts: more gas and heat in January than in July, about 300 litres of water a day', () => {
    const day = (meter: (typeof meters)[number], startMs: number) => registerAt(meter, startMs + 24 * HOUR) - registerAt(meter, startMs);
    for (const meter of meters.filter((m) => m.quantity !== 'water.volume')) {
      expect(day(meter, Date.UTC(2026, 0, 15))).toBeGreaterThan(3 * day(meter, Date.UTC(2026, 6, 15)));
    }
    const gas = meters.find((m) => m.quantity === 'gas.volume')!;
    expect(day(gas, Date.UTC(2026, 0, 15))).toBeGreaterThan(3);
    expect(day(gas, Date.UTC(2026, 0, 15))).toBeLessThan(15);
    const water = meters.find((m) => m.quantity === 'water.volume')!;
    expect(day(water, Date.UTC(2026, 3, 1))).toBeCloseTo(0.3, 2);
  });

  it('add the registers to a reader\'s message at each instant it reports, and leave other devices\' messages as they are', () => {
    const ts = ['2026-03-01T10:00:00.000Z', '2026-03-01T10:15:00.000Z'];
    const message: Reading[] = ts.flatMap((t) => [
      { ts: t, quantity: 'energy.import', value: 1_000, unit: 'Wh' }, { ts: t, quantity: 'energy.export', value: 0, unit: 'Wh' },
    ]);
    const first = withUtilityReadings(demoDeviceId(0), message);
    expect(first.slice(0, message.length)).toEqual(message);
    expect(first.slice(message.length).map((r) => [r.ts, r.quantity, r.unit])).toEqual([
      [ts[0], 'heat.energy', 'Wh'], [ts[0], 'water.volume', 'm3'], [ts[1], 'heat.energy', 'Wh'], [ts[1], 'water.volume', 'm3'],
    ]);
    expect(withUtilityReadings(demoDeviceId(4), message)).toBe(message);
  });
});
