import { DAY_MS, HOUR_MS } from '../../../kernel/time.js';
import { calibratePv } from '../pv-calibration.js';
import { registerModel } from '../registry.js';
import { knownBefore, knownDays, type KnownHistory } from '../series.js';
import { DEFAULT_AMBIENT_C, pvPowerW, type Orientation, type SkyCondition } from '../solar.js';
import { weatherAt, weatherHas } from '../weather.js';
import type { FitInput, FittedModel, ModelAdapter, ModelInput } from '../model.js';

/** Clear-sky index assumed for a new system without history or weather (central Europe, yearly mean). */
export const DEFAULT_CLEAR_SKY_INDEX = 0.6;
/** Days of history behind the "recent" clear-sky index and the weather bias correction. */
const RECENT_DAYS = 3;
const SEASON_DAYS = 30;
/** Intraday: how quickly the last hour's sky gives way to the day's average. */
const INTRADAY_DECAY_MS = 2 * HOUR_MS;
const DEFAULT_ORIENTATION: Orientation = { tiltDeg: 30, azimuthDeg: 180 };

/**
 * Physical PV model: the site's clear-sky AC power (solar position, Haurwitz clear sky, plane of
 * array, PVWatts; see solar.ts) times how clear the sky will be:
 * - with a weather forecast: its GHI (or, failing that, its cloud cover via Kasten–Czeplak,
 *   GHI = clear·(1 − 0.75·(cc/100)^3.4)) and temperature, corrected by the recent ratio of
 *   metered to modelled energy;
 * - without: the clear-sky index observed recently (energy over the last 3 days ÷ clear-sky
 *   energy, averaged with the last 30 days); intraday, the last hour's index fading into it.
 * kWp, tilt and azimuth come from the site when known, else are calibrated on its production.
 */
function unusable(input: ModelInput, atMs: number): string | undefined {
  if (!input.site.location) return 'needs the site location (latitude, longitude)';
  if (input.site.pv?.kwp === undefined && knownDays(input.series, atMs) < 3) return 'needs the kWp or at least 3 days of production history';
  return undefined;
}

