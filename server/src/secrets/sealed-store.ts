import type { Queryable } from '../store/db.js';

/** A row's sealed values, in the order of the store's columns (null where a column is empty). */
export interface SealedRow {
  readonly id: string;
  readonly values: readonly (string | null)[];
}

export interface SealedChange {
  readonly id: string;
  readonly before: readonly (string | null)[];
  readonly after: readonly (string | null)[];
}

/**
 * A table that keeps sealed secrets, described by the capability that owns it (only it has SQL
 * for the table). The secrets module seals plain-text rows left from before, re-seals everything
 * under a new master key and checks at start that it holds every key the table needs.
 */
export interface SealedStore {
  readonly table: string;
  readonly columns: readonly string[];
  /** How many values each master key sealed; keyId null counts values still in plain text. */
  summary(db: Queryable): Promise<{ keyId: string | null; count: number }[]>;
  /** Up to `limit` rows after `after`, ordered by id. */
  page(db: Queryable, after: string | undefined, limit: number): Promise<SealedRow[]>;
  /**
   * Writes `after` where a row still holds `before` (compare and set: a row changed meanwhile,
   * e.g. a key rotated by a manager, is left as it is); returns how many rows changed.
   */
  replace(db: Queryable, changes: readonly SealedChange[]): Promise<number>;
}

/** The associated data of a sealed value: where it belongs (`device_credentials.primary_key:gs-…`). */
export function sealedPlace(table: string, column: string, rowId: string): string {
  return `${table}.${column}:${rowId}`;
}

/** SQL giving a sealed text column's key id, or NULL for plain text (for summaries). */
export function keyIdSql(column: string): string {
  return `CASE WHEN ${column} LIKE 'gs1:%' THEN split_part(${column}, ':', 2) END`;
}
