import type { Queryable } from '../../platform/store/db.js';
import type { AllocationRuleName } from '../allocation-rules.js';
import { ALLOCATION_MODES, type AllocationMode } from '@gridshare/contract/registry';

/** The only SQL on the communities table, and the registry's community-wide figures for discovery. */

export interface Community {
  id: string;
  name: string;
  description: string;
  timeZone: string;
  currency: string;
  locale: string;
  location: { latitude: number; longitude: number } | null;
  postcode: string | null;
  gridArea: string | null;
  country: string | null;
  allocationRule: AllocationRuleName;
  allocationMode: AllocationMode;
  isPublic: boolean;
  /** The community's connection to the public grid as a whole, W; null: no limit (a plan keeps them). */
  connectionImportLimitW: number | null;
  connectionExportLimitW: number | null;
  /** A device silent this many minutes is offline and its member is told (once per outage); null: no one is told. */
  deviceOfflineMinutes: number | null;
  createdAt: string;
}

export { ALLOCATION_MODES, type AllocationMode };

export interface CommunityInput {
  name: string;
  description?: string;
  timeZone: string;
  currency: string;
  locale?: string;
  location?: { latitude: number; longitude: number } | null;
  postcode?: string | null;
  gridArea?: string | null;
  country?: string | null;
  allocationRule?: AllocationRuleName;
  allocationMode?: AllocationMode;
  isPublic?: boolean;
  connectionImportLimitW?: number | null;
  connectionExportLimitW?: number | null;
  deviceOfflineMinutes?: number | null;
}

interface CommunityRow {
  id: string;
  name: string;
  description: string;
  time_zone: string;
  currency: string;
  locale: string;
  latitude: number | null;
  longitude: number | null;
  postcode: string | null;
  grid_area: string | null;
  country: string | null;
  allocation_rule: AllocationRuleName;
  allocation_mode: AllocationMode;
  is_public: boolean;
  connection_import_limit_w: number | null;
  connection_export_limit_w: number | null;
  device_offline_minutes: number | null;
  created_at: Date;
}

const COMMUNITY_COLUMNS =
  'c.id, c.name, c.description, c.time_zone, c.currency, c.locale, c.latitude, c.longitude, c.postcode, c.grid_area, c.country, c.allocation_rule, c.allocation_mode, c.is_public, '
  + 'c.connection_import_limit_w, c.connection_export_limit_w, c.device_offline_minutes, c.created_at';

function toCommunity(row: CommunityRow): Community {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    timeZone: row.time_zone,
    currency: row.currency,
    locale: row.locale,
    location: row.latitude === null || row.longitude === null ? null : { latitude: row.latitude, longitude: row.longitude },
    postcode: row.postcode,
    gridArea: row.grid_area,
    country: row.country,
    allocationRule: row.allocation_rule,
    allocationMode: row.allocation_mode,
    isPublic: row.is_public,
    connectionImportLimitW: row.connection_import_limit_w,
    connectionExportLimitW: row.connection_export_limit_w,
    deviceOfflineMinutes: row.device_offline_minutes,
    createdAt: row.created_at.toISOString(),
  };
}

export async function communityById(db: Queryable, id: string): Promise<Community | undefined> {
  const rows = await db.query<CommunityRow>(`SELECT ${COMMUNITY_COLUMNS} FROM communities c WHERE c.id = $1`, [id]);
  return rows[0] && toCommunity(rows[0]);
}

