import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { activeMembership, canSeeMember, isManagerOf, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../kernel/errors.js';
import { isQuarterHour } from '../kernel/time.js';
import type { EventPublisher } from '../platform/events/index.js';
import { getCommunity } from './communities.js';

export type MemberRole = 'member' | 'manager';
export type MemberState = 'requested' | 'active' | 'rejected' | 'left';

export interface Member {
  id: string;
  communityId: string;
  userId: string;
  email: string;
  displayName: string;
  role: MemberRole;
  state: MemberState;
  joinMessage: string;
  requestedAt: string;
  decidedAt: string | null;
  /** Takes part in the community's sharing from this instant (null: no start recorded, i.e. from the beginning). */
  activeFrom: string | null;
  /** Took part until this instant (null: still does). */
  leftAt: string | null;
}

interface MemberRow {
  id: string;
  community_id: string;
  user_id: string;
  email: string;
  display_name: string;
  role: MemberRole;
  state: MemberState;
  join_message: string;
  requested_at: Date;
  decided_at: Date | null;
  active_from: Date | null;
  left_at: Date | null;
}

const MEMBER_SELECT = `SELECT m.id, m.community_id, m.user_id, u.email, m.display_name, m.role, m.state, m.join_message,
  m.requested_at, m.decided_at, m.active_from, m.left_at FROM members m JOIN users u ON u.id = m.user_id`;

function toMember(row: MemberRow): Member {
  return {
    id: row.id,
    communityId: row.community_id,
    userId: row.user_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    state: row.state,
    joinMessage: row.join_message,
    requestedAt: row.requested_at.toISOString(),
    decidedAt: row.decided_at?.toISOString() ?? null,
    activeFrom: row.active_from?.toISOString() ?? null,
    leftAt: row.left_at?.toISOString() ?? null,
  };
}

async function loadMember(db: Queryable, id: string): Promise<Member | undefined> {
  const rows = await db.query<MemberRow>(`${MEMBER_SELECT} WHERE m.id = $1`, [id]);
  return rows[0] && toMember(rows[0]);
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
    const rows = await db.query<MemberRow>(
      `${MEMBER_SELECT} WHERE m.community_id = $1 AND ($2::text IS NULL OR m.state = $2) ORDER BY m.requested_at, m.id`,
      [communityId, state ?? null],
    );
    return rows.map(toMember);
  }
  const own = activeMembership(user, communityId);
  if (!own) throw new NotFoundError('community');
  const rows = await db.query<MemberRow>(`${MEMBER_SELECT} WHERE m.id = $1 AND ($2::text IS NULL OR m.state = $2)`, [own.memberId, state ?? null]);
  return rows.map(toMember);
}

/** Any logged-in user may ask to join a public community; a manager decides. */
export async function requestToJoin(
  db: Queryable,
  principal: Principal,
  communityId: string,
  input: { displayName?: string | undefined; message?: string | undefined },
): Promise<Member> {
  const user = requireUser(principal);
  const community = await getCommunity(db, principal, communityId);
  if (!community.isPublic) throw new NotFoundError('community');
  const rows = await db.query<{ id: string }>(
    `INSERT INTO members (community_id, user_id, role, state, display_name, join_message)
     SELECT $1, u.id, 'member', 'requested', COALESCE($3, u.display_name), $4 FROM users u WHERE u.id = $2
     ON CONFLICT (community_id, user_id) DO UPDATE
       SET state = 'requested', role = 'member', join_message = EXCLUDED.join_message,
           display_name = EXCLUDED.display_name, requested_at = now(), decided_at = NULL, decided_by = NULL
       WHERE members.state IN ('rejected', 'left')
     RETURNING id`,
    [communityId, user.userId, input.displayName ?? null, input.message ?? ''],
  );
  if (!rows[0]) throw new ConflictError('you already are a member of this community or have asked to join');
  return (await loadMember(db, rows[0].id))!;
}

/**
 * Makes a user an active member with `role` (an accepted invitation); a former, rejected or
 * requesting member becomes active again. An active member stays as they are.
 */
