import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { communityBody } from '../support/world.js';
import { deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';

/** The HTTP auth hook an EMQX (or any broker that asks over HTTP) calls for each CONNECT, PUBLISH and SUBSCRIBE. */
describe.each(platformStoreKinds)('the broker auth hook (%s)', (kind) => {
  let tp: TestPlatform;
  let manager: TestUser;
  let device: DeviceCredentials;
  let other: DeviceCredentials;
  let file: { mqtt: { brokerPassword: string }; secondaryBroker: { username: string; password: string } };

  const authenticate = async (body: unknown) => (await tp.call('POST', '/api/v1/broker/authenticate', { body }));
  const allowed = async (body: unknown) => (await authenticate(body)).body.result === 'allow';
  const mayUse = async (deviceId: string, action: string, topic: string, username = deviceId) =>
    (await tp.call('POST', '/api/v1/broker/authorize', { body: { clientid: deviceId, username, topic, action } })).body.result === 'allow';

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    manager = await signUp(tp, 'manager');
    const communityId = (await tp.call('POST', '/api/v1/communities', { token: manager.token, body: communityBody(unique('Hook ')) })).body.id;
    const batch = await tp.call('POST', `/api/v1/communities/${communityId}/device-batches`, { token: manager.token, body: { count: 2 } });
    const [a, b] = batch.body.deviceIds as string[];
    device = await deviceCredentials(tp, manager.token, a!);
    other = await deviceCredentials(tp, manager.token, b!);
    file = (await tp.call('GET', `/api/v1/devices/${a}/config.json`, { token: manager.token })).body;
  }, 180_000);
  afterAll(async () => tp?.close());

  it('lets a device in with a SAS token of either key or with its broker password, nobody else', async () => {
    const id = device.deviceId;
    expect(await allowed({ clientid: id, username: id, password: sasFor(device) })).toBe(true);
    expect(await allowed({ clientid: id, username: id, password: sasFor(device, { key: device.secondaryKey }) })).toBe(true);
    expect(await allowed({ clientid: id, username: id, password: file.mqtt.brokerPassword })).toBe(true);
    expect(await allowed({ clientid: id, username: file.secondaryBroker.username, password: file.secondaryBroker.password })).toBe(true);
    // The secondary's password under the primary's name, another device's token, an expired token, another client id, nothing.
    expect(await allowed({ clientid: id, username: id, password: file.secondaryBroker.password })).toBe(false);
    expect(await allowed({ clientid: id, username: id, password: sasFor(other) })).toBe(false);
    expect(await allowed({ clientid: id, username: id, password: sasFor(device, { expiresAt: new Date(Date.now() - 1000) }) })).toBe(false);
    expect(await allowed({ clientid: other.deviceId, username: id, password: file.mqtt.brokerPassword })).toBe(false);
    expect(await allowed({ clientid: id, username: id, password: '' })).toBe(false);
    expect(await allowed({ clientid: 'nobody', username: 'nobody', password: 'x' })).toBe(false);
  });

  it('confines a device to its own topics', async () => {
    const id = device.deviceId;
    expect(await mayUse(id, 'publish', `devices/${id}/messages/events`)).toBe(true);
    expect(await mayUse(id, 'publish', `devices/${id}/frames/dsmr`)).toBe(true);
    expect(await mayUse(id, 'publish', `devices/${id}/commands/ack`)).toBe(true);
    expect(await mayUse(id, 'subscribe', `devices/${id}/commands`)).toBe(true);
    expect(await mayUse(id, 'subscribe', `devices/${id}/commands`, `${id}:secondary`)).toBe(true);
    expect(await mayUse(id, 'publish', `devices/${other.deviceId}/messages/events`)).toBe(false);
    expect(await mayUse(id, 'publish', `devices/${id}/commands`)).toBe(false);
    expect(await mayUse(id, 'subscribe', 'devices/#')).toBe(false);
    expect(await mayUse(id, 'subscribe', `devices/${id}/#`)).toBe(false);
    expect(await mayUse(id, 'publish', `devices/${id}/messages/events`, other.deviceId)).toBe(false);
  });

  it('refuses malformed questions with 400, and a disabled device from then on', async () => {
    expect((await authenticate({ clientid: 'x' })).status).toBe(400);
    expect((await authenticate({ clientid: 'x', username: 'x', password: 'p'.repeat(5_000) })).status).toBe(400);
    expect((await tp.call('POST', '/api/v1/broker/authorize', { body: { clientid: 'x', username: 'x', topic: 't', action: 'retain' } })).status).toBe(400);
    const id = other.deviceId;
    expect(await allowed({ clientid: id, username: id, password: sasFor(other) })).toBe(true);
    const disabled = await tp.call('PATCH', `/api/v1/devices/${id}`, { token: manager.token, body: { status: 'disabled' } });
    expect(disabled.status).toBe(200);
    expect(await allowed({ clientid: id, username: id, password: sasFor(other) })).toBe(false);
    expect(await mayUse(id, 'publish', `devices/${id}/messages/events`)).toBe(false);
  });
});
