/**
 * Opens the database a configuration names: an embedded PGlite folder or a PostgreSQL server.
 * The port itself (Db, Queryable and the row parsing the drivers share) is in port.ts.
 */
import type { Db } from './port.js';

export type { Db, Queryable } from './port.js';
export { DEFAULT_POOL_SIZE } from './port.js';

export type StoreConfig =
  /**
   * `startFrom`: the files of another PGlite database (its `dumpDataDir`) to begin with instead of
   * an empty cluster — initdb costs seconds, a copy a fraction of that (tests start every database
   * from one migrated template).
   */
  | { kind: 'pglite'; dataDir: string | undefined; startFrom?: Blob }
  /** `poolSize`: connections this process keeps to the server (default DEFAULT_POOL_SIZE). */
  | { kind: 'postgres'; url: string; poolSize?: number };

export async function openDb(config: StoreConfig): Promise<Db> {
  if (config.kind === 'postgres') {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres(config.url, config.poolSize);
  }
  const { openPglite } = await import('./pglite.js');
  return openPglite(config.dataDir, config.startFrom);
}
