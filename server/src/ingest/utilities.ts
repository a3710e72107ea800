import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { requestedBucketBoundaries, type Resolution } from '../kernel/calendar.js';
import { DAY_MS } from '../kernel/time.js';
import { getMember, loadCommunity, meteringPointIdsOfMember } from '../registry/index.js';
import { ENERGY_MAX_RANGE_DAYS } from '@gridshare/contract/sharing';
import type { MemberUtilities } from '@gridshare/contract/ingest';
import { isUtilityQuantity, UTILITY_QUANTITIES, utilityUsage, type RegisterReading } from './domain/utility-usage.js';
import { registerReadingsAtBoundaries } from './store.js';

/** How far beyond the range a reading is looked for to interpolate the edges: a meter read monthly still counts. */
const EDGE_MARGIN_MS = 35 * DAY_MS;

/** Gas, water and heat a member's sites used per bucket (only what their meters report), checked and authorised as their energy. */
export async function memberUtilities(
  db: Queryable, principal: Principal, memberId: string, query: { from: string; to: string; resolution: Resolution },
): Promise<MemberUtilities> {
  const member = await getMember(db, principal, memberId);
  const community = (await loadCommunity(db, member.communityId))!;
  const bounds = requestedBucketBoundaries(query.from, query.to, query.resolution, community.timeZone, ENERGY_MAX_RANGE_DAYS[query.resolution]);
  const rows = await registerReadingsAtBoundaries(db, await meteringPointIdsOfMember(db, member.id), UTILITY_QUANTITIES, bounds, EDGE_MARGIN_MS);
  const readings: RegisterReading[] = rows.flatMap((r) => isUtilityQuantity(r.quantity) ? [{ deviceId: r.deviceId, quantity: r.quantity, ts: r.ts.getTime(), value: r.value }] : []);
  return {
    memberId: member.id,
    timeZone: community.timeZone,
    resolution: query.resolution,
    utilities: utilityUsage(readings, bounds).map((usage) => ({
      ...usage,
      buckets: usage.buckets.map((b) => ({ start: new Date(b.start).toISOString(), end: new Date(b.end).toISOString(), amount: b.amount, complete: b.complete })),
    })),
  };
}
