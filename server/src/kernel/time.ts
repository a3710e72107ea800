/**
 * The UTC time grid every capability shares: instants are milliseconds since the epoch (UTC),
 * energy is metered in quarter hours aligned to UTC (:00, :15, :30, :45).
 */
export const MINUTE_MS = 60_000;
export const QUARTER_HOUR_MS = 15 * MINUTE_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Start of the quarter hour containing `ms`. */
export const floorToQuarterHour = (ms: number): number => Math.floor(ms / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
/** Start of the first quarter hour at or after `ms`. */
export const ceilToQuarterHour = (ms: number): number => Math.ceil(ms / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
export const isQuarterHour = (ms: number): boolean => ms % QUARTER_HOUR_MS === 0;

/**
 * The one range of dates Gridshare accepts from outside — energy data and everything dated with
 * it (readings queries, tariffs, shares, coefficient files, settlements, token expiry): from
 * 2000-01-01T00:00:00Z up to and including 2100-01-01T00:00:00Z. Nothing real lies outside it,
 * and one bound keeps year 0000 (which PostgreSQL refuses), Date.UTC's reading of years 0–99 as
 * 1900–1999 and far-future stamps out of the database and the calendar arithmetic.
 */
export const EARLIEST_INSTANT_MS = Date.UTC(2000, 0, 1);
export const LATEST_INSTANT_MS = Date.UTC(2100, 0, 1);
export const DATE_RANGE_TEXT = 'between 2000-01-01 and 2100-01-01 (UTC)';

export function isWithinDateRange(ms: number): boolean {
  return ms >= EARLIEST_INSTANT_MS && ms <= LATEST_INSTANT_MS;
}

/** Whether a calendar year lies in the range (its first instant is in it: 2000 to 2100). */
export function isYearWithinDateRange(year: number): boolean {
  return Number.isInteger(year) && year >= 2000 && year <= 2100;
}

/**
 * Strict UTC ISO 8601 instants, as used in every Gridshare file: `2024-03-31T01:15:00Z`
 * (seconds and milliseconds optional, `Z` or `+00:00`). Local times and other offsets are
 * refused rather than guessed, because a wrong offset silently shifts a whole year of data.
 * Instants outside the date range are refused too.
 */
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:Z|\+00:00|\+0000)$/;

export function parseUtcInstant(text: string): number | undefined {
  const m = ISO_UTC.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  if (!isYearWithinDateRange(year)) return undefined;
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const milli = m[7] === undefined ? 0 : Number(m[7]!.padEnd(3, '0'));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, milli);
  // Date.UTC rolls 31 April over to 1 May; a round trip catches impossible dates.
  if (new Date(ms).getUTCDate() !== day || !isWithinDateRange(ms)) return undefined;
  return ms;
}

/** `2024-03-31T01:15:00Z` (milliseconds only when there are any). */
export function formatUtcInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}
