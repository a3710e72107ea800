/**
 * The closing guard (issue 21): which quarter hours of a period each metering point should have
 * energy for, which it lacks, and whether a close names what it accepts as missing. Pure: the
 * windows and counts come from the registry and intervals through settlements.ts.
 */
import { ceilToQuarterHour, floorToQuarterHour, QUARTER_HOUR_MS } from '../../kernel/time.js';

/** The end of what a period can have data for at `nowMs`: a running month counts only the quarter hours that have passed. */
export const passedEnd = (endMs: number, nowMs: number): number => Math.min(endMs, floorToQuarterHour(nowMs));

export interface PointFacts {
  readonly meteringPointId: string;
  readonly meteringPointName: string;
  readonly memberId: string;
  readonly memberName: string;
  /** The point exists from here (its registration, or its first data if that came earlier: backfilled history). */
  readonly sinceMs: number;
  /** The member's part in the community: from (null: from the start) until (null: still in). */
  readonly activeFromMs: number | null;
  readonly leftAtMs: number | null;
}

export interface PointWindow { readonly pointId: string; readonly fromMs: number; readonly toMs: number }

/** Where the point was expected to report within [startMs, endMs); undefined when nowhere. */
export function expectedWindow(point: PointFacts, startMs: number, endMs: number): PointWindow | undefined {
  const fromMs = Math.max(startMs, floorToQuarterHour(point.sinceMs), point.activeFromMs === null ? startMs : ceilToQuarterHour(point.activeFromMs));
  const toMs = Math.min(endMs, point.leftAtMs === null ? endMs : ceilToQuarterHour(point.leftAtMs));
  return toMs > fromMs ? { pointId: point.meteringPointId, fromMs, toMs } : undefined;
}

export interface PointGap {
  readonly meteringPointId: string;
  readonly meteringPointName: string;
  readonly memberId: string;
  readonly memberName: string;
  readonly expectedQuarterHours: number;
  readonly missingQuarterHours: number;
}

export interface PeriodGaps {
  /** The quarter hours counted end here: the period's end, or for a running month the last that has passed. */
  readonly countedUntilMs: number;
  readonly withDataQuarterHours: number;
  readonly missingQuarterHours: number;
  /** No metering point has a single quarter hour with energy in the period (or there is none). */
  readonly noData: boolean;
  /** Only the points that miss something. */
  readonly points: readonly PointGap[];
}

export function periodGaps(points: readonly PointFacts[], windows: ReadonlyMap<string, PointWindow>, known: ReadonlyMap<string, number>, countedUntilMs: number): PeriodGaps {
  let withData = 0;
  let missing = 0;
  const gaps: PointGap[] = [];
  for (const point of points) {
    const window = windows.get(point.meteringPointId);
    if (!window) continue;
    const expected = (window.toMs - window.fromMs) / QUARTER_HOUR_MS;
    const have = Math.min(expected, known.get(point.meteringPointId) ?? 0);
    withData += have;
    missing += expected - have;
    if (have < expected) {
      const { meteringPointId, meteringPointName, memberId, memberName } = point;
      gaps.push({ meteringPointId, meteringPointName, memberId, memberName, expectedQuarterHours: expected, missingQuarterHours: expected - have });
    }
  }
  return { countedUntilMs, withDataQuarterHours: withData, missingQuarterHours: missing, noData: withData === 0, points: gaps };
}

/**
 * Why a close is refused, or undefined when it may go ahead: a period with gaps (or no data at
 * all) closes only when the manager confirms the very count of missing quarter hours they were
 * shown, so data that changed in between asks again rather than closing on a stale confirmation.
 */
export function closingRefusal(period: string, gaps: PeriodGaps, confirmedMissing: number | undefined): string | undefined {
  if (!gaps.noData && gaps.missingQuarterHours === 0) return undefined;
  if (confirmedMissing === gaps.missingQuarterHours) return undefined;
  const what = gaps.noData ? `${period} has no data` : `${period} misses ${gaps.missingQuarterHours} quarter hours`;
  const named = gaps.points.slice(0, 20).map((p) => `${p.meteringPointName} (${p.memberName}): ${p.missingQuarterHours}`).join(', ');
  const more = gaps.points.length > 20 ? ` and ${gaps.points.length - 20} more metering points` : '';
  return `${what}${named ? ` — ${named}${more}` : ''}; close with confirmMissing=${gaps.missingQuarterHours} to accept${confirmedMissing === undefined ? '' : ` (confirmed ${confirmedMissing})`}`;
}
