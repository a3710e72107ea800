import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { isManagerOf, isMemberOf, requireUser } from '../accounts/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { getMember } from '../registry/index.js';
import { loadCommunity, type Community } from '../registry/index.js';
import { bucketBoundaries, type Resolution } from '../kernel/calendar.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { buildStatement } from '../billing/index.js';
import { loadTariffs } from '../registry/index.js';
import { loadCo2Intensity } from './settings.js';

import { ENERGY_KEYS, type EnergyBySource, type MemberInterval } from '../kernel/energy.js';
/** Energy by source, the seven fields of SHARING-API.md, as running sums. */
export type EnergyTotals = { -readonly [K in keyof EnergyBySource]: number };

export type BucketQuality = 'measured' | 'estimated' | 'missing' | 'partial';

export interface EnergyBucket extends EnergyTotals {
  start: string;
  end: string;
  quality: BucketQuality;
  /** Some quarter hour's split was made while another member's data was missing. */
  provisional: boolean;
}

/** One quarter hour as stored (for a member, or summed over a community). */
export interface QuarterRow extends EnergyTotals {
  startMs: number;
  /** No data at all (a member's row, or every member of a community, missing). */
  missing: boolean;
  /** Known only in part (some members of a community missing). */
  incomplete: boolean;
  estimated: boolean;
  provisional: boolean;
}


export const zeroTotals = (): EnergyTotals => ({ consumptionWh: 0, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0 });

function addTotals(into: EnergyTotals, from: EnergyTotals): void {
  for (const f of ENERGY_KEYS) into[f] += from[f];
}

/** Longest range per resolution, so one request stays bounded (quarter hours read ≤ ~110,000). */
export const MAX_RANGE_DAYS: Record<Resolution, number> = { '15m': 93, '1h': 366, '1d': 1_100, '1mo': 1_100 };

/** Checks `from`/`to` and aligns them outwards to whole buckets. */
export function bucketsFor(from: string, to: string, resolution: Resolution, timeZone: string): number[] {
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  if (!(toMs > fromMs)) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
  if (toMs - fromMs > MAX_RANGE_DAYS[resolution] * 86_400_000) {
    throw new BadRequestError(`querystring/to: at most ${MAX_RANGE_DAYS[resolution]} days at resolution ${resolution}`, 'querystring/to');
  }
  return bucketBoundaries(fromMs, toMs, resolution, timeZone);
}

/**
 * Sums quarter hours into buckets. A quarter hour without a row, or with missing data, counts as
 * missing: a bucket with no data at all is `missing` (zeros), one with some is `partial`.
 */
export function rollUp(rows: readonly QuarterRow[], bounds: readonly number[]): { series: EnergyBucket[]; totals: EnergyTotals } {
  const series: EnergyBucket[] = [];
  const totals = zeroTotals();
  let r = 0;
  for (let b = 0; b + 1 < bounds.length; b++) {
    const start = bounds[b]!;
    const end = bounds[b + 1]!;
    const bucket = zeroTotals();
    let known = 0;
    let estimated = false;
    let provisional = false;
    let incomplete = false;
    while (r < rows.length && rows[r]!.startMs < start) r++;
    while (r < rows.length && rows[r]!.startMs < end) {
      const row = rows[r++]!;
      provisional ||= row.provisional;
      if (row.missing) { incomplete = true; continue; }
      known += 1;
      incomplete ||= row.incomplete;
      estimated ||= row.estimated;
      addTotals(bucket, row);
    }
    const expected = (end - start) / QUARTER_HOUR_MS;
    const quality: BucketQuality = known === 0 ? 'missing' : known < expected || incomplete ? 'partial' : estimated ? 'estimated' : 'measured';
    addTotals(totals, bucket);
    series.push({ start: new Date(start).toISOString(), end: new Date(end).toISOString(), ...bucket, quality, provisional });
  }
  return { series, totals };
}

interface StoredRow {
  start: Date;
  consumption_wh: number;
  self_consumed_wh: number;
  from_community_wh: number;
  from_grid_wh: number;
  production_wh: number;
  to_community_wh: number;
  to_grid_wh: number;
  allocated_from_community_wh: number;
  community_grid_origin_wh: number;
  missing: boolean;
  incomplete: boolean;
  estimated: boolean;
  provisional: boolean;
}

function toQuarter(row: StoredRow): QuarterRow {
  return {
    startMs: row.start.getTime(),
    consumptionWh: row.consumption_wh,
    selfConsumedWh: row.self_consumed_wh,
    fromCommunityWh: row.from_community_wh,
    fromGridWh: row.from_grid_wh,
    productionWh: row.production_wh,
    toCommunityWh: row.to_community_wh,
    toGridWh: row.to_grid_wh,
    missing: row.missing,
    incomplete: row.incomplete,
    estimated: row.estimated,
    provisional: row.provisional,
  };
}

const MEMBER_ROW = `start, consumption_wh, self_consumed_wh, from_community_wh, from_grid_wh, production_wh, to_community_wh, to_grid_wh,
  allocated_from_community_wh, community_grid_origin_wh, quality = 'missing' AS missing, false AS incomplete, quality = 'estimated' AS estimated, provisional`;

/** A member's stored quarter hours in [fromMs, toMs), ascending. */
export async function memberQuarters(db: Queryable, memberId: string, fromMs: number, toMs: number): Promise<StoredRow[]> {
  return db.query<StoredRow>(
    `SELECT ${MEMBER_ROW} FROM member_energy WHERE member_id = $1 AND start >= $2 AND start < $3 ORDER BY start`,
    [memberId, new Date(fromMs), new Date(toMs)],
  );
}

