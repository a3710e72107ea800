import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import { isMemberOf, requireUser } from '../accounts/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { getCommunity, membersAmong, requireCommunityManager } from '../registry/index.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { shareUnits, type ShareVersion } from './domain/community-split.js';
import { markSharingDirtyFrom } from './service.js';
import { co2Settings, loadShareVersions, replaceShares, writeCo2 } from './store.js';

export interface ShareEntry { memberId: string; share: string }
export interface ShareKeyVersion { validFrom: string; shares: ShareEntry[] }

/**
 * A new version of the community's static key, in force from `validFrom` (a UTC quarter hour;
 * default: the current one). Every member must be an active member of the community (others are
 * not found), each at most once, Σ ≤ 1 exactly. Quarter hours from `validFrom` on are split again.
 */
export async function putShares(db: Db, events: EventPublisher, principal: Principal, communityId: string, input: { validFrom?: string | undefined; shares: ShareEntry[] }): Promise<ShareKeyVersion> {
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
  const active = (await membersAmong(db, communityId, [...seen])).filter((m) => m.state === 'active');
  if (active.length !== seen.size) throw new NotFoundError('member');
  return events.transaction(db, async (tx, publish) => {
    const versionOf = async () => (await loadShareVersions(tx, communityId)).find((v) => v.validFromMs === validFromMs);
    const before = await versionOf();
    await replaceShares(tx, communityId, validFromMs, input.shares);
    await markSharingDirtyFrom(tx, communityId, validFromMs);
    const stored = await versionOf();
    const version = shareKeyVersion(stored ?? { validFromMs, shares: new Map() });
    // By member, so the trail shows whose share changed, not just that the list did.
    const trailed = (v: ShareVersion | undefined) => v && { validFrom: version.validFrom, shares: Object.fromEntries(v.shares) };
    await recordChange(publish, { kind: 'share', communityId, resourceId: version.validFrom, action: 'set', before: trailed(before) ?? null, after: trailed(stored) ?? null });
    return version;
  });
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
  const stored = await co2Settings(db, communityId);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return { gramsPerKWh: stored.gramsPerKWh, hourly: { hours: stored.hours, from: iso(stored.fromMs), to: iso(stored.toMs) } };
}

/** Sets the constant intensity and adds (or replaces) hourly values; statements use them from their next run. */
export async function putCo2Settings(
  db: Db,
  events: EventPublisher,
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
  return events.transaction(db, async (tx, publish) => {
    const before = await getCo2Settings(tx, principal, communityId);
    await writeCo2(tx, communityId, input.gramsPerKWh, hourly.map((h) => ({ hourMs: Date.parse(h.hour), gramsPerKWh: h.gramsPerKWh })));
    const after = await getCo2Settings(tx, principal, communityId);
    await recordChange(publish, { kind: 'co2-intensity', communityId, resourceId: communityId, action: 'set', before, after });
    return after;
  });
}
