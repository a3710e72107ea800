/** Exact arithmetic for meter values, shared by every decoder. */
import { FrameError } from './decoder.js';

/** A decimal as the meter wrote it: `mantissa × 10^exponent`, nothing rounded yet. */
export interface Decimal {
  readonly mantissa: bigint;
  readonly exponent: number;
}

/**
 * "00052185.7825309", "-0.5", "+12" → exact decimal; anything else (dates, "R", "1e5", "") →
 * undefined. The bound: up to 24 digits before the point and 15 after, more than any register
 * a meter shows (DSMR writes 6–9 + 3, the EasyMeter Q3D 8 + 7) while keeping hostile input short;
 * the value stays exact whatever its size (BigInt until `exactValue`).
 */
export function parseDecimal(text: string): Decimal | undefined {
  const match = /^([+-]?)(\d{1,24})(?:\.(\d{1,15}))?$/.exec(text.trim());
  if (!match) return undefined;
  const fraction = match[3] ?? '';
  const mantissa = BigInt(match[2]! + fraction);
  return { mantissa: match[1] === '-' ? -mantissa : mantissa, exponent: -fraction.length };
}

/** A meter's decimal text × 10^exponent as the nearest number ("000004.426", 3 → 4426); refused with `format` when it is no decimal. */
export function scaledDecimal(text: string, exponent = 0): number {
  const decimal = parseDecimal(text);
  if (!decimal) throw new FrameError('format', `"${text}" is not a decimal number`);
  return exactValue(decimal.mantissa, decimal.exponent + exponent);
}

/**
 * `mantissa × 10^exponent / divisor` as the nearest number: an exact integer divided once by an
 * exact integer, so 521857825309 × 10^-4 is 52185782.5309 and never 52185782.530900005.
 */
export function exactValue(mantissa: bigint, exponent: number, divisor = 1n): number {
  const numerator = exponent >= 0 ? mantissa * 10n ** BigInt(exponent) : mantissa;
  const denominator = exponent >= 0 ? divisor : divisor * 10n ** BigInt(-exponent);
  const limit = BigInt(Number.MAX_SAFE_INTEGER);
  if (numerator <= limit && numerator >= -limit && denominator <= limit) return Number(numerator) / Number(denominator);
  return Number(numerator / denominator) + Number(numerator % denominator) / Number(denominator);
}
