import mqtt, { type MqttClient } from 'mqtt';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPlatform, type Platform } from '../../src/platform/compose.js';
import type { StoreConfig } from '../../src/platform/store/db.js';
import { brokerPassword, giveDeviceKeys, readDeviceKeys } from '../../src/provisioning/index.js';
import type { KeyStore } from '../../src/secrets/index.js';
import { insertCommunityWithDevice } from './fixtures.js';
import type { TestMosquitto } from './mosquitto.js';

export interface OutageScenario {
  store: StoreConfig;
  secretKeys: KeyStore;
  broker: TestMosquitto;
  devices: number;
  /** Readings per second all devices publish together (QoS 1) while no Gridshare process consumes. */
  ratePerSecond: number;
  outageSeconds: number;
  /** Gives up waiting for the stored count when it has not grown for this long. */
  stallMs?: number;
  log?: (line: string) => void;
}

export interface OutageResult {
  /** Messages the broker acknowledged (PUBACK success) while Gridshare was down. */
  acknowledged: number;
  /** Messages the broker refused or never acknowledged. */
  notAcknowledged: number;
  /** Readings stored afterwards, and messages Gridshare handled (a redelivery counts twice). */
  stored: number;
  handled: number;
  publishSeconds: number;
  catchUpSeconds: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * A Gridshare outage on the external path: devices are registered with the broker, every
 * Gridshare process stops (their MQTT sessions stay in the broker), devices publish QoS 1 at the
 * given rate for the given time, Gridshare starts again with the same instance name and catches
 * up. Everything the broker acknowledged should be stored, each message handled once.
 */
export async function runBrokerOutage(scenario: OutageScenario): Promise<OutageResult> {
  const log = scenario.log ?? (() => undefined);
  const serviceAccount = { username: `gridshare-${randomBytes(4).toString('hex')}`, password: randomBytes(16).toString('hex') };
  const artefactsDir = mkdtempSync(join(tmpdir(), 'gridshare-outage-'));
  const group = `gs${randomBytes(4).toString('hex')}`;
  const start = () => startPlatform({
    store: scenario.store,
    secretKeys: scenario.secretKeys,
    http: { port: 0, host: '127.0.0.1', explicit: true },
    mqtt: { port: 0, host: '127.0.0.1', explicit: true },
    externalMqtt: {
      url: `mqtt://${serviceAccount.username}:${serviceAccount.password}@127.0.0.1:${scenario.broker.port}`,
      group, instanceId: 'outage', connections: 2, sessionExpirySeconds: 600, dynsecAdmin: scenario.broker.admin,
    },
    artefactsDir,
    forecast: { delayMs: 600_000 },
    optimise: { delayMs: 600_000 },
  });
  let platform: Platform | undefined = await start();
  const clients: MqttClient[] = [];
  try {
    const deviceIds: string[] = [];
    for (let i = 0; i < scenario.devices; i++) {
      const fixture = await insertCommunityWithDevice(platform.db, `gs-out-${randomBytes(6).toString('hex')}`);
      await giveDeviceKeys(platform.db, platform.secrets.box, { id: fixture.deviceId, communityId: fixture.communityId });
      platform.brokerSync!.deviceChanged(fixture.deviceId);
      deviceIds.push(fixture.deviceId);
    }
    await platform.brokerSync!.idle();
    const keys = await readDeviceKeys(platform.db, platform.secrets.box, deviceIds);
    log(`${deviceIds.length} devices registered with the broker; stopping Gridshare`);
    await platform.close();
    platform = undefined;

    for (const id of deviceIds) {
      clients.push(await mqtt.connectAsync(scenario.broker.url, {
        clientId: id, username: id, password: brokerPassword(keys.get(id)!.primary, id), protocolVersion: 5, reconnectPeriod: 0,
      }));
    }
    let acknowledged = 0;
    let notAcknowledged = 0;
    const pending: Promise<void>[] = [];
    const total = Math.round(scenario.ratePerSecond * scenario.outageSeconds);
    const tickMs = 50;
    const perTick = scenario.ratePerSecond * (tickMs / 1000);
    const base = Date.now() - 86_400_000;
    const began = performance.now();
    for (let sent = 0; sent < total;) {
      const due = Math.min(total, Math.round(((performance.now() - began) / tickMs + 1) * perTick));
      for (; sent < due; sent++) {
        const d = sent % clients.length;
        // Each message its own instant: a reading counted twice would show as a duplicate.
        const body = JSON.stringify({ readings: [{ ts: new Date(base + sent * 1000).toISOString(), quantity: 'energy.import', value: sent, unit: 'Wh' }] });
        pending.push(clients[d]!.publishAsync(`devices/${deviceIds[d]}/messages/events`, body, { qos: 1 }).then(
          // mqtt.js resolves on a PUBACK of success and rejects on a refusal.
          () => { acknowledged++; },
          () => { notAcknowledged++; },
        ));
      }
      await sleep(tickMs);
    }
    await Promise.all(pending);
    const publishSeconds = (performance.now() - began) / 1000;
    log(`${acknowledged} acknowledged, ${notAcknowledged} not, in ${publishSeconds.toFixed(1)} s; starting Gridshare again`);

    const restarted = performance.now();
    platform = await start();
    const counts = async () => (await platform!.db.query<{ stored: number; handled: number }>(
      `SELECT (SELECT count(*)::int FROM readings WHERE device_id = ANY($1::text[])) AS stored,
              (SELECT coalesce(sum(messages_total), 0)::int FROM device_state WHERE device_id = ANY($1::text[])) AS handled`, [deviceIds]))[0]!;
    let last = await counts();
    let lastChange = performance.now();
    while (last.handled < acknowledged && performance.now() - lastChange < (scenario.stallMs ?? 10_000)) {
      await sleep(200);
      const now = await counts();
      if (now.handled !== last.handled) lastChange = performance.now();
      last = now;
    }
    // A little longer: a message handled twice would show up now.
    await sleep(500);
    last = await counts();
    return { acknowledged, notAcknowledged, stored: last.stored, handled: last.handled, publishSeconds, catchUpSeconds: (performance.now() - restarted) / 1000 };
  } finally {
    for (const client of clients) await client.endAsync(true);
    await platform?.close();
    rmSync(artefactsDir, { recursive: true, force: true });
  }
}
