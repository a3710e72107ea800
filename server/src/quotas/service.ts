import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { DomainError } from '../kernel/errors.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import { grantRows, lockQuota, platformLimitRows, writeGrant, writePlatformLimit } from './store.js';

/**
 * What one account can create; each limit applies to a user or to a community. A count that is
 * full is refused as `forbidden` until an admin raises it; a limit per time window as
 * `too_many_requests`, which passes by itself.
 */
export const QUOTAS = {
  communitiesPerUser: { subject: 'user', refusal: 'forbidden', counts: 'communities managed by this account' },
  devicesPerCommunity: { subject: 'community', refusal: 'forbidden', counts: 'devices in this community' },
  batchesPerHour: { subject: 'user', refusal: 'too_many_requests', counts: 'device batches provisioned by this account in the last hour' },
} as const;

export type QuotaName = keyof typeof QUOTAS;
export type QuotaLimits = Record<QuotaName, number>;
export type UserQuotaName = { [K in QuotaName]: (typeof QUOTAS)[K]['subject'] extends 'user' ? K : never }[QuotaName];
export type CommunityQuotaName = Exclude<QuotaName, UserQuotaName>;
export const QUOTA_NAMES = Object.keys(QUOTAS) as QuotaName[];
export const USER_QUOTA_NAMES = QUOTA_NAMES.filter((n): n is UserQuotaName => QUOTAS[n].subject === 'user');
export const COMMUNITY_QUOTA_NAMES = QUOTA_NAMES.filter((n): n is CommunityQuotaName => QUOTAS[n].subject === 'community');

/** The installation's defaults: a household runs a community or two, a batch is at most 10,000 readers. */
export const DEFAULT_QUOTAS: QuotaLimits = { communitiesPerUser: 3, devicesPerCommunity: 10_000, batchesPerHour: 10 };

/** A refusal with reason `quota_exceeded` that names the limit (`quota`), what is used and how to get more. */
export class QuotaExceededError extends DomainError {
  readonly code: (typeof QUOTAS)[QuotaName]['refusal'];
  readonly reason = 'quota_exceeded';
  constructor(readonly quota: QuotaName, limit: number, used: number, adding: number, readonly retryAfterSeconds?: number) {
    const retry = retryAfterSeconds === undefined ? '' : `; try again in ${retryAfterSeconds} s`;
    super(`quota ${quota} exceeded: ${used} ${QUOTAS[quota].counts}, ${adding} more would pass the limit of ${limit}${retry} (a platform admin can raise it)`);
    this.code = QUOTAS[quota].refusal;
  }
}

/** What is used of a limit now, counted by the capability that owns the records. */
export interface Usage {
  readonly used: number;
  /** For a limit per time window: when room frees up again. */
  readonly retryAfterSeconds?: number;
}

export type GrantPatch<N extends QuotaName> = Partial<Record<N, number | null>>;

/**
 * The limits and their checks. Platform admins are never limited. A check runs in the
 * transaction that creates the records, under a lock per limit and subject, so two requests
 * at once cannot both take the last unit.
 */
export class Quotas {
  constructor(private readonly defaults: QuotaLimits = DEFAULT_QUOTAS) {}

  /** For everyone: the admin's values over the installation's defaults. */
  async platformLimits(db: Queryable): Promise<QuotaLimits> {
    const rows = await platformLimitRows<QuotaName>(db);
    const limits = { ...this.defaults };
    for (const row of rows) limits[row.name] = row.value;
    return limits;
  }

  /** Null puts a limit back to the installation's default. */
  async setPlatformLimits(db: Db, events: EventPublisher, adminId: string, patch: GrantPatch<QuotaName>): Promise<QuotaLimits> {
    return events.transaction(db, async (tx, publish) => {
      const before = await this.platformLimits(tx);
      for (const [name, value] of Object.entries(patch) as [QuotaName, number | null | undefined][]) {
        if (value !== undefined) await writePlatformLimit(tx, name, value, adminId);
      }
      const after = await this.platformLimits(tx);
      await recordChange(publish, { kind: 'quota', communityId: null, resourceId: 'platform', action: 'set-limits', before, after });
      return after;
    });
  }

  /** The grants of one user or community: limits that differ from everyone's. */
  async grants(db: Queryable, subject: 'user' | 'community', subjectId: string): Promise<Partial<QuotaLimits>> {
    const rows = await grantRows<QuotaName>(db, subject, subjectId);
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }

  /** Null removes a grant: the limit for everyone applies again. */
  async setGrants(db: Db, events: EventPublisher, adminId: string, subject: 'user' | 'community', subjectId: string, patch: GrantPatch<QuotaName>): Promise<void> {
    await events.transaction(db, async (tx, publish) => {
      const before = await this.grants(tx, subject, subjectId);
      for (const [name, value] of Object.entries(patch) as [QuotaName, number | null | undefined][]) {
        if (value !== undefined) await writeGrant(tx, subject, subjectId, name, value, adminId);
      }
      await recordChange(publish, {
        kind: 'quota', communityId: subject === 'community' ? subjectId : null, resourceId: subjectId,
        action: `set-${subject}-grants`, before, after: await this.grants(tx, subject, subjectId),
      });
    });
  }

  /** The limit that applies to one subject: its grant, else everyone's. */
  async limit(db: Queryable, name: QuotaName, subjectId: string): Promise<number> {
    const granted = (await this.grants(db, QUOTAS[name].subject, subjectId))[name];
    return granted ?? (await this.platformLimits(db))[name];
  }

  /**
   * Refuses `adding` more of `name` for `subjectId` when that would pass its limit; `usage` counts
   * what exists, inside `tx` and after the lock, so concurrent requests are counted in turn.
   */
  async enforce(tx: Queryable, principal: Principal, name: QuotaName, subjectId: string, adding: number, usage: () => Promise<Usage>): Promise<void> {
    if (principal.kind === 'user' && principal.isAdmin) return;
    await lockQuota(tx, `quota:${name}:${subjectId}`);
    const limit = await this.limit(tx, name, subjectId);
    const { used, retryAfterSeconds } = await usage();
    if (used + adding > limit) throw new QuotaExceededError(name, limit, used, adding, retryAfterSeconds);
  }
}
