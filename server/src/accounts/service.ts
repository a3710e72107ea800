import type { Db, Queryable } from '../platform/store/db.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '../kernel/errors.js';
import { hashPassword, newOneTimePassword, newOpaqueToken, sha256Hex, verifyPassword } from './secrets.js';
import { type Credentials, type Membership, type ResolvedPrincipal, ANONYMOUS } from '../kernel/principal.js';
import type { EventPublisher, Publish } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import * as store from './store.js';
import type { ApiToken, User } from './store.js';

/** A session ends at the latest this long after log-in, and earlier when idle (see createSession). */
export const SESSION_TTL_DAYS = 30;
export const DEFAULT_SESSION_IDLE_MS = 14 * 86_400_000;
export const API_TOKEN_PREFIX = 'gs_';

export type { ApiToken, User };

/** A user as others see them: without the password hash. */
function withoutHash({ passwordHash: _hash, ...user }: store.UserWithHash): User {
  return user;
}

export interface NewUser {
  email: string;
  password: string;
  displayName: string;
  isAdmin?: boolean;
  mustChangePassword?: boolean;
  /** False for a sign-up that must still prove its address (email-verification.ts); true for accounts the installation makes. */
  emailVerified: boolean;
}

export async function createUser(db: Queryable, input: NewUser): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  const user = await store.insertUser(db, {
    email: input.email.trim(), displayName: input.displayName.trim(), passwordHash,
    isAdmin: input.isAdmin ?? false, mustChangePassword: input.mustChangePassword ?? false, emailVerified: input.emailVerified,
  });
  if (!user) throw new ConflictError('an account with this email already exists');
  return withoutHash(user);
}

export async function findUserByEmail(db: Queryable, email: string): Promise<User | undefined> {
  const user = await store.userByEmail(db, email.trim());
  return user && withoutHash(user);
}

export async function getUser(db: Queryable, id: string): Promise<User> {
  const user = await store.userById(db, id);
  if (!user) throw new NotFoundError('user');
  return withoutHash(user);
}

/** Sets (or, with null, clears) the language the person reads the app, documents and emails in; on the trail as their own change. */
export async function setUserLocale(db: Db, events: EventPublisher, userId: string, locale: store.UserLocale | null): Promise<User> {
  return events.transaction(db, async (tx, publish) => {
    const before = await getUser(tx, userId);
    await store.setLocale(tx, userId, locale);
    await recordChange(publish, {
      kind: 'account', communityId: null, resourceId: userId, action: 'update-settings', actingUserId: userId,
      before: { locale: before.locale }, after: { locale },
    });
    return { ...before, locale };
  });
}

export async function listUsers(db: Queryable): Promise<User[]> {
  return (await store.allUsers(db)).map(withoutHash);
}

/** Same answer, and about the same time, for an unknown email as for a wrong password. */
const DUMMY_HASH = hashPassword('gridshare-timing-equaliser');

export async function checkCredentials(db: Queryable, email: string, password: string): Promise<User> {
  const user = await store.userByEmail(db, email.trim());
  const ok = await verifyPassword(user?.passwordHash ?? (await DUMMY_HASH), password);
  if (!user || !ok) throw new UnauthorizedError('wrong email or password');
  // Told only to whoever knows the password: an address alone does not reveal a lock.
  if (await store.isLocked(db, user.id)) throw new AccountLocked();
  return withoutHash(user);
}

export class AccountLocked extends ForbiddenError {
  constructor() {
    super('this account is locked by the installation\'s administrator');
  }
}

export type { AccountRecord } from './store.js';

/** Accounts whose email or name contains the text, for platform admins. */
export async function searchAccounts(db: Queryable, text: string, limit: number): Promise<{ accounts: store.AccountRecord[]; total: number }> {
  return store.searchUsers(db, text.trim(), limit);
}

/** The account itself is the last one who could undo it: no admin locks or demotes themself. */
function notOneself(adminId: string, userId: string, what: string): void {
  if (adminId === userId) throw new ConflictError(`an administrator cannot ${what} their own account`);
}

