import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { requireManager, requireUser, findUserByEmail, requireVerifiedEmail } from '../accounts/index.js';
import { createHash, randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, TooManyRequestsError } from '../kernel/errors.js';
import { requireCommunityManager } from './communities.js';
import type { EventPublisher, Publish } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import { admitMember, type Member, type MemberRole } from './members.js';
import { isActiveUserIn } from './store/members.js';
import { closePendingInvitation, invitationById, invitationsOfCommunity, lockOpenInvitation, openInvitationAddressBySignupToken, openInvitationsTo, recentInvitationSends, recordInvitationSend, upsertOpenInvitation, type Invitation, type InvitationState, type ReceivedInvitation, type StoredInvitation } from './store/invitations.js';

export type { Invitation, InvitationState, ReceivedInvitation };

/** What the managers see of a stored invitation: not who made it. */
function publicView({ invitedBy: _invitedBy, ...invitation }: StoredInvitation): Invitation {
  return invitation;
}

/**
 * How often an invitation may be emailed: an address is not to be flooded by one invitation sent
 * again and again, nor a community's managers to send out mail in bulk by re-sending.
 */
export const INVITATION_SEND_LIMITS = {
  /** Emails of one invitation (the first and its re-sends) in any hour. */
  perInvitationPerHour: 3,
  /** Re-sent invitations of one community in any hour. */
  resendsPerCommunityPerHour: 20,
} as const;

export class TooManyInvitationEmails extends TooManyRequestsError {
  constructor(readonly reason: 'invitation' | 'community', readonly retryAfterSeconds: number) {
    super(reason === 'invitation'
      ? `this invitation was emailed ${INVITATION_SEND_LIMITS.perInvitationPerHour} times in the last hour; send it again in ${Math.ceil(retryAfterSeconds / 60)} min`
      : `this community re-sent ${INVITATION_SEND_LIMITS.resendsPerCommunityPerHour} invitations in the last hour; send this one again in ${Math.ceil(retryAfterSeconds / 60)} min`);
  }
}

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The invited address of an open invitation whose email carried this sign-up token: signing up
 * through that link proves the address receives mail (accounts then count it as verified).
 */
export async function invitedAddressOfSignupToken(db: Queryable, token: string): Promise<string | undefined> {
  return openInvitationAddressBySignupToken(db, hashOf(token));
}

/**
 * Invites a person by email (managers). The answer is the same whether or not the address has an
 * account: no account id or name, and the same work either way. Inviting again while one is open
 * updates the role of the open one. Either way the address is emailed (notifications, `invitation.sent`).
 */
export async function invite(db: Db, events: EventPublisher, principal: Principal, communityId: string, input: { email: string; role?: MemberRole | undefined }): Promise<Invitation> {
  const manager = await requireCommunityManager(db, principal, communityId);
  const email = input.email.trim();
  return events.transaction(db, async (tx, publish) => {
    // Only what the manager already sees in the member list: whether an active member has this address.
    // Both lookups run whether or not the address has an account, so the work is the same.
    const user = await findUserByEmail(tx, email);
    if (await isActiveUserIn(tx, communityId, user?.id ?? null)) throw new ConflictError('this address belongs to an active member already');
    const open = (await invitationsOfCommunity(tx, communityId, 'pending')).find((i) => i.email.toLowerCase() === email.toLowerCase());
    const after = publicView(await upsertOpenInvitation(tx, { communityId, email, role: input.role ?? 'member', invitedBy: manager.userId }));
    // Counted after the upsert, which locks the open invitation: two re-sends at once are counted one after the other.
    if (open) {
      const recent = await recentInvitationSends(tx, communityId, after.id);
      if (recent.ofInvitation >= INVITATION_SEND_LIMITS.perInvitationPerHour) throw new TooManyInvitationEmails('invitation', Math.max(1, recent.invitationFreesInS));
      if (recent.resentByCommunity >= INVITATION_SEND_LIMITS.resendsPerCommunityPerHour) throw new TooManyInvitationEmails('community', Math.max(1, recent.communityFreesInS));
    }
    // Each email gets its own sign-up token (32 random bytes); only its hash is kept.
    const signupToken = randomBytes(32).toString('base64url');
    await recordInvitationSend(tx, { communityId, invitationId: after.id, resend: open !== undefined, signupTokenHash: hashOf(signupToken) });
    await recordChange(publish, { kind: 'invitation', communityId, resourceId: after.id, action: open ? 'update' : 'send', before: open ? publicView(open) : null, after });
    await publish('invitation.sent', { communityId, invitationId: after.id, signupToken, atMs: Date.now() });
    return after;
  });
}

export async function listInvitations(db: Queryable, principal: Principal, communityId: string, state?: InvitationState): Promise<Invitation[]> {
  await requireCommunityManager(db, principal, communityId);
  return (await invitationsOfCommunity(db, communityId, state ?? null)).map(publicView);
}

/** Closes an open invitation and puts it on the trail; false when it was not open. */
async function closeInvitation(tx: Queryable, publish: Publish, invitation: StoredInvitation, state: 'revoked' | 'declined'): Promise<boolean> {
  if (!(await closePendingInvitation(tx, invitation.id, state))) return false;
  const after = (await invitationById(tx, invitation.id))!;
  await recordChange(publish, {
    kind: 'invitation', communityId: invitation.communityId, resourceId: invitation.id, action: state === 'revoked' ? 'revoke' : 'decline',
    before: publicView(invitation), after: publicView(after),
  });
  return true;
}

/** A manager withdraws an open invitation; it stays listed as revoked. */
export async function revokeInvitation(db: Db, events: EventPublisher, principal: Principal, id: string): Promise<void> {
  requireUser(principal);
  const invitation = await invitationById(db, id);
  if (!invitation) throw new NotFoundError('invitation');
  requireManager(principal, invitation.communityId, 'invitation');
  await events.transaction(db, async (tx, publish) => {
    if (!(await closeInvitation(tx, publish, invitation, 'revoked'))) throw new ConflictError(`only an open invitation can be revoked; this one is ${invitation.state}`);
  });
}

/** The open invitations addressed to the caller's email, including those made before they signed up. */
export async function receivedInvitations(db: Queryable, principal: Principal): Promise<ReceivedInvitation[]> {
  const user = requireUser(principal);
  return openInvitationsTo(db, user.email);
}

/** An open invitation addressed to the caller; anyone else's is "not found". */
async function openInvitationFor(tx: Queryable, principal: Principal, id: string): Promise<StoredInvitation & { userId: string }> {
  const user = requireUser(principal);
  const invitation = await lockOpenInvitation(tx, id, user.email);
  if (!invitation) throw new NotFoundError('invitation');
  return { ...invitation, userId: user.userId };
}

/** The invited person accepts: they become an active member with the invitation's role. */
export async function acceptInvitation(db: Db, events: EventPublisher, principal: Principal, id: string): Promise<Member> {
  return events.transaction(db, async (tx, publish) => {
    const invitation = await openInvitationFor(tx, principal, id);
    await requireVerifiedEmail(tx, invitation.userId, 'accepting an invitation');
    await closePendingInvitation(tx, id, 'accepted');
    return admitMember(tx, publish, { communityId: invitation.communityId, userId: invitation.userId, role: invitation.role, decidedBy: invitation.invitedBy });
  });
}

export async function declineInvitation(db: Db, events: EventPublisher, principal: Principal, id: string): Promise<void> {
  await events.transaction(db, async (tx, publish) => {
    await closeInvitation(tx, publish, await openInvitationFor(tx, principal, id), 'declined');
  });
}
