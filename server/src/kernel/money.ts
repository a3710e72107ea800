import { formatFixed, parseDecimal, toFixedUnits, trimDecimal } from './decimal.js';

/**
 * Exact money arithmetic. Prices are decimal strings with up to 6 places per kWh and energy is
 * whole Wh, so `Wh × price` is an exact integer number of nano-units (10⁻⁹ of the currency):
 *   amount = Wh / 1000 × price = Wh × (price × 10⁶) × 10⁻⁹.
 * Amounts stay exact until a statement line is rounded once to the currency's minor unit.
 */

/** A price per kWh in micro-units of the currency (10⁻⁶). */
export type MicroPrice = bigint;
/** An exact amount in nano-units of the currency (10⁻⁹). */
export type Nano = bigint;
/** A rounded amount in the currency's minor unit (cents for EUR). */
export type Minor = bigint;

export class MoneyError extends Error {}

/** "0.1425" → 142500n (micro-units). Refuses more than 6 decimals rather than rounding a price. */
export function parsePrice(text: string): MicroPrice {
  const decimal = text === text.trim() ? parseDecimal(text, { integerDigits: 12, fractionDigits: 6 }) : undefined;
  if (!decimal || text.startsWith('+')) throw new MoneyError(`not a decimal price with at most 6 places: "${text}"`);
  return toFixedUnits(decimal, 6)!;
}

export function energyCost(wh: number, price: MicroPrice): Nano {
  if (!Number.isSafeInteger(wh)) throw new MoneyError(`energy must be whole Wh, got ${wh}`);
  return BigInt(wh) * price;
}

/** Minor-unit digits of an ISO 4217 currency (2 for EUR, 0 for JPY), as Intl knows them. */
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/**
 * Rounds nano-units to the minor unit, half away from zero: the rule of commercial invoices
 * in the EU (and what a member checking with a calculator expects).
 */
export function roundToMinor(amount: Nano, digits: number): Minor {
  const divisor = 10n ** BigInt(9 - digits);
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const rounded = (magnitude + divisor / 2n) / divisor;
  return negative ? -rounded : rounded;
}

/** 1728n with 2 digits → "17.28"; -5n → "-0.05". */
export const formatMinor = (amount: Minor, digits: number): string => formatFixed(amount, digits);

/** Exact nano amount as a decimal string with 9 places trimmed, for audit columns. */
export function formatNano(amount: Nano): string {
  return trimDecimal(formatFixed(amount, 9));
}

/** An exact decimal string (formatNano's output) back to nano-units. */
export function parseNano(text: string): Nano {
  return parseFixed(text, 9);
}

/** "-17.28" with 2 digits → -1728n: the inverse of formatMinor (at most `digits` places). */
export function parseFixed(text: string, digits: number): bigint {
  const decimal = text === text.trim() && !text.startsWith('+') ? parseDecimal(text, { integerDigits: 30, fractionDigits: digits }) : undefined;
  if (!decimal) throw new MoneyError(`not a decimal amount with at most ${digits} places: "${text}"`);
  return toFixedUnits(decimal, digits)!;
}
