import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { isManagerOf, isMemberOf, requireUser } from '../accounts/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { getMember, loadCommunity, membersByName, meteringPointsOfCommunity, type Community } from '../registry/index.js';
import { createLocalClock, localDateOf, requestedBucketBoundaries, type Resolution } from '../kernel/calendar.js';
import { ENERGY_MAX_RANGE_DAYS } from '@gridshare/contract/sharing';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { ENERGY_KEYS, type EnergyBySource, type MemberInterval } from '../kernel/energy.js';
import { energyCsv } from './domain/energy-csv.js';
import { communityQuarters, energyTotals, memberQuarters, type StoredQuarter } from './store.js';

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

/** Checks `from`/`to` and aligns them outwards to whole buckets. */
export function bucketsFor(from: string, to: string, resolution: Resolution, timeZone: string): number[] {
  return requestedBucketBoundaries(from, to, resolution, timeZone, ENERGY_MAX_RANGE_DAYS[resolution]);
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

/** What billing needs of a member's quarter hours: the consumption view and the billed allocation. */
export function toMemberInterval(row: StoredQuarter): MemberInterval {
  return {
    startMs: row.startMs,
    selfConsumedWh: row.selfConsumedWh,
    fromCommunityWh: row.fromCommunityWh,
    fromGridWh: row.fromGridWh,
    toCommunityWh: row.toCommunityWh,
    toGridWh: row.toGridWh,
    billedFromCommunityWh: row.allocatedFromCommunityWh,
    gridOriginCommunityWh: row.communityGridOriginWh,
  };
}

/** A member's quarter hours of a period, to price what sharing saved them. */
export interface SavingsInput {
  memberId: string;
  communityId: string;
  periodStartMs: number;
  periodEndMs: number;
  timeZone: string;
  currency: string;
  intervals: readonly MemberInterval[];
}

/**
 * Prices what sharing saved a member and the CO2 it avoided. Billing knows the prices and is
 * passed in by the composition root: billing consumes sharing's results, sharing never imports billing.
 */
export type MemberSavings = (input: SavingsInput) => Promise<{ amount: string; co2AvoidedKg: string }>;

export async function memberEnergy(
  db: Queryable, memberSavings: MemberSavings, principal: Principal, memberId: string, query: { from: string; to: string; resolution: Resolution },
) {
  const member = await getMember(db, principal, memberId);
  const community = (await loadCommunity(db, member.communityId))!;
  const bounds = bucketsFor(query.from, query.to, query.resolution, community.timeZone);
  const fromMs = bounds[0]!;
  const toMs = bounds[bounds.length - 1]!;
  const stored = await memberQuarters(db, member.id, fromMs, toMs);
  const { series, totals } = rollUp(stored, bounds);
  const savings = await memberSavings({
    memberId: member.id, communityId: community.id, periodStartMs: fromMs, periodEndMs: toMs, timeZone: community.timeZone, currency: community.currency,
    intervals: stored.filter((r) => !r.missing).map(toMemberInterval),
  });
  return {
    memberId: member.id,
    communityId: community.id,
    timeZone: community.timeZone,
    resolution: query.resolution,
    series,
    totals,
    savings: { currency: community.currency, ...savings },
  };
}

/**
 * A member's energy by source as a CSV file, checked and authorised as the JSON view. Only the
 * buckets that have begun by `nowMs` are written (later ones hold nothing yet and are not
 * "missing"); a range that begins in the future has nothing to export and is refused.
 */
export async function memberEnergyCsv(
  db: Queryable, principal: Principal, memberId: string, query: { from: string; to: string; resolution: Resolution }, nowMs = Date.now(),
): Promise<{ fileName: string; csv: string }> {
  const member = await getMember(db, principal, memberId);
  const community = (await loadCommunity(db, member.communityId))!;
  const bounds = bucketsFor(query.from, query.to, query.resolution, community.timeZone);
  if (Date.parse(query.from) > nowMs) throw new BadRequestError('querystring/from: in the future, so there is no energy to export yet', 'querystring/from');
  const firstUnbegun = bounds.findIndex((b) => b > nowMs);
  const begun = firstUnbegun < 0 ? bounds : bounds.slice(0, firstUnbegun + 1);
  const stored = await memberQuarters(db, member.id, begun[0]!, begun[begun.length - 1]!);
  const clock = createLocalClock(community.timeZone);
  const period = `${localDateOf(bounds[0]!, clock)}-to-${localDateOf(bounds[bounds.length - 1]! - 1, clock)}`;
  return { fileName: `energy-${period}-${query.resolution}.csv`, csv: energyCsv(rollUp(stored, begun).series, clock) };
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
  const fromMs = bounds[0]!;
  const toMs = bounds[bounds.length - 1]!;
  const quarters = await communityQuarters(db, communityId, fromMs, toMs);
  const { series, totals } = rollUp(quarters, bounds);
  const answer = {
    communityId,
    timeZone: community.timeZone,
    resolution: query.resolution,
    series,
    totals: { ...totals, ...rates(totals) },
  };
  if (!isManagerOf(principal, communityId)) return answer;
  // Active members with a site, and anyone with energy in the range (a former member), by name. A member
  // without a metering point (a manager who runs the community, or holds only its battery) has stored zeros.
  const byMember = await energyTotals(db, 'members', communityId, fromMs, toMs);
  const hasEnergy = (id: string) => { const t = byMember.get(id); return t !== undefined && (t.consumptionWh > 0 || t.productionWh > 0); };
  const members = (await membersByName(db, communityId)).filter((m) => (m.state === 'active' && m.hasSite) || hasEnergy(m.id));
  // The community batteries, and any point that was one in the range, apart from the members.
  const byBattery = await energyTotals(db, 'batteries', communityId, fromMs, toMs);
  const batteries = (await meteringPointsOfCommunity(db, communityId)).filter((p) => p.communityBattery || byBattery.has(p.id));
  const withRates = (totals: EnergyBySource | undefined) => {
    const t: EnergyTotals = { ...(totals ?? zeroTotals()) };
    return { ...t, ...rates(t) };
  };
  return {
    ...answer,
    members: members.map((m) => ({ memberId: m.id, displayName: m.displayName, totals: withRates(byMember.get(m.id)) })),
    batteries: batteries.map((p) => ({ meteringPointId: p.id, name: p.name, holderId: p.memberId, totals: withRates(byBattery.get(p.id)) })),
  };
}
