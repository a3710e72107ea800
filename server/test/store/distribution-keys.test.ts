import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { createMigratedTestDatabase, storeKinds, type TestDatabase } from '../support/stores.js';

/**
 * Distribution by community (issue 22): every table that holds one community's data must be
 * distributable by `community_id` (Citus `create_distributed_table(t, 'community_id')`) without a
 * schema change. Citus requires of a distributed table a non-null distribution column contained
 * in its primary key and in every unique key, and of a foreign key between two distributed tables
 * that it includes the distribution column on both sides. The tables that hold no single
 * community's data are listed below with the reason: the top README's "Towards a distributed
 * deployment" names the same lists.
 */

/** Small, installation-wide tables replicated to every node (Citus reference tables). */
const REFERENCE_TABLES: Record<string, string> = {
  users: 'a person may belong to several communities; e-mail addresses are unique across the installation',
  sessions: 'a signed-in user, whichever communities they belong to',
  api_tokens: 'a user\'s tokens, not a community\'s',
  account_links: 'a user\'s emailed links (password reset, email verification)',
  notification_preferences: 'a person\'s choice of messages, whichever communities they belong to',
  user_quota_grants: 'quotas granted to a user (how many communities they may create)',
  quota_limits: 'the installation\'s quota settings',
  communities: 'the communities themselves: every distributed table references them',
  device_ids_issued: 'device ids are unique across the installation and never reused',
  flex_identities: 'a community\'s USEF domain is unique across the installation: inbound messages are routed by it',
  ledger_community_keys: 'a community\'s DID is unique across the installation: a verifier resolves it to one community',
};

/**
 * Installation-wide sequences and logs that stay on one node (Citus: local tables on the
 * coordinator); their order is global by design, and they are written at a low rate.
 */
const COORDINATOR_TABLES: Record<string, string> = {
  schema_migrations: 'which migrations ran',
  job_leases: 'which process runs which job unit',
  event_outbox: 'the installation\'s event stream, one sequence',
  audit_entries: 'one append-only trail; installation-level entries (operators, admins) have no community',
  ledger_entries: 'the transparency log is one Merkle tree for the installation (issue 17)',
  ledger_queue: 'entries waiting for the one log',
  ledger_checkpoints: 'the one log\'s signed checkpoints',
  ledger_cosignatures: 'witnesses\' cosignatures of those checkpoints',
  ledger_head: 'the one log\'s head',
  ledger_keys: 'the log\'s signing key',
  ledger_salts: 'salts of the log\'s commitments, by subject',
  ledger_tiles: 'the Merkle tree\'s stored tiles',
  ledger_witnesses: 'the installation\'s witnesses',
  ledger_audits: 'audits of the one log',
};

/**
 * Community tables not distributable yet, and what each still needs. The test fails when one of
 * them passes, so the list only ever shrinks.
 */
const PENDING: Record<string, string> = {};

interface Finding { table: string; problem: string }

/**
 * What keeps the tables of `schema` (those not listed as global) from being distributed by
 * community_id: the column missing or nullable, a primary or unique key without it, a foreign
 * key between two such tables without it on both sides, a global table referencing one.
 */
async function distributionFindings(db: Db, schema: string, global: ReadonlySet<string>, skip: ReadonlySet<string>): Promise<Finding[]> {
  const tables = await db.query<{ table: string; has_column: boolean; not_null: boolean; has_primary_key: boolean }>(
    `SELECT c.relname AS table,
       a.attnum IS NOT NULL AS has_column, coalesce(a.attnotnull, false) AS not_null,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_primary_key
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'community_id' AND NOT a.attisdropped
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition`, [schema]);
  const keys = await db.query<{ table: string; key: string }>(
    `SELECT c.relname AS table, ic.relname AS key
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND i.indisunique AND NOT c.relispartition
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'community_id' AND a.attnum = ANY (i.indkey::int2[]))`,
    [schema]);
  const foreignKeys = await db.query<{ table: string; referenced: string; key: string; both_sides: boolean }>(
    `SELECT c.relname AS table, r.relname AS referenced, k.conname AS key,
       EXISTS (SELECT 1 FROM generate_subscripts(k.conkey, 1) s
         JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[s]
         JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = k.confkey[s]
         WHERE a.attname = 'community_id' AND b.attname = 'community_id') AS both_sides
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND k.contype = 'f' AND NOT c.relispartition`, [schema]);

  const distributed = (table: string) => !global.has(table) && !skip.has(table);
  const findings: Finding[] = [];
  for (const t of tables) {
    if (!distributed(t.table)) continue;
    if (!t.has_column) findings.push({ table: t.table, problem: 'no community_id column' });
    else if (!t.not_null) findings.push({ table: t.table, problem: 'community_id may be null' });
    if (!t.has_primary_key) findings.push({ table: t.table, problem: 'no primary key' });
  }
  for (const k of keys) {
    if (distributed(k.table)) findings.push({ table: k.table, problem: `unique key ${k.key} without community_id` });
  }
  for (const f of foreignKeys) {
    if (distributed(f.table) && distributed(f.referenced) && !f.both_sides) {
      findings.push({ table: f.table, problem: `foreign key ${f.key} to ${f.referenced} without community_id on both sides` });
    }
    if (global.has(f.table) && !global.has(f.referenced)) {
      findings.push({ table: f.table, problem: `global table references community table ${f.referenced} (${f.key})` });
    }
  }
  return findings.sort((a, b) => a.table.localeCompare(b.table) || a.problem.localeCompare(b.problem));
}

