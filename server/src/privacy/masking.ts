import { randomBytes } from 'node:crypto';
import type { Principal, UserPrincipal } from '../kernel/principal.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { csvRecord } from '../kernel/csv.js';
import { DAY_MS, formatUtcInstant } from '../kernel/time.js';
import { recordChange } from '../audit/index.js';
import { requireManager } from '../accounts/index.js';
import { loadCommunity, memberById, meteringPointsOfCommunity, type Community, type MemberRecord } from '../registry/index.js';
import { pointIntervals } from '../intervals/index.js';
import { memberQuarters } from '../sharing/index.js';
import { sealedPlace } from '../secrets/index.js';
import {
  compileRuleSet, createAccessLogEntry, createMasker, createRecordMasker, defaultRuleSet, getExportSchema, parseRuleSet,
  type CompiledMasking, type ExportSchema, type MaskingRuleSet, type RecordValue, type RegulatorIntervalRow,
} from './domain/index.js';
import { activeManagerOf, type PrivacyContext } from './service.js';
import * as store from './store.js';

/** The exports a manager downloads from the server, each masked by the community's rule set for it. */
export const MANAGER_EXPORTS = ['regulator-intervals'] as const;
export type ManagerExport = (typeof MANAGER_EXPORTS)[number];

/** A regulator export covers at most a month and a day at a time: a request's answer stays bounded. */
export const MAX_REGULATOR_EXPORT_MS = 32 * DAY_MS;
const SALT_BYTES = 32;

const saltPlace = (communityId: string) => sealedPlace('masking_salts', 'salt', communityId);

function schemaOf(name: string): ExportSchema {
  const schema = (MANAGER_EXPORTS as readonly string[]).includes(name) ? getExportSchema(name) : undefined;
  if (!schema) throw new NotFoundError('export');
  return schema;
}

export async function managedCommunity(ctx: PrivacyContext, principal: Principal, communityId: string): Promise<{ community: Community; user: UserPrincipal }> {
  const user = requireManager(principal, communityId);
  const community = await loadCommunity(ctx.db, communityId);
  if (!community) throw new NotFoundError('community');
  return { community, user };
}

/** The community's salt, made (32 random bytes, sealed) the first time an export needs one and kept for good. */
async function saltOf(ctx: PrivacyContext, communityId: string): Promise<Uint8Array> {
  const sealed = await store.maskingSaltOf(ctx.db, communityId)
    ?? await store.insertMaskingSalt(ctx.db, communityId, ctx.box.seal(randomBytes(SALT_BYTES).toString('hex'), saltPlace(communityId)), ctx.now());
  return Buffer.from(ctx.box.open(sealed, saltPlace(communityId)), 'hex');
}

/** The rule set an export of the community applies: the managers' own, else the cautious default. */
async function ruleSetFor(ctx: PrivacyContext, community: Community, schema: ExportSchema): Promise<{ ruleSet: MaskingRuleSet; updatedAt: number | null }> {
  const stored = await store.ruleSetOf(ctx.db, community.id, schema.name);
  return stored ?? { ruleSet: defaultRuleSet(schema, countryOf(community)), updatedAt: null };
}

const countryOf = (community: Community) => community.country?.toUpperCase();

const compile = async (ctx: PrivacyContext, community: Community, ruleSet: MaskingRuleSet): Promise<CompiledMasking> =>
  compileRuleSet(ruleSet, { salt: await saltOf(ctx, community.id), country: countryOf(community) });

export async function communityRuleSets(ctx: PrivacyContext, principal: Principal, communityId: string) {
  const { community } = await managedCommunity(ctx, principal, communityId);
  const sets = [];
  for (const name of MANAGER_EXPORTS) {
    const schema = schemaOf(name);
    sets.push({ schema, ...(await ruleSetFor(ctx, community, schema)) });
  }
  return sets;
}

export interface RuleSetInput {
  readonly name: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly otherFields: 'keep' | 'drop';
}

/** A manager's rule set for one export, checked against the export's fields (every problem at once) before it is stored and trailed. */
export async function putRuleSet(ctx: PrivacyContext, principal: Principal, communityId: string, schemaName: string, input: RuleSetInput) {
  const { community, user } = await managedCommunity(ctx, principal, communityId);
  const schema = schemaOf(schemaName);
  const ruleSet = parseRuleSet({ ...input, schema: schema.name });
  await compile(ctx, community, ruleSet);
  const at = ctx.now();
  await ctx.events.transaction(ctx.db, async (tx, publish) => {
    const before = await store.ruleSetOf(tx, communityId, schema.name);
    await store.saveRuleSet(tx, communityId, ruleSet, at, user.userId);
    await recordChange(publish, { kind: 'masking', communityId, resourceId: `${communityId}:${schema.name}`, action: 'set', before: before?.ruleSet ?? null, after: ruleSet, atMs: at });
  });
  return { schema, ruleSet, updatedAt: at };
}

/** The rule set and salt a regulator export of the community applies, compiled. */
export async function regulatorMasking(ctx: PrivacyContext, community: Community): Promise<CompiledMasking> {
  return compile(ctx, community, (await ruleSetFor(ctx, community, schemaOf('regulator-intervals'))).ruleSet);
}

/** Whose data a regulator export held: member id → their metering points in it. */
export type RegulatorReads = Map<string, string[]>;

