import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { DAY_MS, HOUR_MS, QUARTER_HOUR_MS } from '../../src/kernel/time.js';
import {
  AccuracyAccumulator, bandFromErrors, calibratePv, clearSkyGhi, countryOfTimeZone, createForecastCalendar, dayAheadTask,
  electricFromHeatW, fillNightGaps, forecastSeries, getModel, heatPumpCop, knownBefore, modelNames, parseOpenMeteo,
  parseTimeColumns, parseWeatherCsv, profilePowerPerKwh, pvPowerW, requireModel, tasksBetween, weatherAt,
  type ForecastTask, type Series, type SiteContext,
} from '../../src/forecast/index.js';
import { dynamisationFactor } from '../../src/forecast/domain/standard-profile.js';
import { householdLoad, pvProduction, VIENNA, weatherSeries, heatPumpElectric, skyIndex } from './support/synthetic.js';

const vienna = createForecastCalendar('Europe/Vienna');
const STEP = QUARTER_HOUR_MS;
const start = Date.UTC(2025, 0, 6);

describe('calendar', () => {
  it('knows the country of a time zone and its public holidays as Sundays', () => {
    expect(countryOfTimeZone('Europe/Vienna')).toBe('AT');
    expect(countryOfTimeZone('Europe/Paris')).toBe('FR');
    const paris = createForecastCalendar('Europe/Paris');
    const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) / DAY_MS;
    expect(paris.dayType(day(2024, 5, 1))).toBe('sunday-holiday'); // Wednesday, Fête du travail
    expect(paris.dayType(day(2024, 5, 2))).toBe('working');
    expect(paris.dayType(day(2024, 5, 4))).toBe('saturday');
    expect(vienna.dayType(day(2024, 12, 8))).toBe('sunday-holiday'); // Mariä Empfängnis (a Sunday anyway)
    expect(vienna.dayType(day(2025, 1, 6))).toBe('sunday-holiday'); // Heilige Drei Könige, a Monday
    expect(createForecastCalendar('Europe/Vienna', null).dayType(day(2025, 1, 6))).toBe('working');
  });

  it('refuses unknown zones and countries', () => {
    expect(() => createForecastCalendar('Mars/Olympus')).toThrow(/unknown time zone/);
    expect(() => createForecastCalendar('Europe/Vienna', 'XX')).toThrow(/no public-holiday rules/);
  });

  it('day-ahead tasks cover the next local day: 92 quarter hours in spring, 100 in autumn, 96 otherwise', () => {
    const taskFor = (y: number, m: number, d: number) => dayAheadTask(vienna, vienna.localDay(Date.UTC(y, m - 1, d, 12)) - 1, STEP);
    expect(taskFor(2025, 3, 30).steps).toBe(92);
    expect(taskFor(2025, 10, 26).steps).toBe(100);
    expect(taskFor(2025, 6, 1).steps).toBe(96);
    const task = taskFor(2025, 6, 1);
    expect(new Date(task.issuedAtMs).toISOString()).toBe('2025-05-31T10:00:00.000Z'); // 12:00 CEST
    expect(new Date(task.startMs).toISOString()).toBe('2025-05-31T22:00:00.000Z');
    const intraday = tasksBetween('intraday', vienna, Date.UTC(2025, 5, 1), Date.UTC(2025, 5, 2), STEP);
    expect(intraday).toHaveLength(24);
    expect(intraday[0]!.steps).toBe(24);
  });
});

describe('models see only the past', () => {
  const series = householdLoad(start, STEP, 40 * 96, 1);
  const pv = pvProduction(start, STEP, 40 * 96, 2);
  const sites: [Series, SiteContext][] = [[series, { kind: 'load' }], [pv, { kind: 'pv', location: VIENNA }]];

  it('every model gives the same forecast whatever happens after the issue time', () => {
    fc.assert(fc.property(fc.integer({ min: 30, max: 36 }), fc.double({ min: 0, max: 5000, noNaN: true }), (day, junk) => {
      for (const [s, site] of sites) {
        const task: ForecastTask = { issuedAtMs: start + day * DAY_MS + 11 * HOUR_MS, startMs: start + (day + 1) * DAY_MS, steps: 96 };
        const future = { ...s, values: s.values.map((v, i) => (s.startMs + i * STEP >= task.issuedAtMs ? junk : v)) };
        for (const name of modelNames()) {
          const model = getModel(name)!;
          if (!model.kinds.includes(site.kind)) continue;
          const input = { series: s, site, calendar: vienna, fitAtMs: task.issuedAtMs, trainingTasks: [] };
          if (model.unusable(input, task.issuedAtMs) !== undefined) continue;
          const a = model.fit(input).predict(task);
          const b = model.fit({ ...input, series: future }).predict(task);
          expect([...b], name).toEqual([...a]);
        }
      }
    }), { numRuns: 4 });
  });

  it('knownBefore hides intervals that had not ended at the issue time', () => {
    const h = knownBefore(series, start + HOUR_MS + 1);
    expect(h.at(start)).toBe(series.values[0]);
    expect(h.at(start + HOUR_MS)).toBeNaN();
  });
});

