import { getPosition } from 'suncalc';
import { DAY_MS, MINUTE_MS } from '../../kernel/time.js';
import type { Location } from './model.js';
import type { Series } from './series.js';

/**
 * Solar geometry and a PVWatts-style PV power model, in plain numbers.
 *
 * - Sun position: `suncalc` (apparent altitude, compass azimuth).
 * - Clear-sky GHI: Haurwitz (1945), GHI = 1098·cos z·exp(−0.057 / cos z): needs no turbidity data
 *   and is within a few per cent of Ineichen at mid latitudes.
 * - Beam/diffuse split: the Erbs et al. (1982) diffuse-fraction correlation of the clearness index.
 * - Plane of array: beam on the tilted plane + isotropic sky diffuse + ground reflection (albedo 0.2).
 * - DC: PVWatts v5 — kWp · POA/1000 · (1 + γ·(T_cell − 25)), γ = −0.37 %/K, NOCT cell
 *   temperature, 14 % system losses; AC: the PVWatts inverter efficiency curve, clipped at
 *   kWp / 1.2 (DC/AC ratio 1.2).
 * Irradiance is evaluated every 5 minutes and averaged over each interval, so sunrise and sunset
 * intervals get partial power.
 */

const SUB_STEP_MS = 5 * MINUTE_MS;
const SAMPLES_PER_DAY = DAY_MS / SUB_STEP_MS;
const SOLAR_CONSTANT = 1361;
const DEG = Math.PI / 180;
const ALBEDO = 0.2;
const GAMMA_PDC = -0.0037;
const NOCT_RISE_PER_WM2 = (45 - 20) / 800;
const SYSTEM_LOSSES = 0.14;
const DC_AC_RATIO = 1.2;
const INVERTER_NOMINAL = 0.96;
const INVERTER_REFERENCE = 0.9637;
/** Ambient temperature assumed when no weather is known. */
export const DEFAULT_AMBIENT_C = 15;

/** Sun geometry and clear-sky irradiance of one UTC day at one place, every 5 minutes (at the sub-step midpoints). */
interface DaySamples {
  readonly cosZ: Float64Array;
  readonly sinZ: Float64Array;
  readonly sunAzRad: Float64Array;
  readonly ghiClear: Float64Array;
  /** Extraterrestrial horizontal irradiance, W/m². */
  readonly extraHorizontal: Float64Array;
}

const dayCache = new Map<string, DaySamples>();
const DAY_CACHE_LIMIT = 2000;

let lastLocation: Location | undefined;
let lastDay = Number.NaN;
let lastSamples: DaySamples | undefined;

function daySamples(location: Location, day: number): DaySamples {
  if (day === lastDay && location === lastLocation) return lastSamples!;
  lastSamples = placeDay(location, day);
  lastLocation = location;
  lastDay = day;
  return lastSamples;
}

