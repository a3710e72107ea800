import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { requireCommunityManager } from '../registry/index.js';
import type { Series } from './domain/site-energy.js';

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
  const failures = await db.query<{ metering_point_id: string; name: string; error: string; attempts: number; first_failed_at: Date; last_failed_at: Date; retry_at: Date }>(
    `SELECT f.metering_point_id, mp.name, f.error, f.attempts, f.first_failed_at, f.last_failed_at, f.retry_at
     FROM interval_failures f JOIN metering_points mp ON mp.id = f.metering_point_id
     WHERE f.community_id = $1 ORDER BY f.first_failed_at, f.metering_point_id`,
    [communityId],
  );
  const quarantined = await db.query<{
    metering_point_id: string; name: string; member_id: string; start: Date; series: Series; energy_wh: number; limit_wh: number;
    device_ids: string[]; readings: QuarantinedQuarter['readings']; detected_at: Date; total: number;
  }>(
    `SELECT q.metering_point_id, mp.name, mp.member_id, q.start, q.series, q.energy_wh, q.limit_wh, q.device_ids, q.readings, q.detected_at,
       count(*) OVER ()::int AS total
     FROM interval_quarantine q JOIN metering_points mp ON mp.id = q.metering_point_id
     WHERE q.community_id = $1 ORDER BY q.start DESC, q.metering_point_id, q.series LIMIT $2`,
    [communityId, QUARANTINE_LISTED],
  );
  return {
    quarantined: quarantined.map((q) => ({
      meteringPointId: q.metering_point_id, meteringPointName: q.name, memberId: q.member_id, start: q.start.toISOString(), series: q.series,
      energyWh: q.energy_wh, limitWh: q.limit_wh, deviceIds: q.device_ids, readings: q.readings, detectedAt: q.detected_at.toISOString(),
    })),
    quarantinedTotal: quarantined[0]?.total ?? 0,
    failures: failures.map((f) => ({
      meteringPointId: f.metering_point_id, meteringPointName: f.name, error: f.error, attempts: f.attempts,
      firstFailedAt: f.first_failed_at.toISOString(), lastFailedAt: f.last_failed_at.toISOString(), retryAt: f.retry_at.toISOString(),
    })),
  };
}

/** Quarter hours quarantined as implausible, over all communities (for /metrics). */
export async function countQuarantined(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM interval_quarantine');
  return rows[0]?.n ?? 0;
}

/** Metering points set aside right now, over all communities (for /metrics). */
export async function countFailingPoints(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM interval_failures');
  return rows[0]?.n ?? 0;
}
