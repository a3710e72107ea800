/** Who is asking: resolved once per request from the session cookie or bearer token. */
export type Principal = Anonymous | UserPrincipal;

export interface Anonymous {
  readonly kind: 'anonymous';
}

export interface Membership {
  readonly memberId: string;
  readonly communityId: string;
  readonly role: 'member' | 'manager';
  readonly state: 'requested' | 'active' | 'rejected' | 'left';
  /** The community is suspended by a platform admin: the membership grants nothing until it is resumed. */
  readonly communitySuspended?: true;
}

export interface UserPrincipal {
  readonly kind: 'user';
  readonly userId: string;
  readonly email: string;
  readonly isAdmin: boolean;
  readonly memberships: readonly Membership[];
}

export const ANONYMOUS: Anonymous = { kind: 'anonymous' };

/** A user who still has to replace a one-time password is resolved with that flag. */
export type ResolvedPrincipal = Principal | (UserPrincipal & { mustChangePassword: boolean });

/** What a request or a stream presented: a session cookie or a bearer token. */
export interface Credentials {
  sessionToken?: string | undefined;
  bearerToken?: string | undefined;
}
