import { brokerPassword, brokerUsername } from './broker-password.js';
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Principal, UserPrincipal } from '../kernel/principal.js';
import { activeMembership, isManagerOf, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { bindDevice, countDevices, deleteDevices, deviceById, devicesOfBatch, getDevice, insertBatchDevices, loadCommunity, meteringPointById, roleForBinding, type DeviceKind } from '../registry/index.js';
import { deleteReadingsOfDevices, devicesWithReadings } from '../ingest/index.js';
import { batchById, batchesInLastHour, batchesOfCommunity, insertBatch, insertClaimCodes, insertCredentials, markBatchRolledBack, nextBatchNumber, recordClaimant, recordIssuedIds, renameBatch as storeBatchName, useClaimCode, writeKeySlot, type BatchRecord } from './store.js';
import type { Quotas, Usage } from '../quotas/index.js';
import type { ArtefactStore } from './artefact-store.js';
import type { ArtefactBuilder } from './artefact-builder.js';
import { claimCodesFromZip, claimPage, claimUrl, deviceConfig, zipWithoutDevices, type DeviceConfig, type Endpoints } from './artefacts.js';
import { checkBatchName } from './domain/batch-name.js';
import { languageOfLocale, provisioningText, type ProvisioningLanguage } from './domain/catalog.js';
import type { StickerSheet } from './domain/sticker-sheet.js';
import { generateDeviceId, generateDeviceKey, hashClaimCode, normaliseClaimCode } from './keys.js';
import { formatConnectionString } from './connection-string.js';
import { readDeviceKeys, sealDeviceKeys, type KeySlot } from './credentials.js';
import { SealedValueError, type SecretBox } from '../secrets/index.js';
import { MAX_BATCH } from '@gridshare/contract/provisioning';

import type { DeviceRole } from '../kernel/energy.js';
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
  /** Batches provisioned, renamed and rolled back go on the audit trail, in their own transaction. */
  readonly events: EventPublisher;
}

export interface Batch extends BatchRecord {
  deviceIds: string[];
}

export type Progress = (done: number, total: number, phase: 'keys' | 'artefacts' | 'database') => void;

async function loadBatch(db: Queryable, id: string): Promise<Batch | undefined> {
  const batch = await batchById(db, id);
  return batch && { ...batch, deviceIds: (await devicesOfBatch(db, id)).map((d) => d.id) };
}

/** A batch as the trail keeps it: how many devices it holds, not their ids (a batch has up to thousands). */
const trailedBatch = ({ deviceIds, ...batch }: Batch) => ({ ...batch, devices: deviceIds.length });

export async function getBatch(db: Queryable, principal: Principal, id: string): Promise<Batch> {
  requireUser(principal);
  const batch = await loadBatch(db, id);
  if (!batch) throw new NotFoundError('batch');
  requireManager(principal, batch.communityId, 'batch');
  return batch;
}

export async function listBatches(db: Queryable, principal: Principal, communityId: string): Promise<Omit<Batch, 'deviceIds'>[]> {
  requireManager(principal, communityId);
  return batchesOfCommunity(db, communityId);
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
    ids.push(...(await recordIssuedIds(db, candidates)));
  }
  return ids;
}

/** Batches the account provisioned in the last hour (rolled back ones count too), for batchesPerHour. */
async function recentBatches(tx: Queryable, userId: string): Promise<Usage> {
  const { count, oldest } = await batchesInLastHour(tx, userId);
  return { used: count, retryAfterSeconds: oldest ? Math.max(1, Math.ceil((oldest.getTime() + 3_600_000 - Date.now()) / 1000)) : 1 };
}

/** The quotas a batch must fit, checked before the work and again, under their locks, with the rows. */
async function enforceBatchQuotas(ctx: ProvisioningContext, tx: Queryable, principal: UserPrincipal, communityId: string, count: number) {
  await ctx.quotas.enforce(tx, principal, 'batchesPerHour', principal.userId, 1, () => recentBatches(tx, principal.userId));
  await ctx.quotas.enforce(tx, principal, 'devicesPerCommunity', communityId, count, async () => ({ used: await countDevices(tx, communityId) }));
}

export interface BatchInput {
  count: number;
  kind: DeviceKind;
  /** Without one the batch is called "Batch n" in the community's language, n counting its batches. */
  name?: string | undefined;
}

/**
 * Whether a batch may start: the caller manages the community, the size and the name are allowed
 * and the quotas have room. Checked before any work is done, and counted again with the rows, as
 * others may have added some meanwhile. Returns the manager and the name as it will be stored.
 */
export async function assertBatchAllowed(ctx: ProvisioningContext, principal: Principal, communityId: string, input: BatchInput): Promise<{ manager: UserPrincipal; name: string | undefined }> {
  const manager = requireManager(principal, communityId);
  if (!Number.isInteger(input.count) || input.count < 1 || input.count > MAX_BATCH) {
    throw new BadRequestError(`body/count: 1 to ${MAX_BATCH} devices per batch`, 'body/count');
  }
  const name = input.name === undefined ? undefined : checkBatchName(input.name);
  await ctx.db.transaction((tx) => enforceBatchQuotas(ctx, tx, manager, communityId, input.count));
  return { manager, name };
}

