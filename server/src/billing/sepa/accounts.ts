import { electronicFormatIBAN, isSEPACountry, isValidBIC, isValidIBAN } from 'ibantools';
import { BadRequestError } from '../../kernel/errors.js';
import { DATE_RANGE_TEXT, isWithinDateRange } from '../../kernel/time.js';

/**
 * Accounts and texts as SEPA files may carry them. IBAN and BIC checks are ibantools' (country
 * lengths, BBAN formats, ISO 7064 check digits); the creditor identifier and the character set
 * are the EPC's (Implementation Guidelines: "SEPA Creditor Identifier", "Character set").
 */

/** "AT61 1904 3002 3457 3201" → "AT611904300234573201", or a BadRequestError naming `field`. */
export function sepaIban(text: string, field: string): string {
  const iban = electronicFormatIBAN(text) ?? '';
  if (!isValidIBAN(iban)) throw new BadRequestError(`not a valid IBAN: "${text}"`, field);
  if (!isSEPACountry(iban.slice(0, 2))) throw new BadRequestError(`${iban.slice(0, 2)} is not in the SEPA scheme: "${text}"`, field);
  return iban;
}

export function sepaBic(text: string, field: string): string {
  const bic = text.trim().toUpperCase();
  if (!isValidBIC(bic)) throw new BadRequestError(`not a valid BIC: "${text}"`, field);
  return bic;
}

/**
 * A SEPA creditor identifier: country, 2 check digits, a 3-character business code (ignored by
 * the check), the national identifier. The check digits are ISO 7064 MOD 97-10 over the national
 * identifier followed by the country and "00", letters counted A = 10 … Z = 35 as in an IBAN.
 */
export function sepaCreditorId(text: string, field: string): string {
  const id = text.replace(/\s+/g, '').toUpperCase();
  const match = /^([A-Z]{2})(\d{2})[A-Z0-9]{3}([A-Z0-9]{1,28})$/.exec(id);
  if (!match || !isSEPACountry(match[1]!)) throw new BadRequestError(`not a SEPA creditor identifier: "${text}"`, field);
  const digits = `${match[3]}${match[1]}00`.replace(/[A-Z]/g, (letter) => String(letter.charCodeAt(0) - 55));
  const check = 98n - (BigInt(digits) % 97n);
  if (check !== BigInt(match[2]!)) throw new BadRequestError(`wrong check digits in creditor identifier "${text}"`, field);
  return id;
}

/**
 * Free text in the EPC's basic Latin set (letters, digits, space and / - ? : ( ) . , ' +):
 * accents are dropped (é → e), German sharp s and umlauts are spelled out (ß → ss, ä → ae), and
 * anything else becomes a space; then cut to `max` characters. Banks reject other characters.
 */
export function sepaText(text: string, max: number): string {
  const spelled = text.replace(/ß/g, 'ss').replace(/[äÄöÖüÜ]/g, (c) => ({ ä: 'ae', Ä: 'Ae', ö: 'oe', Ö: 'Oe', ü: 'ue', Ü: 'Ue' })[c]!);
  const basic = spelled.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9/\-?:().,'+ ]/g, ' ');
  return basic.replace(/\s+/g, ' ').trim().slice(0, max).trimEnd();
}

/** An identifier (message, payment, end-to-end): 1–35 characters of the basic set, no leading or trailing space. */
export function sepaId(text: string, field: string): string {
  if (!/^[A-Za-z0-9/\-?:().,'+]([A-Za-z0-9/\-?:().,'+ ]{0,33}[A-Za-z0-9/\-?:().,'+])?$/.test(text)) {
    throw new BadRequestError(`not a SEPA identifier (1–35 of A–Z a–z 0–9 / - ? : ( ) . , ' + and inner spaces): "${text}"`, field);
  }
  return text;
}

/** A calendar day `YYYY-MM-DD` as the XSDs' ISODate takes it (not 2026-02-30), in Gridshare's date range. */
export function sepaDate(text: string, field: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Number.NaN;
  if (!isWithinDateRange(ms) || new Date(ms).toISOString().slice(0, 10) !== text) {
    throw new BadRequestError(`${field}: not a date YYYY-MM-DD ${DATE_RANGE_TEXT}: "${text}"`, field);
  }
  return text;
}
