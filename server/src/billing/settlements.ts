import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { canSeeMember, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { getMember, loadCommunity, loadTariffs, membersByName, meteringPointsOfCommunity, sharingParticipants, type Community } from '../registry/index.js';
import { firstIntervalStarts, knownQuarterHours } from '../intervals/index.js';
import { createLocalClock, localDateOf, monthRange } from '../kernel/calendar.js';
import { flexRewardsOfPeriods } from '../flex/index.js';
import { marketStatementFacts } from '../market/index.js';
import { DATE_RANGE_TEXT, QUARTER_HOUR_MS } from '../kernel/time.js';
import { loadCo2Intensity, memberEnergyColumns, membersWithEnergy, type SavingsInput } from '../sharing/index.js';
import { buildStatement, correctionFor, isBilledRole, StatementAccumulator, StatementPricing, type FlexRewardInput, type StatementDocument, type StatementView } from './domain/statement.js';
import { recordChange } from '../audit/index.js';
import type { EventPublisher } from '../platform/events/index.js';
import { closeDraft, communitySettlements, deleteStatements, findSettlement, findSettlementOfPeriod, findStatement, findStatementOfSequence, insertStatements, memberStatementList, openDraft, settlementStatements, settlementStatementSummaries, settlementTotals, type NewStatement, type SettlementRecord, type StatementRecord } from './store.js';
import { formatMinor, minorDigits, parseFixed } from '../kernel/money.js';
import { issueInvoices } from './invoices.js';
import { closingRefusal, expectedWindow, passedEnd, periodGaps, type PeriodGaps, type PointFacts, type PointWindow } from './domain/closing.js';

export interface StatementSummary {
  id: string;
  memberId: string;
  displayName: string;
  kind: 'statement' | 'correction';
  sequence: number;
  total: string;
  currency: string;
  createdAt: string;
}

export interface Settlement {
  id: string;
  communityId: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  state: 'draft' | 'closed';
  createdAt: string;
  computedAt: string;
  closedAt: string | null;
  statements: StatementSummary[];
  /** Σ of every statement and correction; energy totals of the issued figures. */
  totals: { currency: string; amount: string; statements: number; corrections: number; fromCommunityWh: number; toCommunityWh: number };
}

/** The settlement with its statements' summaries and totals, summed by the database (no statement document is read). */
async function settlementView(db: Queryable, record: SettlementRecord, currency: string): Promise<Settlement> {
  const statements = await settlementStatementSummaries(db, record.id);
  const totals = await settlementTotals(db, record.id);
  const digits = minorDigits(currency);
  return {
    id: record.id,
    communityId: record.communityId,
    period: record.period,
    periodStart: new Date(record.periodStartMs).toISOString(),
    periodEnd: new Date(record.periodEndMs).toISOString(),
    state: record.state,
    createdAt: record.createdAt,
    computedAt: record.computedAt,
    closedAt: record.closedAt,
    statements: statements.map(summary),
    totals: {
      currency,
      amount: formatMinor(parseFixed(totals.amount, digits), digits),
      statements: totals.statements,
      corrections: totals.corrections,
      fromCommunityWh: totals.fromCommunityWh,
      toCommunityWh: totals.toCommunityWh,
    },
  };
}

const summary = (s: Omit<StatementRecord, 'document'>): StatementSummary => ({
  id: s.id, memberId: s.memberId, displayName: s.displayName, kind: s.kind, sequence: s.sequence,
  total: s.total, currency: s.currency, createdAt: s.createdAt,
});

/**
 * The members' flexibility rewards for orders of the month's days (flex's index), per member.
 * Flex contracts are priced in the community's currency; a reward in another could not be added
 * to a statement exactly, so the month is refused rather than billed without it.
 */
async function flexRewardsOfMonth(db: Queryable, community: Community, startMs: number, endMs: number): Promise<Map<string, FlexRewardInput[]>> {
  const clock = createLocalClock(community.timeZone);
  const rewards = await flexRewardsOfPeriods(db, community.id, localDateOf(startMs, clock), localDateOf(endMs - 1, clock));
  const byMember = new Map<string, FlexRewardInput[]>();
  for (const reward of rewards) {
    if (reward.currency !== community.currency) {
      throw new ConflictError(`the flexibility reward for order ${reward.orderReference} is in ${reward.currency}, the community bills in ${community.currency}`);
    }
    const { orderReference, period, contributionWh, amountMinor } = reward;
    byMember.set(reward.memberId, [...(byMember.get(reward.memberId) ?? []), { orderReference, period, contributionWh, amountMinor }]);
  }
  return byMember;
}

/** Member-quarter hours a settlement reads at once: a few days of a small community, a day of a large one. */
const MEMBER_QUARTERS_PER_READ = 100_000;
const DAY_MS = 96 * QUARTER_HOUR_MS;

/**
 * Fresh statements of every member of the period: active members with a site, anyone with energy in it or a flexibility reward.
 * Not a manager who only runs the community: sharing books the community battery's flows on its holder's row, and the
 * battery is the community's, so that energy makes nobody a producer to bill (`isBilledRole`, as on the Billing page).
 * The period's member energy is read a few days at a time (`memberEnergyColumns`) and summed per member as it comes
 * (`StatementAccumulator`): memory stays that of a chunk and one accumulator per member, whatever the community and period.
 */
async function freshDocuments(db: Queryable, community: Community, period: string, startMs: number, endMs: number): Promise<StatementDocument[]> {
  const flexRewards = await flexRewardsOfMonth(db, community, startMs, endMs);
  const market = await marketStatementFacts(db, community.id, startMs, endMs);
  const members = await membersByName(db, community.id);
  const tariffs = await loadTariffs(db, community.id);
  const co2 = await loadCo2Intensity(db, community.id, startMs, endMs);
  // A draft of the running month expects only the quarter hours that have passed.
  const countedUntilMs = passedEnd(endMs, Date.now());
  const expected = Math.max(0, countedUntilMs - startMs) / QUARTER_HOUR_MS;
  const pricing = new StatementPricing({ periodStartMs: startMs, periodEndMs: endMs, timeZone: community.timeZone, tariffs, co2 });
  const accumulators = new Map<string, StatementAccumulator>();
  const accumulatorOf = (memberId: string) => {
    let accumulator = accumulators.get(memberId);
    if (!accumulator) {
      accumulator = new StatementAccumulator(pricing, {
        memberId, currency: community.currency, flexRewards: flexRewards.get(memberId), locale: community.locale, market: market.get(memberId),
      });
      accumulators.set(memberId, accumulator);
    }
    return accumulator;
  };
  const chunkMs = Math.max(1, Math.floor(MEMBER_QUARTERS_PER_READ / (Math.max(1, members.length) * 96))) * DAY_MS;
  for (let fromMs = startMs; fromMs < countedUntilMs; fromMs += chunkMs) {
    for (const columns of await memberEnergyColumns(db, community.id, fromMs, Math.min(fromMs + chunkMs, countedUntilMs))) {
      accumulatorOf(columns.memberId).addColumns(columns);
    }
  }
  // Energy stored for quarter hours still to come (a running month) makes a member part of it too, as it always did.
  const laterEnergy = countedUntilMs < endMs ? await membersWithEnergy(db, community.id, countedUntilMs, endMs) : new Set<string>();
  return members.filter((m) => isBilledRole(m)
    && ((m.state === 'active' && m.hasSite) || accumulators.has(m.id) || laterEnergy.has(m.id) || flexRewards.has(m.id) || market.has(m.id)))
    .map((member) => {
      const accumulator = accumulatorOf(member.id);
      const counts = accumulator.quarterCounts();
      return {
        ...accumulator.statement(),
        displayName: member.displayName,
        communityName: community.name,
        period,
        timeZone: community.timeZone,
        quarterHours: { expected, withData: counts.withData, estimated: counts.estimated, missing: expected - counts.withData, provisional: counts.provisional },
      };
    });
}

async function communityOf(db: Queryable, communityId: string): Promise<Community> {
  const community = await loadCommunity(db, communityId);
  if (!community) throw new NotFoundError('community');
  return community;
}

/** Computes (or, for a draft, recomputes) the statements of a month; a closed month is recomputed with `recompute`. */
export async function runSettlement(db: Db, principal: Principal, communityId: string, period: string): Promise<Settlement> {
  requireManager(principal, communityId);
  const community = await communityOf(db, communityId);
  const range = monthRange(period, community.timeZone);
  if (!range) throw new BadRequestError(`body/period: must be a month like 2026-10, ${DATE_RANGE_TEXT}`, 'body/period');
  if (range.startMs > Date.now()) throw new BadRequestError('body/period: the month has not begun', 'body/period');
  const existing = await findSettlementOfPeriod(db, communityId, period);
  if (existing?.state === 'closed') throw new ConflictError(`${period} is closed; recompute it to issue corrections`);
  const documents = await freshDocuments(db, community, period, range.startMs, range.endMs);
  const id = await db.transaction(async (tx) => {
    const draftId = await openDraft(tx, communityId, period, range.startMs, range.endMs);
    if (draftId === undefined) throw new ConflictError(`${period} is closed; recompute it to issue corrections`);
    await deleteStatements(tx, draftId);
    await insertStatements(tx, draftId, communityId, documents.map((document) => ({ document, kind: 'statement' as const, sequence: 0 })));
    return draftId;
  });
  return (await loadSettlement(db, id, community.currency))!;
}

async function loadSettlement(db: Queryable, id: string, currency: string): Promise<Settlement | undefined> {
  const record = await findSettlement(db, id);
  return record && settlementView(db, record, currency);
}

/** The settlement, for the community's managers (members learn that it is not theirs: 403; others 404). */
async function managedSettlement(db: Queryable, principal: Principal, id: string): Promise<{ record: SettlementRecord; community: Community }> {
  requireUser(principal);
  const record = await findSettlement(db, id);
  if (!record) throw new NotFoundError('settlement');
  requireManager(principal, record.communityId, 'settlement');
  return { record, community: await communityOf(db, record.communityId) };
}

export async function getSettlement(db: Queryable, principal: Principal, id: string): Promise<Settlement> {
  const { record, community } = await managedSettlement(db, principal, id);
  return settlementView(db, record, community.currency);
}

export async function listSettlements(db: Queryable, principal: Principal, communityId: string): Promise<Settlement[]> {
  requireManager(principal, communityId);
  const community = await communityOf(db, communityId);
  const records = await communitySettlements(db, communityId);
  return Promise.all(records.map((record) => settlementView(db, record, community.currency)));
}

/**
 * Per metering point of the community, the quarter hours of the period (up to now for a running
 * month) it should have energy for and how many of them it lacks: from its registration (or its
 * first data, if earlier) and its member's joining, until its member left.
 */
async function gapsOf(db: Queryable, community: Community, startMs: number, endMs: number): Promise<PeriodGaps> {
  const countedUntilMs = passedEnd(endMs, Date.now());
  const [points, participants, members] = await Promise.all([
    meteringPointsOfCommunity(db, community.id), sharingParticipants(db, community.id, startMs, countedUntilMs), membersByName(db, community.id),
  ]);
  const taking = new Map(participants.map((p) => [p.id, p]));
  const names = new Map(members.map((m) => [m.id, m.displayName]));
  const firstData = await firstIntervalStarts(db, points.map((p) => p.id));
  const facts: PointFacts[] = points.flatMap((p) => {
    const member = taking.get(p.memberId);
    if (!member) return [];
    return [{
      meteringPointId: p.id, meteringPointName: p.name, memberId: p.memberId, memberName: names.get(p.memberId) ?? '',
      sinceMs: Math.min(Date.parse(p.createdAt), firstData.get(p.id) ?? Infinity), activeFromMs: member.activeFromMs, leftAtMs: member.leftAtMs,
    }];
  });
  const windows = new Map<string, PointWindow>();
  for (const point of facts) {
    const window = expectedWindow(point, startMs, countedUntilMs);
    if (window) windows.set(point.meteringPointId, window);
  }
  return periodGaps(facts, windows, await knownQuarterHours(db, [...windows.values()]), countedUntilMs);
}

/** What the settlement's period lacks, for the manager deciding whether to close it. */
export async function settlementGaps(db: Queryable, principal: Principal, id: string): Promise<PeriodGaps> {
  const { record, community } = await managedSettlement(db, principal, id);
  return gapsOf(db, community, record.periodStartMs, record.periodEndMs);
}

/**
 * Closes a month that has ended: its statements become immutable (enforced by the database too)
 * and are issued. A month with no data or missing quarter hours closes only when the manager
 * confirms the count of missing quarter hours (`confirmMissing`, see domain/closing.ts).
 * `settlement.closed` and one `statement.issued` per statement are published in the closing
 * transaction (the verifiable record logs them: no closed month without its entries).
 */
export async function closeSettlement(db: Db, principal: Principal, id: string, events: EventPublisher, confirmMissing?: number): Promise<Settlement> {
  const { record, community } = await managedSettlement(db, principal, id);
  if (record.state === 'closed') throw new ConflictError(`${record.period} is already closed`);
  if (record.periodEndMs > Date.now()) throw new ConflictError(`${record.period} has not ended yet`);
  const refusal = closingRefusal(record.period, await gapsOf(db, community, record.periodStartMs, record.periodEndMs), confirmMissing);
  if (refusal) throw new ConflictError(refusal);
  return events.transaction(db, async (tx, publish) => {
    const before = await settlementView(tx, record, community.currency);
    const closedAt = await closeDraft(tx, id, requireUser(principal).userId);
    if (closedAt === undefined) throw new ConflictError(`${record.period} is already closed`);
    await publish('settlement.closed', { communityId: record.communityId, settlementId: id, period: record.period, closedAtMs: closedAt.getTime() });
    const statements = await settlementStatements(tx, id);
    await issueInvoices(tx, community, record, statements, closedAt.getTime());
    for (const s of statements) {
      await publish('statement.issued', { communityId: record.communityId, settlementId: id, statementId: s.id, memberId: s.memberId, sequence: s.sequence });
    }
    const after = (await loadSettlement(tx, id, community.currency))!;
    await recordChange(publish, { kind: 'settlement', communityId: record.communityId, resourceId: id, action: 'close', before: trailed(before), after: trailed(after) });
    return after;
  });
}

/** A settlement as the audit trail keeps it: its state and totals (each statement is its member's, and on the verifiable record). */
const trailed = ({ statements: _statements, ...settlement }: Settlement) => settlement;

/**
 * A draft is run again. A closed month gets, per member whose figures changed since, a
 * correction: the difference between a fresh statement and everything issued so far.
 */
export async function recomputeSettlement(db: Db, principal: Principal, id: string, events: EventPublisher): Promise<Settlement> {
  const { record, community } = await managedSettlement(db, principal, id);
  if (record.state === 'draft') return runSettlement(db, principal, record.communityId, record.period);
  const documents = await freshDocuments(db, community, record.period, record.periodStartMs, record.periodEndMs);
  return events.transaction(db, async (tx, publish) => {
    const before = await settlementView(tx, record, community.currency);
    const byMember = new Map<string, StatementRecord[]>();
    for (const s of await settlementStatements(tx, id)) byMember.set(s.memberId, [...(byMember.get(s.memberId) ?? []), s]);
    const corrections: NewStatement[] = [];
    for (const doc of documents) {
      const previous = byMember.get(doc.memberId) ?? [];
      const correction = correctionFor(previous.map((s) => s.document), doc);
      if (!correction) continue;
      // The fresh market section must not stand in for a correction that has none.
      const { market: _fresh, ...rest } = doc;
      corrections.push({ document: { ...rest, ...correction }, kind: 'correction', sequence: previous.length === 0 ? 1 : previous.length });
    }
    const ids = await insertStatements(tx, id, record.communityId, corrections);
    for (const [k, statementId] of ids.entries()) {
      const { document, sequence } = corrections[k]!;
      await publish('statement.issued', { communityId: record.communityId, settlementId: id, statementId, memberId: document.memberId, sequence });
    }
    const issued = new Set(ids);
    await issueInvoices(tx, community, record, (await settlementStatements(tx, id)).filter((s) => issued.has(s.id)), Date.now());
    const after = (await loadSettlement(tx, id, community.currency))!;
    await recordChange(publish, { kind: 'settlement', communityId: record.communityId, resourceId: id, action: 'recompute', before: trailed(before), after: trailed(after) });
    return after;
  });
}

/** A closed settlement with its totals, for the verifiable record (which acts on events, for no caller). */
export async function closedSettlement(db: Queryable, id: string): Promise<(Settlement & { closedAtMs: number }) | undefined> {
  const record = await findSettlement(db, id);
  if (!record || record.state !== 'closed' || record.closedAt === null) return undefined;
  const community = await communityOf(db, record.communityId);
  return { ...(await settlementView(db, record, community.currency)), closedAtMs: Date.parse(record.closedAt) };
}

/** An issued statement (of a closed settlement) as stored, for the verifiable record. */
export interface IssuedStatement {
  id: string;
  settlementId: string;
  communityId: string;
  memberId: string;
  kind: 'statement' | 'correction';
  sequence: number;
  periodStartMs: number;
  periodEndMs: number;
  /** When it was issued: the settlement's closing for a statement, its creation for a correction. */
  issuedAtMs: number;
  /** The document exactly as stored (what its CSV/PDF/JSON show). */
  document: StatementDocument;
  /** For a correction: the statement or correction it follows. */
  follows: { id: string; document: StatementDocument } | null;
}

/** The issued statement, or undefined when there is none (unknown, or still a draft); checks no caller: the ledger does. */
export async function issuedStatement(db: Queryable, id: string): Promise<IssuedStatement | undefined> {
  const row = await findStatement(db, id);
  if (!row || row.state !== 'closed') return undefined;
  const settlement = (await findSettlement(db, row.settlementId))!;
  const previous = row.sequence === 0 ? undefined : await findStatementOfSequence(db, row.settlementId, row.memberId, row.sequence - 1);
  return {
    id: row.id, settlementId: row.settlementId, communityId: row.communityId, memberId: row.memberId, kind: row.kind, sequence: row.sequence,
    periodStartMs: settlement.periodStartMs, periodEndMs: settlement.periodEndMs,
    issuedAtMs: row.sequence === 0 ? Date.parse(settlement.closedAt!) : Date.parse(row.createdAt),
    document: row.document,
    follows: previous ? { id: previous.id, document: previous.document } : null,
  };
}

export async function listMemberStatements(db: Queryable, principal: Principal, memberId: string) {
  const member = await getMember(db, principal, memberId);
  return memberStatementList(db, member.id, member.communityId);
}

/** One statement: the member themself, the community's managers, admins; others learn nothing. */
export async function getStatement(db: Queryable, principal: Principal, id: string): Promise<StatementView> {
  requireUser(principal);
  const row = await findStatement(db, id);
  if (!row || !canSeeMember(principal, { id: row.memberId, communityId: row.communityId })) throw new NotFoundError('statement');
  return {
    ...row.document,
    id: row.id,
    settlementId: row.settlementId,
    communityId: row.communityId,
    state: row.state,
    kind: row.kind,
    sequence: row.sequence,
    createdAt: row.createdAt,
  };
}

/**
 * What sharing saved a member over a period and the CO2 it avoided (sharing's member energy view):
 * priced with the community's tariffs, and the quarter hours the local market settled for the
 * member with what the market paid and charged for them, as on the statement.
 */
export async function memberSavings(db: Queryable, input: SavingsInput): Promise<{ amount: string; co2AvoidedKg: string }> {
  const tariffs = await loadTariffs(db, input.communityId);
  const co2 = await loadCo2Intensity(db, input.communityId, input.periodStartMs, input.periodEndMs);
  const market = (await marketStatementFacts(db, input.communityId, input.periodStartMs, input.periodEndMs)).get(input.memberId);
  const statement = buildStatement({ ...input, tariffs, co2, market });
  return { amount: statement.savings, co2AvoidedKg: statement.co2AvoidedKg };
}
