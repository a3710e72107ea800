import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { platformStoreKinds } from '../support/stores.js';
import { sessionCookie, signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { communityBody } from '../support/world.js';
import { connectDevice, deviceCredentials, readingsMessage, sasFor, type DeviceCredentials } from '../support/devices.js';

interface LogLine {
  level: number;
  msg: string;
  component?: string;
  reqId?: string;
  deviceId?: string;
  req?: { method: string; route?: string; path: string };
  res?: { statusCode: number };
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const STREET_ADDRESS = 'Lindengasse 17/4, 1070 Wien';

/**
 * The log of a whole platform through a realistic flow (sign-up, log-in, a refused log-in,
 * provisioning, MQTT readings good and bad, the admin's first log-in and password change) with
 * every request logged: JSON lines with request and device ids, and none of the secrets or
 * personal data the flow used.
 */
describe.each(platformStoreKinds)('the log of a platform on %s', (kind) => {
  let tp: TestPlatform;
  let member: TestUser;
  let device: DeviceCredentials;
  let sas: string;
  let cookie: string;
  const written: string[] = [];
  const clients: MqttClient[] = [];
  const lines = () => written.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as LogLine);

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { logger: true, log: { destination: { write: (chunk) => written.push(chunk) } } });
    member = await signUp(tp, 'logged');
    const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: member.email, password: member.password } });
    expect(login.status).toBe(200);
    cookie = sessionCookie(login);
    expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: member.email, password: `${member.password}-wrong` } })).status).toBe(401);
    // A search with an e-mail address in its query string (an admin looking for a user).
    await tp.call('GET', `/api/v1/users?query=${encodeURIComponent(member.email)}`, { token: tp.admin.token });
    const community = (await tp.call('POST', '/api/v1/communities', { cookie, body: communityBody(unique('Logged ')) })).body.id;
    const point = await tp.call('POST', `/api/v1/communities/${community}/metering-points`, {
      cookie, body: { name: 'Home', address: STREET_ADDRESS, gridConnectionId: unique('AT001GC'), role: 'consumer' },
    });
    expect(point.status).toBe(201);
    const batch = await tp.call('POST', `/api/v1/communities/${community}/device-batches`, { token: member.token, body: { count: 1 } });
    const deviceId = batch.body.deviceIds[0] as string;
    await tp.call('PATCH', `/api/v1/devices/${deviceId}`, { token: member.token, body: { meteringPointId: point.body.id } });
    device = await deviceCredentials(tp, member.token, deviceId);
    sas = sasFor(device);
    const client = await connectDevice(tp, deviceId, sas);
    clients.push(client);
    const topic = `devices/${deviceId}/messages/events`;
    await client.publishAsync(topic, readingsMessage({ ts: minutesAgo(2), quantity: 'power.import', value: 300, unit: 'W' }), { qos: 1 });
    await client.publishAsync(topic, '{"readings": [ broken', { qos: 1 });
    await expect(connectDevice(tp, deviceId, sasFor({ ...device, primaryKey: device.secondaryKey.split('').reverse().join('') }))).rejects.toThrow(/Not authorized/i);
    // Over HTTP too, with the SAS token in its header.
    const http = await tp.call('POST', `/api/v1/devices/${deviceId}/readings`, {
      headers: { authorization: sas }, body: { readings: [{ ts: minutesAgo(1), quantity: 'power.import', value: 310, unit: 'W' }] },
    });
    expect(http.status).toBeLessThan(300);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await tp?.close();
  });

  it('is JSON lines, each request with its id, route pattern and status', () => {
    const logged = lines();
    const completed = logged.filter((line) => line.msg === 'request completed');
    expect(completed.length).toBeGreaterThan(10);
    for (const line of completed) expect(line).toMatchObject({ component: 'http', reqId: expect.stringMatching(/^[0-9a-f-]{36}$/), res: { statusCode: expect.any(Number) } });
    const refused = logged.find((line) => line.msg === 'incoming request' && line.req?.route === '/api/v1/auth/login'
      && completed.some((done) => done.reqId === line.reqId && done.res?.statusCode === 401));
    expect(refused?.req).toEqual({ method: 'POST', route: '/api/v1/auth/login', path: '/api/v1/auth/login' });
    expect(new Set(completed.map((line) => line.reqId)).size).toBe(completed.length);
  });

  it('names the device in the lines about it (HTTP and MQTT)', () => {
    const logged = lines();
    expect(logged.some((line) => line.req?.route === '/api/v1/devices/:id/readings' && line.deviceId === device.deviceId)).toBe(true);
    const refusal = logged.find((line) => line.component === 'ingest' && line.msg.includes('message refused'));
    expect(refusal).toMatchObject({ deviceId: device.deviceId, level: 40 });
  });

  it('holds no key, token, password, e-mail address or street address the flow used', () => {
    const log = written.join('');
    const secrets = {
      'member password': member.password, 'admin password': tp.admin.password, 'bootstrap password': tp.platform.bootstrapAdmin!.password,
      'member API token': member.token, 'admin API token': tp.admin.token, 'session cookie': cookie.split('=')[1]!,
      'device primary key': device.primaryKey, 'device secondary key': device.secondaryKey, 'SAS token': sas, 'SAS signature': /sig=([^&]+)/.exec(sas)![1]!,
      'member e-mail': member.email, 'admin e-mail': tp.admin.email, 'street address': STREET_ADDRESS,
      'e-mail (URL-encoded)': encodeURIComponent(member.email),
    };
    for (const [what, value] of Object.entries(secrets)) expect(log.includes(value), what).toBe(false);
    expect(log).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}/);
  });
});
