import type { Queryable } from '../../platform/store/db.js';
import type { Membership } from '../../kernel/principal.js';

/** The only SQL on the members table. Emails live with the accounts; the service adds them. */

export type MemberRole = 'member' | 'manager';
export type MemberState = 'requested' | 'active' | 'rejected' | 'left';

/** A member as stored here: everything but the email of its user. */
export interface MemberRecord {
  id: string;
  communityId: string;
  userId: string;
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
  display_name: string;
  role: MemberRole;
  state: MemberState;
  join_message: string;
  requested_at: Date;
  decided_at: Date | null;
  active_from: Date | null;
  left_at: Date | null;
}

const MEMBER_SELECT = `SELECT id, community_id, user_id, display_name, role, state, join_message,
  requested_at, decided_at, active_from, left_at FROM members`;

function toMemberRecord(row: MemberRow): MemberRecord {
  return {
    id: row.id,
    communityId: row.community_id,
    userId: row.user_id,
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

export async function memberById(db: Queryable, id: string): Promise<MemberRecord | undefined> {
  const rows = await db.query<MemberRow>(`${MEMBER_SELECT} WHERE id = $1`, [id]);
  return rows[0] && toMemberRecord(rows[0]);
}

/** A community's members (optionally in one state), by request time and id. */
export async function membersOfCommunity(db: Queryable, communityId: string, state: MemberState | null): Promise<MemberRecord[]> {
  const rows = await db.query<MemberRow>(
    `${MEMBER_SELECT} WHERE community_id = $1 AND ($2::text IS NULL OR state = $2) ORDER BY requested_at, id`,
    [communityId, state],
  );
  return rows.map(toMemberRecord);
}

/**
 * Records a request to join; a rejected or former member asks again. Returns the member's id, or
 * undefined when the user is a member already or has asked.
 */
export async function upsertJoinRequest(
  db: Queryable, request: { communityId: string; userId: string; displayName: string; message: string },
): Promise<string | undefined> {
  const rows = await db.query<{ id: string }>(
    `INSERT INTO members (community_id, user_id, role, state, display_name, join_message)
     VALUES ($1, $2, 'member', 'requested', $3, $4)
     ON CONFLICT (community_id, user_id) DO UPDATE
       SET state = 'requested', role = 'member', join_message = EXCLUDED.join_message,
           display_name = EXCLUDED.display_name, requested_at = now(), decided_at = NULL, decided_by = NULL
       WHERE members.state IN ('rejected', 'left')
     RETURNING id`,
    [request.communityId, request.userId, request.displayName, request.message],
  );
  return rows[0]?.id;
}

/** Makes the user an active member with `role` from now, unless active already; returns the member's id. */
export async function upsertActiveMember(
  tx: Queryable, input: { communityId: string; userId: string; role: MemberRole; decidedBy: string | null; displayName: string },
): Promise<string> {
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO members (community_id, user_id, role, state, display_name, decided_at, decided_by, active_from)
     VALUES ($1, $2, $3, 'active', $5, now(), $4, now())
     ON CONFLICT (community_id, user_id) DO UPDATE
       SET state = 'active', role = EXCLUDED.role, decided_at = now(), decided_by = EXCLUDED.decided_by, active_from = now(), left_at = NULL
       WHERE members.state <> 'active'
     RETURNING id`,
    [input.communityId, input.userId, input.role, input.decidedBy, input.displayName],
  );
  return rows[0]?.id ?? (await memberIdOfUser(tx, input.communityId, input.userId))!;
}

/** Decides a pending request (active from now, or rejected); false when it was not pending. */
export async function decidePendingRequest(db: Queryable, memberId: string, state: 'active' | 'rejected', decidedBy: string): Promise<boolean> {
  const rows = await db.query(
    `UPDATE members SET state = $2, decided_at = now(), decided_by = $3,
       active_from = CASE WHEN $2 = 'active' THEN now() ELSE active_from END, left_at = CASE WHEN $2 = 'active' THEN NULL ELSE left_at END
     WHERE id = $1 AND state = 'requested' RETURNING id`,
    [memberId, state, decidedBy],
  );
  return rows.length > 0;
}

export async function countActiveManagers(db: Queryable, communityId: string): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM members WHERE community_id = $1 AND role = 'manager' AND state = 'active'`, [communityId]);
  return rows[0]?.n ?? 0;
}

/** Communities a user manages now (for the communitiesPerUser quota). */
export async function countManagedCommunities(db: Queryable, userId: string): Promise<number> {
  return (await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM members WHERE user_id = $1 AND role = 'manager' AND state = 'active'`, [userId]))[0]!.n;
}

/** Writes the fields given (undefined keeps the stored value). */
export async function patchMember(
  db: Queryable, memberId: string, patch: { displayName?: string | undefined; role?: MemberRole | undefined; activeFrom?: Date | undefined },
): Promise<void> {
  await db.query(
    'UPDATE members SET display_name = COALESCE($2, display_name), role = COALESCE($3, role), active_from = COALESCE($4, active_from) WHERE id = $1',
    [memberId, patch.displayName ?? null, patch.role ?? null, patch.activeFrom ?? null],
  );
}

/** The member leaves now (an active one's part in the sharing ends now). */
export async function markMemberLeft(db: Queryable, memberId: string): Promise<void> {
  await db.query(`UPDATE members SET state = 'left', decided_at = now(), left_at = CASE WHEN state = 'active' THEN now() ELSE left_at END WHERE id = $1`, [memberId]);
}

/** Whether the member is active in this community. */
export async function isActiveMemberIn(db: Queryable, memberId: string, communityId: string): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM members WHERE id = $1 AND community_id = $2 AND state = 'active'`, [memberId, communityId])).length > 0;
}

