import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { activeMembership, isManagerOf, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { conflictOnDuplicate } from '../platform/store/errors.js';
import { getCommunity } from './communities.js';

export type MeteringPointRole = 'consumer' | 'producer' | 'prosumer';

/**
 * What a grid connection of a role carries at most when nobody said otherwise, in W: a household
 * (consumer or prosumer) 3 × 63 A at 230 V; a producer a small plant on a low-voltage connection.
 */
export const DEFAULT_CONNECTION_CAPACITY_W: Readonly<Record<MeteringPointRole, number>> = {
  consumer: 43_470,
  prosumer: 43_470,
  producer: 250_000,
};

/**
 * The physical limit of a metering point in W, for plausibility: the capacity set for its
 * connection, else its role's default; never below its PV capacity (what its panels can give).
 */
export function connectionCapacityW(point: { role: MeteringPointRole; pvCapacityW: number | null; connectionCapacityW: number | null }): number {
  return Math.max(point.connectionCapacityW ?? DEFAULT_CONNECTION_CAPACITY_W[point.role], point.pvCapacityW ?? 0);
}

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
  created_at: Date;
}

const COLUMNS = `id, community_id, member_id, name, address, grid_connection_id, generation_grid_connection_id, role, pv_capacity_w,
  battery_capacity_wh, community_battery, connection_capacity_w, created_at`;
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
    createdAt: row.created_at.toISOString(),
  };
}

/** Sites belong to their member; the community's managers see and manage all of them. */
function canSee(principal: Principal, point: MeteringPoint): boolean {
  if (isManagerOf(principal, point.communityId)) return true;
  return principal.kind === 'user' && principal.memberships.some((m) => m.memberId === point.memberId && m.state === 'active');
}

export async function getMeteringPoint(db: Queryable, principal: Principal, id: string): Promise<MeteringPoint> {
  requireUser(principal);
  const rows = await db.query<MeteringPointRow>(`${SELECT} WHERE id = $1`, [id]);
  const point = rows[0] && toMeteringPoint(rows[0]);
  if (!point || !canSee(principal, point)) throw new NotFoundError('metering point');
  return point;
}

export async function listMeteringPoints(db: Queryable, principal: Principal, communityId: string): Promise<MeteringPoint[]> {
  requireUser(principal);
  await getCommunity(db, principal, communityId);
  if (isManagerOf(principal, communityId)) {
    const rows = await db.query<MeteringPointRow>(`${SELECT} WHERE community_id = $1 ORDER BY created_at, id`, [communityId]);
    return rows.map(toMeteringPoint);
  }
  const own = activeMembership(principal, communityId);
  if (!own) throw new NotFoundError('community');
  const rows = await db.query<MeteringPointRow>(`${SELECT} WHERE member_id = $1 ORDER BY created_at, id`, [own.memberId]);
  return rows.map(toMeteringPoint);
}

/** What the database says when a concurrent write took the id between our check and the write. */
const DUPLICATE_GRID_CONNECTION = 'this grid connection id (or generation grid connection id) is already registered in the community';

/** Roles that feed in, and so may have a generation id of their own. */
const FEEDS_IN: readonly MeteringPointRole[] = ['producer', 'prosumer'];

/**
 * The point's ids as they would be after the write: a generation id only on a point that feeds
 * in, and not the consumption id again (400, with the field to fix).
 */
function checkIds(gridConnectionId: string, generationGridConnectionId: string | null, role: MeteringPointRole): void {
  if (generationGridConnectionId === null) return;
  if (!FEEDS_IN.includes(role)) {
    throw new BadRequestError(`body/generationGridConnectionId: only producer and prosumer points have one (role is ${role}); set it to null first`,
      'body/generationGridConnectionId');
  }
  if (generationGridConnectionId === gridConnectionId) {
    throw new BadRequestError('body/generationGridConnectionId: must differ from gridConnectionId (the consumption id)', 'body/generationGridConnectionId');
  }
}

/**
 * Within a community an id names one metering point, as its consumption id or its generation id:
 * the operator's message for a Zählpunkt must lead to one point (operator-imports.ts). Checked
 * here for a message that says which id clashes; the database (grid_connection_ids, migration
 * 0025) refuses the same under concurrent writes.
 */
async function checkIdsFree(db: Queryable, communityId: string, pointId: string | null, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const taken = await db.query<{ grid_connection_id: string; generation_grid_connection_id: string | null }>(
    `SELECT grid_connection_id, generation_grid_connection_id FROM metering_points
     WHERE community_id = $1 AND id IS DISTINCT FROM $2::uuid AND (grid_connection_id = ANY($3::text[]) OR generation_grid_connection_id = ANY($3::text[]))
     LIMIT 1`,
    [communityId, pointId, ids],
  );
  const clash = taken[0];
  if (!clash) return;
  const id = ids.find((candidate) => candidate === clash.grid_connection_id || candidate === clash.generation_grid_connection_id)!;
  const as = id === clash.grid_connection_id ? 'grid connection id' : 'generation grid connection id';
  throw new ConflictError(`${id} is already registered in the community as another metering point's ${as}`);
}

