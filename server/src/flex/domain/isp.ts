import { createLocalClock, dayRange, localDateOf } from '../../kernel/calendar.js';
import { MINUTE_MS } from '../../kernel/time.js';
import type { IspRange } from './uftp/messages.js';
import type { LocalDate } from './uftp/values.js';

/**
 * ISP arithmetic. A UFTP Period is a local calendar day in the message's TimeZone; its ISPs
 * (imbalance settlement periods) are numbered from 1 at local midnight and run in real time,
 * so a 15-minute day has 96 ISPs, 92 on the spring-forward day and 100 on the fall-back day
 * (ISP 9–12 of the fall-back day in Europe/Amsterdam are the second 02:00–03:00).
 */
export interface PeriodGrid {
  readonly period: LocalDate;
  readonly timeZone: string;
  readonly ispMinutes: number;
  readonly startMs: number;
  readonly endMs: number;
  /** Number of ISPs in the Period (ISP numbers 1…count). */
  readonly count: number;
}

/** The Period's ISP grid; undefined for an unknown zone, an impossible date, or an ISP length that does not divide the day. */
export function periodGrid(period: LocalDate, timeZone: string, ispMinutes: number): PeriodGrid | undefined {
  if (!Number.isInteger(ispMinutes) || ispMinutes <= 0) return undefined;
  let range: { startMs: number; endMs: number } | undefined;
  try {
    range = dayRange(period, timeZone);
  } catch {
    return undefined; // Intl does not know the zone
  }
  if (!range) return undefined;
  const ispMs = ispMinutes * MINUTE_MS;
  const length = range.endMs - range.startMs;
  if (length % ispMs !== 0) return undefined;
  return { period, timeZone, ispMinutes, startMs: range.startMs, endMs: range.endMs, count: length / ispMs };
}

/** UTC start of ISP `isp` (1-based). */
export function ispStartMs(grid: PeriodGrid, isp: number): number {
  return grid.startMs + (isp - 1) * grid.ispMinutes * MINUTE_MS;
}

/** The ISP number containing an instant, or undefined outside the Period. */
export function ispAt(grid: PeriodGrid, utcMs: number): number | undefined {
  if (utcMs < grid.startMs || utcMs >= grid.endMs) return undefined;
  return Math.floor((utcMs - grid.startMs) / (grid.ispMinutes * MINUTE_MS)) + 1;
}

/** The Period (local day) containing an instant. */
export function periodOf(utcMs: number, timeZone: string): LocalDate {
  return localDateOf(utcMs, createLocalClock(timeZone));
}

/** The local days from `first` to `last` inclusive (settlement periods span months). */
export function periodsBetween(first: LocalDate, last: LocalDate): LocalDate[] {
  const days: LocalDate[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`), end = Date.parse(`${last}T00:00:00Z`); t <= end; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

export const lastIspOf = (range: IspRange): number => range.start + range.duration - 1;

export interface IspLayout<T extends IspRange> {
  /** Each ISP number addressed, with the element addressing it (the first one, when addressed twice). */
  readonly byIsp: ReadonlyMap<number, T>;
  /** ISP numbers addressed by more than one element ("ISP conflict"). */
  readonly conflicts: readonly number[];
  /** Elements starting before ISP 1 or ending after the Period's last ISP ("ISPs out of bounds"). */
  readonly outOfBounds: readonly T[];
}

/**
 * Lays ISP elements (Start, Duration) out on a Period of `count` ISPs. Out-of-bounds elements are
 * reported and left out; a hostile Duration of 10^15 costs nothing because only the ISPs inside
 * the Period are visited.
 */
export function layOut<T extends IspRange>(isps: readonly T[], count: number): IspLayout<T> {
  const byIsp = new Map<number, T>();
  const conflicts = new Set<number>();
  const outOfBounds: T[] = [];
  for (const element of isps) {
    if (element.start < 1 || element.duration < 1 || lastIspOf(element) > count) {
      outOfBounds.push(element);
      continue;
    }
    for (let isp = element.start; isp <= lastIspOf(element); isp++) {
      if (byIsp.has(isp)) conflicts.add(isp);
      else byIsp.set(isp, element);
    }
  }
  return { byIsp, conflicts: [...conflicts].sort((a, b) => a - b), outOfBounds };
}

/** `{ISP number → value}` of elements that each carry one value for their whole range. */
export function perIsp<T extends IspRange, V>(isps: readonly T[], value: (element: T) => V): Map<number, V> {
  const out = new Map<number, V>();
  for (const element of isps) {
    for (let isp = element.start; isp <= lastIspOf(element); isp++) out.set(isp, value(element));
  }
  return out;
}

/** Consecutive ISPs with equal values merged into (Start, Duration) ranges, the compact form to write. */
export function toRanges<V>(values: ReadonlyMap<number, V>, same: (a: V, b: V) => boolean = Object.is): Array<IspRange & { readonly value: V }> {
  const isps = [...values.keys()].sort((a, b) => a - b);
  const ranges: Array<{ start: number; duration: number; value: V }> = [];
  for (const isp of isps) {
    const value = values.get(isp)!;
    const last = ranges[ranges.length - 1];
    if (last && last.start + last.duration === isp && same(last.value, value)) last.duration += 1;
    else ranges.push({ start: isp, duration: 1, value });
  }
  return ranges;
}

/** Whether two zones give every ISP of the Period the same UTC instant (the "TimeZone rejected" test). */
export function sameUtcOffsets(grid: PeriodGrid, otherZone: string): boolean {
  if (otherZone === grid.timeZone) return true;
  const other = periodGrid(grid.period, otherZone, grid.ispMinutes);
  if (!other || other.startMs !== grid.startMs || other.endMs !== grid.endMs) return false;
  const mine = createLocalClock(grid.timeZone);
  const theirs = createLocalClock(otherZone);
  for (let t = grid.startMs; t < grid.endMs; t += grid.ispMinutes * MINUTE_MS) {
    if (mine.offsetMs(t) !== theirs.offsetMs(t)) return false;
  }
  return true;
}
