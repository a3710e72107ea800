import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import type { EventPublisher } from '../platform/events/index.js';
import { requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, InternalError, NotFoundError } from '../kernel/errors.js';
import { createLocalClock, localDateOf } from '../kernel/calendar.js';
import { formatMinor, MoneyError, minorDigits, parseFixed } from '../kernel/money.js';
import { loadCommunity } from '../registry/index.js';
import { recordChange } from '../audit/index.js';
import { addDays } from './facts.js';
import { planPayments, type PayableStatement, type PaymentPlan } from './sepa/payments.js';
import { creditTransferXml, directDebitXml, type CreditTransferVersion, type DirectDebitVersion } from './sepa/pain.js';
import { matchPayments, readBankStatement } from './sepa/camt053.js';
import { defaultSepaSchemaDirectory, isSepaSchemaVersion, loadSepaSchemas, type SepaSchemaVersion } from './sepa/schemas.js';
import {
  billingDetailsOf, findBillingProfile, findInvoice, findSettlement, insertPayment, lockSettlement, mandatesOf, paymentHistories, settlementInvoices,
  type InvoiceRecord, type PaymentRecord, type PaymentStatusName, type SettlementRecord,
} from './store.js';

/**
 * Getting paid (issue 21): SEPA files of a closed month's invoices, and each invoice's payment
 * status — open until someone says otherwise, by hand or with the bank's camt.053 statement —
 * kept as a history. Amounts are the invoice's gross total, exact; a payout (negative total)
 * counts as settled when it left the community's account.
 */

export interface PaymentView {
  status: PaymentStatusName;
  settled: string;
  history: PaymentRecord[];
}

const OPEN = (currency: string): PaymentView => ({ status: 'open', settled: formatMinor(0n, minorDigits(currency)), history: [] });

/** The payment status of each invoice, by invoice id (open where nothing was recorded). */
export async function paymentsOf(db: Queryable, invoices: readonly InvoiceRecord[]): Promise<Map<string, PaymentView>> {
  const histories = await paymentHistories(db, invoices.map((i) => i.id));
  return new Map(invoices.map((invoice) => {
    const history = histories.get(invoice.id) ?? [];
    const latest = history.at(-1);
    return [invoice.id, latest ? { status: latest.status, settled: latest.settled, history } : OPEN(invoice.currency)];
  }));
}

async function closedSettlementOf(db: Queryable, principal: Principal, settlementId: string): Promise<SettlementRecord> {
  requireUser(principal);
  const settlement = await findSettlement(db, settlementId);
  if (!settlement) throw new NotFoundError('settlement');
  requireManager(principal, settlement.communityId, 'settlement');
  if (settlement.state !== 'closed') throw new ConflictError(`${settlement.period} is not closed: nothing is issued to be paid yet`);
  return settlement;
}

const due = (invoice: InvoiceRecord) => {
  const gross = parseFixed(invoice.gross, minorDigits(invoice.currency));
  return gross < 0n ? -gross : gross;
};

export async function settlementPayments(db: Queryable, principal: Principal, settlementId: string) {
  const settlement = await closedSettlementOf(db, principal, settlementId);
  const invoices = await settlementInvoices(db, settlement.id);
  const payments = await paymentsOf(db, invoices);
  const plan = await paymentPlan(db, settlement, invoices, payments);
  const skipped = new Map(plan.skipped.map((s) => [s.statementId, s.reason]));
  return invoices.map((invoice) => ({
    invoiceId: invoice.id, statementId: invoice.statementId, memberId: invoice.memberId, number: invoice.number, buyerName: invoice.document.buyer.name,
    gross: invoice.gross, currency: invoice.currency, ...payments.get(invoice.id)!,
    sepa: plan.debits.some((d) => d.statementId === invoice.id) ? 'direct-debit' as const
      : plan.credits.some((c) => c.statementId === invoice.id) ? 'credit-transfer' as const : null,
    sepaSkipped: skipped.get(invoice.id) ?? null,
  }));
}

/** Open or failed invoices as SEPA payments: the mandate's account for both ways, else the member's payout account for credits. */
async function paymentPlan(db: Queryable, settlement: SettlementRecord, invoices: readonly InvoiceRecord[], payments: ReadonlyMap<string, PaymentView>): Promise<PaymentPlan> {
  const memberIds = [...new Set(invoices.map((i) => i.memberId))];
  const [mandates, details] = await Promise.all([mandatesOf(db, settlement.communityId, memberIds), billingDetailsOf(db, settlement.communityId, memberIds)]);
  const payable: PayableStatement[] = invoices
    .filter((invoice) => ['open', 'failed'].includes(payments.get(invoice.id)!.status))
    .map((invoice) => {
      const mandate = mandates.get(invoice.memberId);
      const account = mandate ?? details.get(invoice.memberId)?.payoutAccount;
      return {
        statementId: invoice.id, invoiceNumber: invoice.number, memberName: mandate?.accountHolder ?? invoice.document.buyer.name, currency: invoice.currency,
        gross: invoice.gross, ...(account ? { iban: account.iban, ...(account.bic ? { bic: account.bic } : {}) } : {}),
        ...(mandate ? { mandate: { id: mandate.mandateId, signedOn: mandate.signedOn } } : {}),
        remittance: `${invoice.number} ${settlement.period}`,
      };
    });
  return planPayments(payable);
}

