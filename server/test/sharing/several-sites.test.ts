import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, joinA, type World } from '../support/world.js';
import { addSite } from '../support/sites.js';
import { memberRow, Q, storeIntervals } from './support/stored.js';

/**
 * A member's energy is the sum over all their metering points, whichever order the points were
 * added in and whatever was split before: a site without data yet erases nothing, and once its
 * data arrives both sites count. Community A splits dynamically; memberA exports 1000 Wh.
 */
describe.each(platformStoreKinds)('a member with several sites on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  const T = Math.floor((Date.now() - 3 * 3_600_000) / Q) * Q;
  const settle = () => tp.platform.sharing.flush();
  const resplitFrom = async (from: number) => {
    const response = await tp.call('PUT', `/api/v1/communities/${w.communityA}/allocation-shares`, {
      token: w.managerA.token, body: { validFrom: new Date(from).toISOString(), shares: [] },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    await settle();
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    for (const t of [T, T + Q, T + 2 * Q]) {
      await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, { [t]: { importWh: 0, exportWh: 1000 } });
      await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [t]: { importWh: 400, exportWh: 0 } });
    }
    await settle();
  });
  afterAll(() => tp?.close());

  it('a second site without data changes nothing, even when the quarter hours are split again', async () => {
    expect(await memberRow(tp.platform.db, w.memberIdA2, T)).toMatchObject({ consumption: 400, fromCommunity: 400, quality: 'measured', provisional: false });
    await addSite(tp, w.communityA, w.memberA2.token);
    await resplitFrom(T);
    for (const t of [T, T + Q, T + 2 * Q]) {
      expect(await memberRow(tp.platform.db, w.memberIdA2, t)).toMatchObject({ consumption: 400, fromCommunity: 400, fromGrid: 0, quality: 'measured', provisional: false });
      expect(await memberRow(tp.platform.db, w.memberIdA, t)).toMatchObject({ production: 1000, toCommunity: 400, toGrid: 600, provisional: false });
    }
    const totals = (await tp.call('GET', `/api/v1/communities/${w.communityA}/energy?from=${new Date(T).toISOString()}&to=${new Date(T + 3 * Q).toISOString()}&resolution=15m`,
      { token: w.managerA.token })).body.totals;
    expect(totals).toMatchObject({ consumptionWh: 1200, fromCommunityWh: 1200 });
  });

  it('counts both sites once the second one has data, from its first quarter hour on', async () => {
    const sites = (await tp.call('GET', `/api/v1/communities/${w.communityA}/metering-points`, { token: w.memberA2.token })).body as { id: string }[];
    const second = sites.find((s) => s.id !== w.meteringPointA2)!.id;
    await storeIntervals(tp.platform.db, w.communityA, second, { [T + Q]: { importWh: 300, exportWh: 0 }, [T + 2 * Q]: { importWh: 800, exportWh: 0 } });
    await settle();
    expect(await memberRow(tp.platform.db, w.memberIdA2, T)).toMatchObject({ consumption: 400, fromCommunity: 400, quality: 'measured' });
    expect(await memberRow(tp.platform.db, w.memberIdA2, T + Q)).toMatchObject({ consumption: 700, fromCommunity: 700, fromGrid: 0, quality: 'measured', provisional: false });
    // 1000 Wh for 1200 Wh of demand: all of it goes to this member, the rest from the grid.
    expect(await memberRow(tp.platform.db, w.memberIdA2, T + 2 * Q)).toMatchObject({ consumption: 1200, fromCommunity: 1000, fromGrid: 200 });
    await resplitFrom(T);
    expect(await memberRow(tp.platform.db, w.memberIdA2, T + Q)).toMatchObject({ consumption: 700, quality: 'measured' });
  });

  it('gives the same result whichever order the sites were added in', async () => {
    // A newcomer registers an empty site first, then the one with data.
    const joiner = await joinA(tp, w, 'twosites', new Date(T).toISOString());
    const withData = await addSite(tp, w.communityA, joiner.user.token);
    await storeIntervals(tp.platform.db, w.communityA, withData, { [T]: { importWh: 250, exportWh: 0 } });
    await resplitFrom(T);
    expect(await memberRow(tp.platform.db, joiner.memberId, T)).toMatchObject({ consumption: 250, quality: 'measured', provisional: false });
    // A member whose sites have no data at all is not known, never a zero.
    const empty = await joinA(tp, w, 'nodata', new Date(T).toISOString());
    await resplitFrom(T);
    expect(await memberRow(tp.platform.db, empty.memberId, T)).toMatchObject({ consumption: 0, quality: 'missing' });
  });
});
