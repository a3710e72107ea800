import type { Quantity, Reading } from '../../kernel/quantities.js';
import { exactValue, parseDecimal } from '../../kernel/decimal.js';

/** A total register and the per-tariff registers that add up to it. */
const TARIFF_REGISTERS: readonly { total: Quantity; tariffs: readonly Quantity[] }[] = [
  { total: 'energy.import', tariffs: ['energy.import.t1', 'energy.import.t2'] },
  { total: 'energy.export', tariffs: ['energy.export.t1', 'energy.export.t2'] },
];

/** Σ values exactly, as the decimals the meter wrote (0.1 + 0.2 is 0.3, not 0.30000000000000004). */
function exactSum(values: readonly number[]): number {
  const decimals = values.map((v) => parseDecimal(String(v)));
  if (decimals.some((d) => d === undefined)) return values.reduce((a, b) => a + b, 0);
  const exponent = Math.min(...decimals.map((d) => d!.exponent));
  const mantissa = decimals.reduce((sum, d) => sum + d!.mantissa * 10n ** BigInt(d!.exponent - exponent), 0n);
  return exactValue(mantissa, exponent);
}

/**
 * Meters that count per tariff (DSMR 1.8.1/1.8.2, many D0 and SML meters) often send no total
 * register, and quarter-hour energy is computed from the totals. Per instant where a frame
 * carries tariff registers of a direction but no total, the total is their sum; the tariff
 * registers stay for time-of-use billing. A frame with a total keeps the meter's own.
 */
export function withTotalRegisters(readings: readonly Reading[]): Reading[] {
  const byInstant = new Map<string, Map<Quantity, Reading>>();
  for (const reading of readings) {
    const at = byInstant.get(reading.ts) ?? new Map<Quantity, Reading>();
    at.set(reading.quantity, reading);
    byInstant.set(reading.ts, at);
  }
  const derived: Reading[] = [];
  for (const [ts, at] of byInstant) {
    for (const { total, tariffs } of TARIFF_REGISTERS) {
      if (at.has(total)) continue;
      const parts = tariffs.map((q) => at.get(q)).filter((r): r is Reading => r !== undefined);
      if (parts.length === 0) continue;
      derived.push({ ts, quantity: total, value: exactSum(parts.map((r) => r.value)), unit: parts[0]!.unit });
    }
  }
  return derived.length === 0 ? [...readings] : [...readings, ...derived];
}
