import { DAY_MS, HOUR_MS } from '../../../kernel/time.js';
import { calibratePv } from '../pv-calibration.js';
import { registerModel } from '../registry.js';
import { knownBefore, knownDays, type KnownHistory } from '../series.js';
import { DEFAULT_AMBIENT_C, pvPowerW, type Orientation, type SkyCondition } from '../solar.js';
import { weatherAt, weatherHas, type WeatherSeries } from '../weather.js';
import type { FitInput, FittedModel, Location, ModelAdapter, ModelInput } from '../model.js';

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
interface UnitPowers {
  readonly clear: Map<number, number>;
  readonly weather: Map<number, number>;
}
const unitCache = new WeakMap<Location, Map<string, UnitPowers>>();
const weatherIds = new WeakMap<WeatherSeries, number>();
let nextWeatherId = 1;
const UNIT_CACHE_LIMIT = 200_000;

function unitPowers(location: Location, orientation: Orientation, stepMs: number, weather: WeatherSeries | undefined): UnitPowers {
  let byKey = unitCache.get(location);
  if (!byKey) unitCache.set(location, (byKey = new Map()));
  let weatherId = 0;
  if (weather) {
    weatherId = weatherIds.get(weather) ?? nextWeatherId++;
    weatherIds.set(weather, weatherId);
  }
  const key = `${orientation.tiltDeg}/${orientation.azimuthDeg}/${stepMs}/${weatherId}`;
  let entry = byKey.get(key);
  if (!entry || entry.clear.size + entry.weather.size > UNIT_CACHE_LIMIT) byKey.set(key, (entry = { clear: new Map(), weather: new Map() }));
  return entry;
}

function unusable(input: ModelInput, atMs: number): string | undefined {
  if (!input.site.location) return 'needs the site location (latitude, longitude)';
  if (input.site.pv?.kwp === undefined && knownDays(input.series, atMs) < 3) return 'needs the kWp or at least 3 days of production history';
  return undefined;
}

function envelopeKwp(history: KnownHistory, location: Location, orientation: Orientation): number {
  const { stepMs, startMs } = history.series;
  let best = 0;
  for (let t = Math.max(startMs, history.knownUntilMs - SEASON_DAYS * DAY_MS); t < history.knownUntilMs; t += stepMs) {
    const v = history.at(t);
    if (!(v > 0)) continue;
    const clear = pvPowerW(location, t, stepMs, orientation, 1, { clearSkyIndex: 1 });
    if (clear > 100) best = Math.max(best, v / clear);
  }
  return best;
}

function fit(input: FitInput): FittedModel {
  const { series, site, weather, fitAtMs } = input;
  const location = site.location!;
  const known = site.pv ?? {};
  const stepMs = series.stepMs;
  const allKnown = known.kwp !== undefined && known.tiltDeg !== undefined && known.azimuthDeg !== undefined;
  const history = knownBefore(series, fitAtMs);
  const calibration = allKnown ? undefined : calibratePv(history, location, known);
  const orientation: Orientation = calibration?.orientation ?? {
    tiltDeg: known.tiltDeg ?? DEFAULT_ORIENTATION.tiltDeg,
    azimuthDeg: known.azimuthDeg ?? DEFAULT_ORIENTATION.azimuthDeg,
  };
  // Too few clear-enough days to calibrate (gaps, a dull spell): the size from the highest output
  // seen against clear sky; a system that never produced is forecast at 0.
  const kwp = known.kwp ?? calibration?.kwp ?? envelopeKwp(history, location, orientation);
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
  // PVWatts output is proportional to kWp, so the power of 1 kWp is shared by every system of
  // the same place, orientation and weather (a community's roofs mostly share a few).
  const unit = unitPowers(location, orientation, stepMs, weather);
  const clearPower = (t: number) => {
    let p = unit.clear.get(t);
    if (p === undefined) unit.clear.set(t, (p = pvPowerW(location, t, stepMs, orientation, 1, { clearSkyIndex: 1 }, ambientAt(t))));
    return p * kwp;
  };
  const weatherPower = (t: number) => {
    let p = unit.weather.get(t);
    if (p === undefined) {
      const sky = weatherSky(t);
      unit.weather.set(t, (p = sky ? pvPowerW(location, t, stepMs, orientation, 1, sky, ambientAt(t)) : Number.NaN));
    }
    return p * kwp;
  };
  // Running sums over the series of metered and modelled energy where both are known and the
  // sun is up, so "metered ÷ modelled over the last days" costs two look-ups at any issue time.
  // Only prefixes that end at an issue time are read: no outcome after it enters a forecast.
  interface Sums { readonly metered: Float64Array; readonly modelled: Float64Array }
  const cumulate = (modelled: (t: number) => number): Sums => {
    const n = series.values.length;
    const sums = { metered: new Float64Array(n + 1), modelled: new Float64Array(n + 1) };
    for (let i = 0; i < n; i++) {
      const t = series.startMs + i * stepMs;
      const v = series.values[i]!;
      const m = clearPower(t) > 0 && !Number.isNaN(v) ? modelled(t) : Number.NaN;
      const known = !Number.isNaN(m);
      sums.metered[i + 1] = sums.metered[i]! + (known ? v : 0);
      sums.modelled[i + 1] = sums.modelled[i]! + (known ? m : 0);
    }
    return sums;
  };
  let clearSums: Sums | undefined;
  let weatherSums: Sums | undefined;
  const ratio = (sums: Sums, fromMs: number, toMs: number): number | undefined => {
    const index = (t: number) => Math.max(0, Math.min(series.values.length, Math.floor((t - series.startMs) / stepMs)));
    const i = index(fromMs);
    const j = index(toMs);
    const m = sums.modelled[j]! - sums.modelled[i]!;
    return m > 0 ? (sums.metered[j]! - sums.metered[i]!) / m : undefined;
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
      const until = knownBefore(series, task.issuedAtMs).knownUntilMs;
      clearSums ??= cumulate(clearPower);
      const recent = ratio(clearSums, until - RECENT_DAYS * DAY_MS, until);
      const season = ratio(clearSums, until - SEASON_DAYS * DAY_MS, until);
      const baseIndex = recent !== undefined && season !== undefined ? (recent + season) / 2 : (recent ?? season ?? DEFAULT_CLEAR_SKY_INDEX);
      const lastHour = ratio(clearSums, until - HOUR_MS, until);
      if (hasGhi || hasCloud) weatherSums ??= cumulate(weatherPower);
      const weatherBias = weatherSums ? ratio(weatherSums, until - SEASON_DAYS * DAY_MS, until) : undefined;
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
