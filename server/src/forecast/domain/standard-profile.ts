import { DAY_MS, QUARTER_HOUR_MS } from '../../kernel/time.js';
import { BDEW_PROFILES } from './bdew-profiles.data.js';
import type { DayType, ForecastCalendar } from './calendar.js';
import type { StandardProfileName } from './model.js';
import { sharedMemo } from './memo.js';

/**
 * The BDEW standard load profiles (2025 edition) as power. Values are given per month and day
 * type in local standard time (no summer time); H25, P25 and S25 are published without their
 * seasonal dynamisation, which is applied per day:
 *   F(t) = −3.92e-10·t⁴ + 3.2e-7·t³ − 7.02e-5·t² + 2.1e-3·t + 1.24, t = day of the year,
 * rounded to 4 decimals. G25 is used as it is. As in BDEW's own rules, 24 and 31 December count
 * as Saturdays (unless they are Sundays), public holidays as Sundays.
 */
const DYNAMISED: ReadonlySet<StandardProfileName> = new Set(['H25', 'P25', 'S25']);
const TYPE_INDEX: Record<DayType, number> = { working: 0, saturday: 1, 'sunday-holiday': 2 };

export function dynamisationFactor(dayOfYear: number): number {
  const t = dayOfYear;
  const f = -3.92e-10 * t ** 4 + 3.2e-7 * t ** 3 - 7.02e-5 * t ** 2 + 2.1e-3 * t + 1.24;
  return Math.round(f * 10_000) / 10_000;
}

/** BDEW day type of a standard-time local day. */
function bdewDayType(calendar: ForecastCalendar, day: number): number {
  const date = new Date(day * DAY_MS);
  const type = calendar.dayType(day);
  if (type === 'working' && date.getUTCMonth() === 11 && (date.getUTCDate() === 24 || date.getUTCDate() === 31)) return TYPE_INDEX.saturday;
  return TYPE_INDEX[type];
}

/**
 * A profile's 96 quarter-hour values of one standard-time local day, dynamised, in W for 1 kWh a
 * year; kept per calendar (a community's zone and holidays) since every site of it shares them.
 */
const PROFILE_INDEX: Record<StandardProfileName, number> = { H25: 0, P25: 1, S25: 2, G25: 3 };
const dayMemo = sharedMemo<ForecastCalendar, Float64Array>(4 * 800);
const offsetMemo = sharedMemo<ForecastCalendar, number>(100);

function profileDay(profile: StandardProfileName, calendar: ForecastCalendar, day: number): Float64Array {
  return dayMemo(calendar, day * 4 + PROFILE_INDEX[profile], () => {
    const date = new Date(day * DAY_MS);
    const row = BDEW_PROFILES[profile][date.getUTCMonth() * 3 + bdewDayType(calendar, day)]!;
    const dayOfYear = Math.round((day * DAY_MS - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
    const factor = DYNAMISED.has(profile) ? dynamisationFactor(dayOfYear) : 1;
    // Wh per quarter hour for 1 GWh a year → W for 1 kWh a year.
    return Float64Array.from(row, (wh) => (wh * factor * 4) / 1e6);
  });
}

/** Standard time offset of the zone: the smaller of its January and July offsets (no DST). */
let lastYear = { calendar: undefined as ForecastCalendar | undefined, from: 0, to: 0, offset: 0 };

function standardOffsetMs(calendar: ForecastCalendar, utcMs: number): number {
  if (calendar === lastYear.calendar && utcMs >= lastYear.from && utcMs < lastYear.to) return lastYear.offset;
  const year = new Date(utcMs).getUTCFullYear();
  const offset = offsetMemo(calendar, year, () => Math.min(calendar.clock.offsetMs(Date.UTC(year, 0, 1)), calendar.clock.offsetMs(Date.UTC(year, 6, 1))));
  lastYear = { calendar, from: Date.UTC(year, 0, 1), to: Date.UTC(year + 1, 0, 1), offset };
  return offset;
}

/**
 * Mean power (W) of the profile over [fromMs, fromMs + stepMs) for an annual consumption of
 * 1 kWh — multiply by the site's kWh per year.
 */
export function profilePowerPerKwh(profile: StandardProfileName, calendar: ForecastCalendar, fromMs: number, stepMs: number): number {
  const quarters = Math.max(1, Math.round(stepMs / QUARTER_HOUR_MS));
  const local = fromMs + standardOffsetMs(calendar, fromMs);
  let sum = 0;
  for (let q = 0; q < quarters; q++) {
    const t = local + q * QUARTER_HOUR_MS;
    const day = Math.floor(t / DAY_MS);
    sum += profileDay(profile, calendar, day)[Math.floor((t - day * DAY_MS) / QUARTER_HOUR_MS)]!;
  }
  return sum / quarters;
}
