import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MqttClient } from 'mqtt';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { connectDevice, deviceCredentials, readingsMessage, sasFor, type DeviceCredentials } from '../support/devices.js';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describe.each(platformStoreKinds)('device ingestion over MQTT and HTTP on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let device: DeviceCredentials;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    device = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await tp?.close();
  });

  const connect = async (credentials: DeviceCredentials, password = sasFor(credentials)) => {
    const client = await connectDevice(tp, credentials.deviceId, password);
    clients.push(client);
    return client;
  };
  const storedValues = async (deviceId: string, quantity: string) =>
    (await tp.platform.db.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1 AND quantity = $2 ORDER BY ts', [deviceId, quantity]))
      .map((r) => r.value);
  const state = async (deviceId: string) => (await tp.call('GET', `/api/v1/devices/${deviceId}/state`, { token: w.managerA.token })).body;

  it('stores a QoS 1 message before acknowledging it', async () => {
    const client = await connect(device);
    await client.publishAsync(`devices/${device.deviceId}/messages/events`, readingsMessage(
      { ts: minutesAgo(3), quantity: 'energy.import', value: 1_000_000, unit: 'Wh' },
      { ts: minutesAgo(3), quantity: 'power.import', value: 420, unit: 'W' },
    ), { qos: 1 });
    // The PUBACK has arrived: the readings are already committed.
    expect(await storedValues(device.deviceId, 'energy.import')).toEqual([1_000_000]);
    const s = await state(device.deviceId);
    expect(s).toMatchObject({ online: true, readingsTotal: 2, messagesTotal: 1 });
    const readings = await tp.call('GET', `/api/v1/metering-points/${w.meteringPointA}/readings?from=${minutesAgo(10)}&to=${minutesAgo(0)}`, { token: w.memberA.token });
    expect(readings.body.map((r: { quantity: string }) => r.quantity).sort()).toEqual(['energy.import', 'power.import']);
  });

  it('acknowledges but counts, logs (once a minute per device) and never stores a refused message', async () => {
    const client = await connect(device);
    const before = await state(device.deviceId);
    const logged: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      if (String(chunk).includes(device.deviceId)) logged.push(String(chunk));
      return true;
    });
    await client.publishAsync(`devices/${device.deviceId}/messages/events`, '{"readings": [ broken', { qos: 1 });
    await client.publishAsync(`devices/${device.deviceId}/messages/events`, readingsMessage({ ts: new Date(Date.now() + 3_600_000).toISOString(), quantity: 'power.import', value: 1, unit: 'W' }), { qos: 1 });
    await client.publishAsync(`devices/${device.deviceId}/messages/events`, readingsMessage({ ts: minutesAgo(1), quantity: 'energy.import', value: 5, unit: 'Wh' }), { qos: 1 });
    await expect.poll(async () => (await state(device.deviceId)).rejectedTotal).toBe(before.rejectedTotal + 3);
    expect((await state(device.deviceId)).lastError).toMatch(/^register-backwards/);
    expect(await storedValues(device.deviceId, 'energy.import')).toEqual([1_000_000]);
    stderr.mockRestore();
    // The first of the three is logged; the two after it within the minute are only counted.
    expect(logged).toHaveLength(1);
    const line = JSON.parse(logged[0]!) as { component: string; deviceId: string; msg: string };
    expect(line).toMatchObject({ component: 'ingest', deviceId: device.deviceId });
    expect(line.msg).toMatch(new RegExp(`^gridshare: device ${device.deviceId}: message refused: malformed-json: `));
  });

  it('refuses wrong keys, expired tokens, other devices\' tokens and unknown devices', async () => {
    const wrongKey = { ...device, primaryKey: Buffer.alloc(32, 1).toString('base64') };
    await expect(connect(device, sasFor(wrongKey))).rejects.toThrow(/Not authorized|not authorised/i);
    await expect(connect(device, sasFor(device, { expiresAt: new Date(Date.now() - 1000) }))).rejects.toThrow(/Not authorized/i);
    await expect(connect({ ...device, deviceId: 'gs-unknown' }, sasFor(device))).rejects.toThrow(/Not authorized/i);
    await expect(connect(device, 'not a token')).rejects.toThrow(/Not authorized/i);
    // The secondary key works.
    const secondary = await connect(device, sasFor(device, { key: device.secondaryKey }));
    expect(secondary.connected).toBe(true);
  });

  it('lets a device publish only under its own id', async () => {
    const client = await connect(device);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('devices/gs-someone-else/messages/events', readingsMessage({ ts: minutesAgo(1), quantity: 'power.import', value: 1, unit: 'W' }), { qos: 1 });
    await closed;
    expect(await tp.platform.db.query(`SELECT 1 FROM readings WHERE device_id = 'gs-someone-else'`)).toEqual([]);
  });

  it('takes the same readings over HTTP with the same checks', async () => {
    const post = (body: unknown, token = sasFor(device)) =>
      tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, { body, headers: { authorization: token } });
    const message = { readings: [{ ts: minutesAgo(2), quantity: 'energy.import', value: 1_000_500, unit: 'Wh' }] };
    expect((await post(message)).body).toEqual({ stored: 1, duplicates: 0 });
    expect((await post(message)).body).toEqual({ stored: 0, duplicates: 1 });
    const backwards = await post({ readings: [{ ts: minutesAgo(1), quantity: 'energy.import', value: 1, unit: 'Wh' }] });
    expect(backwards.status).toBe(400);
    expect(backwards.body.message).toMatch(/^register-backwards/);
    expect((await post({ readings: [{ ts: minutesAgo(1), quantity: 'energy.import', value: 'NaN', unit: 'Wh' }] })).status).toBe(400);
    expect((await post({ readings: [] })).status).toBe(400);
    expect((await post(message, sasFor(device, { expiresAt: new Date(Date.now() - 1) }))).status).toBe(401);
    expect((await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, { body: message })).status).toBe(401);
    const huge = await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, {
      rawBody: JSON.stringify({ readings: [], pad: 'x'.repeat(200_000) }), headers: { authorization: sasFor(device), 'content-type': 'application/json' },
    });
    expect(huge.status).toBe(413);
  });

  it('pushes committed readings to the live stream of the owner and the manager only', async () => {
    const base = tp.platform.httpUrl.replace('localhost', '127.0.0.1');
    const open = async (token: string) => {
      const controller = new AbortController();
      const response = await fetch(`${base}/api/v1/communities/${w.communityA}/live`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
      const reader = response.body!.getReader();
      let text = '';
      return {
        async next(ms: number): Promise<string> {
          const deadline = Date.now() + ms;
          while (!text.includes('event: reading') && Date.now() < deadline) {
            const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), deadline - Date.now()))]);
            if (chunk && 'value' in chunk && chunk.value) text += new TextDecoder().decode(chunk.value);
          }
          return text;
        },
        close: () => controller.abort(),
      };
    };
    const owner = await open(w.memberA.token);
    const manager = await open(w.managerA.token);
    const neighbour = await open(w.memberA2.token);
    const client = await connect(device);
    await client.publishAsync(`devices/${device.deviceId}/messages/events`, readingsMessage({ ts: minutesAgo(0.5), quantity: 'power.export', value: 1234, unit: 'W' }), { qos: 1 });
    for (const stream of [owner, manager]) {
      const text = await stream.next(3_000);
      const event = JSON.parse(/data: (.*)\n/.exec(text.slice(text.indexOf('event: reading')))![1]!);
      expect(event).toMatchObject({ meteringPointId: w.meteringPointA, deviceId: device.deviceId, values: { 'power.export': 1234 } });
    }
    expect(await neighbour.next(500)).not.toContain('event: reading');
    for (const stream of [owner, manager, neighbour]) stream.close();
  });

  it('shows the member the water and heat their meters counted, per hour in whole litres and Wh, and nobody else', async () => {
    const hour0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000;
    const at = (hours: number) => new Date(hour0 + hours * 3_600_000).toISOString();
    const sent = await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, {
      headers: { authorization: sasFor(device) },
      body: { readings: [
        { ts: at(-1), quantity: 'water.volume', value: 100, unit: 'm3' },
        { ts: at(1), quantity: 'water.volume', value: 100.2, unit: 'm3' },
        { ts: at(3), quantity: 'water.volume', value: 100.3, unit: 'm3' },
        { ts: at(0), quantity: 'heat.energy', value: 5_000_000, unit: 'Wh' },
        { ts: at(2), quantity: 'heat.energy', value: 5_004_000, unit: 'Wh' },
      ] },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const url = (memberId: string, query = `from=${at(0)}&to=${at(4)}&resolution=1h`) => `/api/v1/members/${memberId}/utilities?${query}`;
    const own = await tp.call('GET', url(w.memberIdA), { token: w.memberA.token });
    expect(own.status, JSON.stringify(own.body)).toBe(200);
    const figures = (own.body.utilities as { quantity: string; unit: string; total: number; buckets: { start: string; amount: number | null; complete: boolean }[] }[])
      .map((u) => [u.quantity, u.unit, u.total, u.buckets.map((b) => b.amount)]);
    // Water: 200 L from 23:00 to 01:00 (100 L in the first hour), then 100 L over two hours; after 03:00 unknown.
    expect(figures).toEqual([['water.volume', 'L', 200, [100, 50, 50, null]], ['heat.energy', 'Wh', 4_000, [2_000, 2_000, null, null]]]);
    expect(own.body.utilities[0].buckets[0]).toMatchObject({ start: at(0), complete: true });
    // The manager sees them too; another member of the community and the other community's manager do not learn they exist.
    expect((await tp.call('GET', url(w.memberIdA), { token: w.managerA.token })).body.utilities).toHaveLength(2);
    expect((await tp.call('GET', url(w.memberIdA), { token: w.memberA2.token })).status).toBe(404);
    expect((await tp.call('GET', url(w.memberIdA), { token: w.managerB.token })).status).toBe(404);
    // A member whose meters count no gas, water or heat has none to show.
    expect((await tp.call('GET', url(w.memberIdA2), { token: w.memberA2.token })).body.utilities).toEqual([]);
    // Bad ranges are refused with the field named.
    const backwards = await tp.call('GET', url(w.memberIdA, `from=${at(4)}&to=${at(0)}&resolution=1h`), { token: w.memberA.token });
    expect([backwards.status, backwards.body.message]).toEqual([400, expect.stringMatching(/querystring\/to: must be after from/)]);
    const tooLong = await tp.call('GET', url(w.memberIdA, `from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z&resolution=15m`), { token: w.memberA.token });
    expect([tooLong.status, tooLong.body.message]).toEqual([400, expect.stringMatching(/at most 93 days/)]);
    expect((await tp.call('GET', url(w.memberIdA, `from=${at(0)}&to=${at(4)}&resolution=1w`), { token: w.memberA.token })).status).toBe(400);
  });

  it('refuses a disabled device and drops its open connection', async () => {
    const client = await connect(device);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    expect((await tp.call('PATCH', `/api/v1/devices/${device.deviceId}`, { token: w.managerA.token, body: { status: 'disabled' } })).status).toBe(200);
    await closed;
    await expect(connect(device)).rejects.toThrow(/Not authorized/i);
    const http = await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, {
      body: { readings: [{ ts: minutesAgo(1), quantity: 'power.import', value: 1, unit: 'W' }] }, headers: { authorization: sasFor(device) },
    });
    expect(http.status).toBe(401);
    await tp.call('PATCH', `/api/v1/devices/${device.deviceId}`, { token: w.managerA.token, body: { status: 'active' } });
    expect((await connect(device)).connected).toBe(true);
  });

  it('refuses devices of a rolled-back batch', async () => {
    const batch = (await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 1 } })).body;
    const fresh = await deviceCredentials(tp, w.managerA.token, batch.deviceIds[0]);
    expect((await connect(fresh)).connected).toBe(true);
    await tp.call('POST', `/api/v1/device-batches/${batch.id}/rollback`, { token: w.managerA.token });
    await expect(connect(fresh)).rejects.toThrow(/Not authorized/i);
  });
});
