import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/stores.js';
import { freePort, runGridshare, waitForHealth, type RunningGridshare } from '../support/process.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';

const mqttUrl = process.env.TEST_MQTT_URL;

/**
 * The production path through a crash: devices publish to Mosquitto, which holds every message
 * until Gridshare acknowledges it after the commit. Gridshare is killed with SIGKILL in the
 * middle of a stream (messages in flight, some committed and not yet acknowledged) and started
 * again under the same name: it resumes its MQTT sessions, gets what it had not acknowledged,
 * and in the end every published reading is stored exactly once.
 */
describe.skipIf(!mqttUrl || !postgresUrl)('external-broker ingestion across kill -9 (Mosquitto + PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  const dataDir = mkdtempSync(join(tmpdir(), 'gridshare-ext-durability-'));
  const group = `crash${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    db = await openDb(database.config);
  });
  afterAll(async () => {
    await db?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(httpPort: number): Promise<RunningGridshare> {
    const running = runGridshare(['start', '--host', '127.0.0.1', '--port', String(httpPort), '--data', dataDir],
      { DATABASE_URL: (database.config as { url: string }).url, MQTT_URL: mqttUrl!, MQTT_GROUP: group, MQTT_INSTANCE: 'crash-test' });
    await waitForHealth(running);
    return running;
  }

  it('stores every published reading exactly once although Gridshare is killed mid-stream', async () => {
    const httpPort = await freePort();
    let running = await start(httpPort);
    const fixture = await insertCommunityWithDevice(db, `gs-crash-${randomBytes(6).toString('hex')}`);
    const device = await mqtt.connectAsync(mqttUrl!, { clientId: fixture.deviceId, protocolVersion: 5, reconnectPeriod: 0 });
    const base = Date.now() - 2 * 3_600_000;
    const total = 400;
    const publish = (i: number) => device.publishAsync(`devices/${fixture.deviceId}/messages/events`, JSON.stringify({
      readings: [{ ts: new Date(base + i * 10_000).toISOString(), quantity: 'energy.import', value: 7_000_000 + i * 4, unit: 'Wh' }],
    }), { qos: 1 });
    const stored = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE device_id = $1', [fixture.deviceId]))[0]!.n;

    // Half the stream (the broker acknowledges the device at once); kill Gridshare as soon as a
    // quarter is stored, with the rest in flight or queued for its sessions.
    const firstHalf = Promise.all(Array.from({ length: total / 2 }, (_, i) => publish(i)));
    await expect.poll(stored, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(total / 4);
    running.child.kill('SIGKILL');
    await running.exited;
    await firstHalf;
    // The other half arrives while Gridshare is down.
    await Promise.all(Array.from({ length: total / 2 }, (_, i) => publish(total / 2 + i)));
    expect(await stored()).toBeLessThanOrEqual(total / 2);

    running = await start(httpPort);
    await expect.poll(stored, { timeout: 30_000 }).toBe(total);
    const values = await db.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1 ORDER BY ts', [fixture.deviceId]);
    expect(values.map((v) => v.value)).toEqual(Array.from({ length: total }, (_, i) => 7_000_000 + i * 4));
    // Messages stored before the kill but not yet acknowledged came again and were counted as duplicates, never stored twice.
    const [state] = await db.query<{ readings_total: number }>('SELECT readings_total FROM device_state WHERE device_id = $1', [fixture.deviceId]);
    expect(state!.readings_total).toBe(total);
    await device.endAsync();
    running.child.kill('SIGTERM');
    await running.exited;
  }, 120_000);
});
