import type { Queryable } from '../platform/store/db.js';
import type { StatementDocument } from './domain/statement.js';
import type { Invoice } from './domain/invoice.js';
import type { CommunityVat, MemberVat, VatCountry } from './domain/vat.js';
import type { BillingDetails, BillingProfile, SepaMandate } from './facts.js';

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

/** A statement or correction to store. */
export interface NewStatement { document: StatementDocument; kind: 'statement' | 'correction'; sequence: number }

/** Statements per INSERT: a large community's month goes in a few statements, each within the parameter and memory limits. */
const STATEMENTS_PER_INSERT = 500;

/** Stores statements (a batch per INSERT, as arrays) and returns their ids in the order given. */
export async function insertStatements(tx: Queryable, settlementId: string, communityId: string, statements: readonly NewStatement[]): Promise<string[]> {
  const ids = new Map<string, string>();
  for (let i = 0; i < statements.length; i += STATEMENTS_PER_INSERT) {
    const batch = statements.slice(i, i + STATEMENTS_PER_INSERT);
    const rows = await tx.query<{ id: string; member_id: string; sequence: number }>(
      `INSERT INTO statements (settlement_id, community_id, member_id, display_name, kind, sequence, currency, total, document)
       SELECT $1, $2, m, n, k, s, c, t, d::jsonb FROM unnest($3::uuid[], $4::text[], $5::text[], $6::int4[], $7::text[], $8::text[], $9::text[])
         AS u(m, n, k, s, c, t, d)
       RETURNING id, member_id, sequence`,
      [settlementId, communityId, batch.map((b) => b.document.memberId), batch.map((b) => b.document.displayName), batch.map((b) => b.kind),
        batch.map((b) => b.sequence), batch.map((b) => b.document.currency), batch.map((b) => b.document.total), batch.map((b) => JSON.stringify(b.document))],
    );
    for (const row of rows) ids.set(`${row.member_id}|${row.sequence}`, row.id);
  }
  // (settlement, member, sequence) is unique: it names each new row.
  return statements.map((s) => ids.get(`${s.document.memberId}|${s.sequence}`)!);
}

/** A settlement's statements and corrections without their documents, in settlementStatements' order. */
export async function settlementStatementSummaries(db: Queryable, settlementId: string): Promise<Omit<StatementRecord, 'document'>[]> {
  const rows = await db.query<Omit<StatementRow, 'document'>>(
    `SELECT id, settlement_id, community_id, member_id, display_name, kind, sequence, currency, total, created_at
     FROM statements WHERE settlement_id = $1 ORDER BY display_name, member_id, sequence`, [settlementId],
  );
  return rows.map((r) => ({
    id: r.id, settlementId: r.settlement_id, communityId: r.community_id, memberId: r.member_id, displayName: r.display_name, kind: r.kind,
    sequence: r.sequence, currency: r.currency, total: r.total, createdAt: r.created_at.toISOString(),
  }));
}

