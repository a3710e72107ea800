import { createLocalClock } from '../../kernel/calendar.js';
import { BadRequestError } from '../../kernel/errors.js';
import { HOUR_MS, MINUTE_MS } from '../../kernel/time.js';
import { parseTimeColumns } from './time-csv.js';

/**
 * Weather on a regular UTC grid (usually hourly). Conventions, whatever the source:
 *   temperatureC, cloudCoverPct  the value at the instant `startMs + i·stepMs`;
 *   ghiWm2                       global horizontal irradiance, the mean over [t, t + step).
 * NaN is a missing value. How a missing value is handled (documented in the README):
 * `weatherAt` interpolates across a gap of up to MAX_GAP_MS; beyond that it answers NaN, and every
 * model then forecasts that interval as it would without weather.
 */
export interface WeatherSeries {
  readonly startMs: number;
  readonly stepMs: number;
  readonly temperatureC: Float64Array;
  readonly ghiWm2: Float64Array;
  readonly cloudCoverPct: Float64Array;
}

export type WeatherQuantity = 'temperatureC' | 'ghiWm2' | 'cloudCoverPct';
export const MAX_GAP_MS = 3 * HOUR_MS;

const RANGES: Record<WeatherQuantity, readonly [number, number]> = {
  temperatureC: [-90, 60],
  ghiWm2: [0, 1500],
  cloudCoverPct: [0, 100],
};

function checkRange(quantity: WeatherQuantity, values: Float64Array, where: string): void {
  const [lo, hi] = RANGES[quantity];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v) && (v < lo || v > hi)) throw new BadRequestError(`${where}: ${quantity} ${v} is outside ${lo}…${hi}`);
  }
}

/**
 * The value of a quantity for the interval [fromMs, toMs): GHI averaged over the interval, the
 * instantaneous quantities at its midpoint; linear interpolation between samples, across gaps of
 * missing samples up to MAX_GAP_MS; NaN beyond that or outside the data.
 */
export function weatherAt(weather: WeatherSeries, quantity: WeatherQuantity, fromMs: number, toMs: number): number {
  const values = weather[quantity];
  const { startMs, stepMs } = weather;
  if (quantity === 'ghiWm2') {
    // Mean of the overlapping intervals, each weighted by its overlap; a missing interval is
    // bridged from its neighbours when the gap is short.
    let sum = 0;
    let weight = 0;
    for (let i = Math.floor((fromMs - startMs) / stepMs); startMs + i * stepMs < toMs; i++) {
      const a = Math.max(fromMs, startMs + i * stepMs);
      const b = Math.min(toMs, startMs + (i + 1) * stepMs);
      if (b <= a) continue;
      const v = sampleOrBridge(values, i, stepMs);
      if (Number.isNaN(v)) return Number.NaN;
      sum += v * (b - a);
      weight += b - a;
    }
    return weight > 0 ? sum / weight : Number.NaN;
  }
  const x = ((fromMs + toMs) / 2 - startMs) / stepMs;
  const i = Math.floor(x);
  const v0 = sampleOrBridge(values, i, stepMs);
  if (x === i) return v0;
  const v1 = sampleOrBridge(values, i + 1, stepMs);
  return v0 + (v1 - v0) * (x - i);
}

/** Mean of a quantity's samples at instants in [fromMs, toMs) (short gaps bridged); NaN when one is unknown. */
export function weatherMean(weather: WeatherSeries, quantity: WeatherQuantity, fromMs: number, toMs: number): number {
  const values = weather[quantity];
  let sum = 0;
  let n = 0;
  for (let i = Math.ceil((fromMs - weather.startMs) / weather.stepMs); weather.startMs + i * weather.stepMs < toMs; i++) {
    const v = sampleOrBridge(values, i, weather.stepMs);
    if (Number.isNaN(v)) return Number.NaN;
    sum += v;
    n++;
  }
  return n > 0 ? sum / n : Number.NaN;
}

/** values[i], or the linear interpolation across the run of missing values around it when that run is short. */
function sampleOrBridge(values: Float64Array, i: number, stepMs: number): number {
  if (i < 0 || i >= values.length) return Number.NaN;
  const v = values[i]!;
  if (!Number.isNaN(v)) return v;
  let lo = i - 1;
  while (lo >= 0 && Number.isNaN(values[lo]!)) lo--;
  let hi = i + 1;
  while (hi < values.length && Number.isNaN(values[hi]!)) hi++;
  if (lo < 0 || hi >= values.length || (hi - lo) * stepMs > MAX_GAP_MS + stepMs) return Number.NaN;
  return values[lo]! + ((values[hi]! - values[lo]!) * (i - lo)) / (hi - lo);
}

// ---- Open-Meteo -------------------------------------------------------------------------------

/** The variables asked of Open-Meteo (current names; `cloudcover` is the old name of cloud_cover). */
export const OPEN_METEO_HOURLY = ['temperature_2m', 'shortwave_radiation', 'cloud_cover'] as const;

const isNumberOrNull = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isFinite(v));

