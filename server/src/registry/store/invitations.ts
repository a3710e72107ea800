import type { Queryable } from '../../platform/store/db.js';
import type { MemberRole } from './members.js';

/** The only SQL on the invitations table. */

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

const toInvitation = (row: InvitationRow): StoredInvitation => ({
  invitedBy: row.invited_by,
  id: row.id,
  communityId: row.community_id,
  email: row.email,
  role: row.role,
  state: row.state,
  createdAt: row.created_at.toISOString(),
  decidedAt: row.decided_at?.toISOString() ?? null,
});

/** An invitation with who made it (kept from the managers' view: see Invitation). */
export interface StoredInvitation extends Invitation {
  invitedBy: string | null;
}

/** Opens an invitation, or changes the role of the open one for this address. */
export async function upsertOpenInvitation(
  db: Queryable, input: { communityId: string; email: string; role: MemberRole; invitedBy: string },
): Promise<StoredInvitation> {
  const rows = await db.query<InvitationRow>(
    `INSERT INTO invitations (community_id, email, role, invited_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (community_id, lower(email)) WHERE state = 'pending' DO UPDATE SET role = EXCLUDED.role
     RETURNING *`,
    [input.communityId, input.email, input.role, input.invitedBy],
  );
  return toInvitation(rows[0]!);
}

/** A community's invitations (optionally in one state), newest first. */
export async function invitationsOfCommunity(db: Queryable, communityId: string, state: InvitationState | null): Promise<StoredInvitation[]> {
  const rows = await db.query<InvitationRow>(
    'SELECT * FROM invitations WHERE community_id = $1 AND ($2::text IS NULL OR state = $2) ORDER BY created_at DESC, id',
    [communityId, state],
  );
  return rows.map(toInvitation);
}

export async function invitationById(db: Queryable, id: string): Promise<StoredInvitation | undefined> {
  const rows = await db.query<InvitationRow>('SELECT * FROM invitations WHERE id = $1', [id]);
  return rows[0] && toInvitation(rows[0]);
}

/** Closes a pending invitation in `state`; false when it was not pending. */
export async function closePendingInvitation(db: Queryable, id: string, state: Exclude<InvitationState, 'pending'>): Promise<boolean> {
  const rows = await db.query(`UPDATE invitations SET state = $2, decided_at = now() WHERE id = $1 AND state = 'pending' RETURNING id`, [id, state]);
  return rows.length > 0;
}

/** The open invitations addressed to an email (case-insensitively), with their communities, oldest first. */
export async function openInvitationsTo(db: Queryable, email: string): Promise<ReceivedInvitation[]> {
  const rows = await db.query<{ id: string; role: MemberRole; created_at: Date; community_id: string; name: string; description: string }>(
    `SELECT i.id, i.role, i.created_at, c.id AS community_id, c.name, c.description
     FROM invitations i JOIN communities c ON c.id = i.community_id
     WHERE lower(i.email) = lower($1) AND i.state = 'pending' ORDER BY i.created_at, i.id`,
    [email],
  );
  return rows.map((r) => ({ id: r.id, role: r.role, createdAt: r.created_at.toISOString(), community: { id: r.community_id, name: r.name, description: r.description } }));
}

/** The open invitation with this id addressed to this email, locked for the rest of the transaction. */
export async function lockOpenInvitation(tx: Queryable, id: string, email: string): Promise<StoredInvitation | undefined> {
  const rows = await tx.query<InvitationRow>(
    `SELECT * FROM invitations WHERE id = $1 AND lower(email) = lower($2) AND state = 'pending' FOR UPDATE`,
    [id, email],
  );
  return rows[0] && toInvitation(rows[0]);
}

/** Records that an invitation was emailed, with the hash of its sign-up link's token. */
export async function recordInvitationSend(
  tx: Queryable, send: { communityId: string; invitationId: string; resend: boolean; signupTokenHash: string },
): Promise<void> {
  await tx.query(
    'INSERT INTO invitation_sends (community_id, invitation_id, resend, signup_token_hash) VALUES ($1, $2, $3, $4)',
    [send.communityId, send.invitationId, send.resend, send.signupTokenHash],
  );
}

/**
 * How often, in the hour before now, this invitation was emailed, and how many invitations the
 * community re-sent; `retryAfterSeconds`: when the oldest of those counted leaves the hour.
 */
export async function recentInvitationSends(
  db: Queryable, communityId: string, invitationId: string,
): Promise<{ ofInvitation: number; invitationFreesInS: number; resentByCommunity: number; communityFreesInS: number }> {
  const rows = await db.query<{ of_invitation: number; invitation_frees: number | null; resent: number; community_frees: number | null }>(
    `SELECT
       count(*) FILTER (WHERE invitation_id = $2)::int AS of_invitation,
       ceil(extract(epoch FROM min(sent_at) FILTER (WHERE invitation_id = $2) + interval '1 hour' - now()))::int AS invitation_frees,
       count(*) FILTER (WHERE resend)::int AS resent,
       ceil(extract(epoch FROM min(sent_at) FILTER (WHERE resend) + interval '1 hour' - now()))::int AS community_frees
     FROM invitation_sends WHERE community_id = $1 AND sent_at > now() - interval '1 hour'`,
    [communityId, invitationId],
  );
  const row = rows[0]!;
  return { ofInvitation: row.of_invitation, invitationFreesInS: row.invitation_frees ?? 0, resentByCommunity: row.resent, communityFreesInS: row.community_frees ?? 0 };
}

/** The address of the open invitation a sign-up link's token was sent with; undefined when unknown or no longer open. */
export async function openInvitationAddressBySignupToken(db: Queryable, signupTokenHash: string): Promise<string | undefined> {
  const rows = await db.query<{ email: string }>(
    `SELECT i.email FROM invitation_sends s JOIN invitations i ON i.id = s.invitation_id AND i.community_id = s.community_id
     WHERE s.signup_token_hash = $1 AND i.state = 'pending' LIMIT 1`,
    [signupTokenHash],
  );
  return rows[0]?.email;
}
