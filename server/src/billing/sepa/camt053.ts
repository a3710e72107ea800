import { SaxesParser } from 'saxes';
import { BadRequestError, PayloadTooLargeError } from '../../kernel/errors.js';
import { parseFixed } from '../../kernel/money.js';

/**
 * Bank statements (camt.053, versions .02 to .08 as banks send them) read into booked
 * transactions, and those matched to the statements they pay: by end-to-end id (the invoice
 * number Gridshare sent in pain.008/pain.001), else by an invoice number in the remittance text
 * (a member's own transfer). A returned direct debit or transfer marks the statement failed.
 *
 * The reader is saxes (strict XML 1.0 in JavaScript, it cannot fetch anything) and refuses a
 * DOCTYPE, entity declarations and processing instructions — the constructs of "billion laughs"
 * and external-entity attacks, none of which a bank statement uses — and stops at limits on
 * size, depth and element count while it reads.
 */
export interface BankTransaction {
  readonly accountIban?: string;
  readonly bookingDate: string;
  readonly direction: 'credit' | 'debit';
  readonly amountCents: bigint;
  readonly currency: string;
  readonly endToEndId?: string;
  readonly remittance: readonly string[];
  /** ISO return reason (AM04 insufficient funds, MD06 refund request, AC04 closed account, …) of a returned payment. */
  readonly returnReason?: string;
  readonly reversal: boolean;
  readonly counterparty?: string;
}

export interface BankStatementFile {
  readonly version: string;
  readonly transactions: readonly BankTransaction[];
  /** Entries that are not booked yet (pending, information only): not used for matching. */
  readonly notBooked: number;
}

export const CAMT_LIMITS = { maxBytes: 32 * 1024 * 1024, maxDepth: 24, maxElements: 2_000_000 };

interface Element {
  readonly name: string;
  text: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: Element[];
}

/** Refuses markup a SEPA document never has and an attacker needs, before any parser expands it. */
export function refuseHostileMarkup(xml: string): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new BadRequestError('a DOCTYPE or entity declaration is not allowed in a SEPA document');
}

