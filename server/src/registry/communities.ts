import type { Db, Queryable } from '../platform/store/db.js';
import type { Quotas } from '../quotas/index.js';
import type { Principal, UserPrincipal } from '../kernel/principal.js';
import { isMemberOf, requireAdmin, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { ALLOCATION_RULES, type AllocationRuleName } from './allocation-rules.js';
import { currentMonthStart } from '../kernel/calendar.js';
import type { EventPublisher } from '../platform/events/index.js';
import { ALLOCATION_MODES, type AllocationMode } from '@gridshare/contract/registry';

export interface Community {
  id: string;
  name: string;
  description: string;
  timeZone: string;
  currency: string;
  locale: string;
  location: { latitude: number; longitude: number } | null;
  postcode: string | null;
  gridArea: string | null;
  country: string | null;
  allocationRule: AllocationRuleName;
  allocationMode: AllocationMode;
  isPublic: boolean;
  createdAt: string;
}

export { ALLOCATION_MODES, type AllocationMode };

export interface CommunityInput {
  name: string;
  description?: string;
  timeZone: string;
  currency: string;
  locale?: string;
  location?: { latitude: number; longitude: number } | null;
  postcode?: string | null;
  gridArea?: string | null;
  country?: string | null;
  allocationRule?: AllocationRuleName;
  allocationMode?: AllocationMode;
  isPublic?: boolean;
}

export interface CommunityRow {
  id: string;
  name: string;
  description: string;
  time_zone: string;
  currency: string;
  locale: string;
  latitude: number | null;
  longitude: number | null;
  postcode: string | null;
  grid_area: string | null;
  country: string | null;
  allocation_rule: AllocationRuleName;
  allocation_mode: AllocationMode;
  is_public: boolean;
  created_at: Date;
}

export const COMMUNITY_COLUMNS =
  'c.id, c.name, c.description, c.time_zone, c.currency, c.locale, c.latitude, c.longitude, c.postcode, c.grid_area, c.country, c.allocation_rule, c.allocation_mode, c.is_public, c.created_at';

export function toCommunity(row: CommunityRow): Community {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    timeZone: row.time_zone,
    currency: row.currency,
    locale: row.locale,
    location: row.latitude === null || row.longitude === null ? null : { latitude: row.latitude, longitude: row.longitude },
    postcode: row.postcode,
    gridArea: row.grid_area,
    country: row.country,
    allocationRule: row.allocation_rule,
    allocationMode: row.allocation_mode,
    isPublic: row.is_public,
    createdAt: row.created_at.toISOString(),
  };
}

/** Days, months and bills follow the community's own zone, so it must be one the runtime knows. */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
  } catch {
    throw new BadRequestError(`body/timeZone: unknown IANA time zone "${timeZone}"`, 'body/timeZone');
  }
}

function assertInput(input: Partial<CommunityInput>): void {
  if (input.timeZone !== undefined) assertTimeZone(input.timeZone);
  if (input.allocationRule !== undefined && !ALLOCATION_RULES.includes(input.allocationRule)) {
    throw new BadRequestError(`body/allocationRule: unknown rule "${input.allocationRule}"`, 'body/allocationRule');
  }
}

export async function loadCommunity(db: Queryable, id: string): Promise<Community | undefined> {
  const rows = await db.query<CommunityRow>(`SELECT ${COMMUNITY_COLUMNS} FROM communities c WHERE c.id = $1`, [id]);
  return rows[0] && toCommunity(rows[0]);
}

/** Managers and admins of an existing community (an admin passes requireManager for any id). */
export async function requireCommunityManager(db: Queryable, principal: Principal, communityId: string): Promise<UserPrincipal> {
  const user = requireManager(principal, communityId);
  if (!(await loadCommunity(db, communityId))) throw new NotFoundError('community');
  return user;
}

/** Public communities are visible to everyone; private ones to their members and admins. */
export async function getCommunity(db: Queryable, principal: Principal, id: string): Promise<Community> {
  const community = await loadCommunity(db, id);
  if (!community || !(community.isPublic || isMemberOf(principal, id))) throw new NotFoundError('community');
  return community;
}

