import { createLocalClock, type LocalClock } from '../../kernel/calendar.js';
import { HOUR_MS } from '../../kernel/time.js';

/**
 * Timestamps as sources write them. `iso`: ISO 8601 (`T` or a space, seconds and fraction
 * optional); with an offset it is exact, without one it is wall-clock time in the source's
 * zone. `unix-s` / `unix-ms`: seconds or milliseconds since 1970 (UTC). Anything else is a
 * pattern of `YYYY MM DD HH mm ss SSS` with literal separators (`DD.MM.YYYY HH:mm`), read as
 * wall-clock time in the source's zone.
 *
 * Wall-clock times are converted DST-safely: a time the clocks skip (spring forward) is an error
 * that says the time zone is probably wrong; a time that comes twice (fall back) is the first
 * occurrence the first time a parser sees it and the second occurrence the next time, which is
 * how a file or a query ordered by time lists the repeated hour.
 */
export type TimestampFormat = string;

export type ParsedTimestamp = { readonly ms: number } | { readonly error: string };

export interface TimestampParser {
  parse(value: unknown): ParsedTimestamp;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const TOKENS: Readonly<Record<string, string>> = { YYYY: '(\\d{4})', MM: '(\\d{1,2})', DD: '(\\d{1,2})', HH: '(\\d{1,2})', mm: '(\\d{2})', ss: '(\\d{2})', SSS: '(\\d{1,3})' };
const TOKEN = /YYYY|SSS|MM|DD|HH|mm|ss/g;

interface WallTime { year: number; month: number; day: number; hour: number; minute: number; second: number; milli: number }

interface Pattern { readonly regex: RegExp; readonly fields: readonly string[] }

/** Checks a pattern; the message says what is wrong with it. */
export function timestampFormatProblem(format: string): string | undefined {
  if (format === 'iso' || format === 'unix-s' || format === 'unix-ms') return undefined;
  const fields: string[] = format.match(TOKEN) ?? [];
  for (const needed of ['YYYY', 'MM', 'DD']) {
    if (!fields.includes(needed)) return `timestamp format "${format}" has no ${needed} (use iso, unix-s, unix-ms or a pattern like "DD.MM.YYYY HH:mm")`;
  }
  if (new Set(fields).size !== fields.length) return `timestamp format "${format}" names a field twice`;
  return undefined;
}

/** Checks an IANA time zone name. */
export function timeZoneProblem(timeZone: string): string | undefined {
  try {
    createLocalClock(timeZone);
    return undefined;
  } catch {
    return `unknown time zone "${timeZone}" (an IANA name such as Europe/Vienna or UTC)`;
  }
}

function compilePattern(format: string): Pattern {
  const fields: string[] = [];
  let source = '';
  let last = 0;
  for (const match of format.matchAll(TOKEN)) {
    source += escapeRegExp(format.slice(last, match.index)) + TOKENS[match[0]]!;
    fields.push(match[0]);
    last = match.index + match[0].length;
  }
  source += escapeRegExp(format.slice(last));
  return { regex: new RegExp(`^${source}$`), fields };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function wallTimeProblem(t: WallTime): string | undefined {
  const daysInMonth = new Date(Date.UTC(t.year, t.month, 0)).getUTCDate();
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > daysInMonth) return 'no such date';
  if (t.hour > 23 || t.minute > 59 || t.second > 59) return 'no such time of day';
  return undefined;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const describe = (t: WallTime): string => `${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}${t.second ? `:${pad(t.second)}` : ''}`;

/**
 * A parser for one source's timestamps. It keeps which repeated wall-clock times it has seen,
 * so use one parser per file (or per query result), in the source's order.
 */
export function timestampParser(format: TimestampFormat, timeZone: string): TimestampParser {
  const formatIssue = timestampFormatProblem(format);
  if (formatIssue) throw new RangeError(formatIssue);
  const clock = createLocalClock(timeZone);
  const seenAmbiguous = new Map<number, number>();

  const fromWallTime = (t: WallTime, text: string): ParsedTimestamp => {
    const issue = wallTimeProblem(t);
    if (issue) return { error: `"${text}": ${issue}` };
    const local = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.milli);
    const instants = wallClockInstants(clock, local);
    if (instants.length === 0) {
      return { error: `local time ${describe(t)} does not exist in ${timeZone} (the clocks skip it): is the time zone right?` };
    }
    if (instants.length === 1) return { ms: instants[0]! };
    const seen = seenAmbiguous.get(local) ?? 0;
    if (seen >= 2) return { error: `local time ${describe(t)} comes a third time; ${timeZone} repeats it only once` };
    seenAmbiguous.set(local, seen + 1);
    return { ms: instants[seen]! };
  };

  const parseIso = (text: string): ParsedTimestamp => {
    const m = ISO.exec(text);
    if (!m) return { error: `"${text}" is not an ISO 8601 timestamp` };
    const t: WallTime = {
      year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]),
      second: m[6] === undefined ? 0 : Number(m[6]), milli: m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0')),
    };
    const zone = m[8];
    if (zone === undefined) return fromWallTime(t, text);
    const issue = wallTimeProblem(t);
    if (issue) return { error: `"${text}": ${issue}` };
    const offsetMinutes = zone === 'Z' ? 0 : offsetOf(zone);
    if (offsetMinutes === undefined) return { error: `"${text}": offset out of range` };
    return { ms: Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second, t.milli) - offsetMinutes * 60_000 };
  };

  const epoch = (value: unknown, factor: number): ParsedTimestamp => {
    const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isFinite(n) || n < 0) return { error: `${JSON.stringify(String(value))} is not a ${factor === 1000 ? 'Unix time in seconds' : 'Unix time in milliseconds'}` };
    return { ms: Math.round(n * factor) };
  };

  if (format === 'unix-s') return { parse: (value) => epoch(value, 1000) };
  if (format === 'unix-ms') return { parse: (value) => epoch(value, 1) };
  const pattern = format === 'iso' ? undefined : compilePattern(format);
  return {
    parse(value) {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? { error: 'invalid date' } : { ms: value.getTime() };
      if (typeof value !== 'string') return { error: `timestamp ${JSON.stringify(value ?? null)} is not text` };
      const text = value.trim();
      if (!pattern) return parseIso(text);
      const m = pattern.regex.exec(text);
      if (!m) return { error: `"${text}" does not match the timestamp format "${format}"` };
      const field = (name: string, fallback: number): number => {
        const index = pattern.fields.indexOf(name);
        return index < 0 ? fallback : Number(m[index + 1]);
      };
      const milliIndex = pattern.fields.indexOf('SSS');
      return fromWallTime({
        year: field('YYYY', 0), month: field('MM', 1), day: field('DD', 1), hour: field('HH', 0), minute: field('mm', 0), second: field('ss', 0),
        milli: milliIndex < 0 ? 0 : Number(m[milliIndex + 1]!.padEnd(3, '0')),
      }, text);
    },
  };
}

function offsetOf(zone: string): number | undefined {
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  if (hours > 14 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

/**
 * Every UTC instant at which the zone's clocks show `localMs` (wall-clock time written as if it
 * were UTC): none in a spring-forward gap, two in a fall-back hour (earlier first), else one.
 * Assumes at most one offset change within a day of it, true of every zone in use.
 */
export function wallClockInstants(clock: LocalClock, localMs: number): number[] {
  const before = clock.offsetMs(localMs - 26 * HOUR_MS);
  const after = clock.offsetMs(localMs + 26 * HOUR_MS);
  const candidates = before === after ? [localMs - before] : [localMs - before, localMs - after].sort((a, b) => a - b);
  return candidates.filter((utc) => utc + clock.offsetMs(utc) === localMs);
}
