import type { Queryable } from '../../platform/store/db.js';

/** The only SQL on the metering_points table. */

import { connectionCapacityW, type MeteringPointRole } from '../domain/site-limits.js';

export interface MeteringPoint {
  id: string;
  communityId: string;
  memberId: string;
  name: string;
  address: string;
  gridConnectionId: string;
  /** The point's second id for what it feeds in (Austria: the generation Zählpunkt); producers and prosumers only. */
  generationGridConnectionId: string | null;
  role: MeteringPointRole;
  pvCapacityW: number | null;
  batteryCapacityWh: number | null;
  communityBattery: boolean;
  /** As set for the connection; null: the role's default. */
  connectionCapacityW: number | null;
  /** What the plausibility check uses (see connectionCapacityW()). */
  effectiveConnectionCapacityW: number;
  /** What the connection may feed in, W; null: its capacity (a plan keeps both). */
  exportLimitW: number | null;
  createdAt: string;
}

export interface MeteringPointInput {
  memberId?: string | undefined;
  name: string;
  address?: string | undefined;
  gridConnectionId: string;
  generationGridConnectionId?: string | null | undefined;
  role: MeteringPointRole;
  pvCapacityW?: number | null | undefined;
  batteryCapacityWh?: number | null | undefined;
  communityBattery?: boolean | undefined;
  connectionCapacityW?: number | null | undefined;
  exportLimitW?: number | null | undefined;
}

interface MeteringPointRow {
  id: string;
  community_id: string;
  member_id: string;
  name: string;
  address: string;
  grid_connection_id: string;
  generation_grid_connection_id: string | null;
  role: MeteringPointRole;
  pv_capacity_w: number | null;
  battery_capacity_wh: number | null;
  community_battery: boolean;
  connection_capacity_w: number | null;
  export_limit_w: number | null;
  created_at: Date;
}

const COLUMNS = `id, community_id, member_id, name, address, grid_connection_id, generation_grid_connection_id, role, pv_capacity_w,
  battery_capacity_wh, community_battery, connection_capacity_w, export_limit_w, created_at`;
const SELECT = `SELECT ${COLUMNS} FROM metering_points`;

function toMeteringPoint(row: MeteringPointRow): MeteringPoint {
  return {
    id: row.id,
    communityId: row.community_id,
    memberId: row.member_id,
    name: row.name,
    address: row.address,
    gridConnectionId: row.grid_connection_id,
    generationGridConnectionId: row.generation_grid_connection_id,
    role: row.role,
    pvCapacityW: row.pv_capacity_w,
    batteryCapacityWh: row.battery_capacity_wh,
    communityBattery: row.community_battery,
    connectionCapacityW: row.connection_capacity_w,
    effectiveConnectionCapacityW: connectionCapacityW({ role: row.role, pvCapacityW: row.pv_capacity_w, connectionCapacityW: row.connection_capacity_w }),
    exportLimitW: row.export_limit_w,
    createdAt: row.created_at.toISOString(),
  };
}

export async function meteringPointById(db: Queryable, id: string): Promise<MeteringPoint | undefined> {
  const rows = await db.query<MeteringPointRow>(`${SELECT} WHERE id = $1`, [id]);
  return rows[0] && toMeteringPoint(rows[0]);
}

/** Every metering point of a community, oldest first. */
export async function meteringPointsOfCommunity(db: Queryable, communityId: string): Promise<MeteringPoint[]> {
  const rows = await db.query<MeteringPointRow>(`${SELECT} WHERE community_id = $1 ORDER BY created_at, id`, [communityId]);
  return rows.map(toMeteringPoint);
}

/** A member's metering points, oldest first. */
export async function meteringPointsOfMember(db: Queryable, memberId: string): Promise<MeteringPoint[]> {
  const rows = await db.query<MeteringPointRow>(`${SELECT} WHERE member_id = $1 ORDER BY created_at, id`, [memberId]);
  return rows.map(toMeteringPoint);
}

