import { createCipheriv } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { sasFor, type DeviceCredentials } from '../support/devices.js';
import { addSite, bindNewDevice } from '../support/sites.js';
import { decryptGloCiphering } from '../../src/meters/domain/dlms/glo-ciphering.js';
import { dlmsApdu } from '../../src/meters/domain/decoders/dlms.js';
import { dsmrTelegramAt } from './telegrams.js';
import { hex, loadVector } from './vectors.js';

const QUARTER = 15 * 60_000;

/** The Netz NÖ notification re-stamped at `at` (UTC, deviation 0) and sent as a suite-1 APDU (SC 0x21), as the Tirol Kaifa MA309 does. */
function suiteOneFrameAt(at: Date): { frame: Buffer; key: string } {
  const noe = loadVector('at-netznoe-evn-kaifa-mbus.hex');
  const key = hex(noe.entry.key!);
  const opened = decryptGloCiphering(dlmsApdu(noe.bytes, {}), key, undefined);
  const stamp = Buffer.alloc(12);
  stamp.writeUInt16BE(at.getUTCFullYear(), 0);
  stamp.set([at.getUTCMonth() + 1, at.getUTCDate(), ((at.getUTCDay() + 6) % 7) + 1, at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), 0, 0, 0, 0], 2);
  // The published time stands in the notification's header and in its body.
  const published = Buffer.from('07e5091b01092f0f00ff8880', 'hex');
  const plaintext = Buffer.from(opened.plaintext);
  let replaced = 0;
  for (let i = plaintext.indexOf(published); i >= 0; i = plaintext.indexOf(published, i + 12), replaced++) stamp.copy(plaintext, i);
  expect(replaced).toBe(2);
  const counter = Buffer.of(0, 0, 0, 36);
  const ctr = createCipheriv('aes-128-ctr', key, Buffer.concat([Buffer.from(opened.systemTitle), counter, Buffer.of(0, 0, 0, 2)]));
  const content = Buffer.concat([Buffer.of(0x21), counter, ctr.update(plaintext), ctr.final()]);
  const frame = Buffer.concat([Buffer.of(0xdb, 0x08), Buffer.from(opened.systemTitle), Buffer.of(0x81, content.length), content]);
  return { frame, key: noe.entry.key! };
}

describe.each(platformStoreKinds)('meter frames through the whole path, frame in → interval out, on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  });
  afterAll(async () => {
    await tp?.close();
  });

  const postFrame = (device: DeviceCredentials, frame: Buffer, format: string) => tp.call('POST', `/api/v1/devices/${device.deviceId}/frames/${format}`, {
    rawBody: frame, headers: { authorization: sasFor(device), 'content-type': 'application/octet-stream' },
  });
  const intervals = async (pointId: string, from: number, to: number) =>
    (await tp.call('GET', `/api/v1/metering-points/${pointId}/intervals?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`, { token: w.managerA.token })).body;

  it('DSMR 5 telegrams that carry only tariff registers (1.8.1/1.8.2, 2.8.1/2.8.2) give import and export per quarter hour', async () => {
    const pointId = await addSite(tp, w.communityA, w.memberA.token, { role: 'prosumer' });
    const device = await bindNewDevice(tp, w.communityA, w.managerA.token, pointId);
    const base = Math.floor(Date.now() / QUARTER) * QUARTER - 4 * QUARTER;
    const registers = [
      { importT1: 1_000, importT2: 5_000, exportT1: 2_000, exportT2: 700 },
      { importT1: 1_100, importT2: 5_040, exportT1: 2_000, exportT2: 700 },
      { importT1: 1_250, importT2: 5_040, exportT1: 2_010, exportT2: 705 },
      { importT1: 1_300, importT2: 5_100, exportT1: 2_030, exportT2: 705 },
    ];
    for (const [i, r] of registers.entries()) {
      const response = await postFrame(device, dsmrTelegramAt(new Date(base + i * QUARTER), r.importT1, { importT2Wh: r.importT2, exportT1Wh: r.exportT1, exportT2Wh: r.exportT2 }), 'dsmr');
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    }
    // The tariff registers stay (time-of-use billing); the totals are their sums at the same instant.
    const stored = await tp.platform.db.query<{ quantity: string; value: number }>(
      `SELECT quantity, value FROM readings WHERE device_id = $1 AND quantity LIKE 'energy.%' AND ts = $2 ORDER BY quantity`, [device.deviceId, new Date(base)]);
    expect(stored).toEqual([
      { quantity: 'energy.export', value: 2_700 }, { quantity: 'energy.export.t1', value: 2_000 }, { quantity: 'energy.export.t2', value: 700 },
      { quantity: 'energy.import', value: 6_000 }, { quantity: 'energy.import.t1', value: 1_000 }, { quantity: 'energy.import.t2', value: 5_000 },
    ]);
    await tp.platform.intervals.flush();
    const rows = await intervals(pointId, base, base + 3 * QUARTER);
    expect(rows.map((r: { importWh: number; exportWh: number; quality: string }) => [r.importWh, r.exportWh, r.quality])).toEqual([
      [140, 0, 'measured'], [150, 15, 'measured'], [110, 20, 'measured'],
    ]);
  });

  it('an Austrian meter sending security suite 1 (SC 0x21) is decoded and stored, not refused', async () => {
    const pointId = await addSite(tp, w.communityA, w.memberA.token);
    const device = await bindNewDevice(tp, w.communityA, w.managerA.token, pointId);
    const at = new Date(Math.floor(Date.now() / 1000 - 120) * 1000);
    const { frame, key } = suiteOneFrameAt(at);
    expect((await tp.call('PUT', `/api/v1/devices/${device.deviceId}/meter-keys`, { token: w.managerA.token, body: { encryptionKey: key } })).status).toBe(204);
    const response = await postFrame(device, frame, 'dlms');
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const stored = await tp.platform.db.query<{ ts: Date; value: number }>(
      `SELECT ts, value FROM readings WHERE device_id = $1 AND quantity = 'energy.import'`, [device.deviceId]);
    expect(stored.map((r) => [r.ts.toISOString(), r.value])).toEqual([[at.toISOString(), 12_937]]);
  });
});
