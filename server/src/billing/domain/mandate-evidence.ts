/**
 * How long a SEPA mandate outlives its member's erasure (issue 20). Under the SEPA Core rulebook
 * the debtor may claim a refund of an authorised collection for 8 weeks and of an unauthorised one
 * (no valid mandate) for 13 months after the debit date; the creditor proves the mandate. So the
 * mandate is kept — restricted, used for nothing else — for 13 months after the last collection
 * that could have been made under it, and deleted at once when none could have been.
 */

/** The longer of the two refund periods, in months after the debit date. */
export const REFUND_CLAIM_MONTHS = 13;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDate(iso: string): [number, number, number] {
  const match = ISO_DATE.exec(iso);
  if (!match) throw new Error(`not a date: ${iso}`);
  return [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
}

const later = (a: string, b: string): string => (a > b ? a : b);

/**
 * The first local day (YYYY-MM-DD) on which the mandate may be deleted, or null when no collection
 * could have happened under it (delete at once). `lastDue`: the latest due date of an invoice that
 * could have been collected under it (null: none); `erasedOn`: the local day of the erasure — a
 * direct-debit file made before it may collect as late as then (no file after it names the mandate).
 * The day after the refund period: 13 calendar months after the debit date, the month's last day
 * where the date does not exist (31 January → 28/29 February of the next year but one).
 */
export function mandateEvidenceEnds(lastDue: string | null, erasedOn: string): string | null {
  if (lastDue === null) return null;
  const [year, month, day] = parseDate(later(lastDue, erasedOn));
  const target = month + REFUND_CLAIM_MONTHS;
  const lastOfTarget = new Date(Date.UTC(year, target + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, target, Math.min(day, lastOfTarget) + 1)).toISOString().slice(0, 10);
}
