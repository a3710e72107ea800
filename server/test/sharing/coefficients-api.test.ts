import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, joinA, PARTICIPATION_START, type Joiner, type World } from '../support/world.js';
import { Q, storeIntervals } from './support/stored.js';
import { memberQuarters } from '../../src/sharing/index.js';

const HOUR = 3_600_000;

/**
 * Coefficient files as the community's time-varying key. In the hour H memberA exports 1000 Wh
 * per quarter hour, memberA2 imports 400 and C imports 600 (4000 / 1600 / 2400 Wh in the hour).
 */
describe.each(platformStoreKinds)('coefficient files through the API on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let c: Joiner;
  let cupsA2: string;
  const H = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
  const year = new Date(H).getUTCFullYear();
  // Spain's hour of the year counts elapsed hours from local midnight of 1 January at UTC+1.
  const hourOfYear = (H - (Date.UTC(year, 0, 1) - HOUR)) / HOUR + 1;
  const url = () => `/api/v1/communities/${w.communityA}/allocation-coefficients`;
  const upload = (file: string, query: string, token = w.managerA.token, contentType = 'text/csv') =>
    tp.call('PUT', `${url()}?${query}`, { token, rawBody: file, headers: { 'content-type': contentType } });
  const hourTotals = async (memberId: string) => {
    const quarters = await memberQuarters(tp.platform.db, memberId, H, H + HOUR);
    return { fromCommunity: quarters.reduce((sum, q) => sum + q.fromCommunityWh, 0), toCommunity: quarters.reduce((sum, q) => sum + q.toCommunityWh, 0) };
  };
  const settle = () => tp.platform.sharing.flush();

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    c = await joinA(tp, w, 'coefficients', PARTICIPATION_START);
    cupsA2 = (await tp.call('GET', `/api/v1/metering-points/${w.meteringPointA2}`, { token: w.managerA.token })).body.gridConnectionId;
    expect((await tp.call('PATCH', `/api/v1/communities/${w.communityA}`, { token: w.managerA.token, body: { allocationRule: 'es-coefficients' } })).status).toBe(200);
    for (let q = 0; q < 4; q++) {
      await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, { [H + q * Q]: { importWh: 0, exportWh: 1000 } });
      await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [H + q * Q]: { importWh: 400, exportWh: 0 } });
      await storeIntervals(tp.platform.db, w.communityA, c.pointId, { [H + q * Q]: { importWh: 600, exportWh: 0 } });
    }
    await settle();
  });
  afterAll(() => tp?.close());

  it('shares nothing under es-coefficients without a key', async () => {
    expect(await hourTotals(w.memberIdA2)).toEqual({ fromCommunity: 0, toCommunity: 0 });
    expect((await tp.call('GET', url(), { token: w.managerA.token })).body).toEqual({ periods: 0, from: null, to: null, periodMinutes: [] });
  });

  it('refuses bad files, wrong callers and wrong content types, and changes nothing', async () => {
    const name = `fileName=ES0031405000000001AB0F_${year}.txt`;
    const overOne = await upload(`${cupsA2};${hourOfYear};0,6\n${c.gridConnectionId};${hourOfYear};0,5\n`, name);
    expect(overOne.status).toBe(400);
    expect(overOne.body.message).toMatch(/add up to more than 1/);
    const badLine = await upload(`${cupsA2};${hourOfYear};0,25\n${c.gridConnectionId};${hourOfYear}\n`, name);
    expect(badLine.status).toBe(400);
    expect(badLine.body.message).toMatch(/line 2/);
    expect((await upload(`${cupsA2};${hourOfYear};NaN\n`, name)).status).toBe(400);
    expect((await upload(`${cupsA2};${hourOfYear};0,25\n`, '')).body.message).toMatch(/year/);
    expect((await upload('', name)).status).toBe(400);
    expect((await upload(`${cupsA2};${hourOfYear};0,25\n`, `${name}&resolution=7`)).status).toBe(400);
    expect((await upload(`${cupsA2};${hourOfYear};0,25\n`, name, w.memberA2.token)).status).toBe(403);
    expect((await upload(`${cupsA2};${hourOfYear};0,25\n`, name, w.managerB.token)).status).toBe(404);
    // text/plain is refused everywhere (a cross-site form could send it).
    expect((await upload(`${cupsA2};${hourOfYear};0,25\n`, name, w.managerA.token, 'text/plain')).status).toBe(415);
    expect((await upload('x'.repeat(65 * 1024 * 1024), name)).status).toBe(413);
    // An admin passes any manager check, but a community that does not exist is not found (not a 500).
    const nowhere = `/api/v1/communities/${randomUUID()}`;
    expect((await tp.call('PUT', `${nowhere}/allocation-coefficients?${name}`, {
      token: tp.admin.token, rawBody: `${cupsA2};${hourOfYear};0,25\n`, headers: { 'content-type': 'text/csv' },
    })).status).toBe(404);
    expect((await tp.call('GET', `${nowhere}/allocation-coefficients`, { token: tp.admin.token })).status).toBe(404);
    expect((await tp.call('PUT', `${nowhere}/allocation-shares`, { token: tp.admin.token, body: { shares: [] } })).status).toBe(404);
    expect((await tp.call('GET', `${nowhere}/allocation-shares`, { token: tp.admin.token })).status).toBe(404);
    expect((await tp.call('PUT', `${nowhere}/co2-intensity`, { token: tp.admin.token, body: { gramsPerKWh: 200 } })).status).toBe(404);
    expect((await tp.call('GET', url(), { token: w.managerA.token })).body.periods).toBe(0);
    await settle();
    expect(await hourTotals(w.memberIdA2)).toEqual({ fromCommunity: 0, toCommunity: 0 });
  });

  it('splits an hour by Spain\'s coefficient file, CUPS by CUPS, and leaves unknown supply points\' part to the grid', async () => {
    const file = `${cupsA2};${hourOfYear};0,250000\n${c.gridConnectionId};${hourOfYear};0,500000\nES0031999999999999ZZ0F;${hourOfYear};0,250000\n`;
    const response = await upload(file, `fileName=ES0031405000000001AB0F_${year}.txt`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toEqual({
      periods: 1, periodMinutes: 60, from: new Date(H).toISOString(), to: new Date(H + HOUR).toISOString(), coefficients: 2,
      unmatched: ['ES0031999999999999ZZ0F'],
    });
    await settle();
    // 4000 Wh in the hour: A2 is entitled to 1000 (≤ 1600), C to 2000 (≤ 2400), the unknown 1000 goes to the grid.
    expect(await hourTotals(w.memberIdA2)).toEqual({ fromCommunity: 1000, toCommunity: 0 });
    expect(await hourTotals(c.memberId)).toEqual({ fromCommunity: 2000, toCommunity: 0 });
    expect(await hourTotals(w.memberIdA)).toEqual({ fromCommunity: 0, toCommunity: 3000 });
    expect((await tp.call('GET', url(), { token: w.managerA.token })).body).toEqual({
      periods: 1, from: new Date(H).toISOString(), to: new Date(H + HOUR).toISOString(), periodMinutes: [60],
    });
  });

  it('replaces the covered periods with a 15-minute PMO file (France, dynamique simple), by member id', async () => {
    expect((await tp.call('PATCH', `/api/v1/communities/${w.communityA}`, { token: w.managerA.token, body: { allocationRule: 'fr-acc-dynamic-simple' } })).status).toBe(200);
    const rows = [0, 1, 2, 3].flatMap((q) => [
      `${w.memberIdA2},${new Date(H + q * Q).toISOString()},0.1`,
      `${c.memberId},${new Date(H + q * Q).toISOString()},0.9`,
    ]);
    const response = await upload(['member_id,hour_of_year_or_timestamp,coefficient', ...rows].join('\r\n'), 'resolution=15', w.managerA.token);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body).toMatchObject({ periods: 4, periodMinutes: 15, coefficients: 8, unmatched: [] });
    await settle();
    // Per quarter: A2 min(400, 100), C min(600, 900).
    expect(await hourTotals(w.memberIdA2)).toEqual({ fromCommunity: 400, toCommunity: 0 });
    expect(await hourTotals(c.memberId)).toEqual({ fromCommunity: 2400, toCommunity: 0 });
    expect(await hourTotals(w.memberIdA)).toEqual({ fromCommunity: 0, toCommunity: 2800 });
    expect((await tp.call('GET', url(), { token: w.managerA.token })).body).toMatchObject({ periods: 4, periodMinutes: [15] });
  });
});