function placeDay(location: Location, day: number): DaySamples {
  const key = `${location.latitude.toFixed(3)},${location.longitude.toFixed(3)},${day}`;
  let entry = dayCache.get(key);
  if (entry) return entry;
  const cosZ = new Float64Array(SAMPLES_PER_DAY);
  const sinZ = new Float64Array(SAMPLES_PER_DAY);
  const sunAzRad = new Float64Array(SAMPLES_PER_DAY);
  const ghiClear = new Float64Array(SAMPLES_PER_DAY);
  const extraHorizontal = new Float64Array(SAMPLES_PER_DAY);
  const dayOfYear = Math.floor((day * DAY_MS - Date.UTC(new Date(day * DAY_MS).getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
  const extra = SOLAR_CONSTANT * (1 + 0.033 * Math.cos((2 * Math.PI * dayOfYear) / 365));
  for (let s = 0; s < SAMPLES_PER_DAY; s++) {
    const position = getPosition(new Date(day * DAY_MS + s * SUB_STEP_MS + SUB_STEP_MS / 2), location.latitude, location.longitude);
    const altitude = position.altitude * DEG;
    const c = Math.sin(altitude);
    sunAzRad[s] = position.azimuth * DEG;
    if (c <= 0) continue;
    cosZ[s] = c;
    sinZ[s] = Math.cos(altitude);
    ghiClear[s] = 1098 * c * Math.exp(-0.057 / c);
    extraHorizontal[s] = extra * c;
  }
  entry = { cosZ, sinZ, sunAzRad, ghiClear, extraHorizontal };
  if (dayCache.size >= DAY_CACHE_LIMIT) dayCache.delete(dayCache.keys().next().value!);
  dayCache.set(key, entry);
  return entry;
}

/** Erbs et al.: diffuse fraction of GHI from the clearness index kt. */
export function erbsDiffuseFraction(kt: number): number {
  if (kt <= 0.22) return 1 - 0.09 * kt;
  if (kt <= 0.8) return 0.9511 + kt * (-0.1604 + kt * (4.388 + kt * (-16.638 + kt * 12.336)));
  return 0.165;
}

export interface Orientation {
  readonly tiltDeg: number;
  /** Compass azimuth of the panel normal: 180 = south. */
  readonly azimuthDeg: number;
}

/** Plane-of-array irradiance (W/m²) for GHI split into beam and diffuse by Erbs. */
export function planeOfArray(ghi: number, cosZ: number, sinZ: number, sunAzRad: number, extraHorizontal: number, orientation: Orientation): number {
  if (ghi <= 0 || cosZ <= 0) return 0;
  const kt = Math.min(1, ghi / extraHorizontal);
  const dhi = ghi * erbsDiffuseFraction(kt);
  // Near the horizon the beam component is unstable (÷ cos z): keep it to the beam share of GHI.
  const beamHorizontal = ghi - dhi;
  const tilt = orientation.tiltDeg * DEG;
  const cosTilt = Math.cos(tilt);
  const cosAoi = cosZ * cosTilt + sinZ * Math.sin(tilt) * Math.cos(sunAzRad - orientation.azimuthDeg * DEG);
  const beam = cosAoi > 0 ? (beamHorizontal * cosAoi) / Math.max(cosZ, 0.05) : 0;
  return beam + (dhi * (1 + cosTilt)) / 2 + (ghi * ALBEDO * (1 - cosTilt)) / 2;
}

/** PVWatts v5 DC and inverter model: AC watts of a `kwp` system for a plane-of-array irradiance. */
export function pvwattsAcW(poa: number, ambientC: number, kwp: number): number {
  if (poa <= 0 || kwp <= 0) return 0;
  const cellC = ambientC + NOCT_RISE_PER_WM2 * poa;
  const dc = kwp * poa * (1 + GAMMA_PDC * (cellC - 25)) * (1 - SYSTEM_LOSSES);
  const acRated = (kwp * 1000) / DC_AC_RATIO;
  const dcRated = acRated / INVERTER_NOMINAL;
  const zeta = dc / dcRated;
  if (zeta <= 0) return 0;
  const efficiency = (INVERTER_NOMINAL / INVERTER_REFERENCE) * (-0.0162 * zeta - 0.0059 / zeta + 0.9858);
  return Math.max(0, Math.min(acRated, dc * efficiency));
}

/** How clear the sky is over an interval: a factor on clear-sky GHI (1 = clear), or a known GHI. */
export type SkyCondition = { readonly clearSkyIndex: number } | { readonly ghiWm2: number };

/**
 * Mean AC power (W) over [fromMs, fromMs + stepMs) of a PV system; 0 whenever the sun is down.
 * With a known mean GHI, each 5-minute sample gets the clear-sky shape scaled to that mean.
 */
export function pvPowerW(location: Location, fromMs: number, stepMs: number, orientation: Orientation, kwp: number, sky: SkyCondition, ambientC = DEFAULT_AMBIENT_C): number {
  const n = Math.max(1, Math.round(stepMs / SUB_STEP_MS));
  let index = 1;
  if ('ghiWm2' in sky) {
    let clear = 0;
    forSamples(location, fromMs, n, (d, s) => { clear += d.ghiClear[s]!; });
    clear /= n;
    index = clear > 1 ? Math.min(1.3, sky.ghiWm2 / clear) : 0;
  } else {
    index = sky.clearSkyIndex;
  }
  let sum = 0;
  forSamples(location, fromMs, n, (d, s) => {
    const ghi = d.ghiClear[s]! * index;
    if (ghi <= 0) return;
    sum += pvwattsAcW(planeOfArray(ghi, d.cosZ[s]!, d.sinZ[s]!, d.sunAzRad[s]!, d.extraHorizontal[s]!, orientation), ambientC, kwp);
  });
  return sum / n;
}

/** Mean clear-sky GHI over an interval (W/m²). */
export function clearSkyGhi(location: Location, fromMs: number, stepMs: number): number {
  const n = Math.max(1, Math.round(stepMs / SUB_STEP_MS));
  let sum = 0;
  forSamples(location, fromMs, n, (d, s) => { sum += d.ghiClear[s]!; });
  return sum / n;
}

/** True when the sun stays below the horizon for the whole interval. */
export function isNight(location: Location, fromMs: number, stepMs: number): boolean {
  return clearSkyGhi(location, fromMs, stepMs) === 0;
}

function forSamples(location: Location, fromMs: number, n: number, visit: (day: DaySamples, sample: number) => void): void {
  for (let k = 0; k < n; k++) {
    const t = fromMs + k * SUB_STEP_MS;
    const day = Math.floor(t / DAY_MS);
    visit(daySamples(location, day), Math.floor((t - day * DAY_MS) / SUB_STEP_MS));
  }
}

/**
 * PV meters often report nothing at night (no change at 0 W): a missing value in an interval
 * when the sun is down is a 0. Daytime gaps stay missing.
 */
export function fillNightGaps(series: Series, location: Location): Series {
  const values = series.values.slice();
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i]!) && isNight(location, series.startMs + i * series.stepMs, series.stepMs)) values[i] = 0;
  }
  return { ...series, values };
}
