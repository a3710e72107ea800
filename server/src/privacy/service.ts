import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { EventPayload } from '../kernel/events.js';
import { recordChange, redactEntriesAbout } from '../audit/index.js';
import type { Principal, UserPrincipal } from '../kernel/principal.js';
import type { Resolution } from '../kernel/calendar.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../kernel/errors.js';
import { DAY_MS, floorToQuarterHour } from '../kernel/time.js';
import { isManagerOf, isMemberOf, pseudonymiseUser, requireManager, requireUser } from '../accounts/index.js';
import {
  devicesOfMembers, getMember, loadCommunity, memberById, membershipsOfUser, meteringPointById, meteringPointIdsOfMember, pseudonymiseMembersOfUser,
  releaseDevicesOfMembers,
  type Community,
} from '../registry/index.js';
import { deleteReadingsAtPoints, deleteReadingsInWindows } from '../ingest/index.js';
import { forgetSalts } from '../ledger/index.js';
import type { SecretBox } from '../secrets/index.js';
import { pointIntervals } from '../intervals/index.js';
import { eraseBillingMasterData, pseudonymiseStatements } from '../billing/index.js';
import {
  createAccessLogEntry, createGrant, createPseudonym, grantState, DEFAULT_RAW_READINGS_DAYS, defaultRetentionPolicy, grantDigest, LEGAL_MINIMUMS, mayRead, planErasure, Pseudonymiser,
  reduceToGrant, refusalError, revokeGrant, validateRetentionPolicy,
  type AccessedData, type ConsentQuantity, type DataScope, type ErasurePlan, type Grant, type LegalMinimum, type PersonalDataKind, type ProcessingPurpose,
  type Recipient, type RetentionPolicy, type StatedPurpose, type ReducedPoint,
} from './domain/index.js';
import { sha256Hex } from './domain/crypto.js';
import * as store from './store.js';

/** The clock and randomness the capability runs on (tests pass their own clock). */
export interface PrivacyContext {
  readonly db: Db;
  readonly now: () => number;
  /** Consents given and revoked go on the audit trail, in their own transaction. */
  readonly events: EventPublisher;
  /** Called for each device an erasure released, once committed: ingest's directory and the broker forget its binding at once. */
  readonly deviceChanged: (deviceId: string) => void;
  /** Seals the community's masking salt at rest (secrets' box, like device keys). */
  readonly box: SecretBox;
  /** Where export jobs write their files (a private folder beside the provisioning artefacts; kept across restarts). */
  readonly exportsDir: string;
}

/** An export job's file: named by the job's id alone (never by anything the requester chose). */
export function exportFilePath(ctx: Pick<PrivacyContext, 'exportsDir'>, jobId: string): string {
  if (!UUID.test(jobId)) throw new Error(`not an export job id: ${jobId}`);
  return join(ctx.exportsDir, `${jobId}.export`);
}

/** A member's own record: only the member acts on their consents, log, export and erasure. Managers and admins see it exists (403). */
export async function ownMember(db: Queryable, principal: Principal, memberId: string, allowAdmin = false) {
  const user = requireUser(principal);
  const member = await getMember(db, principal, memberId);
  const own = user.memberships.some((m) => m.memberId === memberId);
  if (!own && !(allowAdmin && user.isAdmin)) throw new ForbiddenError('only the member themself');
  return { user, member, own };
}

async function communityOf(db: Queryable, id: string): Promise<Community> {
  const community = await loadCommunity(db, id);
  if (!community) throw new NotFoundError('community');
  return community;
}

/** The country's legal minimum for billing records; a community without a preset keeps them as long as the strictest preset. */
export function legalMinimumOf(community: Pick<Community, 'country'>): LegalMinimum {
  const preset = community.country === null ? undefined : LEGAL_MINIMUMS[community.country.toUpperCase()];
  if (preset) return preset;
  const strictest = Object.values(LEGAL_MINIMUMS).reduce((a, b) => (b.billingRecordsYears > a.billingRecordsYears ? b : a));
  // A community without a country is held to the EU's longest period; one without a preset to that too, under its own code.
  const country = community.country?.toUpperCase() ?? 'EU';
  return { ...strictest, country, source: `no preset for ${country}: the longest preset, ${strictest.country}: ${strictest.source}` };
}

export async function retentionOf(db: Queryable, community: Community): Promise<RetentionPolicy & { updatedAt: number | null }> {
  const stored = await store.retentionPolicyOf(db, community.id);
  return stored ?? { ...defaultRetentionPolicy(legalMinimumOf(community)), updatedAt: null };
}

