import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import type { EventPublisher } from '../platform/events/index.js';
import { canSeeMember, requireManager, requireUser } from '../accounts/index.js';
import { ConflictError, NotFoundError } from '../kernel/errors.js';
import { createLocalClock, localDateOf } from '../kernel/calendar.js';
import { getMember, loadCommunity, loadTariffs, membersByName, type Community, type MemberListing } from '../registry/index.js';
import { recordChange } from '../audit/index.js';
import type { MemberBillingDetails } from '@gridshare/contract/billing';
import { buildInvoice, type Invoice } from './domain/invoice.js';
import { isBilledRole } from './domain/statement.js';
import { formatInvoiceNumber } from './domain/invoice-number.js';
import { checkBillingDetails, checkBillingProfile, checkSepaMandate, invoiceFacts, type BillingDetails, type BillingProfile, type SepaMandate } from './facts.js';
import { paymentsOf, type PaymentView } from './payment-status.js';
import {
  billingDetailsOf, deleteMandate, findBillingProfile, findInvoice, findSettlement, insertInvoice, mandatesOf, memberInvoices, reserveInvoiceNumbers,
  saveBillingDetails, saveBillingProfile, saveMandate, settlementInvoices, type InvoiceRecord, type SettlementRecord, type StatementRecord,
} from './store.js';

/**
 * Invoices (issue 21): the community's billing profile and its members' billing details and
 * mandates, and the invoices issued from statements when a month is closed (or a closed month
 * corrected). A community without a profile issues statements only.
 */

async function communityOf(db: Queryable, communityId: string): Promise<Community> {
  const community = await loadCommunity(db, communityId);
  if (!community) throw new NotFoundError('community');
  return community;
}

export async function getBillingProfile(db: Queryable, principal: Principal, communityId: string): Promise<BillingProfile | null> {
  requireManager(principal, communityId);
  await communityOf(db, communityId);
  return (await findBillingProfile(db, communityId)) ?? null;
}

export async function setBillingProfile(db: Db, principal: Principal, communityId: string, input: BillingProfile, events: EventPublisher): Promise<BillingProfile> {
  requireManager(principal, communityId);
  await communityOf(db, communityId);
  const profile = checkBillingProfile(input);
  return events.transaction(db, async (tx, publish) => {
    const before = await findBillingProfile(tx, communityId);
    await saveBillingProfile(tx, communityId, profile);
    await recordChange(publish, { kind: 'billing-profile', communityId, resourceId: communityId, action: 'set', before: before ?? null, after: profile });
    return profile;
  });
}

/** The member's billing details and mandate: theirs, their community's managers' and the admins'. */
export async function getBillingDetails(db: Queryable, principal: Principal, memberId: string): Promise<{ details: BillingDetails | null; mandate: SepaMandate | null }> {
  const member = await getMember(db, principal, memberId);
  const [details, mandate] = await Promise.all([billingDetailsOf(db, member.communityId, [member.id]), mandatesOf(db, member.communityId, [member.id])]);
  return { details: details.get(member.id) ?? null, mandate: mandate.get(member.id) ?? null };
}

/**
 * Who invoices are made out to: members who are or were in the community (a member who left may
 * still be billed for the months they took part in), not a manager who only runs it (no site of
 * their own: the community battery is the community's, not its holder's).
 */
export const isBilledMember = (m: MemberListing) => (m.state === 'active' || m.hasLeft) && isBilledRole(m);

/** Every billed member's billing details and mandate in one answer, for the community's managers (a page need not ask once per member). */
export async function communityBillingDetails(db: Queryable, principal: Principal, communityId: string): Promise<MemberBillingDetails[]> {
  requireManager(principal, communityId);
  await communityOf(db, communityId);
  const members = (await membersByName(db, communityId)).filter(isBilledMember);
  const ids = members.map((m) => m.id);
  const [details, mandates] = await Promise.all([billingDetailsOf(db, communityId, ids), mandatesOf(db, communityId, ids)]);
  return members.map((m) => ({ memberId: m.id, displayName: m.displayName, hasLeft: m.hasLeft, details: details.get(m.id) ?? null, mandate: mandates.get(m.id) ?? null }));
}

/** Set by the member themself or a manager (an admin for either). */
export async function setBillingDetails(db: Db, principal: Principal, memberId: string, input: BillingDetails, events: EventPublisher): Promise<BillingDetails> {
  const member = await getMember(db, principal, memberId);
  const details = checkBillingDetails(input);
  return events.transaction(db, async (tx, publish) => {
    const before = (await billingDetailsOf(tx, member.communityId, [member.id])).get(member.id);
    await saveBillingDetails(tx, member.communityId, member.id, details);
    await recordChange(publish, { kind: 'billing-details', communityId: member.communityId, resourceId: member.id, action: 'set', before: before ?? null, after: details, subjectMemberId: member.id });
    return details;
  });
}

/** A mandate is signed on paper (or a form) and recorded by the community's managers. */
export async function setMandate(db: Db, principal: Principal, memberId: string, input: SepaMandate, events: EventPublisher): Promise<SepaMandate> {
  const member = await getMember(db, principal, memberId);
  requireManager(principal, member.communityId, 'member');
  const community = await communityOf(db, member.communityId);
  const mandate = checkSepaMandate(input, localDateOf(Date.now(), createLocalClock(community.timeZone)));
  return events.transaction(db, async (tx, publish) => {
    const before = (await mandatesOf(tx, member.communityId, [member.id])).get(member.id);
    const saved = await saveMandate(tx, member.communityId, member.id, mandate);
    if (saved === 'taken') throw new ConflictError(`mandate id ${mandate.mandateId} is another member's`);
    if (saved === 'restricted') throw new ConflictError('the member erased their account: their last mandate is kept restricted as evidence and cannot be replaced');
    await recordChange(publish, { kind: 'sepa-mandate', communityId: member.communityId, resourceId: member.id, action: 'set', before: before ?? null, after: mandate, subjectMemberId: member.id });
    return mandate;
  });
}

