import type { Db, Queryable } from '../platform/store/db.js';
import type { Quotas } from '../quotas/index.js';
import type { Principal, UserPrincipal } from '../kernel/principal.js';
import { isMemberOf, requireAdmin, requireManager, requireUser, requireVerifiedEmail, getUser } from '../accounts/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { ALLOCATION_RULES, type AllocationRuleName } from './allocation-rules.js';
import { currentMonthStart } from '../kernel/calendar.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import {
  ALLOCATION_MODES, communityById, communityOverviews, deleteCommunityRow, insertCommunityWithManager, patchCommunity, setSuspension, suspensionOf,
  type AllocationMode, type Community, type CommunityInput, type CommunityOverview,
} from './store/communities.js';
import { countManagedCommunities } from './store/members.js';

export { ALLOCATION_MODES, type AllocationMode, type Community, type CommunityInput, type CommunityOverview };

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
export async function foundCommunity(db: Db, events: EventPublisher, quotas: Quotas, principal: Principal, input: CommunityInput): Promise<Community> {
  const user = requireUser(principal);
  await requireVerifiedEmail(db, user.userId, 'founding a community');
  return events.transaction(db, async (tx, publish) => {
    await quotas.enforce(tx, principal, 'communitiesPerUser', user.userId, 1, async () => ({
      used: await countManagedCommunities(tx, user.userId),
    }));
    const community = await createCommunity(tx, principal, input);
    await recordChange(publish, { kind: 'community', communityId: community.id, resourceId: community.id, action: 'create', before: null, after: community });
    return community;
  });
}

/** Changes a community's settings and publishes `community.changed` in the same transaction. */
export async function updateCommunity(db: Db, events: EventPublisher, principal: Principal, id: string, patch: Partial<CommunityInput>): Promise<Community> {
  requireManager(principal, id);
  assertInput(patch);
  return events.transaction(db, async (tx, publish) => {
    const before = (await loadCommunity(tx, id))!;
    await patchCommunity(tx, id, patch);
    const community = (await loadCommunity(tx, id))!;
    // A new rule or mode applies from the start of the current month: its quarter hours are split
    // again (closed settlements stay as issued; recomputing one shows corrections).
    const allocationChanged = patch.allocationRule !== undefined || patch.allocationMode !== undefined;
    await publish('community.changed', { communityId: id, allocationFromMs: allocationChanged ? currentMonthStart(community.timeZone) : null });
    // The sharing rule decides who gets how much: the trail files its changes apart from the rest of the settings.
    const ruleChanged = before.allocationRule !== community.allocationRule || before.allocationMode !== community.allocationMode;
    await recordChange(publish, {
      kind: ruleChanged ? 'sharing-rule' : 'community', communityId: id, resourceId: id, action: 'update', before, after: community,
    });
    return community;
  });
}

/**
 * A platform admin founds a community for someone else: `manager` (an existing account) manages
 * it. Admins are never limited by quotas, so none is counted.
 */
export async function createCommunityManagedBy(db: Db, events: EventPublisher, principal: Principal, input: CommunityInput, managerUserId: string): Promise<Community> {
  requireAdmin(principal);
  assertInput(input);
  return events.transaction(db, async (tx, publish) => {
    const manager = await getUser(tx, managerUserId);
    await requireVerifiedEmail(tx, manager.id, 'managing a community', 'theirs');
    const community = await insertCommunityWithManager(tx, input, { userId: manager.id, displayName: manager.displayName });
    await recordChange(publish, {
      kind: 'community', communityId: community.id, resourceId: community.id, action: 'create', before: null, after: { ...community, managerUserId: manager.id },
    });
    return community;
  });
}

/** Every community for a platform admin, with its members, devices and suspension. */
export async function overseeCommunities(db: Queryable, principal: Principal, text: string): Promise<CommunityOverview[]> {
  requireAdmin(principal);
  return communityOverviews(db, text.trim());
}

/**
 * Suspends a community (`reason` given) or resumes it (null). While suspended its members and
 * managers are refused (saying so), its devices cannot connect or send, nobody can ask to join,
 * and discovery no longer lists it; its data stays and platform admins keep full access.
 */
export async function setCommunitySuspension(db: Db, events: EventPublisher, principal: Principal, id: string, reason: string | null): Promise<void> {
  requireAdmin(principal);
  await events.transaction(db, async (tx, publish) => {
    const before = await suspensionOf(tx, id);
    if (before === undefined || !(await setSuspension(tx, id, reason))) throw new NotFoundError('community');
    await recordChange(publish, {
      kind: 'community', communityId: id, resourceId: id, action: reason === null ? 'resume' : 'suspend',
      before: { suspension: before }, after: { suspension: (await suspensionOf(tx, id)) ?? null },
    });
  });
}

export async function deleteCommunity(db: Db, events: EventPublisher, principal: Principal, id: string): Promise<void> {
  requireAdmin(principal);
  await events.transaction(db, async (tx, publish) => {
    const before = await loadCommunity(tx, id);
    if (!before || !(await deleteCommunityRow(tx, id))) throw new NotFoundError('community');
    await recordChange(publish, { kind: 'community', communityId: id, resourceId: id, action: 'delete', before, after: null });
    await publish('community.deleted', { communityId: id });
  });
}
