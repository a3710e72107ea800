import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { meteringPointSummaries, requireCommunityManager } from '../registry/index.js';
import type { Series } from './domain/site-energy.js';
import { failuresOf, quarantineOf } from './store.js';

/** A metering point whose interval computation is set aside after failing. */
export interface IntervalFailure {
  meteringPointId: string;
  meteringPointName: string;
  error: string;
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  retryAt: string;
}

/** A quarter hour beyond what the site's connection can carry: kept out of the sharing. */
export interface QuarantinedQuarter {
  meteringPointId: string;
  meteringPointName: string;
  memberId: string;
  start: string;
  series: Series;
  energyWh: number;
  limitWh: number;
  deviceIds: string[];
  readings: { deviceId: string; quantity: string; ts: string; value: number }[];
  detectedAt: string;
}

export interface IntervalIssues {
  failures: IntervalFailure[];
  /** The newest quarantined quarter hours, at most QUARANTINE_LISTED. */
  quarantined: QuarantinedQuarter[];
  quarantinedTotal: number;
}

const QUARANTINE_LISTED = 500;

/** What keeps a community's quarter hours from being computed as measured (managers and admins). */
export async function listIntervalIssues(db: Queryable, principal: Principal, communityId: string): Promise<IntervalIssues> {
  await requireCommunityManager(db, principal, communityId);
  const failures = await failuresOf(db, communityId);
  const quarantine = await quarantineOf(db, communityId, QUARANTINE_LISTED);
  const points = await meteringPointSummaries(db, [...new Set([...failures, ...quarantine.newest].map((x) => x.meteringPointId))]);
  // Both tables cascade from metering_points: a point gone meanwhile takes its rows with it.
  const named = <T extends { meteringPointId: string }>(rows: readonly T[]) =>
    rows.flatMap((row) => { const point = points.get(row.meteringPointId); return point ? [{ row, point }] : []; });
  return {
    quarantined: named(quarantine.newest).map(({ row: q, point }) => ({
      meteringPointId: q.meteringPointId, meteringPointName: point.name, memberId: point.memberId, start: q.start.toISOString(), series: q.series,
      energyWh: q.energyWh, limitWh: q.limitWh, deviceIds: q.deviceIds, readings: q.readings, detectedAt: q.detectedAt.toISOString(),
    })),
    quarantinedTotal: quarantine.total,
    failures: named(failures).map(({ row: f, point }) => ({
      meteringPointId: f.meteringPointId, meteringPointName: point.name, error: f.error, attempts: f.attempts,
      firstFailedAt: f.firstFailedAt.toISOString(), lastFailedAt: f.lastFailedAt.toISOString(), retryAt: f.retryAt.toISOString(),
    })),
  };
}