/**
 * Writes the regulator export of a period as CSV lines (the header first), metering point by
 * metering point, masked as they go (per metering point and quarter hour: who, where, how much).
 * From and to community come from the member's energy by source, so they are given where the
 * member has one metering point only (a member's share is not split between points); empty
 * otherwise. Each metering point is one unit of work for `report`. Returns whose data it held.
 */
export async function writeRegulatorCsv(
  ctx: PrivacyContext, community: Community, masking: CompiledMasking, fromMs: number, toMs: number,
  line: (text: string) => Promise<void> | void, report: (done: number, total: number) => Promise<void> | void = () => undefined,
): Promise<RegulatorReads> {
  const points = await meteringPointsOfCommunity(ctx.db, community.id);
  const pointsOfMember = new Map<string, number>();
  for (const p of points) pointsOfMember.set(p.memberId, (pointsOfMember.get(p.memberId) ?? 0) + 1);
  const members = new Map<string, MemberRecord>();
  const read: RegulatorReads = new Map();
  const masker = createRecordMasker(masking);
  let headerWritten = false;
  const write = async (rows: Record<string, RecordValue>[]) => {
    for (const row of rows) {
      const header = masker.header!;
      if (!headerWritten) await line(csvRecord(header));
      headerWritten = true;
      await line(csvRecord(header.map((name) => row[name] ?? '')));
    }
  };
  await report(0, points.length);
  for (const [index, point] of points.entries()) {
    const member = members.get(point.memberId) ?? await memberById(ctx.db, point.memberId);
    if (member) {
      members.set(member.id, member);
      const intervals = (await pointIntervals(ctx.db, point.id, fromMs, toMs)).sort((a, b) => a.startMs - b.startMs);
      if (intervals.length > 0) {
        read.set(member.id, [...(read.get(member.id) ?? []), point.id]);
        const shares = pointsOfMember.get(member.id) === 1 ? new Map((await memberQuarters(ctx.db, member.id, fromMs, toMs)).map((q) => [q.startMs, q])) : new Map();
        for (const i of intervals) {
          const share = shares.get(i.startMs);
          const row: RegulatorIntervalRow = {
            metering_point: point.gridConnectionId, member_name: member.displayName, address: point.address, interval_start: formatUtcInstant(i.startMs),
            consumption_wh: i.importWh, from_community_wh: share?.fromCommunityWh ?? null, production_wh: i.exportWh, to_community_wh: share?.toCommunityWh ?? null,
            quality: i.quality,
          };
          await write(masker.push(row));
        }
      }
    }
    await report(index + 1, points.length);
  }
  await write(masker.end());
  // Without a row the header is the masked schema's (its required fields under the rules).
  if (!headerWritten) await line(csvRecord(createMasker(masking, masking.schema.fields.filter((f) => !f.optional).map((f) => f.name)).header));
  return read;
}

/** Each member whose data a regulator export held has the read in their access log (masked or not). */
export async function logRegulatorReads(
  ctx: PrivacyContext, reads: RegulatorReads, at: { communityId: string; fromMs: number; toMs: number; masking: CompiledMasking; route: string },
  reader: { kind: 'manager' | 'admin'; userId: string; name: string },
): Promise<void> {
  for (const [memberId, pointIds] of reads) {
    await store.insertAccess(ctx.db, createAccessLogEntry({
      at: ctx.now(), communityId: at.communityId, subject: memberId, accessor: reader,
      data: { category: 'intervals', meteringPoints: pointIds, period: { fromMs: at.fromMs, toMs: at.toMs }, resolution: at.masking.timeGrain ? '1h' : '15m' },
      purpose: 'settlement',
    }), at.route);
  }
}

/** A regulator export's period: `from` before `to`, at most `maxMs` long, ending at most a day ahead. */
export function checkRegulatorPeriod(ctx: PrivacyContext, fromMs: number, toMs: number, maxMs: number, at: 'querystring' | 'body'): void {
  if (!(fromMs < toMs)) throw new BadRequestError('from must be before to', `${at}/from`);
  if (toMs - fromMs > maxMs) throw new BadRequestError(`an export covers at most ${maxMs / DAY_MS} days`, `${at}/to`);
  if (toMs > ctx.now() + DAY_MS) throw new BadRequestError('to lies in the future', `${at}/to`);
}

export const regulatorExportFileName = (fromMs: number, toMs: number) => {
  const day = (ms: number) => formatUtcInstant(ms).slice(0, 10);
  return `regulator-intervals-${day(fromMs)}-${day(toMs)}.csv`;
};

/** The regulator export of at most 32 days at once, masked by the community's rule set before any of it leaves. */
export async function regulatorExport(ctx: PrivacyContext, principal: Principal, communityId: string, fromMs: number, toMs: number): Promise<{ fileName: string; csv: string }> {
  const { community, user } = await managedCommunity(ctx, principal, communityId);
  checkRegulatorPeriod(ctx, fromMs, toMs, MAX_REGULATOR_EXPORT_MS, 'querystring');
  const masking = await regulatorMasking(ctx, community);
  const lines: string[] = [];
  const reads = await writeRegulatorCsv(ctx, community, masking, fromMs, toMs, (text) => { lines.push(`${text}\r\n`); });
  await logRegulatorReads(ctx, reads, { communityId, fromMs, toMs, masking, route: 'GET /api/v1/communities/:id/exports/regulator-intervals.csv' },
    { kind: activeManagerOf(user, communityId) ? 'manager' : 'admin', userId: user.userId, name: user.email });
  return { fileName: regulatorExportFileName(fromMs, toMs), csv: lines.join('') };
}