/** Whether the point is registered in this community. */
export async function isMeteringPointIn(db: Queryable, meteringPointId: string, communityId: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM metering_points WHERE id = $1 AND community_id = $2', [meteringPointId, communityId])).length > 0;
}

/** Some point of the community other than `exceptId` that has one of `ids` as either of its ids. */
export async function pointHoldingAnyId(
  db: Queryable, communityId: string, exceptId: string | null, ids: readonly string[],
): Promise<{ gridConnectionId: string; generationGridConnectionId: string | null } | undefined> {
  const rows = await db.query<{ grid_connection_id: string; generation_grid_connection_id: string | null }>(
    `SELECT grid_connection_id, generation_grid_connection_id FROM metering_points
     WHERE community_id = $1 AND id IS DISTINCT FROM $2::uuid AND (grid_connection_id = ANY($3::text[]) OR generation_grid_connection_id = ANY($3::text[]))
     LIMIT 1`,
    [communityId, exceptId, ids],
  );
  return rows[0] && { gridConnectionId: rows[0].grid_connection_id, generationGridConnectionId: rows[0].generation_grid_connection_id };
}

export async function insertMeteringPoint(db: Queryable, communityId: string, memberId: string, input: MeteringPointInput): Promise<MeteringPoint> {
  const rows = await db.query<MeteringPointRow>(
    `INSERT INTO metering_points (community_id, member_id, name, address, grid_connection_id, role, pv_capacity_w, battery_capacity_wh, community_battery,
       generation_grid_connection_id, connection_capacity_w, export_limit_w)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     RETURNING ${COLUMNS}`,
    [communityId, memberId, input.name, input.address ?? '', input.gridConnectionId, input.role,
      input.pvCapacityW ?? null, input.batteryCapacityWh ?? null, input.communityBattery ?? false, input.generationGridConnectionId ?? null,
      input.connectionCapacityW ?? null, input.exportLimitW ?? null],
  );
  return toMeteringPoint(rows[0]!);
}

/** Writes the fields the patch gives (null clears a nullable one). */
export async function patchMeteringPoint(db: Queryable, id: string, patch: Partial<Omit<MeteringPointInput, 'memberId'>>): Promise<MeteringPoint> {
  const rows = await db.query<MeteringPointRow>(
    `UPDATE metering_points SET
       name = COALESCE($2, name), address = COALESCE($3, address), grid_connection_id = COALESCE($4, grid_connection_id),
       role = COALESCE($5, role),
       pv_capacity_w = CASE WHEN $6::boolean THEN $7 ELSE pv_capacity_w END,
       battery_capacity_wh = CASE WHEN $8::boolean THEN $9 ELSE battery_capacity_wh END,
       community_battery = COALESCE($10, community_battery),
       generation_grid_connection_id = CASE WHEN $11::boolean THEN $12 ELSE generation_grid_connection_id END,
       connection_capacity_w = CASE WHEN $13::boolean THEN $14 ELSE connection_capacity_w END,
       export_limit_w = CASE WHEN $15::boolean THEN $16 ELSE export_limit_w END
     WHERE id = $1
     RETURNING ${COLUMNS}`,
    [id, patch.name ?? null, patch.address ?? null, patch.gridConnectionId ?? null, patch.role ?? null,
      patch.pvCapacityW !== undefined, patch.pvCapacityW ?? null,
      patch.batteryCapacityWh !== undefined, patch.batteryCapacityWh ?? null, patch.communityBattery ?? null,
      patch.generationGridConnectionId !== undefined, patch.generationGridConnectionId ?? null,
      patch.connectionCapacityW !== undefined, patch.connectionCapacityW ?? null,
      patch.exportLimitW !== undefined, patch.exportLimitW ?? null],
  );
  return toMeteringPoint(rows[0]!);
}

export async function deleteMeteringPointRow(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM metering_points WHERE id = $1', [id]);
}

/** Ids of a member's metering points. */
export async function meteringPointIdsOfMember(db: Queryable, memberId: string): Promise<string[]> {
  return (await db.query<{ id: string }>('SELECT id FROM metering_points WHERE member_id = $1', [memberId])).map((r) => r.id);
}
