import type { Queryable } from '../platform/store/db.js';

/** The only SQL on accounts' tables: users, sessions, api_tokens, account_links. */

export interface User {
  id: string;
  email: string;
  displayName: string;
  isAdmin: boolean;
  mustChangePassword: boolean;
  createdAt: string;
  /** When the account proved it receives mail at its address; null: not yet. */
  emailVerifiedAt: string | null;
  /** The language the person chose; null: their browser's, then their community's. */
  locale: UserLocale | null;
}

export const USER_LOCALES = ['en', 'de'] as const;
export type UserLocale = (typeof USER_LOCALES)[number];

/** A user with the hash their password is checked against; it never leaves the capability. */
export interface UserWithHash extends User {
  passwordHash: string;
}

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  is_admin: boolean;
  must_change_password: boolean;
  created_at: Date;
  email_verified_at: Date | null;
  locale: UserLocale | null;
}

const USER_COLUMNS = 'id, email, display_name, password_hash, is_admin, must_change_password, created_at, email_verified_at, locale';

function toUser(row: UserRow): UserWithHash {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    isAdmin: row.is_admin,
    mustChangePassword: row.must_change_password,
    createdAt: row.created_at.toISOString(),
    emailVerifiedAt: row.email_verified_at?.toISOString() ?? null,
    locale: row.locale,
    passwordHash: row.password_hash,
  };
}

/** Inserts a user; undefined when the email (case-insensitively) is taken. */
export async function insertUser(
  db: Queryable,
  user: { email: string; displayName: string; passwordHash: string; isAdmin: boolean; mustChangePassword: boolean; emailVerified: boolean },
): Promise<UserWithHash | undefined> {
  const rows = await db.query<UserRow>(
    `INSERT INTO users (email, display_name, password_hash, is_admin, must_change_password, email_verified_at)
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::boolean THEN now() END)
     ON CONFLICT (lower(email)) DO NOTHING
     RETURNING ${USER_COLUMNS}`,
    [user.email, user.displayName, user.passwordHash, user.isAdmin, user.mustChangePassword, user.emailVerified],
  );
  return rows[0] && toUser(rows[0]);
}

export async function userByEmail(db: Queryable, email: string): Promise<UserWithHash | undefined> {
  const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
  return rows[0] && toUser(rows[0]);
}

export async function userById(db: Queryable, id: string): Promise<UserWithHash | undefined> {
  const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0] && toUser(rows[0]);
}

export async function allUsers(db: Queryable): Promise<UserWithHash[]> {
  const rows = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY created_at, email`);
  return rows.map(toUser);
}

/** An account as a platform admin manages it: whether it is locked too. */
export interface AccountRecord extends User {
  lockedAt: string | null;
}

/**
 * Accounts whose email or name contains `text` (case-insensitively; all when empty), by email,
 * at most `limit`, and how many matched in all.
 */
export async function searchUsers(db: Queryable, text: string, limit: number): Promise<{ accounts: AccountRecord[]; total: number }> {
  const rows = await db.query<UserRow & { locked_at: Date | null; total: number }>(
    `SELECT ${USER_COLUMNS}, locked_at, count(*) OVER ()::int AS total FROM users
     WHERE strpos(lower(email), lower($1)) > 0 OR strpos(lower(display_name), lower($1)) > 0 ORDER BY lower(email) LIMIT $2`,
    [text, limit],
  );
  return {
    accounts: rows.map((row) => {
      const { passwordHash: _hash, ...user } = toUser(row);
      return { ...user, lockedAt: row.locked_at?.toISOString() ?? null };
    }),
    total: rows[0]?.total ?? 0,
  };
}

/** Locks an account and ends its sessions and API tokens; false when there is no such account. */
export async function lockUser(tx: Queryable, userId: string): Promise<boolean> {
  const rows = await tx.query('UPDATE users SET locked_at = coalesce(locked_at, now()) WHERE id = $1 RETURNING 1', [userId]);
  await tx.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  await tx.query('DELETE FROM api_tokens WHERE user_id = $1', [userId]);
  return rows.length > 0;
}

export async function unlockUser(db: Queryable, userId: string): Promise<boolean> {
  return (await db.query('UPDATE users SET locked_at = NULL WHERE id = $1 RETURNING 1', [userId])).length > 0;
}

export async function isLocked(db: Queryable, userId: string): Promise<boolean> {
  return (await db.query<{ locked: boolean }>('SELECT locked_at IS NOT NULL AS locked FROM users WHERE id = $1', [userId]))[0]?.locked ?? false;
}

export async function setAdmin(db: Queryable, userId: string, isAdmin: boolean): Promise<boolean> {
  return (await db.query('UPDATE users SET is_admin = $2 WHERE id = $1 RETURNING 1', [userId, isAdmin])).length > 0;
}

export async function adminExists(db: Queryable): Promise<boolean> {
  return (await db.query('SELECT 1 FROM users WHERE is_admin LIMIT 1')).length > 0;
}

/**
 * Sets a new password hash and ends every session but `keepSessionHash` and every API token;
 * run it in a transaction.
 */
export async function replacePassword(
  tx: Queryable, userId: string, passwordHash: string, keepSessionHash: string | null,
): Promise<{ endedSessions: number; revokedTokens: number }> {
  await tx.query('UPDATE users SET password_hash = $2, must_change_password = false WHERE id = $1', [userId, passwordHash]);
  const sessions = await tx.query('DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2 RETURNING 1', [userId, keepSessionHash]);
  const tokens = await tx.query('DELETE FROM api_tokens WHERE user_id = $1 RETURNING 1', [userId]);
  return { endedSessions: sessions.length, revokedTokens: tokens.length };
}

/** What an emailed link of an account is for: each purpose has at most one open link per account. */
export type LinkPurpose = 'password-reset' | 'email-verification';

/** Opens the account's link for `purpose`, replacing the one it had: only the newest link works. */
export async function replaceAccountLink(
  db: Queryable, link: { userId: string; purpose: LinkPurpose; tokenHash: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO account_links (user_id, purpose, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (user_id, purpose) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at`,
    [link.userId, link.purpose, link.tokenHash, link.createdAt, link.expiresAt],
  );
}

