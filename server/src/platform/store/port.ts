/**
 * The one database port every capability uses: plain PostgreSQL SQL with positional
 * parameters, over either an embedded PGlite instance or a PostgreSQL server.
 */
export interface Queryable {
  /** Runs one parameterised statement and returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Cheap liveness probe for /health. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** int8 rows come back as numbers (all our counters and Wh values are far below 2^53); numeric as exact strings. */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text} exceeds the safe integer range`);
  return value;
}

export const OID = { int8: 20, numeric: 1700 } as const;

/** Connections per process to a PostgreSQL server: ingest's commits, the API, and the background passes (four at once by default). */
export const DEFAULT_POOL_SIZE = 20;
