import { BadRequestError } from '../../kernel/errors.js';
import { MINUTE_MS, formatUtcInstant, parseUtcInstant } from '../../kernel/time.js';
import { SUPPORTED_STEPS_MIN } from './series.js';

/**
 * The one CSV shape forecasting reads: `timestamp_utc,<column>…`, UTC ISO instants marking the
 * start of each interval, decimal values, an empty cell (or `NaN`) for a missing value. Rows must
 * increase in time; gaps are allowed (missing rows are missing values). The step is the smallest
 * gap between rows and must divide an hour (15, 20, 30 or 60 minutes).
 */
export interface TimeColumns {
  readonly startMs: number;
  readonly stepMs: number;
  readonly length: number;
  readonly columns: ReadonlyMap<string, Float64Array>;
}

export const MAX_ROWS = 2_000_000;

export class CsvInputError extends BadRequestError {
  constructor(message: string, readonly line?: number) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function parseTimeColumns(text: string, options: { readonly allowed?: readonly string[]; readonly min?: number; readonly max?: number } = {}): TimeColumns {
  const lines = text.split(/\r?\n/);
  let lineNo = 0;
  while (lineNo < lines.length && lines[lineNo]!.trim() === '') lineNo++;
  if (lineNo >= lines.length) throw new CsvInputError('the file is empty');
  const header = lines[lineNo]!.replace(/^\uFEFF/, '').split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1').toLowerCase());
  if (header[0] !== 'timestamp_utc') throw new CsvInputError(`the header must start with "timestamp_utc", found "${header[0] ?? ''}"`, lineNo + 1);
  const names = header.slice(1);
  if (names.length < (options.min ?? 1)) throw new CsvInputError(`the header names no value column after timestamp_utc`, lineNo + 1);
  if (options.max !== undefined && names.length > options.max) throw new CsvInputError(`expected ${options.max} value column(s) after timestamp_utc, found ${names.length}`, lineNo + 1);
  for (const name of names) {
    if (name === '') throw new CsvInputError('a column has no name', lineNo + 1);
    if (options.allowed && !options.allowed.includes(name)) throw new CsvInputError(`unknown column "${name}" (allowed: ${options.allowed.join(', ')})`, lineNo + 1);
  }
  if (new Set(names).size !== names.length) throw new CsvInputError('a column is named twice', lineNo + 1);

  const times: number[] = [];
  const raw: number[][] = names.map(() => []);
  for (let i = lineNo + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    if (times.length >= MAX_ROWS) throw new CsvInputError(`more than ${MAX_ROWS.toLocaleString('en')} rows`, i + 1);
    const fields = line.split(',');
    if (fields.length !== names.length + 1) throw new CsvInputError(`expected ${names.length + 1} fields, found ${fields.length}`, i + 1);
    const stamp = fields[0]!.trim().replace(/^"(.*)"$/, '$1');
    const ms = parseUtcInstant(stamp);
    if (ms === undefined) throw new CsvInputError(`"${stamp}" is not a UTC ISO timestamp like 2024-03-01T00:15:00Z`, i + 1);
    const previous = times[times.length - 1];
    if (previous !== undefined && ms <= previous) {
      throw new CsvInputError(ms === previous ? `${stamp} appears twice` : `${stamp} comes after ${formatUtcInstant(previous)}: rows must increase in time`, i + 1);
    }
    times.push(ms);
    for (let c = 0; c < names.length; c++) {
      const cell = fields[c + 1]!.trim().replace(/^"(.*)"$/, '$1');
      if (cell === '' || cell === 'NaN' || cell === 'nan') raw[c]!.push(Number.NaN);
      else if (NUMBER.test(cell) && Number.isFinite(Number(cell))) raw[c]!.push(Number(cell));
      else throw new CsvInputError(`${names[c]} "${cell}" is not a number`, i + 1);
    }
  }
  if (times.length === 0) throw new CsvInputError('the file has a header but no rows');
  let stepMs = Number.POSITIVE_INFINITY;
  for (let i = 1; i < times.length; i++) stepMs = Math.min(stepMs, times[i]! - times[i - 1]!);
  if (times.length === 1) stepMs = 60 * MINUTE_MS;
  if (!SUPPORTED_STEPS_MIN.includes(stepMs / MINUTE_MS)) {
    throw new CsvInputError(`rows are ${stepMs / MINUTE_MS} minutes apart; the resolution must be ${SUPPORTED_STEPS_MIN.join(', ')} minutes`);
  }
  const startMs = times[0]!;
  for (let i = 0; i < times.length; i++) {
    if (times[i]! % stepMs !== 0) throw new CsvInputError(`${formatUtcInstant(times[i]!)} is not on the ${stepMs / MINUTE_MS}-minute grid of the file`);
  }
  const length = (times[times.length - 1]! - startMs) / stepMs + 1;
  const columns = new Map<string, Float64Array>();
  names.forEach((name, c) => {
    const values = new Float64Array(length).fill(Number.NaN);
    for (let i = 0; i < times.length; i++) values[(times[i]! - startMs) / stepMs] = raw[c]![i]!;
    columns.set(name, values);
  });
  return { startMs, stepMs, length, columns };
}
