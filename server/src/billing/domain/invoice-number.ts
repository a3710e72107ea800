import { BadRequestError } from '../../kernel/errors.js';

/**
 * Invoice numbers: one sequence per community and calendar year of the issue date, starting at
 * 1, without gaps and never reused (VAT Directive Art. 226(2): "a sequential number, based on
 * one or more series, which uniquely identifies the invoice"). A number is written
 * `<prefix><year>-<sequence padded to 5 digits>`, e.g. `SUN-2026-00042`; the prefix is the
 * community's short code and makes numbers of two communities on one installation distinct.
 */
export interface InvoiceNumber {
  readonly prefix: string;
  readonly year: number;
  readonly sequence: number;
}

const PREFIX = /^[A-Z0-9]{0,10}-?$/;
const SEQUENCE_DIGITS = 5;

export function formatInvoiceNumber({ prefix, year, sequence }: InvoiceNumber): string {
  if (!PREFIX.test(prefix)) throw new BadRequestError(`an invoice number prefix is up to 10 capital letters or digits and an optional "-", got "${prefix}"`, 'prefix');
  if (!Number.isInteger(year) || year < 2000 || year > 9999) throw new BadRequestError(`not a year: ${year}`, 'year');
  if (!Number.isSafeInteger(sequence) || sequence < 1) throw new BadRequestError(`an invoice sequence starts at 1, got ${sequence}`, 'sequence');
  return `${prefix}${year}-${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`;
}

/** The inverse of formatInvoiceNumber; undefined for anything it could not have written. */
export function parseInvoiceNumber(text: string): InvoiceNumber | undefined {
  const match = /^([A-Z0-9]{0,10}-?)(\d{4})-(\d{5,15})$/.exec(text);
  if (!match) return undefined;
  const sequence = Number(match[3]);
  if (sequence < 1 || (match[3]!.length > SEQUENCE_DIGITS && match[3]!.startsWith('0'))) return undefined;
  const number = { prefix: match[1]!, year: Number(match[2]), sequence };
  return formatInvoiceNumber(number) === text ? number : undefined;
}

/**
 * Audits a series as issued (e.g. an export for the tax office): every year's sequences must run
 * 1, 2, 3, … with no gap and no number twice. Returns what is wrong, empty when nothing is.
 */
export function auditInvoiceSeries(numbers: readonly string[]): string[] {
  const problems: string[] = [];
  const byYear = new Map<string, number[]>();
  for (const text of numbers) {
    const parsed = parseInvoiceNumber(text);
    if (!parsed) {
      problems.push(`"${text}" is not an invoice number`);
      continue;
    }
    const key = `${parsed.prefix}${parsed.year}`;
    byYear.set(key, [...(byYear.get(key) ?? []), parsed.sequence]);
  }
  for (const [series, sequences] of byYear) {
    const sorted = [...sequences].sort((a, b) => a - b);
    let expected = 1;
    for (const sequence of sorted) {
      if (sequence < expected) problems.push(`${series}: number ${sequence} issued twice`);
      else if (sequence > expected) problems.push(`${series}: ${expected === sequence - 1 ? `number ${expected} is` : `numbers ${expected}–${sequence - 1} are`} missing`);
      expected = Math.max(expected, sequence + 1);
    }
  }
  return problems;
}

/**
 * The store contract phase 2 implements (see billing/README.md): the next numbers of a
 * community's series for a year, taken inside the transaction that closes the period, from a
 * counter row updated with `UPDATE … SET last = last + n … RETURNING` (created on first use).
 * The row lock serialises concurrent closings; a rolled-back closing rolls the counter back,
 * so no number is lost; a committed number is never handed out again, even if the invoice is
 * later cancelled (a cancellation is a new, corrective invoice).
 */
export interface InvoiceNumberStore<Transaction> {
  /** Reserves `count` consecutive sequences and returns the first. */
  reserve(transaction: Transaction, communityId: string, year: number, count: number): Promise<number>;
}
