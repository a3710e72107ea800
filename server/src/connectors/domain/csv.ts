import type { RecordMapping } from './records.js';

/**
 * CSV layout: which line holds the column names, which columns the mapping reads. Without a
 * header line, columns are named by position, "1" for the first.
 */
export type CsvDelimiter = ',' | ';' | '\t' | '|';

export interface CsvLayout {
  /** Lines before the header (or the data) to skip: a utility's preamble. */
  readonly skipLines: number;
  readonly header: boolean;
  /** `auto`: the most frequent of , ; tab | on the first line read. */
  readonly delimiter: CsvDelimiter | 'auto';
}

const CANDIDATES: readonly CsvDelimiter[] = [';', ',', '\t', '|'];

export function detectDelimiter(line: string): CsvDelimiter {
  let best: CsvDelimiter = ',';
  let bestCount = 0;
  for (const candidate of CANDIDATES) {
    const count = line.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

/** Every field a mapping reads (timestamp, values, target columns). */
export function mappedFields(mapping: RecordMapping): string[] {
  return [mapping.timestampField, ...mapping.values.flatMap((v) => (v.targetField === undefined ? [v.field] : [v.field, v.targetField]))];
}

/** Column index per mapped field, or the fields the header lacks. */
export function columnIndex(header: readonly string[] | undefined, mapping: RecordMapping): { index: ReadonlyMap<string, number> } | { missing: string[] } {
  const names = header?.map((h) => h.trim());
  const index = new Map<string, number>();
  const missing: string[] = [];
  for (const field of mappedFields(mapping)) {
    const at = names ? names.indexOf(field) : /^[1-9]\d*$/.test(field) ? Number(field) - 1 : -1;
    if (at < 0) missing.push(field);
    else index.set(field, at);
  }
  return missing.length > 0 ? { missing } : { index };
}
