import { BadRequestError } from '../../kernel/errors.js';
import { parseFixed } from '../../kernel/money.js';
import { sepaBic, sepaCreditorId, sepaDate, sepaIban, sepaId, sepaText } from './accounts.js';

/**
 * Which statements of a closed period become which SEPA payments: a member who owes (gross > 0)
 * is debited under their mandate (pain.008), a member who is owed (gross < 0) is paid by credit
 * transfer (pain.001), a zero total needs nothing. One bad statement — no mandate, an invalid
 * IBAN, a currency other than EUR — is listed with its reason and never blocks the others.
 * The end-to-end id is the invoice number: the bank returns it in camt.053, which matches the
 * payment back to its statement.
 */

export interface PayableStatement {
  readonly statementId: string;
  readonly invoiceNumber: string;
  readonly memberName: string;
  readonly currency: string;
  /** The invoice's gross total, minor units as a decimal string ("11.56", "-4.59"). */
  readonly gross: string;
  readonly iban?: string;
  readonly bic?: string;
  /** Present when the member signed a SEPA direct-debit mandate. */
  readonly mandate?: { readonly id: string; readonly signedOn: string };
  /** Remittance text for the member's bank statement. */
  readonly remittance: string;
}

export interface Payment {
  readonly statementId: string;
  readonly endToEndId: string;
  readonly name: string;
  readonly iban: string;
  readonly bic?: string;
  /** Cents, always positive. */
  readonly amountCents: bigint;
  readonly remittance: string;
}

export interface DirectDebit extends Payment {
  readonly mandateId: string;
  readonly mandateSignedOn: string;
}

export interface PaymentPlan {
  readonly debits: readonly DirectDebit[];
  readonly credits: readonly Payment[];
  readonly skipped: readonly { readonly statementId: string; readonly reason: string }[];
}

/** The most a SEPA file may carry in one transaction: 999,999,999.99. */
const MAX_CENTS = 99_999_999_999n;
function cents(text: string): bigint {
  try {
    return parseFixed(text, 2);
  } catch {
    throw new BadRequestError(`the gross total is not an amount in cents: "${text}"`);
  }
}

export function planPayments(statements: readonly PayableStatement[]): PaymentPlan {
  const debits: DirectDebit[] = [];
  const credits: Payment[] = [];
  const skipped: { statementId: string; reason: string }[] = [];
  const seen = new Set<string>();
  for (const statement of statements) {
    try {
      if (statement.currency !== 'EUR') throw new BadRequestError(`SEPA pays euros only, the statement is in ${statement.currency}`);
      const gross = cents(statement.gross);
      if (gross === 0n) continue;
      const amountCents = gross < 0n ? -gross : gross;
      if (amountCents > MAX_CENTS) throw new BadRequestError(`the amount ${statement.gross} exceeds what one SEPA transaction may carry`);
      const endToEndId = sepaId(statement.invoiceNumber, 'invoiceNumber');
      if (seen.has(endToEndId)) throw new BadRequestError(`invoice number ${endToEndId} appears twice`);
      if (!statement.iban) throw new BadRequestError('the member has no IBAN on file');
      const payment: Payment = {
        statementId: statement.statementId,
        endToEndId,
        name: sepaText(statement.memberName, 70) || 'NOTPROVIDED',
        iban: sepaIban(statement.iban, 'iban'),
        ...(statement.bic ? { bic: sepaBic(statement.bic, 'bic') } : {}),
        amountCents,
        remittance: sepaText(statement.remittance, 140),
      };
      if (gross < 0n) {
        credits.push(payment);
      } else {
        if (!statement.mandate) throw new BadRequestError('no direct-debit mandate: the member pays by transfer');
        debits.push({ ...payment, mandateId: sepaId(statement.mandate.id, 'mandate/id'), mandateSignedOn: sepaDate(statement.mandate.signedOn, 'mandate/signedOn') });
      }
      seen.add(endToEndId);
    } catch (error) {
      if (!(error instanceof BadRequestError)) throw error;
      skipped.push({ statementId: statement.statementId, reason: error.message });
    }
  }
  return { debits, credits, skipped };
}

/** The community's side of a SEPA file. */
export interface SepaParty {
  readonly name: string;
  readonly iban: string;
  readonly bic?: string;
  /** The SEPA creditor identifier; required for direct debits. */
  readonly creditorId?: string;
}

export function checkParty(party: SepaParty, needsCreditorId: boolean): SepaParty {
  const name = sepaText(party.name, 70);
  if (name === '') throw new BadRequestError('the community needs a name in SEPA characters', 'party/name');
  if (needsCreditorId && !party.creditorId) throw new BadRequestError('direct debits need the community\'s SEPA creditor identifier', 'party/creditorId');
  return {
    name,
    iban: sepaIban(party.iban, 'party/iban'),
    ...(party.bic ? { bic: sepaBic(party.bic, 'party/bic') } : {}),
    ...(party.creditorId ? { creditorId: sepaCreditorId(party.creditorId, 'party/creditorId') } : {}),
  };
}
