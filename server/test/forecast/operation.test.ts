import { describe, expect, it } from 'vitest';
import { bestHours, cheapestWindows, ownProductionWindow, surplusWindows } from '../../src/forecast/domain/best-hours.js';
import { createForecastCalendar } from '../../src/forecast/domain/calendar.js';
import { dueForecasts, lastDayAheadSlot } from '../../src/forecast/domain/schedule.js';
import { modelForHeat, modelForHistory, pointSeries, type QuarterEnergy } from '../../src/forecast/domain/site-series.js';
import { weatherSeries } from './support/synthetic.js';
import { createSeries } from '../../src/forecast/domain/series.js';
import { combineForecasts, toHourly, type StoredForecast } from '../../src/forecast/domain/stored.js';
import { accuracyFromSums, addSums, AccuracyAccumulator } from '../../src/forecast/domain/metrics.js';

const Q = 15 * 60_000;
const H = 4 * Q;
const T0 = Date.UTC(2026, 2, 10, 0, 0);
const vienna = createForecastCalendar('Europe/Vienna', 'AT');

describe('when operational forecasts are due', () => {
  const dayAheadMinute = 12 * 60;
  it('intraday once per quarter hour, from the next quarter hour for 12 h', () => {
    const now = T0 + 10 * H + 7 * 60_000;
    const due = dueForecasts({ nowMs: now, calendar: vienna, dayAheadMinute, lastIntradayMs: undefined, lastDayAheadMs: now });
    expect(due).toEqual([{ horizon: 'intraday', task: { issuedAtMs: now, startMs: T0 + 10 * H + Q, steps: 48 } }]);
    expect(dueForecasts({ nowMs: now, calendar: vienna, dayAheadMinute, lastIntradayMs: T0 + 10 * H + 60_000, lastDayAheadMs: now })).toEqual([]);
    expect(dueForecasts({ nowMs: now, calendar: vienna, dayAheadMinute, lastIntradayMs: T0 + 10 * H - 60_000, lastDayAheadMs: now })).toHaveLength(1);
  });

  it('day-ahead after the local issue time, for 48 h from the next local midnight; at once when none was issued since the last issue time', () => {
    // 11:00 UTC = 12:00 in Vienna (CET) on 10 March 2026.
    const slot = lastDayAheadSlot(vienna, dayAheadMinute, T0 + 11 * H);
    expect(slot).toBe(T0 + 11 * H);
    expect(lastDayAheadSlot(vienna, dayAheadMinute, T0 + 10 * H)).toBe(T0 + 11 * H - 24 * H);
    const now = T0 + 11 * H + 60_000;
    const due = dueForecasts({ nowMs: now, calendar: vienna, dayAheadMinute, lastIntradayMs: now, lastDayAheadMs: T0 - 13 * H });
    expect(due).toEqual([{ horizon: 'day-ahead', task: { issuedAtMs: now, startMs: T0 + 23 * H, steps: 192 } }]);
    expect(dueForecasts({ nowMs: now, calendar: vienna, dayAheadMinute, lastIntradayMs: now, lastDayAheadMs: T0 + 11 * H })).toEqual([]);
    expect(dueForecasts({ nowMs: now, calendar: vienna, dayAheadMinute, lastIntradayMs: now, lastDayAheadMs: now, force: true })).toHaveLength(2);
  });
});

