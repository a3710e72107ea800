import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, QUARTER_HOUR_MS } from '../../src/kernel/time.js';
import { createForecastCalendar, forecastCommunity, type CommunityPoint, type Series } from '../../src/forecast/index.js';
import { heatPumpElectric, householdLoad, pvProduction, skyIndex, VIENNA, weatherSeries } from './support/synthetic.js';

const calendar = createForecastCalendar('Europe/Vienna');
const STEP = QUARTER_HOUR_MS;
const from = Date.UTC(2025, 3, 1);
const DAYS = 36;
const steps = DAYS * 96;
const sky = skyIndex(DAYS + 2, 77); // one sky over the whole street: clouds hit every roof at once
const weather = weatherSeries(from, (DAYS + 2) * 24, 77, VIENNA, sky);

function street(): { points: CommunityPoint[]; load: Series[]; pv: Series[] } {
  const points: CommunityPoint[] = [];
  const load: Series[] = [];
  const pv: Series[] = [];
  for (let i = 0; i < 24; i++) {
    const consumption = householdLoad(from, STEP, steps, 100 + i, 300 + 20 * i);
    load.push(consumption);
    const point: CommunityPoint = { id: `member-${i}`, consumption: { series: consumption } };
    if (i % 3 === 0) {
      const production = pvProduction(from, STEP, steps, 200 + i, 3 + (i % 5), VIENNA, { tiltDeg: 30, azimuthDeg: 180 }, sky);
      pv.push(production);
      points.push({ ...point, production: { series: production, pv: { kwp: 3 + (i % 5) } } });
    } else if (i === 4) {
      const heat = heatPumpElectric(from, STEP, steps, weather, 300);
      load.push(heat);
      points.push({ ...point, heat: { series: heat } });
    } else {
      points.push(point);
    }
  }
  // A new member without any history, and a PV plant nobody told us the size of, without history.
  points.push({ id: 'newcomer', consumption: { series: { startMs: from, stepMs: STEP, values: new Float64Array(0) }, annualConsumptionKwh: 2500 } });
  points.push({ id: 'mystery-pv', production: { series: { startMs: from, stepMs: STEP, values: new Float64Array(0) } } });
  return { points, load, pv };
}

describe('community forecast', () => {
  const { points, load, pv } = street();

  it('sums the points for P50, bands the aggregate on its own errors, and never goes below zero surplus', () => {
    const issuedAtMs = from + 30 * DAY_MS + 10 * HOUR_MS;
    const task = { issuedAtMs, startMs: issuedAtMs, steps: 192 };
    const result = forecastCommunity({ calendar, location: VIENNA, weather, task, points });
    expect(result.points).toHaveLength(points.length);
    expect(result.unavailable).toEqual([{ id: 'mystery-pv', kind: 'pv', reason: expect.stringMatching(/needs the kWp/) }]);
    expect(result.points.find((p) => p.id === 'newcomer')!.consumption!.model).toBe('standard-profile');

    for (let k = 0; k < 192; k++) {
      let consumption = 0;
      let production = 0;
      let bandSum = 0;
      for (const p of result.points) {
        for (const f of [p.consumption, p.heat]) if (f?.model) { consumption += f.p50[k]!; bandSum += f.p90[k]! - f.p10[k]!; }
        if (p.production?.model) production += p.production.p50[k]!;
      }
      expect(result.consumption.p50[k]).toBeCloseTo(consumption, 6);
      expect(result.production.p50[k]).toBeCloseTo(production, 6);
      expect(result.net.p50[k]).toBeCloseTo(production - consumption, 6);
      expect(result.surplus.p50[k]).toBeCloseTo(Math.max(0, production - consumption), 6);
      for (const a of [result.consumption, result.production, result.surplus]) {
        expect(a.p10[k]!).toBeGreaterThanOrEqual(0);
        expect(a.p10[k]!).toBeLessThanOrEqual(a.p50[k]!);
        expect(a.p50[k]!).toBeLessThanOrEqual(a.p90[k]!);
      }
      // Members' errors partly cancel: the community's band is narrower than the sum of theirs.
      expect(result.consumption.p90[k]! - result.consumption.p10[k]!).toBeLessThan(bandSum);
    }
    expect(result.consumption.calibrated).toBe(true);
    // At night there is no surplus to expect.
    const night = (Date.UTC(2025, 4, 2, 0) - issuedAtMs) / STEP;
    expect(result.surplus.p90[night]).toBe(0);
  });

  it('the aggregate band holds most outcomes; summed member bands would be far too wide', () => {
    let inside = 0;
    let insideSummed = 0;
    let n = 0;
    let widthAggregate = 0;
    let widthSummed = 0;
    for (let d = 30; d < 34; d++) {
      const issuedAtMs = from + d * DAY_MS + 10 * HOUR_MS;
      const task = { issuedAtMs, startMs: issuedAtMs, steps: 96 };
      const result = forecastCommunity({ calendar, location: VIENNA, task, points: points.filter((p) => p.id !== 'newcomer'), candidates: ['persistence', 'similar-day', 'pv-physical'] });
      for (let k = 0; k < 96; k++) {
        const t = issuedAtMs + k * STEP;
        const i = (t - from) / STEP;
        const actual = load.reduce((s, x) => s + x.values[i]!, 0);
        const summed10 = result.points.reduce((s, p) => s + (p.consumption?.p10[k] ?? 0) + (p.heat?.p10[k] ?? 0), 0);
        const summed90 = result.points.reduce((s, p) => s + (p.consumption?.p90[k] ?? 0) + (p.heat?.p90[k] ?? 0), 0);
        n++;
        if (actual >= result.consumption.p10[k]! && actual <= result.consumption.p90[k]!) inside++;
        if (actual >= summed10 && actual <= summed90) insideSummed++;
        widthAggregate += result.consumption.p90[k]! - result.consumption.p10[k]!;
        widthSummed += summed90 - summed10;
      }
      expect(pv.length).toBeGreaterThan(0);
    }
    const share = inside / n;
    process.stdout.write(`community consumption band: ${(100 * share).toFixed(1)}% inside (summed member bands: ${(100 * insideSummed / n).toFixed(1)}%, ${(widthSummed / widthAggregate).toFixed(1)}× as wide)\n`);
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeLessThan(0.97);
    expect(widthSummed / widthAggregate).toBeGreaterThan(1.5);
  });

  it('refuses series of different steps', () => {
    const mixed: CommunityPoint[] = [
      { id: 'a', consumption: { series: householdLoad(from, STEP, 96, 1) } },
      { id: 'b', consumption: { series: householdLoad(from, HOUR_MS, 24, 2) } },
    ];
    expect(() => forecastCommunity({ calendar, task: { issuedAtMs: from + DAY_MS, startMs: from + DAY_MS, steps: 4 }, points: mixed })).toThrow(/same step/);
  });
});
