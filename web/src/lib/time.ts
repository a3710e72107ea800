/**
 * Days and months in a community's time zone, as the UTC instants the API takes. The browser's
 * own zone does not matter: a member in another country still sees the community's day.
 */

export interface Range {
  from: string;
  to: string;
}

interface LocalDate {
  year: number;
  month: number; // 1–12
  day: number;
}

/** The wall-clock date in `timeZone` at `instant`. */
export function localDate(instant: Date, timeZone: string): LocalDate {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(instant);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

/** How far `timeZone` is ahead of UTC at `instant`, in ms. */
function offsetAt(instantMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  }).formatToParts(new Date(instantMs));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/** The UTC instant of local midnight starting `date` in `timeZone` (DST-safe: offsets are re-read at the result). */
export function localMidnight(date: LocalDate, timeZone: string): Date {
  const wall = Date.UTC(date.year, date.month - 1, date.day);
  let guess = wall - offsetAt(wall, timeZone);
  guess = wall - offsetAt(guess, timeZone);
  return new Date(guess);
}

/** Local midnight of a date input's value ("2026-03-01") in `timeZone`. */
export function midnightOfDateInput(value: string, timeZone: string): Date {
  const [year, month, day] = value.split('-').map(Number) as [number, number, number];
  return localMidnight({ year, month, day }, timeZone);
}

const addDays = (d: LocalDate, days: number): LocalDate => {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
};

/** The next instant after `now` at wall-clock time "HH:MM" in `timeZone`: today's if still ahead, else tomorrow's. */
export function nextLocalTime(now: Date, hhmm: string, timeZone: string): Date {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number];
  const today = localDate(now, timeZone);
  const at = (date: LocalDate) => {
    const wall = Date.UTC(date.year, date.month - 1, date.day, hours, minutes);
    return wall - offsetAt(wall - offsetAt(wall, timeZone), timeZone);
  };
  const first = at(today);
  return new Date(first > now.getTime() ? first : at(addDays(today, 1)));
}

const iso = (d: Date) => d.toISOString();

/** Today in the community: [local midnight, next local midnight). */
export function dayRange(now: Date, timeZone: string): Range {
  const today = localDate(now, timeZone);
  return { from: iso(localMidnight(today, timeZone)), to: iso(localMidnight(addDays(today, 1), timeZone)) };
}

/** This month in the community: [the 1st, the 1st of next month). */
export function monthRange(now: Date, timeZone: string): Range {
  const { year, month } = localDate(now, timeZone);
  const next = month === 12 ? { year: year + 1, month: 1 } : { year, month: month + 1 };
  return { from: iso(localMidnight({ year, month, day: 1 }, timeZone)), to: iso(localMidnight({ ...next, day: 1 }, timeZone)) };
}

/** This year in the community: [1 January, 1 January of the next year). */
export function yearRange(now: Date, timeZone: string): Range {
  const { year } = localDate(now, timeZone);
  return { from: iso(localMidnight({ year, month: 1, day: 1 }, timeZone)), to: iso(localMidnight({ year: year + 1, month: 1, day: 1 }, timeZone)) };
}

/** A calendar day as a date input writes it: "2026-03-01". */
const dayText = ({ year, month, day }: LocalDate) => `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;

/** Today in the community, as a date input's value. */
export const today = (now: Date, timeZone: string): string => dayText(localDate(now, timeZone));

/** A date input's value as a calendar day; undefined unless it is a real date ("2026-02-30" is not). */
export function parseDay(value: string): LocalDate | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return undefined;
  const date = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
  return dayText(addDays(date, 0)) === value ? date : undefined;
}

/** The day `days` after (or before) a date input's value. */
export const shiftDay = (value: string, days: number): string => dayText(addDays(parseDay(value)!, days));

/** The last `hours` whole hours up to the end of the current one: a window that always has the latest data. */
export function lastHours(now: Date, hours: number): Range {
  const end = Math.ceil((now.getTime() + 1) / 3_600_000) * 3_600_000;
  return { from: iso(new Date(end - hours * 3_600_000)), to: iso(new Date(end)) };
}

/** The previous calendar month as YYYY-MM, the usual period to settle. */
export function previousPeriod(now: Date, timeZone: string): string {
  const { year, month } = localDate(now, timeZone);
  const prev = month === 1 ? { year: year - 1, month: 12 } : { year, month: month - 1 };
  return `${prev.year}-${String(prev.month).padStart(2, '0')}`;
}

/** The forecast window of the dashboards: from the start of this hour to the end of tomorrow in the community. */
export function restOfTodayAndTomorrow(now: Date, timeZone: string): Range {
  const from = Math.floor(now.getTime() / 3_600_000) * 3_600_000;
  return { from: iso(new Date(from)), to: iso(localMidnight(addDays(localDate(now, timeZone), 2), timeZone)) };
}

/** 0 when `instant` falls on `now`'s local day, 1 on the next, and so on. */
export function localDaysFrom(now: Date, instant: Date, timeZone: string): number {
  const a = localDate(now, timeZone);
  const b = localDate(instant, timeZone);
  return Math.round((Date.UTC(b.year, b.month - 1, b.day) - Date.UTC(a.year, a.month - 1, a.day)) / 86_400_000);
}
