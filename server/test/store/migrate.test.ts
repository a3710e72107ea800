import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMigrations, migrate } from '../../src/platform/store/migrate.js';
import { openDb } from '../../src/platform/store/db.js';
import { createTestDatabase, storeKinds } from '../support/stores.js';

function sourceTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'gridshare-migrations-'));
  for (const [path, sql] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), sql);
  }
  return root;
}

describe('migration discovery', () => {
  it('collects every capability\'s migrations in global order', () => {
    const root = sourceTree({
      'billing/migrations/0003_billing.sql': 'SELECT 3',
      'accounts/migrations/0001_accounts.sql': 'SELECT 1',
      'registry/migrations/0002_registry.sql': 'SELECT 2',
      'registry/migrations/notes.txt': 'ignored',
    });
    expect(loadMigrations(root).map((m) => m.name)).toEqual([
      'accounts/0001_accounts.sql', 'registry/0002_registry.sql', 'billing/0003_billing.sql',
    ]);
  });

  it('refuses two migrations with one version', () => {
    const root = sourceTree({ 'a/migrations/0001_a.sql': 'SELECT 1', 'b/migrations/0001_b.sql': 'SELECT 1' });
    expect(() => loadMigrations(root)).toThrow(/share version 0001/);
  });

  it('the real tree has unique, ascending versions (gaps allowed: parallel branches each number in their own range)', () => {
    const versions = loadMigrations().map((m) => Number(m.version));
    expect(versions[0]).toBe(1);
    for (let i = 1; i < versions.length; i++) expect(versions[i]!).toBeGreaterThan(versions[i - 1]!);
  });
});

// Each test applies every migration to an empty database: on PGlite in a busy fork that alone can
// take longer than the suite's 30 s default.
const WHOLE_SCHEMA_MS = 120_000;

describe.each(storeKinds)('migrations on %s', (kind) => {
  it('apply once, are recorded, and a second run applies nothing', async () => {
    const database = await createTestDatabase(kind);
    const db = await openDb(database.config);
    try {
      const first = await migrate(db);
      expect(first.length).toBe(loadMigrations().length);
      expect(await migrate(db)).toEqual([]);
      const recorded = await db.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(recorded.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
    } finally {
      await db.close();
      await database.drop();
    }
  }, WHOLE_SCHEMA_MS);

  it('roll back a failing migration completely', async () => {
    const database = await createTestDatabase(kind);
    const db = await openDb(database.config);
    try {
      const broken = [{ version: '0001', name: 'x/0001_broken.sql', sql: 'CREATE TABLE half_done (id int); SELECT no_such_column FROM half_done;' }];
      await expect(migrate(db, broken)).rejects.toThrow();
      expect(await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'")).toEqual([]);
      // Nothing was recorded: the real migrations still all apply afterwards.
      expect((await migrate(db)).length).toBe(loadMigrations().length);
    } finally {
      await db.close();
      await database.drop();
    }
  }, WHOLE_SCHEMA_MS);

  it.runIf(kind === 'postgres')('two processes starting at once migrate exactly once', async () => {
    const database = await createTestDatabase(kind);
    const [a, b] = await Promise.all([openDb(database.config), openDb(database.config)]);
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      expect(ra.length + rb.length).toBe(loadMigrations().length);
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  }, WHOLE_SCHEMA_MS);
});
