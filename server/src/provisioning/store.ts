import type { Queryable } from '../platform/store/db.js';
import type { DeviceKind } from '../registry/index.js';
import { keyIdSql, sealedStore } from '../secrets/index.js';

/**
 * The only SQL on provisioning's tables: device_batches, device_ids_issued (every id ever
 * issued), device_credentials (sealed keys) and claim_codes.
 */

export interface BatchRecord {
  id: string;
  communityId: string;
  name: string;
  kind: DeviceKind;
  size: number;
  status: 'active' | 'rolled-back';
  createdAt: string;
  rolledBackAt: string | null;
}

interface BatchRow {
  id: string;
  community_id: string;
  name: string;
  kind: DeviceKind;
  size: number;
  status: 'active' | 'rolled-back';
  created_at: Date;
  rolled_back_at: Date | null;
}

const toBatch = (row: BatchRow): BatchRecord => ({
  id: row.id,
  communityId: row.community_id,
  name: row.name,
  kind: row.kind,
  size: row.size,
  status: row.status,
  createdAt: row.created_at.toISOString(),
  rolledBackAt: row.rolled_back_at?.toISOString() ?? null,
});

export async function batchById(db: Queryable, id: string): Promise<BatchRecord | undefined> {
  const rows = await db.query<BatchRow>('SELECT * FROM device_batches WHERE id = $1', [id]);
  return rows[0] && toBatch(rows[0]);
}

/** A community's batches, newest first. */
export async function batchesOfCommunity(db: Queryable, communityId: string): Promise<BatchRecord[]> {
  const rows = await db.query<BatchRow>('SELECT * FROM device_batches WHERE community_id = $1 ORDER BY created_at DESC', [communityId]);
  return rows.map(toBatch);
}

/**
 * The number the community's next batch gets in its default name (1 for the first; rolled back
 * batches count). Holds a lock per community until the transaction ends, so two batches made at
 * once do not get the same number.
 */
export async function nextBatchNumber(tx: Queryable, communityId: string): Promise<number> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`device-batches|${communityId}`]);
  const rows = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM device_batches WHERE community_id = $1', [communityId]);
  return rows[0]!.n + 1;
}

export async function insertBatch(tx: Queryable, batch: { id: string; communityId: string; name: string; kind: DeviceKind; size: number; createdBy: string }): Promise<void> {
  await tx.query(
    'INSERT INTO device_batches (id, community_id, name, kind, size, created_by) VALUES ($1, $2, $3, $4, $5, $6)',
    [batch.id, batch.communityId, batch.name, batch.kind, batch.size, batch.createdBy],
  );
}

export async function renameBatch(db: Queryable, batchId: string, name: string): Promise<void> {
  await db.query('UPDATE device_batches SET name = $2 WHERE id = $1', [batchId, name]);
}

/** Batches a user provisioned in the last hour, and when the oldest of them was. */
export async function batchesInLastHour(db: Queryable, userId: string): Promise<{ count: number; oldest: Date | null }> {
  const rows = await db.query<{ n: number; oldest: Date | null }>(
    `SELECT count(*)::int AS n, min(created_at) AS oldest FROM device_batches WHERE created_by = $1 AND created_at > now() - interval '1 hour'`,
    [userId],
  );
  return { count: rows[0]!.n, oldest: rows[0]!.oldest };
}

export async function markBatchRolledBack(tx: Queryable, batchId: string): Promise<void> {
  await tx.query(`UPDATE device_batches SET status = 'rolled-back', rolled_back_at = now() WHERE id = $1`, [batchId]);
}

/** Records ids as issued; returns those that were new (the others had been issued before). */
export async function recordIssuedIds(db: Queryable, ids: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ id: string }>('INSERT INTO device_ids_issued (id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING id', [ids]);
  return rows.map((r) => r.id);
}