/** The language of the texts the server writes for a community: its locale's, else English. */
async function communityLanguage(db: Queryable, communityId: string): Promise<ProvisioningLanguage> {
  return languageOfLocale((await loadCommunity(db, communityId))?.locale ?? 'en');
}

/** "Batch n" in the community's language, n counting its batches with this one. */
async function defaultBatchName(tx: Queryable, communityId: string): Promise<string> {
  const number = String(await nextBatchNumber(tx, communityId));
  return provisioningText(await communityLanguage(tx, communityId), 'batch.defaultName', { number });
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
  input: BatchInput,
  onProgress: Progress = () => undefined,
): Promise<Batch> {
  const { manager, name } = await assertBatchAllowed(ctx, principal, communityId, input);
  onProgress(0, input.count, 'keys');
  const built = await ctx.builder.build(manager.userId, { endpoints: ctx.endpoints, kind: input.kind, ids: await reserveIds(ctx.db, input.count) },
    ({ phase, done }) => onProgress(done, input.count, phase));
  onProgress(input.count, input.count, 'artefacts');
  const batchId = randomUUID();
  await ctx.store.save(batchId, built.zip);
  try {
    const batch = await ctx.events.transaction(ctx.db, async (tx, publish) => {
      await enforceBatchQuotas(ctx, tx, manager, communityId, input.count);
      await insertBatch(tx, { id: batchId, communityId, name: name ?? await defaultBatchName(tx, communityId), kind: input.kind, size: input.count, createdBy: manager.userId });
      for (let start = 0; start < built.devices.length; start += INSERT_CHUNK) {
        const chunk = built.devices.slice(start, start + INSERT_CHUNK);
        const ids = chunk.map((d) => d.id);
        await insertBatchDevices(tx, { batchId, communityId, kind: input.kind, deviceIds: ids });
        // Sealed here, a chunk at a time between queries, so the master key stays in this thread.
        const sealed = chunk.map((d) => sealDeviceKeys(ctx.secrets, d.id, { primary: d.primaryKey, secondary: d.secondaryKey }));
        await insertCredentials(tx, communityId, sealed.map((keys, k) => ({ deviceId: ids[k]!, ...keys })));
        await insertClaimCodes(tx, communityId, chunk.map((d) => ({ codeHash: d.claimCodeHash, deviceId: d.id })));
        onProgress(Math.min(start + INSERT_CHUNK, built.devices.length), built.devices.length, 'database');
      }
      const stored = (await loadBatch(tx, batchId))!;
      await recordChange(publish, { kind: 'device-batch', communityId, resourceId: batchId, action: 'provision', before: null, after: trailedBatch(stored) });
      return stored;
    });
    // New identities: an external broker that keeps its own password store learns them now.
    for (const device of built.devices) ctx.deviceChanged(device.id);
    return batch;
  } catch (error) {
    await ctx.store.remove(batchId);
    throw error;
  }
}

/** Gives a batch another name (its managers; a rolled back batch too, it stays in the list). */
export async function renameBatch(db: Db, events: EventPublisher, principal: Principal, batchId: string, name: string): Promise<Batch> {
  const batch = await getBatch(db, principal, batchId);
  const checked = checkBatchName(name);
  const after = { ...batch, name: checked };
  await events.transaction(db, async (tx, publish) => {
    await storeBatchName(tx, batch.id, checked);
    await recordChange(publish, { kind: 'device-batch', communityId: batch.communityId, resourceId: batch.id, action: 'rename', before: trailedBatch(batch), after: trailedBatch(after) });
  });
  return after;
}

/**
 * What a batch's sticker sheet shows, read afresh at every download: a sticker for each device
 * still in the batch, with its claim code from the batch ZIP (the only place the codes are kept)
 * and a claim URL to this installation's current address. Gone with the batch: a rolled back
 * batch, or one without devices or artefacts left, has no sheet.
 */
