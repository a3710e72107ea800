import type { Db, Queryable } from '../platform/store/db.js';
import type { Quotas } from '../quotas/index.js';
import type { Principal, UserPrincipal } from '../kernel/principal.js';
import { isMemberOf, requireAdmin, requireManager, requireUser, getUser } from '../accounts/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { ALLOCATION_RULES, type AllocationRuleName } from './allocation-rules.js';
import { currentMonthStart } from '../kernel/calendar.js';
import type { EventPublisher } from '../platform/events/index.js';
import { ALLOCATION_MODES, communityById, deleteCommunityRow, insertCommunityWithManager, patchCommunity, type AllocationMode, type Community, type CommunityInput } from './store/communities.js';
import { countManagedCommunities } from './store/members.js';

export { ALLOCATION_MODES, type AllocationMode, type Community, type CommunityInput };

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
  return communityById(db, id);
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
  // The founder's name in the community is theirs unless they give another.
  const manager = { userId: user.userId, displayName: displayName ?? (await getUser(db, user.userId)).displayName };
  return insertCommunityWithManager(db, input, manager);
}

/** A user founds a community and manages it, within their quota of communities (communitiesPerUser). */
export async function foundCommunity(db: Db, quotas: Quotas, principal: Principal, input: CommunityInput): Promise<Community> {
  const user = requireUser(principal);
  return db.transaction(async (tx) => {
    await quotas.enforce(tx, principal, 'communitiesPerUser', user.userId, 1, async () => ({
      used: await countManagedCommunities(tx, user.userId),
    }));
    return createCommunity(tx, principal, input);
  });
}

/** Changes a community's settings and publishes `community.changed` in the same transaction. */
export async function updateCommunity(db: Db, events: EventPublisher, principal: Principal, id: string, patch: Partial<CommunityInput>): Promise<Community> {
  requireManager(principal, id);
  assertInput(patch);
  return events.transaction(db, async (tx, publish) => {
    await patchCommunity(tx, id, patch);
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
  if (!(await deleteCommunityRow(db, id))) throw new NotFoundError('community');
}
