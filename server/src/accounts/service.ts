import type { Db, Queryable } from '../platform/store/db.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '../kernel/errors.js';
import { hashPassword, newOneTimePassword, newOpaqueToken, sha256Hex, verifyPassword } from './secrets.js';
import type { Credentials, Membership, ResolvedPrincipal } from '../kernel/principal.js';
import { ANONYMOUS } from '../kernel/principal.js';

/** A session ends at the latest this long after log-in, and earlier when idle (see createSession). */
export const SESSION_TTL_DAYS = 30;
export const DEFAULT_SESSION_IDLE_MS = 14 * 86_400_000;
export const API_TOKEN_PREFIX = 'gs_';

export interface User {
  id: string;
  email: string;
  displayName: string;
  isAdmin: boolean;
  mustChangePassword: boolean;
  createdAt: string;
}

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  is_admin: boolean;
  must_change_password: boolean;
  created_at: Date;
}

const USER_COLUMNS = 'id, email, display_name, password_hash, is_admin, must_change_password, created_at';

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    isAdmin: row.is_admin,
    mustChangePassword: row.must_change_password,
    createdAt: row.created_at.toISOString(),
  };
}

export interface NewUser {
  email: string;
  password: string;
  displayName: string;
  isAdmin?: boolean;
  mustChangePassword?: boolean;
}

export async function createUser(db: Queryable, input: NewUser): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  const rows = await db.query<UserRow>(
    `INSERT INTO users (email, display_name, password_hash, is_admin, must_change_password)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (lower(email)) DO NOTHING
     RETURNING ${USER_COLUMNS}`,
    [input.email.trim(), input.displayName.trim(), passwordHash, input.isAdmin ?? false, input.mustChangePassword ?? false],
  );
  if (!rows[0]) throw new ConflictError('an account with this email already exists');
  return toUser(rows[0]);
}

export async function findUserByEmail(db: Queryable, email: string): Promise<User | undefined> {
  const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email.trim()]);
  return rows[0] && toUser(rows[0]);
}

export async function getUser(db: Queryable, id: string): Promise<User> {
  const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError('user');
  return toUser(rows[0]);
}