function fit(input: FitInput): FittedModel {
  const { series, site, weather, fitAtMs } = input;
  const location = site.location!;
  const known = site.pv ?? {};
  const stepMs = series.stepMs;
  const allKnown = known.kwp !== undefined && known.tiltDeg !== undefined && known.azimuthDeg !== undefined;
  const calibration = allKnown ? undefined : calibratePv(knownBefore(series, fitAtMs), location, known);
  const kwp = known.kwp ?? calibration?.kwp;
  if (kwp === undefined) throw new Error('pv-physical: no kWp (unusable() should have said so)');
  const orientation: Orientation = calibration?.orientation ?? {
    tiltDeg: known.tiltDeg ?? DEFAULT_ORIENTATION.tiltDeg,
    azimuthDeg: known.azimuthDeg ?? DEFAULT_ORIENTATION.azimuthDeg,
  };
  const hasGhi = weatherHas(weather, 'ghiWm2');
  const hasCloud = weatherHas(weather, 'cloudCoverPct');
  const hasTemperature = weatherHas(weather, 'temperatureC');

  const ambientAt = (t: number) => {
    const v = hasTemperature ? weatherAt(weather!, 'temperatureC', t, t + stepMs) : Number.NaN;
    return Number.isNaN(v) ? DEFAULT_AMBIENT_C : v;
  };
  /** Sky from the weather for an interval, or undefined where the weather does not say. */
  const weatherSky = (t: number): SkyCondition | undefined => {
    if (hasGhi) {
      const ghi = weatherAt(weather!, 'ghiWm2', t, t + stepMs);
      if (!Number.isNaN(ghi)) return { ghiWm2: ghi };
    }
    if (hasCloud) {
      const cc = weatherAt(weather!, 'cloudCoverPct', t, t + stepMs);
      if (!Number.isNaN(cc)) return { clearSkyIndex: 1 - 0.75 * (cc / 100) ** 3.4 };
    }
    return undefined;
  };
  // Modelled powers on the series grid, computed once per index when first needed.
  const clearCache = new Map<number, number>();
  const clearPower = (t: number) => {
    let p = clearCache.get(t);
    if (p === undefined) clearCache.set(t, (p = pvPowerW(location, t, stepMs, orientation, kwp, { clearSkyIndex: 1 }, ambientAt(t))));
    return p;
  };
  const weatherCache = new Map<number, number>();
  const weatherPower = (t: number) => {
    let p = weatherCache.get(t);
    if (p === undefined) {
      const sky = weatherSky(t);
      weatherCache.set(t, (p = sky ? pvPowerW(location, t, stepMs, orientation, kwp, sky, ambientAt(t)) : Number.NaN));
    }
    return p;
  };
  /** Σ metered / Σ modelled over [from, to) where both are known and the sun is up. */
  const ratio = (history: KnownHistory, fromMs: number, toMs: number, modelled: (t: number) => number): number | undefined => {
    let a = 0;
    let m = 0;
    for (let t = Math.max(fromMs, series.startMs); t < toMs; t += stepMs) {
      const p = clearPower(t);
      if (p <= 0) continue;
      const v = history.at(t);
      const w = modelled(t);
      if (Number.isNaN(v) || Number.isNaN(w)) continue;
      a += v;
      m += w;
    }
    return m > 0 ? a / m : undefined;
  };

  return {
    model: 'pv-physical',
    parameters: {
      kwp: Math.round(kwp * 100) / 100,
      tiltDeg: orientation.tiltDeg,
      azimuthDeg: orientation.azimuthDeg,
      calibrated: calibration !== undefined,
      weather: hasGhi ? 'ghi' : hasCloud ? 'cloud-cover' : 'none',
    },
    predict(task) {
      const history = knownBefore(series, task.issuedAtMs);
      const until = history.knownUntilMs;
      const recent = ratio(history, until - RECENT_DAYS * DAY_MS, until, clearPower);
      const season = ratio(history, until - SEASON_DAYS * DAY_MS, until, clearPower);
      const baseIndex = recent !== undefined && season !== undefined ? (recent + season) / 2 : (recent ?? season ?? DEFAULT_CLEAR_SKY_INDEX);
      const lastHour = ratio(history, until - HOUR_MS, until, clearPower);
      const weatherBias = hasGhi || hasCloud ? ratio(history, until - SEASON_DAYS * DAY_MS, until, weatherPower) : undefined;
      const bias = weatherBias === undefined ? 1 : Math.min(1.5, Math.max(0.5, weatherBias));
      const out = new Float64Array(task.steps);
      for (let k = 0; k < task.steps; k++) {
        const t = task.startMs + k * stepMs;
        const clear = clearPower(t);
        if (clear <= 0) continue;
        const fromWeather = weatherPower(t);
        if (!Number.isNaN(fromWeather)) {
          out[k] = Math.min(clear * 1.3, fromWeather * bias);
          continue;
        }
        const lead = t - task.issuedAtMs;
        const index = lastHour === undefined ? baseIndex : baseIndex + (lastHour - baseIndex) * Math.exp(-lead / INTRADAY_DECAY_MS);
        out[k] = clear * Math.max(0, Math.min(1.3, index));
      }
      return out;
    },
  };
}

registerModel({
  name: 'pv-physical',
  summary: 'solar position, clear sky, plane of array and PVWatts, scaled by the recent clear-sky index or the weather forecast',
  kinds: ['pv'],
  needs: { minHistoryDays: 0, location: true, weather: 'optional', text: 'latitude/longitude; kWp (or 3+ days of production to calibrate kWp, tilt and azimuth)' },
  refitEveryMs: 7 * DAY_MS,
  unusable,
  fit,
});
