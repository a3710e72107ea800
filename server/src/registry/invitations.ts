import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { requireManager, requireUser } from '../accounts/index.js';
import { ConflictError, NotFoundError } from '../kernel/errors.js';
import { requireCommunityManager } from './communities.js';
import { admitMember, type Member, type MemberRole } from './members.js';

export type InvitationState = 'pending' | 'accepted' | 'declined' | 'revoked';

/** What the managers see: the address they typed, never who (if anyone) has it. */
export interface Invitation {
  id: string;
  communityId: string;
  email: string;
  role: MemberRole;
  state: InvitationState;
  createdAt: string;
  decidedAt: string | null;
}

/** What the invited person sees. */
export interface ReceivedInvitation {
  id: string;
  community: { id: string; name: string; description: string };
  role: MemberRole;
  createdAt: string;
}

interface InvitationRow {
  id: string;
  community_id: string;
  email: string;
  role: MemberRole;
  state: InvitationState;
  invited_by: string | null;
  created_at: Date;
  decided_at: Date | null;
}

const toInvitation = (row: InvitationRow): Invitation => ({
  id: row.id,
  communityId: row.community_id,
  email: row.email,
  role: row.role,
  state: row.state,
  createdAt: row.created_at.toISOString(),
  decidedAt: row.decided_at?.toISOString() ?? null,
});

/**
 * Invites a person by email (managers). The answer is the same whether or not the address has an
 * account: no account id or name, and the same work either way. Inviting again while one is open
 * updates the role of the open one.
 */
export async function invite(db: Db, principal: Principal, communityId: string, input: { email: string; role?: MemberRole | undefined }): Promise<Invitation> {
  const manager = await requireCommunityManager(db, principal, communityId);
  const email = input.email.trim();
  return db.transaction(async (tx) => {
    // Only what the manager already sees in the member list: whether an active member has this address.
    const active = await tx.query(
      `SELECT 1 FROM members m JOIN users u ON u.id = m.user_id WHERE m.community_id = $1 AND lower(u.email) = lower($2) AND m.state = 'active'`,
      [communityId, email],
    );
    if (active.length > 0) throw new ConflictError('this address belongs to an active member already');
    const rows = await tx.query<InvitationRow>(
      `INSERT INTO invitations (community_id, email, role, invited_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (community_id, lower(email)) WHERE state = 'pending' DO UPDATE SET role = EXCLUDED.role
       RETURNING *`,
      [communityId, email, input.role ?? 'member', manager.userId],
    );
    return toInvitation(rows[0]!);
  });
}

export async function listInvitations(db: Queryable, principal: Principal, communityId: string, state?: InvitationState): Promise<Invitation[]> {
  await requireCommunityManager(db, principal, communityId);
  const rows = await db.query<InvitationRow>(
    'SELECT * FROM invitations WHERE community_id = $1 AND ($2::text IS NULL OR state = $2) ORDER BY created_at DESC, id',
    [communityId, state ?? null],
  );
  return rows.map(toInvitation);
}

/** A manager withdraws an open invitation; it stays listed as revoked. */
export async function revokeInvitation(db: Queryable, principal: Principal, id: string): Promise<void> {
  requireUser(principal);
  const rows = await db.query<InvitationRow>('SELECT * FROM invitations WHERE id = $1', [id]);
  const invitation = rows[0];
  if (!invitation) throw new NotFoundError('invitation');
  requireManager(principal, invitation.community_id, 'invitation');
  const updated = await db.query(`UPDATE invitations SET state = 'revoked', decided_at = now() WHERE id = $1 AND state = 'pending' RETURNING id`, [id]);
  if (updated.length === 0) throw new ConflictError(`only an open invitation can be revoked; this one is ${invitation.state}`);
}

/** The open invitations addressed to the caller's email, including those made before they signed up. */
export async function receivedInvitations(db: Queryable, principal: Principal): Promise<ReceivedInvitation[]> {
  const user = requireUser(principal);
  const rows = await db.query<{ id: string; role: MemberRole; created_at: Date; community_id: string; name: string; description: string }>(
    `SELECT i.id, i.role, i.created_at, c.id AS community_id, c.name, c.description
     FROM invitations i JOIN communities c ON c.id = i.community_id
     WHERE lower(i.email) = lower($1) AND i.state = 'pending' ORDER BY i.created_at, i.id`,
    [user.email],
  );
  return rows.map((r) => ({ id: r.id, role: r.role, createdAt: r.created_at.toISOString(), community: { id: r.community_id, name: r.name, description: r.description } }));
}

/** An open invitation addressed to the caller; anyone else's is "not found". */
async function openInvitationFor(tx: Queryable, principal: Principal, id: string): Promise<InvitationRow & { user_id: string }> {
  const user = requireUser(principal);
  const rows = await tx.query<InvitationRow>(
    `SELECT * FROM invitations WHERE id = $1 AND lower(email) = lower($2) AND state = 'pending' FOR UPDATE`,
    [id, user.email],
  );
  if (!rows[0]) throw new NotFoundError('invitation');
  return { ...rows[0], user_id: user.userId };
}

/** The invited person accepts: they become an active member with the invitation's role. */
export async function acceptInvitation(db: Db, principal: Principal, id: string): Promise<Member> {
  return db.transaction(async (tx) => {
    const invitation = await openInvitationFor(tx, principal, id);
    await tx.query(`UPDATE invitations SET state = 'accepted', decided_at = now() WHERE id = $1`, [id]);
    return admitMember(tx, { communityId: invitation.community_id, userId: invitation.user_id, role: invitation.role, decidedBy: invitation.invited_by });
  });
}

export async function declineInvitation(db: Db, principal: Principal, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    await openInvitationFor(tx, principal, id);
    await tx.query(`UPDATE invitations SET state = 'declined', decided_at = now() WHERE id = $1`, [id]);
  });
}
