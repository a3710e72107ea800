import { formatUtcInstant } from '../../kernel/time.js';
import { QUANTITY_UNITS, SIGNED_QUANTITIES, isQuantity, type Quantity, type Reading } from '../../kernel/quantities.js';

/**
 * What every connector produces: the platform's normalised readings, each bound to one of the
 * connector's outputs (`inverter`, `meter`, a CSV column's target …). An instance binds target
 * names to devices and sends the readings through ingest.
 */
export interface TargetReading extends Reading {
  readonly target: string;
}

/** Something that went wrong with one item (a point, a row, a file) without stopping the others. */
export interface Problem {
  /** Where: `inverter/W`, `file.csv:12`, `items/3/power`, `row 7`. */
  readonly where: string;
  readonly message: string;
}

export function targetReading(target: string, tsMs: number, quantity: Quantity, value: number): TargetReading {
  return { target, ts: formatUtcInstant(tsMs), quantity, value, unit: QUANTITY_UNITS[quantity] };
}

/**
 * `value × 10^exponent`, correctly rounded: an integer register 1234 with scale factor −1 is
 * 123.4 as a person writes it, where `1234 * 0.1` would give 123.40000000000001.
 */
export function scaleByPowerOfTen(value: number, exponent: number): number {
  if (exponent === 0) return value;
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return Number(`${value}e${exponent}`);
  return exponent > 0 ? value * 10 ** exponent : value / 10 ** -exponent;
}

/**
 * A signed power as two unsigned quantities, the way Gridshare measures them: positive →
 * `positive`, negative → `negative` (the other one is 0, so a chart shows the flow stop).
 */
export function splitSigned(target: string, tsMs: number, value: number, positive: Quantity, negative: Quantity): TargetReading[] {
  return [
    targetReading(target, tsMs, positive, value > 0 ? value : 0),
    targetReading(target, tsMs, negative, value < 0 ? -value : 0),
  ];
}

/**
 * Units a source may state for each of Gridshare's units, as a power of ten to reach it: a
 * utility's CSV in kWh becomes Wh by shifting the decimal point, never by a float multiply.
 */
const SOURCE_UNITS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  Wh: { Wh: 0, kWh: 3, MWh: 6 },
  W: { W: 0, kW: 3, MW: 6 },
  varh: { varh: 0, kvarh: 3, Mvarh: 6 },
  var: { var: 0, kvar: 3, Mvar: 6 },
  V: { V: 0, kV: 3 },
  A: { A: 0, mA: -3 },
  Hz: { Hz: 0 },
  '%': { '%': 0 },
  '°C': { '°C': 0 },
  '1': { '1': 0 },
  m3: { m3: 0, l: -3, L: -3 },
};

/** The power of ten from `unit` to the quantity's unit, or undefined when the unit cannot express it. */
export function unitExponent(quantity: Quantity, unit: string): number | undefined {
  return SOURCE_UNITS[QUANTITY_UNITS[quantity]]?.[unit];
}

/** The units a source may use for a quantity (for error messages and forms). */
export function sourceUnits(quantity: Quantity): string[] {
  return Object.keys(SOURCE_UNITS[QUANTITY_UNITS[quantity]] ?? {});
}

/** Readings from the future beyond this are a wrong clock or time zone, as ingest sees them. */
export const MAX_FUTURE_MS = 5 * 60_000;

const STRICT_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/**
 * Why a reading a connector produced cannot go to ingest, or undefined when it can. The
 * harness checks every reading, so a kind's bug drops one reading with a reason instead of
 * poisoning a batch.
 */
export function readingProblem(reading: TargetReading, nowMs: number): string | undefined {
  if (typeof reading.target !== 'string' || reading.target === '') return 'no target';
  if (!isQuantity(reading.quantity)) return `unknown quantity ${JSON.stringify(reading.quantity)}`;
  if (reading.unit !== QUANTITY_UNITS[reading.quantity]) return `${reading.quantity} is measured in ${QUANTITY_UNITS[reading.quantity]}, not ${reading.unit}`;
  if (typeof reading.value !== 'number' || !Number.isFinite(reading.value)) return `${reading.quantity}: value ${String(reading.value)} is not a finite number`;
  if (reading.value < 0 && !SIGNED_QUANTITIES.has(reading.quantity)) return `${reading.quantity}: negative value ${reading.value}`;
  if (!STRICT_UTC.test(reading.ts) || Number.isNaN(Date.parse(reading.ts))) return `timestamp ${JSON.stringify(reading.ts)} is not a UTC instant`;
  if (Date.parse(reading.ts) > nowMs + MAX_FUTURE_MS) return `timestamp ${reading.ts} is in the future`;
  return undefined;
}

/**
 * A float32 register value as the number its writer meant: the shortest decimal that is the
 * same float32 (230.1 rather than 230.10000610351562), so unit shifts and totals stay clean.
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const single = Math.fround(value);
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(single.toPrecision(digits));
    if (Math.fround(candidate) === single) return candidate;
  }
  return Number(single.toPrecision(9));
}