export async function accountLinkByHash(db: Queryable, purpose: LinkPurpose, tokenHash: string): Promise<{ userId: string; expiresAt: Date } | undefined> {
  const rows = await db.query<{ user_id: string; expires_at: Date }>(
    'SELECT user_id, expires_at FROM account_links WHERE token_hash = $1 AND purpose = $2', [tokenHash, purpose]);
  return rows[0] && { userId: rows[0].user_id, expiresAt: rows[0].expires_at };
}

/** Removes the link with this hash and says whose it was and until when it held; undefined when there is none. */
export async function takeAccountLink(tx: Queryable, purpose: LinkPurpose, tokenHash: string): Promise<{ userId: string; expiresAt: Date } | undefined> {
  const rows = await tx.query<{ user_id: string; expires_at: Date }>(
    'DELETE FROM account_links WHERE token_hash = $1 AND purpose = $2 RETURNING user_id, expires_at', [tokenHash, purpose]);
  return rows[0] && { userId: rows[0].user_id, expiresAt: rows[0].expires_at };
}

/** Marks the address verified (the first time counts); any open verification link goes. */
export async function markEmailVerified(db: Queryable, userId: string): Promise<void> {
  await db.query('UPDATE users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = $1', [userId]);
  await db.query(`DELETE FROM account_links WHERE user_id = $1 AND purpose = 'email-verification'`, [userId]);
}

export async function setLocale(db: Queryable, userId: string, locale: UserLocale | null): Promise<boolean> {
  return (await db.query('UPDATE users SET locale = $2 WHERE id = $1 RETURNING 1', [userId, locale])).length > 0;
}

export async function insertSession(db: Queryable, session: { tokenHash: string; userId: string; expiresAt: Date; idleMs: number }): Promise<void> {
  await db.query(
    `INSERT INTO sessions (token_hash, user_id, expires_at, idle_timeout) VALUES ($1, $2, $3, $4 * interval '1 millisecond')`,
    [session.tokenHash, session.userId, session.expiresAt, session.idleMs],
  );
}