/**
 * The longest raw-readings retention of any community, in days: what the readings table's
 * partitions (one for all communities) are kept for. A community without a policy of its own keeps
 * them the default time, so that is the least; a shorter policy is the privacy job's to enforce
 * within the partitions kept.
 */
export async function longestRawReadingsRetentionDays(db: Queryable): Promise<number> {
  return Math.max(DEFAULT_RAW_READINGS_DAYS, (await store.longestStoredRawReadingsDays(db)) ?? 0);
}

// ---- consents ----

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface GrantInput {
  readonly recipient: Recipient;
  readonly scope: DataScope;
  readonly purpose: StatedPurpose;
  readonly validUntil: number;
}

export async function listConsents(ctx: PrivacyContext, principal: Principal, memberId: string) {
  await ownMember(ctx.db, principal, memberId);
  return {
    given: await store.grantsOfGrantor(ctx.db, memberId),
    received: await store.grantsOfRecipient(ctx.db, 'member', memberId),
  };
}

export async function grantConsent(ctx: PrivacyContext, principal: Principal, memberId: string, input: GrantInput): Promise<{ grant: store.StoredGrant; recipientToken: string | undefined }> {
  const { member } = await ownMember(ctx.db, principal, memberId);
  if (input.recipient.kind === 'member' && !(UUID.test(input.recipient.id) && (await memberById(ctx.db, input.recipient.id)))) {
    throw new BadRequestError('no such member to grant to', 'body/recipient/id');
  }
  const grant = createGrant({ grantor: memberId, ...input }, {
    id: randomUUID(), communityId: member.communityId, now: ctx.now(), ownMeteringPoints: new Set(await meteringPointIdsOfMember(ctx.db, memberId)),
  });
  const digest = grantDigest(grant);
  // A member reads with their own login; anyone else gets a token for this grant alone, shown this once.
  const recipientToken = grant.recipient.kind === 'member' ? undefined : newRecipientToken();
  return ctx.events.transaction(ctx.db, async (tx, publish) => {
    await store.insertGrant(tx, grant, digest);
    if (recipientToken !== undefined) await store.insertRecipientToken(tx, grant, sha256Hex(recipientToken), grant.createdAt);
    const stored = { ...grant, digest };
    await recordChange(publish, { kind: 'consent', communityId: member.communityId, resourceId: grant.id, action: 'grant', before: null, after: stored, subjectMemberId: memberId, atMs: grant.createdAt });
    await publish('consent.changed', consentEvent(stored, 'granted', grant.createdAt));
    return { grant: stored, recipientToken };
  });
}

/** Recipient tokens say what they are, so one pasted in the wrong place is recognised (and secret scanners find them). */
const RECIPIENT_TOKEN_PREFIX = 'gsc_';

/** The verifiable record's view of a grant's change: who (as ids the ledger commits to), to whom, why, until when, and the digest of its terms. */
export function consentEvent(grant: store.StoredGrant, state: 'granted' | 'revoked', atMs: number): EventPayload<'consent.changed'> {
  return {
    communityId: grant.communityId, grantId: grant.id, grantorMemberId: grant.grantor, recipientKind: grant.recipient.kind, recipientId: grant.recipient.id,
    purpose: grant.purpose.code, state, validUntilMs: grant.validUntil, digest: grant.digest, atMs,
  };
}

/** A grant on the audit trail (which is JSON): a paid offer's amount as text. */
export function auditGrant(grant: store.StoredGrant) {
  const { origin } = grant;
  if (origin.kind !== 'offer' || origin.payment.kind === 'free') return grant;
  return { ...grant, origin: { ...origin, payment: { ...origin.payment, amountMinor: origin.payment.amountMinor.toString() } } };
}

/** A grant the caller gave: the recipient and the grantor's managers know it exists (403), anyone else does not (404). */
async function ownGrant(ctx: PrivacyContext, principal: Principal, grantId: string): Promise<store.StoredGrant> {
  const user = requireUser(principal);
  const grant = await store.grantById(ctx.db, grantId);
  if (!grant) throw new NotFoundError('consent');
  if (!user.memberships.some((m) => m.memberId === grant.grantor)) {
    if (isManagerOf(user, grant.communityId) || user.memberships.some((m) => m.memberId === grant.recipient.id)) throw new ForbiddenError('only the member who gave the consent');
    throw new NotFoundError('consent');
  }
  return grant;
}

