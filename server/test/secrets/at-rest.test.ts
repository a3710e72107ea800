/**
 * Secrets at rest against the real platform: device and meter keys and connector credentials are sealed with the master key,
 * a dump of the database reveals none of them, plain-text rows from before are sealed at start, a
 * start without the key is refused, and the master key is rotated while devices keep working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db, StoreConfig } from '../../src/platform/store/db.js';
import { openDb } from '../../src/platform/store/db.js';
import { migrate } from '../../src/platform/store/migrate.js';
import { startPlatform } from '../../src/platform/compose.js';
import { environmentKeys, isSealed, keyFile, memoryKeys, MissingMasterKeyError, Secrets, type KeyStore } from '../../src/secrets/index.js';
import { deviceCredentialsStore } from '../../src/provisioning/store.js';
import { meterKeysStore } from '../../src/meters/index.js';
import { generateDeviceKey } from '../../src/provisioning/keys.js';
import { createTestDatabase, postgresUrl, storeKinds, type TestDatabase } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';
import { signSasToken, deviceResource } from '../../src/provisioning/sas.js';

/** Every row of every table as text: what a dump of the database holds. */
async function dumpRows(db: Db): Promise<string> {
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`);
  let dump = '';
  for (const { table_name: table } of tables) {
    const rows = await db.query<{ text: string | null }>(`SELECT string_agg(t::text, E'\\n') AS text FROM "${table}" t`);
    dump += `${table}\n${rows[0]?.text ?? ''}\n`;
  }
  return dump;
}

/** How a key could appear in a dump: as written, as hex either case, as base64 or base64url. */
function encodings(secret: Buffer, written?: string): string[] {
  return [...new Set([written, secret.toString('hex'), secret.toString('hex').toUpperCase(), secret.toString('base64'), secret.toString('base64url')]
    .filter((form): form is string => !!form))];
}

function readingFor(device: DeviceCredentials) {
  return {
    body: { readings: [{ ts: new Date(Date.now() - 60_000).toISOString(), quantity: 'power.import', value: 5, unit: 'W' }] },
    headers: { authorization: sasFor(device) },
  };
}

describe.each(storeKinds)('secrets at rest on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-at-rest-'));
  const keyPath = join(dir, 'data', 'secret.key');
  let tp: TestPlatform;
  let w: World;
  let devices: DeviceCredentials[];
  const meterKey = randomBytes(16);
  const meterAuthKey = randomBytes(16);
  const connectorSecret = randomBytes(24);

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { secretKeys: keyFile(keyPath) });
    w = await buildWorld(tp);
    // A device made through the registry has keys once one is rotated.
    expect((await tp.call('POST', `/api/v1/devices/${w.deviceA}/keys/primary/rotate`, { token: w.managerA.token })).status).toBe(200);
    const batch = (await tp.call('GET', `/api/v1/device-batches/${w.batchA}`, { token: w.managerA.token })).body as { deviceIds: string[] };
    devices = await Promise.all([...batch.deviceIds, w.deviceA].map((id) => deviceCredentials(tp, w.managerA.token, id)));
    const put = await tp.call('PUT', `/api/v1/devices/${w.provisionedA}/meter-keys`, {
      token: w.managerA.token, body: { encryptionKey: meterKey.toString('hex'), authenticationKey: meterAuthKey.toString('hex').toUpperCase() },
    });
    expect(put.status).toBe(204);
    // A connector's credential (an API's OAuth2 client secret), disabled: only stored.
    const connector = await tp.call('POST', `/api/v1/communities/${w.communityA}/connectors`, {
      token: w.managerA.token,
      body: {
        kind: 'http-json', name: 'Vendor cloud', enabled: false,
        config: {
          auth: { type: 'oauth2-client-credentials', tokenUrl: 'https://vendor.example/token', clientId: 'gridshare', clientSecret: connectorSecret.toString('base64url') },
          steps: [{ url: 'https://vendor.example/readings' }],
          mapping: { timestamp: '$.t', values: [{ field: '$.v', target: 'meter', quantity: 'power.import', unit: 'W' }] },
        },
      },
    });
    expect(connector.status).toBe(201);
  });
  afterAll(async () => {
    await tp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the key file with mode 0600 at the first start', () => {
    expect(tp.platform.secrets.createdKeys).toBe(true);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyPath, 'utf8')).toContain(tp.platform.secrets.box.keys[0]!.key.toString('base64'));
  });

  it('a database dump alone reveals no device key, meter key, connector credential or master key', async () => {
    const secrets: string[] = [];
    for (const device of devices) {
      for (const key of [device.primaryKey, device.secondaryKey]) secrets.push(...encodings(Buffer.from(key, 'base64'), key));
    }
    secrets.push(...encodings(meterKey), ...encodings(meterAuthKey), ...encodings(connectorSecret));
    for (const master of tp.platform.secrets.box.keys) secrets.push(...encodings(master.key));

    const dumps = [await dumpRows(tp.platform.db)];
    if (kind === 'postgres') {
      const [database] = await tp.platform.db.query<{ name: string }>('SELECT current_database() AS name');
      const url = new URL(postgresUrl!);
      url.pathname = `/${database!.name}`;
      dumps.push(execFileSync('pg_dump', ['--no-owner', url.toString()], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
    }
    for (const dump of dumps) {
      // The dump is real: it holds the devices and their sealed keys, just not the keys.
      expect(dump).toContain(w.provisionedA);
      expect(dump).toMatch(new RegExp(`gs1:${tp.platform.secrets.box.activeKeyId}:`));
      expect(secrets.filter((secret) => dump.includes(secret))).toEqual([]);
    }
    // The keys still work: devices authenticate, and the manager reads the same keys back.
    for (const device of devices.slice(0, 2)) {
      expect((await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, readingFor(device))).status).toBe(200);
    }
  });

  it('a sealed key copied into another device\'s row opens nowhere: that device authenticates with nothing', async () => {
    const [source, target] = devices as [DeviceCredentials, DeviceCredentials];
    const [row] = await tp.platform.db.query<{ primary_key: string }>('SELECT primary_key FROM device_credentials WHERE device_id = $1', [source.deviceId]);
    await tp.platform.db.query('UPDATE device_credentials SET primary_key = $2, secondary_key = $2 WHERE device_id = $1', [target.deviceId, row!.primary_key]);
    expect((await tp.call('PATCH', `/api/v1/devices/${target.deviceId}`, { token: w.managerA.token, body: { status: 'active' } })).status).toBe(200);
    const withSourceKey = { ...target, primaryKey: source.primaryKey };
    expect((await tp.call('POST', `/api/v1/devices/${target.deviceId}/readings`, readingFor(withSourceKey))).status).toBe(401);
    expect((await tp.call('POST', `/api/v1/devices/${target.deviceId}/readings`, readingFor(target))).status).toBe(401);
    // Its manager cannot read the keys either; rotating the master key reports the row and goes on.
    const config = await tp.call('GET', `/api/v1/devices/${target.deviceId}/config.json`, { token: w.managerA.token });
    expect(config.status).toBe(409);
    expect(config.body.message).toMatch(/rotate both keys/);
    const rotation = await tp.call('POST', '/api/v1/secrets/rotate', { token: tp.admin.token });
    expect(rotation.status).toBe(200);
    expect(rotation.body.unreadable).toEqual([`device_credentials.primary_key:${target.deviceId}`, `device_credentials.secondary_key:${target.deviceId}`]);
    expect(rotation.body.retiredKeyIds).toEqual([]);
    // Re-keying the device gives it working keys again.
    for (const slot of ['primary', 'secondary']) {
      expect((await tp.call('POST', `/api/v1/devices/${target.deviceId}/keys/${slot}/rotate`, { token: w.managerA.token })).status).toBe(200);
    }
    devices[1] = await deviceCredentials(tp, w.managerA.token, target.deviceId);
    expect((await tp.call('POST', `/api/v1/devices/${target.deviceId}/readings`, readingFor(devices[1]))).status).toBe(200);
  });

  it('rotates the master key while devices keep sending: everything re-sealed, the old key retired from the key file', async () => {
    const before = tp.platform.secrets.box.activeKeyId;
    // Enough rows for several batches of the rotation.
    const batch = await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 600 } });
    expect(batch.status).toBe(201);
    // Keys of a batch this size are made in a worker thread, which has no master key: sealed before they were stored.
    const stored = await tp.platform.db.query<{ primary_key: string; secondary_key: string }>(
      'SELECT primary_key, secondary_key FROM device_credentials WHERE device_id = ANY($1::text[])', [batch.body.deviceIds]);
    expect(stored).toHaveLength(600);
    expect(stored.filter((row) => !isSealed(row.primary_key) || !isSealed(row.secondary_key))).toEqual([]);
    const device = devices[0]!;
    const statuses: number[] = [];
    let rotating = true;
    const sending = (async () => {
      while (rotating) statuses.push((await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, readingFor(device))).status);
    })();
    const rotation = await tp.call('POST', '/api/v1/secrets/rotate', { token: tp.admin.token });
    rotating = false;
    await sending;
    expect(rotation.status, JSON.stringify(rotation.body)).toBe(200);
    expect(rotation.headers['cache-control']).toBe('no-store');
    const after = rotation.body.activeKeyId as string;
    expect(after).not.toBe(before);
    // The key that sealed the copied row, and the one before the first rotation, go now.
    expect(rotation.body.retiredKeyIds, JSON.stringify(rotation.body)).toHaveLength(2);
    expect(rotation.body.retiredKeyIds).toContain(before);
    expect(rotation.body.unreadable).toEqual([]);
    expect(rotation.body.resealed.device_credentials).toBeGreaterThanOrEqual(603);
    expect(rotation.body.resealed.meter_keys).toBe(1);
    expect(rotation.body.resealed.connector_instances).toBe(1);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);

    const status = (await tp.call('GET', '/api/v1/secrets', { token: tp.admin.token })).body as { tables: { table: string; byKey: Record<string, number> }[]; keyIds: string[] };
    expect(status.keyIds).toEqual([after]);
    // Every sealed secret is under the new key; this world has no flex identity and exported nothing masked, so those tables hold none.
    const empty = new Set(['flex_identities', 'masking_salts']);
    for (const table of status.tables) expect(Object.keys(table.byKey), table.table).toEqual(empty.has(table.table) ? [] : [after]);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(keyFile(keyPath).load()!.map((k) => k.id)).toEqual([after]);
    // Same device keys as before, readable and working.
    const again = await deviceCredentials(tp, w.managerA.token, device.deviceId);
    expect(again.primaryKey).toBe(device.primaryKey);
    expect((await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, readingFor(device))).status).toBe(200);
    expect(await dumpRows(tp.platform.db)).not.toContain(`gs1:${before}:`);
  });

  it('with keys from GRIDSHARE_SECRET_KEY, rotation re-seals under the first and names the keys that may go', async () => {
    const current = tp.platform.secrets.box.keys[0]!;
    const next = randomBytes(32);
    const secrets = await Secrets.open(tp.platform.db, environmentKeys(`${next.toString('base64')},${current.key.toString('hex')}`), [deviceCredentialsStore, meterKeysStore]);
    expect(secrets.sealedAtStart).toBe(0);
    const result = await secrets.rotate(tp.platform.db);
    expect(result.activeKeyId).toBe(secrets.box.activeKeyId);
    expect(result.activeKeyId).not.toBe(current.id);
    expect(result.retiredKeyIds).toEqual([current.id]);
    const status = await secrets.status(tp.platform.db);
    for (const table of status.tables) expect(Object.keys(table.byKey)).toEqual([result.activeKeyId]);
  });
});

describe.each(storeKinds)('sealing at start on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-seal-start-'));
  let database: TestDatabase;
  afterAll(async () => {
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (config: StoreConfig, secretKeys: KeyStore) => startPlatform({
    store: config, secretKeys, artefactsDir: join(dir, 'artefacts'),
    http: { port: 0, host: '127.0.0.1', explicit: true }, mqtt: { port: 0, host: '127.0.0.1', explicit: true },
  });

  it('seals plain-text keys stored before, keeps them working, and refuses a start without the key', async () => {
    database = await createTestDatabase(kind, kind === 'pglite' ? join(dir, 'db') : undefined);
    // The database as an older Gridshare left it: keys in plain text.
    const db = await openDb(database.config);
    await migrate(db);
    const fixture = await insertCommunityWithDevice(db);
    const plain = { primary: generateDeviceKey(), secondary: generateDeviceKey(), meter: randomBytes(16).toString('hex').toUpperCase() };
    await db.query('INSERT INTO device_credentials (device_id, community_id, primary_key, secondary_key) VALUES ($1, $2, $3, $4)',
      [fixture.deviceId, fixture.communityId, plain.primary, plain.secondary]);
    await db.query('INSERT INTO meter_keys (device_id, community_id, encryption_key) VALUES ($1, $2, $3)', [fixture.deviceId, fixture.communityId, plain.meter]);
    await db.close();

    const keyPath = join(dir, 'secret.key');
    const platform = await start(database.config, keyFile(keyPath));
    try {
      expect(platform.secrets.createdKeys).toBe(true);
      expect(platform.secrets.sealedAtStart).toBe(2);
      const dump = await dumpRows(platform.db);
      for (const secret of [plain.primary, plain.secondary, plain.meter]) expect(dump).not.toContain(secret);
      const sas = signSasToken({ resource: deviceResource(platform.endpoints.hostName, fixture.deviceId), key: plain.secondary, expiresAt: new Date(Date.now() + 600_000) });
      const sent = await platform.app.inject({
        method: 'POST', url: `/api/v1/devices/${fixture.deviceId}/readings`, headers: { authorization: sas },
        payload: { readings: [{ ts: new Date(Date.now() - 60_000).toISOString(), quantity: 'energy.import', value: 10, unit: 'Wh' }] },
      });
      expect(sent.statusCode, sent.body).toBe(200);
    } finally {
      await platform.close();
    }

    // Without its key file (lost, or another data folder) the installation does not start, and makes no new key.
    rmSync(keyPath);
    await expect(start(database.config, keyFile(keyPath))).rejects.toThrow(MissingMasterKeyError);
    expect(existsSync(keyPath)).toBe(false);
    await expect(start(database.config, memoryKeys())).rejects.toThrow(/sealed with master key [0-9a-f]{16}/);
  });
});
