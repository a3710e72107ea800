import type { Queryable } from '../store/db.js';
import type { Principal } from '../accounts/principal.js';
import { requireCommunityManager } from '../registry/communities.js';

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

export interface IntervalIssues {
  failures: IntervalFailure[];
}

/** What keeps a community's quarter hours from being computed as measured (managers and admins). */
export async function listIntervalIssues(db: Queryable, principal: Principal, communityId: string): Promise<IntervalIssues> {
  await requireCommunityManager(db, principal, communityId);
  const failures = await db.query<{ metering_point_id: string; name: string; error: string; attempts: number; first_failed_at: Date; last_failed_at: Date; retry_at: Date }>(
    `SELECT f.metering_point_id, mp.name, f.error, f.attempts, f.first_failed_at, f.last_failed_at, f.retry_at
     FROM interval_failures f JOIN metering_points mp ON mp.id = f.metering_point_id
     WHERE f.community_id = $1 ORDER BY f.first_failed_at, f.metering_point_id`,
    [communityId],
  );
  return {
    failures: failures.map((f) => ({
      meteringPointId: f.metering_point_id, meteringPointName: f.name, error: f.error, attempts: f.attempts,
      firstFailedAt: f.first_failed_at.toISOString(), lastFailedAt: f.last_failed_at.toISOString(), retryAt: f.retry_at.toISOString(),
    })),
  };
}

/** Metering points set aside right now, over all communities (for /metrics). */
export async function countFailingPoints(db: Queryable): Promise<number> {
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM interval_failures');
  return rows[0]?.n ?? 0;
}