/** Σ of a settlement's statement totals (exact, as a decimal string) and energy, and how many statements and corrections it has. */
export async function settlementTotals(db: Queryable, settlementId: string): Promise<{
  amount: string; statements: number; corrections: number; fromCommunityWh: number; toCommunityWh: number;
}> {
  const [row] = await db.query<{ amount: string; statements: number; corrections: number; from_community_wh: number; to_community_wh: number }>(
    `SELECT coalesce(sum(total::numeric), 0)::text AS amount,
       count(*) FILTER (WHERE kind = 'statement')::int AS statements, count(*) FILTER (WHERE kind = 'correction')::int AS corrections,
       coalesce(sum((document #>> '{energy,fromCommunityWh}')::int8), 0)::float8 AS from_community_wh,
       coalesce(sum((document #>> '{energy,toCommunityWh}')::int8), 0)::float8 AS to_community_wh
     FROM statements WHERE settlement_id = $1`,
    [settlementId],
  );
  return { amount: row!.amount, statements: row!.statements, corrections: row!.corrections, fromCommunityWh: row!.from_community_wh, toCommunityWh: row!.to_community_wh };
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

// Invoices (issue 21): the community's billing profile, members' billing details and mandates,
// the numbering counters and the issued invoices.

interface ProfileRow {
  legal_name: string; street: string; postal_code: string; city: string; country: string; registration_number: string | null;
  vat_country: VatCountry; vat_regime: CommunityVat['regime']; vat_id: string | null; vat_rates: CommunityVat['rates'];
  iban: string; bic: string | null; account_holder: string | null; creditor_id: string | null; invoice_prefix: string; payment_term_days: number;
}

const present = <K extends string, V>(key: K, value: V | null | undefined) => (value === null || value === undefined ? {} : { [key]: value } as Record<K, V>);

const toProfile = (r: ProfileRow): BillingProfile => ({
  legalName: r.legal_name,
  address: { street: r.street, postalCode: r.postal_code, city: r.city, country: r.country },
  ...present('registrationNumber', r.registration_number),
  vat: { country: r.vat_country, regime: r.vat_regime, ...present('vatId', r.vat_id), ...(r.vat_rates && Object.keys(r.vat_rates).length > 0 ? { rates: r.vat_rates } : {}) },
  bank: { iban: r.iban, ...present('bic', r.bic), ...present('accountHolder', r.account_holder) },
  ...present('creditorId', r.creditor_id),
  invoicePrefix: r.invoice_prefix,
  paymentTermDays: r.payment_term_days,
});

export async function findBillingProfile(db: Queryable, communityId: string): Promise<BillingProfile | undefined> {
  const rows = await db.query<ProfileRow>('SELECT * FROM billing_profiles WHERE community_id = $1', [communityId]);
  return rows[0] && toProfile(rows[0]);
}

export async function saveBillingProfile(tx: Queryable, communityId: string, p: BillingProfile): Promise<void> {
  await tx.query(
    `INSERT INTO billing_profiles (community_id, legal_name, street, postal_code, city, country, registration_number, vat_country, vat_regime, vat_id, vat_rates,
       iban, bic, account_holder, creditor_id, invoice_prefix, payment_term_days)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     ON CONFLICT (community_id) DO UPDATE SET legal_name = $2, street = $3, postal_code = $4, city = $5, country = $6, registration_number = $7,
       vat_country = $8, vat_regime = $9, vat_id = $10, vat_rates = $11, iban = $12, bic = $13, account_holder = $14, creditor_id = $15,
       invoice_prefix = $16, payment_term_days = $17, updated_at = now()`,
    [communityId, p.legalName, p.address.street, p.address.postalCode, p.address.city, p.address.country, p.registrationNumber ?? null, p.vat.country,
      p.vat.regime, p.vat.vatId ?? null, JSON.stringify(p.vat.rates ?? {}), p.bank.iban, p.bank.bic ?? null, p.bank.accountHolder ?? null,
      p.creditorId ?? null, p.invoicePrefix, p.paymentTermDays],
  );
}

interface DetailsRow {
  member_id: string; full_name: string; street: string; postal_code: string; city: string; country: string;
  vat_regime: MemberVat['regime']; vat_id: string | null; reverse_charge: boolean; iban: string | null; bic: string | null;
}

const toDetails = (r: DetailsRow): BillingDetails => ({
  fullName: r.full_name,
  address: { street: r.street, postalCode: r.postal_code, city: r.city, country: r.country },
  vat: { regime: r.vat_regime, ...present('vatId', r.vat_id), ...(r.reverse_charge ? { reverseCharge: true } : {}) },
  ...(r.iban ? { payoutAccount: { iban: r.iban, ...present('bic', r.bic) } } : {}),
});

/** Billing details of the given members (of one community), by member id. */
export async function billingDetailsOf(db: Queryable, communityId: string, memberIds: readonly string[]): Promise<Map<string, BillingDetails>> {
  const rows = await db.query<DetailsRow>('SELECT * FROM billing_details WHERE community_id = $1 AND member_id = ANY($2::uuid[])', [communityId, memberIds]);
  return new Map(rows.map((r) => [r.member_id, toDetails(r)]));
}

export async function saveBillingDetails(tx: Queryable, communityId: string, memberId: string, d: BillingDetails): Promise<void> {
  await tx.query(
    `INSERT INTO billing_details (member_id, community_id, full_name, street, postal_code, city, country, vat_regime, vat_id, reverse_charge, iban, bic)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (member_id, community_id) DO UPDATE SET full_name = $3, street = $4, postal_code = $5, city = $6, country = $7, vat_regime = $8, vat_id = $9,
       reverse_charge = $10, iban = $11, bic = $12, updated_at = now()`,
    [memberId, communityId, d.fullName, d.address.street, d.address.postalCode, d.address.city, d.address.country, d.vat.regime, d.vat.vatId ?? null,
      d.vat.reverseCharge ?? false, d.payoutAccount?.iban ?? null, d.payoutAccount?.bic ?? null],
  );
}

interface MandateRow { member_id: string; mandate_id: string; signed_on: string; iban: string; bic: string | null; account_holder: string }

const toMandate = (r: MandateRow): SepaMandate => ({
  mandateId: r.mandate_id, signedOn: r.signed_on, iban: r.iban, ...present('bic', r.bic), accountHolder: r.account_holder,
});

/** The mandates in force of a community's members, by member id. */
export async function mandatesOf(db: Queryable, communityId: string, memberIds: readonly string[]): Promise<Map<string, SepaMandate>> {
  const rows = await db.query<MandateRow>(
    `SELECT member_id, mandate_id, to_char(signed_on, 'YYYY-MM-DD') AS signed_on, iban, bic, account_holder
     FROM sepa_mandates WHERE community_id = $1 AND member_id = ANY($2::uuid[]) AND restricted_until IS NULL`,
    [communityId, memberIds],
  );
  return new Map(rows.map((r) => [r.member_id, toMandate(r)]));
}

/**
 * Records the member's mandate (replacing the one in force): `taken` when another member of the
 * community holds that mandate id, `restricted` when the member's mandate is kept restricted after
 * an erasure (evidence is never overwritten).
 */
export async function saveMandate(tx: Queryable, communityId: string, memberId: string, m: SepaMandate): Promise<'saved' | 'taken' | 'restricted'> {
  const taken = await tx.query('SELECT 1 FROM sepa_mandates WHERE community_id = $1 AND mandate_id = $2 AND member_id <> $3', [communityId, m.mandateId, memberId]);
  if (taken.length > 0) return 'taken';
  const saved = await tx.query(
    `INSERT INTO sepa_mandates (member_id, community_id, mandate_id, signed_on, iban, bic, account_holder) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (member_id, community_id) DO UPDATE SET mandate_id = $3, signed_on = $4, iban = $5, bic = $6, account_holder = $7, updated_at = now()
     WHERE sepa_mandates.restricted_until IS NULL RETURNING member_id`,
    [memberId, communityId, m.mandateId, m.signedOn, m.iban, m.bic ?? null, m.accountHolder],
  );
  return saved.length > 0 ? 'saved' : 'restricted';
}

/** Revokes the member's mandate in force (a restricted one is not in force: it stays until its time). */
export async function deleteMandate(tx: Queryable, memberId: string): Promise<boolean> {
  return (await tx.query('DELETE FROM sepa_mandates WHERE member_id = $1 AND restricted_until IS NULL RETURNING member_id', [memberId])).length > 0;
}

// Erasure and retention (issue 20, privacy): what billing keeps of an erased member, and for how long.

/** What an erased member's street, postal code and city read (an address is never empty on an invoice or in the API). */
const ERASED_ADDRESS_PART = '[erased]';

/**
 * Erasure: the members' billing details keep only what a later correction's tax treatment needs —
 * the name becomes the pseudonym, street, postal code and city `[erased]`, the VAT id and payout
 * account go; the country and VAT status stay.
 */
export async function pseudonymiseBillingDetails(tx: Queryable, memberIds: readonly string[], label: string): Promise<number> {
  const rows = await tx.query(
    `UPDATE billing_details SET full_name = $2, street = $3, postal_code = $3, city = $3, vat_id = NULL, iban = NULL, bic = NULL, updated_at = now()
     WHERE member_id = ANY($1::uuid[]) RETURNING member_id`,
    [memberIds, label, ERASED_ADDRESS_PART],
  );
  return rows.length;
}

export interface MandateCollections {
  memberId: string;
  communityId: string;
  /** The latest due date (local, YYYY-MM-DD) of a debit invoice that could have been collected under the mandate; null: none ever could. */
  lastDue: string | null;
}

/**
 * The members' mandates in force, each with the latest due date of an invoice that could have
 * been collected under it: one owed by the member (gross > 0) and issued on or after the day the
 * mandate was signed, or not marked paid before (the direct-debit file takes every open or failed
 * one of a member with a mandate).
 */
export async function mandateCollections(db: Queryable, memberIds: readonly string[]): Promise<MandateCollections[]> {
  const rows = await db.query<{ member_id: string; community_id: string; last_due: string | null }>(
    `SELECT m.member_id, m.community_id, max(i.document->>'dueDate') AS last_due
     FROM sepa_mandates m
     LEFT JOIN invoices i ON i.member_id = m.member_id AND i.community_id = m.community_id AND i.gross::numeric > 0
       AND (i.issued_at >= m.signed_on OR COALESCE((SELECT p.status FROM invoice_payments p WHERE p.invoice_id = i.id AND p.community_id = i.community_id ORDER BY p.id DESC LIMIT 1), 'open') <> 'paid')
     WHERE m.member_id = ANY($1::uuid[]) AND m.restricted_until IS NULL
     GROUP BY m.member_id, m.community_id`,
    [memberIds],
  );
  return rows.map((r) => ({ memberId: r.member_id, communityId: r.community_id, lastDue: r.last_due }));
}

/** Keeps a mandate restricted until `untilMs` (no collection, not shown), when the retention job deletes it. */
export async function restrictMandate(tx: Queryable, memberId: string, communityId: string, untilMs: number): Promise<void> {
  await tx.query('UPDATE sepa_mandates SET restricted_until = $3, updated_at = now() WHERE member_id = $1 AND community_id = $2', [memberId, communityId, new Date(untilMs)]);
}

export async function deleteMandateOf(tx: Queryable, memberId: string, communityId: string): Promise<void> {
  await tx.query('DELETE FROM sepa_mandates WHERE member_id = $1 AND community_id = $2', [memberId, communityId]);
}

/** Restricted mandates whose time as evidence ended by `nowMs`, deleted; how many. */
export async function deleteRestrictedMandatesBefore(db: Queryable, communityId: string, nowMs: number): Promise<number> {
  return (await db.query('DELETE FROM sepa_mandates WHERE community_id = $1 AND restricted_until <= $2 RETURNING member_id', [communityId, new Date(nowMs)])).length;
}

/**
 * Ends the retention of the community's billing records: every closed settlement whose every
 * record (the closing, its statements and corrections, their invoices and payment history) is
 * stamped before `cutoffMs` goes with all of them, in one transaction that declares the cutoff to
 * the immutability triggers (they let exactly this through, see 0199). Draft months are not
 * records. Returns how many statements went (invoices go with theirs).
 */
export async function deleteBillingRecordsBefore(tx: Queryable, communityId: string, cutoffMs: number): Promise<{ settlements: number; statements: number; invoices: number }> {
  const cutoff = new Date(cutoffMs);
  await tx.query(`SELECT set_config('gridshare.billing_records_cutoff', $1, true)`, [`${communityId}@${cutoff.toISOString()}`]);
  const due = await tx.query<{ id: string; statements: string; invoices: string }>(
    `SELECT t.id,
       (SELECT count(*) FROM statements s WHERE s.settlement_id = t.id) AS statements,
       (SELECT count(*) FROM invoices i JOIN statements s ON s.id = i.statement_id WHERE s.settlement_id = t.id) AS invoices
     FROM settlements t
     WHERE t.community_id = $1 AND t.state = 'closed' AND t.closed_at < $2
       AND NOT EXISTS (SELECT 1 FROM statements s WHERE s.settlement_id = t.id AND s.created_at >= $2)
       AND NOT EXISTS (SELECT 1 FROM invoices i JOIN statements s ON s.id = i.statement_id WHERE s.settlement_id = t.id AND i.issued_at >= $2)
       AND NOT EXISTS (SELECT 1 FROM invoice_payments p JOIN invoices i ON i.id = p.invoice_id JOIN statements s ON s.id = i.statement_id
                       WHERE s.settlement_id = t.id AND p.recorded_at >= $2)`,
    [communityId, cutoff],
  );
  if (due.length > 0) await tx.query('DELETE FROM settlements WHERE community_id = $1 AND id = ANY($2::uuid[])', [communityId, due.map((d) => d.id)]);
  await tx.query(`SELECT set_config('gridshare.billing_records_cutoff', '', true)`);
  return {
    settlements: due.length,
    statements: due.reduce((sum, d) => sum + Number(d.statements), 0),
    invoices: due.reduce((sum, d) => sum + Number(d.invoices), 0),
  };
}

/**
 * Reserves `count` consecutive numbers of the community's series for the year and returns the
 * first (InvoiceNumberStore): the row lock queues concurrent closings, a rollback returns them.
 */
export async function reserveInvoiceNumbers(tx: Queryable, communityId: string, year: number, count: number): Promise<number> {
  const [row] = await tx.query<{ last: number }>(
    `INSERT INTO invoice_counters (community_id, year, last) VALUES ($1, $2, $3)
     ON CONFLICT (community_id, year) DO UPDATE SET last = invoice_counters.last + $3 RETURNING last`,
    [communityId, year, count],
  );
  return row!.last - count + 1;
}

export interface InvoiceRecord {
  id: string;
  communityId: string;
  statementId: string;
  settlementId: string;
  memberId: string;
  number: string;
  corrects: string | null;
  currency: string;
  gross: string;
  document: Invoice;
  issuedAt: string;
}

interface InvoiceRow {
  id: string; community_id: string; statement_id: string; settlement_id: string; member_id: string; number: string;
  corrects: string | null; currency: string; gross: string; document: Invoice; issued_at: Date;
}

const toInvoice = (r: InvoiceRow): InvoiceRecord => ({
  id: r.id, communityId: r.community_id, statementId: r.statement_id, settlementId: r.settlement_id, memberId: r.member_id, number: r.number,
  corrects: r.corrects, currency: r.currency, gross: r.gross, document: r.document, issuedAt: r.issued_at.toISOString(),
});

const INVOICE_SELECT = `SELECT i.id, i.community_id, i.statement_id, s.settlement_id, i.member_id, i.number, i.corrects, i.currency, i.gross, i.document, i.issued_at
  FROM invoices i JOIN statements s ON s.id = i.statement_id`;

export async function insertInvoice(
  tx: Queryable, row: { communityId: string; statementId: string; memberId: string; year: number; sequence: number; corrects: string | null; invoice: Invoice },
): Promise<string> {
  const [inserted] = await tx.query<{ id: string }>(
    `INSERT INTO invoices (community_id, statement_id, member_id, number, year, sequence, corrects, currency, gross, document)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
    [row.communityId, row.statementId, row.memberId, row.invoice.number, row.year, row.sequence, row.corrects, row.invoice.currency,
      row.invoice.totals.gross, JSON.stringify(row.invoice)],
  );
  return inserted!.id;
}

export async function findInvoice(db: Queryable, id: string): Promise<InvoiceRecord | undefined> {
  const rows = await db.query<InvoiceRow>(`${INVOICE_SELECT} WHERE i.id = $1`, [id]);
  return rows[0] && toInvoice(rows[0]);
}

/** A settlement's invoices in number order. */
export async function settlementInvoices(db: Queryable, settlementId: string): Promise<InvoiceRecord[]> {
  const rows = await db.query<InvoiceRow>(`${INVOICE_SELECT} WHERE s.settlement_id = $1 ORDER BY i.year, i.sequence`, [settlementId]);
  return rows.map(toInvoice);
}

/** A member's invoices, newest first. */
export async function memberInvoices(db: Queryable, memberId: string, communityId: string): Promise<InvoiceRecord[]> {
  const rows = await db.query<InvoiceRow>(`${INVOICE_SELECT} WHERE i.member_id = $1 AND i.community_id = $2 ORDER BY i.year DESC, i.sequence DESC`, [memberId, communityId]);
  return rows.map(toInvoice);
}

export type PaymentStatusName = 'open' | 'paid' | 'partial' | 'failed';

export interface PaymentRecord {
  invoiceId: string;
  status: PaymentStatusName;
  settled: string;
  reason: string | null;
  source: 'manual' | 'camt053';
  bookingDate: string | null;
  recordedBy: string | null;
  recordedAt: string;
}

interface PaymentRow {
  invoice_id: string; status: PaymentStatusName; settled: string; reason: string | null; source: 'manual' | 'camt053';
  booking_date: string | null; recorded_by: string | null; recorded_at: Date;
}

const toPayment = (r: PaymentRow): PaymentRecord => ({
  invoiceId: r.invoice_id, status: r.status, settled: r.settled, reason: r.reason, source: r.source, bookingDate: r.booking_date,
  recordedBy: r.recorded_by, recordedAt: r.recorded_at.toISOString(),
});

/** The payment histories of the invoices, oldest change first, by invoice id. */
export async function paymentHistories(db: Queryable, invoiceIds: readonly string[]): Promise<Map<string, PaymentRecord[]>> {
  const rows = await db.query<PaymentRow>(
    `SELECT invoice_id, status, settled, reason, source, to_char(booking_date, 'YYYY-MM-DD') AS booking_date, recorded_by, recorded_at
     FROM invoice_payments WHERE invoice_id = ANY($1::uuid[]) ORDER BY id`,
    [invoiceIds],
  );
  const histories = new Map<string, PaymentRecord[]>();
  for (const row of rows) histories.set(row.invoice_id, [...(histories.get(row.invoice_id) ?? []), toPayment(row)]);
  return histories;
}

export async function insertPayment(tx: Queryable, communityId: string, p: Omit<PaymentRecord, 'recordedAt'>): Promise<void> {
  await tx.query(
    `INSERT INTO invoice_payments (invoice_id, community_id, status, settled, reason, source, booking_date, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [p.invoiceId, communityId, p.status, p.settled, p.reason, p.source, p.bookingDate, p.recordedBy],
  );
}

/** Serialises changes of one settlement's payments (a manual change and an import at once). */
export async function lockSettlement(tx: Queryable, settlementId: string): Promise<void> {
  await tx.query('SELECT id FROM settlements WHERE id = $1 FOR UPDATE', [settlementId]);
}

/** An issued invoice that may be overdue: not corrected by a later one, not paid, never reminded of. */
export interface ReminderCandidate {
  invoiceId: string;
  communityId: string;
  statementId: string;
  memberId: string;
  dueDate: string;
}

/**
 * Invoices the member owes (a positive gross) due before `dueBefore` (`YYYY-MM-DD`, exclusive) whose latest payment status is not
 * `paid`, that no later invoice corrects and that were never reminded of; oldest due first.
 */
export async function reminderCandidates(db: Queryable, dueBefore: string, limit: number): Promise<ReminderCandidate[]> {
  const rows = await db.query<{ id: string; community_id: string; statement_id: string; member_id: string; due_date: string }>(
    `SELECT i.id, i.community_id, i.statement_id, i.member_id, i.document->>'dueDate' AS due_date
     FROM invoices i
     WHERE i.document->>'dueDate' < $1 AND i.gross !~ '^(-|0*(\.0*)?$)'
       AND NOT EXISTS (SELECT 1 FROM payment_reminders r WHERE r.invoice_id = i.id AND r.community_id = i.community_id)
       AND NOT EXISTS (SELECT 1 FROM invoices c WHERE c.corrects = i.id AND c.community_id = i.community_id)
       AND (SELECT p.status FROM invoice_payments p WHERE p.invoice_id = i.id AND p.community_id = i.community_id ORDER BY p.id DESC LIMIT 1)
         IS DISTINCT FROM 'paid'
     ORDER BY i.document->>'dueDate', i.id LIMIT $2`,
    [dueBefore, limit],
  );
  return rows.map((r) => ({ invoiceId: r.id, communityId: r.community_id, statementId: r.statement_id, memberId: r.member_id, dueDate: r.due_date }));
}

/** Records that the member was reminded of the invoice; false when someone did already. */
export async function insertReminder(tx: Queryable, communityId: string, invoiceId: string, atMs: number): Promise<boolean> {
  const rows = await tx.query(
    'INSERT INTO payment_reminders (invoice_id, community_id, reminded_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING invoice_id',
    [invoiceId, communityId, new Date(atMs)]);
  return rows.length === 1;
}
