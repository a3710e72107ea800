import type { Queryable } from '../platform/store/db.js';

/** The only SQL on quotas' tables: quota_limits, user_quota_grants, community_quota_grants. */

/** A quota's name as stored; the service types it (QuotaName). */
type Name = string;

const GRANTS = {
  user: { table: 'user_quota_grants', column: 'user_id' },
  community: { table: 'community_quota_grants', column: 'community_id' },
} as const;

export type GrantSubject = keyof typeof GRANTS;

/** The limits the admin set for everyone. */
export async function platformLimitRows<N extends Name>(db: Queryable): Promise<{ name: N; value: number }[]> {
  return db.query<{ name: N; value: number }>('SELECT name, value FROM quota_limits');
}

/** Sets (a number) or removes (null) the limit for everyone. */
export async function writePlatformLimit(tx: Queryable, name: Name, value: number | null, adminId: string): Promise<void> {
  if (value === null) {
    await tx.query('DELETE FROM quota_limits WHERE name = $1', [name]);
    return;
  }
  await tx.query(
    `INSERT INTO quota_limits (name, value, updated_by) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [name, value, adminId],
  );
}

/** The grants of one user or community. */
export async function grantRows<N extends Name>(db: Queryable, subject: GrantSubject, subjectId: string): Promise<{ name: N; value: number }[]> {
  const { table, column } = GRANTS[subject];
  return db.query<{ name: N; value: number }>(`SELECT name, value FROM ${table} WHERE ${column} = $1`, [subjectId]);
}

/** Sets (a number) or removes (null) one grant. */
export async function writeGrant(tx: Queryable, subject: GrantSubject, subjectId: string, name: Name, value: number | null, adminId: string): Promise<void> {
  const { table, column } = GRANTS[subject];
  if (value === null) {
    await tx.query(`DELETE FROM ${table} WHERE ${column} = $1 AND name = $2`, [subjectId, name]);
    return;
  }
  await tx.query(
    `INSERT INTO ${table} (${column}, name, value, updated_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (${column}, name) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [subjectId, name, value, adminId],
  );
}

/** Serialises checks of one limit and subject until the transaction ends. */
export async function lockQuota(tx: Queryable, key: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
}