/** Inserts a community and its first manager (active from now) in one statement. */
export async function insertCommunityWithManager(
  db: Queryable, input: CommunityInput, manager: { userId: string; displayName: string },
): Promise<Community> {
  const rows = await db.query<CommunityRow>(
    `WITH c AS (
       INSERT INTO communities (name, description, time_zone, currency, locale, latitude, longitude, postcode, grid_area, country, allocation_rule, is_public, allocation_mode,
         connection_import_limit_w, connection_export_limit_w, device_offline_minutes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $15, $16, $17, $18)
       RETURNING *
     ), m AS (
       INSERT INTO members (community_id, user_id, role, state, display_name, decided_at, decided_by, active_from)
       SELECT c.id, $13, 'manager', 'active', $14, now(), $13, now() FROM c
     )
     SELECT ${COMMUNITY_COLUMNS} FROM c`,
    [
      input.name, input.description ?? '', input.timeZone, input.currency, input.locale ?? 'en',
      input.location?.latitude ?? null, input.location?.longitude ?? null, input.postcode ?? null,
      input.gridArea ?? null, input.country ?? null, input.allocationRule ?? 'dynamic', input.isPublic ?? true,
      manager.userId, manager.displayName, input.allocationMode ?? 'compute',
      input.connectionImportLimitW ?? null, input.connectionExportLimitW ?? null, input.deviceOfflineMinutes ?? null,
    ],
  );
  return toCommunity(rows[0]!);
}

const UPDATABLE: Record<keyof Omit<CommunityInput, 'location'>, string> = {
  name: 'name',
  description: 'description',
  timeZone: 'time_zone',
  currency: 'currency',
  locale: 'locale',
  postcode: 'postcode',
  gridArea: 'grid_area',
  country: 'country',
  allocationRule: 'allocation_rule',
  allocationMode: 'allocation_mode',
  isPublic: 'is_public',
  connectionImportLimitW: 'connection_import_limit_w',
  connectionExportLimitW: 'connection_export_limit_w',
  deviceOfflineMinutes: 'device_offline_minutes',
};

/** Writes the fields the patch gives (a null location clears it). */
export async function patchCommunity(db: Queryable, id: string, patch: Partial<CommunityInput>): Promise<void> {
  const sets: string[] = [];
  const values: unknown[] = [id];
  for (const [key, column] of Object.entries(UPDATABLE) as [keyof typeof UPDATABLE, string][]) {
    if (patch[key] === undefined) continue;
    values.push(patch[key]);
    sets.push(`${column} = $${values.length}`);
  }
  if (patch.location !== undefined) {
    values.push(patch.location?.latitude ?? null, patch.location?.longitude ?? null);
    sets.push(`latitude = $${values.length - 1}`, `longitude = $${values.length}`);
  }
  if (sets.length > 0) await db.query(`UPDATE communities SET ${sets.join(', ')} WHERE id = $1`, values);
}

/** Deletes a community with everything registered in it; false when there was none. */
export async function deleteCommunityRow(db: Queryable, id: string): Promise<boolean> {
  return (await db.query('DELETE FROM communities WHERE id = $1 RETURNING id', [id])).length > 0;
}

/** Great-circle distance in km between the row's location and ($1, $2), haversine on a 6,371 km sphere. */
const DISTANCE_SQL = `6371 * 2 * asin(sqrt(
  power(sin(radians(c.latitude - $1) / 2), 2) +
  cos(radians($1)) * cos(radians(c.latitude)) * power(sin(radians(c.longitude - $2) / 2), 2)))`;

/** Members who take part: a manager who only runs the community (no site of their own; the community battery is not one) is not counted. */
const MEMBER_COUNT_SQL = `(SELECT count(*)::int FROM members m WHERE m.community_id = c.id AND m.state = 'active'
  AND (m.role = 'member' OR EXISTS (SELECT 1 FROM metering_points mp WHERE mp.member_id = m.id AND NOT mp.community_battery)))`;

export interface CommunityFilter {
  /** Private communities too: those of which this user is an active member (all of them with `everything`). */
  viewerUserId: string | null;
  everything: boolean;
  text: string | null;
  postcodePrefix: string | null;
  gridArea: string | null;
  near: { latitude: number; longitude: number } | null;
  radiusKm: number | null;
  limit: number;
  offset: number;
}