export async function deleteSessionByHash(db: Queryable, tokenHash: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
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

export async function insertApiToken(db: Queryable, token: { userId: string; name: string; tokenHash: string; expiresAt: Date | null }): Promise<ApiToken> {
  const rows = await db.query<ApiTokenRow>(
    `INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING ${API_TOKEN_COLUMNS}`,
    [token.userId, token.name, token.tokenHash, token.expiresAt],
  );
  return toApiToken(rows[0]!);
}

export async function apiTokensOf(db: Queryable, userId: string): Promise<ApiToken[]> {
  const rows = await db.query<ApiTokenRow>(`SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at`, [userId]);
  return rows.map(toApiToken);
}

/** Deletes a user's token; false when they have none with this id. */
export async function deleteApiToken(db: Queryable, userId: string, tokenId: string): Promise<boolean> {
  return (await db.query('DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING id', [tokenId, userId])).length > 0;
}

/** Who presented a credential, before their memberships are added. */
export interface CredentialHolder {
  userId: string;
  email: string;
  isAdmin: boolean;
  mustChangePassword: boolean;
}

interface HolderRow {
  id: string;
  email: string;
  is_admin: boolean;
  must_change_password: boolean;
}

const toHolder = (row: HolderRow): CredentialHolder =>
  ({ userId: row.id, email: row.email, isAdmin: row.is_admin, mustChangePassword: row.must_change_password });

/** The holder of a valid, unexpired API token, noting that it was used. */
export async function useApiToken(db: Queryable, tokenHash: string): Promise<CredentialHolder | undefined> {
  const rows = await db.query<HolderRow>(
    `UPDATE api_tokens t SET last_used_at = now() FROM users u
     WHERE t.token_hash = $1 AND u.id = t.user_id AND u.locked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
     RETURNING u.id, u.email, u.is_admin, u.must_change_password`,
    [tokenHash],
  );
  return rows[0] && toHolder(rows[0]);
}

/** The holder of a session neither expired nor idle too long; `stale`: last seen over a minute ago. */
export async function liveSession(db: Queryable, tokenHash: string): Promise<(CredentialHolder & { stale: boolean }) | undefined> {
  const rows = await db.query<HolderRow & { stale: boolean }>(
    `SELECT u.id, u.email, u.is_admin, u.must_change_password, s.last_seen_at < now() - interval '1 minute' AS stale
     FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.token_hash = $1 AND u.locked_at IS NULL AND s.expires_at > now() AND s.last_seen_at + s.idle_timeout > now()`,
    [tokenHash],
  );
  return rows[0] && { ...toHolder(rows[0]), stale: rows[0].stale };
}

export async function touchSession(db: Queryable, tokenHash: string): Promise<void> {
  await db.query('UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1', [tokenHash]);
}

/** Email and display name of each of these users (set-based, for other capabilities' lists). */
export async function usersByIds(db: Queryable, ids: readonly string[]): Promise<Map<string, { email: string; displayName: string; locale: UserLocale | null; emailVerified: boolean }>> {
  if (ids.length === 0) return new Map();
  const rows = await db.query<{ id: string; email: string; display_name: string; locale: UserLocale | null; verified: boolean }>(
    'SELECT id, email, display_name, locale, email_verified_at IS NOT NULL AS verified FROM users WHERE id = ANY($1::uuid[])', [[...new Set(ids)]]);
  return new Map(rows.map((r) => [r.id, { email: r.email, displayName: r.display_name, locale: r.locale, emailVerified: r.verified }]));
}

/**
 * Adds a user with an already hashed password, or renames the one with this email; returns the
 * user's id (seeding many accounts that share one password, hashed once). The installation made
 * the address up: there is nothing to verify.
 */
export async function upsertUserWithHash(db: Queryable, user: { email: string; displayName: string; passwordHash: string }): Promise<string> {
  const rows = await db.query<{ id: string }>(
    `INSERT INTO users (email, display_name, password_hash, email_verified_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (lower(email)) DO UPDATE SET display_name = EXCLUDED.display_name RETURNING id`,
    [user.email, user.displayName, user.passwordHash],
  );
  return rows[0]!.id;
}

/**
 * Erasure (privacy): the account keeps its id (kept records still join) but no longer says who
 * it was: pseudonymous email and name, a password hash nothing matches, no sessions, no tokens.
 */
export async function pseudonymiseUser(db: Queryable, userId: string, pseudonym: { email: string; displayName: string }): Promise<void> {
  await db.query(`UPDATE users SET email = $2, display_name = $3, password_hash = '!erased', must_change_password = false WHERE id = $1`,
    [userId, pseudonym.email, pseudonym.displayName]);
  await db.query('DELETE FROM sessions WHERE user_id = $1', [userId]);
  await db.query('DELETE FROM api_tokens WHERE user_id = $1', [userId]);
}
