/** The periods the energy pages show, as the API request for each (pure, for the pages and tests). */
import type { Resolution } from '@gridshare/contract/sharing';
import type { MessageKey } from './i18n/index.js';
import { dayRange, lastHours, monthRange, type Range } from './time.js';

export type Period = 'last24h' | 'today' | 'month';

export const PERIODS: readonly { id: Period; label: MessageKey }[] = [
  // First and default: it always holds the latest data, also just after midnight (and on the
  // demo, which replays the previous day first).
  { id: 'last24h', label: 'period.last24h' },
  { id: 'today', label: 'period.today' },
  { id: 'month', label: 'period.month' },
];

export interface PeriodQuery {
  range: Range;
  resolution: Resolution;
  /** What one bar is. */
  unit: 'hour' | 'day';
}

/**
 * Hours for a day, local days for the month, in the community's time zone; the last 24 hours
 * need no zone, so a page can ask for them before it knows the community.
 */
export function periodQuery(period: Period, now: Date, timeZone: string | undefined): PeriodQuery | undefined {
  if (period === 'last24h') return { range: lastHours(now, 24), resolution: '1h', unit: 'hour' };
  if (timeZone === undefined) return undefined;
  return period === 'today'
    ? { range: dayRange(now, timeZone), resolution: '1h', unit: 'hour' }
    : { range: monthRange(now, timeZone), resolution: '1d', unit: 'day' };
}

export const periodLabel = (period: Period) => PERIODS.find((p) => p.id === period)!.label;
