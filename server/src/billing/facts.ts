import { BadRequestError } from '../kernel/errors.js';
import { sepaBic, sepaCreditorId, sepaDate, sepaIban, sepaId } from './sepa/accounts.js';
import { formatInvoiceNumber } from './domain/invoice-number.js';
import type { BankAccount, InvoiceFacts, PostalAddress } from './domain/invoice.js';
import { parseRate, TARIFF_COMPONENTS, vatPreset, type CommunityVat, type MemberVat, type TariffComponent } from './domain/vat.js';

/**
 * What an invoice names besides the statement: the community as seller (its billing profile),
 * the member as buyer (billing details) and a member's direct-debit mandate. Each is checked
 * here, pure, before it is stored: a closing never finds a fact it cannot print.
 */
export interface BillingProfile {
  readonly legalName: string;
  readonly address: PostalAddress;
  readonly registrationNumber?: string;
  readonly vat: CommunityVat;
  readonly bank: BankAccount;
  /** SEPA creditor identifier, for direct debits. */
  readonly creditorId?: string;
  /** Of the invoice numbers, e.g. "SUN-" → SUN-2026-00042. */
  readonly invoicePrefix: string;
  readonly paymentTermDays: number;
}

export interface BillingDetails {
  readonly fullName: string;
  readonly address: PostalAddress;
  readonly vat: MemberVat;
  /** Where credits are paid when there is no mandate's account. */
  readonly payoutAccount?: { readonly iban: string; readonly bic?: string };
}

export interface SepaMandate {
  readonly mandateId: string;
  /** The local day it was signed, YYYY-MM-DD. */
  readonly signedOn: string;
  readonly iban: string;
  readonly bic?: string;
  readonly accountHolder: string;
}

const MAX_TEXT = 140;

function text(value: string, field: string, required = true): string {
  const trimmed = value.trim();
  if (required && trimmed === '') throw new BadRequestError(`${field}: must not be empty`, field);
  if (trimmed.length > MAX_TEXT) throw new BadRequestError(`${field}: at most ${MAX_TEXT} characters`, field);
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) throw new BadRequestError(`${field}: no control characters`, field);
  return trimmed;
}

const optional = (value: string | undefined, field: string) => {
  const checked = value === undefined ? '' : text(value, field, false);
  return checked === '' ? undefined : checked;
};

function address(value: PostalAddress, field: string): PostalAddress {
  const country = value.country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) throw new BadRequestError(`${field}/country: an ISO 3166 country code like AT`, `${field}/country`);
  return { street: text(value.street, `${field}/street`), postalCode: text(value.postalCode, `${field}/postalCode`), city: text(value.city, `${field}/city`), country };
}

/** A valid calendar date (not 2026-02-30) that is not after `todayIso`. */
function pastDate(value: string, field: string, todayIso: string): string {
  sepaDate(value, field);
  if (value > todayIso) throw new BadRequestError(`${field}: lies in the future`, field);
  return value;
}