/** The document's root element and the camt.053 version its namespace names. */
function readTree(xml: string): { root: Element; version: string } {
  if (xml.length > CAMT_LIMITS.maxBytes || Buffer.byteLength(xml, 'utf8') > CAMT_LIMITS.maxBytes) {
    throw new PayloadTooLargeError(`a bank statement file may be at most ${CAMT_LIMITS.maxBytes} bytes`);
  }
  refuseHostileMarkup(xml);
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: Element[] = [];
  let root: Element | undefined;
  let version = '';
  let count = 0;
  const refuse = (message: string): never => {
    throw new BadRequestError(`not a readable bank statement (line ${parser.line}): ${message}`);
  };
  parser.on('doctype', () => refuse('a DOCTYPE is not allowed'));
  parser.on('processinginstruction', () => refuse('processing instructions are not allowed'));
  parser.on('opentag', (tag) => {
    if (++count > CAMT_LIMITS.maxElements) refuse(`more than ${CAMT_LIMITS.maxElements} elements`);
    if (stack.length >= CAMT_LIMITS.maxDepth) refuse(`nested deeper than ${CAMT_LIMITS.maxDepth} levels`);
    const attributes: Record<string, string> = {};
    for (const attribute of Object.values(tag.attributes)) attributes[attribute.local] = attribute.value;
    const element: Element = { name: tag.local, text: '', attributes, children: [] };
    if (stack.length === 0) {
      const named = /^urn:iso:std:iso:20022:tech:xsd:(camt\.053\.001\.\d\d)$/.exec(tag.uri)?.[1];
      if (!named || tag.local !== 'Document') return refuse(`the root must be a camt.053 Document, not {${tag.uri}}${tag.local}`);
      root = element;
      version = named;
    } else stack.at(-1)!.children.push(element);
    stack.push(element);
  });
  parser.on('text', (text) => {
    const current = stack.at(-1);
    if (current) current.text += text;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  try {
    parser.write(xml.charCodeAt(0) === 0xfeff ? xml.slice(1) : xml).close();
  } catch (error) {
    if (error instanceof BadRequestError) throw error;
    throw new BadRequestError(`malformed XML: ${(error as Error).message}`);
  }
  return root ? { root, version } : refuse('no root element');
}

const child = (element: Element | undefined, ...path: string[]): Element | undefined =>
  path.reduce<Element | undefined>((at, name) => at?.children.find((c) => c.name === name), element);
const children = (element: Element | undefined, name: string): Element[] => element?.children.filter((c) => c.name === name) ?? [];
const text = (element: Element | undefined, ...path: string[]): string | undefined => child(element, ...path)?.text.trim() || undefined;

function amountOf(element: Element | undefined, where: string): { cents: bigint; currency: string } {
  const value = element?.text.trim() ?? '';
  const currency = element?.attributes.Ccy ?? '';
  if (!/^[A-Z]{3}$/.test(currency)) throw new BadRequestError(`${where}: an amount without a currency`);
  // camt amounts are unsigned: the direction is CdtDbtInd's.
  if (!/^\d{1,18}(\.\d{1,2})?$/.test(value)) throw new BadRequestError(`${where}: not an unsigned amount with at most 2 decimals: "${value}"`);
  return { cents: parseFixed(value, 2), currency };
}

const DATE = /^\d{4}-\d{2}-\d{2}/;

export function readBankStatement(xml: string): BankStatementFile {
  const { root, version } = readTree(xml);
  const report = child(root, 'BkToCstmrStmt') ?? (() => { throw new BadRequestError('no BkToCstmrStmt in the Document'); })();
  const transactions: BankTransaction[] = [];
  let notBooked = 0;
  for (const statement of children(report, 'Stmt')) {
    const accountIban = text(statement, 'Acct', 'Id', 'IBAN');
    children(statement, 'Ntry').forEach((entry, index) => {
      const where = `entry ${index + 1} of statement ${text(statement, 'Id') ?? '?'}`;
      const status = text(entry, 'Sts', 'Cd') ?? text(entry, 'Sts');
      if (status !== 'BOOK') {
        notBooked += 1;
        return;
      }
      const direction = text(entry, 'CdtDbtInd');
      if (direction !== 'CRDT' && direction !== 'DBIT') throw new BadRequestError(`${where}: CdtDbtInd must be CRDT or DBIT`);
      const bookingDate = (text(entry, 'BookgDt', 'Dt') ?? text(entry, 'BookgDt', 'DtTm') ?? '').slice(0, 10);
      if (!DATE.test(bookingDate)) throw new BadRequestError(`${where}: no booking date`);
      const entryAmount = amountOf(child(entry, 'Amt'), where);
      const reversal = text(entry, 'RvslInd') === 'true';
      const details = children(entry, 'NtryDtls').flatMap((d) => children(d, 'TxDtls'));
      const base = { ...(accountIban ? { accountIban } : {}), bookingDate, direction: direction === 'CRDT' ? 'credit' as const : 'debit' as const, reversal };
      if (details.length === 0) {
        const info = text(entry, 'AddtlNtryInf');
        transactions.push({ ...base, amountCents: entryAmount.cents, currency: entryAmount.currency, remittance: info ? [info] : [] });
        return;
      }
      for (const detail of details) {
        // .02 puts a transaction's own amount in AmtDtls/TxAmt, .08 also directly in Amt; a single
        // transaction may omit both and then has the entry's amount.
        const own = child(detail, 'Amt') ?? child(detail, 'AmtDtls', 'TxAmt', 'Amt');
        const { cents, currency } = own ? amountOf(own, where) : entryAmount;
        const endToEndId = text(detail, 'Refs', 'EndToEndId');
        const returnReason = text(detail, 'RtrInf', 'Rsn', 'Cd') ?? text(detail, 'RtrInf', 'Rsn', 'Prtry');
        const counterpartyRole = direction === 'CRDT' ? 'Dbtr' : 'Cdtr';
        const counterparty = text(detail, 'RltdPties', counterpartyRole, 'Nm') ?? text(detail, 'RltdPties', counterpartyRole, 'Pty', 'Nm');
        const remittance = [
          ...children(child(detail, 'RmtInf'), 'Ustrd').map((u) => u.text.trim()),
          ...children(child(detail, 'RmtInf'), 'Strd').map((s) => text(s, 'CdtrRefInf', 'Ref') ?? '').filter(Boolean),
        ];
        transactions.push({
          ...base,
          amountCents: cents,
          currency,
          ...(endToEndId && endToEndId !== 'NOTPROVIDED' ? { endToEndId } : {}),
          remittance,
          ...(returnReason ? { returnReason } : {}),
          ...(counterparty ? { counterparty } : {}),
        });
      }
    });
  }
  return { version, transactions, notBooked };
}

/** A statement awaiting payment: `grossCents` > 0 is owed by the member, < 0 is owed to them. */
export interface OpenStatement {
  readonly statementId: string;
  readonly invoiceNumber: string;
  readonly grossCents: bigint;
}

export type PaymentStatus = 'paid' | 'partial' | 'failed';

export interface PaymentMatch {
  readonly statementId: string;
  readonly status: PaymentStatus;
  /** What arrived (or left, for a payout) net of returns, in cents, positive. */
  readonly settledCents: bigint;
  readonly lastBookingDate: string;
  readonly returnReasons: readonly string[];
}

export interface MatchResult {
  readonly matches: readonly PaymentMatch[];
  readonly unmatched: readonly { readonly transaction: BankTransaction; readonly reason: string }[];
}

export function matchPayments(transactions: readonly BankTransaction[], open: readonly OpenStatement[]): MatchResult {
  const byNumber = new Map(open.map((s) => [s.invoiceNumber, s]));
  const numberPattern = open.length === 0 ? undefined : new RegExp(`(?:^|[^A-Za-z0-9-])(${[...byNumber.keys()].map((n) => n.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|')})(?![0-9])`);
  const tally = new Map<string, { settled: bigint; returns: string[]; last: string }>();
  const unmatched: MatchResult['unmatched'][number][] = [];
  for (const transaction of transactions) {
    const statement = (transaction.endToEndId ? byNumber.get(transaction.endToEndId) : undefined)
      ?? transaction.remittance.map((line) => numberPattern?.exec(line)?.[1]).map((n) => (n ? byNumber.get(n) : undefined)).find(Boolean);
    if (!statement) {
      unmatched.push({ transaction, reason: 'no open statement with this end-to-end id or invoice number' });
      continue;
    }
    if (transaction.currency !== 'EUR') {
      unmatched.push({ transaction, reason: `paid in ${transaction.currency}, billed in EUR` });
      continue;
    }
    // The way money moves for this statement: in from a member who owes, out to a member who is owed.
    const expected = statement.grossCents > 0n ? 'credit' : 'debit';
    const returned = transaction.returnReason !== undefined || transaction.reversal;
    if (returned === (transaction.direction === expected)) {
      unmatched.push({ transaction, reason: `a ${transaction.direction} ${returned ? 'return' : 'payment'} does not fit ${statement.invoiceNumber}, which is ${expected === 'credit' ? 'owed by' : 'owed to'} the member` });
      continue;
    }
    const entry = tally.get(statement.statementId) ?? { settled: 0n, returns: [], last: transaction.bookingDate };
    entry.settled += returned ? -transaction.amountCents : transaction.amountCents;
    if (returned) entry.returns.push(transaction.returnReason ?? 'reversal');
    if (transaction.bookingDate > entry.last) entry.last = transaction.bookingDate;
    tally.set(statement.statementId, entry);
  }
  const matches = open.flatMap((statement) => {
    const entry = tally.get(statement.statementId);
    if (!entry) return [];
    const due = statement.grossCents < 0n ? -statement.grossCents : statement.grossCents;
    const status: PaymentStatus = entry.settled >= due ? 'paid' : entry.settled > 0n ? 'partial' : 'failed';
    return [{ statementId: statement.statementId, status, settledCents: entry.settled < 0n ? 0n : entry.settled, lastBookingDate: entry.last, returnReasons: entry.returns }];
  });
  return { matches, unmatched };
}