/** Communities matching the filter with their active member count and distance (km, unrounded); nearest first. */
export async function findCommunities(db: Queryable, filter: CommunityFilter): Promise<(Community & { distanceKm: number | null; memberCount: number })[]> {
  const rows = await db.query<CommunityRow & { distance_km: number | null; member_count: number }>(
    `SELECT ${COMMUNITY_COLUMNS},
       CASE WHEN $1::float8 IS NULL OR c.latitude IS NULL THEN NULL ELSE ${DISTANCE_SQL} END AS distance_km,
       ${MEMBER_COUNT_SQL} AS member_count
     FROM communities c
     WHERE (c.suspended_at IS NULL OR $3::boolean)
       AND (c.is_public OR $3::boolean OR EXISTS (
             SELECT 1 FROM members m WHERE m.community_id = c.id AND m.user_id = $4 AND m.state = 'active'))
       AND ($5::text IS NULL OR position(lower($5) IN lower(c.name || ' ' || c.description)) > 0)
       AND ($6::text IS NULL OR left(c.postcode, length($6)) = $6)
       AND ($7::text IS NULL OR lower(c.grid_area) = lower($7))
       AND ($8::float8 IS NULL OR (c.latitude IS NOT NULL AND ${DISTANCE_SQL} <= $8))
     ORDER BY distance_km NULLS LAST, c.name, c.id
     LIMIT $9 OFFSET $10`,
    [
      filter.near?.latitude ?? null, filter.near?.longitude ?? null, filter.everything, filter.viewerUserId,
      filter.text, filter.postcodePrefix, filter.gridArea, filter.radiusKm, filter.limit, filter.offset,
    ],
  );
  return rows.map((row) => ({ ...toCommunity(row), distanceKm: row.distance_km, memberCount: row.member_count }));
}

export interface CommunityFigures {
  community: Community;
  memberCount: number;
  producerCount: number;
  productionCapacityW: number;
  batteryCapacityWh: number;
  /** Prices per kWh of the tariff in force today in the community's zone (numeric text as stored); null when none. */
  prices: { grid: string; community: string; feedIn: string } | null;
}

