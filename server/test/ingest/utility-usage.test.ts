import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { utilityUsage, type RegisterReading } from '../../src/ingest/domain/utility-usage.js';

const HOUR = 3_600_000;
const at = (hours: number) => Date.UTC(2026, 10, 1) + hours * HOUR;
const hourly = (count: number) => Array.from({ length: count + 1 }, (_, i) => at(i));
const water = (hours: number, m3: number, deviceId = 'meter-1'): RegisterReading => ({ deviceId, quantity: 'water.volume', ts: at(hours), value: m3 });

describe('gas, water and heat per bucket', () => {
  it('interpolates the register at each boundary and counts whole litres', () => {
    // 1.000 m³ at 00:30, 1.300 m³ at 02:30: 300 L over two hours, 75 L in the first half hour's hour.
    const [usage] = utilityUsage([water(0.5, 1), water(2.5, 1.3)], hourly(3));
    expect(usage).toMatchObject({ quantity: 'water.volume', unit: 'L', total: 300 });
    expect(usage!.buckets.map((b) => [b.amount, b.complete])).toEqual([[75, false], [150, true], [75, false]]);
  });

  it('says unknown, not zero, where no two readings bracket the bucket, and zero where the meter stood still', () => {
    const [usage] = utilityUsage([water(1, 5), water(2, 5)], hourly(3));
    expect(usage!.buckets.map((b) => b.amount)).toEqual([null, 0, null]);
    expect(usage!.total).toBe(0);
  });

  it('uses readings outside the range to interpolate its edges, and adds up several meters of the same quantity', () => {
    const readings = [water(-1, 10), water(5, 10.6), water(0, 20, 'meter-2'), water(1, 20.01, 'meter-2'), water(2, 20.02, 'meter-2')];
    const [usage] = utilityUsage(readings, hourly(2));
    // meter-1: 100 L an hour; meter-2: 10 L an hour, and only up to 02:00.
    expect(usage!.buckets.map((b) => [b.amount, b.complete])).toEqual([[110, true], [110, true]]);
  });

  it('starts again after a meter exchange (the register drops) without counting the drop or the gap', () => {
    const gas: RegisterReading[] = [
      { deviceId: 'g', quantity: 'gas.volume', ts: at(0), value: 4_000 },
      { deviceId: 'g', quantity: 'gas.volume', ts: at(1), value: 4_000.5 },
      { deviceId: 'g', quantity: 'gas.volume', ts: at(1.5), value: 0.1 },
      { deviceId: 'g', quantity: 'gas.volume', ts: at(2), value: 0.3 },
      { deviceId: 'g', quantity: 'gas.volume', ts: at(3), value: 0.4 },
    ];
    const [usage] = utilityUsage(gas, hourly(3));
    expect(usage!.buckets.map((b) => [b.amount, b.complete])).toEqual([[500, true], [200, false], [100, true]]);
    expect(usage!.total).toBe(800);
  });

  it('keeps each quantity apart, in a fixed order, with heat in whole Wh; skips NaN', () => {
    const usage = utilityUsage([
      { deviceId: 'h', quantity: 'heat.energy', ts: at(0), value: 1_000_000 },
      { deviceId: 'h', quantity: 'heat.energy', ts: at(1), value: 1_002_500 },
      { deviceId: 'h', quantity: 'heat.energy', ts: at(0.5), value: Number.NaN },
      water(0, 1), water(1, 1.001),
    ], hourly(1));
    expect(usage.map((u) => [u.quantity, u.unit, u.total])).toEqual([['water.volume', 'L', 1], ['heat.energy', 'Wh', 2_500]]);
  });

  it('adds up exactly to the difference of the first and last reading inside the range, whatever the readings', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ offsetMin: fc.integer({ min: 0, max: 6 * 60 }), litres: fc.integer({ min: 0, max: 5_000 }) }), { minLength: 2, maxLength: 40 }),
      (steps) => {
        // A growing register with readings at arbitrary instants (deduplicated), six hourly buckets.
        const instants = [...new Set(steps.map((s) => s.offsetMin))].sort((a, b) => a - b);
        let register = 12.345;
        const readings = instants.map((minute, i) => {
          register += steps[i]!.litres / 997;
          return { deviceId: 'w', quantity: 'water.volume' as const, ts: at(minute / 60), value: register };
        });
        const [usage] = utilityUsage(readings, hourly(6));
        const whole = (m3: number) => Math.round(m3 * 1000);
        const expected = readings.length < 2 ? 0 : whole(readings[readings.length - 1]!.value) - whole(readings[0]!.value);
        expect(usage!.total).toBe(expected);
        for (const bucket of usage!.buckets) expect(bucket.amount === null || (Number.isInteger(bucket.amount) && bucket.amount >= 0)).toBe(true);
      },
    ));
  });
});
