import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { unique } from '../support/platform.js';
import { deviceCredentials, sasFor } from '../support/devices.js';

const HOUR = 3_600_000;

describe.each(platformStoreKinds)('from readings to quarter hours on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  });
  afterAll(() => tp?.close());

  /** A fresh metering point with a provisioned reader bound to it. */
  async function site() {
    const point = (await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, {
      token: w.managerA.token, body: { memberId: w.memberIdA, name: 'Site', gridConnectionId: unique('ATI'), role: 'prosumer' },
    })).body.id as string;
    const batch = (await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 1 } })).body;
    const deviceId = batch.deviceIds[0] as string;
    await tp.call('PATCH', `/api/v1/devices/${deviceId}`, { token: w.managerA.token, body: { meteringPointId: point } });
    const credentials = await deviceCredentials(tp, w.managerA.token, deviceId);
    const send = async (readings: { ts: number; quantity: string; value: number; unit: string }[]) => {
      const response = await tp.call('POST', `/api/v1/devices/${deviceId}/readings`, {
        body: { readings: readings.map((r) => ({ ...r, ts: new Date(r.ts).toISOString() })) }, headers: { authorization: sasFor(credentials) },
      });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
    };
    const intervals = async (from: number, to: number) => {
      await tp.platform.intervals.flush();
      return (await tp.call('GET', `/api/v1/metering-points/${point}/intervals?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`, { token: w.memberA.token })).body;
    };
    return { point, send, intervals };
  }

  // Two hours ago, aligned: a constant 1.2 kW import and 0.4 kW export, read every minute.
  const base = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
  const minuteReadings = Array.from({ length: 121 }, (_, i) => [
    { ts: base + i * 60_000, quantity: 'energy.import', value: 1_000_000 + i * 20, unit: 'Wh' },
    { ts: base + i * 60_000, quantity: 'energy.export', value: 500_000 + Math.floor((i * 20) / 3), unit: 'Wh' },
  ]);

  it('turns register readings into measured quarter-hour energy, and leaves the unknown missing', async () => {
    const s = await site();
    for (let i = 0; i < minuteReadings.length; i += 30) await s.send(minuteReadings.slice(i, i + 30).flat());
    const result = await s.intervals(base, base + 3 * HOUR);
    expect(result).toHaveLength(12);
    expect(result.slice(0, 8).map((i: { importWh: number; quality: string }) => [i.importWh, i.quality])).toEqual(Array(8).fill([300, 'measured']));
    expect(result.slice(0, 8).reduce((sum: number, i: { exportWh: number }) => sum + i.exportWh, 0)).toBe(Math.floor((120 * 20) / 3));
    expect(result.slice(8).every((i: { importWh: null; quality: string }) => i.importWh === null && i.quality === 'missing')).toBe(true);
  });

  it('gives identical intervals for duplicated and reordered data, and recomputes after late data', async () => {
    const inOrder = await site();
    for (let i = 0; i < minuteReadings.length; i += 30) await inOrder.send(minuteReadings.slice(i, i + 30).flat());
    const expected = await inOrder.intervals(base, base + 2 * HOUR);

    const shuffled = await site();
    // Every other minute first (a gap, so the first computation differs), then the rest backwards, then all again.
    const even = minuteReadings.filter((_, i) => i % 2 === 0);
    const odd = minuteReadings.filter((_, i) => i % 2 === 1).reverse();
    await shuffled.send(even.slice(0, 40).flat());
    await shuffled.send(even.slice(40).flat());
    const partial = await shuffled.intervals(base, base + 2 * HOUR);
    expect(partial.map((i: { importWh: number }) => i.importWh).reduce((a: number, b: number) => a + b, 0)).toBe(2400);
    for (let i = 0; i < odd.length; i += 20) await shuffled.send(odd.slice(i, i + 20).flat());
    for (let i = 0; i < minuteReadings.length; i += 40) await shuffled.send(minuteReadings.slice(i, i + 40).flat());
    expect(await shuffled.intervals(base, base + 2 * HOUR)).toEqual(expected);
  });

  it('fills a late hour: missing first, measured once the readings arrive', async () => {
    const s = await site();
    const first = minuteReadings.slice(0, 31).flat();
    const last = minuteReadings.slice(90).flat();
    await s.send(first);
    await s.send(last);
    const withGap = await s.intervals(base, base + 2 * HOUR);
    // 00:30 → 01:30 lies between readings an hour apart: estimated, and evenly spread.
    expect(withGap.slice(2, 6).map((i: { importWh: number; quality: string }) => [i.importWh, i.quality])).toEqual(Array(4).fill([300, 'estimated']));
    await s.send(minuteReadings.slice(31, 90).flat());
    const filled = await s.intervals(base, base + 2 * HOUR);
    expect(filled.every((i: { quality: string }) => i.quality === 'measured')).toBe(true);
  });

  it('computes battery charge and discharge per quarter hour from registers, or from power samples', async () => {
    const s = await site();
    // Registers: charging 10 Wh a minute in the first half hour, discharging 5 Wh a minute in the second.
    await s.send(Array.from({ length: 61 }, (_, m) => [
      { ts: base + m * 60_000, quantity: 'energy.import', value: 1_000 + m, unit: 'Wh' },
      { ts: base + m * 60_000, quantity: 'battery.energy.charge', value: 50_000 + 10 * Math.min(m, 30), unit: 'Wh' },
      { ts: base + m * 60_000, quantity: 'battery.energy.discharge', value: 70_000 + 5 * Math.max(0, m - 30), unit: 'Wh' },
    ]).flat());
    const byRegister = await s.intervals(base, base + HOUR);
    expect(byRegister.map((i: { batteryChargeWh: number; batteryDischargeWh: number }) => [i.batteryChargeWh, i.batteryDischargeWh]))
      .toEqual([[150, 0], [150, 0], [0, 75], [0, 75]]);

    const p = await site();
    // Power only: 2 kW charging for an hour, sampled every minute = 500 Wh per quarter hour.
    await p.send(Array.from({ length: 61 }, (_, m) => [
      { ts: base + m * 60_000, quantity: 'energy.import', value: 1_000, unit: 'Wh' },
      { ts: base + m * 60_000, quantity: 'battery.power.charge', value: 2_000, unit: 'W' },
    ]).flat());
    const byPower = await p.intervals(base, base + HOUR);
    expect(byPower.map((i: { batteryChargeWh: number; batteryDischargeWh: number | null }) => [i.batteryChargeWh, i.batteryDischargeWh]))
      .toEqual([[500, null], [500, null], [500, null], [500, null]]);
  });
});
