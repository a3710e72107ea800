/**
 * Appliances that switch on now and then: a kettle, the cooker, a washing machine, a
 * dishwasher, an electric car. Each day's runs are drawn from a PRNG seeded by (site, day), so
 * a day always has the same runs however the simulation steps through it.
 */
import type { LocalClock } from '../kernel/calendar.js';
import { DAY_MS } from '../kernel/time.js';
import { uniform, type Rng } from './random.js';

const MINUTE_MS = 60_000;
const YEAR_DAYS = 365.2425;

/** One appliance drawing constant power over [start, end) (UTC ms). */
export interface ApplianceRun {
  readonly start: number;
  readonly end: number;
  readonly watts: number;
}

export interface ApplianceWindow {
  readonly days: 'weekday' | 'weekend' | 'all';
  /** Chance that the appliance runs once in this window on such a day (before the household's activity factor). */
  readonly chance: number;
  /** Start time drawn uniformly between these local minutes after midnight. */
  readonly from: number;
  readonly to: number;
}

/** A programme step: e.g. a washing machine heats, then tumbles. Power and duration drawn uniformly. */
export interface AppliancePhase {
  readonly watts: readonly [min: number, max: number];
  readonly minutes: readonly [min: number, max: number];
}

export interface ApplianceSpec {
  readonly name: string;
  readonly windows: readonly ApplianceWindow[];
  readonly phases: readonly AppliancePhase[];
  /** False for loads that do not grow with household size (the car's charging). */
  readonly scalesWithActivity: boolean;
}

const hm = (hours: number, minutes = 0) => hours * 60 + minutes;

export const KETTLE: ApplianceSpec = {
  name: 'kettle',
  scalesWithActivity: true,
  windows: [
    { days: 'weekday', chance: 0.8, from: hm(6), to: hm(8) },
    { days: 'weekend', chance: 0.8, from: hm(8), to: hm(10, 30) },
    { days: 'all', chance: 0.35, from: hm(15), to: hm(17) },
    { days: 'all', chance: 0.45, from: hm(19), to: hm(22) },
  ],
  phases: [{ watts: [2000, 2400], minutes: [2, 4] }],
};

export const COOKING: ApplianceSpec = {
  name: 'cooking',
  scalesWithActivity: true,
  windows: [
    { days: 'all', chance: 0.7, from: hm(17, 30), to: hm(19, 30) },
    { days: 'weekend', chance: 0.55, from: hm(11, 15), to: hm(12, 30) },
    { days: 'weekday', chance: 0.1, from: hm(11, 30), to: hm(12, 30) },
  ],
  // Hob or oven at full power to heat up, then cycling at a lower average.
  phases: [
    { watts: [2000, 3200], minutes: [8, 15] },
    { watts: [700, 1400], minutes: [15, 45] },
  ],
};

export const WASHING_MACHINE: ApplianceSpec = {
  name: 'washing machine',
  scalesWithActivity: true,
  windows: [
    { days: 'weekday', chance: 0.4, from: hm(7), to: hm(20) },
    { days: 'weekend', chance: 0.7, from: hm(9), to: hm(17) },
  ],
  phases: [
    { watts: [1900, 2200], minutes: [12, 20] },
    { watts: [150, 350], minutes: [50, 80] },
  ],
};

export const DISHWASHER: ApplianceSpec = {
  name: 'dishwasher',
  scalesWithActivity: true,
  windows: [
    { days: 'all', chance: 0.45, from: hm(19, 30), to: hm(22) },
    { days: 'weekend', chance: 0.2, from: hm(13), to: hm(15) },
  ],
  phases: [
    { watts: [1800, 2100], minutes: [15, 22] },
    { watts: [80, 150], minutes: [40, 60] },
    { watts: [1800, 2100], minutes: [8, 12] },
  ],
};

export const HOUSEHOLD_APPLIANCES: readonly ApplianceSpec[] = [KETTLE, COOKING, WASHING_MACHINE, DISHWASHER];

/**
 * Home charging of an electric car: in the evening after work, or on weekend afternoons, with
 * 6–16 kWh per session (a commute or two; the car also charges elsewhere).
 */
