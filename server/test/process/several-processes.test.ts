import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { createMigratedTestDatabase, postgresUrl, type TestDatabase } from '../support/stores.js';
import { adminToken, callJson, freePort, runGridshare, waitForHealth, type RunningGridshare } from '../support/process.js';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { parseConnectionString } from '../../src/provisioning/connection-string.js';
import { deviceResource, signSasToken } from '../../src/provisioning/sas.js';
import { MINUTE_MS, QUARTER_HOUR_MS } from '../../src/kernel/time.js';

const mqttUrl = process.env.TEST_MQTT_URL;
/** Short leases, so work a killed process held is taken over within seconds (production: a minute). */
const LEASE_MS = '2000';

/** The `event: reading` messages of a server-sent event stream, as they arrive. */
async function readLiveStream(response: Response, seen: { deviceId: string; ts: string; values: Record<string, number> }[]): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = /^event: reading\ndata: (.*)$/m.exec(block);
      if (data) seen.push(JSON.parse(data[1]!));
    }
  }
}

/**
 * Two real `gridshare start` processes on one new PostgreSQL database and one Mosquitto: they
 * share the devices' messages (MQTT 5 shared subscriptions) and the background jobs. Process A
 * is stopped inside the interval job holding its lease on a metering point (a test-only hook) and
 * killed with SIGKILL; process B computes that point's quarter hours once A's lease has run out —
 * every one exactly once. A browser-less live stream open on A sees the readings B ingested.
 */
