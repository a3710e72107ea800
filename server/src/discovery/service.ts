import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { COMMUNITY_COLUMNS, toCommunity, type Community, type CommunityRow } from '../registry/index.js';
import { isMemberOf } from '../accounts/index.js';
import { trimDecimal } from '../kernel/decimal.js';
import { MAX_COMPARED } from '@gridshare/contract/discovery';

export interface CommunitySearch {
  q?: string | undefined;
  postcode?: string | undefined;
  gridArea?: string | undefined;
  near?: { latitude: number; longitude: number } | undefined;
  radiusKm?: number | undefined;
  limit: number;
  offset: number;
}

export interface CommunityListing extends Community {
  /** Great-circle distance from the searched point, when one was given. */
  distanceKm: number | null;
  memberCount: number;
}

/** Great-circle distance in km between the row's location and ($1, $2), haversine on a 6,371 km sphere. */
const DISTANCE_SQL = `6371 * 2 * asin(sqrt(
  power(sin(radians(c.latitude - $1) / 2), 2) +
  cos(radians($1)) * cos(radians(c.latitude)) * power(sin(radians(c.longitude - $2) / 2), 2)))`;

const MEMBER_COUNT_SQL = `(SELECT count(*)::int FROM members m WHERE m.community_id = c.id AND m.state = 'active')`;

/**
 * Public communities, plus the private ones the caller belongs to (all of them for admins),
 * filtered by name, postcode prefix, grid area and distance; nearest first when a point is given.
 */
export async function searchCommunities(db: Queryable, principal: Principal, search: CommunitySearch): Promise<CommunityListing[]> {
  if (search.radiusKm !== undefined && !search.near) {
    throw new BadRequestError('querystring/radiusKm: needs a point (lat and lon)', 'querystring/radiusKm');
  }
  const userId = principal.kind === 'user' ? principal.userId : null;
  const isAdmin = principal.kind === 'user' && principal.isAdmin;
  const rows = await db.query<CommunityRow & { distance_km: number | null; member_count: number }>(
    `SELECT ${COMMUNITY_COLUMNS},
       CASE WHEN $1::float8 IS NULL OR c.latitude IS NULL THEN NULL ELSE ${DISTANCE_SQL} END AS distance_km,
       ${MEMBER_COUNT_SQL} AS member_count
     FROM communities c
     WHERE (c.is_public OR $3::boolean OR EXISTS (
             SELECT 1 FROM members m WHERE m.community_id = c.id AND m.user_id = $4 AND m.state = 'active'))
       AND ($5::text IS NULL OR position(lower($5) IN lower(c.name || ' ' || c.description)) > 0)
       AND ($6::text IS NULL OR left(c.postcode, length($6)) = $6)
       AND ($7::text IS NULL OR lower(c.grid_area) = lower($7))
       AND ($8::float8 IS NULL OR (c.latitude IS NOT NULL AND ${DISTANCE_SQL} <= $8))
     ORDER BY distance_km NULLS LAST, c.name, c.id
     LIMIT $9 OFFSET $10`,
    [
      search.near?.latitude ?? null, search.near?.longitude ?? null, isAdmin, userId,
      search.q ?? null, search.postcode ?? null, search.gridArea ?? null, search.radiusKm ?? null,
      search.limit, search.offset,
    ],
  );
  return rows.map((row) => ({
    ...toCommunity(row),
    distanceKm: row.distance_km === null ? null : Math.round(row.distance_km * 100) / 100,
    memberCount: row.member_count,
  }));
}

export interface CommunityComparison {
  community: Community;
  memberCount: number;
  producerCount: number;
  productionCapacityW: number;
  batteryCapacityWh: number;
  /** Prices of the tariff in force today, exact decimals per kWh; null when none is set. */
  prices: { grid: string; community: string; feedIn: string } | null;
  /**
   * Share of the community's consumption covered by its own (renewable) production over the
   * last twelve months; null until metered intervals exist.
   */
  renewableShare: number | null;
}

export { MAX_COMPARED };

export async function compareCommunities(db: Queryable, principal: Principal, ids: readonly string[]): Promise<CommunityComparison[]> {
  const unique = [...new Set(ids)];
  if (unique.length < 1 || unique.length > MAX_COMPARED) {
    throw new BadRequestError(`querystring/ids: give 1 to ${MAX_COMPARED} community ids`, 'querystring/ids');
  }
  const rows = await db.query<CommunityRow & {
    member_count: number; producer_count: number; capacity_w: number; battery_wh: number;
    grid_price: string | null; community_price: string | null; feed_in_price: string | null;
  }>(
    `SELECT ${COMMUNITY_COLUMNS}, ${MEMBER_COUNT_SQL} AS member_count,
       (SELECT count(*)::int FROM metering_points mp WHERE mp.community_id = c.id AND mp.role <> 'consumer') AS producer_count,
       (SELECT COALESCE(sum(mp.pv_capacity_w), 0)::int8 FROM metering_points mp WHERE mp.community_id = c.id) AS capacity_w,
       (SELECT COALESCE(sum(mp.battery_capacity_wh), 0)::int8 FROM metering_points mp WHERE mp.community_id = c.id) AS battery_wh,
       t.grid_price, t.community_price, t.feed_in_price
     FROM communities c
     LEFT JOIN LATERAL (
       SELECT grid_price, community_price, feed_in_price FROM tariffs
       WHERE community_id = c.id AND valid_from <= (now() AT TIME ZONE c.time_zone)::date
       ORDER BY valid_from DESC LIMIT 1) t ON true
     WHERE c.id = ANY($1::uuid[])`,
    [unique],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return unique.map((id) => {
    const row = byId.get(id);
    if (!row || !(row.is_public || isMemberOf(principal, id))) throw new NotFoundError(`community ${id}`);
    return {
      community: toCommunity(row),
      memberCount: row.member_count,
      producerCount: row.producer_count,
      productionCapacityW: row.capacity_w,
      batteryCapacityWh: row.battery_wh,
      prices: row.grid_price === null || row.community_price === null || row.feed_in_price === null
        ? null
        : { grid: trimDecimal(row.grid_price), community: trimDecimal(row.community_price), feedIn: trimDecimal(row.feed_in_price) },
      renewableShare: null,
    };
  });
}