export async function revokeConsent(ctx: PrivacyContext, principal: Principal, grantId: string): Promise<store.StoredGrant> {
  const grant = await ownGrant(ctx, principal, grantId);
  const revoked = revokeGrant(grant, ctx.now());
  return ctx.events.transaction(ctx.db, async (tx, publish) => {
    await store.markRevoked(tx, grantId, revoked.revokedAt!);
    const after = (await store.grantById(tx, grantId))!;
    await recordChange(publish, { kind: 'consent', communityId: grant.communityId, resourceId: grantId, action: 'revoke', before: auditGrant(grant), after: auditGrant(after), subjectMemberId: grant.grantor, atMs: revoked.revokedAt! });
    if (grant.revokedAt === null) await publish('consent.changed', consentEvent(grant, 'revoked', revoked.revokedAt!));
    return after;
  });
}

/**
 * A new recipient token for a grant to a researcher, the grid operator or an app (the old one lost
 * or leaked): the old token stops opening the grant in the transaction that stores the new one's
 * hash; the new token is shown this once. Only while the grant lasts (an ended grant is granted
 * anew) and only for a recipient that reads with a token at all (a member reads with their login).
 * On the audit trail as the token's generation and time, never the token.
 */
export async function reissueRecipientToken(ctx: PrivacyContext, principal: Principal, grantId: string): Promise<{ grant: store.StoredGrant; recipientToken: string }> {
  const grant = await ownGrant(ctx, principal, grantId);
  if (grant.recipient.kind === 'member') throw new ConflictError('a member recipient reads with their own login: the consent has no token');
  const now = ctx.now();
  const state = grantState(grant, now);
  if (state === 'revoked' || state === 'expired') throw new ConflictError(`the consent is ${state}: grant it again instead`);
  const recipientToken = newRecipientToken();
  return ctx.events.transaction(ctx.db, async (tx, publish) => {
    const { before, after } = await store.replaceRecipientToken(tx, grant, sha256Hex(recipientToken), now);
    await recordChange(publish, {
      kind: 'consent', communityId: grant.communityId, resourceId: grant.id, action: 'reissue-token',
      before: before === undefined ? null : { recipientAccess: { generation: before.generation, issuedAt: new Date(before.issuedAt) } },
      after: { recipientAccess: { generation: after.generation, issuedAt: new Date(after.issuedAt) } }, subjectMemberId: grant.grantor, atMs: now,
    });
    return { grant, recipientToken };
  });
}

