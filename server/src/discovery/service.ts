import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { communityFigures, findCommunities, type Community } from '../registry/index.js';
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
  const found = await findCommunities(db, {
    viewerUserId: userId, everything: isAdmin, text: search.q ?? null, postcodePrefix: search.postcode ?? null, gridArea: search.gridArea ?? null,
    near: search.near ?? null, radiusKm: search.radiusKm ?? null, limit: search.limit, offset: search.offset,
  });
  return found.map((listing) => ({
    ...listing,
    distanceKm: listing.distanceKm === null ? null : Math.round(listing.distanceKm * 100) / 100,
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
  const figures = await communityFigures(db, unique);
  return unique.map((id) => {
    const found = figures.get(id);
    if (!found || !(found.community.isPublic || isMemberOf(principal, id))) throw new NotFoundError(`community ${id}`);
    const { prices } = found;
    return {
      ...found,
      prices: prices && { grid: trimDecimal(prices.grid), community: trimDecimal(prices.community), feedIn: trimDecimal(prices.feedIn) },
      renewableShare: null,
    };
  });
}
