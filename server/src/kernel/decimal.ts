/**
 * Exact decimals: the one parser and formatter for every decimal Gridshare reads or writes
 * (meter registers, prices, shares, coefficients, amounts). A decimal is kept as an integer
 * mantissa and a power of ten until a caller decides how to round it, once.
 */

/** `mantissa × 10^exponent`, nothing rounded. */
export interface ExactDecimal {
  readonly mantissa: bigint;
  readonly exponent: number;
}

export interface DecimalLimits {
  /** Most digits before the point (default 24: more than any meter register, short for hostile input). */
  readonly integerDigits?: number;
  /** Most digits after the point (default 15). */
  readonly fractionDigits?: number;
  /** Whether a leading sign is accepted (default true). */
  readonly signed?: boolean;
}

/**
 * "00052185.7825309", "-0.5", "+12" → exact decimal; anything else (dates, "R", "1e5", "", "1,5",
 * NaN) → undefined. Surrounding white space is ignored.
 */
export function parseDecimal(text: string, limits: DecimalLimits = {}): ExactDecimal | undefined {
  const { integerDigits = 24, fractionDigits = 15, signed = true } = limits;
  const match = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match || match[2]!.length > integerDigits || (match[3] ?? '').length > fractionDigits) return undefined;
  if (match[1] !== '' && !signed) return undefined;
  const fraction = match[3] ?? '';
  const mantissa = BigInt(match[2]! + fraction);
  return { mantissa: match[1] === '-' ? -mantissa : mantissa, exponent: -fraction.length };
}

/** The decimal in units of 10^-digits (exact), or undefined when it has more places than that. */
export function toFixedUnits(decimal: ExactDecimal, digits: number): bigint | undefined {
  const shift = decimal.exponent + digits;
  if (shift >= 0) return decimal.mantissa * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  return decimal.mantissa % divisor === 0n ? decimal.mantissa / divisor : undefined;
}

/** 1728n with 2 digits → "17.28"; -5n → "-0.05". */
export function formatFixed(value: bigint, digits: number): string {
  const negative = value < 0n;
  const text = (negative ? -value : value).toString().padStart(digits + 1, '0');
  const whole = digits === 0 ? text : text.slice(0, -digits);
  const fraction = digits === 0 ? '' : `.${text.slice(-digits)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** "0.245000" → "0.245", "12.000" → "12", "100" → "100": trailing zeros carry no information. */
export function trimDecimal(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') || '0' : text;
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