/** Locks an account: it cannot log in, its sessions end and its API tokens are revoked. */
export async function lockAccount(db: Db, events: EventPublisher, adminId: string, userId: string): Promise<void> {
  notOneself(adminId, userId, 'lock');
  await events.transaction(db, async (tx, publish) => {
    const before = await accountState(tx, userId);
    await store.lockUser(tx, userId);
    await recordChange(publish, { kind: 'account', communityId: null, resourceId: userId, action: 'lock', before, after: { ...before, locked: true } });
  });
}

export async function unlockAccount(db: Db, events: EventPublisher, userId: string): Promise<void> {
  await events.transaction(db, async (tx, publish) => {
    const before = await accountState(tx, userId);
    await store.unlockUser(tx, userId);
    await recordChange(publish, { kind: 'account', communityId: null, resourceId: userId, action: 'unlock', before, after: { ...before, locked: false } });
  });
}

/** Grants or revokes platform administration; the installation always keeps an admin who can log in. */
export async function setPlatformAdmin(db: Db, events: EventPublisher, adminId: string, userId: string, isAdmin: boolean): Promise<void> {
  if (!isAdmin) notOneself(adminId, userId, 'revoke administration of');
  await events.transaction(db, async (tx, publish) => {
    const before = await accountState(tx, userId);
    await store.setAdmin(tx, userId, isAdmin);
    await recordChange(publish, { kind: 'account', communityId: null, resourceId: userId, action: isAdmin ? 'make-admin' : 'revoke-admin', before, after: { ...before, admin: isAdmin } });
  });
}

/** What the audit trail shows of an account around a change: its access, never who it is. */
async function accountState(db: Queryable, userId: string): Promise<{ locked: boolean; admin: boolean }> {
  const user = await store.userById(db, userId);
  if (!user) throw new NotFoundError('user');
  return { locked: await store.isLocked(db, userId), admin: user.isAdmin };
}

export class WrongCurrentPassword extends ForbiddenError {
  constructor() {
    super('current password is wrong');
  }
}

/**
 * Replaces the password. Whoever knew the old one may have logged in or made API tokens with it,
 * so every session but the caller's (`keepSessionToken`) ends and every API token is revoked,
 * the caller's own too when it made the change with one.
 */
export async function changePassword(
  db: Db, events: EventPublisher, userId: string, current: string, next: string, keepSessionToken: string | undefined,
): Promise<{ endedSessions: number; revokedTokens: number }> {
  const user = await store.userById(db, userId);
  if (!user) throw new NotFoundError('user');
  if (!(await verifyPassword(user.passwordHash, current))) throw new WrongCurrentPassword();
  const hash = await hashPassword(next);
  return events.transaction(db, async (tx, publish) => {
    const ended = await store.replacePassword(tx, userId, hash, keepSessionToken === undefined ? null : sha256Hex(keepSessionToken));
    await recordSignInReplaced(publish, userId, 'change-password', ended);
    return ended;
  });
}

/**
 * A replaced password on the trail: when, and the sessions and API tokens it ended. The trail
 * never sees the password, and field names with a secret word are masked, hence these names.
 */
export async function recordSignInReplaced(
  publish: Publish, userId: string, action: 'change-password' | 'reset-password', ended: { endedSessions: number; revokedTokens: number },
): Promise<void> {
  await recordChange(publish, {
    kind: 'account', communityId: null, resourceId: userId, action, before: null, actingUserId: userId,
    after: { replacedAt: new Date().toISOString(), endedSessions: ended.endedSessions, revokedApiAccess: ended.revokedTokens },
  });
}

/** A browser session: it ends `SESSION_TTL_DAYS` after log-in, or once unused for `idleMs`. */
export async function createSession(db: Queryable, userId: string, idleMs = DEFAULT_SESSION_IDLE_MS): Promise<{ token: string; expiresAt: Date }> {
  const token = newOpaqueToken();
  const expiresAt = new Date(Date.now() + SESSION_TTL_DAYS * 86_400_000);
  await store.insertSession(db, { tokenHash: sha256Hex(token), userId, expiresAt, idleMs });
  return { token, expiresAt };
}

