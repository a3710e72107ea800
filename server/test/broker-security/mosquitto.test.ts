import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import { platformStoreKinds } from '../support/stores.js';
import { signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { communityBody } from '../support/world.js';
import { mosquittoMissing, startMosquitto, type TestMosquitto } from '../support/mosquitto.js';

if (mosquittoMissing) console.warn(`skipping the external-broker security tests: ${mosquittoMissing}`);

interface DeviceFile {
  deviceId: string;
  mqtt: { clientId: string; username: string; brokerPassword: string; topics: { events: string; commands: string } };
  secondaryBroker: { username: string; password: string };
}

const reading = (value: number, ts = new Date(Date.now() - 60_000)) => JSON.stringify({ readings: [{ ts: ts.toISOString(), quantity: 'energy.import', value, unit: 'Wh' }] });

/** Connects like a device in the field; resolves with the CONNACK refusal as an error when it is refused. */
function connect(url: string, options: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
}

/** The PUBACK's reason code: 0 accepted, 0x87 not authorised (mqtt.js rejects on a refusal). */
async function publishReason(client: MqttClient, topic: string, payload: string): Promise<number> {
  return client.publishAsync(topic, payload, { qos: 1 }).then(
    () => 0,
    (error: Error & { code?: number }) => error.code ?? -1,
  );
}

/**
 * Gridshare keeps device authentication and topic confinement on a Mosquitto of its own (the
 * repository's recommended configuration, dynamic-security plugin), started here on a free port.
 */
describe.skipIf(mosquittoMissing !== undefined).each(platformStoreKinds)('an external Mosquitto secured by Gridshare (%s)', (kind) => {
  let broker: TestMosquitto;
  let tp: TestPlatform;
  let manager: TestUser;
  let communityId: string;
  const serviceAccount = { username: `gridshare-${randomBytes(4).toString('hex')}`, password: randomBytes(16).toString('hex') };

  const provision = async (count: number): Promise<DeviceFile[]> => {
    const batch = await tp.call('POST', `/api/v1/communities/${communityId}/device-batches`, { token: manager.token, body: { count } });
    expect(batch.status).toBe(201);
    await tp.platform.brokerSync!.idle();
    return Promise.all((batch.body.deviceIds as string[]).map(async (id) => (await tp.call('GET', `/api/v1/devices/${id}/config.json`, { token: manager.token })).body as DeviceFile));
  };
  const storedValues = async (deviceId: string) =>
    (await tp.platform.db.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1 ORDER BY value', [deviceId])).map((r) => r.value);

  beforeAll(async () => {
    broker = await startMosquitto();
    const url = `mqtt://${serviceAccount.username}:${serviceAccount.password}@127.0.0.1:${broker.port}`;
    tp = await startTestPlatform(kind, {
      externalMqtt: { url, group: unique('gs'), instanceId: 'secured', connections: 2, sessionExpirySeconds: 60, dynsecAdmin: broker.admin },
    });
    manager = await signUp(tp, 'manager');
    communityId = (await tp.call('POST', '/api/v1/communities', { token: manager.token, body: communityBody(unique('Secured ')) })).body.id;
  }, 180_000);
  afterAll(async () => {
    await tp?.close();
    await broker?.close();
  });

  it('refuses anonymous clients and wrong passwords, and confines a device to its own topics', async () => {
    const [device, other] = await provision(2);
    await expect(connect(broker.url, { clientId: unique('anon') })).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
    await expect(connect(broker.url, { clientId: device!.deviceId, username: device!.deviceId, password: 'guessed' })).rejects.toThrow();
    // Another device's password does not open this device, nor its own account with another client id.
    await expect(connect(broker.url, { clientId: device!.deviceId, username: device!.deviceId, password: other!.mqtt.brokerPassword })).rejects.toThrow();
    await expect(connect(broker.url, { clientId: other!.deviceId, username: device!.deviceId, password: device!.mqtt.brokerPassword })).rejects.toThrow();

    const client = await connect(broker.url, { clientId: device!.mqtt.clientId, username: device!.mqtt.username, password: device!.mqtt.brokerPassword });
    try {
      expect(await publishReason(client, `devices/${other!.deviceId}/messages/events`, reading(1))).toBe(0x87);
      expect(await publishReason(client, `devices/${device!.deviceId}/commands`, '{}')).toBe(0x87);
      await expect(client.subscribeAsync(`devices/${other!.deviceId}/commands`, { qos: 1 })).rejects.toThrow(/Not authorized/);
      await expect(client.subscribeAsync('devices/#', { qos: 1 })).rejects.toThrow(/Not authorized/);
      const own = await client.subscribeAsync(device!.mqtt.topics.commands, { qos: 1 });
      expect(own[0]!.qos).toBe(1);
      expect(await publishReason(client, device!.mqtt.topics.events, reading(42))).toBe(0);
    } finally {
      await client.endAsync();
    }
    await expect.poll(() => storedValues(device!.deviceId), { timeout: 10_000 }).toEqual([42]);
    expect(await storedValues(other!.deviceId)).toEqual([]);
  });

  it('drops a device that is disabled and a key that is rotated, and keeps the secondary key working meanwhile', async () => {
    const [device] = await provision(1);
    const primary = { clientId: device!.deviceId, username: device!.mqtt.username, password: device!.mqtt.brokerPassword };
    const secondary = { clientId: device!.deviceId, ...device!.secondaryBroker };

    const rotated = await tp.call('POST', `/api/v1/devices/${device!.deviceId}/keys/primary/rotate`, { token: manager.token });
    expect(rotated.status).toBe(200);
    await tp.platform.brokerSync!.idle();
    await expect(connect(broker.url, primary)).rejects.toThrow();
    const fresh = (await tp.call('GET', `/api/v1/devices/${device!.deviceId}/config.json`, { token: manager.token })).body as DeviceFile;
    expect(fresh.mqtt.brokerPassword).not.toBe(primary.password);
    const viaSecondary = await connect(broker.url, secondary);
    expect(await publishReason(viaSecondary, device!.mqtt.topics.events, reading(7))).toBe(0);
    await expect.poll(() => storedValues(device!.deviceId), { timeout: 10_000 }).toEqual([7]);

    const closed = new Promise<void>((done) => viaSecondary.once('close', () => done()));
    const disabled = await tp.call('PATCH', `/api/v1/devices/${device!.deviceId}`, { token: manager.token, body: { status: 'disabled' } });
    expect(disabled.status).toBe(200);
    await tp.platform.brokerSync!.idle();
    // The broker drops the connection it had, and takes no new one with either key.
    await closed;
    await viaSecondary.endAsync(true);
    await expect(connect(broker.url, secondary)).rejects.toThrow();
    await expect(connect(broker.url, { ...primary, password: fresh.mqtt.brokerPassword })).rejects.toThrow();

    const enabled = await tp.call('PATCH', `/api/v1/devices/${device!.deviceId}`, { token: manager.token, body: { status: 'active' } });
    expect(enabled.status).toBe(200);
    await tp.platform.brokerSync!.idle();
    const back = await connect(broker.url, { ...primary, password: fresh.mqtt.brokerPassword });
    await back.endAsync();
  });

  it('removes the clients of a rolled-back batch, and a reconcile of an unchanged broker changes nothing', async () => {
    const batch = await tp.call('POST', `/api/v1/communities/${communityId}/device-batches`, { token: manager.token, body: { count: 2 } });
    await tp.platform.brokerSync!.idle();
    const [id] = batch.body.deviceIds as string[];
    const file = (await tp.call('GET', `/api/v1/devices/${id}/config.json`, { token: manager.token })).body as DeviceFile;
    const rolledBack = await tp.call('POST', `/api/v1/device-batches/${batch.body.id}/rollback`, { token: manager.token, body: {} });
    expect(rolledBack.body.status).toBe('rolled-back');
    await tp.platform.brokerSync!.idle();
    await expect(connect(broker.url, { clientId: id!, username: id!, password: file.mqtt.brokerPassword })).rejects.toThrow();
    expect(await tp.platform.brokerSync!.reconcile()).toBe(0);
  });
});
