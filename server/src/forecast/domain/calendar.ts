import Holidays from 'date-holidays';
import { createLocalClock, type LocalClock } from '../../kernel/calendar.js';
import { BadRequestError } from '../../kernel/errors.js';
import { DAY_MS } from '../../kernel/time.js';

/**
 * Day types as load profiles know them: people live differently on working days, Saturdays and
 * Sundays, and a public holiday is lived like a Sunday. Holidays come from `date-holidays`
 * (maintained rules for ~200 countries and their regions), public holidays only.
 */
export type DayType = 'working' | 'saturday' | 'sunday-holiday';
export const DAY_TYPES: readonly DayType[] = ['working', 'saturday', 'sunday-holiday'];

export interface ForecastCalendar {
  readonly clock: LocalClock;
  /** ISO 3166-1 alpha-2 country whose public holidays count, or undefined for weekdays only. */
  readonly country: string | undefined;
  /** Local calendar day (days since 1970-01-01 local) of a UTC instant. */
  localDay(utcMs: number): number;
  dayType(localDay: number): DayType;
  isHoliday(localDay: number): boolean;
  /** UTC instant of local midnight starting a local day. */
  midnight(localDay: number): number;
  /** The same local wall-clock time `days` days earlier (later when negative). */
  shiftLocalDays(utcMs: number, days: number): number;
}

const holidayCache = new Map<string, ReadonlySet<number>>();

function holidaysOf(country: string, region: string | undefined, year: number): ReadonlySet<number> {
  const key = `${country}/${region ?? ''}/${year}`;
  let days = holidayCache.get(key);
  if (!days) {
    const [countryCode, state] = region ? [country, region.replace(/^[A-Z]{2}-/, '')] : [country, undefined];
    const rules = state ? new Holidays(countryCode, state) : new Holidays(countryCode);
    const set = new Set<number>();
    for (const holiday of rules.getHolidays(year)) {
      if (holiday.type !== 'public') continue;
      // "2024-05-09 00:00:00": the local calendar date is what makes a day a holiday.
      const [y, m, d] = holiday.date.slice(0, 10).split('-').map(Number) as [number, number, number];
      set.add(Date.UTC(y, m - 1, d) / DAY_MS);
    }
    days = set;
    holidayCache.set(key, days);
  }
  return days;
}

let zoneCountries: Map<string, string> | undefined;

/** The country whose holidays a time zone's community follows (Europe/Vienna → AT), if one is known. */
export function countryOfTimeZone(timeZone: string): string | undefined {
  if (!zoneCountries) {
    const map = new Map<string, string>();
    const all = new Holidays();
    for (const code of Object.keys(all.getCountries())) {
      // A zone shared by several countries (rare) keeps the first in the library's order.
      for (const zone of new Holidays(code).getTimezones()) if (!map.has(zone)) map.set(zone, code);
    }
    zoneCountries = map;
  }
  return zoneCountries.get(timeZone);
}

export function isKnownCountry(country: string): boolean {
  return /^[A-Z]{2}$/.test(country) && Object.hasOwn(new Holidays().getCountries(), country);
}

/**
 * A community's forecasting calendar. `country` defaults to the time zone's country; `null`
 * switches holidays off. `region` is an ISO 3166-2 subdivision (e.g. `DE-BY`) where holidays differ.
 */
export function createForecastCalendar(timeZone: string, country?: string | null, region?: string): ForecastCalendar {
  let clock: LocalClock;
  try {
    clock = createLocalClock(timeZone);
  } catch {
    throw new BadRequestError(`unknown time zone "${timeZone}"`, 'timeZone');
  }
  const code = country === null ? undefined : (country ?? countryOfTimeZone(timeZone));
  if (code !== undefined && !isKnownCountry(code)) throw new BadRequestError(`no public-holiday rules for country "${code}"`, 'country');
  const localDay = (utcMs: number) => Math.floor((utcMs + clock.offsetMs(utcMs)) / DAY_MS);
  const isHoliday = (day: number) => {
    if (code === undefined) return false;
    return holidaysOf(code, region, new Date(day * DAY_MS).getUTCFullYear()).has(day);
  };
  // Models ask for day types many thousand times per forecast: each day is worked out once.
  const types = new Map<number, DayType>();
  return {
    clock,
    country: code,
    localDay,
    isHoliday,
    dayType(day) {
      let type = types.get(day);
      if (type === undefined) {
        const weekday = (((day + 4) % 7) + 7) % 7;
        type = weekday === 0 || isHoliday(day) ? 'sunday-holiday' : weekday === 6 ? 'saturday' : 'working';
        types.set(day, type);
      }
      return type;
    },
    midnight: (day) => clock.toUtc(day * DAY_MS),
    shiftLocalDays(utcMs, days) {
      return clock.toUtc(utcMs + clock.offsetMs(utcMs) - days * DAY_MS);
    },
  };
}
