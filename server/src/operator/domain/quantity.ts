import { MAX_INTERVAL_WH } from '../../kernel/energy.js';
import { EdaMessageError } from './errors.js';

/**
 * EDA quantities (BQ) are decimal kWh with at most 10 integer and 6 fraction digits (the
 * ConsumptionRecord schema's BillingQuantity, `[-]?[0-9]{1,10}[.]?[0-9]{0,6}`). Six decimals of
 * a kWh are a milli-watt-hour, so every BQ is an exact integer number of mWh: the text is read
 * digit by digit into that integer, never through a binary float, so 0.073935 kWh is exactly
 * 73 935 mWh.
 */
const BQ = /^([+-])?(\d{1,10})(?:\.(\d{0,6}))?$/;

/** Largest plausible quarter hour, in mWh: the allocation engine's whole-Wh limit (8.6 GW). */
const MAX_MILLI_WH = MAX_INTERVAL_WH * 1000;

export function parseMilliWh(text: string, field: string): number {
  const match = BQ.exec(text.trim());
  if (!match) throw new EdaMessageError('bad_quantity', `${JSON.stringify(text.slice(0, 40))} is not a decimal kWh quantity (at most 6 decimals)`, field);
  const [, sign, whole, fraction = ''] = match;
  // Checked before multiplying, so the product stays an exact integer below 2^53.
  if (Number(whole) > MAX_INTERVAL_WH / 1000 + 1) {
    throw new EdaMessageError('implausible_quantity', `${text.trim()} kWh in a quarter hour is more than any connection carries`, field);
  }
  const magnitude = Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0'));
  if (magnitude > MAX_MILLI_WH) {
    throw new EdaMessageError('implausible_quantity', `${text.trim()} kWh in a quarter hour is more than any connection carries`, field);
  }
  return sign === '-' && magnitude !== 0 ? -magnitude : magnitude;
}

/**
 * Whole Wh, rounded half away from zero ("kaufmännisch"): 0.0735 kWh → 74 Wh. Rounding is
 * monotone, so an order between exact values (coverage ≤ consumption) survives it; values with
 * three decimals are already whole Wh and pass unchanged.
 */
export function milliWhToWh(milliWh: number): number {
  const magnitude = Math.floor((Math.abs(milliWh) + 500) / 1000);
  return milliWh < 0 ? -magnitude : magnitude;
}

/** Whole Wh as kWh text with three decimals, exactly (no float formatting). */
export function formatKwh(wh: number): string {
  const sign = wh < 0 ? '-' : '';
  const magnitude = Math.abs(wh);
  return `${sign}${Math.floor(magnitude / 1000)}.${String(magnitude % 1000).padStart(3, '0')}`;
}