describe('persistence and similar days', () => {
  it('persistence repeats the last known day at the same local time, across a DST change', () => {
    const s = householdLoad(Date.UTC(2025, 2, 20), STEP, 20 * 96, 3);
    const calendar = vienna;
    const day = calendar.localDay(Date.UTC(2025, 2, 30, 12)); // 30 March 2025: clocks go forward
    const task = dayAheadTask(calendar, day - 1, STEP);
    const fitted = requireModel('persistence').fit({ series: s, site: { kind: 'load' }, calendar, fitAtMs: task.issuedAtMs, trainingTasks: [] });
    const out = fitted.predict(task);
    expect(out).toHaveLength(92);
    // 08:00 local on the 30th (06:00 UTC) repeats 08:00 local on the 29th (07:00 UTC) — known at issue.
    const k = (Date.UTC(2025, 2, 30, 6) - task.startMs) / STEP;
    const value = s.values[(Date.UTC(2025, 2, 29, 7) - s.startMs) / STEP];
    expect(out[k]).toBe(value);
  });

  it('similar-day forecasts a holiday from Sundays', () => {
    // A load that is 100 W on working days and 900 W on Sundays and holidays.
    const from = Date.UTC(2024, 11, 1);
    const values = new Float64Array(40 * 96);
    for (let i = 0; i < values.length; i++) values[i] = vienna.dayType(vienna.localDay(from + i * STEP)) === 'sunday-holiday' ? 900 : 100;
    const series = { startMs: from - (from % STEP), stepMs: STEP, values };
    const day = vienna.localDay(Date.UTC(2025, 0, 6, 12)); // Epiphany, Monday
    const task = dayAheadTask(vienna, day - 1, STEP);
    const out = requireModel('similar-day').fit({ series, site: { kind: 'load' }, calendar: vienna, fitAtMs: task.issuedAtMs, trainingTasks: [] }).predict(task);
    expect(Math.min(...out)).toBe(900);
  });
});

describe('BDEW standard profiles', () => {
  it('applies the published dynamisation', () => {
    expect(dynamisationFactor(1)).toBe(1.242);
    expect(dynamisationFactor(182)).toBeLessThan(1);
  });

  it('a year of H25, G25, P25 and S25 at 1 kWh/a adds up to about 1 kWh', () => {
    for (const profile of ['H25', 'G25', 'P25', 'S25'] as const) {
      let kwh = 0;
      for (let t = Date.UTC(2025, 0, 1); t < Date.UTC(2026, 0, 1); t += STEP) kwh += profilePowerPerKwh(profile, vienna, t, STEP) / 4 / 1000;
      expect(kwh, profile).toBeGreaterThan(0.95);
      expect(kwh, profile).toBeLessThan(1.05);
    }
  });

  it('a new site with no history gets the profile at its configured (or default) annual consumption', () => {
    const empty = { startMs: start, stepMs: STEP, values: new Float64Array(0) };
    const task = dayAheadTask(vienna, vienna.localDay(start) + 3, STEP);
    const configured = forecastSeries({ series: empty, site: { kind: 'load', annualConsumptionKwh: 4000 }, calendar: vienna, task });
    expect(configured.model).toBe('standard-profile');
    expect(configured.parameters).toMatchObject({ annualKwh: 4000, scaleSource: 'configured' });
    const mean = configured.p50.reduce((a, b) => a + b, 0) / configured.p50.length;
    expect(mean).toBeGreaterThan(300); // 4,000 kWh/a ≈ 457 W on average, more in winter
    expect(mean).toBeLessThan(800);
    expect(configured.calibrated).toBe(false);
    const fallback = forecastSeries({ series: empty, site: { kind: 'load' }, calendar: vienna, task });
    expect(fallback.parameters).toMatchObject({ annualKwh: 3000, scaleSource: 'default' });
  });
});

