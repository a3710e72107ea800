/**
 * Electricity use of one home: standby and the fridge around the clock, a daily activity shape
 * (morning and evening peaks, a different rhythm at weekends, more light in winter) with
 * random wobble, and appliances switching on (kettle, cooker, washing machine, dishwasher,
 * sometimes a car). Each home's traits are drawn once from the seed, and scaled so the home
 * uses a chosen amount per year: 2,700–4,200 kWh (Austrian households average ~3,500 kWh).
 */
import { evCharging, expectedAnnualWh, HOUSEHOLD_APPLIANCES, runsOnDay, runTimeline, type ApplianceRun, type ApplianceSpec, type RunTimeline } from './appliances.js';
import type { Cell } from './cell.js';
import { DAY_MS } from '../kernel/time.js';
import type { LocalClock } from '../kernel/calendar.js';
import { deriveSeed, mulberry32, noiseTrack, smoothstep, uniform } from './random.js';

const MINUTE_MS = 60_000;
const YEAR_HOURS = 365.2425 * 24;
const YEAR_DAYS = 365.2425;

export interface HouseholdOptions {
  readonly name: string;
  /** Rating of the home's car charger in W, if the home charges an electric car. */
  readonly evChargerW?: number;
  /** Target yearly use in kWh (including the car); drawn from the seed when absent. */
  readonly annualKWh?: number;
}

export interface HouseholdTraits {
  readonly annualKWh: number;
  readonly standbyW: number;
  readonly fridge: { readonly watts: number; readonly periodMs: number; readonly duty: number; readonly phaseMs: number };
  /** Multiplies appliance use: bigger households wash more often. */
  readonly activity: number;
  readonly appliances: readonly ApplianceSpec[];
  /** Watts per unit of the daily shape. */
  readonly shapeW: number;
  /** Daily activity shape per local minute (1441 points, so minute 1439.5 can interpolate). */
  readonly weekday: Float64Array;
  readonly weekend: Float64Array;
}

export interface Household {
  readonly traits: HouseholdTraits;
  /** Mean power over the cell, W. */
  loadW(cell: Cell): number;
}

/** A bump of width `sigma` minutes around `centre`, wrapping around midnight. */
function bump(minute: number, centre: number, sigma: number): number {
  let d = Math.abs(minute - centre) % 1440;
  if (d > 720) d = 1440 - d;
  return Math.exp((-0.5 * d * d) / (sigma * sigma));
}

/** 1 between `from` and `to` (minutes), easing in and out over `ease` minutes. */
function plateau(minute: number, from: number, to: number, ease: number): number {
  return smoothstep(from - ease, from + ease, minute) * (1 - smoothstep(to - ease, to + ease, minute));
}

function buildShape(weekend: boolean, wakeShift: number, eveningShift: number): Float64Array {
  const shape = new Float64Array(1441);
  for (let m = 0; m <= 1440; m++) {
    const minute = m % 1440;
    shape[m] = weekend
      ? 0.12 + 0.9 * bump(minute, 540 + wakeShift, 80) + 0.6 * bump(minute, 750, 90) + 0.4 * plateau(minute, 600, 1080, 60)
        + 1.4 * bump(minute, 1170 + eveningShift, 110) + 0.6 * bump(minute, 1320 + eveningShift, 60)
      : 0.12 + 0.9 * bump(minute, 390 + wakeShift, 50) + 0.25 * plateau(minute, 540, 960, 60) + 0.3 * bump(minute, 750, 60)
        + 1.5 * bump(minute, 1170 + eveningShift, 100) + 0.6 * bump(minute, 1290 + eveningShift, 60);
  }
  return shape;
}

/** Energy of one unit of shape over a day, Wh. */
function dailyShapeWh(shape: Float64Array): number {
  let sum = 0;
  for (let m = 0; m < 1440; m++) sum += shape[m]!;
  return sum / 60;
}

