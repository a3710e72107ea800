import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { OID, parseInt8, type Db, type Queryable } from './port.js';

const parsers = { [OID.int8]: parseInt8, [OID.numeric]: (text: string) => text };

function wrap(pg: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await pg.query<Row>(sql, [...params]);
      return result.rows;
    },
    async exec(sql: string) {
      await pg.exec(sql);
    },
  };
}

/**
 * Embedded PostgreSQL (WASM). `dataDir` undefined keeps everything in memory (tests).
 * PGlite has no background WAL writer, so synchronous_commit must stay on: a commit
 * is then written to the host file system before the promise resolves, which is what
 * lets an acknowledged write survive a kill -9 of the process. `dump` copies the database's
 * files, for `startFrom` of another.
 */
export async function openPglite(dataDir: string | undefined, startFrom?: Blob): Promise<Db & { dump(): Promise<Blob> }> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const pg = await PGlite.create({ dataDir, parsers, ...(startFrom ? { loadDataDir: startFrom } : {}) });
  await pg.exec('SET synchronous_commit = on');
  const base = wrap(pg);
  return {
    kind: 'pglite',
    ...base,
    transaction: (work) => pg.transaction((tx) => work(wrap(tx))),
    async ping() {
      await pg.query('SELECT 1');
      return true;
    },
    close: () => pg.close(),
    dump: () => pg.dumpDataDir('none'),
  };
}
