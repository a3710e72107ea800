import { QUARTER_HOUR_MS } from '../../kernel/time.js';
import { EdaMessageError } from './errors.js';

/**
 * EDA times (the schema's DateTimeU) are local wall-clock times with their UTC offset,
 * `2026-10-25T02:45:00+02:00`, so the two 02:45 of the autumn change are different instants.
 * A time without offset is refused: it would be ambiguous once a year and wrong by an hour for
 * half of it. `Z` and any `±hh:mm` are accepted, since each names one instant exactly.
 */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|([+-])(\d{2}):(\d{2}))$/;

export function parseOffsetInstant(text: string, field: string): number {
  const match = DATE_TIME.exec(text.trim());
  if (!match) throw new EdaMessageError('bad_time', `${JSON.stringify(text.slice(0, 40))} is not a date-time with UTC offset`, field);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const millisecond = Number((match[7] ?? '').padEnd(3, '0'));
  const offsetMinutes = match[8] === 'Z' ? 0 : (match[9] === '-' ? -1 : 1) * (Number(match[10]) * 60 + Number(match[11]));
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59 || Math.abs(offsetMinutes) > 14 * 60) {
    throw new EdaMessageError('bad_time', `${text.trim()} is not a valid date-time`, field);
  }
  const local = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  // Date.UTC rolls 31 April over to 1 May; the round trip catches impossible dates.
  if (new Date(local).getUTCDate() !== day) throw new EdaMessageError('bad_time', `${text.trim()} is not a valid date`, field);
  return local - offsetMinutes * 60_000;
}

/** An instant that must start (or end) a UTC quarter hour. */
export function parseQuarterHour(text: string, field: string): number {
  const ms = parseOffsetInstant(text, field);
  if (ms % QUARTER_HOUR_MS !== 0) throw new EdaMessageError('bad_time', `${text.trim()} is not on a quarter-hour boundary`, field);
  return ms;
}
