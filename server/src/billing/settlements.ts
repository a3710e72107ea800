import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { canSeeMember, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { loadCommunity, type Community } from '../registry/index.js';
import { getMember } from '../registry/index.js';
import { loadTariffs } from '../registry/index.js';
import { monthRange } from '../kernel/calendar.js';
import { DATE_RANGE_TEXT, QUARTER_HOUR_MS } from '../kernel/time.js';
import { memberQuarters, toMemberInterval } from '../sharing/index.js';
import { loadCo2Intensity } from '../sharing/index.js';
import { buildStatement, correctionFor, type Statement } from './domain/statement.js';
import { formatMinor, minorDigits, parseFixed } from '../kernel/money.js';


/** How complete the data behind a statement was. */
export interface QuarterHourCounts {
  /** Quarter hours in the period (2,980 for a Vienna October with its 25-hour day). */
  expected: number;
  /** Quarter hours with the member's data (measured or estimated). */
  withData: number;
  estimated: number;
  missing: number;
  /** Quarter hours whose split was made while another member's data was missing. */
  provisional: number;
}

/** What a statement row keeps: the pure statement and what the member and a reader need besides. */
export interface StatementDocument extends Statement {
  displayName: string;
  communityName: string;
  period: string;
  timeZone: string;
  quarterHours: QuarterHourCounts;
}

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

interface SettlementRow {
  id: string;
  community_id: string;
  period: string;
  period_start: Date;
  period_end: Date;
  state: 'draft' | 'closed';
  created_at: Date;
  computed_at: Date;
  closed_at: Date | null;
}

interface StatementRow {
  id: string;
  settlement_id: string;
  community_id: string;
  member_id: string;
  display_name: string;
  kind: 'statement' | 'correction';
  sequence: number;
  currency: string;
  total: string;
  document: StatementDocument;
  created_at: Date;
}

const SETTLEMENT_COLUMNS = 'id, community_id, period, period_start, period_end, state, created_at, computed_at, closed_at';
const STATEMENT_COLUMNS = 'id, settlement_id, community_id, member_id, display_name, kind, sequence, currency, total, document, created_at';

async function settlementView(db: Queryable, row: SettlementRow, currency: string): Promise<Settlement> {
  const statements = await db.query<StatementRow>(
    `SELECT ${STATEMENT_COLUMNS} FROM statements WHERE settlement_id = $1 ORDER BY display_name, member_id, sequence`, [row.id],
  );
  const digits = minorDigits(currency);
  let amount = 0n;
  let fromCommunityWh = 0;
  let toCommunityWh = 0;
  for (const s of statements) {
    amount += parseFixed(s.total, digits);
    fromCommunityWh += s.document.energy.fromCommunityWh;
    toCommunityWh += s.document.energy.toCommunityWh;
  }
  return {
    id: row.id,
    communityId: row.community_id,
    period: row.period,
    periodStart: row.period_start.toISOString(),
    periodEnd: row.period_end.toISOString(),
    state: row.state,
    createdAt: row.created_at.toISOString(),
    computedAt: row.computed_at.toISOString(),
    closedAt: row.closed_at?.toISOString() ?? null,
    statements: statements.map(summary),
    totals: {
      currency,
      amount: formatMinor(amount, digits),
      statements: statements.filter((s) => s.kind === 'statement').length,
      corrections: statements.filter((s) => s.kind === 'correction').length,
      fromCommunityWh,
      toCommunityWh,
    },
  };
}

const summary = (s: StatementRow): StatementSummary => ({
  id: s.id, memberId: s.member_id, displayName: s.display_name, kind: s.kind, sequence: s.sequence,
  total: s.total, currency: s.currency, createdAt: s.created_at.toISOString(),
});

/** Fresh statements of every member of the period: active members and anyone with energy in it. */
async function freshDocuments(db: Queryable, community: Community, period: string, startMs: number, endMs: number): Promise<StatementDocument[]> {
  const members = await db.query<{ id: string; display_name: string }>(
    `SELECT id, display_name FROM members m WHERE m.community_id = $1
       AND (m.state = 'active' OR EXISTS (SELECT 1 FROM member_energy e WHERE e.member_id = m.id AND e.start >= $2 AND e.start < $3))
     ORDER BY display_name, id`,
    [community.id, new Date(startMs), new Date(endMs)],
  );
  const tariffs = await loadTariffs(db, community.id);
  const co2 = await loadCo2Intensity(db, community.id, startMs, endMs);
  const expected = (endMs - startMs) / QUARTER_HOUR_MS;
  const documents: StatementDocument[] = [];
  for (const member of members) {
    const rows = await memberQuarters(db, member.id, startMs, endMs);
    const known = rows.filter((r) => !r.missing);
    const statement = buildStatement({
      memberId: member.id, periodStartMs: startMs, periodEndMs: endMs, timeZone: community.timeZone, currency: community.currency,
      intervals: known.map(toMemberInterval), tariffs, co2,
    });
    documents.push({
      ...statement,
      displayName: member.display_name,
      communityName: community.name,
      period,
      timeZone: community.timeZone,
      quarterHours: {
        expected,
        withData: known.length,
        estimated: known.filter((r) => r.estimated).length,
        missing: expected - known.length,
        provisional: rows.filter((r) => r.provisional).length,
      },
    });
  }
  return documents;
}

async function insertStatement(tx: Queryable, settlementId: string, communityId: string, doc: StatementDocument, kind: 'statement' | 'correction', sequence: number): Promise<void> {
  await tx.query(
    `INSERT INTO statements (settlement_id, community_id, member_id, display_name, kind, sequence, currency, total, document)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [settlementId, communityId, doc.memberId, doc.displayName, kind, sequence, doc.currency, doc.total, JSON.stringify(doc)],
  );
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
  const existing = await db.query<SettlementRow>(`SELECT ${SETTLEMENT_COLUMNS} FROM settlements WHERE community_id = $1 AND period = $2`, [communityId, period]);
  if (existing[0]?.state === 'closed') throw new ConflictError(`${period} is closed; recompute it to issue corrections`);
  const documents = await freshDocuments(db, community, period, range.startMs, range.endMs);
  const id = await db.transaction(async (tx) => {
    const rows = await tx.query<{ id: string; state: string }>(
      `INSERT INTO settlements (community_id, period, period_start, period_end) VALUES ($1, $2, $3, $4)
       ON CONFLICT (community_id, period) DO UPDATE SET computed_at = now() WHERE settlements.state = 'draft'
       RETURNING id, state`,
      [communityId, period, new Date(range.startMs), new Date(range.endMs)],
    );
    if (!rows[0]) throw new ConflictError(`${period} is closed; recompute it to issue corrections`);
    await tx.query('DELETE FROM statements WHERE settlement_id = $1', [rows[0].id]);
    for (const doc of documents) await insertStatement(tx, rows[0].id, communityId, doc, 'statement', 0);
    return rows[0].id;
  });
  return (await loadSettlement(db, id, community.currency))!;
}

async function loadSettlement(db: Queryable, id: string, currency: string): Promise<Settlement | undefined> {
  const rows = await db.query<SettlementRow>(`SELECT ${SETTLEMENT_COLUMNS} FROM settlements WHERE id = $1`, [id]);
  return rows[0] && settlementView(db, rows[0], currency);
}

/** The settlement, for the community's managers (members learn that it is not theirs: 403; others 404). */
async function managedSettlement(db: Queryable, principal: Principal, id: string): Promise<{ row: SettlementRow; community: Community }> {
  requireUser(principal);
  const rows = await db.query<SettlementRow>(`SELECT ${SETTLEMENT_COLUMNS} FROM settlements WHERE id = $1`, [id]);
  if (!rows[0]) throw new NotFoundError('settlement');
  requireManager(principal, rows[0].community_id, 'settlement');
  return { row: rows[0], community: await communityOf(db, rows[0].community_id) };
}

export async function getSettlement(db: Queryable, principal: Principal, id: string): Promise<Settlement> {
  const { row, community } = await managedSettlement(db, principal, id);
  return settlementView(db, row, community.currency);
}

export async function listSettlements(db: Queryable, principal: Principal, communityId: string): Promise<Settlement[]> {
  requireManager(principal, communityId);
  const community = await communityOf(db, communityId);
  const rows = await db.query<SettlementRow>(`SELECT ${SETTLEMENT_COLUMNS} FROM settlements WHERE community_id = $1 ORDER BY period DESC`, [communityId]);
  return Promise.all(rows.map((row) => settlementView(db, row, community.currency)));
}

/** Closes a month that has ended: its statements become immutable (enforced by the database too). */
export async function closeSettlement(db: Db, principal: Principal, id: string): Promise<Settlement> {
  const { row, community } = await managedSettlement(db, principal, id);
  if (row.state === 'closed') throw new ConflictError(`${row.period} is already closed`);
  if (row.period_end.getTime() > Date.now()) throw new ConflictError(`${row.period} has not ended yet`);
  const closed = await db.query(
    `UPDATE settlements SET state = 'closed', closed_at = now(), closed_by = $2 WHERE id = $1 AND state = 'draft' RETURNING id`,
    [id, requireUser(principal).userId],
  );
  if (closed.length === 0) throw new ConflictError(`${row.period} is already closed`);
  return (await loadSettlement(db, id, community.currency))!;
}

/**
 * A draft is run again. A closed month gets, per member whose figures changed since, a
 * correction: the difference between a fresh statement and everything issued so far.
 */
export async function recomputeSettlement(db: Db, principal: Principal, id: string): Promise<Settlement> {
  const { row, community } = await managedSettlement(db, principal, id);
  if (row.state === 'draft') return runSettlement(db, principal, row.community_id, row.period);
  const documents = await freshDocuments(db, community, row.period, row.period_start.getTime(), row.period_end.getTime());
  await db.transaction(async (tx) => {
    const issued = await tx.query<StatementRow>(`SELECT ${STATEMENT_COLUMNS} FROM statements WHERE settlement_id = $1 ORDER BY sequence`, [id]);
    const byMember = new Map<string, StatementRow[]>();
    for (const s of issued) byMember.set(s.member_id, [...(byMember.get(s.member_id) ?? []), s]);
    for (const doc of documents) {
      const previous = byMember.get(doc.memberId) ?? [];
      const correction = correctionFor(previous.map((s) => s.document), doc);
      if (!correction) continue;
      await insertStatement(tx, id, row.community_id, { ...doc, ...correction }, 'correction', previous.length === 0 ? 1 : previous.length);
    }
  });
  return (await loadSettlement(db, id, community.currency))!;
}

export async function listMemberStatements(db: Queryable, principal: Principal, memberId: string) {
  const member = await getMember(db, principal, memberId);
  const rows = await db.query<StatementRow & { period: string; state: 'draft' | 'closed' }>(
    `SELECT s.id, s.settlement_id, s.kind, s.sequence, s.total, s.currency, s.created_at, t.period, t.state
     FROM statements s JOIN settlements t ON t.id = s.settlement_id WHERE s.member_id = $1 AND s.community_id = $2
     ORDER BY t.period DESC, s.sequence`,
    [member.id, member.communityId],
  );
  return rows.map((r) => ({
    id: r.id, settlementId: r.settlement_id, period: r.period, state: r.state, kind: r.kind, sequence: r.sequence,
    total: r.total, currency: r.currency, createdAt: r.created_at.toISOString(),
  }));
}

export interface StatementView extends StatementDocument {
  id: string;
  settlementId: string;
  communityId: string;
  state: 'draft' | 'closed';
  kind: 'statement' | 'correction';
  sequence: number;
  createdAt: string;
}

/** One statement: the member themself, the community's managers, admins; others learn nothing. */
export async function getStatement(db: Queryable, principal: Principal, id: string): Promise<StatementView> {
  requireUser(principal);
  const rows = await db.query<StatementRow & { state: 'draft' | 'closed' }>(
    `SELECT s.id, s.settlement_id, s.community_id, s.member_id, s.display_name, s.kind, s.sequence, s.currency, s.total, s.document, s.created_at, t.state
     FROM statements s JOIN settlements t ON t.id = s.settlement_id WHERE s.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row || !canSeeMember(principal, { id: row.member_id, communityId: row.community_id })) throw new NotFoundError('statement');
  return {
    ...row.document,
    id: row.id,
    settlementId: row.settlement_id,
    communityId: row.community_id,
    state: row.state,
    kind: row.kind,
    sequence: row.sequence,
    createdAt: row.created_at.toISOString(),
  };
}
