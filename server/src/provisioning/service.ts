import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal, UserPrincipal } from '../kernel/principal.js';
import { activeMembership, isManagerOf, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { bindDevice, countDevices, getDevice, roleForBinding, type DeviceKind } from '../registry/index.js';
import type { Quotas, Usage } from '../quotas/index.js';
import type { ArtefactStore } from './artefact-store.js';
import type { ArtefactBuilder } from './artefact-builder.js';
import { deviceConfig, zipWithoutDevices, type DeviceConfig, type Endpoints } from './artefacts.js';
import { generateDeviceId, generateDeviceKey, hashClaimCode, normaliseClaimCode } from './keys.js';
import { formatConnectionString } from './connection-string.js';
import { readDeviceKeys, sealDeviceKeys, type KeySlot } from './credentials.js';
import { SealedValueError, type SecretBox } from '../secrets/index.js';
import { MAX_BATCH } from '@gridshare/contract/provisioning';

import { type DeviceRole } from '../kernel/energy.js';
export { MAX_BATCH };
const INSERT_CHUNK = 2_000;

export interface ProvisioningContext {
  readonly db: Db;
  readonly store: ArtefactStore;
  readonly endpoints: Endpoints;
  /** Tells the ingest side that a device's identity or binding changed. */
  readonly deviceChanged: (deviceId: string) => void;
  readonly quotas: Quotas;
  /** Builds keys and artefacts off the event loop; it never sees the master key. */
  readonly builder: ArtefactBuilder;
  /** Seals device keys for storage. */
  readonly secrets: SecretBox;
}

export interface Batch {
  id: string;
  communityId: string;
  kind: DeviceKind;
  size: number;
  status: 'active' | 'rolled-back';
  createdAt: string;
  rolledBackAt: string | null;
  deviceIds: string[];
}

export type Progress = (done: number, total: number, phase: 'keys' | 'artefacts' | 'database') => void;

interface BatchRow {
  id: string;
  community_id: string;
  kind: DeviceKind;
  size: number;
  status: 'active' | 'rolled-back';
  created_at: Date;
  rolled_back_at: Date | null;
}

async function loadBatch(db: Queryable, id: string): Promise<Batch | undefined> {
  const rows = await db.query<BatchRow>('SELECT * FROM device_batches WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) return undefined;
  const devices = await db.query<{ id: string }>('SELECT id FROM devices WHERE batch_id = $1 ORDER BY id', [id]);
  return {
    id: row.id,
    communityId: row.community_id,
    kind: row.kind,
    size: row.size,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    rolledBackAt: row.rolled_back_at?.toISOString() ?? null,
    deviceIds: devices.map((d) => d.id),
  };
}

export async function getBatch(db: Queryable, principal: Principal, id: string): Promise<Batch> {
  requireUser(principal);
  const batch = await loadBatch(db, id);
  if (!batch) throw new NotFoundError('batch');
  requireManager(principal, batch.communityId, 'batch');
  return batch;
}

export async function listBatches(db: Queryable, principal: Principal, communityId: string): Promise<Omit<Batch, 'deviceIds'>[]> {
  requireManager(principal, communityId);
  const rows = await db.query<BatchRow>('SELECT * FROM device_batches WHERE community_id = $1 ORDER BY created_at DESC', [communityId]);
  return rows.map((row) => ({
    id: row.id, communityId: row.community_id, kind: row.kind, size: row.size, status: row.status,
    createdAt: row.created_at.toISOString(), rolledBackAt: row.rolled_back_at?.toISOString() ?? null,
  }));
}

/**
 * Reserves ids in the register of every id ever issued; a collision (80 random bits) is simply
 * drawn again. Committed at once: an id reserved for a batch that then fails is never used again,
 * which is the rule anyway.
 */
async function reserveIds(db: Queryable, count: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < count) {
    const candidates = Array.from({ length: Math.min(count - ids.length, INSERT_CHUNK) }, generateDeviceId);
    const rows = await db.query<{ id: string }>(
      'INSERT INTO device_ids_issued (id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING id',
      [candidates],
    );
    ids.push(...rows.map((r) => r.id));
  }
  return ids;
}

/** Batches the account provisioned in the last hour (rolled back ones count too), for batchesPerHour. */
async function recentBatches(tx: Queryable, userId: string): Promise<Usage> {
  const rows = await tx.query<{ n: number; oldest: Date | null }>(
    `SELECT count(*)::int AS n, min(created_at) AS oldest FROM device_batches WHERE created_by = $1 AND created_at > now() - interval '1 hour'`,
    [userId],
  );
  const { n, oldest } = rows[0]!;
  return { used: n, retryAfterSeconds: oldest ? Math.max(1, Math.ceil((oldest.getTime() + 3_600_000 - Date.now()) / 1000)) : 1 };
}

/** The quotas a batch must fit, checked before the work and again, under their locks, with the rows. */
async function enforceBatchQuotas(ctx: ProvisioningContext, tx: Queryable, principal: UserPrincipal, communityId: string, count: number) {
  await ctx.quotas.enforce(tx, principal, 'batchesPerHour', principal.userId, 1, () => recentBatches(tx, principal.userId));
  await ctx.quotas.enforce(tx, principal, 'devicesPerCommunity', communityId, count, async () => ({ used: await countDevices(tx, communityId) }));
}

/**
 * Whether a batch may start: the caller manages the community, the size is allowed and the
 * quotas have room. Checked before any work is done, and counted again with the rows, as others
 * may have added some meanwhile.
 */
export async function assertBatchAllowed(ctx: ProvisioningContext, principal: Principal, communityId: string, count: number): Promise<UserPrincipal> {
  const manager = requireManager(principal, communityId);
  if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH) {
    throw new BadRequestError(`body/count: 1 to ${MAX_BATCH} devices per batch`, 'body/count');
  }
  await ctx.db.transaction((tx) => enforceBatchQuotas(ctx, tx, manager, communityId, count));
  return manager;
}