export async function deleteSession(db: Queryable, token: string): Promise<void> {
  await store.deleteSessionByHash(db, sha256Hex(token));
}

/** A bearer token for scripts, valid until revoked or until `expiresAt` (which must lie ahead). */
export async function createApiToken(db: Db, events: EventPublisher, userId: string, name: string, expiresAt?: string): Promise<ApiToken & { token: string }> {
  if (expiresAt !== undefined && Date.parse(expiresAt) <= Date.now()) throw new BadRequestError('body/expiresAt: must lie in the future', 'body/expiresAt');
  const token = newOpaqueToken(API_TOKEN_PREFIX);
  const stored = await events.transaction(db, async (tx, publish) => {
    const inserted = await store.insertApiToken(tx, { userId, name, tokenHash: sha256Hex(token), expiresAt: expiresAt === undefined ? null : new Date(expiresAt) });
    await recordChange(publish, { kind: 'account', communityId: null, resourceId: userId, action: 'create-api-token', before: null, after: { apiAccess: apiAccessOf(inserted) } });
    return inserted;
  });
  return { ...stored, token };
}

/** An API token as the trail shows it: which one, its name and lifetime. */
const apiAccessOf = (token: ApiToken) => ({ [token.id]: { name: token.name, expiresAt: token.expiresAt } });

export async function listApiTokens(db: Queryable, userId: string): Promise<ApiToken[]> {
  return store.apiTokensOf(db, userId);
}

export async function revokeApiToken(db: Db, events: EventPublisher, userId: string, tokenId: string): Promise<void> {
  await events.transaction(db, async (tx, publish) => {
    const token = (await store.apiTokensOf(tx, userId)).find((candidate) => candidate.id === tokenId);
    if (!token || !(await store.deleteApiToken(tx, userId, tokenId))) throw new NotFoundError('token');
    await recordChange(publish, { kind: 'account', communityId: null, resourceId: userId, action: 'revoke-api-token', before: { apiAccess: apiAccessOf(token) }, after: null });
  });
}

/**
 * The memberships of a user. They live in the registry, which depends on accounts, so the
 * composition root passes the registry's lookup in rather than accounts importing it.
 */
export type MembershipLookup = (db: Queryable, userId: string) => Promise<Membership[]>;

/**
 * Turns a cookie or bearer token into the caller with their memberships; anything invalid,
 * expired or idle too long is anonymous.
 */
export async function resolvePrincipal(db: Queryable, credentials: Credentials, membershipsOf: MembershipLookup): Promise<ResolvedPrincipal> {
  let holder: store.CredentialHolder | undefined;
  if (credentials.bearerToken) {
    holder = await store.useApiToken(db, sha256Hex(credentials.bearerToken));
  } else if (credentials.sessionToken) {
    const hash = sha256Hex(credentials.sessionToken);
    const session = await store.liveSession(db, hash);
    // Being seen is written at most once a minute, not on every request of a busy page.
    if (session?.stale) await store.touchSession(db, hash);
    holder = session;
  }
  if (!holder) return ANONYMOUS;
  return {
    kind: 'user',
    userId: holder.userId,
    email: holder.email,
    isAdmin: holder.isAdmin,
    mustChangePassword: holder.mustChangePassword,
    memberships: await membershipsOf(db, holder.userId),
  };
}

export const BOOTSTRAP_ADMIN_EMAIL = 'admin@gridshare.local';

/** On the very first start, creates the platform admin and returns the one-time password to print. */
export async function ensureAdmin(db: Queryable): Promise<{ email: string; password: string } | undefined> {
  if (await store.adminExists(db)) return undefined;
  const password = newOneTimePassword();
  try {
    await createUser(db, {
      email: BOOTSTRAP_ADMIN_EMAIL,
      password,
      displayName: 'Administrator',
      isAdmin: true,
      mustChangePassword: true,
      emailVerified: true,
    });
  } catch (error) {
    // Several processes started at once on a new database: one of them creates the admin (and shows its password).
    if (error instanceof ConflictError && await store.adminExists(db)) return undefined;
    throw error;
  }
  return { email: BOOTSTRAP_ADMIN_EMAIL, password };
}
