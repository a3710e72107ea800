import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { activeMembership, canSeeMember, isManagerOf, requireManager, requireUser, requireVerifiedEmail, getUser, usersByIds } from '../accounts/index.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../kernel/errors.js';
import { isQuarterHour } from '../kernel/time.js';
import type { EventPublisher, Publish } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import { getCommunity } from './communities.js';
import { isSuspended } from './store/communities.js';
import { countActiveManagers, decidePendingRequest, markMemberLeft, memberById, memberIdOfUser, membersOfCommunity, patchMember, upsertActiveMember, upsertJoinRequest, type MemberRecord, type MemberRole, type MemberState } from './store/members.js';

export type { MemberRole, MemberState };

export interface Member extends MemberRecord {
  email: string;
}

/** Adds each member's email from the accounts (one query for the whole list). */
async function withEmails(db: Queryable, records: readonly MemberRecord[]): Promise<Member[]> {
  const users = await usersByIds(db, records.map((r) => r.userId));
  // Every member's user exists: the foreign key deletes members with their user.
  return records.map((record) => ({ ...record, email: users.get(record.userId)!.email }));
}

async function loadMember(db: Queryable, id: string): Promise<Member | undefined> {
  const record = await memberById(db, id);
  return record && (await withEmails(db, [record]))[0];
}

/** A member record the caller may see: their own, or any in a community they manage. */
export async function getMember(db: Queryable, principal: Principal, id: string): Promise<Member> {
  requireUser(principal);
  const member = await loadMember(db, id);
  if (!member || !canSeeMember(principal, member)) throw new NotFoundError('member');
  return member;
}

/** Managers see everyone (optionally by state); a member sees only their own record. */
export async function listMembers(db: Queryable, principal: Principal, communityId: string, state?: MemberState): Promise<Member[]> {
  const user = requireUser(principal);
  await getCommunity(db, principal, communityId);
  if (isManagerOf(user, communityId)) {
    return withEmails(db, await membersOfCommunity(db, communityId, state ?? null));
  }
  const own = activeMembership(user, communityId);
  if (!own) throw new NotFoundError('community');
  const record = await memberById(db, own.memberId);
  return withEmails(db, record && (state === undefined || record.state === state) ? [record] : []);
}

/** Any logged-in user may ask to join a public community; a manager decides. */
export async function requestToJoin(
  db: Db,
  events: EventPublisher,
  principal: Principal,
  communityId: string,
  input: { displayName?: string | undefined; message?: string | undefined },
): Promise<Member> {
  const user = requireUser(principal);
  const community = await getCommunity(db, principal, communityId);
  if (!community.isPublic) throw new NotFoundError('community');
  if (await isSuspended(db, communityId)) throw new ForbiddenError('this community is suspended and admits nobody');
  return events.transaction(db, async (tx, publish) => {
    const id = await upsertJoinRequest(tx, {
      communityId, userId: user.userId, displayName: input.displayName ?? (await getUser(tx, user.userId)).displayName, message: input.message ?? '',
    });
    if (!id) throw new ConflictError('you already are a member of this community or have asked to join');
    const member = (await loadMember(tx, id))!;
    await recordChange(publish, { kind: 'member', communityId, resourceId: id, action: 'request-to-join', before: null, after: member });
    return member;
  });
}

/**
 * Makes a user an active member with `role` (an accepted invitation); a former, rejected or
 * requesting member becomes active again. An active member stays as they are.
 */
export async function admitMember(
  tx: Queryable,
  publish: Publish,
  input: { communityId: string; userId: string; role: MemberRole; decidedBy: string | null },
): Promise<Member> {
  const { displayName } = await getUser(tx, input.userId);
  const formerId = await memberIdOfUser(tx, input.communityId, input.userId);
  const before = formerId === undefined ? null : await loadMember(tx, formerId);
  const id = await upsertActiveMember(tx, { ...input, displayName });
  const after = (await loadMember(tx, id))!;
  await recordChange(publish, { kind: 'member', communityId: input.communityId, resourceId: id, action: 'accept-invitation', before, after });
  return after;
}

