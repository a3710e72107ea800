import { parseDecimal, formatFixed, toFixedUnits } from '../../kernel/decimal.js';
import type { MicroPrice } from '../../kernel/money.js';

/**
 * Market prices are per kWh with exactly 4 fraction digits (0.0001 of the currency), kept as
 * the kernel's micro-unit price so that `Wh × price` is an exact nano amount. Negative prices
 * are not taken: a community market trades between the feed-in tariff and the grid price.
 */
export const PRICE_DIGITS = 4;
/** One step of the price grid (0.0001) in micro-units. */
export const PRICE_STEP: MicroPrice = 100n;
/** 999999.9999 per kWh: six integer digits, far above any energy price, short for hostile input. */
export const MAX_PRICE: MicroPrice = 999_999_999_900n;

/** "0.125" → 125000n; undefined for anything that is not 0 ≤ price ≤ MAX_PRICE with at most 4 places. */
export function parseMarketPrice(text: string): MicroPrice | undefined {
  if (text !== text.trim() || text.startsWith('+')) return undefined;
  const decimal = parseDecimal(text, { integerDigits: 6, fractionDigits: PRICE_DIGITS, signed: false });
  return decimal ? toFixedUnits(decimal, 6) : undefined;
}

/** 125000n → "0.1250": always 4 places, the form of every price the market writes. */
export function formatMarketPrice(price: MicroPrice): string {
  return formatFixed(price / PRICE_STEP, PRICE_DIGITS);
}

export function isMarketPrice(price: MicroPrice): boolean {
  return price >= 0n && price <= MAX_PRICE && price % PRICE_STEP === 0n;
}

/**
 * The midpoint of two prices on the 4-digit grid, rounded half up: the midpoint of two grid
 * prices is either on the grid or exactly half a step off it, and then goes up a half step.
 */
export function midpoint(a: MicroPrice, b: MicroPrice): MicroPrice {
  return ((a / PRICE_STEP + b / PRICE_STEP + 1n) / 2n) * PRICE_STEP;
}

/**
 * The volume-weighted price of trades worth `valueNano` (Σ Wh × price) for `energyWh` Wh, on the
 * 4-digit grid, rounded half up; undefined for no energy.
 */
export function volumeWeightedPrice(valueNano: bigint, energyWh: bigint): MicroPrice | undefined {
  if (energyWh <= 0n || valueNano < 0n) return undefined;
  const step = energyWh * PRICE_STEP;
  return ((2n * valueNano + step) / (2n * step)) * PRICE_STEP;
}
