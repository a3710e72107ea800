import type { Quantity } from '../../kernel/quantities.js';
import { sourceUnits, targetReading, unitExponent, type Problem, type TargetReading } from './readings.js';
import { timestampParser, type TimestampFormat } from './timestamps.js';

/**
 * Records to readings, the one mapping behind CSV rows, SQL rows and JSON items: a timestamp
 * field and value fields, each bound to a target, a quantity and the unit the source uses.
 * What a field is (a CSV column, a SQL column, a JSONPath into an item) is the caller's business:
 * it passes a `get(field)`.
 */
export interface ValueMapping {
  /** Column name (CSV, SQL) or JSONPath relative to the item (http-json). */
  readonly field: string;
  /** The target the readings are bound to… */
  readonly target?: string | undefined;
  /** …or the field holding it, for sources with one row per target (long format). */
  readonly targetField?: string | undefined;
  readonly quantity: Quantity;
  /** The unit the source writes (kWh, W, …); converted to the quantity's unit exactly. */
  readonly unit: string;
  /** For signed powers: negative values become this quantity (e.g. power.export for power.import). */
  readonly negativeQuantity?: Quantity | undefined;
}

export interface RecordMapping {
  readonly timestampField: string;
  readonly timestampFormat: TimestampFormat;
  /** IANA zone for timestamps without an offset. */
  readonly timeZone: string;
  readonly values: readonly ValueMapping[];
  /** `.` (default) or `,` in numbers written as text. */
  readonly decimalSeparator?: '.' | ',' | undefined;
}

export interface MappedRecord {
  readonly readings: TargetReading[];
  readonly problems: Problem[];
  /** The record's instant, when its timestamp could be read. */
  readonly tsMs?: number | undefined;
}

/** What is wrong with a mapping as configured (each message names the value mapping). */
export function recordMappingProblems(mapping: RecordMapping): string[] {
  const problems: string[] = [];
  if (mapping.values.length === 0) problems.push('values: map at least one field to a quantity');
  mapping.values.forEach((value, i) => {
    const at = `values/${i} (${value.field})`;
    if ((value.target === undefined) === (value.targetField === undefined)) problems.push(`${at}: give either target or targetField`);
    if (unitExponent(value.quantity, value.unit) === undefined) {
      problems.push(`${at}: ${value.quantity} cannot be given in ${value.unit} (use ${sourceUnits(value.quantity).join(', ')})`);
    }
    if (value.negativeQuantity !== undefined && unitExponent(value.negativeQuantity, value.unit) === undefined) {
      problems.push(`${at}: ${value.negativeQuantity} cannot be given in ${value.unit}`);
    }
  });
  return problems;
}

const NUMBER_DOT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NUMBER_COMMA = /^[+-]?\d+(?:,\d+)?$/;
const THOUSANDS_DOT = /^([+-]?\d{1,3}(?:\.\d{3})+)(,\d+)?$/;

/**
 * A number written as text, shifted by a power of ten exactly (`"1.234"` kWh → 1234 Wh): the
 * shift is done on the text, so no float multiply adds noise. Undefined when it is no number.
 */
export function parseNumberText(text: string, decimalSeparator: '.' | ',', exponent: number): number | undefined {
  let t = text.trim().replace(/[\s\u00a0\u202f]/g, '');
  if (decimalSeparator === ',') {
    const grouped = THOUSANDS_DOT.exec(t);
    if (grouped) t = grouped[1]!.replaceAll('.', '') + (grouped[2] ?? '');
    if (!NUMBER_COMMA.test(t)) return undefined;
    t = t.replace(',', '.');
  } else if (!NUMBER_DOT.test(t)) {
    return undefined;
  }
  const [mantissa, written] = t.split(/[eE]/) as [string, string | undefined];
  const value = Number(`${mantissa}e${Number(written ?? 0) + exponent}`);
  return Number.isFinite(value) ? value : undefined;
}

function numberOf(raw: unknown, separator: '.' | ',', exponent: number): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? (exponent === 0 ? raw : parseNumberText(String(raw), '.', exponent)) : undefined;
  if (typeof raw === 'bigint') return parseNumberText(raw.toString(), '.', exponent);
  if (typeof raw === 'string') return parseNumberText(raw, separator, exponent);
  return undefined;
}

const isBlank = (raw: unknown): boolean => raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '');

/**
 * Maps records one at a time. Keep one mapper per file or query result: it carries the
 * timestamp parser's memory of repeated wall-clock hours. A blank value is absent (not zero);
 * a value that is no number is a problem for that value only; a record without a readable
 * timestamp yields nothing and one problem.
 */
export function recordMapper(mapping: RecordMapping): (get: (field: string) => unknown, where: string) => MappedRecord {
  const parser = timestampParser(mapping.timestampFormat, mapping.timeZone);
  const separator = mapping.decimalSeparator ?? '.';
  const values = mapping.values.map((value) => ({ ...value, exponent: unitExponent(value.quantity, value.unit) ?? 0 }));
  return (get, where) => {
    const rawTs = get(mapping.timestampField);
    if (isBlank(rawTs)) return { readings: [], problems: [{ where, message: `no timestamp in ${mapping.timestampField}` }] };
    const parsed = parser.parse(rawTs);
    if ('error' in parsed) return { readings: [], problems: [{ where, message: `${mapping.timestampField}: ${parsed.error}` }] };
    const readings: TargetReading[] = [];
    const problems: Problem[] = [];
    for (const value of values) {
      const raw = get(value.field);
      if (isBlank(raw)) continue;
      const target = value.target ?? stringOf(get(value.targetField!));
      if (target === undefined) {
        problems.push({ where, message: `${value.targetField}: no target for ${value.field}` });
        continue;
      }
      const n = numberOf(raw, separator, value.exponent);
      if (n === undefined) {
        problems.push({ where, message: `${value.field}: ${JSON.stringify(typeof raw === 'string' ? raw : String(raw))} is not a number` });
        continue;
      }
      if (value.negativeQuantity !== undefined) {
        readings.push(targetReading(target, parsed.ms, value.quantity, n > 0 ? n : 0), targetReading(target, parsed.ms, value.negativeQuantity, n < 0 ? -n : 0));
      } else {
        readings.push(targetReading(target, parsed.ms, value.quantity, n));
      }
    }
    return { readings, problems, tsMs: parsed.ms };
  };
}

function stringOf(raw: unknown): string | undefined {
  if (typeof raw === 'string' && raw.trim() !== '') return raw.trim();
  if (typeof raw === 'number' || typeof raw === 'bigint') return String(raw);
  return undefined;
}
