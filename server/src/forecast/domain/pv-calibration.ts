import { DAY_MS, HOUR_MS } from '../../kernel/time.js';
import type { Location, PvSystem } from './model.js';
import type { KnownHistory } from './series.js';
import { clearSkyGhi, pvPowerW, type Orientation } from './solar.js';

/**
 * Fits what is unknown of a PV system (kWp, tilt, azimuth) to its own production.
 *
 * Each candidate orientation gives a clear-sky power curve per day (1 kWp). On a clear day the
 * measured curve is that curve times the system's size; on a cloudy day it is not shaped like it
 * at all. So per day and orientation the least-squares scale s and the relative misfit e are
 * computed; the clearest days (smallest misfit for their best orientation) pick the orientation
 * with the least total misfit, and kWp is the median scale on those days. A coarse grid (tilt 0–60°
 * by 15°, azimuth 90–270° by 30°) is refined once around its best point.
 */
export interface PvCalibration {
  readonly kwp: number;
  readonly orientation: Orientation;
  readonly clearDays: number;
  /** Mean relative misfit on the clear days (0 = perfect clear-sky shape). */
  readonly misfit: number;
}

export const CALIBRATION_DAYS = 30;
/** Shapes are compared hour by hour: finer steps add cost, not information about the orientation. */
const CURVE_STEP_MS = HOUR_MS;
const MIN_DAYS = 3;
const CLEAR_SHARE = 0.2;

interface DayData {
  readonly times: number[];
  readonly actual: number[];
}

/** Clear-sky power of 1 kWp per place, orientation and interval, kept across calibrations (neighbours share the sun). */
const curveCache = new WeakMap<Location, Map<string, Map<number, number>>>();
const CURVE_CACHE_LIMIT = 400_000;
let curveEntries = 0;

function clearUnitPower(location: Location, orientation: Orientation, t: number, stepMs: number): number {
  let byOrientation = curveCache.get(location);
  if (!byOrientation || curveEntries > CURVE_CACHE_LIMIT) {
    curveCache.set(location, (byOrientation = new Map()));
    curveEntries = 0;
  }
  const key = `${orientation.tiltDeg}/${orientation.azimuthDeg}/${stepMs}`;
  let curve = byOrientation.get(key);
  if (!curve) byOrientation.set(key, (curve = new Map()));
  let p = curve.get(t);
  if (p === undefined) {
    curve.set(t, (p = pvPowerW(location, t, stepMs, orientation, 1, { clearSkyIndex: 1 })));
    curveEntries++;
  }
  return p;
}

export function calibratePv(history: KnownHistory, location: Location, known: PvSystem): PvCalibration | undefined {
  const { stepMs } = history.series;
  const until = history.knownUntilMs;
  const from = Math.ceil(Math.max(history.series.startMs, until - CALIBRATION_DAYS * DAY_MS) / CURVE_STEP_MS) * CURVE_STEP_MS;
  // Hourly daylight means per UTC day (hours with every value known), enough of a day to see its shape.
  const days = new Map<number, DayData>();
  for (let t = from; t + CURVE_STEP_MS <= until; t += CURVE_STEP_MS) {
    if (clearSkyGhi(location, t, CURVE_STEP_MS) <= 0) continue;
    let v = 0;
    for (let u = t; u < t + CURVE_STEP_MS; u += stepMs) v += history.at(u);
    v /= CURVE_STEP_MS / stepMs;
    if (Number.isNaN(v)) continue;
    const d = Math.floor(t / DAY_MS);
    let entry = days.get(d);
    if (!entry) days.set(d, (entry = { times: [], actual: [] }));
    entry.times.push(t);
    entry.actual.push(v);
  }
  const usable = [...days.values()].filter((d) => d.actual.length >= 4 && d.actual.some((v) => v > 0));
  if (usable.length < MIN_DAYS) return undefined;

  const evaluate = (orientation: Orientation) => usable.map((day) => {
    let ac = 0;
    let cc = 0;
    let aa = 0;
    const curve = day.times.map((t) => clearUnitPower(location, orientation, t, CURVE_STEP_MS));
    day.actual.forEach((a, k) => {
      ac += a * curve[k]!;
      cc += curve[k]! ** 2;
      aa += a * a;
    });
    const scale = cc > 0 ? ac / cc : 0;
    let misfit = 0;
    day.actual.forEach((a, k) => { misfit += (a - scale * curve[k]!) ** 2; });
    return { scale, misfit: aa > 0 ? misfit / aa : 1 };
  });

  const candidates = (tilts: number[], azimuths: number[]): Orientation[] => {
    const list: Orientation[] = [];
    for (const tiltDeg of known.tiltDeg === undefined ? tilts : [known.tiltDeg]) {
      for (const azimuthDeg of known.azimuthDeg === undefined ? (tiltDeg === 0 ? [180] : azimuths) : [known.azimuthDeg]) {
        list.push({ tiltDeg: Math.max(0, Math.min(90, tiltDeg)), azimuthDeg: ((azimuthDeg % 360) + 360) % 360 });
      }
    }
    return list;
  };
  const results = new Map<string, { orientation: Orientation; days: { scale: number; misfit: number }[] }>();
  const run = (list: Orientation[]) => {
    for (const orientation of list) {
      const key = `${orientation.tiltDeg}/${orientation.azimuthDeg}`;
      if (!results.has(key)) results.set(key, { orientation, days: evaluate(orientation) });
    }
  };
  const best = () => {
    // The clearest days, judged by each day's best orientation among those tried.
    const all = [...results.values()];
    const dayBest = usable.map((_, d) => Math.min(...all.map((r) => r.days[d]!.misfit)));
    const order = dayBest.map((m, d) => [m, d] as const).sort((a, b) => a[0] - b[0]);
    const clear = order.slice(0, Math.max(MIN_DAYS, Math.round(usable.length * CLEAR_SHARE))).map(([, d]) => d);
    let winner = all[0]!;
    let winnerMisfit = Number.POSITIVE_INFINITY;
    for (const r of all) {
      const m = clear.reduce((s, d) => s + r.days[d]!.misfit, 0);
      if (m < winnerMisfit) { winner = r; winnerMisfit = m; }
    }
    return { winner, clear, misfit: winnerMisfit / clear.length };
  };
  run(candidates([0, 15, 30, 45, 60], [90, 120, 150, 180, 210, 240, 270]));
  const coarse = best().winner.orientation;
  run(candidates(
    [coarse.tiltDeg - 7.5, coarse.tiltDeg, coarse.tiltDeg + 7.5].filter((t) => t >= 0 && t <= 90),
    [coarse.azimuthDeg - 15, coarse.azimuthDeg - 7.5, coarse.azimuthDeg, coarse.azimuthDeg + 7.5, coarse.azimuthDeg + 15],
  ));
  const { winner, clear, misfit } = best();
  const scales = clear.map((d) => winner.days[d]!.scale).sort((a, b) => a - b);
  const kwp = known.kwp ?? scales[scales.length >> 1]!;
  if (!(kwp > 0)) return undefined;
  return { kwp, orientation: winner.orientation, clearDays: clear.length, misfit };
}
