/** Exact arithmetic for meter values, shared by every decoder. */
import { FrameError } from './decoder.js';
import { exactValue, parseDecimal } from '../../kernel/decimal.js';

export { exactValue, parseDecimal };


/** A meter's decimal text × 10^exponent as the nearest number ("000004.426", 3 → 4426); refused with `format` when it is no decimal. */
export function scaledDecimal(text: string, exponent = 0): number {
  const decimal = parseDecimal(text);
  if (!decimal) throw new FrameError('format', `"${text}" is not a decimal number`);
  return exactValue(decimal.mantissa, decimal.exponent + exponent);
}