export function evCharging(chargerW: number, sessionsPerWeek = 2.5): ApplianceSpec {
  const perDay = Math.min(1, sessionsPerWeek / 7);
  return {
    name: 'electric car',
    scalesWithActivity: false,
    windows: [
      { days: 'weekday', chance: perDay, from: hm(17), to: hm(20, 30) },
      { days: 'weekend', chance: perDay, from: hm(11), to: hm(18) },
    ],
    phases: [{ watts: [chargerW, chargerW], minutes: [(6000 / chargerW) * 60, (16000 / chargerW) * 60] }],
  };
}

const isWeekend = (weekday: number) => weekday === 0 || weekday === 6;

function applies(window: ApplianceWindow, weekday: number): boolean {
  return window.days === 'all' || (window.days === 'weekend') === isWeekend(weekday);
}

function chanceOf(spec: ApplianceSpec, window: ApplianceWindow, activity: number): number {
  return Math.min(1, window.chance * (spec.scalesWithActivity ? activity : 1));
}

/** Expected energy per year in Wh (power and duration are drawn independently, so E[P·t] = E[P]·E[t]). */
export function expectedAnnualWh(spec: ApplianceSpec, activity: number): number {
  const perRun = spec.phases.reduce((sum, phase) => sum + ((phase.watts[0] + phase.watts[1]) / 2) * ((phase.minutes[0] + phase.minutes[1]) / 2 / 60), 0);
  const runsPerYear = spec.windows.reduce((sum, window) => {
    const days = window.days === 'all' ? YEAR_DAYS : window.days === 'weekday' ? (YEAR_DAYS * 5) / 7 : (YEAR_DAYS * 2) / 7;
    return sum + chanceOf(spec, window, activity) * days;
  }, 0);
  return perRun * runsPerYear;
}

/** The runs that start on one local day (they may end after midnight). */
export function runsOnDay(spec: ApplianceSpec, activity: number, rng: Rng, day: number, weekday: number, clock: LocalClock): ApplianceRun[] {
  const runs: ApplianceRun[] = [];
  for (const window of spec.windows) {
    // Draw every number whether or not it is used, so one window's outcome never shifts another's.
    const happens = rng() < chanceOf(spec, window, activity);
    const startMinute = uniform(rng, window.from, window.to);
    const draws = spec.phases.map((phase) => ({ watts: uniform(rng, phase.watts[0], phase.watts[1]), minutes: uniform(rng, phase.minutes[0], phase.minutes[1]) }));
    if (!happens || !applies(window, weekday)) continue;
    let start = clock.toUtc(day * DAY_MS + startMinute * MINUTE_MS);
    for (const draw of draws) {
      const end = start + draw.minutes * MINUTE_MS;
      runs.push({ start, end, watts: draw.watts });
      start = end;
    }
  }
  return runs;
}

/**
 * The total power of a set of runs as a step function of time, for mean power over a span.
 * Queries that move forward (as a simulation does) are O(1) amortised thanks to a cursor.
 */
export interface RunTimeline {
  meanPowerW(from: number, to: number): number;
}

export function runTimeline(runs: readonly ApplianceRun[]): RunTimeline {
  const times = [...new Set(runs.flatMap((run) => [run.start, run.end]))].sort((a, b) => a - b);
  // watts[i] is the power between times[i] and times[i + 1]; 0 before the first and after the last.
  const watts = times.map((t) => runs.reduce((sum, run) => (run.start <= t && run.end > t ? sum + run.watts : sum), 0));
  const last = times.length - 1;
  let cursor = 0;
  return {
    meanPowerW(from, to) {
      if (last < 1 || to <= times[0]! || from >= times[last]!) return 0;
      if (cursor > 0 && times[cursor]! > from) cursor = 0;
      while (cursor < last && times[cursor + 1]! <= from) cursor++;
      let energy = 0;
      for (let i = cursor; i < last && times[i]! < to; i++) {
        const a = Math.max(from, times[i]!);
        const b = Math.min(to, times[i + 1]!);
        if (b > a) energy += watts[i]! * (b - a);
      }
      return energy / (to - from);
    },
  };
}

/** Mean power of runs over [from, to): each run counts for the part of it inside the span. */
export function meanRunPowerW(runs: readonly ApplianceRun[], from: number, to: number): number {
  let energy = 0;
  for (const run of runs) {
    if (run.end <= from || run.start >= to) continue;
    energy += run.watts * (Math.min(run.end, to) - Math.max(run.start, from));
  }
  return energy / (to - from);
}
