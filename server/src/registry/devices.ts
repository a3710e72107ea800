import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { Quotas } from '../quotas/index.js';
import type { Principal } from '../kernel/principal.js';
import { activeMembership, isManagerOf, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import type { DeviceRole } from '../kernel/energy.js';
import { conflictOnDuplicate } from '../platform/store/errors.js';
import { getCommunity } from './communities.js';
import { DEVICE_KINDS, DEVICE_ROLES, type DeviceKind } from '@gridshare/contract/registry';

export { DEVICE_KINDS, DEVICE_ROLES, type DeviceKind, type DeviceRole };
export type DeviceStatus = 'active' | 'disabled';

/** The role a device of a kind takes when it is bound without one (as the database's default does). */
export function defaultRole(kind: DeviceKind): DeviceRole {
  if (kind === 'meter-reader') return 'billing-meter';
  if (kind === 'inverter') return 'production';
  if (kind === 'battery') return 'storage';
  return 'sub-load';
}

export interface Device {
  id: string;
  communityId: string;
  meteringPointId: string | null;
  kind: DeviceKind;
  /** Its role on the site it is bound to; null while unbound. */
  role: DeviceRole | null;
  name: string;
  status: DeviceStatus;
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
  created_at: Date;
}

const COLUMNS = 'd.id, d.community_id, d.metering_point_id, d.kind, d.role, d.name, d.status, d.created_at';

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    communityId: row.community_id,
    meteringPointId: row.metering_point_id,
    kind: row.kind,
    role: row.role,
    name: row.name,
    status: row.status,
    createdAt: row.created_at.toISOString(),
  };
}

/** The member a device belongs to is the owner of the metering point it is bound to. */
const OWNED_BY = `EXISTS (SELECT 1 FROM metering_points mp JOIN members m ON m.id = mp.member_id
  WHERE mp.id = d.metering_point_id AND m.user_id = $2 AND m.state = 'active')`;

export async function getDevice(db: Queryable, principal: Principal, id: string): Promise<Device> {
  const user = requireUser(principal);
  const rows = await db.query<DeviceRow & { owned: boolean }>(`SELECT ${COLUMNS}, ${OWNED_BY} AS owned FROM devices d WHERE d.id = $1`, [id, user.userId]);
  const row = rows[0];
  if (!row || !(row.owned || isManagerOf(principal, row.community_id))) throw new NotFoundError('device');
  return toDevice(row);
}

export async function listDevices(db: Queryable, principal: Principal, communityId: string): Promise<Device[]> {
  const user = requireUser(principal);
  await getCommunity(db, principal, communityId);
  const all = isManagerOf(principal, communityId);
  if (!all && !activeMembership(principal, communityId)) throw new NotFoundError('community');
  const rows = await db.query<DeviceRow>(
    `SELECT ${COLUMNS} FROM devices d WHERE d.community_id = $1 AND ($3::boolean OR ${OWNED_BY}) ORDER BY d.created_at, d.id`,
    [communityId, user.userId, all],
  );
  return rows.map(toDevice);
}

/** Device ids are not guessable and never reused: 80 random bits. */
export function newDeviceId(): string {
  return `gs-${randomBytes(10).toString('hex')}`;
}

async function assertMeteringPointInCommunity(db: Queryable, communityId: string, meteringPointId: string | null | undefined) {
  if (!meteringPointId) return;
  const rows = await db.query('SELECT 1 FROM metering_points WHERE id = $1 AND community_id = $2', [meteringPointId, communityId]);
  if (rows.length === 0) throw new NotFoundError('metering point');
}