export async function createMeteringPoint(
  db: Queryable,
  principal: Principal,
  communityId: string,
  input: MeteringPointInput,
): Promise<MeteringPoint> {
  requireUser(principal);
  await getCommunity(db, principal, communityId);
  const own = activeMembership(principal, communityId);
  const memberId = input.memberId ?? own?.memberId;
  if (!isManagerOf(principal, communityId)) {
    if (!own) throw new NotFoundError('community');
    if (memberId !== own.memberId) throw new NotFoundError('member');
  }
  if (!memberId) throw new BadRequestError('body/memberId: is required for managers', 'body/memberId');
  // The physical limits of the site decide what counts as plausible energy: the managers set them.
  if (input.communityBattery || input.connectionCapacityW != null) requireManager(principal, communityId, 'community');
  const member = await db.query(`SELECT 1 FROM members WHERE id = $1 AND community_id = $2 AND state = 'active'`, [memberId, communityId]);
  if (member.length === 0) throw new NotFoundError('member');
  const generationId = input.generationGridConnectionId ?? null;
  checkIds(input.gridConnectionId, generationId, input.role);
  await checkIdsFree(db, communityId, null, generationId === null ? [input.gridConnectionId] : [input.gridConnectionId, generationId]);
  const rows = await conflictOnDuplicate(DUPLICATE_GRID_CONNECTION, () =>
    db.query<MeteringPointRow>(
      `INSERT INTO metering_points (community_id, member_id, name, address, grid_connection_id, role, pv_capacity_w, battery_capacity_wh, community_battery,
         generation_grid_connection_id, connection_capacity_w)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       RETURNING ${COLUMNS}`,
      [communityId, memberId, input.name, input.address ?? '', input.gridConnectionId, input.role,
        input.pvCapacityW ?? null, input.batteryCapacityWh ?? null, input.communityBattery ?? false, generationId, input.connectionCapacityW ?? null],
    ),
  );
  return toMeteringPoint(rows[0]!);
}

export async function updateMeteringPoint(
  db: Queryable,
  principal: Principal,
  id: string,
  patch: Partial<Omit<MeteringPointInput, 'memberId'>>,
): Promise<MeteringPoint> {
  const point = await getMeteringPoint(db, principal, id);
  // Which point is the community's battery changes everybody's split: the managers decide.
  if (patch.communityBattery !== undefined && patch.communityBattery !== point.communityBattery) requireManager(principal, point.communityId, 'metering point');
  if (patch.connectionCapacityW !== undefined && patch.connectionCapacityW !== point.connectionCapacityW) requireManager(principal, point.communityId, 'metering point');
  const gridConnectionId = patch.gridConnectionId ?? point.gridConnectionId;
  const generationId = patch.generationGridConnectionId !== undefined ? patch.generationGridConnectionId : point.generationGridConnectionId;
  checkIds(gridConnectionId, generationId, patch.role ?? point.role);
  const changed = [patch.gridConnectionId, patch.generationGridConnectionId].filter((id): id is string => typeof id === 'string');
  await checkIdsFree(db, point.communityId, point.id, changed);
  const rows = await conflictOnDuplicate(DUPLICATE_GRID_CONNECTION, () =>
    db.query<MeteringPointRow>(
      `UPDATE metering_points SET
         name = COALESCE($2, name), address = COALESCE($3, address), grid_connection_id = COALESCE($4, grid_connection_id),
         role = COALESCE($5, role),
         pv_capacity_w = CASE WHEN $6::boolean THEN $7 ELSE pv_capacity_w END,
         battery_capacity_wh = CASE WHEN $8::boolean THEN $9 ELSE battery_capacity_wh END,
         community_battery = COALESCE($10, community_battery),
         generation_grid_connection_id = CASE WHEN $11::boolean THEN $12 ELSE generation_grid_connection_id END,
         connection_capacity_w = CASE WHEN $13::boolean THEN $14 ELSE connection_capacity_w END
       WHERE id = $1
       RETURNING ${COLUMNS}`,
      [id, patch.name ?? null, patch.address ?? null, patch.gridConnectionId ?? null, patch.role ?? null,
        patch.pvCapacityW !== undefined, patch.pvCapacityW ?? null,
        patch.batteryCapacityWh !== undefined, patch.batteryCapacityWh ?? null, patch.communityBattery ?? null,
        patch.generationGridConnectionId !== undefined, patch.generationGridConnectionId ?? null,
        patch.connectionCapacityW !== undefined, patch.connectionCapacityW ?? null],
    ),
  );
  return toMeteringPoint(rows[0]!);
}

export async function deleteMeteringPoint(db: Queryable, principal: Principal, id: string): Promise<void> {
  const point = await getMeteringPoint(db, principal, id);
  requireManager(principal, point.communityId, 'metering point');
  await db.query('DELETE FROM metering_points WHERE id = $1', [id]);
}
