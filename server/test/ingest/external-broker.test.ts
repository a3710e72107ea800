import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform } from '../../src/platform/compose.js';
import { memoryKeys } from '../../src/secrets/index.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/stores.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';
import { LineHealth, buildHeartbeat } from '../../src/agent/domain/health.js';

const mqttUrl = process.env.TEST_MQTT_URL;

/**
 * The production path: devices publish to an external broker (here the machine's Mosquitto),
 * two Gridshare processes consume through one MQTT 5 shared subscription into PostgreSQL.
 */
describe.skipIf(!mqttUrl || !postgresUrl)('ingestion from an external broker (Mosquitto + PostgreSQL)', () => {
  let database: TestDatabase;
  const platforms: Platform[] = [];
  let device: MqttClient;
  let deviceId: string;
  const group = `gs${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    // Every process of one installation holds the same master keys (the first start seals the ledger's key).
    const secretKeys = memoryKeys();
    for (let i = 0; i < 2; i++) {
      platforms.push(await startPlatform({
        store: database.config,
        http: { port: 0, host: '127.0.0.1', explicit: true },
        mqtt: { port: 0, host: '127.0.0.1', explicit: true },
        externalMqtt: { url: mqttUrl!, group, instanceId: `test${i}`, connections: 2, sessionExpirySeconds: 30 },
        artefactsDir: mkdtempSync(join(tmpdir(), 'gridshare-ext-')),
        secretKeys,
      }));
    }
    const fixture = await insertCommunityWithDevice(platforms[0]!.db, `gs-ext-${randomBytes(6).toString('hex')}`);
    deviceId = fixture.deviceId;
    // The broker authenticates devices in production (HTTP auth against Gridshare); this one is open.
    device = await mqtt.connectAsync(mqttUrl!, { clientId: deviceId, protocolVersion: 5 });
  });
  afterAll(async () => {
    await device?.endAsync();
    for (const platform of platforms) await platform.close();
    await database?.drop();
  });

  it('both processes share the stream and store every reading exactly once, duplicates and reordering included', async () => {
    const base = Date.now() - 30 * 60_000;
    const messages = Array.from({ length: 60 }, (_, i) => ({
      readings: [{ ts: new Date(base + i * 15_000).toISOString(), quantity: 'energy.import', value: 10_000 + i * 2, unit: 'Wh' }],
    }));
    // Out of order and every message twice.
    const order = [...messages.keys()].sort((a, b) => ((a * 37) % 60) - ((b * 37) % 60));
    for (const i of [...order, ...order]) {
      await device.publishAsync(`devices/${deviceId}/messages/events`, JSON.stringify(messages[i]), { qos: 1 });
    }
    const state = async () => (await platforms[0]!.db.query<{ messages_total: number; duplicates_total: number }>(
      'SELECT messages_total, duplicates_total FROM device_state WHERE device_id = $1', [deviceId]))[0];
    await expect.poll(async () => (await state())?.messages_total, { timeout: 15_000 }).toBe(120);
    expect((await state())!.duplicates_total).toBe(60);
    const stored = await platforms[0]!.db.query<{ value: number }>('SELECT value FROM readings WHERE device_id = $1 ORDER BY ts', [deviceId]);
    expect(stored.map((r) => r.value)).toEqual(messages.map((m) => m.readings[0]!.value));
    for (const platform of platforms) {
      const health = await platform.app.inject({ method: 'GET', url: '/health' });
      expect(health.json()).toMatchObject({ status: 'ok', broker: { status: 'ok', mode: 'external' }, database: { kind: 'postgres' } });
    }
  });

  it('ignores unknown devices and refuses bad messages without storing them', async () => {
    const stranger = await mqtt.connectAsync(mqttUrl!, { clientId: `gs-stranger-${group}`, protocolVersion: 5 });
    await stranger.publishAsync(`devices/gs-stranger-${group}/messages/events`, JSON.stringify({ readings: [{ ts: new Date().toISOString(), quantity: 'power.import', value: 1, unit: 'W' }] }), { qos: 1 });
    await stranger.endAsync();
    await device.publishAsync(`devices/${deviceId}/messages/events`, 'not json', { qos: 1 });
    await expect.poll(async () => (await platforms[0]!.db.query<{ rejected_total: number }>(
      'SELECT rejected_total FROM device_state WHERE device_id = $1', [deviceId]))[0]!.rejected_total, { timeout: 10_000 }).toBe(1);
    expect(await platforms[0]!.db.query('SELECT 1 FROM readings WHERE device_id = $1', [`gs-stranger-${group}`])).toEqual([]);
  });

  it('keeps the last heartbeat an agent publishes on the external broker (the managers\' devices page shows it)', async () => {
    const line = new LineHealth();
    const nowMs = Date.now();
    line.frame(nowMs - 2_000);
    const beat = buildHeartbeat({
      deviceId, version: '0.9.1', nowMs, startedAtMs: nowMs - 3_600_000, logLevel: 'info',
      queue: { messages: 4, readings: 120, bytes: 9_000, oldestAtMs: nowMs - 60_000, droppedReadings: 0, thinnedMessages: 0 },
      serial: { port: '/dev/gridshare-meter', profile: 'dsmr-p1', open: true, line },
      uplink: { transport: 'mqtt', sentMessages: 10, sentReadings: 300, refusedMessages: 0, lastAckAtMs: nowMs - 1_000, lastError: undefined },
      control: { mode: 'safe', acknowledged: 2, rejected: 1, lastCommandAt: null, pendingAnswers: 0 },
    });
    // QoS 0, as the agent sends it.
    await device.publishAsync(`devices/${deviceId}/heartbeat`, JSON.stringify(beat), { qos: 0 });
    const kept = async () => (await platforms[0]!.db.query<{ version: string; uptime_seconds: number; queue_messages: number; transport: string; control_mode: string; last_frame_at: Date | null }>(
      'SELECT version, uptime_seconds, queue_messages, transport, control_mode, last_frame_at FROM agent_heartbeats WHERE device_id = $1', [deviceId]))[0];
    await expect.poll(kept, { timeout: 10_000 }).toMatchObject({ version: '0.9.1', uptime_seconds: 3_600, queue_messages: 4, transport: 'mqtt', control_mode: 'safe' });
    expect((await kept())!.last_frame_at?.getTime()).toBe(nowMs - 2_000);

    await device.publishAsync(`devices/${deviceId}/heartbeat`, JSON.stringify({ ...beat, version: '1.0.1', uptimeSeconds: 7_200 }), { qos: 0 });
    await expect.poll(async () => (await kept())?.version, { timeout: 10_000 }).toBe('1.0.1');
    expect((await kept())!.uptime_seconds).toBe(7_200);
  });
});