/**
 * A SEPA file checked against the official schema of its version where the installation has it
 * (in a checkout: the vendored ISO originals): before a payment file leaves, and before a bank
 * statement is read into payments. Throws a BadRequestError naming the first violation.
 */
export function validated(xml: string, version: SepaSchemaVersion): string {
  const directory = defaultSepaSchemaDirectory();
  if (!directory) return xml;
  const schemas = loadSepaSchemas(directory, [version]);
  try {
    if (schemas.versions.includes(version)) schemas.validate(xml, version);
  } finally {
    schemas.dispose();
  }
  return xml;
}

/**
 * A payment file Gridshare wrote, held to its schema like any other: one that fails is a fault of
 * the writer, not of the request (whose input was checked before), so it is a 500 naming the
 * violation, logged with the community and period, and no file leaves.
 */
function validatedOwnFile(xml: string, version: DirectDebitVersion | CreditTransferVersion, settlement: SettlementRecord): string {
  try {
    return validated(xml, version);
  } catch (error) {
    if (!(error instanceof BadRequestError)) throw error;
    throw new InternalError(`the ${version} file Gridshare generated for ${settlement.period} fails the ISO 20022 schema, so none was issued: ${error.message}`, {
      communityId: settlement.communityId, settlementId: settlement.id, period: settlement.period, version, violation: error.message,
    });
  }
}

export async function sepaFile(db: Queryable, principal: Principal, settlementId: string, kind: 'direct-debits' | 'credit-transfers', version: DirectDebitVersion | CreditTransferVersion) {
  const settlement = await closedSettlementOf(db, principal, settlementId);
  const profile = await findBillingProfile(db, settlement.communityId);
  const community = await loadCommunity(db, settlement.communityId);
  if (!profile || !community) throw new ConflictError('the community has no billing profile: no invoices, no SEPA files');
  const invoices = await settlementInvoices(db, settlement.id);
  const plan = await paymentPlan(db, settlement, invoices, await paymentsOf(db, invoices));
  const nowMs = Date.now();
  const tomorrow = addDays(localDateOf(nowMs, createLocalClock(community.timeZone)), 1);
  const latestDue = invoices.reduce((latest, i) => (i.document.dueDate > latest ? i.document.dueDate : latest), tomorrow);
  const header = { messageId: `${profile.invoicePrefix}${settlement.period}-${kind === 'direct-debits' ? 'DD' : 'CT'}-${nowMs.toString(36).toUpperCase()}`, createdAtMs: nowMs };
  const party = { name: profile.legalName, iban: profile.bank.iban, ...(profile.bank.bic ? { bic: profile.bank.bic } : {}), ...(profile.creditorId ? { creditorId: profile.creditorId } : {}) };
  if (kind === 'direct-debits') {
    if (plan.debits.length === 0) throw new ConflictError(`nothing to collect by direct debit in ${settlement.period}`);
    if (!profile.creditorId) throw new ConflictError('direct debits need the community\'s SEPA creditor identifier (billing profile)');
    const xml = directDebitXml({ ...header, executionDate: latestDue, creditor: party, scheme: 'CORE', sequenceType: 'RCUR', debits: plan.debits }, version as DirectDebitVersion);
    return { fileName: `${header.messageId}.xml`, xml: validatedOwnFile(xml, version, settlement) };
  }
  if (plan.credits.length === 0) throw new ConflictError(`nothing to pay out by credit transfer in ${settlement.period}`);
  const xml = creditTransferXml({ ...header, executionDate: tomorrow, debtor: party, transfers: plan.credits }, version as CreditTransferVersion);
  return { fileName: `${header.messageId}.xml`, xml: validatedOwnFile(xml, version, settlement) };
}

export interface ManualPayment {
  status: PaymentStatusName;
  /** For a partial payment: what arrived; the others imply it (paid: all, open/failed: nothing). */
  settled?: string;
  reason?: string;
}