export async function admitMember(
  tx: Queryable,
  input: { communityId: string; userId: string; role: MemberRole; decidedBy: string | null },
): Promise<Member> {
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO members (community_id, user_id, role, state, display_name, decided_at, decided_by, active_from)
     SELECT $1, u.id, $3, 'active', u.display_name, now(), $4, now() FROM users u WHERE u.id = $2
     ON CONFLICT (community_id, user_id) DO UPDATE
       SET state = 'active', role = EXCLUDED.role, decided_at = now(), decided_by = EXCLUDED.decided_by, active_from = now(), left_at = NULL
       WHERE members.state <> 'active'
     RETURNING id`,
    [input.communityId, input.userId, input.role, input.decidedBy],
  );
  const id = rows[0]?.id
    ?? (await tx.query<{ id: string }>('SELECT id FROM members WHERE community_id = $1 AND user_id = $2', [input.communityId, input.userId]))[0]!.id;
  return (await loadMember(tx, id))!;
}

export async function decideJoinRequest(db: Queryable, principal: Principal, memberId: string, decision: 'approve' | 'reject'): Promise<Member> {
  const member = await getMember(db, principal, memberId);
  const manager = requireManager(principal, member.communityId, 'member');
  const rows = await db.query(
    `UPDATE members SET state = $2, decided_at = now(), decided_by = $3,
       active_from = CASE WHEN $2 = 'active' THEN now() ELSE active_from END, left_at = CASE WHEN $2 = 'active' THEN NULL ELSE left_at END
     WHERE id = $1 AND state = 'requested' RETURNING id`,
    [memberId, decision === 'approve' ? 'active' : 'rejected', manager.userId],
  );
  if (rows.length === 0) throw new ConflictError(`only a pending request can be decided; this member is ${member.state}`);
  return (await loadMember(db, memberId))!;
}

async function assertNotLastManager(db: Queryable, member: Member): Promise<void> {
  if (member.role !== 'manager' || member.state !== 'active') return;
  const rows = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM members WHERE community_id = $1 AND role = 'manager' AND state = 'active'`,
    [member.communityId],
  );
  if ((rows[0]?.n ?? 0) <= 1) throw new ConflictError('a community keeps at least one active manager');
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
  }
  const activeFromMs = patch.activeFrom === undefined ? undefined : Date.parse(patch.activeFrom);
  if (activeFromMs !== undefined) {
    if (!managing) throw new ForbiddenError('only a community manager sets when a member takes part');
    if (member.state !== 'active' && member.state !== 'left') throw new ConflictError(`only an active or former member takes part in sharing; this member is ${member.state}`);
    if (!isQuarterHour(activeFromMs)) throw new BadRequestError('body/activeFrom: must be the start of a UTC quarter hour', 'body/activeFrom');
    if (member.leftAt !== null && activeFromMs >= Date.parse(member.leftAt)) throw new BadRequestError('body/activeFrom: must be before the member left', 'body/activeFrom');
  }
  await events.transaction(db, async (tx, publish) => {
    await tx.query(
      'UPDATE members SET display_name = COALESCE($2, display_name), role = COALESCE($3, role), active_from = COALESCE($4, active_from) WHERE id = $1',
      [memberId, patch.displayName ?? null, patch.role ?? null, activeFromMs === undefined ? null : new Date(activeFromMs)],
    );
    if (activeFromMs !== undefined) {
      const previousMs = member.activeFrom === null ? 0 : Date.parse(member.activeFrom);
      await publish('membership.changed', { communityId: member.communityId, memberId, fromMs: Math.min(previousMs, activeFromMs) });
    }
  });
  return (await loadMember(db, memberId))!;
}

/** A member leaves, or a manager removes them; their history stays for billing. */
export async function leaveCommunity(db: Queryable, principal: Principal, memberId: string): Promise<Member> {
  const member = await getMember(db, principal, memberId);
  if (member.state !== 'active' && member.state !== 'requested') throw new ConflictError(`this member is already ${member.state}`);
  await assertNotLastManager(db, member);
  await db.query(`UPDATE members SET state = 'left', decided_at = now(), left_at = CASE WHEN state = 'active' THEN now() ELSE left_at END WHERE id = $1`, [memberId]);
  return (await loadMember(db, memberId))!;
}
