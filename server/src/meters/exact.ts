/** Exact arithmetic for meter values, shared by every decoder. */

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