export async function revokeMandate(db: Db, principal: Principal, memberId: string, events: EventPublisher): Promise<void> {
  const member = await getMember(db, principal, memberId);
  requireManager(principal, member.communityId, 'member');
  await events.transaction(db, async (tx, publish) => {
    const before = (await mandatesOf(tx, member.communityId, [member.id])).get(member.id);
    if (!before || !(await deleteMandate(tx, member.id))) throw new NotFoundError('mandate');
    await recordChange(publish, { kind: 'sepa-mandate', communityId: member.communityId, resourceId: member.id, action: 'revoke', before, after: null, subjectMemberId: member.id });
  });
}

/**
 * Issues an invoice for each of the statements, inside the transaction that closes the month (or
 * issues its corrections): numbers are reserved gap-free for the year of the issue date, and a
 * correction's invoice names the member's latest invoice of the month as the one it corrects.
 * Refused (409, the whole closing with it) when a member has no billing address.
 */
export async function issueInvoices(tx: Queryable, community: Community, settlement: SettlementRecord, statements: readonly StatementRecord[], issuedAtMs: number): Promise<void> {
  const profile = await findBillingProfile(tx, community.id);
  if (!profile || statements.length === 0) return;
  const details = await billingDetailsOf(tx, community.id, [...new Set(statements.map((s) => s.memberId))]);
  const without = [...new Set(statements.filter((s) => !details.has(s.memberId)).map((s) => s.displayName))];
  if (without.length > 0) throw new ConflictError(`invoices need a billing address; missing for ${without.join(', ')}`);

  const clock = createLocalClock(community.timeZone);
  const issueDate = localDateOf(issuedAtMs, clock);
  const year = Number(issueDate.slice(0, 4));
  const period = { firstDay: localDateOf(settlement.periodStartMs, clock), lastDay: localDateOf(settlement.periodEndMs - 1, clock) };
  const tariffNames = Object.fromEntries((await loadTariffs(tx, community.id)).map((t) => [t.id, t.name]));
  const latest = new Map<string, InvoiceRecord>();
  for (const invoice of await settlementInvoices(tx, settlement.id)) latest.set(invoice.memberId, invoice);
  const first = await reserveInvoiceNumbers(tx, community.id, year, statements.length);
  for (const [index, statement] of statements.entries()) {
    const corrected = statement.kind === 'correction' ? latest.get(statement.memberId) : undefined;
    const number = formatInvoiceNumber({ prefix: profile.invoicePrefix, year, sequence: first + index });
    const invoice = buildInvoice(statement.document, invoiceFacts({
      profile, details: details.get(statement.memberId)!, number, issueDate, period, tariffNames, ...(corrected ? { corrects: corrected.number } : {}),
    }));
    await insertInvoice(tx, { communityId: community.id, statementId: statement.id, memberId: statement.memberId, year, sequence: first + index, corrects: corrected?.id ?? null, invoice });
  }
}

export interface InvoiceSummary {
  id: string;
  statementId: string;
  settlementId: string;
  memberId: string;
  number: string;
  kind: Invoice['kind'];
  corrects: string | null;
  buyerName: string;
  issueDate: string;
  dueDate: string;
  currency: string;
  totals: Invoice['totals'];
  payment: Omit<PaymentView, 'history'>;
}

/** The invoices as listed, each with its payment status. */
async function summaries(db: Queryable, records: readonly InvoiceRecord[]): Promise<InvoiceSummary[]> {
  const payments = await paymentsOf(db, records);
  return records.map((r) => {
    const { status, settled } = payments.get(r.id)!;
    return {
      id: r.id, statementId: r.statementId, settlementId: r.settlementId, memberId: r.memberId, number: r.number, kind: r.document.kind,
      corrects: r.document.notes.find((n) => n.key === 'invoice.note.corrects')?.values?.number ?? null,
      buyerName: r.document.buyer.name, issueDate: r.document.issueDate, dueDate: r.document.dueDate, currency: r.currency, totals: r.document.totals,
      payment: { status, settled },
    };
  });
}

export async function listSettlementInvoices(db: Queryable, principal: Principal, settlementId: string): Promise<InvoiceSummary[]> {
  requireUser(principal);
  const settlement = await findSettlement(db, settlementId);
  if (!settlement) throw new NotFoundError('settlement');
  requireManager(principal, settlement.communityId, 'settlement');
  return summaries(db, await settlementInvoices(db, settlementId));
}

export async function listMemberInvoices(db: Queryable, principal: Principal, memberId: string): Promise<InvoiceSummary[]> {
  const member = await getMember(db, principal, memberId);
  return summaries(db, await memberInvoices(db, member.id, member.communityId));
}

/** One invoice: its member, the community's managers, admins; others learn nothing. */
export async function getInvoice(db: Queryable, principal: Principal, id: string): Promise<InvoiceSummary & { document: Invoice; communityLocale: string }> {
  requireUser(principal);
  const record = await findInvoice(db, id);
  if (!record || !canSeeMember(principal, { id: record.memberId, communityId: record.communityId })) throw new NotFoundError('invoice');
  const community = await communityOf(db, record.communityId);
  const [listed] = await summaries(db, [record]);
  return { ...listed!, document: record.document, communityLocale: community.locale };
}