/** Stores sealed key pairs of new devices. */
export async function insertCredentials(
  tx: Queryable, communityId: string, credentials: readonly { deviceId: string; primary: string; secondary: string }[],
): Promise<void> {
  await tx.query(
    `INSERT INTO device_credentials (device_id, community_id, primary_key, secondary_key)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[])`,
    [credentials.map((c) => c.deviceId), credentials.map(() => communityId), credentials.map((c) => c.primary), credentials.map((c) => c.secondary)],
  );
}

/** Writes one slot's sealed key (a device without credentials gets both slots). */
export async function writeKeySlot(
  db: Queryable, device: { id: string; communityId: string }, sealed: { primary: string; secondary: string }, slot: 'primary' | 'secondary',
): Promise<void> {
  await db.query(
    `INSERT INTO device_credentials (device_id, community_id, primary_key, secondary_key)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (device_id, community_id) DO UPDATE SET
       primary_key = CASE WHEN $5 = 'primary' THEN EXCLUDED.primary_key ELSE device_credentials.primary_key END,
       primary_rotated_at = CASE WHEN $5 = 'primary' THEN now() ELSE device_credentials.primary_rotated_at END,
       secondary_key = CASE WHEN $5 = 'secondary' THEN EXCLUDED.secondary_key ELSE device_credentials.secondary_key END,
       secondary_rotated_at = CASE WHEN $5 = 'secondary' THEN now() ELSE device_credentials.secondary_rotated_at END`,
    [device.id, device.communityId, sealed.primary, sealed.secondary, slot],
  );
}

/** The sealed keys of these devices (devices without credentials are absent). */
export async function sealedKeysOf(db: Queryable, deviceIds: readonly string[]): Promise<{ deviceId: string; primary: string; secondary: string }[]> {
  const rows = await db.query<{ device_id: string; primary_key: string; secondary_key: string }>(
    'SELECT device_id, primary_key, secondary_key FROM device_credentials WHERE device_id = ANY($1::text[])', [deviceIds]);
  return rows.map((r) => ({ deviceId: r.device_id, primary: r.primary_key, secondary: r.secondary_key }));
}

/** The sealed columns of device_credentials, for the secrets module's sealing and re-keying. */
export const deviceCredentialsStore = sealedStore({
  table: 'device_credentials',
  id: 'device_id',
  columns: ['primary_key', 'secondary_key'],
  summary: `SELECT key_id AS "keyId", count(*)::int AS count FROM (
      SELECT ${keyIdSql('primary_key')} AS key_id FROM device_credentials
      UNION ALL SELECT ${keyIdSql('secondary_key')} FROM device_credentials) k
    GROUP BY key_id`,
  page: `SELECT device_id, primary_key, secondary_key FROM device_credentials
    WHERE $1::text IS NULL OR device_id > $1 ORDER BY device_id LIMIT $2`,
  replace: `UPDATE device_credentials c SET primary_key = v.primary_after, secondary_key = v.secondary_after
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(device_id, primary_before, secondary_before, primary_after, secondary_after)
    WHERE c.device_id = v.device_id AND c.primary_key = v.primary_before AND c.secondary_key = v.secondary_before
    RETURNING 1`,
});

export async function insertClaimCodes(tx: Queryable, communityId: string, codes: readonly { codeHash: string; deviceId: string }[]): Promise<void> {
  await tx.query(
    `INSERT INTO claim_codes (code_hash, device_id, community_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[])`,
    [codes.map((c) => c.codeHash), codes.map((c) => c.deviceId), codes.map(() => communityId)],
  );
}

/** Marks an unused claim code used; returns its device and community, or undefined when unknown or used. */
export async function useClaimCode(tx: Queryable, codeHash: string): Promise<{ deviceId: string; communityId: string } | undefined> {
  const rows = await tx.query<{ device_id: string; community_id: string }>(
    'UPDATE claim_codes SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL RETURNING device_id, community_id', [codeHash]);
  return rows[0] && { deviceId: rows[0].device_id, communityId: rows[0].community_id };
}

export async function recordClaimant(tx: Queryable, codeHash: string, memberId: string): Promise<void> {
  await tx.query('UPDATE claim_codes SET used_by = $2 WHERE code_hash = $1', [codeHash, memberId]);
}