/** What the registry knows of each of these communities, for comparing them (unknown ids are left out). */
export async function communityFigures(db: Queryable, ids: readonly string[]): Promise<Map<string, CommunityFigures>> {
  const rows = await db.query<CommunityRow & {
    member_count: number; producer_count: number; capacity_w: number; battery_wh: number;
    grid_price: string | null; community_price: string | null; feed_in_price: string | null;
  }>(
    `SELECT ${COMMUNITY_COLUMNS}, ${MEMBER_COUNT_SQL} AS member_count,
       (SELECT count(*)::int FROM metering_points mp WHERE mp.community_id = c.id AND mp.role <> 'consumer' AND NOT mp.community_battery) AS producer_count,
       (SELECT COALESCE(sum(mp.pv_capacity_w), 0)::int8 FROM metering_points mp WHERE mp.community_id = c.id) AS capacity_w,
       (SELECT COALESCE(sum(mp.battery_capacity_wh), 0)::int8 FROM metering_points mp WHERE mp.community_id = c.id) AS battery_wh,
       t.grid_price, t.community_price, t.feed_in_price
     FROM communities c
     LEFT JOIN LATERAL (
       SELECT grid_price, community_price, feed_in_price FROM tariffs
       WHERE community_id = c.id AND valid_from <= (now() AT TIME ZONE c.time_zone)::date
       ORDER BY valid_from DESC LIMIT 1) t ON true
     WHERE c.id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, {
    community: toCommunity(row),
    memberCount: row.member_count,
    producerCount: row.producer_count,
    productionCapacityW: row.capacity_w,
    batteryCapacityWh: row.battery_wh,
    prices: row.grid_price === null || row.community_price === null || row.feed_in_price === null
      ? null
      : { grid: row.grid_price, community: row.community_price, feedIn: row.feed_in_price },
  }]));
}

/** The oldest community with this name (names are not unique). */
export async function communityIdByName(db: Queryable, name: string): Promise<string | undefined> {
  return (await db.query<{ id: string }>('SELECT id FROM communities WHERE name = $1 ORDER BY created_at LIMIT 1', [name]))[0]?.id;
}

/** Every community with at least one metering point, by id (background jobs that work per community). */
export async function communitiesWithMeteringPoints(db: Queryable): Promise<string[]> {
  return (await db.query<{ id: string }>('SELECT c.id FROM communities c WHERE EXISTS (SELECT 1 FROM metering_points mp WHERE mp.community_id = c.id) ORDER BY c.id')).map((r) => r.id);
}

/** A community as a platform admin oversees it. */
export interface CommunityOverview {
  readonly id: string;
  readonly name: string;
  readonly timeZone: string;
  readonly currency: string;
  readonly isPublic: boolean;
  readonly createdAt: string;
  readonly memberCount: number;
  readonly deviceCount: number;
  readonly suspension: { readonly at: string; readonly reason: string } | null;
}

/** Every community whose name contains `text` (all when empty), by name. */
export async function communityOverviews(db: Queryable, text: string): Promise<CommunityOverview[]> {
  const rows = await db.query<{
    id: string; name: string; time_zone: string; currency: string; is_public: boolean; created_at: Date;
    member_count: number; device_count: number; suspended_at: Date | null; suspended_reason: string | null;
  }>(
    `SELECT c.id, c.name, c.time_zone, c.currency, c.is_public, c.created_at, c.suspended_at, c.suspended_reason,
       ${MEMBER_COUNT_SQL} AS member_count,
       (SELECT count(*)::int FROM devices d WHERE d.community_id = c.id) AS device_count
     FROM communities c WHERE strpos(lower(c.name), lower($1)) > 0 ORDER BY lower(c.name), c.id`,
    [text],
  );
  return rows.map((r) => ({
    id: r.id, name: r.name, timeZone: r.time_zone, currency: r.currency, isPublic: r.is_public, createdAt: r.created_at.toISOString(),
    memberCount: r.member_count, deviceCount: r.device_count,
    suspension: r.suspended_at ? { at: r.suspended_at.toISOString(), reason: r.suspended_reason ?? '' } : null,
  }));
}

/** Suspends (with a reason) or resumes a community; false when there is no such community. */
export async function setSuspension(db: Queryable, id: string, reason: string | null): Promise<boolean> {
  const rows = await db.query(
    `UPDATE communities SET suspended_at = CASE WHEN $2::text IS NULL THEN NULL ELSE coalesce(suspended_at, now()) END, suspended_reason = $2
     WHERE id = $1 RETURNING 1`,
    [id, reason],
  );
  return rows.length > 0;
}

/** A community's suspension (null: not suspended); undefined when there is no such community. */
export async function suspensionOf(db: Queryable, id: string): Promise<CommunityOverview['suspension'] | undefined> {
  const rows = await db.query<{ suspended_at: Date | null; suspended_reason: string | null }>('SELECT suspended_at, suspended_reason FROM communities WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) return undefined;
  return row.suspended_at ? { at: row.suspended_at.toISOString(), reason: row.suspended_reason ?? '' } : null;
}

export async function isSuspended(db: Queryable, id: string): Promise<boolean> {
  return (await db.query<{ s: boolean }>('SELECT suspended_at IS NOT NULL AS s FROM communities WHERE id = $1', [id]))[0]?.s ?? false;
}

/** The communities that tell members of offline devices, with their threshold in minutes. */
export async function deviceOfflineThresholds(db: Queryable): Promise<{ communityId: string; minutes: number }[]> {
  const rows = await db.query<{ id: string; device_offline_minutes: number }>(
    'SELECT id, device_offline_minutes FROM communities WHERE device_offline_minutes IS NOT NULL ORDER BY id');
  return rows.map((r) => ({ communityId: r.id, minutes: r.device_offline_minutes }));
}