export function checkBillingProfile(input: BillingProfile): BillingProfile {
  const vatId = optional(input.vat.vatId, 'vat/vatId');
  vatPreset(input.vat.country);
  if (input.vat.regime === 'registered' && !vatId) throw new BadRequestError('vat/vatId: a VAT-registered community needs its VAT number', 'vat/vatId');
  const rates: Partial<Record<TariffComponent, string>> = {};
  for (const [component, rate] of Object.entries(input.vat.rates ?? {})) {
    if (!(TARIFF_COMPONENTS as readonly string[]).includes(component)) throw new BadRequestError(`vat/rates: no tariff component "${component}"`, 'vat/rates');
    if (rate === undefined) continue;
    parseRate(rate, `vat/rates/${component}`);
    rates[component as TariffComponent] = rate;
  }
  formatInvoiceNumber({ prefix: input.invoicePrefix, year: 2000, sequence: 1 });
  if (!Number.isInteger(input.paymentTermDays) || input.paymentTermDays < 0 || input.paymentTermDays > 365) {
    throw new BadRequestError('paymentTermDays: whole days from 0 to 365', 'paymentTermDays');
  }
  const registrationNumber = optional(input.registrationNumber, 'registrationNumber');
  const bic = optional(input.bank.bic, 'bank/bic');
  const accountHolder = optional(input.bank.accountHolder, 'bank/accountHolder');
  return {
    legalName: text(input.legalName, 'legalName'),
    address: address(input.address, 'address'),
    ...(registrationNumber ? { registrationNumber } : {}),
    vat: { country: input.vat.country, regime: input.vat.regime, ...(vatId ? { vatId } : {}), ...(Object.keys(rates).length > 0 ? { rates } : {}) },
    bank: { iban: sepaIban(input.bank.iban, 'bank/iban'), ...(bic ? { bic: sepaBic(bic, 'bank/bic') } : {}), ...(accountHolder ? { accountHolder } : {}) },
    ...(input.creditorId?.trim() ? { creditorId: sepaCreditorId(input.creditorId, 'creditorId') } : {}),
    invoicePrefix: input.invoicePrefix,
    paymentTermDays: input.paymentTermDays,
  };
}

export function checkBillingDetails(input: BillingDetails): BillingDetails {
  const vatId = optional(input.vat.vatId, 'vat/vatId');
  if (input.vat.regime === 'registered' && !vatId) throw new BadRequestError('vat/vatId: a VAT-registered member needs their VAT number', 'vat/vatId');
  if (input.vat.reverseCharge && input.vat.regime !== 'registered') throw new BadRequestError('vat/reverseCharge: only for a VAT-registered member', 'vat/reverseCharge');
  const payoutBic = optional(input.payoutAccount?.bic, 'payoutAccount/bic');
  return {
    fullName: text(input.fullName, 'fullName'),
    address: address(input.address, 'address'),
    vat: { regime: input.vat.regime, ...(vatId ? { vatId } : {}), ...(input.vat.reverseCharge ? { reverseCharge: true } : {}) },
    ...(input.payoutAccount
      ? { payoutAccount: { iban: sepaIban(input.payoutAccount.iban, 'payoutAccount/iban'), ...(payoutBic ? { bic: sepaBic(payoutBic, 'payoutAccount/bic') } : {}) } }
      : {}),
  };
}

/** `todayIso`: the community's local date now; a mandate signed later than today is refused. */
export function checkSepaMandate(input: SepaMandate, todayIso: string): SepaMandate {
  const bic = optional(input.bic, 'bic');
  return {
    mandateId: sepaId(input.mandateId, 'mandateId'),
    signedOn: pastDate(input.signedOn, 'signedOn', todayIso),
    iban: sepaIban(input.iban, 'iban'),
    ...(bic ? { bic: sepaBic(bic, 'bic') } : {}),
    accountHolder: text(input.accountHolder, 'accountHolder'),
  };
}

/** "2026-11-03" + 14 → "2026-11-17" (calendar days). */
export function addDays(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

export interface FactsInput {
  readonly profile: BillingProfile;
  readonly details: BillingDetails;
  readonly number: string;
  readonly issueDate: string;
  readonly period: InvoiceFacts['period'];
  readonly tariffNames: Readonly<Record<string, string>>;
  readonly corrects?: string;
}

/** The facts `buildInvoice` takes, from the stored profile and details at the time of issue. */
export function invoiceFacts({ profile, details, number, issueDate, period, tariffNames, corrects }: FactsInput): InvoiceFacts {
  return {
    number,
    issueDate,
    dueDate: addDays(issueDate, profile.paymentTermDays),
    period,
    member: { name: details.fullName, billingAddress: details.address, vat: details.vat },
    community: {
      legalName: profile.legalName,
      address: profile.address,
      ...(profile.registrationNumber ? { registrationNumber: profile.registrationNumber } : {}),
      vat: profile.vat,
      bank: profile.bank,
    },
    tariffNames,
    ...(corrects ? { corrects } : {}),
  };
}
