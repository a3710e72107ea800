import type { Queryable } from '../../platform/store/db.js';
import type { DeviceRole } from '../../kernel/energy.js';
import { DEVICE_KINDS, type DeviceKind } from '@gridshare/contract/registry';
import type { DeviceSpecs } from '../domain/device-specs.js';

/** The only SQL on the devices and device_roles tables. */

export { DEVICE_KINDS, type DeviceKind };
export type DeviceStatus = 'active' | 'disabled';

export interface Device {
  id: string;
  communityId: string;
  meteringPointId: string | null;
  kind: DeviceKind;
  /** Its role on the site it is bound to; null while unbound. */
  role: DeviceRole | null;
  name: string;
  status: DeviceStatus;
  /** Its technical data (registry/domain/device-specs.ts); null: none recorded. */
  specs: DeviceSpecs | null;
  createdAt: string;
}

interface DeviceRow {
  id: string;
  community_id: string;
  metering_point_id: string | null;
  kind: DeviceKind;
  role: DeviceRole | null;
  name: string;
  status: DeviceStatus;
  specs: DeviceSpecs | null;
  created_at: Date;
}

const COLUMNS = 'd.id, d.community_id, d.metering_point_id, d.kind, d.role, d.name, d.status, d.specs, d.created_at';

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    communityId: row.community_id,
    meteringPointId: row.metering_point_id,
    kind: row.kind,
    role: row.role,
    name: row.name,
    status: row.status,
    specs: row.specs,
    createdAt: row.created_at.toISOString(),
  };
}

/** The member a device belongs to is the owner of the metering point it is bound to. */
const OWNED_BY = `EXISTS (SELECT 1 FROM metering_points mp JOIN members m ON m.id = mp.member_id
  WHERE mp.id = d.metering_point_id AND m.user_id = $2 AND m.state = 'active')`;

/** A device, and whether this user is the active member owning the site it is bound to. */
export async function deviceWithOwnership(db: Queryable, id: string, userId: string): Promise<(Device & { owned: boolean }) | undefined> {
  const rows = await db.query<DeviceRow & { owned: boolean }>(`SELECT ${COLUMNS}, ${OWNED_BY} AS owned FROM devices d WHERE d.id = $1`, [id, userId]);
  return rows[0] && { ...toDevice(rows[0]), owned: rows[0].owned };
}

/** A community's devices, oldest first: all of them, or (allOf false) those on this user's own sites. */
export async function devicesOfCommunity(db: Queryable, communityId: string, userId: string, allOf: boolean): Promise<Device[]> {
  const rows = await db.query<DeviceRow>(
    `SELECT ${COLUMNS} FROM devices d WHERE d.community_id = $1 AND ($3::boolean OR ${OWNED_BY}) ORDER BY d.created_at, d.id`,
    [communityId, userId, allOf],
  );
  return rows.map(toDevice);
}

/** Every device of a community, oldest first, for a capability working for the community itself (no caller to check). */
export async function communityDevices(db: Queryable, communityId: string): Promise<Device[]> {
  const rows = await db.query<DeviceRow>(`SELECT ${COLUMNS} FROM devices d WHERE d.community_id = $1 ORDER BY d.created_at, d.id`, [communityId]);
  return rows.map(toDevice);
}

/** Devices a community has now, for its quota (devicesPerCommunity). */
export async function countDevices(db: Queryable, communityId: string): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE community_id = $1', [communityId]))[0]!.n;
}

/** The site's billing meter other than this device, if it has one. */
export async function otherBillingMeter(db: Queryable, meteringPointId: string, deviceId: string): Promise<{ id: string; name: string } | undefined> {
  const rows = await db.query<{ id: string; name: string }>(
    `SELECT id, name FROM devices WHERE metering_point_id = $1 AND role = 'billing-meter' AND id <> $2`, [meteringPointId, deviceId]);
  return rows[0];
}

/** Sets a device's site and role (null: unbound); `claimed` notes when it was claimed now. */
export async function setDeviceBinding(db: Queryable, deviceId: string, meteringPointId: string | null, role: DeviceRole | null, claimed: boolean): Promise<void> {
  await db.query(
    `UPDATE devices SET metering_point_id = $2, role = $3, claimed_at = CASE WHEN $4::boolean THEN now() ELSE claimed_at END WHERE id = $1`,
    [deviceId, meteringPointId, role, claimed]);
}

/** Adds a device; `claimed`: it counts as claimed from now (the demo's devices). */
export async function insertDevice(
  db: Queryable,
  device: { id: string; communityId: string; meteringPointId: string | null; kind: DeviceKind; name: string; role: DeviceRole | null; claimed?: boolean },
): Promise<Device> {
  const rows = await db.query<DeviceRow>(
    `INSERT INTO devices AS d (id, community_id, metering_point_id, kind, name, role, claimed_at)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::boolean THEN now() END) RETURNING ${COLUMNS}`,
    [device.id, device.communityId, device.meteringPointId, device.kind, device.name, device.role, device.claimed ?? false],
  );
  return toDevice(rows[0]!);
}

