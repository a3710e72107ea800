import type { Db, Queryable } from '../platform/store/db.js';
import { createHash } from 'node:crypto';
import type { Principal } from '../kernel/principal.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { communityMeteringPoints, membersAmong, requireCommunityManager } from '../registry/index.js';
import { AllocationInputError, parseCoefficients, type CoefficientOptions } from './domain/allocation/index.js';
import { MAX_SHARE_DECIMALS, type Fraction } from './domain/allocation/shares.js';
import { markSharingDirtyFrom } from './service.js';
import { coefficientCoverage, replaceCoefficients } from './store.js';

/** What an upload stored. */
export interface CoefficientUploadResult {
  /** Periods the file covers (now replaced by it). */
  periods: number;
  periodMinutes: number;
  from: string;
  to: string;
  /** Coefficients stored (per member and period; a member's supply points are added up). */
  coefficients: number;
  /** Ids in the file that are neither a member of the community nor one of its metering points' grid connection ids (CUPS): their part goes to the grid. */
  unmatched: string[];
}

/** What the community holds. */
export interface CoefficientCoverage {
  periods: number;
  from: string | null;
  to: string | null;
  periodMinutes: number[];
}

const UNITS = 10 ** MAX_SHARE_DECIMALS;

/** Exact units of 10⁻⁹ ("0,25" → 250000000). */
const toUnits = (f: Fraction) => f.units * 10 ** (MAX_SHARE_DECIMALS - f.decimals);
const unitsText = (units: number) => (units === UNITS ? '1' : `0.${String(units).padStart(MAX_SHARE_DECIMALS, '0')}`);

/**
 * Stores a coefficient file (Spain's `CUPS;hour;coefficient`, or Gridshare's CSV, see
 * allocation/coefficients.ts) as the community's key for the periods it covers, replacing what
 * was stored for them; the quarter hours concerned are split again. An id in the file is a member
 * id or a metering point's grid connection id (the CUPS); ids that are neither are reported and
 * their part goes to the grid. A bad file changes nothing (400, with the line).
 */
export async function putCoefficients(db: Db, events: EventPublisher, principal: Principal, communityId: string, text: string, options: CoefficientOptions): Promise<CoefficientUploadResult> {
  await requireCommunityManager(db, principal, communityId);
  let table;
  try {
    table = parseCoefficients(text, options);
  } catch (error) {
    if (error instanceof AllocationInputError) throw new BadRequestError(`coefficients: ${error.message}`, 'body');
    throw error;
  }
  const periodMs = table.periodMs!;
  const memberOf = await memberIdsByFileId(db, communityId, [...table.memberIds]);
  const unmatched = [...table.memberIds].filter((id) => !memberOf.has(id)).sort();

  const starts: number[] = [];
  const rowMembers: string[] = [];
  const rowStarts: number[] = [];
  const rowValues: string[] = [];
  const keys = [...table.periods.keys()].sort((a, b) => a - b);
  for (const key of keys) {
    const start = key * periodMs;
    starts.push(start);
    const byMember = new Map<string, number>();
    for (const [fileId, fraction] of table.periods.get(key)!) {
      const memberId = memberOf.get(fileId);
      if (memberId !== undefined) byMember.set(memberId, (byMember.get(memberId) ?? 0) + toUnits(fraction));
    }
    for (const [memberId, units] of byMember) {
      rowMembers.push(memberId);
      rowStarts.push(start);
      rowValues.push(unitsText(units));
    }
  }
  const fromMs = keys[0]! * periodMs;
  const toMs = (keys[keys.length - 1]! + 1) * periodMs;

  const result = {
    periods: starts.length, periodMinutes: periodMs / 60_000, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(),
    coefficients: rowMembers.length, unmatched,
  };
  await events.transaction(db, async (tx, publish) => {
    await replaceCoefficients(tx, communityId, fromMs, toMs, periodMs / 60_000, starts, { memberIds: rowMembers, startsMs: rowStarts, values: rowValues });
    await markSharingDirtyFrom(tx, communityId, fromMs, toMs);
    // The file itself is the members' data: the trail keeps its fingerprint and what it covered.
    await recordChange(publish, {
      kind: 'coefficients', communityId, resourceId: `${result.from}/${result.to}`, action: 'upload', before: null,
      after: { ...result, unmatched: unmatched.length, fileName: options.fileName ?? null, sha256: createHash('sha256').update(text).digest('hex') },
    });
  });
  return result;
}

/** File ids → member ids: members of the community by id, else metering points by grid connection id. */
async function memberIdsByFileId(db: Queryable, communityId: string, ids: string[]): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const uuids = ids.filter((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id));
  for (const member of await membersAmong(db, communityId, uuids)) {
    if (member.state === 'active' || member.hasLeft) result.set(uuids.find((id) => id.toLowerCase() === member.id)!, member.id);
  }
  const fileIds = new Set(ids);
  for (const point of await communityMeteringPoints(db, communityId)) {
    if (fileIds.has(point.gridConnectionId) && !result.has(point.gridConnectionId)) result.set(point.gridConnectionId, point.memberId);
  }
  return result;
}

export async function getCoefficientCoverage(db: Queryable, principal: Principal, communityId: string): Promise<CoefficientCoverage> {
  await requireCommunityManager(db, principal, communityId);
  const coverage = await coefficientCoverage(db, communityId);
  return {
    periods: coverage.periods, from: coverage.fromMs === null ? null : new Date(coverage.fromMs).toISOString(),
    to: coverage.toMs === null ? null : new Date(coverage.toMs).toISOString(), periodMinutes: coverage.periodMinutes,
  };
}