/**
 * Creates `count` devices with keys, claim codes and artefacts, all or nothing. The keys and
 * artefacts are built in a worker thread, the ZIP saved, then the rows go in in one transaction;
 * the ZIP is removed again if that fails. Only the last step holds the database.
 */
export async function provisionBatch(
  ctx: ProvisioningContext,
  principal: Principal,
  communityId: string,
  input: { count: number; kind: DeviceKind },
  onProgress: Progress = () => undefined,
): Promise<Batch> {
  const manager = await assertBatchAllowed(ctx, principal, communityId, input.count);
  onProgress(0, input.count, 'keys');
  const built = await ctx.builder.build(manager.userId, { endpoints: ctx.endpoints, kind: input.kind, ids: await reserveIds(ctx.db, input.count) },
    ({ phase, done }) => onProgress(done, input.count, phase));
  onProgress(input.count, input.count, 'artefacts');
  const batchId = randomUUID();
  await ctx.store.save(batchId, built.zip);
  try {
    return await ctx.db.transaction(async (tx) => {
      await enforceBatchQuotas(ctx, tx, manager, communityId, input.count);
      await tx.query(
        'INSERT INTO device_batches (id, community_id, kind, size, created_by) VALUES ($1, $2, $3, $4, $5)',
        [batchId, communityId, input.kind, input.count, manager.userId],
      );
      for (let start = 0; start < built.devices.length; start += INSERT_CHUNK) {
        const chunk = built.devices.slice(start, start + INSERT_CHUNK);
        const ids = chunk.map((d) => d.id);
        await tx.query(
          `INSERT INTO devices (id, community_id, kind, name, batch_id)
           SELECT id, $2, $3, $3 || ' ' || id, $4 FROM unnest($1::text[]) AS id`,
          [ids, communityId, input.kind, batchId],
        );
        // Sealed here, a chunk at a time between queries, so the master key stays in this thread.
        const sealed = chunk.map((d) => sealDeviceKeys(ctx.secrets, d.id, { primary: d.primaryKey, secondary: d.secondaryKey }));
        await tx.query(
          `INSERT INTO device_credentials (device_id, community_id, primary_key, secondary_key)
           SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[])`,
          [ids, ids.map(() => communityId), sealed.map((k) => k.primary), sealed.map((k) => k.secondary)],
        );
        await tx.query(
          `INSERT INTO claim_codes (code_hash, device_id, community_id)
           SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[])`,
          [chunk.map((d) => d.claimCodeHash), ids, ids.map(() => communityId)],
        );
        onProgress(Math.min(start + INSERT_CHUNK, built.devices.length), built.devices.length, 'database');
      }
      return (await loadBatch(tx, batchId))!;
    });
  } catch (error) {
    await ctx.store.remove(batchId);
    throw error;
  }
}