/** What billing needs of a member's quarter hours: the consumption view and the billed allocation. */
export function toMemberInterval(row: StoredRow): MemberInterval {
  return {
    startMs: row.start.getTime(),
    selfConsumedWh: row.self_consumed_wh,
    fromCommunityWh: row.from_community_wh,
    fromGridWh: row.from_grid_wh,
    toCommunityWh: row.to_community_wh,
    toGridWh: row.to_grid_wh,
    billedFromCommunityWh: row.allocated_from_community_wh,
    gridOriginCommunityWh: row.community_grid_origin_wh,
  };
}

export async function memberEnergy(db: Queryable, principal: Principal, memberId: string, query: { from: string; to: string; resolution: Resolution }) {
  const member = await getMember(db, principal, memberId);
  const community = (await loadCommunity(db, member.communityId))!;
  const bounds = bucketsFor(query.from, query.to, query.resolution, community.timeZone);
  const fromMs = bounds[0]!;
  const toMs = bounds[bounds.length - 1]!;
  const stored = await memberQuarters(db, member.id, fromMs, toMs);
  const { series, totals } = rollUp(stored.map(toQuarter), bounds);
  const tariffs = await loadTariffs(db, community.id);
  const co2 = await loadCo2Intensity(db, community.id, fromMs, toMs);
  const statement = buildStatement({
    memberId: member.id, periodStartMs: fromMs, periodEndMs: toMs, timeZone: community.timeZone, currency: community.currency,
    intervals: stored.filter((r) => !r.missing).map(toMemberInterval), tariffs, co2,
  });
  return {
    memberId: member.id,
    communityId: community.id,
    timeZone: community.timeZone,
    resolution: query.resolution,
    series,
    totals,
    savings: { currency: community.currency, amount: statement.savings, co2AvoidedKg: statement.co2AvoidedKg },
  };
}

/** Rates of a community (or member) total; null where the denominator is 0. */
function rates(t: EnergyTotals) {
  return {
    selfSufficiency: t.consumptionWh === 0 ? null : (t.selfConsumedWh + t.fromCommunityWh) / t.consumptionWh,
    selfConsumptionRate: t.productionWh === 0 ? null : (t.selfConsumedWh + t.toCommunityWh) / t.productionWh,
  };
}

export async function communityEnergy(db: Queryable, principal: Principal, communityId: string, query: { from: string; to: string; resolution: Resolution }) {
  requireUser(principal);
  const community: Community | undefined = await loadCommunity(db, communityId);
  if (!community || !isMemberOf(principal, communityId)) throw new NotFoundError('community');
  const bounds = bucketsFor(query.from, query.to, query.resolution, community.timeZone);
  const from = new Date(bounds[0]!);
  const to = new Date(bounds[bounds.length - 1]!);
  const quarters = await db.query<StoredRow>(
    `SELECT start, sum(consumption_wh)::int8 AS consumption_wh, sum(self_consumed_wh)::int8 AS self_consumed_wh,
       sum(from_community_wh)::int8 AS from_community_wh, sum(from_grid_wh)::int8 AS from_grid_wh, sum(production_wh)::int8 AS production_wh,
       sum(to_community_wh)::int8 AS to_community_wh, sum(to_grid_wh)::int8 AS to_grid_wh,
       sum(allocated_from_community_wh)::int8 AS allocated_from_community_wh, sum(community_grid_origin_wh)::int8 AS community_grid_origin_wh,
       bool_and(quality = 'missing') AS missing, bool_or(quality = 'missing') AS incomplete,
       bool_or(quality = 'estimated') AS estimated, bool_or(provisional) AS provisional
     FROM member_energy WHERE community_id = $1 AND start >= $2 AND start < $3 GROUP BY start ORDER BY start`,
    [communityId, from, to],
  );
  const { series, totals } = rollUp(quarters.map(toQuarter), bounds);
  const answer = {
    communityId,
    timeZone: community.timeZone,
    resolution: query.resolution,
    series,
    totals: { ...totals, ...rates(totals) },
  };
  if (!isManagerOf(principal, communityId)) return answer;
  const perMember = await db.query<{ member_id: string; display_name: string } & Record<string, number>>(
    `SELECT m.id AS member_id, m.display_name,
       COALESCE(sum(e.consumption_wh), 0)::int8 AS consumption_wh, COALESCE(sum(e.self_consumed_wh), 0)::int8 AS self_consumed_wh,
       COALESCE(sum(e.from_community_wh), 0)::int8 AS from_community_wh, COALESCE(sum(e.from_grid_wh), 0)::int8 AS from_grid_wh,
       COALESCE(sum(e.production_wh), 0)::int8 AS production_wh, COALESCE(sum(e.to_community_wh), 0)::int8 AS to_community_wh,
       COALESCE(sum(e.to_grid_wh), 0)::int8 AS to_grid_wh
     FROM members m LEFT JOIN member_energy e ON e.member_id = m.id AND e.start >= $2 AND e.start < $3
     WHERE m.community_id = $1 AND (m.state = 'active' OR e.member_id IS NOT NULL)
     GROUP BY m.id, m.display_name ORDER BY m.display_name, m.id`,
    [communityId, from, to],
  );
  return {
    ...answer,
    members: perMember.map((m) => {
      const t: EnergyTotals = {
        consumptionWh: m.consumption_wh!, selfConsumedWh: m.self_consumed_wh!, fromCommunityWh: m.from_community_wh!, fromGridWh: m.from_grid_wh!,
        productionWh: m.production_wh!, toCommunityWh: m.to_community_wh!, toGridWh: m.to_grid_wh!,
      };
      return { memberId: m.member_id, displayName: m.display_name, totals: { ...t, ...rates(t) } };
    }),
  };
}
