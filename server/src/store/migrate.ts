import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

export interface Migration {
  /** Global order, e.g. `0003`, taken from the file name `0003_registry.sql`. */
  readonly version: string;
  readonly name: string;
  readonly sql: string;
}

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');
const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The folders that may hold a `migrations/` folder: `src/<capability>` and `src/platform/<part>`. */
function owners(srcDir: string): string[] {
  const folders = (parent: string) => readdirSync(join(srcDir, parent), { withFileTypes: true })
    .filter((entry) => entry.isDirectory()).map((entry) => (parent ? `${parent}/${entry.name}` : entry.name));
  const top = folders('');
  return top.includes('platform') ? [...top, ...folders('platform')] : top;
}

/**
 * Every capability keeps its own tables in `src/<capability>/migrations/NNNN_name.sql` (the
 * platform's parts in `src/platform/<part>/migrations/`); the numbers are global so the order is
 * the same on every database, and only the number identifies a migration once applied.
 */
export function loadMigrations(srcDir: string = SRC): Migration[] {
  const found: Migration[] = [];
  for (const owner of owners(srcDir)) {
    const dir = join(srcDir, owner, 'migrations');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)) {
      const match = FILE.exec(file);
      if (!match) continue;
      found.push({ version: match[1]!, name: `${owner}/${file}`, sql: readFileSync(join(dir, file), 'utf8') });
    }
  }
  found.sort((a, b) => a.version.localeCompare(b.version));
  for (let i = 1; i < found.length; i++) {
    if (found[i]!.version === found[i - 1]!.version) {
      throw new Error(`two migrations share version ${found[i]!.version}: ${found[i - 1]!.name} and ${found[i]!.name}`);
    }
  }
  return found;
}

/** Applies the migrations not yet recorded, each in its own transaction; safe to call on every start. */
export async function migrate(db: Db, migrations: readonly Migration[] = loadMigrations()): Promise<string[]> {
  const applied: string[] = [];
  for (const migration of migrations) {
    const done = await db.transaction(async (tx) => {
      // Serialises concurrent starts of several Gridshare processes on one PostgreSQL.
      await tx.query('SELECT pg_advisory_xact_lock(7263545)');
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const rows = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (rows.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      return true;
    });
    if (done) applied.push(migration.name);
  }
  return applied;
}
