import type { Queryable } from '../platform/store/db.js';
import type { AllocationMode } from './communities.js';
import type { MemberState } from './members.js';

/**
 * Registry reads other capabilities ask for, each one set-based query (they join in memory).
 * The registry's own modules keep their SQL next to them until the registry's store is gathered.
 */

/** A metering point as sharing, billing and the operator import see it. */
export interface CommunityMeteringPoint {
  id: string;
  memberId: string;
  gridConnectionId: string;
  /** A prosumer's second Zählpunkt (Austria), null otherwise. */
  generationGridConnectionId: string | null;
  communityBattery: boolean;
}

/** Every metering point of the community, by id. */
export async function communityMeteringPoints(db: Queryable, communityId: string): Promise<CommunityMeteringPoint[]> {
  const rows = await db.query<{ id: string; member_id: string; grid_connection_id: string; generation_grid_connection_id: string | null; community_battery: boolean }>(
    `SELECT id, member_id, grid_connection_id, generation_grid_connection_id, community_battery
     FROM metering_points WHERE community_id = $1 ORDER BY id`,
    [communityId],
  );
  return rows.map((r) => ({
    id: r.id, memberId: r.member_id, gridConnectionId: r.grid_connection_id,
    generationGridConnectionId: r.generation_grid_connection_id, communityBattery: r.community_battery,
  }));
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

export interface MemberListing { id: string; displayName: string; state: MemberState; hasLeft: boolean }

/** Every member of the community, by display name (the database's collation) then id. */
export async function membersByName(db: Queryable, communityId: string): Promise<MemberListing[]> {
  return listings(await db.query<ListingRow>(
    `SELECT id, display_name, state, left_at IS NOT NULL AS has_left FROM members WHERE community_id = $1 ORDER BY display_name, id`, [communityId],
  ));
}

/** The members of the community among `ids` (ids of other communities, or none, are left out). */
export async function membersAmong(db: Queryable, communityId: string, ids: readonly string[]): Promise<MemberListing[]> {
  return listings(await db.query<ListingRow>(
    `SELECT id, display_name, state, left_at IS NOT NULL AS has_left FROM members WHERE community_id = $1 AND id = ANY($2::uuid[]) ORDER BY id`,
    [communityId, ids],
  ));
}

interface ListingRow { id: string; display_name: string; state: MemberState; has_left: boolean }
const listings = (rows: readonly ListingRow[]): MemberListing[] =>
  rows.map((r) => ({ id: r.id, displayName: r.display_name, state: r.state, hasLeft: r.has_left }));

/** How each of the communities is split (rule and mode); communities that no longer exist are absent. */
export async function allocationSettings(db: Queryable, communityIds: readonly string[]): Promise<Map<string, { rule: string; mode: AllocationMode }>> {
  const rows = await db.query<{ id: string; allocation_rule: string; allocation_mode: AllocationMode }>(
    'SELECT id, allocation_rule, allocation_mode FROM communities WHERE id = ANY($1::uuid[])', [communityIds],
  );
  return new Map(rows.map((r) => [r.id, { rule: r.allocation_rule, mode: r.allocation_mode }]));
}
