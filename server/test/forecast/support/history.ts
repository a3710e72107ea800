import { expect } from 'vitest';
import type { TestPlatform } from '../../support/platform.js';
import type { World } from '../../support/world.js';
import { deviceCredentials, sasFor } from '../../support/devices.js';
import { bindNewDevice } from '../../support/sites.js';

export const MIN = 60_000;
export const QUARTER = 15 * MIN;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/**
 * When the tests issue their forecast: 01:00 UTC (02:00 or 03:00 in Vienna) of the latest day
 * whose next 13 hours have passed. The synthetic roof and household follow UTC time of day, so a
 * fixed hour keeps every assertion independent of when the suite runs: the 12 hours after it take
 * in the roof's noon, and the day-ahead run starts at the coming local midnight.
 */
export function issueTime(nowMs = Date.now()): number {
  return Math.floor((nowMs - 14 * HOUR - HOUR) / DAY) * DAY + HOUR;
}

/** The first local midnight after `ms` in `timeZone`: where a day-ahead forecast issued at `ms` starts. */
export function nextLocalMidnight(ms: number, timeZone = 'Europe/Vienna'): number {
  const hour = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  for (let t = Math.floor(ms / QUARTER) * QUARTER + QUARTER; ; t += QUARTER) if (hour.format(t) === '00:00') return t;
}

/** memberA's prosumer site: a 5 kW roof (by UTC time of day, solar noon near 11:00 in Vienna) and a household behind it. */
export const pvW = (t: number) => {
  const h = ((t % DAY) / HOUR) - 11;
  return Math.abs(h) < 5 ? Math.round(5_000 * Math.cos((h / 5) * (Math.PI / 2))) : 0;
};
export const loadW = (t: number) => {
  const h = (t % DAY) / HOUR;
  return 400 + (h >= 5 && h < 7 ? 600 : 0) + (h >= 17 && h < 21 ? 900 : 0);
};

/**
 * Meter readings of A's two sites, sent over HTTP as their readers would: memberA's billing meter
 * (import, export, PV registers) and a new reader on memberA2's site (import, a household two
 * hours later than A's). Returns `sendBetween(from, to)`, which sends every quarter hour of
 * [from, to] and waits for the intervals.
 */
export async function siteHistory(tp: TestPlatform, w: World): Promise<(fromMs: number, toMs: number) => Promise<void>> {
  const deviceA2 = (await bindNewDevice(tp, w.communityA, w.managerA.token, w.meteringPointA2)).deviceId;
  const registers = new Map<string, Record<string, number>>();
  const reg = (device: string) => {
    let r = registers.get(device);
    if (!r) registers.set(device, (r = { import: 1_000_000, export: 500_000, pv: 100_000 }));
    return r;
  };
  return async (fromMs, toMs) => {
    const a: { ts: string; quantity: string; value: number; unit: string }[] = [];
    const a2: typeof a = [];
    for (let t = fromMs; t <= toMs; t += QUARTER) {
      const ts = new Date(t).toISOString();
      const ra = reg(w.provisionedA);
      a.push({ ts, quantity: 'energy.import', value: ra.import!, unit: 'Wh' }, { ts, quantity: 'energy.export', value: ra.export!, unit: 'Wh' },
        { ts, quantity: 'pv.energy', value: ra.pv!, unit: 'Wh' });
      const pv = pvW(t) / 4;
      const load = loadW(t) / 4;
      ra.import! += Math.max(0, load - pv);
      ra.export! += Math.max(0, pv - load);
      ra.pv! += pv;
      const r2 = reg(deviceA2);
      a2.push({ ts, quantity: 'energy.import', value: r2.import!, unit: 'Wh' });
      r2.import! += loadW(t + 2 * HOUR) / 4;
    }
    for (const [device, readings] of [[w.provisionedA, a], [deviceA2, a2]] as const) {
      const authorization = sasFor(await deviceCredentials(tp, w.managerA.token, device));
      for (let i = 0; i < readings.length; i += 900) {
        const response = await tp.call('POST', `/api/v1/devices/${device}/readings`, { headers: { authorization }, body: { readings: readings.slice(i, i + 900) } });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
      }
    }
    await tp.platform.intervals.flush();
  };
}