describe('PV physics', () => {
  it('is zero at night, sensible at noon, and follows the orientation', () => {
    const noon = Date.UTC(2025, 5, 21, 11);
    const night = Date.UTC(2025, 5, 21, 23);
    const south = { tiltDeg: 30, azimuthDeg: 180 };
    expect(pvPowerW(VIENNA, night, STEP, south, 5, { clearSkyIndex: 1 })).toBe(0);
    const p = pvPowerW(VIENNA, noon, STEP, south, 5, { clearSkyIndex: 1 });
    expect(p).toBeGreaterThan(3000);
    expect(p).toBeLessThanOrEqual(5000 / 1.2);
    expect(pvPowerW(VIENNA, Date.UTC(2025, 5, 21, 6), STEP, { tiltDeg: 30, azimuthDeg: 90 }, 5, { clearSkyIndex: 1 }))
      .toBeGreaterThan(pvPowerW(VIENNA, Date.UTC(2025, 5, 21, 6), STEP, { tiltDeg: 30, azimuthDeg: 270 }, 5, { clearSkyIndex: 1 }));
    expect(clearSkyGhi(VIENNA, noon, STEP)).toBeGreaterThan(800);
  });

  it('calibrates kWp, tilt and azimuth from production', () => {
    // Every third day clear, the others cloudy: as in a real spring.
    const sky = Float64Array.from({ length: 45 }, (_, d) => (d % 3 === 0 ? 1.1 : 0.4 + 0.1 * (d % 2)));
    const s = pvProduction(Date.UTC(2025, 3, 20), STEP, 40 * 96, 5, 6.5, VIENNA, { tiltDeg: 35, azimuthDeg: 215 }, sky);
    const fit = calibratePv(knownBefore(s, Date.UTC(2025, 5, 10)), VIENNA, {})!;
    expect(fit.orientation.azimuthDeg).toBeGreaterThanOrEqual(200);
    expect(fit.orientation.azimuthDeg).toBeLessThanOrEqual(230);
    expect(fit.orientation.tiltDeg).toBeGreaterThanOrEqual(22.5);
    expect(fit.orientation.tiltDeg).toBeLessThanOrEqual(45);
    expect(fit.kwp).toBeGreaterThan(5.5);
    expect(fit.kwp).toBeLessThan(7.5);
  });

  it('night gaps are zeros, daytime gaps stay missing; a PV site at night is forecast 0 with a zero band', () => {
    const values = new Float64Array(96).fill(Number.NaN);
    const filled = fillNightGaps({ startMs: Date.UTC(2025, 5, 21), stepMs: STEP, values }, VIENNA);
    expect(filled.values[0]).toBe(0);
    expect(filled.values[11 * 4]).toBeNaN();
    const s = pvProduction(Date.UTC(2025, 4, 1), STEP, 30 * 96, 6);
    const task = { issuedAtMs: Date.UTC(2025, 4, 30, 20), startMs: Date.UTC(2025, 4, 30, 20), steps: 8 }; // 22:00–24:00 CEST
    const f = forecastSeries({ series: s, site: { kind: 'pv', location: VIENNA }, calendar: vienna, task });
    expect([...f.p10, ...f.p50, ...f.p90].every((v) => v === 0)).toBe(true);
  });

  it('a PV site with no kWp and no history cannot be forecast, and says why', () => {
    const f = forecastSeries({ series: { startMs: start, stepMs: STEP, values: new Float64Array(0) }, site: { kind: 'pv', location: VIENNA }, calendar: vienna, task: dayAheadTask(vienna, vienna.localDay(start), STEP) });
    expect(f.model).toBeUndefined();
    expect(f.unavailable).toMatch(/pv-physical: needs the kWp/);
    expect(f.p50.every(Number.isNaN)).toBe(true);
    const known = forecastSeries({ series: { startMs: start, stepMs: STEP, values: new Float64Array(0) }, site: { kind: 'pv', location: VIENNA, pv: { kwp: 4 } }, calendar: vienna, task: dayAheadTask(vienna, vienna.localDay(start), STEP) });
    expect(known.model).toBe('pv-physical');
    expect(Math.max(...known.p50)).toBeGreaterThan(300);
  });
});

