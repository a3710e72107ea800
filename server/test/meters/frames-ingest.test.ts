import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { connectDevice, deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';
import { dsmrTelegramAt } from './telegrams.js';

const secondsAgo = (s: number) => new Date(Math.floor(Date.now() / 1000 - s) * 1000);

describe.each(platformStoreKinds)('raw meter frames over HTTP and MQTT on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let device: DeviceCredentials;
  let client: MqttClient | undefined;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    device = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
  });
  afterAll(async () => {
    await client?.endAsync(true);
    await tp?.close();
  });

  const stored = async (quantity: string) =>
    (await tp.platform.db.query<{ ts: Date; value: number }>('SELECT ts, value FROM readings WHERE device_id = $1 AND quantity = $2 ORDER BY ts', [device.deviceId, quantity]))
      .map((r) => ({ ts: r.ts.toISOString(), value: r.value }));
  const postFrame = (frame: Buffer, format = 'dsmr', token = sasFor(device)) => tp.call('POST', `/api/v1/devices/${device.deviceId}/frames/${format}`, {
    rawBody: frame, headers: { authorization: token, 'content-type': 'application/octet-stream' },
  });
  const state = async () => (await tp.call('GET', `/api/v1/devices/${device.deviceId}/state`, { token: w.managerA.token })).body;

  it('decodes a P1 telegram posted over HTTP into readings at the meter\'s time', async () => {
    const at = secondsAgo(120);
    const response = await postFrame(dsmrTelegramAt(at, 4_426));
    expect(response.status).toBe(200);
    expect(await stored('energy.import.t1')).toEqual([{ ts: at.toISOString(), value: 4426 }]);
    expect(await stored('power.import')).toEqual([{ ts: at.toISOString(), value: 244 }]);
    expect(await stored('gas.volume')).toEqual([{ ts: at.toISOString(), value: 0.107 }]);
    // The same frame again is a duplicate, not a second reading.
    expect((await postFrame(dsmrTelegramAt(at, 4_426))).status).toBe(200);
    expect(await stored('energy.import.t1')).toHaveLength(1);
  });

  it('refuses a corrupted telegram with the reason and stores nothing of it', async () => {
    const at = secondsAgo(90);
    const frame = dsmrTelegramAt(at, 4_500);
    frame[60] = frame[60]! ^ 0x04;
    const response = await postFrame(frame);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('bad_request');
    expect(response.body.message).toMatch(/^bad-frame: crc: CRC-16/);
    expect((await stored('energy.import.t1')).map((r) => r.ts)).not.toContain(at.toISOString());
    const unknownFormat = await postFrame(dsmrTelegramAt(at, 4_500), 'nope');
    expect(unknownFormat.status).toBe(400);
    expect(unknownFormat.body.message).toMatch(/unknown frame format/);
    expect((await postFrame(dsmrTelegramAt(at, 4_500), 'dsmr', 'SharedAccessSignature sr=x&sig=y&se=1')).status).toBe(401);
  });

  it('takes frames on devices/{id}/frames/{format} over MQTT, acknowledged once stored', async () => {
    client = await connectDevice(tp, device.deviceId, sasFor(device));
    const at = secondsAgo(60);
    await client.publishAsync(`devices/${device.deviceId}/frames/dsmr`, dsmrTelegramAt(at, 4_600), { qos: 1 });
    expect((await stored('energy.import.t1')).at(-1)).toEqual({ ts: at.toISOString(), value: 4600 });
    const before = (await state()).rejectedTotal;
    await client.publishAsync(`devices/${device.deviceId}/frames/dsmr`, Buffer.from('/XYZ5 garbage\r\n!'), { qos: 1 });
    await expect.poll(async () => (await state()).rejectedTotal).toBe(before + 1);
    expect((await state()).lastError).toMatch(/^bad-frame/);
  });
});
