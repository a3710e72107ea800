import type { AllocationMode } from '../communities.js';
import type { MemberRole, MemberState } from '../members.js';
import type { Queryable } from '../../platform/store/db.js';
import type { DeviceRole } from '../../kernel/energy.js';
import type { MeteringPointRole } from '../metering-points.js';
import type { DeviceKind } from './devices.js';
import { meteringPointsOfCommunity, type MeteringPoint } from './metering-points.js';

/** A device as ingestion needs it: where its readings go and whether it may send. */
export interface IngestDevice {
  readonly id: string;
  readonly communityId: string;
  readonly meteringPointId: string | null;
  /** When its current binding began (epoch ms); null: its first binding, or unbound. */
  readonly boundFrom: number | null;
  readonly status: 'active' | 'disabled';
  /** Its community is suspended by a platform admin: it is refused like a disabled one, saying why. */
  readonly communitySuspended: boolean;
}

/** The device with its current binding, or undefined when there is no such device. */
export async function ingestDevice(db: Queryable, deviceId: string): Promise<IngestDevice | undefined> {
  const rows = await db.query<{
    id: string; community_id: string; metering_point_id: string | null; status: 'active' | 'disabled'; bound_from: Date | null; suspended: boolean;
  }>(
    `SELECT d.id, d.community_id, d.metering_point_id, d.status, b.bound_from, c.suspended_at IS NOT NULL AS suspended
     FROM devices d JOIN communities c ON c.id = d.community_id
       LEFT JOIN device_bindings b ON b.device_id = d.id AND b.bound_until IS NULL
     WHERE d.id = $1`,
    [deviceId],
  );
  const row = rows[0];
  return row && {
    id: row.id, communityId: row.community_id, meteringPointId: row.metering_point_id, boundFrom: row.bound_from?.getTime() ?? null, status: row.status,
    communitySuspended: row.suspended,
  };
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

/** What the interval computation needs of a site: its limits, the roles its devices have (had) there, and their kinds (of those not deleted). */
export interface MeteringPointSite {
  readonly id: string;
  readonly role: MeteringPointRole;
  readonly pvCapacityW: number | null;
  readonly connectionCapacityW: number | null;
  readonly deviceRoles: ReadonlyMap<string, DeviceRole>;
  readonly deviceKinds: ReadonlyMap<string, DeviceKind>;
}

/** The sites of the metering points among `ids`, in one query; points that no longer exist are absent. */
export async function meteringPointSites(db: Queryable, ids: readonly string[]): Promise<MeteringPointSite[]> {
  const rows = await db.query<{ id: string; role: MeteringPointRole; pv_capacity_w: number | null; connection_capacity_w: number | null; devices: [string, DeviceRole, DeviceKind | null][] }>(
    `SELECT mp.id, mp.role, mp.pv_capacity_w, mp.connection_capacity_w,
       COALESCE((SELECT json_agg(json_build_array(dr.device_id, dr.role, d.kind)) FROM device_roles dr LEFT JOIN devices d ON d.id = dr.device_id
                 WHERE dr.metering_point_id = mp.id), '[]') AS devices
     FROM metering_points mp WHERE mp.id = ANY($1::uuid[])`,
    [ids],
  );
  return rows.map((r) => ({
    id: r.id, role: r.role, pvCapacityW: r.pv_capacity_w, connectionCapacityW: r.connection_capacity_w,
    deviceRoles: new Map(r.devices.map(([id, role]) => [id, role])), deviceKinds: new Map(r.devices.flatMap(([id, , kind]) => (kind === null ? [] : [[id, kind] as const]))),
  }));
}

/**
 * Registry reads other capabilities ask for, each one set-based query (they join in memory).
 * The registry's own modules keep their SQL next to them until the registry's store is gathered.
 */

/** A metering point as sharing, billing and the operator import see it. */
/** What sharing and the operator mode need of a metering point. */
export type CommunityMeteringPoint = Pick<MeteringPoint, 'id' | 'memberId' | 'gridConnectionId' | 'generationGridConnectionId' | 'communityBattery'>;

/** Every metering point of the community, by id. */
export async function communityMeteringPoints(db: Queryable, communityId: string): Promise<CommunityMeteringPoint[]> {
  // In id order, as PostgreSQL orders uuids (byte order, the same as their lowercase text).
  return (await meteringPointsOfCommunity(db, communityId)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A member's part in the sharing: from `activeFromMs` (null: from the start) until `leftAtMs` (null: still in). */
export interface SharingParticipant { id: string; activeFromMs: number | null; leftAtMs: number | null }

/**
 * Members whose part in the sharing (active_from until left_at) overlaps [fromMs, toMs]: active
 * members and former ones. In a stable order (when they asked to join, then id): ties in the
 * split go to the lower index, so a recomputation must see the same order.
 */
export async function sharingParticipants(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<SharingParticipant[]> {
  const rows = await db.query<{ id: string; active_from: Date | null; left_at: Date | null }>(
    `SELECT id, active_from, left_at FROM members
     WHERE community_id = $1 AND (state = 'active' OR left_at IS NOT NULL)
       AND (active_from IS NULL OR active_from <= $3) AND (left_at IS NULL OR left_at > $2)
     ORDER BY requested_at, id`,
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  return rows.map((r) => ({ id: r.id, activeFromMs: r.active_from?.getTime() ?? null, leftAtMs: r.left_at?.getTime() ?? null }));
}

/** `hasSite`: the member has a site of their own, so takes part in the energy (a manager who only runs the community has none). */
export interface MemberListing { id: string; displayName: string; role: MemberRole; state: MemberState; hasLeft: boolean; hasSite: boolean }

/** Every member of the community, by display name (the database's collation) then id. */
export async function membersByName(db: Queryable, communityId: string): Promise<MemberListing[]> {
  return listings(await db.query<ListingRow>(
    `SELECT id, display_name, role, state, left_at IS NOT NULL AS has_left, ${HAS_SITE} FROM members m WHERE community_id = $1 ORDER BY display_name, id`, [communityId],
  ));
}

/** The members of the community among `ids` (ids of other communities, or none, are left out). */
export async function membersAmong(db: Queryable, communityId: string, ids: readonly string[]): Promise<MemberListing[]> {
  return listings(await db.query<ListingRow>(
    `SELECT id, display_name, role, state, left_at IS NOT NULL AS has_left, ${HAS_SITE} FROM members m WHERE community_id = $1 AND id = ANY($2::uuid[]) ORDER BY id`,
    [communityId, ids],
  ));
}

/** The community battery is the community's, not its holder's: it makes nobody a participant. */
const HAS_SITE = 'EXISTS (SELECT 1 FROM metering_points p WHERE p.member_id = m.id AND NOT p.community_battery) AS has_site';
interface ListingRow { id: string; display_name: string; role: MemberRole; state: MemberState; has_left: boolean; has_site: boolean }
const listings = (rows: readonly ListingRow[]): MemberListing[] =>
  rows.map((r) => ({ id: r.id, displayName: r.display_name, role: r.role, state: r.state, hasLeft: r.has_left, hasSite: r.has_site }));

/** How each of the communities is split (rule and mode); communities that no longer exist are absent. */
export async function allocationSettings(db: Queryable, communityIds: readonly string[]): Promise<Map<string, { rule: string; mode: AllocationMode }>> {
  const rows = await db.query<{ id: string; allocation_rule: string; allocation_mode: AllocationMode }>(
    'SELECT id, allocation_rule, allocation_mode FROM communities WHERE id = ANY($1::uuid[])', [communityIds],
  );
  return new Map(rows.map((r) => [r.id, { rule: r.allocation_rule, mode: r.allocation_mode }]));
}
