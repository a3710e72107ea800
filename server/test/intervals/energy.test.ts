import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { energyFromPower, energyFromRegister, type Sample } from '../../src/intervals/domain/energy.js';

import { QUARTER_HOUR_MS } from '../../src/kernel/time.js';
const T0 = Date.parse('2026-11-20T10:00:00Z');
const MIN = 60_000;

describe('interval energy from registers', () => {
  it('readings on the boundaries give exact differences', () => {
    const samples = [0, 1, 2, 3].map((i) => ({ ts: T0 + i * QUARTER_HOUR_MS, value: 1000 + i * i * 100 }));
    expect(energyFromRegister(samples, T0, T0 + 3 * QUARTER_HOUR_MS)).toEqual([
      { start: T0, wh: 100, quality: 'measured' },
      { start: T0 + QUARTER_HOUR_MS, wh: 300, quality: 'measured' },
      { start: T0 + 2 * QUARTER_HOUR_MS, wh: 500, quality: 'measured' },
    ]);
  });

  it('a constant 1 kW load read every 10 s gives 250 Wh per quarter hour', () => {
    const samples: Sample[] = [];
    for (let t = T0 - 5_000; t <= T0 + 4 * QUARTER_HOUR_MS + 10_000; t += 10_000) samples.push({ ts: t, value: 50_000 + Math.floor(((t - T0 + 5_000) / 3_600_000) * 1000) });
    const result = energyFromRegister(samples, T0, T0 + 4 * QUARTER_HOUR_MS);
    for (const interval of result) {
      expect(interval.quality).toBe('measured');
      expect(Math.abs(interval.wh! - 250)).toBeLessThanOrEqual(1);
    }
    expect(result.reduce((sum, i) => sum + i.wh!, 0)).toBe(1000);
  });

  it('interpolates readings that straddle boundaries', () => {
    // 10:10 → 1000, 10:20 → 1200: at 10:15 the register is 1100.
    const samples = [{ ts: T0 - 5 * MIN, value: 900 }, { ts: T0 + 10 * MIN, value: 1000 }, { ts: T0 + 20 * MIN, value: 1200 }, { ts: T0 + 35 * MIN, value: 1400 }];
    const [first, second] = energyFromRegister(samples, T0, T0 + 2 * QUARTER_HOUR_MS);
    // 10:00 → 900 + 100 × 5/15 = 933.3 → 933; 10:15 → 1100; 10:30 → 1200 + 200 × 10/15 = 1333.3 → 1333
    expect(first).toEqual({ start: T0, wh: 167, quality: 'measured' });
    expect(second).toEqual({ start: T0 + QUARTER_HOUR_MS, wh: 233, quality: 'measured' });
  });

  it('spreads energy over a 2-hour gap as estimated', () => {
    const samples = [{ ts: T0, value: 0 }, { ts: T0 + 120 * MIN, value: 800 }];
    const result = energyFromRegister(samples, T0, T0 + 120 * MIN);
    expect(result).toHaveLength(8);
    expect(result.every((i) => i.quality === 'estimated' && i.wh === 100)).toBe(true);
  });

  it('marks intervals without data after them missing, never zero', () => {
    const samples = [{ ts: T0, value: 0 }, { ts: T0 + QUARTER_HOUR_MS, value: 10 }];
    expect(energyFromRegister(samples, T0, T0 + 3 * QUARTER_HOUR_MS)).toEqual([
      { start: T0, wh: 10, quality: 'measured' },
      { start: T0 + QUARTER_HOUR_MS, wh: null, quality: 'missing' },
      { start: T0 + 2 * QUARTER_HOUR_MS, wh: null, quality: 'missing' },
    ]);
    expect(energyFromRegister([], T0, T0 + QUARTER_HOUR_MS)).toEqual([{ start: T0, wh: null, quality: 'missing' }]);
  });

  it('never differences across a meter exchange', () => {
    const exchange = T0 + 20 * MIN;
    const samples = [
      { ts: T0, value: 90_000 }, { ts: T0 + 15 * MIN, value: 90_100 }, { ts: T0 + 19 * MIN, value: 90_130 },
      { ts: T0 + 21 * MIN, value: 5 }, { ts: T0 + 30 * MIN, value: 60 }, { ts: T0 + 45 * MIN, value: 160 },
    ];
    const result = energyFromRegister(samples, T0, T0 + 3 * QUARTER_HOUR_MS, { exchanges: [exchange] });
    expect(result).toEqual([
      { start: T0, wh: 100, quality: 'measured' },
      // 30 Wh on the old meter up to 10:19, 55 Wh on the new one from 10:21.
      { start: T0 + QUARTER_HOUR_MS, wh: 85, quality: 'estimated' },
      { start: T0 + 2 * QUARTER_HOUR_MS, wh: 100, quality: 'measured' },
    ]);
  });

  const monotone = fc.array(fc.record({ dt: fc.integer({ min: 1_000, max: 40 * MIN }), dv: fc.nat(2_000) }), { minLength: 2, maxLength: 80 })
    .map((steps) => {
      let ts = T0 - 20 * MIN;
      let value = 10_000;
      return steps.map(({ dt, dv }) => ({ ts: (ts += dt), value: (value += dv) }));
    });

  it('is independent of input order and duplicates', () => {
    fc.assert(fc.property(monotone, fc.integer(), (samples, seed) => {
      const shuffled = [...samples, ...samples.slice(0, 5)].sort((a, b) => ((a.ts * 7919 + seed) % 97) - ((b.ts * 7919 + seed) % 97));
      const end = samples[samples.length - 1]!.ts;
      expect(energyFromRegister(shuffled, T0, end)).toEqual(energyFromRegister(samples, T0, end));
    }));
  });

  it('consecutive known intervals add up exactly to the register difference at the outer boundaries', () => {
    fc.assert(fc.property(monotone, (samples) => {
      const result = energyFromRegister(samples, T0, samples[samples.length - 1]!.ts + QUARTER_HOUR_MS);
      for (const interval of result) if (interval.wh !== null) expect(interval.wh).toBeGreaterThanOrEqual(0);
      // Within one run of known intervals the sum telescopes.
      let runStart = -1;
      for (let i = 0; i <= result.length; i++) {
        const known = i < result.length && result[i]!.wh !== null;
        if (known && runStart < 0) runStart = i;
        if (!known && runStart >= 0) {
          const run = result.slice(runStart, i);
          const sum = run.reduce((s, x) => s + x.wh!, 0);
          const reference = energyFromRegister(samples, run[0]!.start, run[run.length - 1]!.start + QUARTER_HOUR_MS, { measuredGapMs: Infinity });
          expect(reference.reduce((s, x) => s + (x.wh ?? 0), 0)).toBe(sum);
          runStart = -1;
        }
      }
    }));
  });

  it('a reading exactly on the interpolation line changes nothing', () => {
    const samples = [{ ts: T0, value: 0 }, { ts: T0 + 60 * MIN, value: 600 }];
    const withMidpoint = [...samples, { ts: T0 + 30 * MIN, value: 300 }];
    expect(energyFromRegister(withMidpoint, T0, T0 + 60 * MIN).map((i) => i.wh)).toEqual(energyFromRegister(samples, T0, T0 + 60 * MIN).map((i) => i.wh));
  });
});