export const newRecipientToken = () => `${RECIPIENT_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;

export interface SeriesQuery {
  readonly meteringPoint: string;
  readonly quantity: ConsentQuantity;
  readonly resolution: Resolution;
  readonly fromMs: number;
  readonly toMs: number;
}

const INTERVAL_FIELD = { import: 'importWh', export: 'exportWh', pv: 'pvWh' } as const;

/** Who reads through a consent: a member recipient with their login or API token, any other recipient with the grant's own token. */
export type ConsentReader = { readonly principal: Principal } | { readonly recipientToken: string };

/** The grant the reader holds as its recipient, and whether a refusal may say why (a member sees their received grants anyway). */
async function heldGrant(ctx: PrivacyContext, reader: ConsentReader, grantId: string): Promise<{ grant: store.StoredGrant; explain: boolean }> {
  if ('recipientToken' in reader) {
    // A bearer credential that may have leaked: it opens its own grant only, and an ended grant's
    // token learns nothing, not even that it was ever valid.
    const grant = (await store.grantIdOfRecipientToken(ctx.db, sha256Hex(reader.recipientToken))) === grantId ? await store.grantById(ctx.db, grantId) : undefined;
    if (!grant || grant.recipient.kind === 'member') throw new NotFoundError('data');
    return { grant, explain: false };
  }
  const user = requireUser(reader.principal);
  const grant = await store.grantById(ctx.db, grantId);
  const recipientMember = grant?.recipient.kind === 'member' ? user.memberships.find((m) => m.memberId === grant.recipient.id && m.state === 'active') : undefined;
  if (!grant || !recipientMember) throw new NotFoundError('data');
  return { grant, explain: true };
}

/**
 * A consent recipient reads through a grant: only what the grant covers, at its resolution, final
 * buckets only; every read is in the grantor's access log. Another caller learns nothing (404); a
 * member recipient is told a revoked or expired grant is (403), a token holder is not (404).
 */
export async function readThroughConsent(ctx: PrivacyContext, reader: ConsentReader, grantId: string, query: SeriesQuery): Promise<{ grant: store.StoredGrant; points: ReducedPoint[] }> {
  const { grant, explain } = await heldGrant(ctx, reader, grantId);
  const now = ctx.now();
  const held = grant.recipient.kind === 'member'
    ? (await store.grantsOfRecipient(ctx.db, 'member', grant.recipient.id)).filter((g) => g.grantor === grant.grantor)
    : [grant];
  const decision = mayRead(held, grant.recipient, { grantor: grant.grantor, grantId, ...query }, now);
  if (!decision.allowed) throw explain ? refusalError(decision.refusal) : new NotFoundError('data');
  if (query.quantity === 'energy-by-source') throw new BadRequestError('energy by source is read per member, not per metering point: ask for import, export or pv', 'querystring/quantity');
  const community = await communityOf(ctx.db, grant.communityId);
  const field = INTERVAL_FIELD[query.quantity];
  const intervals = (await pointIntervals(ctx.db, query.meteringPoint, decision.window.fromMs, decision.window.toMs)).sort((a, b) => a.startMs - b.startMs);
  const points = reduceToGrant(intervals.map((i) => ({ startMs: i.startMs, wh: i[field], quality: i.quality })), {
    grant: decision.grant, resolution: query.resolution, window: decision.window, timeZone: community.timeZone, completeBefore: floorToQuarterHour(now),
  });
  await store.insertAccess(ctx.db, createAccessLogEntry({
    at: now, communityId: grant.communityId, subject: grant.grantor,
    accessor: { kind: 'recipient', recipient: grant.recipient, grantId: grant.id },
    data: { category: 'intervals', meteringPoints: [query.meteringPoint], period: decision.window, resolution: decision.resolution },
    purpose: 'consented-sharing',
  }), 'GET /api/v1/consents/:id/series');
  return { grant, points };
}

// ---- access log ----

/** What a route that serves a member's personal data tells the access log about one read. */
export interface PersonalDataRead {
  /** The member whose data it is, or the metering point it belongs to. */
  readonly subject: { readonly member: string } | { readonly meteringPoint: string };
  readonly data: Omit<AccessedData, 'meteringPoints'> & { readonly meteringPoints?: readonly string[] };
  readonly purpose: ProcessingPurpose;
  /** The route as registered ("GET /api/v1/metering-points/:id/intervals"). */
  readonly route: string;
}

/**
 * Enters a read of a member's personal data by someone other than the member (a manager, the
 * platform admin) in the member's access log. A member's reads of their own data are not logged.
 */
export async function recordPersonalDataRead(ctx: PrivacyContext, principal: Principal, read: PersonalDataRead): Promise<void> {
  if (principal.kind !== 'user') return;
  let memberId: string;
  let points = read.data.meteringPoints ?? [];
  if ('member' in read.subject) memberId = read.subject.member;
  else {
    const point = await meteringPointById(ctx.db, read.subject.meteringPoint);
    if (!point) return;
    memberId = point.memberId;
    points = [point.id];
  }
  if (principal.memberships.some((m) => m.memberId === memberId)) return;
  const member = await memberById(ctx.db, memberId);
  if (!member) return;
  const manager = activeManagerOf(principal, member.communityId);
  await store.insertAccess(ctx.db, createAccessLogEntry({
    at: ctx.now(), communityId: member.communityId, subject: memberId,
    accessor: { kind: manager ? 'manager' : 'admin', userId: principal.userId, name: principal.email },
    data: { ...read.data, meteringPoints: points },
    purpose: read.purpose,
  }), read.route);
}

/** A platform admin reading a community's data is logged as the admin, not as one of its managers. */
export const activeManagerOf = (user: UserPrincipal, communityId: string) =>
  user.memberships.some((m) => m.communityId === communityId && m.state === 'active' && m.role === 'manager');

export async function memberAccessLog(ctx: PrivacyContext, principal: Principal, memberId: string): Promise<store.StoredAccess[]> {
  await ownMember(ctx.db, principal, memberId);
  return store.accessLogOf(ctx.db, memberId, 500);
}

// ---- the community's register and retention ----

export async function requireCommunityMember(db: Queryable, principal: Principal, communityId: string): Promise<Community> {
  const user = requireUser(principal);
  const community = await loadCommunity(db, communityId);
  if (!community || !isMemberOf(user, communityId)) throw new NotFoundError('community');
  return community;
}

export async function putCommunityRetention(ctx: PrivacyContext, principal: Principal, communityId: string, policy: RetentionPolicy) {
  const user = requireManager(principal, communityId);
  const community = await communityOf(ctx.db, communityId);
  const legal = legalMinimumOf(community);
  validateRetentionPolicy(policy, legal);
  const after = await ctx.events.transaction(ctx.db, async (tx, publish) => {
    const { updatedAt: _before, ...before } = await retentionOf(tx, community);
    const at = ctx.now();
    await store.saveRetentionPolicy(tx, communityId, policy, at, user.userId);
    const saved = await retentionOf(tx, community);
    const { updatedAt: _after, ...kept } = saved;
    await recordChange(publish, { kind: 'retention', communityId, resourceId: communityId, action: 'set', before, after: kept, atMs: at });
    return saved;
  });
  return { policy: after, legal };
}

// ---- erasure ----

/**
 * An erasure request as the trail keeps it: its state and times, not the plan (which lists what
 * the member held) nor the pseudonym (which would tie the member's ids to their new name).
 */
const trailedErasure = (request: Pick<store.StoredErasure, 'requestedBy' | 'requestedAt' | 'state' | 'executedAt'>) => ({
  requestedBy: request.requestedBy, requestedAt: request.requestedAt, state: request.state, executedAt: request.executedAt,
});

/** An erasure that could not be carried out: marked failed, with why, on the trail as the job's. */
export async function failErasure(ctx: PrivacyContext, request: store.StoredErasure, error: string): Promise<void> {
  const now = ctx.now();
  await ctx.events.transaction(ctx.db, async (tx, publish) => {
    if (!(await store.markErasureFailed(tx, request.id, error, now))) return;
    await recordChange(publish, {
      kind: 'erasure', communityId: request.communityId, resourceId: request.id, action: 'fail', before: trailedErasure(request),
      after: { ...trailedErasure({ ...request, state: 'failed', executedAt: now }), error }, subjectMemberId: request.memberId, atMs: now,
    });
  });
}

export async function requestErasure(ctx: PrivacyContext, principal: Principal, memberId: string): Promise<store.StoredErasure> {
  const { member, own } = await ownMember(ctx.db, principal, memberId, true);
  if (member.role === 'manager' && member.state === 'active') throw new ConflictError('a manager hands the community over to another manager before erasing their account');
  return ctx.events.transaction(ctx.db, async (tx, publish) => {
    const request = await store.insertErasureRequest(tx, { communityId: member.communityId, memberId, requestedBy: own ? 'member' : 'admin', at: ctx.now() });
    if (!request) throw new ConflictError('this member\'s erasure was requested already');
    await recordChange(publish, {
      kind: 'erasure', communityId: member.communityId, resourceId: request.id, action: 'request', before: null, after: trailedErasure(request),
      subjectMemberId: memberId, atMs: request.requestedAt,
    });
    return request;
  });
}

export async function communityErasures(ctx: PrivacyContext, principal: Principal, communityId: string): Promise<store.StoredErasure[]> {
  requireManager(principal, communityId);
  await communityOf(ctx.db, communityId);
  return store.erasureRequestsOf(ctx.db, communityId);
}

/**
 * Carries out one erasure request in one transaction: the plan from what the member holds, then
 * the account, the memberships and metering points, the statements' names, the raw readings of
 * the devices on their sites for the periods they were, the devices themselves (released), the
 * ledger salts of their commitments, and the consents and access log. Statements, intervals and
 * energy by source stay under the pseudonym for their retention (billing law, the other members'
 * shares); the rest is gone.
 */
export async function executeErasure(ctx: PrivacyContext, request: store.StoredErasure): Promise<ErasurePlan> {
  const now = ctx.now();
  const member = await memberById(ctx.db, request.memberId);
  if (!member) throw new NotFoundError('member');
  const community = await communityOf(ctx.db, request.communityId);
  const given = await store.grantsOfGrantor(ctx.db, member.id);
  const log = await store.accessLogOf(ctx.db, member.id, 1);
  const points = await meteringPointIdsOfMember(ctx.db, member.id);
  // Any entry about the member (a statement, a trade, a consent) may have made a salt; deleting none deletes nothing.
  const holdings = new Set<PersonalDataKind>(['name', 'email', 'credentials', 'account-ids', 'statements', 'consents-received', 'ledger-salt']);
  const devices = await devicesOfMembers(ctx.db, [member.id]);
  if (devices.length > 0) holdings.add('raw-readings');
  if (devices.some((d) => d.scope.current !== undefined)) holdings.add('device-assignments');
  const newest: Partial<Record<PersonalDataKind, number>> = { statements: now };
  if (member.joinMessage !== '') holdings.add('join-message');
  if (points.length > 0) {
    for (const kind of ['address', 'metering-point-numbers', 'raw-readings', 'intervals', 'energy-by-source'] as const) holdings.add(kind);
    // A current member's quarter hours run until now.
    newest.intervals = now;
    newest['energy-by-source'] = now;
  }
  if (given.length > 0) {
    holdings.add('consents-given');
    newest['consents-given'] = Math.max(...given.map((g) => g.createdAt));
  }
  if (log[0]) {
    holdings.add('access-log');
    newest['access-log'] = log[0].at;
  }
  const plan = planErasure({
    holdings, newest, policy: await retentionOf(ctx.db, community), legal: legalMinimumOf(community), timeZone: community.timeZone, now,
  });
  const pseudonym = createPseudonym(randomBytes(16));
  const pseudonymiser = new Pseudonymiser(pseudonym);
  const { released, exports } = await ctx.events.transaction(ctx.db, async (tx, publish) => {
    // Marked done first: the row lock makes a second process that read the request as waiting
    // wait here, then find it done and change nothing (a second pseudonym would replace the first).
    if (!(await store.markErasureDone(tx, request.id, { plan, pseudonym: pseudonym.label, at: now }))) return { released: [], exports: [] };
    await recordChange(publish, {
      kind: 'erasure', communityId: request.communityId, resourceId: request.id, action: 'execute', before: trailedErasure(request),
      after: trailedErasure({ ...request, state: 'done', executedAt: now }), subjectMemberId: member.id, atMs: now,
    });
    await pseudonymiseUser(tx, member.userId, { email: pseudonymiser.replace('', 'pseudonym-email'), displayName: pseudonym.label });
    const { memberIds } = await pseudonymiseMembersOfUser(tx, member.userId, pseudonym.label, (n) => pseudonymiser.replace(n, 'pseudonym-number'));
    const sites: string[] = [];
    for (const id of memberIds) sites.push(...await meteringPointIdsOfMember(tx, id));
    await redactEntriesAbout(tx, memberIds, [member.userId, ...memberIds, ...sites]);
    await pseudonymiseStatements(tx, memberIds, pseudonym.label);
    await eraseBillingMasterData(tx, memberIds, pseudonym.label, now, community.timeZone);
    // The readings go before the devices are released: a period still open then runs on without end,
    // so nothing the device sent for the member, even stamped ahead of now, stays.
    const devices = await devicesOfMembers(tx, memberIds);
    await deleteReadingsInWindows(tx, devices.map(({ device, scope }) => ({ deviceId: device.id, windows: scope.windows })));
    const releasedIds = await releaseDevicesOfMembers(tx, memberIds);
    await forgetSalts(tx, memberIds);
    for (const id of memberIds) {
      await store.revokeAllOfMember(tx, id, now);
      await store.withdrawOffersOfErased(tx, id, now);
      await store.relabelRecipient(tx, id, pseudonym.label);
    }
    await store.relabelAccessor(tx, [member.userId, ...memberIds], pseudonym.label);
    return { released: releasedIds, exports: await store.deleteExportJobsOfMembers(tx, memberIds) };
  });
  for (const id of released) ctx.deviceChanged(id);
  // The member's export files go with their jobs; one still being written is deleted by its job, which finds its row gone.
  for (const id of exports) await rm(exportFilePath(ctx, id), { force: true });
  return plan;
}

/** How long after an erasure the privacy job still sweeps the member's sites for readings. */
const ERASURE_SWEEP_MS = 7 * DAY_MS;

/**
 * Deletes readings that reached an erased member's sites after the erasure: a group commit in
 * flight, another process's device directory still holding the binding (≤ 10 s), or a reading the
 * device buffered from the member's time and uploaded after being bound elsewhere (stored where the
 * device was then). Every reading under those sites is the member's; deleting none deletes nothing.
 */
export async function sweepErasedSites(ctx: PrivacyContext): Promise<void> {
  for (const memberId of await store.erasedSince(ctx.db, ctx.now() - ERASURE_SWEEP_MS)) {
    const member = await memberById(ctx.db, memberId);
    if (!member) continue;
    const points: string[] = [];
    for (const { memberId: id } of await membershipsOfUser(ctx.db, member.userId)) points.push(...await meteringPointIdsOfMember(ctx.db, id));
    await deleteReadingsAtPoints(ctx.db, points);
  }
}
