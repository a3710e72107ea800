import type { Queryable } from '../platform/store/db.js';
import type { DeviceRole } from '../kernel/energy.js';
import type { MeteringPointRole } from './metering-points.js';

/** A device as ingestion needs it: where its readings go and whether it may send. */
export interface IngestDevice {
  readonly id: string;
  readonly communityId: string;
  readonly meteringPointId: string | null;
  /** When its current binding began (epoch ms); null: its first binding, or unbound. */
  readonly boundFrom: number | null;
  readonly status: 'active' | 'disabled';
}

/** The device with its current binding, or undefined when there is no such device. */
export async function ingestDevice(db: Queryable, deviceId: string): Promise<IngestDevice | undefined> {
  const rows = await db.query<{ id: string; community_id: string; metering_point_id: string | null; status: 'active' | 'disabled'; bound_from: Date | null }>(
    `SELECT d.id, d.community_id, d.metering_point_id, d.status, b.bound_from
     FROM devices d LEFT JOIN device_bindings b ON b.device_id = d.id AND b.bound_until IS NULL
     WHERE d.id = $1`,
    [deviceId],
  );
  const row = rows[0];
  return row && { id: row.id, communityId: row.community_id, meteringPointId: row.metering_point_id, boundFrom: row.bound_from?.getTime() ?? null, status: row.status };
}

/** Who a metering point belongs to and what it is called. */
export interface MeteringPointSummary {
  readonly id: string;
  readonly communityId: string;
  readonly memberId: string;
  readonly name: string;
}

/** The metering points among `ids`, by id; ids of points that no longer exist are absent. */
export async function meteringPointSummaries(db: Queryable, ids: readonly string[]): Promise<Map<string, MeteringPointSummary>> {
  const rows = await db.query<{ id: string; community_id: string; member_id: string; name: string }>(
    'SELECT id, community_id, member_id, name FROM metering_points WHERE id = ANY($1::uuid[])', [ids],
  );
  return new Map(rows.map((r) => [r.id, { id: r.id, communityId: r.community_id, memberId: r.member_id, name: r.name }]));
}

/** What the interval computation needs of a site: its limits and the roles its devices have (had) there. */
export interface MeteringPointSite {
  readonly id: string;
  readonly role: MeteringPointRole;
  readonly pvCapacityW: number | null;
  readonly connectionCapacityW: number | null;
  readonly deviceRoles: ReadonlyMap<string, DeviceRole>;
}

/** The sites of the metering points among `ids`, in one query; points that no longer exist are absent. */
export async function meteringPointSites(db: Queryable, ids: readonly string[]): Promise<MeteringPointSite[]> {
  const rows = await db.query<{ id: string; role: MeteringPointRole; pv_capacity_w: number | null; connection_capacity_w: number | null; devices: [string, DeviceRole][] }>(
    `SELECT mp.id, mp.role, mp.pv_capacity_w, mp.connection_capacity_w,
       COALESCE((SELECT json_agg(json_build_array(dr.device_id, dr.role)) FROM device_roles dr WHERE dr.metering_point_id = mp.id), '[]') AS devices
     FROM metering_points mp WHERE mp.id = ANY($1::uuid[])`,
    [ids],
  );
  return rows.map((r) => ({ id: r.id, role: r.role, pvCapacityW: r.pv_capacity_w, connectionCapacityW: r.connection_capacity_w, deviceRoles: new Map(r.devices) }));
}