export async function listUsers(db: Queryable): Promise<User[]> {
  const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, email`);
  return rows.map(toUser);
}

/** Same answer, and about the same time, for an unknown email as for a wrong password. */
const DUMMY_HASH = hashPassword('gridshare-timing-equaliser');

export async function checkCredentials(db: Queryable, email: string, password: string): Promise<User> {
  const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email.trim()]);
  const row = rows[0];
  const ok = await verifyPassword(row?.password_hash ?? (await DUMMY_HASH), password);
  if (!row || !ok) throw new UnauthorizedError('wrong email or password');
  return toUser(row);
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
  db: Db, userId: string, current: string, next: string, keepSessionToken: string | undefined,
): Promise<{ endedSessions: number; revokedTokens: number }> {
  const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [userId]);
  const row = rows[0];
  if (!row) throw new NotFoundError('user');
  if (!(await verifyPassword(row.password_hash, current))) throw new WrongCurrentPassword();
  const hash = await hashPassword(next);
  return db.transaction(async (tx) => {
    await tx.query('UPDATE users SET password_hash = $2, must_change_password = false WHERE id = $1', [userId, hash]);
    const sessions = await tx.query('DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2 RETURNING 1',
      [userId, keepSessionToken === undefined ? null : sha256Hex(keepSessionToken)]);
    const tokens = await tx.query('DELETE FROM api_tokens WHERE user_id = $1 RETURNING 1', [userId]);
    return { endedSessions: sessions.length, revokedTokens: tokens.length };
  });
}

/** A browser session: it ends `SESSION_TTL_DAYS` after log-in, or once unused for `idleMs`. */
export async function createSession(db: Queryable, userId: string, idleMs = DEFAULT_SESSION_IDLE_MS): Promise<{ token: string; expiresAt: Date }> {
  const token = newOpaqueToken();
  const expiresAt = new Date(Date.now() + SESSION_TTL_DAYS * 86_400_000);
  await db.query(
    `INSERT INTO sessions (token_hash, user_id, expires_at, idle_timeout) VALUES ($1, $2, $3, $4 * interval '1 millisecond')`,
    [sha256Hex(token), userId, expiresAt, idleMs],
  );
  return { token, expiresAt };
}

export async function deleteSession(db: Queryable, token: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE token_hash = $1', [sha256Hex(token)]);
}

export interface ApiToken {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
}

interface ApiTokenRow {
  id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
}

const API_TOKEN_COLUMNS = 'id, name, created_at, last_used_at, expires_at';

const toApiToken = (row: ApiTokenRow): ApiToken => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at.toISOString(),
  lastUsedAt: row.last_used_at?.toISOString() ?? null,
  expiresAt: row.expires_at?.toISOString() ?? null,
});

/** A bearer token for scripts, valid until revoked or until `expiresAt` (which must lie ahead). */
export async function createApiToken(db: Queryable, userId: string, name: string, expiresAt?: string): Promise<ApiToken & { token: string }> {
  if (expiresAt !== undefined && Date.parse(expiresAt) <= Date.now()) throw new BadRequestError('body/expiresAt: must lie in the future', 'body/expiresAt');
  const token = newOpaqueToken(API_TOKEN_PREFIX);
  const rows = await db.query<ApiTokenRow>(
    `INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING ${API_TOKEN_COLUMNS}`,
    [userId, name, sha256Hex(token), expiresAt === undefined ? null : new Date(expiresAt)],
  );
  return { ...toApiToken(rows[0]!), token };
}

export async function listApiTokens(db: Queryable, userId: string): Promise<ApiToken[]> {
  const rows = await db.query<ApiTokenRow>(
    `SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at`,
    [userId],
  );
  return rows.map(toApiToken);
}

export async function revokeApiToken(db: Queryable, userId: string, tokenId: string): Promise<void> {
  const rows = await db.query('DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING id', [tokenId, userId]);
  if (rows.length === 0) throw new NotFoundError('token');
}

interface PrincipalRow {
  id: string;
  email: string;
  is_admin: boolean;
  must_change_password: boolean;
}


/**
 * Turns a cookie or bearer token into the caller with their memberships; anything invalid,
 * expired or idle too long is anonymous.
 */
export async function resolvePrincipal(db: Queryable, credentials: Credentials): Promise<ResolvedPrincipal> {
  let rows: PrincipalRow[] = [];
  if (credentials.bearerToken) {
    rows = await db.query<PrincipalRow>(
      `UPDATE api_tokens t SET last_used_at = now() FROM users u
       WHERE t.token_hash = $1 AND u.id = t.user_id AND (t.expires_at IS NULL OR t.expires_at > now())
       RETURNING u.id, u.email, u.is_admin, u.must_change_password`,
      [sha256Hex(credentials.bearerToken)],
    );
  } else if (credentials.sessionToken) {
    const hash = sha256Hex(credentials.sessionToken);
    const sessions = await db.query<PrincipalRow & { stale: boolean }>(
      `SELECT u.id, u.email, u.is_admin, u.must_change_password, s.last_seen_at < now() - interval '1 minute' AS stale
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.token_hash = $1 AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()`,
      [hash],
    );
    // Being seen is written at most once a minute, not on every request of a busy page.
    if (sessions[0]?.stale) await db.query('UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1', [hash]);
    rows = sessions;
  }
  const row = rows[0];
  if (!row) return ANONYMOUS;
  const memberships = await db.query<{ id: string; community_id: string; role: Membership['role']; state: Membership['state'] }>(
    'SELECT id, community_id, role, state FROM members WHERE user_id = $1',
    [row.id],
  );
  return {
    kind: 'user',
    userId: row.id,
    email: row.email,
    isAdmin: row.is_admin,
    mustChangePassword: row.must_change_password,
    memberships: memberships.map((m) => ({ memberId: m.id, communityId: m.community_id, role: m.role, state: m.state })),
  };
}

export const BOOTSTRAP_ADMIN_EMAIL = 'admin@gridshare.local';

/** On the very first start, creates the platform admin and returns the one-time password to print. */
export async function ensureAdmin(db: Queryable): Promise<{ email: string; password: string } | undefined> {
  const existing = await db.query('SELECT 1 FROM users WHERE is_admin LIMIT 1');
  if (existing.length > 0) return undefined;
  const password = newOneTimePassword();
  await createUser(db, {
    email: BOOTSTRAP_ADMIN_EMAIL,
    password,
    displayName: 'Administrator',
    isAdmin: true,
    mustChangePassword: true,
  });
  return { email: BOOTSTRAP_ADMIN_EMAIL, password };
}