/**
 * An Open-Meteo forecast or archive response (`hourly` block) as weather. Times are ISO local
 * times in the response's `timezone` (GMT when asked with timezone=GMT, as the client does) or
 * Unix seconds (`timeformat=unixtime`). Open-Meteo's `shortwave_radiation` is the mean of the
 * hour *before* its time stamp, so it is moved back one step to mean the hour starting there.
 * `null` values are missing values.
 */
export function parseOpenMeteo(json: unknown): WeatherSeries {
  const fail = (message: string): never => {
    throw new BadRequestError(`Open-Meteo response: ${message}`);
  };
  if (typeof json !== 'object' || json === null) return fail('not a JSON object');
  const body = json as Record<string, unknown>;
  if (typeof body.error === 'boolean' && body.error) return fail(`error "${String(body.reason ?? 'unknown')}"`);
  const hourly = body.hourly;
  if (typeof hourly !== 'object' || hourly === null) return fail('no "hourly" block');
  const block = hourly as Record<string, unknown>;
  const time = block.time;
  if (!Array.isArray(time) || time.length === 0) return fail('"hourly.time" is missing or empty');

  const timezone = typeof body.timezone === 'string' ? body.timezone : 'GMT';
  const offsetS = typeof body.utc_offset_seconds === 'number' ? body.utc_offset_seconds : 0;
  const clock = timezone === 'GMT' || timezone === 'UTC' ? undefined : (() => {
    try { return createLocalClock(timezone); } catch { return fail(`unknown timezone "${timezone}"`); }
  })();
  const instants = time.map((t, k): number => {
    if (typeof t === 'number' && Number.isInteger(t)) return t * 1000;
    if (typeof t !== 'string') return fail(`hourly.time[${k}] is neither an ISO time nor Unix seconds`);
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(t);
    if (!m) return fail(`hourly.time[${k}] "${t}" is not like 2024-06-01T13:00`);
    const local = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
    return clock ? clock.toUtc(local) : local - offsetS * 1000;
  });
  // In a zone with DST the repeated autumn hour maps twice to one instant: the second is an hour later.
  for (let k = 1; k < instants.length; k++) if (clock && instants[k]! <= instants[k - 1]!) instants[k] = instants[k - 1]! + HOUR_MS;
  const stepMs = instants.length > 1 ? instants[1]! - instants[0]! : HOUR_MS;
  if (stepMs <= 0 || stepMs % (15 * MINUTE_MS) !== 0) fail('times are not a regular grid');
  instants.forEach((t, k) => {
    if (t !== instants[0]! + k * stepMs) fail(`hourly.time[${k}] breaks the regular ${stepMs / MINUTE_MS}-minute grid`);
  });

  const column = (names: readonly string[]): Float64Array => {
    const name = names.find((n) => n in block);
    const values = new Float64Array(time.length).fill(Number.NaN);
    if (name === undefined) return values;
    const data = block[name];
    if (!Array.isArray(data) || data.length !== time.length) return fail(`"hourly.${name}" does not have one value per time`);
    data.forEach((v, k) => {
      if (!isNumberOrNull(v)) fail(`hourly.${name}[${k}] is not a number or null`);
      values[k] = v === null ? Number.NaN : v;
    });
    return values;
  };
  const temperatureC = column(['temperature_2m']);
  const cloudCoverPct = column(['cloud_cover', 'cloudcover']);
  const ghiEnding = column(['shortwave_radiation']);
  const ghiWm2 = new Float64Array(time.length).fill(Number.NaN);
  // Value stamped t covers [t − step, t): it belongs to the interval starting one step earlier.
  for (let k = 1; k < time.length; k++) ghiWm2[k - 1] = ghiEnding[k]!;
  const weather = { startMs: instants[0]!, stepMs, temperatureC, ghiWm2, cloudCoverPct };
  for (const q of ['temperatureC', 'ghiWm2', 'cloudCoverPct'] as const) checkRange(q, weather[q], 'Open-Meteo response');
  return weather;
}

// ---- CSV --------------------------------------------------------------------------------------

export const WEATHER_CSV_COLUMNS = ['temperature_c', 'ghi_w_m2', 'cloud_cover_pct'] as const;

/**
 * A weather CSV: `timestamp_utc` and any of temperature_c, ghi_w_m2 (mean over the interval
 * starting at the time stamp), cloud_cover_pct; empty cells or `NaN` are missing values.
 */
export function parseWeatherCsv(text: string): WeatherSeries {
  const table = parseTimeColumns(text, { allowed: WEATHER_CSV_COLUMNS, min: 1 });
  const column = (name: string) => table.columns.get(name) ?? new Float64Array(table.length).fill(Number.NaN);
  const weather = {
    startMs: table.startMs,
    stepMs: table.stepMs,
    temperatureC: column('temperature_c'),
    ghiWm2: column('ghi_w_m2'),
    cloudCoverPct: column('cloud_cover_pct'),
  };
  for (const q of ['temperatureC', 'ghiWm2', 'cloudCoverPct'] as const) checkRange(q, weather[q], 'weather file');
  return weather;
}

/** Which quantities a weather series has at all (any known value). */
export function weatherHas(weather: WeatherSeries | undefined, quantity: WeatherQuantity): boolean {
  if (!weather) return false;
  return weather[quantity].some((v) => !Number.isNaN(v));
}