/** Whether this user (null: nobody) is an active member of the community. */
export async function isActiveUserIn(db: Queryable, communityId: string, userId: string | null): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM members WHERE community_id = $1 AND user_id = $2 AND state = 'active'`, [communityId, userId])).length > 0;
}

/** Every membership of a user, in any state (the caller's principal is built from them). */
export async function membershipsOfUser(db: Queryable, userId: string): Promise<Membership[]> {
  const rows = await db.query<{ id: string; community_id: string; role: Membership['role']; state: Membership['state']; suspended: boolean }>(
    `SELECT m.id, m.community_id, m.role, m.state, c.suspended_at IS NOT NULL AS suspended
     FROM members m JOIN communities c ON c.id = m.community_id WHERE m.user_id = $1`,
    [userId],
  );
  return rows.map((m) => ({
    memberId: m.id, communityId: m.community_id, role: m.role, state: m.state, ...(m.suspended ? { communitySuspended: true } : {}),
  }));
}

/**
 * Adds an active member directly, without a request (seeding); `activeFrom` null: taking part
 * from the beginning. Returns the member's id.
 */
export async function insertActiveMember(
  tx: Queryable, member: { communityId: string; userId: string; displayName: string; decidedBy: string; activeFrom: Date | null },
): Promise<string> {
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO members (community_id, user_id, role, state, display_name, decided_at, decided_by, active_from)
     VALUES ($1, $2, 'member', 'active', $3, now(), $4, $5) RETURNING id`,
    [member.communityId, member.userId, member.displayName, member.decidedBy, member.activeFrom],
  );
  return rows[0]!.id;
}

/** The id of this user's member record in the community, if any. */
export async function memberIdOfUser(db: Queryable, communityId: string, userId: string): Promise<string | undefined> {
  return (await db.query<{ id: string }>('SELECT id FROM members WHERE community_id = $1 AND user_id = $2', [communityId, userId]))[0]?.id;
}

/**
 * Erasure (privacy): every membership of a user carries the pseudonym instead of the name, loses
 * its join message and ends; its metering points lose their names, addresses and grid operator
 * numbers (freed for whoever lives there next, `numberFor` gives each its replacement). Returns
 * the members and their metering points.
 */
export async function pseudonymiseMembersOfUser(
  db: Queryable, userId: string, label: string, numberFor: (original: string) => string,
): Promise<{ memberIds: string[]; meteringPointIds: string[] }> {
  const members = await db.query<{ id: string }>(
    `UPDATE members SET display_name = $2, join_message = '', decided_at = COALESCE(decided_at, now()),
       left_at = CASE WHEN state = 'active' THEN now() ELSE left_at END,
       state = CASE WHEN state IN ('active', 'requested') THEN 'left' ELSE state END
     WHERE user_id = $1 RETURNING id`,
    [userId, label],
  );
  const memberIds = members.map((m) => m.id);
  const points = await db.query<{ id: string; grid_connection_id: string; generation_grid_connection_id: string | null }>(
    'SELECT id, grid_connection_id, generation_grid_connection_id FROM metering_points WHERE member_id = ANY($1::uuid[]) ORDER BY created_at, id',
    [memberIds],
  );
  for (const [index, point] of points.entries()) {
    await db.query(
      `UPDATE metering_points SET name = $2, address = '', grid_connection_id = $3, generation_grid_connection_id = $4 WHERE id = $1`,
      [point.id, `${label}-${index + 1}`, numberFor(point.grid_connection_id),
        point.generation_grid_connection_id === null ? null : numberFor(point.generation_grid_connection_id)],
    );
  }
  return { memberIds, meteringPointIds: points.map((p) => p.id) };
}
