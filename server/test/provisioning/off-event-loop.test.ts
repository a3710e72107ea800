import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { storeKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { connectDevice, deviceCredentials, readingsMessage, sasFor } from '../support/devices.js';
import { readNdjson } from '../../../web/src/lib/ndjson.js';

const DEVICES = 2_000;

/**
 * While a batch's keys, QR codes and ZIP are being built, the platform keeps answering: /health
 * over HTTP and a reader's QoS 1 readings over MQTT (acknowledged only once stored) are served in
 * that phase, not after it. Built on the event loop, the whole phase is one block and nothing is.
 * Counts, not timings: bench:provision records the latencies.
 */
describe.each(storeKinds)('provisioning off the event loop on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let reader: MqttClient;
  /** The batch of the first test, whose sticker sheet the second draws. */
  let batchId = '';
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    const credentials = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    reader = await connectDevice(tp, w.provisionedA, sasFor(credentials));
  });
  afterAll(async () => {
    await reader?.endAsync();
    await tp?.close();
  });

  it(`answers /health and stores MQTT readings while the artefacts of ${DEVICES} devices are built`, async () => {
    const base = tp.platform.httpUrl.replace('localhost', '127.0.0.1');
    const phase = { artefactsFrom: Infinity, artefactsUntil: -Infinity, done: false };
    const healthAt: number[] = [];
    const storedAt: number[] = [];

    const batch = (async () => {
      const response = await fetch(`${base}/api/v1/communities/${w.communityA}/device-batches`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.managerA.token}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
        body: JSON.stringify({ count: DEVICES }),
      });
      expect(response.status).toBe(201);
      let last: { batch?: { id: string; size: number }; error?: string } = {};
      await readNdjson(response.body!, (value) => {
        last = value as typeof last;
        if ((value as { progress?: { phase: string } }).progress?.phase === 'artefacts') {
          phase.artefactsFrom = Math.min(phase.artefactsFrom, performance.now());
          phase.artefactsUntil = performance.now();
        }
      });
      phase.done = true;
      return last;
    })();

    const health = (async () => {
      while (!phase.done) {
        const response = await fetch(`${base}/health`);
        expect(response.status).toBe(200);
        healthAt.push(performance.now());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const ingest = (async () => {
      let value = 0;
      while (!phase.done) {
        value += 1;
        await reader.publishAsync(`devices/${w.provisionedA}/messages/events`,
          readingsMessage({ ts: new Date().toISOString(), quantity: 'power.import', value, unit: 'W' }), { qos: 1 });
        storedAt.push(performance.now());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    const [outcome] = await Promise.all([batch, health, ingest]);
    expect(outcome.batch?.size).toBe(DEVICES);
    const within = (times: number[]) => times.filter((t) => t > phase.artefactsFrom && t < phase.artefactsUntil).length;
    expect(phase.artefactsUntil).toBeGreaterThan(phase.artefactsFrom);
    expect(within(healthAt), 'health answers while artefacts were built').toBeGreaterThanOrEqual(3);
    expect(within(storedAt), 'readings acknowledged while artefacts were built').toBeGreaterThanOrEqual(3);
    batchId = outcome.batch!.id;
  });

  it(`answers /health while the sticker sheet of ${DEVICES} devices is drawn, and streams it as it is drawn`, async () => {
    const base = tp.platform.httpUrl.replace('localhost', '127.0.0.1');
    const chunksAt: number[] = [];
    const healthAt: number[] = [];
    let done = false;
    const download = (async () => {
      const response = await fetch(`${base}/api/v1/device-batches/${batchId}/stickers.pdf`, { headers: { authorization: `Bearer ${w.managerA.token}` } });
      expect(response.status).toBe(200);
      let bytes = 0;
      for await (const chunk of response.body! as unknown as AsyncIterable<Uint8Array>) {
        chunksAt.push(performance.now());
        bytes += chunk.length;
      }
      done = true;
      return bytes;
    })();
    const health = (async () => {
      while (!done) {
        expect((await fetch(`${base}/health`)).status).toBe(200);
        healthAt.push(performance.now());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const [bytes] = await Promise.all([download, health]);
    expect(bytes).toBeGreaterThan(DEVICES * 200);
    // Drawn on the event loop, the sheet would come in one burst with no answer in between.
    const [first, last] = [chunksAt[0]!, chunksAt.at(-1)!];
    expect(healthAt.filter((t) => t > first && t < last).length, 'health answers while the sheet came in').toBeGreaterThanOrEqual(3);
  });
});
