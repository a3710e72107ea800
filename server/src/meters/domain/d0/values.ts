import type { Unit } from '../../../kernel/quantities.js';

/** A text unit of a D0 value: the vocabulary unit it converts into, as ×10^exponent / divisor. */
export interface UnitConversion {
  readonly unit: Unit;
  readonly exponent: number;
  readonly divisor?: bigint;
}

/** Text units, matched without regard to case (meters write kWh, KWH, kwh); "M" is mega. */
const UNITS: Readonly<Record<string, UnitConversion>> = {
  wh: { unit: 'Wh', exponent: 0 },
  kwh: { unit: 'Wh', exponent: 3 },
  mwh: { unit: 'Wh', exponent: 6 },
  w: { unit: 'W', exponent: 0 },
  kw: { unit: 'W', exponent: 3 },
  mw: { unit: 'W', exponent: 6 },
  varh: { unit: 'varh', exponent: 0 },
  kvarh: { unit: 'varh', exponent: 3 },
  var: { unit: 'var', exponent: 0 },
  kvar: { unit: 'var', exponent: 3 },
  v: { unit: 'V', exponent: 0 },
  kv: { unit: 'V', exponent: 3 },
  a: { unit: 'A', exponent: 0 },
  hz: { unit: 'Hz', exponent: 0 },
  m3: { unit: 'm3', exponent: 0 },
  // Heat: 1 J = 1/3600 Wh.
  mj: { unit: 'Wh', exponent: 6, divisor: 3600n },
  gj: { unit: 'Wh', exponent: 9, divisor: 3600n },
};

export function unitConversion(text: string): UnitConversion | undefined {
  const key = text.trim().toLowerCase();
  return Object.hasOwn(UNITS, key) ? UNITS[key] : undefined;
}
