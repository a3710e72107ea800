import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createMigratedTestDatabase, postgresUrl, type TestDatabase } from '../support/stores.js';
import { adminToken, callJson, freePort, runGridshare, waitForHealth } from '../support/process.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { parseConnectionString } from '../../src/provisioning/connection-string.js';
import { deviceResource, signSasToken } from '../../src/provisioning/sas.js';

/**
 * The PostgreSQL server drops Gridshare's connections (a failover, an operator's
 * pg_terminate_backend) while devices stream readings in: the process stays up, the requests
 * caught in the middle fail without an acknowledgement, ingest resumes by itself, and every
 * acknowledged reading is stored.
 */
describe.skipIf(!postgresUrl)('losing the database connections under load (PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  const dataDir = mkdtempSync(join(tmpdir(), 'gridshare-db-loss-'));
  beforeAll(async () => {
    database = await createMigratedTestDatabase('postgres');
    db = await openDb(database.config);
    await migrate(db);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('survives pg_terminate_backend of every connection while readings stream in, and loses nothing acknowledged', async () => {
    const url = (database.config as { url: string }).url;
    const httpPort = await freePort();
    const running = runGridshare(['start', '--host', '127.0.0.1', '--port', String(httpPort), '--mqtt-port', String(await freePort()), '--data', dataDir],
      { DATABASE_URL: url });
    await waitForHealth(running);
    const hostName = `127.0.0.1:${httpPort}`;
    const base = `http://${hostName}`;
    // Devices as a manager provisions them (their keys are sealed in the database).
    const token = await adminToken(running, 'database-loss-admin');
    const community = (await callJson(base, 'POST', '/api/v1/communities', { token, body: { name: 'Loss Street', timeZone: 'Europe/Vienna', currency: 'EUR' } })).body.id as string;
    const batch = await callJson(base, 'POST', `/api/v1/communities/${community}/device-batches`, { token, body: { count: 4 } });
    expect(batch.status, JSON.stringify(batch.body)).toBe(201);
    const devices = await Promise.all((batch.body.deviceIds as string[]).map(async (id) => {
      const { sharedAccessKey } = parseConnectionString((await callJson(base, 'GET', `/api/v1/devices/${id}/config.json`, { token })).body.connectionString);
      return { id, sas: signSasToken({ resource: deviceResource(hostName, id), key: sharedAccessKey, expiresAt: new Date(Date.now() + 3_600_000) }) };
    }));

    const acknowledged = new Map<string, number[]>(devices.map((d) => [d.id, []]));
    const failures: string[] = [];
    let lastKillAt = 0;
    let acknowledgedAfterKills = 0;
    let stop = false;
    const since = Date.now() - 6 * 3_600_000;
    const stream = devices.map(async (device, d) => {
      for (let message = 0; !stop; message++) {
        const readings = Array.from({ length: 20 }, (_, k) => ({
          ts: new Date(since + (message * 20 + k) * 1_000 + d).toISOString(), quantity: 'energy.import', value: 1_000 + message * 20 + k, unit: 'Wh',
        }));
        const response = await fetch(`http://${hostName}/api/v1/devices/${device.id}/readings`, {
          method: 'POST', headers: { authorization: device.sas, 'content-type': 'application/json' }, body: JSON.stringify({ readings }),
        }).catch((error: Error) => ({ status: 0, text: async () => error.message }));
        if (response.status === 200) {
          acknowledged.get(device.id)!.push(...readings.map((r) => r.value));
          if (lastKillAt > 0 && Date.now() > lastKillAt) acknowledgedAfterKills++;
        } else {
          failures.push(`${response.status} ${await response.text()}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    });

    const admin = new pg.Client({ connectionString: postgresUrl });
    await admin.connect();
    const databaseName = new URL(url).pathname.slice(1);
    let terminated = 0;
    for (let round = 0; round < 4; round++) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      const rows = await admin.query('SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [databaseName]);
      terminated += rows.rows.filter((r: { done: boolean }) => r.done).length;
      lastKillAt = Date.now();
    }
    await admin.end();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(running.child.exitCode, running.output()).toBeNull();
    // Ingest resumes by itself: acknowledgements keep coming after the last termination.
    await expect.poll(() => acknowledgedAfterKills, { timeout: 20_000 }).toBeGreaterThanOrEqual(20);
    stop = true;
    await Promise.all(stream);

    expect(terminated).toBeGreaterThan(4);
    expect(running.child.exitCode, running.output()).toBeNull();
    expect(running.output()).not.toMatch(/Unhandled 'error' event/);
    expect((await fetch(`http://${hostName}/health`)).status).toBe(200);
    // A request caught by the loss is refused as the database being unavailable, never acknowledged.
    for (const failure of failures) expect(failure).toMatch(/^503 .*"error":"unavailable".*the database is unavailable/);
    for (const device of devices) {
      const values = new Set((await db.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1', [device.id])).map((r) => r.value));
      const lost = acknowledged.get(device.id)!.filter((v) => !values.has(v));
      expect(lost, device.id).toEqual([]);
      expect(acknowledged.get(device.id)!.length).toBeGreaterThan(0);
    }
    running.child.kill('SIGTERM');
    await running.exited;
  }, 120_000);
});
