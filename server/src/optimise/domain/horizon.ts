import { createLocalClock, type LocalClock } from '../../kernel/calendar.js';
import type { MicroPrice } from '../../kernel/money.js';
import { formatUtcInstant, MINUTE_MS, parseUtcInstant } from '../../kernel/time.js';
import { join, list, price, record, ScenarioError, text } from './fields.js';

/** The planning horizon: `steps` steps of `stepMinutes` from a UTC instant on the step grid. */
export interface Horizon {
  readonly startMs: number;
  readonly steps: number;
  readonly stepMinutes: number;
  readonly stepMs: number;
  /** Step length in hours: energy (kWh) = power (kW) × stepHours. */
  readonly stepHours: number;
  /** The community's clock, for time-of-use prices. */
  readonly clock: LocalClock;
}

export const STEP_MINUTES = [15, 30, 60] as const;
/** A week of quarter hours: longer horizons are not what a re-planned MILP is for. */
export const MAX_STEPS = 672;

export function createHorizon(startMs: number, steps: number, stepMinutes: number, timeZone: string): Horizon {
  return { startMs, steps, stepMinutes, stepMs: stepMinutes * MINUTE_MS, stepHours: stepMinutes / 60, clock: createLocalClock(timeZone) };
}

export function stepInstant(horizon: Horizon, t: number): string {
  return formatUtcInstant(horizon.startMs + t * horizon.stepMs);
}

export function parseHorizon(fields: Readonly<Record<string, unknown>>): Horizon {
  const startText = fields.start;
  const startMs = typeof startText === 'string' ? parseUtcInstant(startText) : undefined;
  if (startMs === undefined) throw new ScenarioError('start', 'must be a UTC instant like 2026-06-01T00:00:00Z');
  const stepMinutes = fields.stepMinutes ?? 15;
  if (!STEP_MINUTES.includes(stepMinutes as 15)) throw new ScenarioError('stepMinutes', `must be one of ${STEP_MINUTES.join(', ')}`);
  if (startMs % ((stepMinutes as number) * MINUTE_MS) !== 0) throw new ScenarioError('start', `must lie on the ${String(stepMinutes)}-minute UTC grid`);
  const steps = fields.steps;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) throw new ScenarioError('steps', `must be a whole number from 1 to ${MAX_STEPS}`);
  const timeZone = text(fields, 'timeZone', '', 'UTC');
  try {
    return createHorizon(startMs, steps, stepMinutes as number, timeZone);
  } catch {
    throw new ScenarioError('timeZone', `"${timeZone}" is not an IANA time zone`);
  }
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const CLOCK = /^([01]\d|2[0-4]):([0-5]\d)$/;

function minuteOfDay(value: unknown, path: string): number {
  const match = typeof value === 'string' ? CLOCK.exec(value) : null;
  const minute = match ? Number(match[1]) * 60 + Number(match[2]) : Number.NaN;
  if (!match || minute > 1440) throw new ScenarioError(path, 'must be a local time like "07:00" (00:00–24:00)');
  return minute;
}

/**
 * A price per step (micro-units per kWh) from one of:
 *   a number or decimal string        one price for every step
 *   an array                          one price per step
 *   { default, periods: [{ from: "07:00", to: "22:00", days?: ["mon", …], price }] }
 *                                     time of use in the community's local time; the first
 *                                     period containing the step's start wins, else default
 */
export function priceSeries(value: unknown, path: string, horizon: Horizon): MicroPrice[] {
  if (typeof value === 'number' || typeof value === 'string') return new Array<MicroPrice>(horizon.steps).fill(price(value, path));
  if (Array.isArray(value)) {
    const items = list(value, path);
    if (items.length !== horizon.steps) throw new ScenarioError(path, `must have one price per step (${horizon.steps}), found ${items.length}`);
    return items.map((item, t) => price(item, `${path}[${t}]`));
  }
  const fields = record(value, path, ['default', 'periods']);
  if (fields.default === undefined) throw new ScenarioError(join(path, 'default'), 'is required');
  const fallback = price(fields.default, join(path, 'default'));
  const periods = list(fields.periods ?? [], join(path, 'periods'), { max: 50 }).map((raw, i) => {
    const where = join(join(path, 'periods'), i);
    const period = record(raw, where, ['from', 'to', 'days', 'price']);
    const from = minuteOfDay(period.from, join(where, 'from'));
    const to = minuteOfDay(period.to, join(where, 'to'));
    const days = period.days === undefined ? undefined : new Set(list(period.days, join(where, 'days'), { min: 1, max: 7 }).map((d, k) => {
      const index = DAYS.indexOf(d as (typeof DAYS)[number]);
      if (index < 0) throw new ScenarioError(`${join(where, 'days')}[${k}]`, `must be one of ${DAYS.join(', ')}`);
      return index;
    }));
    if (period.price === undefined) throw new ScenarioError(join(where, 'price'), 'is required');
    return { from, to, days, price: price(period.price, join(where, 'price')) };
  });
  const out: MicroPrice[] = [];
  for (let t = 0; t < horizon.steps; t++) {
    const local = horizon.clock.local(horizon.startMs + t * horizon.stepMs);
    // A period from 22:00 to 06:00 wraps past midnight; its day is the day it starts on.
    const match = periods.find((p) => {
      if (p.from <= p.to) return local.minute >= p.from && local.minute < p.to && (!p.days || p.days.has(local.weekday));
      if (local.minute >= p.from) return !p.days || p.days.has(local.weekday);
      return local.minute < p.to && (!p.days || p.days.has((local.weekday + 6) % 7));
    });
    out.push(match ? match.price : fallback);
  }
  return out;
}

/** Micro-units per kWh as currency units per kWh (for objective coefficients). */
export const perKwh = (micro: MicroPrice): number => Number(micro) / 1e6;
