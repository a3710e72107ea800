import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';
import { openStream, until } from '../support/live.js';

const RANGE = `from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 3_600_000).toISOString()}`;

/**
 * A reader first on memberA2's site, then moved by the manager to memberA's: memberA sees only
 * what it measured on their site, from the move on; memberA2 keeps what it measured on theirs.
 */
describe.each(platformStoreKinds)('device data scoped to binding periods on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let device: DeviceCredentials;
  const before = new Date(Date.now() - 30 * 60_000).toISOString();
  let movedAt: number;

  const send = (ts: string, quantity: string, value: number, unit: string) => tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, {
    headers: { authorization: sasFor(device) },
    body: { readings: [{ ts, quantity, value, unit }] },
  });
  const get = (url: string, token: string) => tp.call('GET', url, { token });

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    const batch = await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 1 } });
    const deviceId = batch.body.deviceIds[0] as string;
    device = await deviceCredentials(tp, w.managerA.token, deviceId);
    await tp.call('PATCH', `/api/v1/devices/${deviceId}`, { token: w.managerA.token, body: { meteringPointId: w.meteringPointA2 } });
    // On memberA2's site: one reading, and one refused (the register runs backwards).
    expect((await send(before, 'energy.import', 10_000, 'Wh')).status).toBe(200);
    expect((await send(new Date(Date.parse(before) + 60_000).toISOString(), 'energy.import', 9_000, 'Wh')).status).toBe(400);

    movedAt = Date.now();
    expect((await tp.call('PATCH', `/api/v1/devices/${deviceId}`, { token: w.managerA.token, body: { meteringPointId: w.meteringPointA, role: 'sub-load' } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(() => tp?.close());

  it('gives the new owner only readings taken since the move, live too; a late reading from before goes to the old site', async () => {
    const stream = openStream(tp, w.communityA, { token: w.memberA.token });
    await stream.opened;
    // Sent after the move but measured before it (a buffered upload), then a current one.
    expect((await send(new Date(Date.parse(before) + 120_000).toISOString(), 'power.import', 111, 'W')).status).toBe(200);
    const now = new Date().toISOString();
    expect((await send(now, 'power.import', 222, 'W')).status).toBe(200);
    await until(() => stream.readingsFor(w.meteringPointA) >= 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(stream.state.text).toContain('"power.import":222');
    expect(stream.state.text).not.toContain('"power.import":111');
    stream.close();

    const asNewOwner = await get(`/api/v1/devices/${device.deviceId}/readings?${RANGE}`, w.memberA.token);
    expect(asNewOwner.status).toBe(200);
    expect(asNewOwner.body.map((r: { value: number }) => r.value)).toEqual([222]);
    for (const reading of asNewOwner.body) expect(Date.parse(reading.ts)).toBeGreaterThanOrEqual(movedAt - 1_000);

    const asManager = await get(`/api/v1/devices/${device.deviceId}/readings?${RANGE}`, w.managerA.token);
    expect(asManager.body.map((r: { value: number }) => r.value)).toEqual([10_000, 111, 222]);
    // The former owner no longer sees the device, but keeps their site's readings, the late one included.
    expect((await get(`/api/v1/devices/${device.deviceId}/readings?${RANGE}`, w.memberA2.token)).status).toBe(404);
    const oldSite = await get(`/api/v1/metering-points/${w.meteringPointA2}/readings?${RANGE}`, w.memberA2.token);
    expect(oldSite.body.map((r: { value: number }) => r.value)).toEqual([10_000, 111]);
    const newSite = await get(`/api/v1/metering-points/${w.meteringPointA}/readings?${RANGE}`, w.memberA.token);
    expect(newSite.body.filter((r: { deviceId: string }) => r.deviceId === device.deviceId).map((r: { value: number }) => r.value)).toEqual([222]);
  });

  it('counts state for the new owner from the move on; managers see the whole history', async () => {
    const mine = await get(`/api/v1/devices/${device.deviceId}/state`, w.memberA.token);
    expect(mine.status).toBe(200);
    // Two messages arrived since the move (the late one and the current one); the refusal was before.
    expect(mine.body).toMatchObject({ messagesTotal: 2, readingsTotal: 2, rejectedTotal: 0, lastError: null, lastErrorAt: null, online: true });
    expect(Date.parse(mine.body.lastSeenAt)).toBeGreaterThanOrEqual(movedAt - 1_000);
    const all = await get(`/api/v1/devices/${device.deviceId}/state`, w.managerA.token);
    expect(all.body).toMatchObject({ messagesTotal: 4, readingsTotal: 3, rejectedTotal: 1, lastError: expect.stringMatching(/^register-backwards/) });

    const states = await get(`/api/v1/communities/${w.communityA}/device-states`, w.memberA.token);
    expect(states.body.find((s: { deviceId: string }) => s.deviceId === device.deviceId)).toEqual(mine.body);
    const managerStates = await get(`/api/v1/communities/${w.communityA}/device-states`, w.managerA.token);
    expect(managerStates.body.find((s: { deviceId: string }) => s.deviceId === device.deviceId)).toEqual(all.body);
    expect((await get(`/api/v1/communities/${w.communityA}/device-states`, w.memberA2.token)).body
      .map((s: { deviceId: string }) => s.deviceId)).not.toContain(device.deviceId);
  });

  it('a device moved back shows each period to its owner; a deleted site closes the binding', async () => {
    await tp.call('PATCH', `/api/v1/devices/${device.deviceId}`, { token: w.managerA.token, body: { meteringPointId: w.meteringPointA2 } });
    const back = await get(`/api/v1/devices/${device.deviceId}/readings?${RANGE}`, w.memberA2.token);
    // memberA2's first period (from the beginning until the move) is theirs again, memberA's is not.
    expect(back.body.map((r: { value: number }) => r.value)).toEqual([10_000, 111]);
    const state = await get(`/api/v1/devices/${device.deviceId}/state`, w.memberA2.token);
    expect(state.body).toMatchObject({ messagesTotal: 0, readingsTotal: 0, lastSeenAt: null, online: false });

    // A temporary site of memberA2's: deleting it unbinds the device (ON DELETE SET NULL) and closes the period.
    const temp = await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, {
      token: w.memberA2.token, body: { name: 'Shed', gridConnectionId: unique('AT004GC'), role: 'consumer' } });
    await tp.call('PATCH', `/api/v1/devices/${device.deviceId}`, { token: w.managerA.token, body: { meteringPointId: temp.body.id } });
    expect((await tp.call('DELETE', `/api/v1/metering-points/${temp.body.id}`, { token: w.managerA.token })).status).toBe(204);
    const open = await tp.platform.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM device_bindings WHERE device_id = $1 AND bound_until IS NULL', [device.deviceId]);
    expect(open[0]!.n).toBe(0);
    const periods = await tp.platform.db.query<{ first: boolean }>(
      'SELECT bound_from IS NULL AS first FROM device_bindings WHERE device_id = $1 ORDER BY id', [device.deviceId]);
    expect(periods.map((p) => p.first)).toEqual([true, false, false, false]);
  });
});
