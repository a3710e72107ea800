/** The periods the energy pages show, as the API request for each (pure, for the pages and tests). */
import { ENERGY_MAX_RANGE_DAYS, type Resolution } from '@gridshare/contract/sharing';
import type { MessageKey } from './i18n/index.js';
import { dayRange, lastHours, midnightOfDateInput, monthRange, parseDay, shiftDay, today, yearRange, type Range } from './time.js';

export type Period = 'last24h' | 'today' | 'month' | 'year' | 'custom';

export const PERIODS: readonly { id: Period; label: MessageKey }[] = [
  // First and default: it always holds the latest data, also just after midnight (and on the
  // demo, which replays the previous day first).
  { id: 'last24h', label: 'period.last24h' },
  { id: 'today', label: 'period.today' },
  { id: 'month', label: 'period.month' },
  { id: 'year', label: 'period.year' },
  { id: 'custom', label: 'period.custom' },
];

/** What one bar is. */
export type BarUnit = 'hour' | 'day' | 'month';

/** A chosen range of whole days in the community, first and last day included, as date inputs write them ("2026-11-01"). */
export interface DaySpan {
  from: string;
  to: string;
}

/** A request for the totals of the period before, to compare with. */
export interface Comparison {
  range: Range;
  resolution: Resolution;
}

export interface PeriodQuery {
  range: Range;
  resolution: Resolution;
  unit: BarUnit;
  /**
   * The period before, as long (yesterday, last month, last year, the same number of days
   * before). While this one still runs, only the part of the period before that has passed in
   * this one by now: 3 December is compared with 1–3 November, not all of November.
   */
  previous: Comparison;
}

const RESOLUTION_OF: Record<BarUnit, Resolution> = { hour: '1h', day: '1d', month: '1mo' };
/** A running period's part of the period before ends within one bucket of this finer resolution. */
const FINER: Record<Resolution, Resolution> = { '15m': '15m', '1h': '1h', '1d': '1h', '1mo': '1d' };
const DAY_MS = 86_400_000;

/** The days of a chosen span that still read well as bars of hours, and as bars of days. */
const HOURLY_UP_TO_DAYS = 3;
const DAILY_UP_TO_DAYS = 92;

/** The longest span the API answers at the coarsest bars (months): longer ones are refused before asking. */
export const MAX_SPAN_DAYS = ENERGY_MAX_RANGE_DAYS['1mo'];

/** Where the API's dates begin (kernel/time.ts): a local midnight before it in any zone is refused. */
export const EARLIEST_DAY = '2000-01-02';

/** The instants [local midnight of the first day, local midnight after the last). */
export function spanRange(span: DaySpan, timeZone: string): Range {
  return { from: midnightOfDateInput(span.from, timeZone).toISOString(), to: midnightOfDateInput(shiftDay(span.to, 1), timeZone).toISOString() };
}

/** How many days a span has, first and last included. */
export function spanDays(span: DaySpan): number {
  const day = (value: string) => {
    const { year, month, day: date } = parseDay(value)!;
    return Date.UTC(year, month - 1, date) / DAY_MS;
  };
  return day(span.to) - day(span.from) + 1;
}

/** Bars of hours for a few days, of days up to about a quarter, of months beyond. */
export function spanUnit(span: DaySpan): BarUnit {
  const days = spanDays(span);
  return days <= HOURLY_UP_TO_DAYS ? 'hour' : days <= DAILY_UP_TO_DAYS ? 'day' : 'month';
}

export type SpanError = 'invalid' | 'order' | 'future' | 'tooLong';

/**
 * Why a span cannot be shown, or undefined when it can: both days real dates from 2000 on, the
 * last not before the first nor after today in the community, and no longer than the API answers.
 */
export function spanError(span: DaySpan, now: Date, timeZone: string): SpanError | undefined {
  if (!parseDay(span.from) || !parseDay(span.to) || span.from < EARLIEST_DAY) return 'invalid';
  if (span.to < span.from) return 'order';
  if (span.to > today(now, timeZone)) return 'future';
  const { from, to } = spanRange(span, timeZone);
  const resolution = RESOLUTION_OF[spanUnit(span)];
  // The API measures the range in time, so a span over a DST change is an hour shorter or longer than its days.
  if (Date.parse(to) - Date.parse(from) > ENERGY_MAX_RANGE_DAYS[resolution] * DAY_MS) return 'tooLong';
  return undefined;
}

/** What a custom span starts as: the last seven days up to today. */
export function defaultSpan(now: Date, timeZone: string): DaySpan {
  const last = today(now, timeZone);
  return { from: shiftDay(last, -6), to: last };
}

/**
 * The period before `range`, starting at `previousFrom` and ending where `range` begins; while
 * `range` runs, cut to the time that has passed of it (at least a minute, so it is never empty)
 * and asked at a finer resolution, so the cut is not rounded out to a whole bar.
 */
function comparison(range: Range, previousFrom: string, now: Date, resolution: Resolution): Comparison {
  const fromMs = Date.parse(range.from);
  const previousFromMs = Date.parse(previousFrom);
  if (now.getTime() >= Date.parse(range.to)) return { range: { from: previousFrom, to: range.from }, resolution };
  const cut = Math.min(fromMs, previousFromMs + Math.max(now.getTime() - fromMs, 60_000));
  return { range: { from: previousFrom, to: new Date(cut).toISOString() }, resolution: FINER[resolution] };
}

function query(range: Range, unit: BarUnit, previousFrom: string, now: Date): PeriodQuery {
  const resolution = RESOLUTION_OF[unit];
  return { range, resolution, unit, previous: comparison(range, previousFrom, now, resolution) };
}

/**
 * Hours for a day, local days for a month, local months for a year, in the community's time
 * zone; a custom span by its length (spanUnit). The last 24 hours need no zone, so a page can
 * ask for them before it knows the community. Undefined when the period cannot be asked for
 * yet: no zone, or no valid custom span.
 */
export function periodQuery(period: Period, now: Date, timeZone: string | undefined, span?: DaySpan): PeriodQuery | undefined {
  if (period === 'last24h') {
    const range = lastHours(now, 24);
    return query(range, 'hour', new Date(Date.parse(range.from) - DAY_MS).toISOString(), now);
  }
  if (timeZone === undefined) return undefined;
  switch (period) {
    case 'today': {
      const range = dayRange(now, timeZone);
      return query(range, 'hour', midnightOfDateInput(shiftDay(today(now, timeZone), -1), timeZone).toISOString(), now);
    }
    case 'month': {
      const range = monthRange(now, timeZone);
      return query(range, 'day', monthRange(new Date(Date.parse(range.from) - 1), timeZone).from, now);
    }
    case 'year': {
      const range = yearRange(now, timeZone);
      return query(range, 'month', yearRange(new Date(Date.parse(range.from) - 1), timeZone).from, now);
    }
    case 'custom': {
      if (!span || spanError(span, now, timeZone)) return undefined;
      const before = spanRange({ from: shiftDay(span.from, -spanDays(span)), to: shiftDay(span.from, -1) }, timeZone);
      return query(spanRange(span, timeZone), spanUnit(span), before.from, now);
    }
  }
}

export const periodLabel = (period: Period) => PERIODS.find((p) => p.id === period)!.label;