describe('interval energy from power samples', () => {
  it('integrates a constant 2 kW over 15 minutes to 500 Wh', () => {
    const samples = Array.from({ length: 31 }, (_, i) => ({ ts: T0 + i * 30_000, value: 2000 }));
    expect(energyFromPower(samples, T0, T0 + QUARTER_HOUR_MS)).toEqual([{ start: T0, wh: 500, quality: 'measured' }]);
  });

  it('integrates a ramp with trapezoids', () => {
    // 0 W → 4 kW linearly over 15 minutes: mean 2 kW, 500 Wh.
    const samples = Array.from({ length: 16 }, (_, i) => ({ ts: T0 + i * MIN, value: (4000 * i) / 15 }));
    expect(energyFromPower(samples, T0, T0 + QUARTER_HOUR_MS)[0]).toEqual({ start: T0, wh: 500, quality: 'measured' });
  });

  it('scales a partly covered interval and marks it estimated; an uncovered one missing', () => {
    const samples = Array.from({ length: 11 }, (_, i) => ({ ts: T0 + i * MIN, value: 1200 }));
    expect(energyFromPower(samples, T0, T0 + 2 * QUARTER_HOUR_MS)).toEqual([
      { start: T0, wh: 300, quality: 'estimated' },
      { start: T0 + QUARTER_HOUR_MS, wh: null, quality: 'missing' },
    ]);
  });
});