/** A manager records by hand what happened to an invoice's payment. */
export async function setPaymentStatus(db: Db, principal: Principal, invoiceId: string, input: ManualPayment, events: EventPublisher): Promise<PaymentView> {
  const user = requireUser(principal);
  const invoice = await findInvoice(db, invoiceId);
  if (!invoice) throw new NotFoundError('invoice');
  requireManager(principal, invoice.communityId, 'invoice');
  const digits = minorDigits(invoice.currency);
  const owed = due(invoice);
  let settled = input.status === 'paid' ? owed : 0n;
  if (input.status === 'partial') {
    try {
      settled = parseFixed(input.settled ?? '', digits);
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      throw new BadRequestError(`settled: an amount with at most ${digits} decimals is required for a partial payment`, 'settled');
    }
    if (settled <= 0n || settled >= owed) throw new BadRequestError(`settled: a partial payment lies between 0 and ${formatMinor(owed, digits)}`, 'settled');
  } else if (input.settled !== undefined) {
    throw new BadRequestError(`settled: only for a partial payment (${input.status} implies it)`, 'settled');
  }
  const reason = input.reason?.trim() || null;
  if (input.status === 'failed' && !reason) throw new BadRequestError('reason: say why the payment failed', 'reason');
  return events.transaction(db, async (tx, publish) => {
    await lockSettlement(tx, invoice.settlementId);
    const before = (await paymentsOf(tx, [invoice])).get(invoice.id)!;
    const record = { invoiceId: invoice.id, status: input.status, settled: formatMinor(settled, digits), reason, source: 'manual' as const, bookingDate: null, recordedBy: user.userId };
    await insertPayment(tx, invoice.communityId, record);
    await publish('payment.status.changed', {
      communityId: invoice.communityId, invoiceId: invoice.id, statementId: invoice.statementId, memberId: invoice.memberId, status: input.status, reason, atMs: Date.now(),
    });
    const after = (await paymentsOf(tx, [invoice])).get(invoice.id)!;
    await recordChange(publish, {
      kind: 'payment', communityId: invoice.communityId, resourceId: invoice.id, action: 'set-status', subjectMemberId: invoice.memberId,
      before: { number: invoice.number, status: before.status, settled: before.settled }, after: { number: invoice.number, status: after.status, settled: after.settled, reason },
    });
    return after;
  });
}

/**
 * A bank statement (camt.053) read against the month's open, partial and failed invoices: what
 * would change (preview), or — with `apply` — recorded, in one transaction. A match that
 * changes nothing (the same file again) records nothing.
 */
export async function importBankStatement(db: Db, principal: Principal, settlementId: string, xml: string, apply: boolean, events: EventPublisher) {
  const user = requireUser(principal);
  const settlement = await closedSettlementOf(db, principal, settlementId);
  const file = readBankStatement(xml);
  // Read first (size and depth limits, the root a camt.053 Document), then held to its version's XSD.
  if (isSepaSchemaVersion(file.version)) validated(xml, file.version);
  const read = async (q: Queryable) => {
    const invoices = await settlementInvoices(q, settlement.id);
    const payments = await paymentsOf(q, invoices);
    const open = invoices.filter((i) => payments.get(i.id)!.status !== 'paid' && due(i) > 0n);
    const result = matchPayments(file.transactions, open.map((i) => ({ statementId: i.id, invoiceNumber: i.number, grossCents: parseFixed(i.gross, 2) })));
    const byId = new Map(invoices.map((i) => [i.id, i]));
    const matches = result.matches.map((m) => {
      const invoice = byId.get(m.statementId)!;
      const current = payments.get(invoice.id)!;
      const settled = formatMinor(m.settledCents, 2);
      return {
        invoiceId: invoice.id, number: invoice.number, buyerName: invoice.document.buyer.name, gross: invoice.gross, memberId: invoice.memberId,
        before: current.status, status: m.status, settled, bookingDate: m.lastBookingDate, returnReasons: [...m.returnReasons],
        changes: current.status !== m.status || current.settled !== settled,
      };
    });
    const unmatched = result.unmatched.map(({ transaction: t, reason }) => ({
      bookingDate: t.bookingDate, direction: t.direction, amount: formatMinor(t.amountCents, 2), currency: t.currency,
      endToEndId: t.endToEndId ?? null, remittance: t.remittance.join(' '), reason,
    }));
    return { matches, unmatched };
  };
  if (!apply) return { applied: false, ...(await read(db)) };
  return events.transaction(db, async (tx, publish) => {
    await lockSettlement(tx, settlement.id);
    const outcome = await read(tx);
    const statementOf = new Map((await settlementInvoices(tx, settlement.id)).map((i) => [i.id, i.statementId]));
    for (const m of outcome.matches.filter((x) => x.changes)) {
      const reason = m.returnReasons.join(', ') || null;
      await insertPayment(tx, settlement.communityId, {
        invoiceId: m.invoiceId, status: m.status, settled: m.settled, reason, source: 'camt053', bookingDate: m.bookingDate, recordedBy: user.userId,
      });
      await publish('payment.status.changed', {
        communityId: settlement.communityId, invoiceId: m.invoiceId, statementId: statementOf.get(m.invoiceId)!, memberId: m.memberId, status: m.status, reason, atMs: Date.now(),
      });
      await recordChange(publish, {
        kind: 'payment', communityId: settlement.communityId, resourceId: m.invoiceId, action: 'import-bank-statement', subjectMemberId: m.memberId,
        before: { number: m.number, status: m.before }, after: { number: m.number, status: m.status, settled: m.settled, bookingDate: m.bookingDate },
      });
    }
    return { applied: true, ...outcome };
  });
}
