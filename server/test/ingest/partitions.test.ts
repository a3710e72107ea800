import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { maintainReadingPartitions } from '../../src/ingest/partitions.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { loadMigrations, migrate } from '../../src/platform/store/migrate.js';
import { createMigratedTestDatabase, createTestDatabase, storeKinds, type TestDatabase } from '../support/stores.js';

/** Readings partitioned by month (issue 22): the migration's conversion and the job's maintenance. */

const NOW = Date.parse('2026-12-03T10:00:00Z');
const community = randomUUID();

async function insertReadings(db: Db, stamps: readonly string[]): Promise<void> {
  await db.query(
    `INSERT INTO readings (device_id, quantity, ts, value, community_id)
     SELECT 'dev-1', 'energy.import', s, ordinality, $2 FROM unnest($1::timestamptz[]) WITH ORDINALITY AS u(s, ordinality)`,
    [stamps, community]);
}

/** Where each reading is stored: its partition's name, by timestamp. */
async function placement(db: Db): Promise<Record<string, string>> {
  const rows = await db.query<{ ts: Date; part: string }>('SELECT ts, tableoid::regclass::text AS part FROM readings ORDER BY ts');
  return Object.fromEntries(rows.map((r) => [r.ts.toISOString(), r.part]));
}

const partitions = async (db: Db) => (await db.query<{ name: string }>(
  `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass ORDER BY 1`)).map((r) => r.name);

describe.each(storeKinds)('readings partitions on %s', (kind) => {
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  afterEach(async () => {
    await db?.close();
    await database?.drop();
    db = undefined;
    database = undefined;
  });

  async function migrated(): Promise<Db> {
    database = await createMigratedTestDatabase(kind);
    db = await openDb(database.config);
    await migrate(db);
    return db;
  }

  it('the migration keeps every existing reading, and the first maintenance moves each month into its partition', async () => {
    database = await createTestDatabase(kind);
    db = await openDb(database.config);
    const all = loadMigrations();
    await migrate(db, all.filter((m) => m.version < '0161'));
    const stamps = ['2026-09-15T00:00:00.000Z', '2026-11-30T23:59:59.000Z', '2026-12-01T00:00:00.000Z', '2026-12-03T09:00:00.000Z'];
    await insertReadings(db, stamps);
    await migrate(db, all);

    expect(Object.values(await placement(db))).toEqual(['readings_default', 'readings_default', 'readings_default', 'readings_default']);
    const report = await maintainReadingPartitions(db, { nowMs: NOW, retentionDays: 366 });
    expect(report.created).toEqual(['readings_p202609', 'readings_p202611', 'readings_p202612', 'readings_p202701', 'readings_p202702']);
    expect(report.moved).toBe(4);
    expect(await placement(db)).toEqual({
      '2026-09-15T00:00:00.000Z': 'readings_p202609',
      '2026-11-30T23:59:59.000Z': 'readings_p202611',
      '2026-12-01T00:00:00.000Z': 'readings_p202612',
      '2026-12-03T09:00:00.000Z': 'readings_p202612',
    });
    // Values came across unchanged, and the key still makes a repeated reading a no-op.
    const values = await db.query<{ value: number }>('SELECT value FROM readings ORDER BY ts');
    expect(values.map((v) => v.value)).toEqual([1, 2, 3, 4]);
    const repeated = await db.query(`INSERT INTO readings (device_id, quantity, ts, value, community_id) VALUES ('dev-1', 'energy.import', '2026-12-03T09:00:00Z', 7, $1) ON CONFLICT DO NOTHING RETURNING 1`, [community]);
    expect(repeated).toEqual([]);
  }, 300_000);

  it('creates this month and two ahead, so a reading arriving now goes to its month; a second run changes nothing', async () => {
    const store = await migrated();
    const first = await maintainReadingPartitions(store, { nowMs: NOW, retentionDays: 90 });
    expect(first.created).toEqual(['readings_p202612', 'readings_p202701', 'readings_p202702']);
    await insertReadings(store, ['2026-12-03T09:45:00.000Z', '2027-02-28T23:59:59.000Z']);
    expect(await placement(store)).toEqual({ '2026-12-03T09:45:00.000Z': 'readings_p202612', '2027-02-28T23:59:59.000Z': 'readings_p202702' });
    expect(await maintainReadingPartitions(store, { nowMs: NOW, retentionDays: 90 })).toEqual({ created: [], moved: 0, dropped: [], removed: 0 });
  });

  it('drops a month once the retention has passed for all of it, and the default partition\'s readings before the cutoff; keeps the rest', async () => {
    const store = await migrated();
    await maintainReadingPartitions(store, { nowMs: Date.parse('2026-08-10T00:00:00Z'), retentionDays: 90 });
    await insertReadings(store, ['2026-08-10T00:00:00.000Z', '2026-09-20T00:00:00.000Z', '2026-12-03T08:00:00.000Z', '2025-01-01T00:00:00.000Z']);
    expect((await placement(store))['2025-01-01T00:00:00.000Z']).toBe('readings_default');

    // 90 days before NOW is 2026-09-04T10:00Z: August is gone, September is kept (part of it is still inside).
    const report = await maintainReadingPartitions(store, { nowMs: NOW, retentionDays: 90 });
    expect(report.dropped).toEqual(['readings_p202608']);
    expect(report.removed).toBe(2);
    expect(await placement(store)).toEqual({ '2026-09-20T00:00:00.000Z': 'readings_p202609', '2026-12-03T08:00:00.000Z': 'readings_p202612' });
    expect(await partitions(store)).not.toContain('readings_p202608');
    // A longer retention set meanwhile keeps what is left.
    expect((await maintainReadingPartitions(store, { nowMs: NOW, retentionDays: 400 })).dropped).toEqual([]);
  });

  it('a reading far ahead waits in the default partition and moves to its month when that comes within reach; one far back is removed', async () => {
    const store = await migrated();
    await maintainReadingPartitions(store, { nowMs: NOW, retentionDays: 90 });
    await insertReadings(store, ['2031-05-01T12:00:00.000Z', '2020-01-01T00:00:00.000Z']);
    expect(await placement(store)).toEqual({ '2020-01-01T00:00:00.000Z': 'readings_default', '2031-05-01T12:00:00.000Z': 'readings_default' });

    const now = await maintainReadingPartitions(store, { nowMs: NOW, retentionDays: 90 });
    expect(now.created).toEqual([]);
    expect(now.removed).toBe(1);
    expect(await placement(store)).toEqual({ '2031-05-01T12:00:00.000Z': 'readings_default' });

    const later = await maintainReadingPartitions(store, { nowMs: Date.parse('2031-04-10T00:00:00Z'), retentionDays: 90 });
    expect(later.created).toContain('readings_p203105');
    expect(later.moved).toBe(1);
    expect(await placement(store)).toEqual({ '2031-05-01T12:00:00.000Z': 'readings_p203105' });
  });

  it('a retention that makes no sense changes nothing', async () => {
    const store = await migrated();
    await maintainReadingPartitions(store, { nowMs: NOW, retentionDays: 90 });
    await insertReadings(store, ['2026-12-03T08:00:00.000Z']);
    await expect(maintainReadingPartitions(store, { nowMs: NOW, retentionDays: 0 })).rejects.toThrow(/retention/);
    await expect(maintainReadingPartitions(store, { nowMs: Number.NaN, retentionDays: 90 })).rejects.toThrow(/not a time/);
    expect(await placement(store)).toEqual({ '2026-12-03T08:00:00.000Z': 'readings_p202612' });
  });
});