/** Devices a community has now, for its quota (devicesPerCommunity). */
export async function countDevices(db: Queryable, communityId: string): Promise<number> {
  return (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices WHERE community_id = $1', [communityId]))[0]!.n;
}

const SECOND_BILLING_METER = 'this metering point already has a billing meter';

/**
 * The role a device takes on a site: the one asked for, else its kind's default. A site has one
 * billing meter: asking for a second is refused, naming the one it has (the database's unique
 * index refuses the same under concurrent writes).
 */
export async function roleForBinding(db: Queryable, device: { id: string; kind: DeviceKind }, meteringPointId: string, requested: DeviceRole | undefined): Promise<DeviceRole> {
  const role = requested ?? defaultRole(device.kind);
  if (role !== 'billing-meter') return role;
  const holders = await db.query<{ id: string; name: string }>(
    `SELECT id, name FROM devices WHERE metering_point_id = $1 AND role = 'billing-meter' AND id <> $2`, [meteringPointId, device.id]);
  const holder = holders[0];
  if (holder) {
    throw new ConflictError(`${SECOND_BILLING_METER}, device ${holder.id} ("${holder.name}"); a site has one. Bind this device in another role `
      + '(production: a PV inverter; storage: a battery; sub-load: a sub-meter, a charger, a heat pump), or unbind or re-role that device first');
  }
  return role;
}

/** Binds a device to a site in a role (or unbinds it), refusing a second billing meter whatever races it. */
export async function bindDevice(db: Queryable, deviceId: string, meteringPointId: string | null, role: DeviceRole | null, options: { claimed?: boolean } = {}): Promise<void> {
  await conflictOnDuplicate(SECOND_BILLING_METER, () => db.query(
    `UPDATE devices SET metering_point_id = $2, role = $3, claimed_at = CASE WHEN $4::boolean THEN now() ELSE claimed_at END WHERE id = $1`,
    [deviceId, meteringPointId, role, options.claimed ?? false]));
}

export async function createDevice(
  db: Db,
  quotas: Quotas,
  principal: Principal,
  communityId: string,
  input: { kind: DeviceKind; name: string; meteringPointId?: string | null | undefined; role?: DeviceRole | undefined },
): Promise<Device> {
  requireManager(principal, communityId);
  await assertMeteringPointInCommunity(db, communityId, input.meteringPointId);
  const id = newDeviceId();
  const role = input.meteringPointId ? await roleForBinding(db, { id, kind: input.kind }, input.meteringPointId, input.role) : null;
  if (!input.meteringPointId && input.role) throw new BadRequestError('body/role: a role is a device\'s role on a site; give meteringPointId too', 'body/role');
  return db.transaction(async (tx) => {
    await quotas.enforce(tx, principal, 'devicesPerCommunity', communityId, 1, async () => ({ used: await countDevices(tx, communityId) }));
    const rows = await conflictOnDuplicate(SECOND_BILLING_METER, () => tx.query<DeviceRow>(
      `INSERT INTO devices AS d (id, community_id, metering_point_id, kind, name, role) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [id, communityId, input.meteringPointId ?? null, input.kind, input.name, role],
    ));
    return toDevice(rows[0]!);
  });
}

/** What an update changed for the intervals: the site whose readings of this device now mean something else. */
export interface DeviceUpdate {
  device: Device;
  /** Set when the device's role at a site where it has (had) readings changed. */
  roleChangedAt: string | undefined;
}

export async function updateDevice(
  db: Queryable,
  principal: Principal,
  id: string,
  patch: { name?: string | undefined; meteringPointId?: string | null | undefined; status?: DeviceStatus | undefined; role?: DeviceRole | undefined },
): Promise<DeviceUpdate> {
  const device = await getDevice(db, principal, id);
  requireManager(principal, device.communityId, 'device');
  await assertMeteringPointInCommunity(db, device.communityId, patch.meteringPointId);
  const pointId = patch.meteringPointId !== undefined ? patch.meteringPointId : device.meteringPointId;
  if (patch.role !== undefined && pointId === null) {
    throw new BadRequestError('body/role: the device is bound to no metering point; give meteringPointId too', 'body/role');
  }
  let roleChangedAt: string | undefined;
  if (patch.meteringPointId !== undefined || patch.role !== undefined) {
    const role = pointId === null ? null : await roleForBinding(db, device, pointId,
      patch.role ?? (patch.meteringPointId === undefined || patch.meteringPointId === device.meteringPointId ? device.role ?? undefined : undefined));
    if (pointId !== null) {
      const before = await db.query<{ role: DeviceRole }>('SELECT role FROM device_roles WHERE metering_point_id = $1 AND device_id = $2', [pointId, id]);
      if (before[0] && before[0].role !== role) roleChangedAt = pointId;
    }
    await bindDevice(db, id, pointId, role);
  }
  const rows = await db.query<DeviceRow>(
    `UPDATE devices AS d SET name = COALESCE($2, d.name), status = COALESCE($3, d.status) WHERE d.id = $1 RETURNING ${COLUMNS}`,
    [id, patch.name ?? null, patch.status ?? null],
  );
  return { device: toDevice(rows[0]!), roleChangedAt };
}

export async function deleteDevice(db: Queryable, principal: Principal, id: string): Promise<void> {
  const device = await getDevice(db, principal, id);
  requireManager(principal, device.communityId, 'device');
  await db.query('DELETE FROM devices WHERE id = $1', [id]);
}

