import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedTestDatabase, postgresUrl, type TestDatabase } from '../support/stores.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { openBroadcast, type Broadcast } from '../../src/platform/store/broadcast.js';
import { DEVICE_CHANGES_CHANNEL, DeviceChanges, DeviceDirectory } from '../../src/ingest/index.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Two processes on one PostgreSQL, each with its own device cache (the directory keeps an entry
 * 10 s): a device one process changes is forgotten by the other at once, through the broadcast,
 * not when its entry expires.
 */
describe.skipIf(!postgresUrl)('device changes told across processes (PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  let deviceId: string;
  const broadcasts: Broadcast[] = [];
  const logged: string[] = [];
  const processes: { directory: DeviceDirectory; changes: DeviceChanges; forgotten: string[] }[] = [];

  beforeAll(async () => {
    database = await createMigratedTestDatabase('postgres');
    db = await openDb(database.config);
    await migrate(db);
    ({ deviceId } = await insertCommunityWithDevice(db));
    for (let i = 0; i < 2; i++) {
      const broadcast = await openBroadcast((database.config as { url: string }).url, db, (line) => logged.push(line));
      broadcasts.push(broadcast);
      // The device's keys are not the subject here: it has none.
      const directory = new DeviceDirectory(db, async () => undefined);
      const forgotten: string[] = [];
      const changes = await DeviceChanges.connect(broadcast, (id) => {
        forgotten.push(id);
        directory.invalidate(id);
      }, (line) => logged.push(line));
      processes.push({ directory, changes, forgotten });
    }
  });
  afterAll(async () => {
    for (const broadcast of broadcasts) await broadcast.close();
    await db?.close();
    await database?.drop();
  });

  it('makes the other process read a disabled device again at once, and not its own', async () => {
    const [a, b] = processes as [typeof processes[number], typeof processes[number]];
    expect((await a.directory.get(deviceId))?.status).toBe('active');
    expect((await b.directory.get(deviceId))?.status).toBe('active');
    // Process b disables the device (as its route does) and forgets it itself.
    await db.query(`UPDATE devices SET status = 'disabled' WHERE id = $1`, [deviceId]);
    b.directory.invalidate(deviceId);
    expect((await b.directory.get(deviceId))?.status).toBe('disabled');
    // Without a word from b, a would answer from its cache for up to 10 s.
    expect((await a.directory.get(deviceId))?.status).toBe('active');
    b.changes.announce(deviceId);
    const deadline = Date.now() + 5_000;
    while (a.forgotten.length === 0 && Date.now() < deadline) await sleep(10);
    expect(a.forgotten).toEqual([deviceId]);
    expect((await a.directory.get(deviceId))?.status).toBe('disabled');
    await sleep(200);
    expect(b.forgotten).toEqual([]);
  });

  it('ignores what is not a change of a device, and takes the next one', async () => {
    const [a, b] = processes as [typeof processes[number], typeof processes[number]];
    a.forgotten.length = 0;
    for (const payload of ['', 'no-space', 'someone ../../etc', `someone ${'x'.repeat(65)}`, 'someone a b']) {
      await db.query('SELECT pg_notify($1, $2)', [DEVICE_CHANGES_CHANNEL, payload]);
    }
    b.changes.announce(deviceId);
    const deadline = Date.now() + 5_000;
    while (a.forgotten.length === 0 && Date.now() < deadline) await sleep(10);
    await sleep(200);
    expect(a.forgotten).toEqual([deviceId]);
    expect(logged).toEqual([]);
  });
});
