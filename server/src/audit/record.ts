import type { EventPayload } from '../kernel/events.js';
import type { Publish } from '../platform/events/index.js';
import { currentRequestOrigin } from '../platform/http/request-context.js';
import type { ResolvedPrincipal } from '../kernel/principal.js';
import { diff, type Json } from './domain/diff.js';

export type ChangeKind = EventPayload<'change.recorded'>['kind'];
type ActorRole = EventPayload<'change.recorded'>['actorRole'];

/** A change as the capability that made it describes it: what, and the resource's state around it. */
export interface Change {
  kind: ChangeKind;
  /** null for installation-wide changes (the platform's quotas, a platform admin role). */
  communityId: string | null;
  resourceId: string;
  /** A verb of the capability's own: `create`, `update`, `approve`, `close`, … */
  action: string;
  /**
   * The resource as read before the change (null: it did not exist) and after it (null: removed),
   * as the capability shows it; taken as its JSON form (dates become ISO text).
   */
  before: unknown;
  after: unknown;
  /** The member whose thing this is, when someone else (a manager, an admin) changes it. */
  subjectMemberId?: string | null;
  /** When it happened (default now; a capability with an injected clock passes its own). */
  atMs?: number;
  /**
   * The account that acted, for a request that carries no session but proves the account another
   * way (a password reset link); it acted as `user`. Otherwise who acted is the request's principal.
   */
  actingUserId?: string;
}

const asJson = (value: unknown): Json | null => (value === null || value === undefined ? null : JSON.parse(JSON.stringify(value)) as Json);

/** The role a principal acted in for a change in `communityId`. */
function roleOf(principal: ResolvedPrincipal | undefined, communityId: string | null): { userId: string | null; role: ActorRole } {
  if (!principal || principal.kind !== 'user') return { userId: null, role: 'system' };
  const membership = principal.memberships.find((m) => m.communityId === communityId && m.state === 'active');
  if (membership) return { userId: principal.userId, role: membership.role };
  return { userId: principal.userId, role: principal.isAdmin ? 'admin' : 'user' };
}

/**
 * Puts a change on the audit trail: call it inside the transaction of the change, with the
 * `publish` of that transaction, so the entry and the change commit (or roll back) together.
 * Who and from where come from the request being handled (a job or the CLI records `system`).
 * A change that changed nothing is not recorded.
 */
export async function recordChange(publish: Publish, change: Change): Promise<void> {
  const lines = diff(asJson(change.before), asJson(change.after));
  if (lines.length === 0) return;
  const origin = currentRequestOrigin();
  const actor = change.actingUserId ? { userId: change.actingUserId, role: 'user' as const } : roleOf(origin?.principal, change.communityId);
  await publish('change.recorded', {
    atMs: change.atMs ?? Date.now(),
    communityId: change.communityId,
    kind: change.kind,
    resourceId: change.resourceId,
    action: change.action,
    actorUserId: actor.userId,
    actorRole: actor.role,
    subjectMemberId: change.subjectMemberId ?? null,
    clientAddress: origin?.clientAddress ?? null,
    userAgent: origin?.userAgent ?? null,
    requestId: origin?.requestId ?? null,
    diff: lines,
  });
}
