import type { Queryable } from '../platform/store/db.js';
import type { StatementDocument } from './domain/statement.js';

/** Billing's tables, the only SQL on them: settlements (a community's month) and statements (immutable once closed). */

export interface SettlementRecord {
  id: string;
  communityId: string;
  period: string;
  periodStartMs: number;
  periodEndMs: number;
  state: 'draft' | 'closed';
  createdAt: string;
  computedAt: string;
  closedAt: string | null;
}

export interface StatementRecord {
  id: string;
  settlementId: string;
  communityId: string;
  memberId: string;
  displayName: string;
  kind: 'statement' | 'correction';
  sequence: number;
  currency: string;
  total: string;
  document: StatementDocument;
  createdAt: string;
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

const toSettlement = (r: SettlementRow): SettlementRecord => ({
  id: r.id, communityId: r.community_id, period: r.period, periodStartMs: r.period_start.getTime(), periodEndMs: r.period_end.getTime(),
  state: r.state, createdAt: r.created_at.toISOString(), computedAt: r.computed_at.toISOString(), closedAt: r.closed_at?.toISOString() ?? null,
});

const toStatement = (r: StatementRow): StatementRecord => ({
  id: r.id, settlementId: r.settlement_id, communityId: r.community_id, memberId: r.member_id, displayName: r.display_name, kind: r.kind,
  sequence: r.sequence, currency: r.currency, total: r.total, document: r.document, createdAt: r.created_at.toISOString(),
});

export async function findSettlement(db: Queryable, id: string): Promise<SettlementRecord | undefined> {
  const rows = await db.query<SettlementRow>(`SELECT ${SETTLEMENT_COLUMNS} FROM settlements WHERE id = $1`, [id]);
  return rows[0] && toSettlement(rows[0]);
}

export async function findSettlementOfPeriod(db: Queryable, communityId: string, period: string): Promise<SettlementRecord | undefined> {
  const rows = await db.query<SettlementRow>(`SELECT ${SETTLEMENT_COLUMNS} FROM settlements WHERE community_id = $1 AND period = $2`, [communityId, period]);
  return rows[0] && toSettlement(rows[0]);
}

/** The community's settlements, newest month first. */
export async function communitySettlements(db: Queryable, communityId: string): Promise<SettlementRecord[]> {
  const rows = await db.query<SettlementRow>(`SELECT ${SETTLEMENT_COLUMNS} FROM settlements WHERE community_id = $1 ORDER BY period DESC`, [communityId]);
  return rows.map(toSettlement);
}

/** A settlement's statements and corrections, by member name, member, then sequence. */
export async function settlementStatements(db: Queryable, settlementId: string): Promise<StatementRecord[]> {
  const rows = await db.query<StatementRow>(
    `SELECT ${STATEMENT_COLUMNS} FROM statements WHERE settlement_id = $1 ORDER BY display_name, member_id, sequence`, [settlementId],
  );
  return rows.map(toStatement);
}

/** Creates the month's settlement, or marks a draft computed again; undefined when the month is closed. */
export async function openDraft(tx: Queryable, communityId: string, period: string, startMs: number, endMs: number): Promise<string | undefined> {
  const rows = await tx.query<{ id: string }>(
    `INSERT INTO settlements (community_id, period, period_start, period_end) VALUES ($1, $2, $3, $4)
     ON CONFLICT (community_id, period) DO UPDATE SET computed_at = now() WHERE settlements.state = 'draft'
     RETURNING id`,
    [communityId, period, new Date(startMs), new Date(endMs)],
  );
  return rows[0]?.id;
}

/** Drops a draft's statements (the database refuses this for a closed month). */
export async function deleteStatements(tx: Queryable, settlementId: string): Promise<void> {
  await tx.query('DELETE FROM statements WHERE settlement_id = $1', [settlementId]);
}

export async function insertStatement(
  tx: Queryable, settlementId: string, communityId: string, doc: StatementDocument, kind: 'statement' | 'correction', sequence: number,
): Promise<string> {
  const [row] = await tx.query<{ id: string }>(
    `INSERT INTO statements (settlement_id, community_id, member_id, display_name, kind, sequence, currency, total, document)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [settlementId, communityId, doc.memberId, doc.displayName, kind, sequence, doc.currency, doc.total, JSON.stringify(doc)],
  );
  return row!.id;
}

/** One member's statement of a settlement with this sequence (the one a correction follows). */
export async function findStatementOfSequence(db: Queryable, settlementId: string, memberId: string, sequence: number): Promise<StatementRecord | undefined> {
  const rows = await db.query<StatementRow>(
    `SELECT ${STATEMENT_COLUMNS} FROM statements WHERE settlement_id = $1 AND member_id = $2 AND sequence = $3`, [settlementId, memberId, sequence],
  );
  return rows[0] && toStatement(rows[0]);
}

/** Closes a draft and says when; undefined when it was closed already. */
export async function closeDraft(db: Queryable, id: string, closedBy: string): Promise<Date | undefined> {
  const closed = await db.query<{ closed_at: Date }>(`UPDATE settlements SET state = 'closed', closed_at = now(), closed_by = $2 WHERE id = $1 AND state = 'draft' RETURNING closed_at`, [id, closedBy]);
  return closed[0]?.closed_at;
}

/** A member's statements and corrections with their month and its state, newest month first. */
export async function memberStatementList(db: Queryable, memberId: string, communityId: string) {
  const rows = await db.query<{ id: string; settlement_id: string; kind: 'statement' | 'correction'; sequence: number; total: string; currency: string;
    created_at: Date; period: string; state: 'draft' | 'closed' }>(
    `SELECT s.id, s.settlement_id, s.kind, s.sequence, s.total, s.currency, s.created_at, t.period, t.state
     FROM statements s JOIN settlements t ON t.id = s.settlement_id WHERE s.member_id = $1 AND s.community_id = $2
     ORDER BY t.period DESC, s.sequence`,
    [memberId, communityId],
  );
  return rows.map((r) => ({
    id: r.id, settlementId: r.settlement_id, period: r.period, state: r.state, kind: r.kind, sequence: r.sequence,
    total: r.total, currency: r.currency, createdAt: r.created_at.toISOString(),
  }));
}

/** One statement with the state of its month. */
export async function findStatement(db: Queryable, id: string): Promise<(StatementRecord & { state: 'draft' | 'closed' }) | undefined> {
  const rows = await db.query<StatementRow & { state: 'draft' | 'closed' }>(
    `SELECT s.id, s.settlement_id, s.community_id, s.member_id, s.display_name, s.kind, s.sequence, s.currency, s.total, s.document, s.created_at, t.state
     FROM statements s JOIN settlements t ON t.id = s.settlement_id WHERE s.id = $1`,
    [id],
  );
  return rows[0] && { ...toStatement(rows[0]), state: rows[0].state };
}

/** Erasure (privacy): kept statements (a legal obligation) carry the member's pseudonym instead of the name (PERSONAL_STATEMENT_FIELDS). */
export async function pseudonymiseStatements(db: Queryable, memberIds: readonly string[], label: string): Promise<number> {
  const rows = await db.query(
    `UPDATE statements SET display_name = $2, document = jsonb_set(document, '{displayName}', to_jsonb($2::text), false)
     WHERE member_id = ANY($1::uuid[]) RETURNING id`,
    [memberIds, label],
  );
  return rows.length;
}