export interface RollbackResult {
  batchId: string;
  removed: string[];
  kept: { deviceId: string; reason: 'claimed' | 'has-readings' }[];
  status: 'active' | 'rolled-back';
}

/**
 * Removes a batch's devices with their keys, claim codes and artefacts. A device that was
 * claimed or has sent readings is kept unless `force`, and the answer says which and why.
 */
export async function rollbackBatch(ctx: ProvisioningContext, principal: Principal, batchId: string, force: boolean): Promise<RollbackResult> {
  const batch = await getBatch(ctx.db, principal, batchId);
  if (batch.status === 'rolled-back') throw new ConflictError('this batch was already rolled back');
  const result = await ctx.db.transaction(async (tx) => {
    const rows = await tx.query<{ id: string; claimed: boolean; has_readings: boolean }>(
      `SELECT d.id, d.claimed_at IS NOT NULL AS claimed,
         EXISTS (SELECT 1 FROM readings r WHERE r.device_id = d.id) AS has_readings
       FROM devices d WHERE d.batch_id = $1 ORDER BY d.id`,
      [batchId],
    );
    const kept: RollbackResult['kept'] = [];
    const removed: string[] = [];
    for (const row of rows) {
      if (!force && row.claimed) kept.push({ deviceId: row.id, reason: 'claimed' });
      else if (!force && row.has_readings) kept.push({ deviceId: row.id, reason: 'has-readings' });
      else removed.push(row.id);
    }
    // Keys, claim codes and state go with the device (ON DELETE CASCADE); readings are not
    // tied by a foreign key (they outlive re-binding), so a forced rollback removes them here.
    await tx.query('DELETE FROM readings WHERE device_id = ANY($1::text[])', [removed]);
    await tx.query('DELETE FROM devices WHERE id = ANY($1::text[])', [removed]);
    const status = kept.length === 0 ? 'rolled-back' : 'active';
    if (status === 'rolled-back') {
      await tx.query(`UPDATE device_batches SET status = 'rolled-back', rolled_back_at = now() WHERE id = $1`, [batchId]);
    }
    return { batchId, removed, kept, status } satisfies RollbackResult;
  });
  if (result.status === 'rolled-back') {
    await ctx.store.remove(batchId);
  } else if (result.removed.length > 0) {
    const zip = await ctx.store.load(batchId);
    if (zip) await ctx.store.save(batchId, zipWithoutDevices(zip, new Set(result.removed)));
  }
  for (const id of result.removed) ctx.deviceChanged(id);
  return result;
}

export type { KeySlot } from './credentials.js';