export async function createCommunity(db: Queryable, principal: Principal, input: CommunityInput, displayName?: string): Promise<Community> {
  const user = requireUser(principal);
  assertInput(input);
  const rows = await db.query<CommunityRow>(
    `WITH c AS (
       INSERT INTO communities (name, description, time_zone, currency, locale, latitude, longitude, postcode, grid_area, country, allocation_rule, is_public, allocation_mode)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $15)
       RETURNING *
     ), m AS (
       INSERT INTO members (community_id, user_id, role, state, display_name, decided_at, decided_by, active_from)
       SELECT c.id, $13, 'manager', 'active', COALESCE($14, u.display_name), now(), $13, now() FROM c, users u WHERE u.id = $13
     )
     SELECT ${COMMUNITY_COLUMNS} FROM c`,
    [
      input.name, input.description ?? '', input.timeZone, input.currency, input.locale ?? 'en',
      input.location?.latitude ?? null, input.location?.longitude ?? null, input.postcode ?? null,
      input.gridArea ?? null, input.country ?? null, input.allocationRule ?? 'dynamic', input.isPublic ?? true,
      user.userId, displayName ?? null, input.allocationMode ?? 'compute',
    ],
  );
  return toCommunity(rows[0]!);
}

/** A user founds a community and manages it, within their quota of communities (communitiesPerUser). */
export async function foundCommunity(db: Db, quotas: Quotas, principal: Principal, input: CommunityInput): Promise<Community> {
  const user = requireUser(principal);
  return db.transaction(async (tx) => {
    await quotas.enforce(tx, principal, 'communitiesPerUser', user.userId, 1, async () => ({
      used: (await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM members WHERE user_id = $1 AND role = 'manager' AND state = 'active'`, [user.userId]))[0]!.n,
    }));
    return createCommunity(tx, principal, input);
  });
}

const UPDATABLE: Record<keyof Omit<CommunityInput, 'location'>, string> = {
  name: 'name',
  description: 'description',
  timeZone: 'time_zone',
  currency: 'currency',
  locale: 'locale',
  postcode: 'postcode',
  gridArea: 'grid_area',
  country: 'country',
  allocationRule: 'allocation_rule',
  allocationMode: 'allocation_mode',
  isPublic: 'is_public',
};

/** Changes a community's settings and publishes `community.changed` in the same transaction. */
export async function updateCommunity(db: Db, events: EventPublisher, principal: Principal, id: string, patch: Partial<CommunityInput>): Promise<Community> {
  requireManager(principal, id);
  assertInput(patch);
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [key, column] of Object.entries(UPDATABLE) as [keyof typeof UPDATABLE, string][]) {
    if (patch[key] === undefined) continue;
    values.push(patch[key]);
    sets.push(`${column} = $${values.length}`);
  }
  if (patch.location !== undefined) {
    values.push(patch.location?.latitude ?? null, patch.location?.longitude ?? null);
    sets.push(`latitude = $${values.length - 1}`, `longitude = $${values.length}`);
  }
  return events.transaction(db, async (tx, publish) => {
    if (sets.length > 0) await tx.query(`UPDATE communities SET ${sets.join(', ')} WHERE id = $1`, values);
    const community = (await loadCommunity(tx, id))!;
    // A new rule or mode applies from the start of the current month: its quarter hours are split
    // again (closed settlements stay as issued; recomputing one shows corrections).
    const allocationChanged = patch.allocationRule !== undefined || patch.allocationMode !== undefined;
    await publish('community.changed', { communityId: id, allocationFromMs: allocationChanged ? currentMonthStart(community.timeZone) : null });
    return community;
  });
}

export async function deleteCommunity(db: Queryable, principal: Principal, id: string): Promise<void> {
  requireAdmin(principal);
  const rows = await db.query('DELETE FROM communities WHERE id = $1 RETURNING id', [id]);
  if (rows.length === 0) throw new NotFoundError('community');
}
