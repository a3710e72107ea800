import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { isMemberOf, requireUser } from '../accounts/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { getCommunity, requireCommunityManager } from '../registry/index.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { shareUnits, type ShareVersion } from './domain/community-split.js';
import { loadShareVersions, markSharingDirtyFrom } from './service.js';
import { type Co2Intensity } from '../kernel/energy.js';

export interface ShareEntry { memberId: string; share: string }
export interface ShareKeyVersion { validFrom: string; shares: ShareEntry[] }

/**
 * A new version of the community's static key, in force from `validFrom` (a UTC quarter hour;
 * default: the current one). Every member must be an active member of the community (others are
 * not found), each at most once, Σ ≤ 1 exactly. Quarter hours from `validFrom` on are split again.
 */
export async function putShares(db: Db, principal: Principal, communityId: string, input: { validFrom?: string | undefined; shares: ShareEntry[] }): Promise<ShareKeyVersion> {
  await requireCommunityManager(db, principal, communityId);
  const validFromMs = input.validFrom === undefined ? Math.floor(Date.now() / QUARTER_HOUR_MS) * QUARTER_HOUR_MS : Date.parse(input.validFrom);
  if (validFromMs % QUARTER_HOUR_MS !== 0) throw new BadRequestError('body/validFrom: must be the start of a UTC quarter hour', 'body/validFrom');
  const seen = new Set<string>();
  let total = 0;
  for (const [index, entry] of input.shares.entries()) {
    if (seen.has(entry.memberId)) throw new BadRequestError(`body/shares/${index}/memberId: member appears twice`, `body/shares/${index}/memberId`);
    seen.add(entry.memberId);
    total += shareUnits(entry.share);
  }
  if (total > 1_000_000_000) throw new BadRequestError('body/shares: the shares add up to more than 1', 'body/shares');
  const known = await db.query<{ id: string }>(
    `SELECT id FROM members WHERE community_id = $1 AND state = 'active' AND id = ANY($2::uuid[])`, [communityId, [...seen]],
  );
  if (known.length !== seen.size) throw new NotFoundError('member');
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM allocation_shares WHERE community_id = $1 AND valid_from = $2', [communityId, new Date(validFromMs)]);
    if (input.shares.length > 0) {
      await tx.query(
        `INSERT INTO allocation_shares (community_id, valid_from, member_id, share)
         SELECT $1, $2, m, s::numeric FROM unnest($3::uuid[], $4::text[]) AS u(m, s)`,
        [communityId, new Date(validFromMs), input.shares.map((s) => s.memberId), input.shares.map((s) => s.share)],
      );
    }
    await markSharingDirtyFrom(tx, communityId, validFromMs);
  });
  const stored = (await loadShareVersions(db, communityId)).find((v) => v.validFromMs === validFromMs);
  return shareKeyVersion(stored ?? { validFromMs, shares: new Map() });
}

/** Every version of the key, newest first (managers). */
export async function listShares(db: Queryable, principal: Principal, communityId: string): Promise<ShareKeyVersion[]> {
  await requireCommunityManager(db, principal, communityId);
  return (await loadShareVersions(db, communityId)).reverse().map(shareKeyVersion);
}

function shareKeyVersion(version: ShareVersion): ShareKeyVersion {
  return { validFrom: new Date(version.validFromMs).toISOString(), shares: [...version.shares].map(([memberId, share]) => ({ memberId, share })) };
}

export interface Co2Settings {
  /** Grams of CO2 per kWh of grid energy; null when not configured (CO2 avoided is then 0). */
  gramsPerKWh: number | null;
  /** How many hours have their own value, and which span they cover. */
  hourly: { hours: number; from: string | null; to: string | null };
}

export async function getCo2Settings(db: Queryable, principal: Principal, communityId: string): Promise<Co2Settings> {
  requireUser(principal);
  const community = await getCommunity(db, principal, communityId);
  if (!isMemberOf(principal, community.id)) throw new NotFoundError('community');
  const constant = await db.query<{ grams_per_kwh: string }>('SELECT grams_per_kwh::text FROM co2_intensity WHERE community_id = $1', [communityId]);
  const hours = await db.query<{ n: number; first: Date | null; last: Date | null }>(
    'SELECT count(*)::int AS n, min(hour) AS first, max(hour) AS last FROM co2_intensity_hours WHERE community_id = $1', [communityId],
  );
  return {
    gramsPerKWh: constant[0] ? Number(constant[0].grams_per_kwh) : null,
    hourly: { hours: hours[0]?.n ?? 0, from: hours[0]?.first?.toISOString() ?? null, to: hours[0]?.last?.toISOString() ?? null },
  };
}

/** Sets the constant intensity and adds (or replaces) hourly values; statements use them from their next run. */
export async function putCo2Settings(
  db: Db,
  principal: Principal,
  communityId: string,
  input: { gramsPerKWh: number; hourly?: { hour: string; gramsPerKWh: number }[] | undefined },
): Promise<Co2Settings> {
  await requireCommunityManager(db, principal, communityId);
  const hourly = input.hourly ?? [];
  const seen = new Set<number>();
  for (const [index, entry] of hourly.entries()) {
    const ms = Date.parse(entry.hour);
    if (ms % 3_600_000 !== 0) throw new BadRequestError(`body/hourly/${index}/hour: must be the start of a UTC hour`, `body/hourly/${index}/hour`);
    if (seen.has(ms)) throw new BadRequestError(`body/hourly/${index}/hour: appears twice`, `body/hourly/${index}/hour`);
    seen.add(ms);
  }
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO co2_intensity (community_id, grams_per_kwh) VALUES ($1, $2)
       ON CONFLICT (community_id) DO UPDATE SET grams_per_kwh = EXCLUDED.grams_per_kwh, updated_at = now()`,
      [communityId, input.gramsPerKWh],
    );
    if (hourly.length > 0) {
      await tx.query(
        `INSERT INTO co2_intensity_hours (community_id, hour, grams_per_kwh)
         SELECT $1, h, g FROM unnest($2::timestamptz[], $3::numeric[]) AS u(h, g)
         ON CONFLICT (community_id, hour) DO UPDATE SET grams_per_kwh = EXCLUDED.grams_per_kwh`,
        [communityId, hourly.map((h) => new Date(h.hour)), hourly.map((h) => h.gramsPerKWh)],
      );
    }
  });
  return getCo2Settings(db, principal, communityId);
}

/** The intensity to price CO2 with over [fromMs, toMs) (no authorisation: callers checked it). */
export async function loadCo2Intensity(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<Co2Intensity> {
  const constant = await db.query<{ grams_per_kwh: string }>('SELECT grams_per_kwh::text FROM co2_intensity WHERE community_id = $1', [communityId]);
  const fallback = constant[0] ? Number(constant[0].grams_per_kwh) : 0;
  const hours = await db.query<{ hour: Date; grams_per_kwh: string }>(
    'SELECT hour, grams_per_kwh::text FROM co2_intensity_hours WHERE community_id = $1 AND hour >= $2 AND hour < $3',
    [communityId, new Date(Math.floor(fromMs / 3_600_000) * 3_600_000), new Date(toMs)],
  );
  if (hours.length === 0) return { kind: 'constant', gramsPerKWh: fallback };
  return { kind: 'hourly', gramsPerKWh: new Map(hours.map((h) => [h.hour.getTime(), Number(h.grams_per_kwh)])), fallback };
}

