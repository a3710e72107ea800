import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { sasFor, type DeviceCredentials } from '../support/devices.js';
import { addSite, bindNewDevice } from '../support/sites.js';
import { DAY, HOUR, QUARTER, issueTime } from './support/history.js';

/** The heat pump's electric power by UTC hour: a morning boost. */
const heatPumpW = (t: number) => 1_000 + (((t % DAY) / HOUR >= 6 && (t % DAY) / HOUR < 9) ? 500 : 0);
const HOUSEHOLD_W = 300;

/**
 * A heat pump in operation: a site (the only one of community B) with a meter reader and a
 * heat-pump device (a sub-load) sending registers through the real ingest path; the intervals
 * record the heat pump's own energy, the forecast job forecasts it as kind `heat`, the routes
 * return it and score it; the community's consumption does not count the heat pump twice.
 */
describe.each(platformStoreKinds)('heat pumps from readings to forecasts on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let site: string;
  let nowMs = 0;
  let sendBetween: (fromMs: number, toMs: number) => Promise<void>;
  const base = issueTime();
  const iso = (ms: number) => new Date(ms).toISOString();
  const get = (url: string, token = w.memberB.token) => tp.call('GET', url, { token });

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { forecast: { now: () => nowMs, delayMs: 600_000 } });
    w = await buildWorld(tp);
    site = await addSite(tp, w.communityB, w.memberB.token);
    const meter = await bindNewDevice(tp, w.communityB, w.managerB.token, site);
    const heatPump = await bindNewDevice(tp, w.communityB, w.managerB.token, site, {}, 'heat-pump');
    const registers = new Map<DeviceCredentials, number>([[meter, 2_000_000], [heatPump, 700_000]]);
    sendBetween = async (fromMs, toMs) => {
      const readings = new Map<DeviceCredentials, { ts: string; quantity: string; value: number; unit: string }[]>([[meter, []], [heatPump, []]]);
      for (let t = fromMs; t <= toMs; t += QUARTER) {
        for (const device of [meter, heatPump]) readings.get(device)!.push({ ts: iso(t), quantity: 'energy.import', value: registers.get(device)!, unit: 'Wh' });
        registers.set(meter, registers.get(meter)! + (HOUSEHOLD_W + heatPumpW(t)) / 4);
        registers.set(heatPump, registers.get(heatPump)! + heatPumpW(t) / 4);
      }
      for (const [device, list] of readings) {
        const authorization = sasFor(device);
        for (let i = 0; i < list.length; i += 900) {
          const response = await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, { headers: { authorization }, body: { readings: list.slice(i, i + 900) } });
          expect(response.status, JSON.stringify(response.body)).toBe(200);
        }
      }
      await tp.platform.intervals.flush();
    };
    nowMs = base;
    await sendBetween(base - 3 * DAY, base);
  }, 60_000);
  afterAll(async () => {
    await tp?.close();
  });

  it('records the heat pump\'s own energy per quarter hour, to the Wh, still part of import', async () => {
    const morning = Math.floor((base - DAY) / DAY) * DAY + 5 * HOUR + 30 * 60_000;
    const intervals = await get(`/api/v1/metering-points/${site}/intervals?from=${iso(morning)}&to=${iso(morning + HOUR)}`);
    expect(intervals.status, JSON.stringify(intervals.body)).toBe(200);
    expect(intervals.body.map((r: { importWh: number; heatPumpWh: number; quality: string }) => [r.importWh, r.heatPumpWh, r.quality]))
      .toEqual([[325, 250, 'measured'], [325, 250, 'measured'], [450, 375, 'measured'], [450, 375, 'measured']]);
    // Before the first readings nothing is known: null, not 0.
    const before = await get(`/api/v1/metering-points/${site}/intervals?from=${iso(base - 4 * DAY)}&to=${iso(base - 4 * DAY + HOUR)}`);
    expect(before.body.every((r: { heatPumpWh: number | null }) => r.heatPumpWh === null)).toBe(true);
  });

  it('forecasts the heat pump as kind heat, returns it per point, keeps it out of the community\'s consumption a second time, and scores it', async () => {
    await tp.platform.forecast.flush();
    const range = `from=${iso(base + QUARTER)}&to=${iso(base + 12 * HOUR + QUARTER)}&horizon=intraday`;
    const point = await get(`/api/v1/metering-points/${site}/forecast?${range}`);
    expect(point.status, JSON.stringify(point.body)).toBe(200);
    expect(point.body.series.map((s: { kind: string }) => s.kind)).toEqual(['consumption', 'heat']);
    const [consumption, heat] = point.body.series as { values: { p10W: number; p50W: number; p90W: number }[] }[];
    expect(heat!.values).toHaveLength(48);
    for (const [k, v] of heat!.values.entries()) {
      expect(v.p10W).toBeLessThanOrEqual(v.p50W);
      expect(v.p50W).toBeLessThanOrEqual(v.p90W);
      // The series repeats every day: any model of the history gives the heat pump's power.
      expect(Math.abs(v.p50W - heatPumpW(base + (k + 1) * QUARTER))).toBeLessThanOrEqual(1);
    }
    const community = await get(`/api/v1/communities/${w.communityB}/forecast?${range}`);
    const total = community.body.series.find((s: { kind: string }) => s.kind === 'consumption');
    // The site is the community's only one: its consumption (heat pump included) is the community's.
    expect(total.values.map((v: { p50W: number }) => v.p50W)).toEqual(consumption!.values.map((v) => v.p50W));
    expect(community.body.series.map((s: { kind: string }) => s.kind)).not.toContain('heat');

    await sendBetween(base, base + 13 * HOUR);
    nowMs = base + 13 * HOUR;
    await tp.platform.forecast.flush();
    const accuracy = await get(`/api/v1/metering-points/${site}/forecast-accuracy`);
    expect(accuracy.status).toBe(200);
    const scored = accuracy.body.rows.filter((r: { kind: string; horizon: string }) => r.kind === 'heat' && r.horizon === 'intraday');
    expect(scored).toHaveLength(1);
    expect(scored[0]).toMatchObject({ seriesId: site, count: 48 });
    expect(scored[0].maeW).toBeLessThanOrEqual(1);
  });
});