/** A new random key in one slot; the other slot keeps working, so devices can move over without downtime. */
export async function rotateKey(ctx: ProvisioningContext, principal: Principal, deviceId: string, slot: KeySlot): Promise<{ deviceId: string; slot: KeySlot; connectionString: string }> {
  const device = await getDevice(ctx.db, principal, deviceId);
  requireManager(principal, device.communityId, 'device');
  const key = generateDeviceKey();
  // The other slot is only written when the device had no credentials yet.
  const sealed = sealDeviceKeys(ctx.secrets, device.id, slot === 'primary' ? { primary: key, secondary: generateDeviceKey() } : { primary: generateDeviceKey(), secondary: key });
  await ctx.db.query(
    `INSERT INTO device_credentials (device_id, community_id, primary_key, secondary_key)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (device_id) DO UPDATE SET
       primary_key = CASE WHEN $5 = 'primary' THEN EXCLUDED.primary_key ELSE device_credentials.primary_key END,
       primary_rotated_at = CASE WHEN $5 = 'primary' THEN now() ELSE device_credentials.primary_rotated_at END,
       secondary_key = CASE WHEN $5 = 'secondary' THEN EXCLUDED.secondary_key ELSE device_credentials.secondary_key END,
       secondary_rotated_at = CASE WHEN $5 = 'secondary' THEN now() ELSE device_credentials.secondary_rotated_at END`,
    [device.id, device.communityId, sealed.primary, sealed.secondary, slot],
  );
  ctx.deviceChanged(device.id);
  return { deviceId: device.id, slot, connectionString: formatConnectionString({ hostName: ctx.endpoints.hostName, deviceId: device.id, sharedAccessKey: key }) };
}

/** The configuration file of one device with its current primary key (managers). */
export async function deviceConfiguration(ctx: ProvisioningContext, principal: Principal, deviceId: string): Promise<DeviceConfig & { secondaryConnectionString: string }> {
  const device = await getDevice(ctx.db, principal, deviceId);
  requireManager(principal, device.communityId, 'device');
  const keys = await readDeviceKeys(ctx.db, ctx.secrets, [device.id]).then((found) => found.get(device.id), (error: unknown) => {
    if (error instanceof SealedValueError) throw new ConflictError('the stored keys of this device do not open (altered in the database?): rotate both keys');
    throw error;
  });
  if (!keys) throw new NotFoundError('device credentials (rotate a key to create them)');
  return {
    ...deviceConfig(ctx.endpoints, { id: device.id, kind: device.kind, primaryKey: keys.primary }),
    secondaryConnectionString: formatConnectionString({ hostName: ctx.endpoints.hostName, deviceId: device.id, sharedAccessKey: keys.secondary }),
  };
}

/**
 * A member claims a device with the code from its sticker and binds it to one of their metering
 * points. The code works once; an unknown, used or foreign code gives the same answer.
 */
export async function claimDevice(ctx: ProvisioningContext, principal: Principal, input: { code: string; meteringPointId: string; role?: DeviceRole | undefined }) {
  const user = requireUser(principal);
  const code = normaliseClaimCode(input.code);
  if (!code) throw new BadRequestError('body/code: a claim code looks like 7K2Q-M9XD-4RTA', 'body/code');
  const device = await ctx.db.transaction(async (tx) => {
    const claims = await tx.query<{ device_id: string; community_id: string; kind: DeviceKind }>(
      `UPDATE claim_codes c SET used_at = now() FROM devices d WHERE c.code_hash = $1 AND c.used_at IS NULL AND d.id = c.device_id
       RETURNING c.device_id, c.community_id, d.kind`,
      [hashClaimCode(code)],
    );
    const claim = claims[0];
    const membership = claim && activeMembership(user, claim.community_id);
    if (!claim || !membership) throw new NotFoundError('claim code (unknown, already used, or for another community)');
    // Members bind to their own sites; managers to any site of the community.
    const points = await tx.query(
      'SELECT 1 FROM metering_points WHERE id = $1 AND community_id = $2 AND (member_id = $3 OR $4::boolean)',
      [input.meteringPointId, claim.community_id, membership.memberId, isManagerOf(user, claim.community_id)],
    );
    if (points.length === 0) throw new NotFoundError('metering point');
    await tx.query('UPDATE claim_codes SET used_by = $2 WHERE code_hash = $1', [hashClaimCode(code), membership.memberId]);
    // A refused role (a second billing meter) rolls the claim back: the code still works.
    const role = await roleForBinding(tx, { id: claim.device_id, kind: claim.kind }, input.meteringPointId, input.role);
    await bindDevice(tx, claim.device_id, input.meteringPointId, role, { claimed: true });
    return claim.device_id;
  });
  ctx.deviceChanged(device);
  return getDevice(ctx.db, principal, device);
}
