import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { decodeQrPng } from '../support/qr.js';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { deviceCredentials, sasFor } from '../support/devices.js';

describe.each(platformStoreKinds)('provisioning on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  });
  afterAll(() => tp?.close());

  const provision = async (count?: number) => {
    const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: count === undefined ? {} : { count } });
    expect(response.status).toBe(201);
    return response.body as { id: string; deviceIds: string[]; size: number };
  };
  const zipOf = async (batchId: string) => {
    const response = await tp.call('GET', `/api/v1/device-batches/${batchId}/artefacts.zip`, { token: w.managerA.token });
    return { status: response.status, files: response.status === 200 ? unzipSync(response.raw.rawPayload) : {} };
  };
  const count = async (table: string, column: string, ids: string[]) =>
    (await tp.platform.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = ANY($1::text[])`, [ids]))[0]!.n;

  it('provisions two devices by default, with unique ids across batches', async () => {
    const first = await provision();
    expect(first.size).toBe(2);
    expect(first.deviceIds).toHaveLength(2);
    const second = await provision(25);
    const all = [...first.deviceIds, ...second.deviceIds];
    expect(new Set(all).size).toBe(27);
    expect(await count('device_credentials', 'device_id', all)).toBe(27);
    expect(await count('claim_codes', 'device_id', all)).toBe(27);
  });

  it('serves the batch ZIP with config files, QR codes and a manifest, and per-device downloads', async () => {
    const batch = await provision(3);
    const { files } = await zipOf(batch.id);
    const manifest = strFromU8(files['manifest.csv']!).trim().split('\r\n');
    expect(manifest).toHaveLength(4);
    for (const id of batch.deviceIds) {
      expect(files[`devices/${id}/config.json`]).toBeDefined();
      const png = await tp.call('GET', `/api/v1/devices/${id}/qr.png`, { token: w.managerA.token });
      expect(png.headers['content-type']).toBe('image/png');
      const url = decodeQrPng(png.raw.rawPayload);
      expect(url).toMatch(new RegExp(`^${tp.platform.endpoints.publicUrl}/claim\\?code=[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`));
      const config = await tp.call('GET', `/api/v1/devices/${id}/config.json`, { token: w.managerA.token });
      expect(config.body.connectionString).toContain(`DeviceId=${id};`);
    }
  });

  it('refuses bad batch sizes', async () => {
    for (const bad of [0, -1, 10_001, 1.5]) {
      const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: bad } });
      expect(response.status).toBe(400);
      expect(response.body.field).toBe('body/count');
    }
  });

  it('a claim code works once, binds the device to the member\'s site and only for members of the community', async () => {
    const batch = await provision(2);
    const { files } = await zipOf(batch.id);
    const codes = strFromU8(files['manifest.csv']!).trim().split('\r\n').slice(1).map((line) => line.split('code=')[1]!);
    const [code, otherCode] = codes as [string, string];

    // Someone from another community cannot use it (and it stays usable).
    expect((await tp.call('POST', '/api/v1/claims', { token: w.memberB.token, body: { code, meteringPointId: w.meteringPointA } })).status).toBe(404);
    // A member cannot bind it to someone else's site.
    expect((await tp.call('POST', '/api/v1/claims', { token: w.memberA2.token, body: { code, meteringPointId: w.meteringPointA } })).status).toBe(404);

    // The site has its billing meter (provisionedA): this one is claimed as a sub-meter.
    const claimed = await tp.call('POST', '/api/v1/claims', { token: w.memberA.token, body: { code: code.toLowerCase(), meteringPointId: w.meteringPointA, role: 'sub-load' } });
    expect(claimed.status).toBe(200);
    expect(claimed.body.meteringPointId).toBe(w.meteringPointA);
    expect((await tp.call('GET', `/api/v1/devices/${claimed.body.id}`, { token: w.memberA.token })).status).toBe(200);

    const again = await tp.call('POST', '/api/v1/claims', { token: w.memberA.token, body: { code, meteringPointId: w.meteringPointA } });
    expect(again.status).toBe(404);
    expect((await tp.call('POST', '/api/v1/claims', { token: w.memberA.token, body: { code: 'not a code', meteringPointId: w.meteringPointA } })).status).toBe(400);

    // A claimed device is kept by a rollback, and the answer says why; the other goes.
    const rollback = await tp.call('POST', `/api/v1/device-batches/${batch.id}/rollback`, { token: w.managerA.token, body: {} });
    expect(rollback.body).toMatchObject({ status: 'active', removed: [expect.any(String)], kept: [{ deviceId: claimed.body.id, reason: 'claimed' }] });
    const trimmed = await zipOf(batch.id);
    expect(Object.keys(trimmed.files).some((name) => name.includes(rollback.body.removed[0]))).toBe(false);
    expect((await tp.call('POST', '/api/v1/claims', { token: w.memberA.token, body: { code: otherCode, meteringPointId: w.meteringPointA } })).status).toBe(404);

    const forced = await tp.call('POST', `/api/v1/device-batches/${batch.id}/rollback`, { token: w.managerA.token, body: { force: true } });
    expect(forced.body).toMatchObject({ status: 'rolled-back', removed: [claimed.body.id], kept: [] });
  });

  it('rollback leaves nothing behind: rows and files', async () => {
    const batch = await provision(5);
    const zipPath = join(tp.artefactsDir, `${batch.id}.zip`);
    expect(existsSync(zipPath)).toBe(true);
    const result = await tp.call('POST', `/api/v1/device-batches/${batch.id}/rollback`, { token: w.managerA.token });
    expect(result.body).toMatchObject({ status: 'rolled-back', kept: [] });
    expect(result.body.removed.sort()).toEqual([...batch.deviceIds].sort());
    for (const table of ['devices', 'device_credentials', 'claim_codes', 'device_state', 'readings']) {
      expect(await count(table, table === 'devices' ? 'id' : 'device_id', batch.deviceIds)).toBe(0);
    }
    expect(existsSync(zipPath)).toBe(false);
    expect(readdirSync(tp.artefactsDir).filter((f) => f.startsWith(batch.id))).toEqual([]);
    expect((await zipOf(batch.id)).status).toBe(404);
    // Ids are never handed out again.
    expect(await count('device_ids_issued', 'id', batch.deviceIds)).toBe(5);
    expect((await tp.call('POST', `/api/v1/device-batches/${batch.id}/rollback`, { token: w.managerA.token })).status).toBe(409);
  });

  it('rotates one key while the other keeps working', async () => {
    const [id] = (await provision(1)).deviceIds as [string];
    const before = await deviceCredentials(tp, w.managerA.token, id);
    const rotated = await tp.call('POST', `/api/v1/devices/${id}/keys/primary/rotate`, { token: w.managerA.token });
    expect(rotated.status).toBe(200);
    const after = await deviceCredentials(tp, w.managerA.token, id);
    expect(after.primaryKey).not.toBe(before.primaryKey);
    expect(after.secondaryKey).toBe(before.secondaryKey);
    expect(rotated.body.connectionString).toContain(after.primaryKey);
    const reading = { readings: [{ ts: new Date().toISOString(), quantity: 'power.import', value: 100, unit: 'W' }] };
    const post = (token: string) => tp.call('POST', `/api/v1/devices/${id}/readings`, { body: reading, headers: { authorization: token } });
    expect((await post(sasFor(before))).status).toBe(401);
    expect((await post(sasFor(after, { key: before.secondaryKey }))).status).toBe(200);
    expect((await post(sasFor(after))).status).toBe(200);
  });
});
