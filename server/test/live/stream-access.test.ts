import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { deviceCredentials, readingsMessage, sasFor, type DeviceCredentials } from '../support/devices.js';
import { openStream, until } from '../support/live.js';

const RECHECK_MS = 200;

describe.each(platformStoreKinds)('who may keep watching a live stream, on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let device: DeviceCredentials;
  beforeAll(async () => {
    tp = await startTestPlatform(kind, { liveRecheckMs: RECHECK_MS });
    w = await buildWorld(tp);
    device = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
  });
  afterAll(async () => tp?.close());

  const publish = async (credentials: DeviceCredentials, value: number) => {
    const response = await tp.call('POST', `/api/v1/devices/${credentials.deviceId}/readings`, {
      rawBody: readingsMessage({ ts: new Date(Date.now() - 1_000).toISOString(), quantity: 'power.import', value, unit: 'W' }),
      headers: { authorization: sasFor(credentials), 'content-type': 'application/json' },
    });
    expect(response.status).toBe(200);
  };

  it('ends the stream of a member who leaves the community', async () => {
    const stream = openStream(tp, w.communityA, { token: w.memberA.token });
    await stream.opened;
    await publish(device, 100);
    await until(() => stream.readingsFor(w.meteringPointA) === 1);
    expect((await tp.call('POST', `/api/v1/members/${w.memberIdA}/leave`, { token: w.memberA.token })).status).toBe(200);
    await until(() => stream.state.ended, RECHECK_MS * 20);
    // The manager still watches; the former member's stream saw nothing after leaving.
    const manager = openStream(tp, w.communityA, { token: w.managerA.token });
    await manager.opened;
    await publish(device, 200);
    await until(() => manager.readingsFor(w.meteringPointA) === 1);
    expect(stream.readingsFor(w.meteringPointA)).toBe(1);
    manager.close();
  });

  it('ends the stream of a session that logged out', async () => {
    const stream = openStream(tp, w.communityA, { cookie: w.memberA2.cookie });
    await stream.opened;
    expect((await tp.call('POST', '/api/v1/auth/logout', { cookie: w.memberA2.cookie })).status).toBe(204);
    await until(() => stream.state.ended, RECHECK_MS * 20);
  });

  it('adds a metering point the member registers while watching', async () => {
    const watcher: TestUser = w.memberB;
    const stream = openStream(tp, w.communityB, { token: watcher.token });
    await stream.opened;
    const point = await tp.call('POST', `/api/v1/communities/${w.communityB}/metering-points`, {
      token: watcher.token, body: { name: 'New home', gridConnectionId: unique('AT002GC'), role: 'consumer' },
    });
    expect(point.status).toBe(201);
    const batch = await tp.call('POST', `/api/v1/communities/${w.communityB}/device-batches`, { token: w.managerB.token, body: { count: 1 } });
    const deviceId = batch.body.deviceIds[0];
    await tp.call('PATCH', `/api/v1/devices/${deviceId}`, { token: w.managerB.token, body: { meteringPointId: point.body.id } });
    await new Promise((r) => setTimeout(r, RECHECK_MS * 3));
    await publish(await deviceCredentials(tp, w.managerB.token, deviceId), 300);
    await until(() => stream.readingsFor(point.body.id) === 1);
    expect(stream.state.ended).toBe(false);
    stream.close();
  });
});
