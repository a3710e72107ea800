import type { Queryable } from '../platform/store/db.js';

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

/**
 * The SQL of a table with sealed columns, written by the capability that owns the table:
 * - `summary`: rows of (keyId, count), keyId from `keyIdSql(column)` for every sealed column;
 * - `page`: the id column and the sealed columns of the rows after `$1` (NULL: from the start),
 *   ordered by id, at most `$2`;
 * - `replace`: a compare-and-set UPDATE over unnest() of `$1` ids, then each column's values
 *   before (`$2…`), then each column's values after, RETURNING one row per row changed.
 */
export interface SealedTableSql {
  readonly table: string;
  readonly id: string;
  readonly columns: readonly string[];
  readonly summary: string;
  readonly page: string;
  readonly replace: string;
}

export function sealedStore(sql: SealedTableSql): SealedStore {
  return {
    table: sql.table,
    columns: sql.columns,
    summary: (db) => db.query<{ keyId: string | null; count: number }>(sql.summary),
    async page(db, after, limit) {
      const rows = await db.query<Record<string, string | null>>(sql.page, [after ?? null, limit]);
      return rows.map((row) => ({ id: row[sql.id]!, values: sql.columns.map((column) => row[column] ?? null) }));
    },
    async replace(db, changes) {
      const side = (which: 'before' | 'after') => sql.columns.map((_, i) => changes.map((c) => c[which][i] ?? null));
      return (await db.query(sql.replace, [changes.map((c) => c.id), ...side('before'), ...side('after')])).length;
    },
  };
}