/** The role the device has (had) on this site, as device_roles records it. */
export async function recordedRole(db: Queryable, meteringPointId: string, deviceId: string): Promise<DeviceRole | undefined> {
  const rows = await db.query<{ role: DeviceRole }>('SELECT role FROM device_roles WHERE metering_point_id = $1 AND device_id = $2', [meteringPointId, deviceId]);
  return rows[0]?.role;
}

/** Renames or (dis)ables a device (undefined keeps the stored value). */
export async function patchDevice(db: Queryable, id: string, patch: { name?: string | undefined; status?: DeviceStatus | undefined }): Promise<Device> {
  const rows = await db.query<DeviceRow>(
    `UPDATE devices AS d SET name = COALESCE($2, d.name), status = COALESCE($3, d.status) WHERE d.id = $1 RETURNING ${COLUMNS}`,
    [id, patch.name ?? null, patch.status ?? null],
  );
  return toDevice(rows[0]!);
}

/** Records a device's technical data (null clears it). */
export async function setDeviceSpecs(db: Queryable, id: string, specs: DeviceSpecs | null): Promise<Device> {
  const rows = await db.query<DeviceRow>(`UPDATE devices AS d SET specs = $2::jsonb WHERE d.id = $1 RETURNING ${COLUMNS}`, [id, specs === null ? null : JSON.stringify(specs)]);
  return toDevice(rows[0]!);
}

export async function deleteDeviceRow(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM devices WHERE id = $1', [id]);
}

export async function deviceById(db: Queryable, id: string): Promise<Device | undefined> {
  const rows = await db.query<DeviceRow>(`SELECT ${COLUMNS} FROM devices d WHERE d.id = $1`, [id]);
  return rows[0] && toDevice(rows[0]);
}

/** The devices among `ids` still registered, in id order. */
export async function devicesByIds(db: Queryable, ids: readonly string[]): Promise<Device[]> {
  const rows = await db.query<DeviceRow>(`SELECT ${COLUMNS} FROM devices d WHERE d.id = ANY($1::text[]) ORDER BY d.id`, [ids]);
  return rows.map(toDevice);
}

/**
 * Releases the devices bound to a site of these members (erasure): unbound (the triggers close the
 * binding and clear the role), so a manager can bind them elsewhere, and what they send from now
 * on is stored under no site. Their keys and history stay. Returns their ids.
 */
export async function releaseDevicesOfMembers(tx: Queryable, memberIds: readonly string[]): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `UPDATE devices d SET metering_point_id = NULL, role = NULL FROM metering_points mp
     WHERE mp.id = d.metering_point_id AND mp.member_id = ANY($1::uuid[]) RETURNING d.id`,
    [memberIds],
  );
  return rows.map((r) => r.id).sort();
}

/** Adds a provisioned batch's devices, unbound, named after their kind and id. */
export async function insertBatchDevices(tx: Queryable, batch: { batchId: string; communityId: string; kind: DeviceKind; deviceIds: readonly string[] }): Promise<void> {
  await tx.query(
    `INSERT INTO devices (id, community_id, kind, name, batch_id)
     SELECT id, $2, $3, $3 || ' ' || id, $4 FROM unnest($1::text[]) AS id`,
    [batch.deviceIds, batch.communityId, batch.kind, batch.batchId],
  );
}

/** A provisioned batch's devices still registered, by id, and whether each was claimed. */
export async function devicesOfBatch(db: Queryable, batchId: string): Promise<{ id: string; claimed: boolean }[]> {
  return db.query<{ id: string; claimed: boolean }>('SELECT id, claimed_at IS NOT NULL AS claimed FROM devices WHERE batch_id = $1 ORDER BY id', [batchId]);
}

/** The batch a device was provisioned in (null: created one by one, or unknown). */
export async function batchOfDevice(db: Queryable, deviceId: string): Promise<string | null> {
  return (await db.query<{ batch_id: string | null }>('SELECT batch_id FROM devices WHERE id = $1', [deviceId]))[0]?.batch_id ?? null;
}

/** Removes devices with what hangs on them (ON DELETE CASCADE). */
export async function deleteDevices(tx: Queryable, deviceIds: readonly string[]): Promise<void> {
  await tx.query('DELETE FROM devices WHERE id = ANY($1::text[])', [deviceIds]);
}

/** Every device's status, a page at a time in id order (the external broker's reconcile walks them all). */
export async function deviceStatusesAfter(db: Queryable, afterId: string, limit: number): Promise<{ id: string; status: DeviceStatus }[]> {
  return db.query<{ id: string; status: DeviceStatus }>('SELECT id, status FROM devices WHERE id > $1 ORDER BY id LIMIT $2', [afterId, limit]);
}
