import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../store/db.js';
import type { Quotas } from '../quotas/service.js';
import type { Principal } from '../accounts/principal.js';
import { activeMembership, isManagerOf, requireManager, requireUser } from '../accounts/policy.js';
import { NotFoundError } from '../errors.js';
import { getCommunity } from './communities.js';

export const DEVICE_KINDS = ['meter-reader', 'inverter', 'battery', 'ev-charger', 'smart-plug', 'heat-pump'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];
export type DeviceStatus = 'active' | 'disabled';

export interface Device {
  id: string;
  communityId: string;
  meteringPointId: string | null;
  kind: DeviceKind;
  name: string;
  status: DeviceStatus;
  createdAt: string;
}

interface DeviceRow {
  id: string;
  community_id: string;
  metering_point_id: string | null;
  kind: DeviceKind;
  name: string;
  status: DeviceStatus;
  created_at: Date;
}

const COLUMNS = 'd.id, d.community_id, d.metering_point_id, d.kind, d.name, d.status, d.created_at';

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    communityId: row.community_id,
    meteringPointId: row.metering_point_id,
    kind: row.kind,
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

export async function createDevice(
  db: Db,
  quotas: Quotas,
  principal: Principal,
  communityId: string,
  input: { kind: DeviceKind; name: string; meteringPointId?: string | null | undefined },
): Promise<Device> {
  requireManager(principal, communityId);
  await assertMeteringPointInCommunity(db, communityId, input.meteringPointId);
  return db.transaction(async (tx) => {
    await quotas.enforce(tx, principal, 'devicesPerCommunity', communityId, 1, async () => ({ used: await countDevices(tx, communityId) }));
    const rows = await tx.query<DeviceRow>(
      `INSERT INTO devices AS d (id, community_id, metering_point_id, kind, name) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [newDeviceId(), communityId, input.meteringPointId ?? null, input.kind, input.name],
    );
    return toDevice(rows[0]!);
  });
}

export async function updateDevice(
  db: Queryable,
  principal: Principal,
  id: string,
  patch: { name?: string | undefined; meteringPointId?: string | null | undefined; status?: DeviceStatus | undefined },
): Promise<Device> {
  const device = await getDevice(db, principal, id);
  requireManager(principal, device.communityId, 'device');
  await assertMeteringPointInCommunity(db, device.communityId, patch.meteringPointId);
  const rows = await db.query<DeviceRow>(
    `UPDATE devices AS d SET name = COALESCE($2, d.name), status = COALESCE($3, d.status),
       metering_point_id = CASE WHEN $4::boolean THEN $5::uuid ELSE d.metering_point_id END
     WHERE d.id = $1 RETURNING ${COLUMNS}`,
    [id, patch.name ?? null, patch.status ?? null, patch.meteringPointId !== undefined, patch.meteringPointId ?? null],
  );
  return toDevice(rows[0]!);
}

export async function deleteDevice(db: Queryable, principal: Principal, id: string): Promise<void> {
  const device = await getDevice(db, principal, id);
  requireManager(principal, device.communityId, 'device');
  await db.query('DELETE FROM devices WHERE id = $1', [id]);
}

