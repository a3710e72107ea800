import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform } from '../../src/platform/compose.js';
import { createTestDatabase, type TestDatabase } from '../support/stores.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';

const mqttUrl = process.env.TEST_MQTT_URL;

/**
 * Commands through an external broker (the machine's Mosquitto): published with QoS 1 on the
 * device's topic, answered on its ack topic through the installation's shared subscription.
 */
describe.skipIf(!mqttUrl)('commands through an external broker (Mosquitto)', () => {
  let database: TestDatabase;
  let platform: Platform;
  let device: MqttClient;
  let deviceId: string;
  let communityId: string;
  const received: { id: string; value: number }[] = [];
  const clock = { offset: 0 };

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    platform = await startPlatform({
      store: database.config,
      http: { port: 0, host: '127.0.0.1', explicit: true },
      mqtt: { port: 0, host: '127.0.0.1', explicit: true },
      externalMqtt: { url: mqttUrl!, group: `gs${randomBytes(4).toString('hex')}`, instanceId: 'control', connections: 1, sessionExpirySeconds: 30 },
      artefactsDir: mkdtempSync(join(tmpdir(), 'gridshare-control-')),
      control: { now: () => Date.now() + clock.offset, retryMs: 60_000 },
    });
    const fixture = await insertCommunityWithDevice(platform.db, `gs-ctl-${randomBytes(6).toString('hex')}`);
    ({ deviceId, communityId } = fixture);
    // The broker authenticates devices in production; this one is open.
    device = await mqtt.connectAsync(mqttUrl!, { clientId: deviceId, protocolVersion: 5 });
    device.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString('utf8'))));
    await device.subscribeAsync(`devices/${deviceId}/commands`, { qos: 1 });
  });
  afterAll(async () => {
    device?.end(true);
    await platform?.close();
    await database?.drop();
  });

  it('delivers, takes the acknowledgement once, and stops delivering', async () => {
    const now = Date.now();
    await platform.events.publish(platform.db, 'plan.decided', {
      communityId, planId: 'external-plan', decidedAtMs: now,
      commands: [{ deviceId, kind: 'battery-power', value: 1_234, validFromMs: now, expiresAtMs: now + 900_000 }],
    });
    await platform.commands.flush();
    await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const id = received[0]!.id;
    expect(received[0]).toMatchObject({ value: 1_234 });
    // Delivered again when its retry is due; the same answer twice applies once.
    clock.offset += 60_000;
    await platform.commands.flush();
    await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(1);
    for (let i = 0; i < 2; i++) await device.publishAsync(`devices/${deviceId}/commands/ack`, JSON.stringify({ commandId: id, result: 'acknowledged' }), { qos: 1 });
    const state = async () => (await platform.db.query<{ state: string; attempts: number }>('SELECT state, attempts FROM control_commands WHERE id = $1', [id]))[0];
    await expect.poll(async () => (await state())?.state, { timeout: 10_000 }).toBe('acknowledged');
    const count = received.length;
    await platform.commands.flush();
    expect(received.length).toBe(count);
  });
});