describe.skipIf(!mqttUrl || !postgresUrl)('several Gridshare processes on one PostgreSQL and one broker', () => {
  let database: TestDatabase;
  let db: Db;
  const dataDir = mkdtempSync(join(tmpdir(), 'gridshare-several-'));
  const group = `several${randomBytes(4).toString('hex')}`;
  const masterKey = randomBytes(32).toString('base64');
  const running: RunningGridshare[] = [];
  beforeAll(async () => {
    database = await createMigratedTestDatabase('postgres');
    db = await openDb(database.config);
    // Migrated once here, so both processes start at the same time (each would wait for the other's migration lock otherwise).
    await migrate(db);
  });
  afterAll(async () => {
    for (const process of running) if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill('SIGKILL');
    await Promise.all(running.map((process) => process.exited));
    await db?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(name: string, httpPort: number, publicUrl: string, env: Record<string, string> = {}): Promise<RunningGridshare & { holder: string }> {
    // One installation: the same database, broker group, public address and master key.
    const process = runGridshare(['start', '--host', '127.0.0.1', '--port', String(httpPort), '--data', join(dataDir, name), '--public-url', publicUrl], {
      DATABASE_URL: (database.config as { url: string }).url, MQTT_URL: mqttUrl!, MQTT_GROUP: group, MQTT_INSTANCE: `${group}-${name}`,
      GRIDSHARE_SECRET_KEY: masterKey, GRIDSHARE_JOB_LEASE_MS: LEASE_MS, ...env,
    });
    running.push(process);
    await waitForHealth(process, 240_000);
    // The banner, with the name its job leases are held under, follows the first answer to /health.
    await expect.poll(() => process.output(), { timeout: 30_000 }).toMatch(/leases held as \S+/);
    return { ...process, holder: /leases held as (\S+)/.exec(process.output())![1]! };
  }

  it('stores each reading once, finishes a killed process\'s job exactly once, and streams live readings across processes', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const publicUrl = `http://127.0.0.1:${portA}`;
    const hostName = new URL(publicUrl).host;
    // Both at once on the new database: one of them creates the first admin.
    const [a, b] = await Promise.all([start('a', portA, publicUrl, { GRIDSHARE_TEST_STALL_JOB: 'intervals' }), start('b', portB, publicUrl)]);
    const first = [a, b].filter((process) => /one-time password: \S+/.test(process.output()));
    expect(first).toHaveLength(1);
    const token = await adminToken(first[0]!, 'several-processes-admin');

    // A community with two sites, each with a reader provisioned by the manager.
    const community = (await callJson(a.baseUrl, 'POST', '/api/v1/communities', { token, body: { name: 'Two Process Street', timeZone: 'Europe/Vienna', currency: 'EUR' } })).body.id as string;
    const batch = await callJson(a.baseUrl, 'POST', `/api/v1/communities/${community}/device-batches`, { token, body: { count: 2 } });
    expect(batch.status, JSON.stringify(batch.body)).toBe(201);
    const [mqttDevice, httpDevice] = batch.body.deviceIds as string[];
    const [user] = await db.query<{ id: string }>(`INSERT INTO users (email, display_name, password_hash) VALUES ($1, 'Neighbour', 'x') RETURNING id`, [`${group}@example.org`]);
    const [member] = await db.query<{ id: string }>(
      `INSERT INTO members (community_id, user_id, role, state, display_name) VALUES ($1, $2, 'member', 'active', 'Neighbour') RETURNING id`, [community, user!.id],
    );
    const points: string[] = [];
    for (const [i, device] of [mqttDevice!, httpDevice!].entries()) {
      const [point] = await db.query<{ id: string }>(
        `INSERT INTO metering_points (community_id, member_id, name, grid_connection_id, role) VALUES ($1, $2, $3, $4, 'consumer') RETURNING id`,
        [community, member!.id, `Site ${i}`, `AT${randomBytes(10).toString('hex').toUpperCase()}`],
      );
      await db.query('UPDATE devices SET metering_point_id = $1 WHERE id = $2', [point!.id, device]);
      points.push(point!.id);
    }
    const [mqttPoint, httpPoint] = points as [string, string];

    // A minute register: 100 Wh a minute, so every whole quarter hour is 1,500 Wh.
    const start0 = Math.floor((Date.now() - 6 * 3_600_000) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    const minute = (i: number) => new Date(start0 + i * MINUTE_MS).toISOString();
    const register = (i: number) => ({ ts: minute(i), quantity: 'energy.import', value: 4_000_000 + i * 100, unit: 'Wh' });
    const device = await mqtt.connectAsync(mqttUrl!, { clientId: `${mqttDevice}`, protocolVersion: 5, reconnectPeriod: 0 });
    const publish = (i: number) => device.publishAsync(`devices/${mqttDevice}/messages/events`, JSON.stringify({ readings: [register(i)] }), { qos: 1 });

    // A must be the one to take the site: until it does, the test holds the site's lease in A's name
    // (A takes its own lease again; B finds the site leased and leaves it).
    await db.query(`INSERT INTO job_leases (job, unit, holder, expires_at) VALUES ('intervals', $1, $2, now() + interval '10 minutes')`, [mqttPoint, a.holder]);
    // The first hour: A's interval job leases the site and stops there, holding it (renewed) until it is killed.
    for (let i = 0; i < 60; i++) await publish(i);
    const heldByA = async () => (await db.query<{ holder: string }>(
      `SELECT holder FROM job_leases WHERE job = 'intervals' AND unit = $1 AND expires_at > now()`, [mqttPoint],
    )).map((row) => row.holder);
    await expect.poll(() => a.output(), { timeout: 30_000 }).toMatch(/GRIDSHARE_TEST_STALL_JOB: intervals stopped holding 1 units/);
    expect(await heldByA()).toEqual([a.holder]);
    // The first hour is stored before the live view opens; a late live event of it is still tolerated below.
    await expect.poll(async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE device_id = $1', [mqttDevice]))[0]!.n, { timeout: 30_000 }).toBe(60);
    // A browser-less live view on A, as the web app opens it.
    const live: { deviceId: string; ts: string; values: Record<string, number> }[] = [];
    const stream = await fetch(`${a.baseUrl}/api/v1/communities/${community}/live`, { headers: { authorization: `Bearer ${token}` } });
    expect(stream.status).toBe(200);
    const reading = readLiveStream(stream, live).catch(() => undefined);

    // The second hour: the broker shares the messages between A and B.
    for (let i = 60; i <= 120; i++) await publish(i);
    // And a device that sends over HTTP to B: B ingests it, A's live view shows it.
    const { sharedAccessKey } = parseConnectionString((await callJson(b.baseUrl, 'GET', `/api/v1/devices/${httpDevice}/config.json`, { token })).body.connectionString);
    const sas = signSasToken({ resource: deviceResource(hostName, httpDevice!), key: sharedAccessKey, expiresAt: new Date(Date.now() + 3_600_000) });
    const posted = await fetch(`${b.baseUrl}/api/v1/devices/${httpDevice}/readings`, {
      method: 'POST', headers: { authorization: sas, 'content-type': 'application/json' },
      body: JSON.stringify({ readings: Array.from({ length: 31 }, (_, i) => register(i)) }),
    });
    expect(posted.status, await posted.clone().text()).toBe(200);

    const storedOf = async (deviceId: string) => (await db.query<{ n: number; distinct: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT ts)::int AS distinct FROM readings WHERE device_id = $1', [deviceId],
    ))[0];
    await expect.poll(() => storedOf(mqttDevice!), { timeout: 30_000 }).toEqual({ n: 121, distinct: 121 });
    expect(await storedOf(httpDevice!)).toEqual({ n: 31, distinct: 31 });
    // Every second-hour message reached A's stream, half of them ingested by B; and B's HTTP reading.
    const liveOf = (deviceId: string) => new Set(live.filter((event) => event.deviceId === deviceId).map((event) => event.ts));
    const secondHourLive = () => [...liveOf(mqttDevice!)].filter((ts) => ts >= minute(60)).sort();
    await expect.poll(() => secondHourLive().length, { timeout: 30_000 }).toBe(61);
    expect(secondHourLive()).toEqual(Array.from({ length: 61 }, (_, i) => minute(60 + i)));
    await expect.poll(() => [...liveOf(httpDevice!)], { timeout: 30_000 }).toEqual([minute(30)]);
    expect(live.find((event) => event.deviceId === httpDevice)!.values).toEqual({ 'energy.import': 4_000_000 + 30 * 100 });

    const quarters = async (pointId: string) => (await db.query<{ start: Date; import_wh: number | null; quality: string }>(
      'SELECT start, import_wh, quality FROM intervals WHERE metering_point_id = $1 ORDER BY start', [pointId],
    )).map((row) => [(row.start.getTime() - start0) / QUARTER_HOUR_MS, row.import_wh, row.quality]);
    // B works on the site A does not hold, while A is stuck.
    await expect.poll(() => quarters(httpPoint), { timeout: 30_000 }).toEqual([[0, 1_500, 'measured'], [1, 1_500, 'measured']]);
    expect(await quarters(mqttPoint)).toEqual([]);
    // A's lease lives on (renewed) while A is stuck: B leaves the site alone.
    expect(await heldByA()).toEqual([a.holder]);

    // A dies in the middle of the job; B takes the site over once A's lease has run out.
    a.child.kill('SIGKILL');
    await a.exited;
    const expected = Array.from({ length: 8 }, (_, q) => [q, 1_500, 'measured']);
    await expect.poll(() => quarters(mqttPoint), { timeout: 30_000, interval: 250 }).toEqual(expected);
    // Nothing left to do or held, nothing done twice: each quarter hour once, every reading once.
    await expect.poll(async () => (await db.query(`SELECT 1 FROM job_leases WHERE job = 'intervals'`)).length, { timeout: 10_000 }).toBe(0);
    expect(await db.query('SELECT 1 FROM interval_dirty WHERE metering_point_id = ANY($1::uuid[])', [points])).toEqual([]);
    expect(await quarters(mqttPoint)).toEqual(expected);
    const [state] = await db.query<{ readings_total: number }>('SELECT readings_total FROM device_state WHERE device_id = $1', [mqttDevice]);
    expect(state!.readings_total).toBe(121);
    expect(b.child.exitCode, b.output()).toBeNull();

    await device.endAsync();
    await stream.body?.cancel().catch(() => undefined);
    await reading;
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  }, 400_000);
});
