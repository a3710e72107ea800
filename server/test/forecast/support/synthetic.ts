import { DAY_MS, HOUR_MS } from '../../../src/kernel/time.js';
import { clearSkyGhi, createForecastCalendar, heatPumpCop, pvPowerW, type Location, type Series, type WeatherSeries } from '../../../src/forecast/index.js';

/** Deterministic test and benchmark series shaped like real ones (seeded, no I/O). */
export function prng(seed: number): () => number {
  // Park–Miller minimal standard generator: plenty for synthetic noise.
  let state = (Math.abs(Math.floor(seed)) % 2147483646) + 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

export const VIENNA: Location = { latitude: 48.21, longitude: 16.37 };

/** Daily sky: a clear-sky index per UTC day, persistent from day to day (AR(1)). */
export function skyIndex(days: number, seed: number): Float64Array {
  const random = prng(seed);
  const out = new Float64Array(days);
  let x = 0.6;
  for (let d = 0; d < days; d++) {
    x = 0.5 * x + 0.5 * (0.25 + 0.75 * random());
    out[d] = Math.min(1, Math.max(0.05, x));
  }
  return out;
}

/** Household load in W: base, morning and evening peaks by local time, more at weekends, noise. */
export function householdLoad(startMs: number, stepMs: number, steps: number, seed: number, meanW = 400, timeZone = 'Europe/Vienna'): Series {
  const random = prng(seed);
  const calendar = createForecastCalendar(timeZone);
  const values = new Float64Array(steps);
  let noise = 0;
  for (let i = 0; i < steps; i++) {
    const t = startMs + i * stepMs;
    const local = calendar.clock.local(t);
    const h = local.minute / 60;
    const weekend = calendar.dayType(local.day) !== 'working';
    const shape = 0.5 + Math.exp(-((h - 7.5) ** 2) / 2) * (weekend ? 0.6 : 1.2) + Math.exp(-((h - 19) ** 2) / 4) * 1.5 + (weekend && h > 10 && h < 15 ? 0.5 : 0);
    noise = 0.7 * noise + 0.3 * (random() - 0.5) * 2;
    values[i] = Math.max(0, meanW * shape * (1 + 0.5 * noise));
  }
  return { startMs, stepMs, values };
}

/** PV production in W from the physical model with a daily sky and small fluctuations. */
export function pvProduction(startMs: number, stepMs: number, steps: number, seed: number, kwp = 5, location = VIENNA, orientation = { tiltDeg: 35, azimuthDeg: 190 }, sky?: Float64Array): Series {
  const random = prng(seed);
  const days = Math.ceil((steps * stepMs) / DAY_MS) + 2;
  const index = sky ?? skyIndex(days, seed + 1);
  const values = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const t = startMs + i * stepMs;
    const d = Math.floor((t - startMs) / DAY_MS);
    const k = Math.min(1, Math.max(0, index[d]! * (0.85 + 0.3 * random())));
    values[i] = pvPowerW(location, t, stepMs, orientation, kwp, { clearSkyIndex: k });
  }
  return { startMs, stepMs, values };
}

/** Hourly outdoor temperature: seasonal and daily waves with weather noise, plus matching GHI (from the sky) and cloud cover. */
export function weatherSeries(startMs: number, hours: number, seed: number, location = VIENNA, sky?: Float64Array): WeatherSeries {
  const random = prng(seed);
  const days = Math.ceil(hours / 24) + 2;
  const index = sky ?? skyIndex(days, seed + 1);
  const temperatureC = new Float64Array(hours);
  const ghiWm2 = new Float64Array(hours);
  const cloudCoverPct = new Float64Array(hours);
  let drift = 0;
  for (let i = 0; i < hours; i++) {
    const t = startMs + i * HOUR_MS;
    const dayOfYear = (t - Date.UTC(new Date(t).getUTCFullYear(), 0, 1)) / DAY_MS;
    const hour = (t % DAY_MS) / HOUR_MS;
    drift = 0.97 * drift + 0.03 * (random() - 0.5) * 20;
    temperatureC[i] = 10 - 10 * Math.cos((2 * Math.PI * (dayOfYear - 15)) / 365) + 4 * Math.sin((2 * Math.PI * (hour - 9)) / 24) + drift;
    const d = Math.floor((t - startMs) / DAY_MS);
    const k = index[d]!;
    ghiWm2[i] = k * clearSkyGhi(location, t, HOUR_MS);
    cloudCoverPct[i] = Math.round(100 * Math.min(1, Math.max(0, (1 - k) / 0.75) ** (1 / 3.4)));
  }
  return { startMs, stepMs: HOUR_MS, temperatureC, ghiWm2, cloudCoverPct };
}

/** A heat pump's electric power (W) for a house losing `wattsPerKelvin` below 18 °C outdoors. */
export function heatPumpElectric(startMs: number, stepMs: number, steps: number, weather: WeatherSeries, seed: number, wattsPerKelvin = 250): Series {
  const random = prng(seed);
  const values = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const t = startMs + i * stepMs;
    const h = Math.floor((t - weather.startMs) / HOUR_MS);
    const ambient = weather.temperatureC[Math.max(0, Math.min(weather.temperatureC.length - 1, h))]!;
    const local = ((t % DAY_MS) / HOUR_MS + 1) % 24;
    const setback = local < 5 ? 0.7 : 1;
    const heat = Math.max(0, wattsPerKelvin * (18 - ambient) * setback * (0.9 + 0.2 * random()));
    const flow = 20 + Math.max(0, Math.min(1, (20 - ambient) / 32)) * 25;
    values[i] = heat / heatPumpCop(ambient, flow);
  }
  return { startMs, stepMs, values };
}
