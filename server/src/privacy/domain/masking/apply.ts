import { worst, type Quality } from '../../../kernel/energy.js';
import { BadRequestError } from '../../../kernel/errors.js';
import { formatUtcInstant, parseUtcInstant, QUARTER_HOUR_MS } from '../../../kernel/time.js';
import { timeGrainProblem, type CompiledField, type CompiledMasking } from './rule-set.js';
import type { MaskingContext } from './rules.js';

/**
 * Applying a compiled rule set to rows, streaming. Without a time rule each row is masked on
 * its own. With one (`hourly`), the rows of one series — same values in every field that is
 * kept and is not the time, an energy or a quality — are summed per hour. Rows that differ only
 * in dropped fields fall into one series and are summed too: dropping `member_id` and
 * generalising to hours gives the community's hourly totals. Each series must come in time
 * order, as exports are written (by time, or by metering point then time). An hour comes out
 * when its series moves on to a later hour, the last hour of each series at the end: input by
 * time gives output by time. Memory holds one hour per series. An hour with a quarter hour
 * absent is marked `missing` where the export has a quality field.
 */

/** One row of an export, every value as text (as in a CSV file). */
export type MaskRow = Readonly<Record<string, string>>;

export interface Masker {
  /** The fields of the masked rows, in input order. */
  readonly header: readonly string[];
  /** Masks one row (1-based `rowNumber` for errors); returns the rows it completes. */
  push(row: MaskRow, rowNumber: number): MaskRow[];
  /** The rows still held (the last hour of each series). */
  end(): MaskRow[];
  /** Hours summed from fewer quarter hours than they have (so far). */
  readonly incompleteHours: number;
}

interface HourAccumulator {
  readonly startMs: number;
  readonly row: MaskRow;
  readonly sums: (bigint | null)[];
  quality: Quality;
  /** A bit per quarter hour seen (4 bits for an hour). */
  seen: number;
}

const QUALITIES: ReadonlySet<string> = new Set(['measured', 'estimated', 'missing']);

function rowError(rowNumber: number, field: string, why: string): BadRequestError {
  return new BadRequestError(`row ${rowNumber}: ${field} ${why}`, `row ${rowNumber}/${field}`);
}

/**
 * A masker for rows holding `present` fields (a CSV header, a row model's keys): every
 * required field of the schema must be there, and nothing the schema does not know.
 */
export function createMasker(masking: CompiledMasking, present: readonly string[]): Masker {
  const byName = new Map(masking.fields.map((f) => [f.name, f]));
  const unknown = present.filter((name) => !byName.has(name));
  if (unknown.length > 0) throw new BadRequestError(`column ${unknown.join(', ')} is not in the ${masking.schema.name} export (${masking.fields.map((f) => f.name).join(', ')})`, 'header');
  if (new Set(present).size !== present.length) throw new BadRequestError('a column is named twice', 'header');
  const missing = masking.fields.filter((f) => !f.optional && !present.includes(f.name)).map((f) => f.name);
  if (missing.length > 0) throw new BadRequestError(`the ${masking.schema.name} export lacks column ${missing.join(', ')}`, 'header');

  const fields = present.map((name) => byName.get(name)!);
  const grainProblem = timeGrainProblem(fields, masking.timeGrain);
  if (grainProblem) throw new BadRequestError(grainProblem, 'header');
  const output = fields.filter((f) => f.rule.effect.kind !== 'drop');
  const context = masking.context as Required<MaskingContext>;
  // An export repeats its identifiers (a member's id in every quarter hour): each distinct value
  // is transformed once (an HMAC costs microseconds), within a bounded memo per field.
  const memos = new Map<string, Map<string, string>>();
  const maskValue = (field: CompiledField, value: string): string => {
    const { effect } = field.rule;
    if (effect.kind !== 'value') return value;
    let memo = memos.get(field.name);
    if (!memo) memos.set(field.name, (memo = new Map()));
    let masked = memo.get(value);
    if (masked === undefined) {
      masked = effect.transform(value, context);
      if (memo.size >= 4096) memo.clear();
      memo.set(value, masked);
    }
    return masked;
  };
  const header = output.map((f) => f.name);
  const grain = masking.timeGrain;

  if (!grain) {
    return {
      header,
      push: (row) => [Object.fromEntries(output.map((f) => [f.name, maskValue(f, row[f.name] ?? '')]))],
      end: () => [],
      incompleteHours: 0,
    };
  }

  const energy = fields.filter((f) => f.type === 'energy');
  const qualities = fields.filter((f) => f.type === 'quality');
  const keys = output.filter((f) => f.type !== 'energy' && f.type !== 'quality' && f.name !== grain.field);
  const quarters = grain.stepMs / QUARTER_HOUR_MS;
  const open = new Map<string, HourAccumulator>();

  let incompleteHours = 0;
  const finish = (acc: HourAccumulator): MaskRow => {
    const complete = acc.seen === 2 ** quarters - 1;
    if (!complete) incompleteHours++;
    const values: Record<string, string> = { ...acc.row, [grain.field]: formatUtcInstant(acc.startMs) };
    energy.forEach((f, i) => { values[f.name] = acc.sums[i] === null ? '' : acc.sums[i]!.toString(); });
    for (const f of qualities) values[f.name] = complete ? acc.quality : 'missing';
    return Object.fromEntries(output.map((f) => [f.name, maskValue(f, values[f.name] ?? '')]));
  };

  return {
    header,
    get incompleteHours() {
      return incompleteHours;
    },
    push(row, rowNumber) {
      const stamp = row[grain.field] ?? '';
      const ms = parseUtcInstant(stamp);
      if (ms === undefined || ms % QUARTER_HOUR_MS !== 0) throw rowError(rowNumber, grain.field, `"${stamp}" is not a UTC quarter hour like 2026-03-01T00:15:00Z`);
      const startMs = Math.floor(ms / grain.stepMs) * grain.stepMs;
      const quarter = 1 << ((ms - startMs) / QUARTER_HOUR_MS);
      // JSON of the key values: unambiguous whatever the values hold (commas, quotes).
      const key = JSON.stringify(keys.map((f) => row[f.name] ?? ''));
      const done: MaskRow[] = [];
      let acc = open.get(key);
      if (acc && startMs < acc.startMs) throw rowError(rowNumber, grain.field, `${stamp} comes after a later hour of the same series: rows must be in time order`);
      if (acc && startMs > acc.startMs) {
        done.push(finish(acc));
        // Deleted and set again, so the series still open at the end come out in the order of their last hour.
        open.delete(key);
        acc = undefined;
      }
      if (!acc) {
        acc = { startMs, row: Object.fromEntries(keys.map((f) => [f.name, row[f.name] ?? ''])), sums: energy.map(() => 0n), quality: 'measured', seen: 0 };
        open.set(key, acc);
      }
      acc.seen |= quarter;
      energy.forEach((f, i) => {
        const text = row[f.name] ?? '';
        if (text === '') acc.sums[i] = null;
        else if (!/^-?\d{1,15}$/.test(text)) throw rowError(rowNumber, f.name, `"${text.slice(0, 40)}" is not whole Wh`);
        else if (acc.sums[i] !== null) acc.sums[i] = acc.sums[i]! + BigInt(text);
      });
      for (const f of qualities) {
        const text = row[f.name] ?? '';
        if (!QUALITIES.has(text)) throw rowError(rowNumber, f.name, `"${text.slice(0, 40)}" is not measured, estimated or missing`);
        acc.quality = worst(acc.quality, text as Quality);
      }
      return done;
    },
    end() {
      const rest = [...open.values()].map(finish);
      open.clear();
      return rest;
    },
  };
}