describe('a point\'s series from its quarter hours', () => {
  const row = (k: number, r: Partial<QuarterEnergy>): QuarterEnergy => ({
    startMs: T0 + k * Q, importWh: null, exportWh: null, pvWh: null, batteryChargeWh: null, batteryDischargeWh: null, heatPumpWh: null, quality: 'measured', ...r,
  });

  it('consumption = import − export + PV (+ battery), production = PV; missing stays missing', () => {
    const rows = [
      row(0, { importWh: 100, exportWh: 0, pvWh: 0 }),
      row(1, { importWh: 0, exportWh: 200, pvWh: 300 }),
      row(2, { importWh: 50, exportWh: 0, pvWh: 10, batteryDischargeWh: 40, batteryChargeWh: 0 }),
      row(3, { importWh: 999, quality: 'missing' }),
    ];
    const { consumption, production } = pointSeries(rows, 'prosumer', true, T0, T0 + 5 * Q);
    expect(Array.from(consumption!.values)).toEqual([400, 400, 400, Number.NaN, Number.NaN]);
    expect(Array.from(production!.values)).toEqual([0, 1200, 40, Number.NaN, Number.NaN]);
  });

  it('heat = the heat pump\'s own power, still part of consumption; a point without one has no heat series', () => {
    const rows = [
      row(0, { importWh: 300, heatPumpWh: 200 }),
      row(1, { importWh: 100, heatPumpWh: null }),
      // A quarter hour whose balance is missing still knows its heat pump.
      row(2, { importWh: null, heatPumpWh: 50, quality: 'missing' }),
    ];
    const { consumption, heat } = pointSeries(rows, 'consumer', false, T0, T0 + 4 * Q);
    expect(Array.from(heat!.values)).toEqual([800, Number.NaN, 200, Number.NaN]);
    expect(Array.from(consumption!.values)).toEqual([1200, 400, Number.NaN, Number.NaN]);
    expect(pointSeries([row(0, { importWh: 10 })], 'consumer', false, T0, T0 + Q).heat).toBeUndefined();
  });

  it('a heat pump is forecast from the temperature once the weather has it and 7 days are known; else auto (the weather-free models)', () => {
    const days = (n: number) => createSeries(T0, Q, new Float64Array(n * 96).fill(800));
    const weather = weatherSeries(T0, 10 * 24, 5);
    expect(modelForHeat(days(8), weather, T0 + 8 * 24 * H)).toBe('heat-demand');
    expect(modelForHeat(days(8), undefined, T0 + 8 * 24 * H)).toBeUndefined();
    expect(modelForHeat(days(3), weather, T0 + 3 * 24 * H)).toBeUndefined();
  });

  it('a consumer without PV has no production series; a producer no consumption, its export as production', () => {
    expect(pointSeries([row(0, { importWh: 10 })], 'consumer', false, T0, T0 + Q).production).toBeUndefined();
    const producer = pointSeries([row(0, { importWh: 1, exportWh: 250 })], 'producer', false, T0, T0 + Q);
    expect(producer.consumption).toBeUndefined();
    expect(Array.from(producer.production!.values)).toEqual([1000]);
  });
});

describe('a new site\'s models until it has two days of history', () => {
  const withKnown = (quarters: number) => createSeries(T0, Q, Float64Array.from({ length: 300 }, (_, k) => (k < quarters ? 500 : Number.NaN)));
  it('standard profile and PV physics (with a kWp) before, auto after', () => {
    expect(modelForHistory(withKnown(100), 'consumption', undefined)).toBe('standard-profile');
    expect(modelForHistory(withKnown(100), 'production', 6)).toBe('pv-physical');
    expect(modelForHistory(withKnown(100), 'production', undefined)).toBeUndefined();
    expect(modelForHistory(withKnown(192), 'consumption', undefined)).toBeUndefined();
    expect(modelForHistory(withKnown(192), 'production', 6)).toBeUndefined();
  });
});

describe('stored forecasts read back', () => {
  const stored = (issuedAtMs: number, startMs: number, p50: (number | null)[], horizon: 'intraday' | 'day-ahead' = 'intraday'): StoredForecast => ({
    horizon, issuedAtMs, startMs, stepMs: Q, model: `m${issuedAtMs}`, p10: p50.map((v) => (v === null ? null : v - 1)), p50, p90: p50.map((v) => (v === null ? null : v + 1)),
  });

  it('each target takes the newest forecast covering it; nothing covering it is null', () => {
    const steps = combineForecasts([stored(2, T0 + Q, [20, 21]), stored(1, T0, [10, 11, 12, 13])], T0, T0 + 5 * Q);
    expect(steps.map((s) => s.p50)).toEqual([10, 20, 21, 13, null]);
    expect(steps.map((s) => s.model)).toEqual(['m1', 'm2', 'm2', 'm1', null]);
    expect(steps[1]!.p10).toBe(19);
  });

  it('hourly values are the means of the known quarter hours', () => {
    const hourly = toHourly(combineForecasts([stored(1, T0, [100, 200, 300, 401, 50, null, null, null])], T0, T0 + 2 * H));
    expect(hourly.map((h) => h.p50)).toEqual([250, 50]);
    expect(hourly.map((h) => h.startMs)).toEqual([T0, T0 + H]);
  });
});