describe('heat pumps', () => {
  it('COP from ambient and flow temperature', () => {
    expect(heatPumpCop(7, 35)).toBeCloseTo(3.7, 1);
    expect(heatPumpCop(-7, 35)).toBeCloseTo(2.7, 1);
    expect(heatPumpCop(-7, 55)).toBeLessThan(heatPumpCop(-7, 35));
    expect(heatPumpCop(30, 25)).toBe(8);
    expect(electricFromHeatW(3700, 7, { flowTemperatureC: 35 })).toBeCloseTo(1000, -1);
  });

  it('heat-demand forecasts a heat pump from temperature better than persistence and gives the heat behind it', () => {
    const from = Date.UTC(2024, 10, 1);
    const days = 40;
    const weather = weatherSeries(from, days * 24 + 48, 11);
    const series = heatPumpElectric(from, STEP, days * 96, weather, 12);
    let sumHeat = 0;
    let sumPersistence = 0;
    for (let d = 30; d < 38; d++) {
      const task = { issuedAtMs: from + d * DAY_MS + 11 * HOUR_MS, startMs: from + (d + 1) * DAY_MS, steps: 96 };
      const site: SiteContext = { kind: 'heat' };
      const f = forecastSeries({ series, site, calendar: vienna, weather, task, model: 'heat-demand' });
      const p = forecastSeries({ series, site, calendar: vienna, weather, task, model: 'persistence' });
      expect(f.thermalW).toBeDefined();
      for (let k = 0; k < 96; k++) {
        const actual = series.values[(task.startMs - from) / STEP + k]!;
        sumHeat += (f.p50[k]! - actual) ** 2;
        sumPersistence += (p.p50[k]! - actual) ** 2;
        expect(f.thermalW![k]!).toBeGreaterThan(f.p50[k]!); // COP > 1
      }
    }
    expect(sumHeat).toBeLessThan(sumPersistence * 0.8);
    // Without temperatures, heat-demand is not a choice and auto says which one it took.
    const task = { issuedAtMs: from + 35 * DAY_MS, startMs: from + 35 * DAY_MS, steps: 24 };
    expect(forecastSeries({ series, site: { kind: 'heat' }, calendar: vienna, task, model: 'heat-demand' }).unavailable).toMatch(/outdoor temperatures/);
    expect(forecastSeries({ series, site: { kind: 'heat' }, calendar: vienna, task }).model).not.toBe('heat-demand');
  });
});

describe('regression', () => {
  it('uses weather when there is some, and falls back where a target has none', () => {
    const from = Date.UTC(2024, 10, 1);
    const days = 45;
    const weather = weatherSeries(from, days * 24 + 48, 21);
    // Electric heating in the load: the temperature explains much of it.
    const base = householdLoad(from, STEP, days * 96, 22);
    const values = base.values.map((v, i) => v + 120 * Math.max(0, 15 - weather.temperatureC[Math.floor((i * STEP) / HOUR_MS)]!));
    const series = { ...base, values };
    let withWeather = 0;
    let without = 0;
    for (let d = 36; d < 43; d++) {
      const task = { issuedAtMs: from + d * DAY_MS + 11 * HOUR_MS, startMs: from + (d + 1) * DAY_MS, steps: 96 };
      const a = forecastSeries({ series, site: { kind: 'load' }, calendar: vienna, weather, task, model: 'regression' });
      const b = forecastSeries({ series, site: { kind: 'load' }, calendar: vienna, task, model: 'regression' });
      expect(a.parameters.weather).toContain('temperatureC');
      for (let k = 0; k < 96; k++) {
        const actual = values[(task.startMs - from) / STEP + k]!;
        withWeather += (a.p50[k]! - actual) ** 2;
        without += (b.p50[k]! - actual) ** 2;
      }
    }
    expect(withWeather).toBeLessThan(without);
    // A weather file with a long gap (NaN) over the targets: forecasts still come, from the weather-free twin.
    const holed = { ...weather, temperatureC: weather.temperatureC.map((v, h) => (h >= 42 * 24 && h < 44 * 24 ? Number.NaN : v)) };
    const task = { issuedAtMs: from + 42 * DAY_MS, startMs: from + 42 * DAY_MS + 6 * HOUR_MS, steps: 96 };
    const f = forecastSeries({ series, site: { kind: 'load' }, calendar: vienna, weather: holed, task, model: 'regression' });
    expect(f.p50.every(Number.isFinite)).toBe(true);
  });
});