/** Masks CSV rows given as field arrays under `header`; yields the masked header first. */
export function* maskCsvRows(masking: CompiledMasking, header: readonly string[], rows: Iterable<readonly string[]>): Generator<string[]> {
  const masker = createMasker(masking, header);
  yield [...masker.header];
  const asArray = (row: MaskRow) => masker.header.map((name) => row[name]!);
  let rowNumber = 0;
  for (const fields of rows) {
    rowNumber++;
    if (fields.length !== header.length) throw new BadRequestError(`row ${rowNumber}: expected ${header.length} fields, found ${fields.length}`, `row ${rowNumber}`);
    const row = Object.fromEntries(header.map((name, i) => [name, fields[i]!]));
    for (const out of masker.push(row, rowNumber)) yield asArray(out);
  }
  for (const out of masker.end()) yield asArray(out);
}

/** A typed export row (a regulator row model): numbers and nulls as well as text. */
export type RecordValue = string | number | null;

/** Masks typed rows one at a time (an export written as it is read): see `maskRecords`. */
export interface RecordMasker {
  /** Masks one row; returns the rows it completes. */
  push<R extends { readonly [K in keyof R]: RecordValue | undefined }>(record: R): Record<string, RecordValue>[];
  /** The rows still held (the last hour of each series). */
  end(): Record<string, RecordValue>[];
  /** The masked rows' fields, once the first row has been pushed. */
  readonly header: readonly string[] | undefined;
}

export function createRecordMasker(masking: CompiledMasking): RecordMasker {
  let masker: Masker | undefined;
  const typeOf = new Map(masking.fields.map((f) => [f.name, f.type]));
  const typed = (row: MaskRow): Record<string, RecordValue> => Object.fromEntries(Object.entries(row).map(([name, text]) => {
    const type = typeOf.get(name);
    return [name, (type === 'energy' || type === 'number') ? (text === '' ? null : Number(text)) : text];
  }));
  let columns: ReadonlySet<string> = new Set();
  let rowNumber = 0;
  return {
    push(typedRecord) {
      const record = typedRecord as Readonly<Record<string, RecordValue | undefined>>;
      rowNumber++;
      if (!masker) {
        columns = new Set(Object.keys(record).filter((k) => record[k] !== undefined));
        masker = createMasker(masking, [...columns]);
      }
      const row: Record<string, string> = {};
      for (const [name, value] of Object.entries(record)) {
        if (value === undefined) continue;
        if (!columns.has(name)) throw rowError(rowNumber, name, `is not a field of the first row (${[...columns].join(', ')}): every row has the same fields`);
        if (typeof value === 'number' && !Number.isFinite(value)) throw rowError(rowNumber, name, `is not a finite number (${value})`);
        row[name] = value === null ? '' : String(value);
      }
      return masker.push(row, rowNumber).map(typed);
    },
    end: () => (masker ? masker.end().map(typed) : []),
    get header() {
      return masker?.header;
    },
  };
}

/**
 * Masks typed rows (e.g. `RegulatorIntervalRow`s): the fields of the first row decide the
 * columns; energy and number fields come back as numbers (null where empty).
 */
export function* maskRecords<R extends { readonly [K in keyof R]: RecordValue | undefined }>(masking: CompiledMasking, records: Iterable<R>): Generator<Record<string, RecordValue>> {
  const masker = createRecordMasker(masking);
  for (const record of records) yield* masker.push(record);
  yield* masker.end();
}
