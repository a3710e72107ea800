import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { openDb, type Db, type StoreConfig } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { openPglite } from '../../src/platform/store/pglite.js';

/** The PostgreSQL server the production path is tested against, when the environment names one. */
export const postgresUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

/** PGlite always; PostgreSQL as well when TEST_DATABASE_URL (or DATABASE_URL) is set. */
export const storeKinds: ReadonlyArray<StoreConfig['kind']> = postgresUrl ? ['pglite', 'postgres'] : ['pglite'];

/**
 * The store of a test of behaviour above the store (routes, authorisation, jobs driven through a
 * platform): one store, not both. The SQL under that behaviour is the same on either; what differs
 * between the stores is tested where the store is the subject (`storeKinds`: the store's own tests,
 * migrations, the outbox and job leases, each capability's store functions, a data folder reopened,
 * work off the event loop beside PGlite's) and by the authorisation matrix, which calls every route
 * on both stores (PGlite has one connection: a query waiting on its own transaction would hang
 * there); the embedded path runs end to end in the browser, demo and process tests, which start on
 * PGlite. Running every
 * platform test on both stores doubled their cost, each start on PGlite being about three times
 * the CPU of one on PostgreSQL (bench/RESULTS.md, "Test suite").
 *
 * PostgreSQL when configured (the production path), PGlite otherwise;
 * `GRIDSHARE_TEST_STORES=all` runs these tests on both as well.
 */
export const platformStoreKinds: ReadonlyArray<StoreConfig['kind']> =
  process.env.GRIDSHARE_TEST_STORES === 'all' ? storeKinds : [postgresUrl ? 'postgres' : 'pglite'];

export interface TestDatabase {
  readonly config: StoreConfig;
  /** Removes the database (PostgreSQL) once the test file is done. */
  drop(): Promise<void>;
}

/**
 * A migrated, empty PGlite database's files, made once per test process: an in-memory database
 * started from them skips initdb and the migrations (about 2.5 s each time otherwise).
 */
let pgliteTemplate: Promise<Blob> | undefined;

/**
 * The template's bytes, handed to every database of the process as they are: PGlite asks a
 * `loadDataDir` Blob for arrayBuffer() at each start and only reads it (each file is sliced out
 * of it), while a plain Blob copies its 46 MB every time.
 */
class ReadOnceBlob extends Blob {
  constructor(private readonly contents: ArrayBuffer, type: string) {
    super([contents], { type });
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return Promise.resolve(this.contents);
  }
}
function migratedPgliteTemplate(): Promise<Blob> {
  pgliteTemplate ??= (async () => {
    const db = await openPglite(undefined);
    await migrate(db);
    const files = await db.dump();
    await db.close();
    return new ReadOnceBlob(await files.arrayBuffer(), files.type);
  })();
  return pgliteTemplate;
}

/** A brand-new empty database of the given kind, so test files never see each other's rows. */
export async function createTestDatabase(kind: StoreConfig['kind'], dataDir?: string): Promise<TestDatabase> {
  if (kind === 'pglite') return { config: { kind, dataDir }, drop: async () => undefined };
  return postgresTestDatabase(undefined);
}

async function postgresTestDatabase(template: string | undefined): Promise<TestDatabase> {
  if (!postgresUrl) throw new Error('no PostgreSQL configured (TEST_DATABASE_URL)');
  const scratch = await createScratchDatabase(postgresUrl, 'gridshare_test', template);
  return { config: { kind: 'postgres', url: scratch.url }, drop: scratch.drop };
}

/**
 * The environment variable naming the migrated PostgreSQL database of this test run
 * (postgres-template.ts, vitest's global setup, makes it).
 */
export const POSTGRES_TEMPLATE_ENV = 'GRIDSHARE_TEST_POSTGRES_TEMPLATE';

/**
 * Like createTestDatabase, for a caller that migrates next anyway: an in-memory PGlite database
 * then starts already migrated (the migrations find nothing left to do), and so does a PostgreSQL
 * one when the run made a migrated template (outside vitest it is migrated from empty). One in a
 * data folder starts empty, as a new install does.
 */
export async function createMigratedTestDatabase(kind: StoreConfig['kind'], dataDir?: string): Promise<TestDatabase> {
  if (kind === 'postgres') return postgresTestDatabase(process.env[POSTGRES_TEMPLATE_ENV]);
  if (dataDir !== undefined) return createTestDatabase(kind, dataDir);
  return { config: { kind, dataDir, startFrom: await migratedPgliteTemplate() }, drop: async () => undefined };
}

/**
 * A new database on the PostgreSQL server at `serverUrl`, and how to drop it again (tests,
 * benchmarks); a copy of the database `template` when one is named.
 */
export async function createScratchDatabase(serverUrl: string, prefix: string, template?: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A migrated, empty database and its teardown. */
export async function openTestDb(kind: StoreConfig['kind']): Promise<{ db: Db; close(): Promise<void> }> {
  const database = await createMigratedTestDatabase(kind);
  const db = await openDb(database.config);
  await migrate(db);
  return {
    db,
    async close() {
      await db.close();
      await database.drop();
    },
  };
}