export async function decideJoinRequest(db: Db, events: EventPublisher, principal: Principal, memberId: string, decision: 'approve' | 'reject'): Promise<Member> {
  const member = await getMember(db, principal, memberId);
  const manager = requireManager(principal, member.communityId, 'member');
  if (decision === 'approve') await requireVerifiedEmail(db, member.userId, 'approving this person', 'theirs');
  return events.transaction(db, async (tx, publish) => {
    const decided = await decidePendingRequest(tx, memberId, decision === 'approve' ? 'active' : 'rejected', manager.userId);
    if (!decided) throw new ConflictError(`only a pending request can be decided; this member is ${member.state}`);
    const after = (await loadMember(tx, memberId))!;
    await recordChange(publish, { kind: 'member', communityId: member.communityId, resourceId: memberId, action: decision, before: member, after, subjectMemberId: memberId });
    await publish('member.decided', { communityId: member.communityId, memberId, decision: decision === 'approve' ? 'approved' : 'rejected', atMs: Date.now() });
    return after;
  });
}

async function assertNotLastManager(db: Queryable, member: Member): Promise<void> {
  if (member.role !== 'manager' || member.state !== 'active') return;
  if ((await countActiveManagers(db, member.communityId)) <= 1) throw new ConflictError('a community keeps at least one active manager');
}

/**
 * Changes a member record. `activeFrom` (managers) moves the start of the member's part in the
 * sharing, e.g. to the date the grid operator activated the metering point: a UTC quarter hour
 * before the member left; `membership.changed` says from when (the earlier of the old and new
 * start), in the transaction of the change, so the sharing is split again from there.
 */
export async function updateMember(
  db: Db,
  events: EventPublisher,
  principal: Principal,
  memberId: string,
  patch: { displayName?: string | undefined; role?: MemberRole | undefined; activeFrom?: string | undefined },
): Promise<Member> {
  const member = await getMember(db, principal, memberId);
  const managing = isManagerOf(principal, member.communityId);
  if (patch.role !== undefined && patch.role !== member.role) {
    if (!managing) throw new ForbiddenError('only a community manager changes roles');
    if (patch.role === 'member') await assertNotLastManager(db, member);
    if (patch.role === 'manager') await requireVerifiedEmail(db, member.userId, 'making this person a manager', 'theirs');
  }
  const activeFromMs = patch.activeFrom === undefined ? undefined : Date.parse(patch.activeFrom);
  if (activeFromMs !== undefined) {
    if (!managing) throw new ForbiddenError('only a community manager sets when a member takes part');
    if (member.state !== 'active' && member.state !== 'left') throw new ConflictError(`only an active or former member takes part in sharing; this member is ${member.state}`);
    if (!isQuarterHour(activeFromMs)) throw new BadRequestError('body/activeFrom: must be the start of a UTC quarter hour', 'body/activeFrom');
    if (member.leftAt !== null && activeFromMs >= Date.parse(member.leftAt)) throw new BadRequestError('body/activeFrom: must be before the member left', 'body/activeFrom');
  }
  return events.transaction(db, async (tx, publish) => {
    await patchMember(tx, memberId, { displayName: patch.displayName, role: patch.role, activeFrom: activeFromMs === undefined ? undefined : new Date(activeFromMs) });
    if (activeFromMs !== undefined) {
      const previousMs = member.activeFrom === null ? 0 : Date.parse(member.activeFrom);
      await publish('membership.changed', { communityId: member.communityId, memberId, fromMs: Math.min(previousMs, activeFromMs) });
    }
    const after = (await loadMember(tx, memberId))!;
    // A new role is a change of who may do what: the trail files it under roles.
    const roleChanged = after.role !== member.role;
    await recordChange(publish, {
      kind: roleChanged ? 'role' : 'member', communityId: member.communityId, resourceId: memberId,
      action: roleChanged ? `make-${after.role}` : 'update', before: member, after, subjectMemberId: memberId,
    });
    return after;
  });
}

/** A member leaves, or a manager removes them; their history stays for billing. */
export async function leaveCommunity(db: Db, events: EventPublisher, principal: Principal, memberId: string): Promise<Member> {
  const member = await getMember(db, principal, memberId);
  if (member.state !== 'active' && member.state !== 'requested') throw new ConflictError(`this member is already ${member.state}`);
  await assertNotLastManager(db, member);
  const leaving = principal.kind === 'user' && principal.userId === member.userId;
  return events.transaction(db, async (tx, publish) => {
    await markMemberLeft(tx, memberId);
    const after = (await loadMember(tx, memberId))!;
    await recordChange(publish, {
      kind: 'member', communityId: member.communityId, resourceId: memberId, action: leaving ? 'leave' : 'remove', before: member, after, subjectMemberId: memberId,
    });
    return after;
  });
}