const outlook = (surplusW: (number | null)[]) => ({ surplusW, productionW: surplusW.map(() => null), consumptionW: surplusW.map(() => null) });

describe('best hours', () => {
  it('windows of expected surplus above 1 kW and a quarter of the peak, at least 30 minutes; the richest is recommended', () => {
    const surplus = [0, 2_000, 2_000, 0, 500, 4_000, 8_000, 8_000, 900, 3_000, null];
    const windows = surplusWindows(T0, surplus);
    expect(windows).toEqual([
      { startMs: T0 + Q, endMs: T0 + 3 * Q, surplusWh: 1_000, peakW: 2_000 },
      { startMs: T0 + 5 * Q, endMs: T0 + 8 * Q, surplusWh: 5_000, peakW: 8_000 },
    ]);
    expect(bestHours(T0, outlook(surplus), undefined).recommendation).toEqual({ startMs: T0 + 5 * Q, endMs: T0 + 8 * Q, reason: 'surplus' });
  });

  it('without surplus, the cheapest time-of-use window; a flat price or no tariff gives none', () => {
    expect(cheapestWindows(T0, ['0.30', '0.20', '0.20', '0.30', '0.20'])).toEqual([
      { startMs: T0 + Q, endMs: T0 + 3 * Q, gridPrice: '0.20' },
      { startMs: T0 + 4 * Q, endMs: T0 + 5 * Q, gridPrice: '0.20' },
    ]);
    expect(bestHours(T0, outlook([0, 0, 0, 0, 0]), ['0.30', '0.20', '0.20', '0.30', '0.20']).recommendation).toEqual({ startMs: T0 + Q, endMs: T0 + 3 * Q, reason: 'tariff' });
    expect(bestHours(T0, outlook([0, 0]), ['0.30', '0.30']).recommendation).toBeNull();
    expect(bestHours(T0, outlook([null, null]), undefined)).toEqual({ surplus: [], cheapest: [], recommendation: null });
  });

  it('without surplus or tariff windows, the two hours in which the community\'s production covers most of its use', () => {
    const production = [0, 0, 500, 2_000, 4_000, 5_000, 6_000, 6_000, 5_000, 4_000, 3_000, 1_000, 0, 0];
    const consumption = production.map(() => 10_000);
    const surplusW = production.map(() => 0);
    expect(ownProductionWindow(T0, { surplusW, productionW: production, consumptionW: consumption })).toEqual({ startMs: T0 + 3 * Q, endMs: T0 + 11 * Q });
    expect(bestHours(T0, { surplusW, productionW: production, consumptionW: consumption }, ['0.30']).recommendation)
      .toEqual({ startMs: T0 + 3 * Q, endMs: T0 + 11 * Q, reason: 'own-production' });
    // Too little production anywhere: nothing to recommend.
    expect(ownProductionWindow(T0, { surplusW, productionW: production.map((p) => p / 10), consumptionW: consumption })).toBeUndefined();
  });
});

describe('accuracy from stored sums', () => {
  it('adds up over days exactly as over one run', () => {
    const a = new AccuracyAccumulator();
    const b = new AccuracyAccumulator();
    const all = new AccuracyAccumulator();
    const cases: [number, number, number, number, number][] = [[100, 110, 90, 95, 120], [200, 150, 210, 140, 160], [0, 10, 0, 0, 20], [50, 50, 80, 40, 60]];
    cases.forEach((c, i) => {
      (i < 2 ? a : b).add(...c);
      all.add(...c);
    });
    expect(accuracyFromSums(addSums(a.totals(), b.totals()))).toEqual(all.result());
    expect(all.result().coverage).toBe(0.75);
  });
});