export function householdTraits(seed: number, options: HouseholdOptions): HouseholdTraits {
  const rng = mulberry32(deriveSeed(seed, 'household', options.name));
  const ev = options.evChargerW ? evCharging(options.evChargerW) : undefined;
  // Draw every trait whether or not it is used, so adding a car does not change the rest of the home.
  const drawnAnnual = uniform(rng, 2700, 4200);
  const drawnWithCar = uniform(rng, 2500, 2900);
  const standbyShare = uniform(rng, 0.3, 0.42);
  const fridge = { watts: uniform(rng, 80, 130), periodMs: uniform(rng, 35, 60) * MINUTE_MS, duty: uniform(rng, 0.25, 0.4), phaseMs: rng() * 3_600_000 };
  const wakeShift = uniform(rng, -45, 45);
  const eveningShift = uniform(rng, -40, 60);

  const evAnnualWh = ev ? expectedAnnualWh(ev, 1) : 0;
  const annualKWh = options.annualKWh ?? (ev ? drawnWithCar + evAnnualWh / 1000 : drawnAnnual);
  // Everything but the car scales with the home.
  const homeWh = annualKWh * 1000 - evAnnualWh;
  const activity = Math.min(1.3, Math.max(0.7, homeWh / 3_500_000));
  const standbyW = (homeWh / YEAR_HOURS) * standbyShare;
  const appliances = ev ? [...HOUSEHOLD_APPLIANCES, ev] : HOUSEHOLD_APPLIANCES;
  const weekday = buildShape(false, wakeShift, eveningShift);
  const weekend = buildShape(true, wakeShift, eveningShift);

  // The activity shape carries whatever the fixed parts leave of the target, so the expected
  // yearly total is the target (the seasonal factor and the noise average to 1).
  const fixedWh = (standbyW + fridge.watts * fridge.duty) * YEAR_HOURS
    + HOUSEHOLD_APPLIANCES.reduce((sum, spec) => sum + expectedAnnualWh(spec, activity), 0);
  const shapeYearWh = YEAR_DAYS * ((5 / 7) * dailyShapeWh(weekday) + (2 / 7) * dailyShapeWh(weekend));
  const shapeW = Math.max(0, homeWh - fixedWh) / shapeYearWh;
  return { annualKWh, standbyW, fridge, activity, appliances, shapeW, weekday, weekend };
}

export function createHousehold(seed: number, options: HouseholdOptions, clock: LocalClock): Household {
  const traits = householdTraits(seed, options);
  const noiseFast = noiseTrack(deriveSeed(seed, 'household-noise', options.name), 25 * MINUTE_MS);
  const noiseDaily = noiseTrack(deriveSeed(seed, 'household-mood', options.name), 2 * 86_400_000);
  const runSeed = deriveSeed(seed, 'household-runs', options.name);
  const { fridge } = traits;

  const runsStartingOn = (day: number): ApplianceRun[] => {
    const rng = mulberry32(deriveSeed(runSeed, day));
    const weekday = (((day + 4) % 7) + 7) % 7;
    return traits.appliances.flatMap((spec) => runsOnDay(spec, traits.activity, rng, day, weekday, clock));
  };
  // A run can last past midnight, so a day needs its own runs and the day before's.
  let runsDay = Number.NaN;
  let runsToday: ApplianceRun[] = [];
  let runsYesterday: ApplianceRun[] = [];
  const runsFor = (day: number): readonly ApplianceRun[] => {
    if (day !== runsDay) {
      const dayStart = clock.toUtc(day * DAY_MS);
      runsYesterday = (day === runsDay + 1 ? runsToday : runsStartingOn(day - 1)).filter((run) => run.end > dayStart);
      runsToday = runsStartingOn(day);
      runsDay = day;
    }
    return runsYesterday.length === 0 ? runsToday : [...runsYesterday, ...runsToday];
  };
  let timelineDay = Number.NaN;
  let timeline: RunTimeline = runTimeline([]);

  return {
    traits,
    loadW(cell) {
      const { local } = cell;
      if (local.day !== timelineDay) {
        timeline = runTimeline(runsFor(local.day));
        timelineDay = local.day;
      }
      const runsW = timeline.meanPowerW(cell.start, cell.end);
      const table = cell.weekend ? traits.weekend : traits.weekday;
      const index = Math.floor(local.minute);
      const f = local.minute - index;
      const shape = table[index]! + (table[index + 1]! - table[index]!) * f;
      // More light and more time indoors in winter: ±18 % over the year, averaging to 1.
      const season = 1 + 0.18 * cell.winter;
      const wobble = (1 + 0.3 * noiseFast(cell.mid)) * (1 + 0.15 * noiseDaily(cell.mid));
      const cycle = (cell.mid + fridge.phaseMs) / fridge.periodMs;
      const fridgeOn = cycle - Math.floor(cycle) < fridge.duty;
      return traits.standbyW + (fridgeOn ? fridge.watts : 0) + traits.shapeW * shape * season * wobble + runsW;
    },
  };
}
