import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Table ownership (issue 13): a table belongs to the capability whose migration creates it, and
 * only that capability's store (`store.ts` or `store/`) holds SQL on it. Others ask through the
 * owner's index.ts; routes, services and jobs call their store. A part of the platform shell
 * (events, jobs) keeps the SQL on its own table inside that part.
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, suffix);
    return name.endsWith(suffix) ? [path] : [];
  });
}

/** `sharing` for server/src/sharing/…, `platform/events` for server/src/platform/events/…. */
const ownerOf = (path: string) => {
  const parts = relative(SRC, path).split('/');
  return parts[0] === 'platform' ? `platform/${parts[1]}` : parts[0]!;
};

function tableOwners(): Map<string, string> {
  const owners = new Map<string, string>();
  for (const file of filesUnder(SRC, '.sql')) {
    for (const match of readFileSync(file, 'utf8').matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/gi)) {
      owners.set(match[1]!.toLowerCase(), ownerOf(file));
    }
  }
  return owners;
}

/** The known tables a source text's string literals name in SQL. */
function tablesInSql(source: string, known: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  for (const literal of source.match(/`[^`]*`|'[^'\n]*'/g) ?? []) {
    for (const match of literal.matchAll(/\b(?:FROM|JOIN|INTO|UPDATE|DELETE FROM|TABLE|USING)\s+(\w+)/gi)) {
      const table = match[1]!.toLowerCase();
      if (known.has(table)) found.add(table);
    }
  }
  return [...found].sort();
}

const isStore = (path: string) => /(^|\/)store(\.ts$|\/)/.test(relative(SRC, path));

describe('table ownership', () => {
  const owners = tableOwners();

  it('knows the tables and who owns them from the migrations', () => {
    expect(owners.get('readings')).toBe('ingest');
    expect(owners.get('intervals')).toBe('intervals');
    expect(owners.get('member_energy_days')).toBe('sharing');
    expect(owners.get('settlements')).toBe('billing');
    expect(owners.get('event_outbox')).toBe('platform/events');
    expect(owners.size).toBeGreaterThan(40);
  });

  it('only the owner touches a table, and only in its store', () => {
    const problems: string[] = [];
    for (const file of filesUnder(SRC, '.ts')) {
      const tables = tablesInSql(readFileSync(file, 'utf8'), new Set(owners.keys()));
      if (tables.length === 0) continue;
      const owner = ownerOf(file);
      const where = relative(SRC, file);
      for (const table of tables) {
        if (owners.get(table) !== owner) problems.push(`${where} touches ${table}, which belongs to ${owners.get(table)}`);
      }
      if (!owner.startsWith('platform/') && !isStore(file)) problems.push(`${where} holds SQL outside its capability's store`);
    }
    expect(problems).toEqual([]);
  });

  it('reads SQL out of string literals, not out of comments or names', () => {
    const known = new Set(['readings', 'members']);
    expect(tablesInSql("const rows = await db.query(`SELECT * FROM readings r JOIN members m ON m.id = r.member_id`);", known)).toEqual(['members', 'readings']);
    expect(tablesInSql("await tx.query('DELETE FROM members WHERE id = $1', [id]);", known)).toEqual(['members']);
    expect(tablesInSql('// reads from readings and members\nconst readingsFrom = 1;', known)).toEqual([]);
    expect(isStore(join(SRC, 'registry/store/members.ts'))).toBe(true);
    expect(isStore(join(SRC, 'ingest/store.ts'))).toBe(true);
    expect(isStore(join(SRC, 'ingest/writer.ts'))).toBe(false);
  });
});
