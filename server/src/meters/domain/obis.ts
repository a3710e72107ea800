import type { Quantity } from '../../kernel/quantities.js';

/**
 * OBIS codes (IEC 62056-61) to the measurement vocabulary, for every decoder. The key is
 * "C.D.E" of A-B:C.D.E*F; `factor` converts the meter's unit to ours (kWh → Wh, kW → W).
 */
export interface ObisMapping {
  readonly quantity: Quantity;
  /** The unit the value is expected in at the meter, before `factor`. */
  readonly meterUnit: 'kWh' | 'Wh' | 'kW' | 'W' | 'V' | 'A' | 'kvarh' | 'varh' | 'kvar' | 'var' | 'Hz' | 'm3' | '1';
}

export const OBIS: Readonly<Record<string, ObisMapping>> = {
  '1.8.0': { quantity: 'energy.import', meterUnit: 'kWh' },
  '1.8.1': { quantity: 'energy.import.t1', meterUnit: 'kWh' },
  '1.8.2': { quantity: 'energy.import.t2', meterUnit: 'kWh' },
  '2.8.0': { quantity: 'energy.export', meterUnit: 'kWh' },
  '2.8.1': { quantity: 'energy.export.t1', meterUnit: 'kWh' },
  '2.8.2': { quantity: 'energy.export.t2', meterUnit: 'kWh' },
  '3.8.0': { quantity: 'energy.reactive.import', meterUnit: 'kvarh' },
  '4.8.0': { quantity: 'energy.reactive.export', meterUnit: 'kvarh' },
  '1.7.0': { quantity: 'power.import', meterUnit: 'kW' },
  '2.7.0': { quantity: 'power.export', meterUnit: 'kW' },
  '21.7.0': { quantity: 'power.import.l1', meterUnit: 'kW' },
  '41.7.0': { quantity: 'power.import.l2', meterUnit: 'kW' },
  '61.7.0': { quantity: 'power.import.l3', meterUnit: 'kW' },
  '22.7.0': { quantity: 'power.export.l1', meterUnit: 'kW' },
  '42.7.0': { quantity: 'power.export.l2', meterUnit: 'kW' },
  '62.7.0': { quantity: 'power.export.l3', meterUnit: 'kW' },
  '32.7.0': { quantity: 'voltage.l1', meterUnit: 'V' },
  '52.7.0': { quantity: 'voltage.l2', meterUnit: 'V' },
  '72.7.0': { quantity: 'voltage.l3', meterUnit: 'V' },
  '31.7.0': { quantity: 'current.l1', meterUnit: 'A' },
  '51.7.0': { quantity: 'current.l2', meterUnit: 'A' },
  '71.7.0': { quantity: 'current.l3', meterUnit: 'A' },
  '91.7.0': { quantity: 'current.neutral', meterUnit: 'A' },
  '14.7.0': { quantity: 'frequency', meterUnit: 'Hz' },
  '13.7.0': { quantity: 'power.factor', meterUnit: '1' },
};

/** Unit conversions into the vocabulary's units, as powers of ten (kWh → Wh: 10^3). */
export const UNIT_EXPONENT: Readonly<Record<string, number>> = {
  kWh: 3, Wh: 0, kW: 3, W: 0, V: 0, A: 0, kvarh: 3, varh: 0, kvar: 3, var: 0, Hz: 0, m3: 0, '1': 0,
};

/** "1-0:1.8.0*255" or "1.8.0" → "1.8.0". */
export function obisKey(code: string): string {
  const match = /(?:\d+-\d+:)?(\d+\.\d+\.\d+)/.exec(code);
  return match ? match[1]! : code;
}