describe('bands and accuracy', () => {
  it('an 80 % conformal band holds about 80 % of exchangeable outcomes', () => {
    const random = (seed: number) => () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const r = random(7);
    const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
    const errors = Array.from({ length: 8 }, () => Array.from({ length: 30 }, () => 100 * gauss()));
    const point = new Float64Array(8).fill(1000);
    const band = bandFromErrors(point, errors, HOUR_MS, true);
    let inside = 0;
    const trials = 4000;
    for (let i = 0; i < trials; i++) {
      const k = i % 8;
      const y = 1000 + 100 * gauss();
      if (y >= band.p10[k]! && y <= band.p90[k]!) inside++;
    }
    expect(inside / trials).toBeGreaterThan(0.72);
    expect(inside / trials).toBeLessThan(0.88);
    const none = bandFromErrors(point, [], HOUR_MS, true);
    expect(none.calibrated).toBe(false);
    expect([...none.p10]).toEqual([...point]);
  });

  it('MAE, RMSE, nRMSE, skill and coverage by hand', () => {
    const acc = new AccuracyAccumulator();
    acc.add(100, 110, 130, 90, 120);
    acc.add(200, 180, 200, 150, 190);
    acc.add(Number.NaN, 1, 1);
    const a = acc.result();
    expect(a.count).toBe(2);
    expect(a.maeW).toBe(15);
    expect(a.rmseW).toBeCloseTo(Math.sqrt(250), 9);
    expect(a.nrmse).toBeCloseTo(Math.sqrt(250) / 150, 9);
    expect(a.skill).toBeCloseTo(1 - Math.sqrt(250) / Math.sqrt(450), 9);
    expect(a.coverage).toBe(0.5);
    expect(new AccuracyAccumulator().result().rmseW).toBeNull();
  });
});

describe('odd series', () => {
  const task = { issuedAtMs: start + 20 * DAY_MS + 11 * HOUR_MS, startMs: start + 21 * DAY_MS, steps: 96 };

  it('a series of zeros forecasts zeros with a zero band', () => {
    const zeros = { startMs: start, stepMs: STEP, values: new Float64Array(25 * 96) };
    const f = forecastSeries({ series: zeros, site: { kind: 'load' }, calendar: vienna, task });
    expect([...f.p10, ...f.p50, ...f.p90].every((v) => v === 0)).toBe(true);
  });

  it('a long gap of missing data: forecasts from what is known, no crash', () => {
    const s = householdLoad(start, STEP, 25 * 96, 31);
    const values = s.values.map((v, i) => (i > 10 * 96 && i < 20.5 * 96 ? Number.NaN : v));
    const f = forecastSeries({ series: { ...s, values }, site: { kind: 'load' }, calendar: vienna, task });
    expect(f.model).toBeDefined();
    expect(f.p50.every(Number.isFinite)).toBe(true);
    const allMissing = forecastSeries({ series: { ...s, values: s.values.map(() => Number.NaN) }, site: { kind: 'load' }, calendar: vienna, task });
    expect(allMissing.model).toBe('standard-profile');
  });
});

