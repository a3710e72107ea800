import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createMigratedTestDatabase, postgresUrl, type TestDatabase } from '../support/stores.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { processDirty } from '../../src/intervals/service.js';
import { ReadingWriter } from '../../src/ingest/writer.js';
import { markingEvents } from '../support/events.js';

const MARK = `INSERT INTO interval_dirty (metering_point_id, start, community_id) VALUES ($1, $2, $3)
  ON CONFLICT (metering_point_id, start, community_id) DO UPDATE SET version = nextval('interval_dirty_version') RETURNING version`;

/**
 * On a PostgreSQL server an ingestion transaction draws its mark's version when it writes the
 * mark, not when it commits: one that draws a lower version and commits while the interval job
 * is between reading the marks and clearing them must keep its mark. PGlite runs one
 * transaction at a time, so this can only happen (and be tested) on a server.
 */
describe.skipIf(!postgresUrl)('interval marks on a PostgreSQL server', () => {
  let database: TestDatabase;
  let db: Db;
  const clients: pg.Client[] = [];
  beforeAll(async () => {
    database = await createMigratedTestDatabase('postgres');
    db = await openDb(database.config);
    await migrate(db);
  });
  afterAll(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
    await db?.close();
    await database?.drop();
  });

  async function client(): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: (database.config as { url: string }).url });
    await c.connect();
    clients.push(c);
    return c;
  }

  it('keeps a mark whose transaction drew an older version and committed after the marks were read', async () => {
    const fixture = await insertCommunityWithDevice(db);
    const source = { deviceId: fixture.deviceId, communityId: fixture.communityId, meteringPointId: fixture.meteringPointId };
    const quarter1 = new Date('2026-11-20T10:00:00Z');
    const quarter2 = new Date('2026-11-20T10:15:00Z');

    // A late ingestion transaction: its reading and mark (version v1) are written, not committed.
    const late = await client();
    await late.query('BEGIN');
    await late.query(`INSERT INTO readings (device_id, quantity, ts, value, community_id, metering_point_id) VALUES ($1, 'energy.import', $2, 1000, $3, $4)`,
      [source.deviceId, quarter1, source.communityId, source.meteringPointId]);
    const v1 = Number((await late.query<{ version: string }>(MARK, [source.meteringPointId, quarter1, source.communityId])).rows[0]!.version);

    // Meanwhile the writer commits a later reading: its mark gets a higher version.
    const writer = new ReadingWriter(db, markingEvents());
    await writer.write(source, [{ ts: '2026-11-20T10:20:00Z', quantity: 'energy.import', value: 1100, unit: 'Wh' }]);
    await writer.close();
    const [{ version: v2 }] = await db.query<{ version: number }>('SELECT version FROM interval_dirty WHERE start = $1 AND metering_point_id = $2', [quarter2, source.meteringPointId]) as [{ version: number }];
    expect(v2).toBeGreaterThan(v1);

    // Hold the job after it has read the marks: it will wait for this lock on the interval it writes.
    await db.query(`INSERT INTO intervals (metering_point_id, start, community_id, quality) VALUES ($1, $2, $3, 'missing')`,
      [source.meteringPointId, quarter2, source.communityId]);
    const blocker = await client();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM intervals WHERE metering_point_id = $1 AND start = $2 FOR UPDATE', [source.meteringPointId, quarter2]);
    const pass = processDirty(db);
    await expect.poll(async () => (await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`))[0]!.n, { timeout: 10_000 }).toBe(1);

    // The late transaction commits now, then the job goes on and clears what it read.
    await late.query('COMMIT');
    await blocker.query('COMMIT');
    await pass;
    const marks = await db.query<{ start: Date; version: number }>('SELECT start, version FROM interval_dirty WHERE metering_point_id = $1', [source.meteringPointId]);
    expect(marks.map((m) => [m.start.toISOString(), m.version])).toEqual([[quarter1.toISOString(), v1]]);

    // The next pass computes the late reading's quarter hour: 1000 Wh at 10:00, 1100 at 10:20.
    await processDirty(db);
    const intervals = await db.query<{ start: Date; import_wh: number | null }>('SELECT start, import_wh FROM intervals WHERE metering_point_id = $1 ORDER BY start', [source.meteringPointId]);
    expect(intervals.map((i) => [i.start.toISOString(), i.import_wh])).toEqual([[quarter1.toISOString(), 75], [quarter2.toISOString(), null]]);
    expect(await db.query('SELECT 1 FROM interval_dirty WHERE metering_point_id = $1', [source.meteringPointId])).toEqual([]);
  });
});