// Applying every migration to an empty database: minutes on PGlite on a busy machine.
const WHOLE_SCHEMA_MS = 300_000;

const GLOBAL = new Set([...Object.keys(REFERENCE_TABLES), ...Object.keys(COORDINATOR_TABLES)]);

describe.each(storeKinds)('distribution keys on %s', (kind) => {
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  beforeAll(async () => {
    database = await createMigratedTestDatabase(kind);
    db = await openDb(database.config);
    await migrate(db);
  }, WHOLE_SCHEMA_MS);
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('every community table, after all migrations, can be distributed by community_id', async () => {
    const findings = await distributionFindings(db!, 'public', GLOBAL, new Set(Object.keys(PENDING)));
    expect(findings).toEqual([]);
  });

  it('the lists name existing tables, once each, and a pending table still fails (fixed ones leave the list)', async () => {
    const existing = new Set((await db!.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition`)).map((r) => r.table));
    const listed = [...Object.keys(REFERENCE_TABLES), ...Object.keys(COORDINATOR_TABLES), ...Object.keys(PENDING)];
    expect(listed.filter((t) => !existing.has(t))).toEqual([]);
    expect(listed.length).toBe(new Set(listed).size);
    const stillFailing = new Set((await distributionFindings(db!, 'public', GLOBAL, new Set())).map((f) => f.table));
    expect(Object.keys(PENDING).filter((t) => !stillFailing.has(t))).toEqual([]);
  });

  it('finds each kind of problem in a schema made to have them', async () => {
    await db!.exec(`
      DROP SCHEMA IF EXISTS distribution_probe CASCADE;
      CREATE SCHEMA distribution_probe;
      CREATE TABLE distribution_probe.tenants (id uuid PRIMARY KEY);
      CREATE TABLE distribution_probe.good (id uuid, community_id uuid NOT NULL, PRIMARY KEY (id, community_id));
      CREATE TABLE distribution_probe.child (id uuid, community_id uuid NOT NULL, good_id uuid NOT NULL, PRIMARY KEY (id, community_id),
        FOREIGN KEY (good_id, community_id) REFERENCES distribution_probe.good (id, community_id));
      CREATE TABLE distribution_probe.no_column (id uuid PRIMARY KEY);
      CREATE TABLE distribution_probe.nullable (id uuid, community_id uuid, PRIMARY KEY (id));
      CREATE TABLE distribution_probe.narrow_key (id uuid PRIMARY KEY, community_id uuid NOT NULL);
      CREATE TABLE distribution_probe.narrow_unique (id uuid, community_id uuid NOT NULL, code text, PRIMARY KEY (id, community_id));
      CREATE UNIQUE INDEX narrow_unique_code ON distribution_probe.narrow_unique (code);
      CREATE TABLE distribution_probe.narrow_reference (id uuid, community_id uuid NOT NULL, good_id uuid, PRIMARY KEY (id, community_id));
      ALTER TABLE distribution_probe.good ADD CONSTRAINT good_id_alone UNIQUE (id);
      ALTER TABLE distribution_probe.narrow_reference ADD CONSTRAINT narrow_reference_good FOREIGN KEY (good_id) REFERENCES distribution_probe.good (id);
      CREATE TABLE distribution_probe.no_key (community_id uuid NOT NULL);
      ALTER TABLE distribution_probe.tenants ADD COLUMN good_id uuid, ADD COLUMN community_id uuid,
        ADD CONSTRAINT tenants_good FOREIGN KEY (good_id, community_id) REFERENCES distribution_probe.good (id, community_id);
      CREATE TABLE distribution_probe.readings (ts timestamptz NOT NULL, community_id uuid NOT NULL, PRIMARY KEY (ts, community_id)) PARTITION BY RANGE (ts);
      CREATE TABLE distribution_probe.readings_2030 PARTITION OF distribution_probe.readings FOR VALUES FROM ('2030-01-01') TO ('2031-01-01');
    `);
    try {
      const findings = await distributionFindings(db!, 'distribution_probe', new Set(['tenants']), new Set());
      expect(findings).toEqual([
        { table: 'good', problem: 'unique key good_id_alone without community_id' },
        { table: 'narrow_key', problem: 'unique key narrow_key_pkey without community_id' },
        { table: 'narrow_reference', problem: 'foreign key narrow_reference_good to good without community_id on both sides' },
        { table: 'narrow_unique', problem: 'unique key narrow_unique_code without community_id' },
        { table: 'no_column', problem: 'no community_id column' },
        { table: 'no_column', problem: 'unique key no_column_pkey without community_id' },
        { table: 'no_key', problem: 'no primary key' },
        { table: 'nullable', problem: 'community_id may be null' },
        { table: 'nullable', problem: 'unique key nullable_pkey without community_id' },
        { table: 'tenants', problem: 'global table references community table good (tenants_good)' },
      ]);
    } finally {
      await db!.exec('DROP SCHEMA distribution_probe CASCADE');
    }
  });
});