describe('weather', () => {
  const recorded = JSON.parse(readFileSync(new URL('./fixtures/open-meteo-forecast.json', import.meta.url), 'utf8')) as { hourly: { shortwave_radiation: (number | null)[] } };

  it('parses an Open-Meteo response: radiation moved to the hour it averages, nulls missing, short gaps bridged', () => {
    const w = parseOpenMeteo(recorded);
    expect(w.stepMs).toBe(HOUR_MS);
    expect(w.startMs).toBe(Date.UTC(2025, 5, 1));
    expect(w.ghiWm2[11]).toBe(recorded.hourly.shortwave_radiation[12]);
    expect(w.temperatureC[30]).toBeNaN();
    const bridged = weatherAt(w, 'temperatureC', w.startMs + 30 * HOUR_MS - 450_000, w.startMs + 30 * HOUR_MS + 450_000);
    expect(bridged).toBeCloseTo((w.temperatureC[29]! + w.temperatureC[31]!) / 2, 6);
    // Six missing radiation hours (59–64 after the shift) are more than 3 h: no value there.
    expect(weatherAt(w, 'ghiWm2', w.startMs + 61 * HOUR_MS, w.startMs + 62 * HOUR_MS)).toBeNaN();
    const unix = parseOpenMeteo({ hourly: { time: [1717200000, 1717203600], temperature_2m: [12, 13] } });
    expect(unix.startMs).toBe(1717200000_000);
  });

  it('refuses malformed responses with a clear error', () => {
    expect(() => parseOpenMeteo('text')).toThrow(/not a JSON object/);
    expect(() => parseOpenMeteo({ error: true, reason: 'Latitude must be in range' })).toThrow(/Latitude must be/);
    expect(() => parseOpenMeteo({ hourly: { time: ['2025-06-01T00:00'], temperature_2m: [1, 2] } })).toThrow(/one value per time/);
    expect(() => parseOpenMeteo({ hourly: { time: ['2025-06-01T00:00', '2025-06-01T01:00'], temperature_2m: [1, 'x'] } })).toThrow(/not a number or null/);
    expect(() => parseOpenMeteo({ hourly: { time: ['2025-06-01T00:00', '2025-06-01T01:00'], temperature_2m: [1, 900] } })).toThrow(/outside/);
    expect(() => parseOpenMeteo({ hourly: { time: ['2025-06-01T00:00', '2025-06-01T01:00', '2025-06-01T03:00'] } })).toThrow(/regular/);
  });

  it('reads a weather CSV; NaN and empty cells are missing values', () => {
    const w = parseWeatherCsv('timestamp_utc,temperature_c,cloud_cover_pct\n2025-01-01T00:00:00Z,1.5,NaN\n2025-01-01T01:00:00Z,,20\n2025-01-01T02:00:00Z,2.5,30\n');
    expect(w.temperatureC[1]).toBeNaN();
    expect(w.cloudCoverPct[0]).toBeNaN();
    expect(w.ghiWm2.every(Number.isNaN)).toBe(true);
    expect(weatherAt(w, 'temperatureC', Date.UTC(2025, 0, 1, 1) - 900_000, Date.UTC(2025, 0, 1, 1) + 900_000)).toBeCloseTo(2, 9);
    expect(() => parseWeatherCsv('timestamp_utc,wind\n2025-01-01T00:00:00Z,1\n')).toThrow(/unknown column "wind"/);
    expect(() => parseWeatherCsv('timestamp_utc,ghi_w_m2\n2025-01-01T00:00:00Z,-5\n')).toThrow(/outside/);
  });

  it('the series CSV reader refuses what it cannot take', () => {
    expect(() => parseTimeColumns('')).toThrow(/empty/);
    expect(() => parseTimeColumns('time,load\n')).toThrow(/timestamp_utc/);
    expect(() => parseTimeColumns('timestamp_utc,load_w\n2025-01-01T00:00:00+01:00,1\n')).toThrow(/UTC ISO/);
    expect(() => parseTimeColumns('timestamp_utc,load_w\n2025-01-01T00:15:00Z,1\n2025-01-01T00:00:00Z,1\n')).toThrow(/increase/);
    expect(() => parseTimeColumns('timestamp_utc,load_w\n2025-01-01T00:15:00Z,1\n2025-01-01T00:15:00Z,1\n')).toThrow(/twice/);
    expect(() => parseTimeColumns('timestamp_utc,load_w\n2025-01-01T00:00:00Z,1\n2025-01-01T00:05:00Z,1\n')).toThrow(/resolution/);
    expect(() => parseTimeColumns('timestamp_utc,load_w\n2025-01-01T00:00:00Z,abc\n')).toThrow(/line 2: load_w "abc" is not a number/);
    expect(() => parseTimeColumns('timestamp_utc,load_w\n2025-01-01T00:00:00Z,1e999\n')).toThrow(/not a number/);
    const ok = parseTimeColumns('timestamp_utc,load_w\n2025-01-01T00:00:00Z,1\n2025-01-01T01:00:00Z,\n2025-01-01T01:30:00Z,3\n');
    expect(ok.stepMs).toBe(30 * 60_000);
    expect([...ok.columns.get('load_w')!]).toEqual([1, Number.NaN, Number.NaN, 3]);
  });
});

describe('sky index helper', () => {
  it('stays within (0, 1]', () => {
    expect(skyIndex(50, 1).every((k) => k > 0 && k <= 1)).toBe(true);
  });
});