export async function stickerSheet(ctx: ProvisioningContext, principal: Principal, batchId: string, language?: ProvisioningLanguage): Promise<StickerSheet> {
  const batch = await getBatch(ctx.db, principal, batchId);
  const zip = batch.status === 'active' ? await ctx.store.load(batch.id) : undefined;
  const devices = new Set(batch.deviceIds);
  const codes = zip ? claimCodesFromZip(zip).filter((d) => devices.has(d.deviceId)) : [];
  if (codes.length === 0) throw new NotFoundError('sticker sheet (the batch was rolled back or has no devices left)');
  const lang = language ?? await communityLanguage(ctx.db, batch.communityId);
  // Printed for people to type: without the scheme.
  const address = claimPage(ctx.endpoints).replace(/^https?:\/\//, '');
  return {
    title: provisioningText(lang, 'stickers.title', { batch: batch.name }),
    batchName: batch.name,
    texts: {
      claimCode: provisioningText(lang, 'stickers.claimCode'),
      device: provisioningText(lang, 'stickers.device'),
      instructions: provisioningText(lang, 'stickers.instructions', { address }),
    },
    stickers: codes.map((d) => ({ deviceId: d.deviceId, claimCode: d.claimCode, claimUrl: claimUrl(ctx.endpoints, d.claimCode) })),
  };
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
  const result = await ctx.events.transaction(ctx.db, async (tx, publish) => {
    const devices = await devicesOfBatch(tx, batchId);
    const withReadings = await devicesWithReadings(tx, devices.map((d) => d.id));
    const kept: RollbackResult['kept'] = [];
    const removed: string[] = [];
    for (const row of devices) {
      if (!force && row.claimed) kept.push({ deviceId: row.id, reason: 'claimed' });
      else if (!force && withReadings.has(row.id)) kept.push({ deviceId: row.id, reason: 'has-readings' });
      else removed.push(row.id);
    }
    // Keys, claim codes and state go with the device (ON DELETE CASCADE); readings are not
    // tied by a foreign key (they outlive re-binding), so a forced rollback removes them here.
    await deleteReadingsOfDevices(tx, removed);
    await deleteDevices(tx, removed);
    const status = kept.length === 0 ? 'rolled-back' : 'active';
    if (status === 'rolled-back') {
      await markBatchRolledBack(tx, batchId);
    }
    await recordChange(publish, {
      kind: 'device-batch', communityId: batch.communityId, resourceId: batchId, action: force ? 'force-rollback' : 'rollback',
      before: trailedBatch(batch), after: trailedBatch((await loadBatch(tx, batchId))!),
    });
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
  await ctx.events.transaction(ctx.db, async (tx, publish) => {
    await writeKeySlot(tx, device, sealed, slot);
    // The trail sees that a key was replaced, and which; never the key.
    await recordChange(publish, { kind: 'key', communityId: device.communityId, resourceId: device.id, action: 'rotate-device-key', before: null, after: { slot, replacedAt: new Date().toISOString() } });
  });

  ctx.deviceChanged(device.id);
  return { deviceId: device.id, slot, connectionString: formatConnectionString({ hostName: ctx.endpoints.hostName, deviceId: device.id, sharedAccessKey: key }) };
}

/** The configuration file of one device with its current primary key (managers). */
export async function deviceConfiguration(ctx: ProvisioningContext, principal: Principal, deviceId: string): Promise<DeviceConfig & { secondaryConnectionString: string; secondaryBroker: { username: string; password: string } }> {
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
    // For a static password store (Mosquitto): the secondary key's account, usable while the primary is rotated.
    secondaryBroker: { username: brokerUsername(device.id, 'secondary'), password: brokerPassword(keys.secondary, device.id) },
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
  const device = await ctx.events.transaction(ctx.db, async (tx, publish) => {
    const claim = await useClaimCode(tx, hashClaimCode(code));
    const membership = claim && activeMembership(user, claim.communityId);
    if (!claim || !membership) throw new NotFoundError('claim code (unknown, already used, or for another community)');
    // Members bind to their own sites; managers to any site of the community.
    const point = await meteringPointById(tx, input.meteringPointId);
    const mayBind = point?.communityId === claim.communityId && (point.memberId === membership.memberId || isManagerOf(user, claim.communityId));
    if (!mayBind) throw new NotFoundError('metering point');
    await recordClaimant(tx, hashClaimCode(code), membership.memberId);
    // A claim code is deleted with its device, so the device is there.
    const { kind } = (await deviceById(tx, claim.deviceId))!;
    // A refused role (a second billing meter) rolls the claim back: the code still works.
    const role = await roleForBinding(tx, { id: claim.deviceId, kind }, input.meteringPointId, input.role);
    const before = await deviceById(tx, claim.deviceId);
    await bindDevice(tx, claim.deviceId, input.meteringPointId, role, { claimed: true });
    await recordChange(publish, {
      kind: 'device', communityId: claim.communityId, resourceId: claim.deviceId, action: 'claim', before, after: await deviceById(tx, claim.deviceId),
      subjectMemberId: point!.memberId,
    });
    return claim.deviceId;
  });
  ctx.deviceChanged(device);
  return getDevice(ctx.db, principal, device);
}

/**
 * Gives a device made outside a batch (the demo's) a fresh key pair, recording its id as issued
 * so that no batch ever draws it.
 */
export async function giveDeviceKeys(tx: Queryable, secrets: SecretBox, device: { id: string; communityId: string }): Promise<void> {
  await recordIssuedIds(tx, [device.id]);
  const keys = sealDeviceKeys(secrets, device.id, { primary: generateDeviceKey(), secondary: generateDeviceKey() });
  await insertCredentials(tx, device.communityId, [{ deviceId: device.id, ...keys }]);
}
