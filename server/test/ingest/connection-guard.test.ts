import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Socket } from 'node:net';
import { ConnectionGuard, type DeviceEvent } from '../../src/ingest/connection-guard.js';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { connectDevice, deviceCredentials, readingsMessage, sasFor, type DeviceCredentials } from '../support/devices.js';

const device = { id: 'gs-1', communityId: 'c', meteringPointId: null, boundFrom: null };

describe('connection guard', () => {
  it('refuses a device over its limit until the window has room, recording the storm once', () => {
    let now = 0;
    const events: DeviceEvent[] = [];
    const guard = new ConnectionGuard({ limit: { max: 3, windowMs: 1_000 }, connectedAddress: () => undefined, record: (e) => events.push(e), now: () => now });
    expect([1, 2, 3].map(() => guard.admit(device, 'a:1'))).toEqual([true, true, true]);
    now = 500;
    expect(guard.admit(device, 'a:1')).toBe(false);
    expect(guard.admit(device, 'a:1')).toBe(false);
    expect(events.map((e) => e.kind)).toEqual(['reconnects-limited']);
    expect(guard.admit({ ...device, id: 'gs-2' }, 'b:1')).toBe(true);
    now = 1_001;
    expect(guard.admit(device, 'a:1')).toBe(true);
    // A new storm is recorded again.
    now = 1_002;
    guard.admit(device, 'a:1');
    guard.admit(device, 'a:1');
    expect(guard.admit(device, 'a:1')).toBe(false);
    expect(events.map((e) => e.kind)).toEqual(['reconnects-limited', 'reconnects-limited']);
  });

  it('records a takeover of an open session with both addresses', () => {
    const events: DeviceEvent[] = [];
    const guard = new ConnectionGuard({ limit: { max: 10, windowMs: 1_000 }, connectedAddress: (id) => (id === 'gs-1' ? '10.0.0.1:4000' : undefined), record: (e) => events.push(e) });
    guard.admit(device, '10.0.0.2:5000');
    guard.admit({ ...device, id: 'gs-2' }, '10.0.0.3:5000');
    expect(events).toEqual([{ device, kind: 'session-takeover', address: '10.0.0.2:5000', previousAddress: '10.0.0.1:4000' }]);
  });
});

describe.each(platformStoreKinds)('a second connection with the same client id on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let credentials: DeviceCredentials;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    tp = await startTestPlatform(kind, { deviceConnectLimit: { max: 4, windowMs: 60_000 } });
    w = await buildWorld(tp);
    credentials = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await tp?.close();
  });

  const connect = async (token = sasFor(credentials), id = w.provisionedA) => {
    const client = await connectDevice(tp, id, token);
    clients.push(client);
    return client;
  };
  const events = (token = w.managerA.token, query = '') => tp.call('GET', `/api/v1/communities/${w.communityA}/device-events${query}`, { token });
  /** Events are recorded without holding up the connection: polls until one matching is stored. */
  const recorded = async (matches: (event: { deviceId: string; kind: string }) => boolean) => {
    for (let tries = 0; ; tries++) {
      const found = ((await events()).body as { deviceId: string; kind: string }[]).filter(matches);
      if (found.length > 0 || tries >= 100) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const localAddress = (client: MqttClient) => `127.0.0.1:${(client.stream as Socket).localPort}`;

  it('logs a takeover the manager sees, with the address of the connection it replaced', async () => {
    const original = await connect();
    const originalAddress = localAddress(original);
    const closed = new Promise<void>((resolve) => original.once('close', () => resolve()));
    const clone = await connect();
    await closed;
    const found = await recorded(() => true);
    expect(found).toEqual([expect.objectContaining({
      kind: 'session-takeover', deviceId: w.provisionedA, previousAddress: originalAddress, address: localAddress(clone),
    })]);
    // The connection that took over works as the device.
    await clone.publishAsync(`devices/${w.provisionedA}/messages/events`,
      readingsMessage({ ts: new Date().toISOString(), quantity: 'power.import', value: 5, unit: 'W' }), { qos: 1 });
    // Only the community's managers (and admins) see device events.
    expect((await events(w.memberA.token)).status).toBe(403);
    expect((await events(w.managerB.token)).status).toBe(404);
    expect((await events(tp.admin.token, `?deviceId=${w.provisionedA}`)).body).toHaveLength(1);
    expect((await events(w.managerA.token, `?deviceId=${w.deviceA}`)).body).toEqual([]);
    expect((await events(w.managerA.token, '?limit=0')).status).toBe(400);
  });

  it('refuses a reconnect storm per device, records it once, and does not count connections with a wrong token', async () => {
    // Two connections so far in the window (the test above); two more are allowed.
    await connect();
    await connect();
    await expect(connect()).rejects.toMatchObject({ code: 3 });
    await expect(connect()).rejects.toMatchObject({ code: 3 });
    const limited = await recorded((e) => e.deviceId === w.provisionedA && e.kind === 'reconnects-limited');
    // Both refusals happened before the poll; a second record would be there by now too.
    expect(limited).toHaveLength(1);

    // Someone without the key cannot use up another device's connections.
    const other = await deviceCredentials(tp, w.managerA.token, (await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 1 } })).body.deviceIds[0]);
    const forged = sasFor(other, { key: credentials.primaryKey });
    for (let i = 0; i < 6; i++) await expect(connect(forged, other.deviceId)).rejects.toMatchObject({ code: 5 });
    const legit = await connect(sasFor(other), other.deviceId);
    expect(legit.connected).toBe(true);
  });
});
