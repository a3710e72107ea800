import { ForbiddenError, NotFoundError, UnauthorizedError } from '../kernel/errors.js';
import type { Membership, Principal, UserPrincipal } from '../kernel/principal.js';

/**
 * Authorisation rules in one place, as pure functions over the principal. Resources a
 * caller may not see are reported as not found, so ids of other tenants leak nothing.
 */
export function requireUser(principal: Principal): UserPrincipal {
  if (principal.kind !== 'user') throw new UnauthorizedError();
  return principal;
}

export function requireAdmin(principal: Principal): UserPrincipal {
  const user = requireUser(principal);
  if (!user.isAdmin) throw new ForbiddenError('platform administrators only');
  return user;
}

/**
 * The caller's active membership in the community. A membership in a suspended community grants
 * nothing: every check of it refuses (403) saying why, rather than pretending the community is
 * not theirs; platform admins keep their access.
 */
export function activeMembership(principal: Principal, communityId: string): Membership | undefined {
  if (principal.kind !== 'user') return undefined;
  const membership = principal.memberships.find((m) => m.communityId === communityId && m.state === 'active');
  if (membership?.communitySuspended && !principal.isAdmin) throw new ForbiddenError('this community is suspended by the installation\'s administrator');
  return membership;
}

export function isManagerOf(principal: Principal, communityId: string): boolean {
  if (principal.kind !== 'user') return false;
  return principal.isAdmin || activeMembership(principal, communityId)?.role === 'manager';
}

export function isMemberOf(principal: Principal, communityId: string): boolean {
  return isManagerOf(principal, communityId) || activeMembership(principal, communityId) !== undefined;
}

/** Managers (and admins) of the community; everyone else learns nothing about it. */
export function requireManager(principal: Principal, communityId: string, what = 'community'): UserPrincipal {
  const user = requireUser(principal);
  if (isManagerOf(user, communityId)) return user;
  if (isMemberOf(user, communityId)) throw new ForbiddenError('community managers only');
  throw new NotFoundError(what);
}

/** A member's own records are theirs, their community's managers' and the admins'. */
export function canSeeMember(principal: Principal, member: { id: string; communityId: string }): boolean {
  if (principal.kind !== 'user') return false;
  if (isManagerOf(principal, member.communityId)) return true;
  return principal.memberships.some((m) => m.memberId === member.id);
}
