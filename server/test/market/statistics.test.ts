import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { storeIntervals } from '../sharing/support/stored.js';
import { iso, MIN, Q, SETTINGS, T0 } from './operation-support.js';

/**
 * The manager's order-book depth and market statistics, on hand-built slots whose figures are
 * worked out below by hand (uniform clearing, grid fee 0.0100).
 */
describe.each(platformStoreKinds)('market depth and statistics on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let clock = T0;
  const S = T0 + 12 * Q;

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { market: { now: () => clock, lookbackMs: 2 * 60 * MIN, finalDelayMs: 30 * MIN, everyMs: 3_600_000 } });
    w = await buildWorld(tp);
    clock = S - 60 * MIN;
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: SETTINGS })).status).toBe(200);
    const place = async (who: 'A' | 'A2', slot: number, side: 'buy' | 'sell', energyWh: number, price: string) => {
      clock += 1_000;
      const [token, memberId] = who === 'A' ? [w.memberA.token, w.memberIdA] : [w.memberA2.token, w.memberIdA2];
      const response = await tp.call('POST', `/api/v1/members/${memberId}/market/orders`, { token, body: { slotStart: iso(slot), side, energyWh, price } });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      return response.body.id as string;
    };
    // Slot S: offers 800 and 200 at 0.0800 and 500 at 0.1500; bids (less the fee 0.0100) 600 at 0.1900, 400 at 0.1600, 300 at 0.0900;
    // a bid withdrawn and a bid refused at clearing (the ceiling is lowered below it) are in no curve.
    await place('A', S, 'sell', 800, '0.0800');
    await place('A', S, 'sell', 200, '0.0800');
    await place('A', S, 'sell', 500, '0.1500');
    await place('A2', S, 'buy', 600, '0.2000');
    await place('A2', S, 'buy', 400, '0.1700');
    await place('A2', S, 'buy', 300, '0.1000');
    const withdrawn = await place('A2', S, 'buy', 100, '0.1200');
    expect((await tp.call('DELETE', `/api/v1/market-orders/${withdrawn}`, { token: w.memberA2.token })).status).toBe(204);
    await place('A2', S, 'buy', 50, '0.3000');
    // Slot S + Q: 100 Wh offered at 0.1000 and bid for at 0.2100 (0.2000 less the fee).
    await place('A', S + Q, 'sell', 100, '0.1000');
    await place('A2', S + Q, 'buy', 100, '0.2100');
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, {
      token: w.managerA.token, body: { ...SETTINGS, ceiling: '0.2500' },
    })).status).toBe(200);
    clock = S + Q - 5 * MIN;
    await tp.platform.market.flush();
    // The community shared 800 Wh in S and 400 Wh in S + Q (dynamic: A's export up to A2's import).
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, { [S]: { importWh: 0, exportWh: 1000 }, [S + Q]: { importWh: 0, exportWh: 400 } });
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [S]: { importWh: 800, exportWh: 0 }, [S + Q]: { importWh: 600, exportWh: 0 } });
    await tp.platform.sharing.flush();
  });
  afterAll(() => tp?.close());

  const get = (url: string, token = w.managerA.token) => tp.call('GET', `/api/v1/communities/${w.communityA}/market/${url}`, { token });

  it('draws a slot\'s cumulative bid and offer curves per price with its clearing point', async () => {
    const depth = await get(`slots/${iso(S)}/depth`);
    expect(depth.status).toBe(200);
    // Bids high to low: 0.19 × 600 and 0.16 × 400 clear; offers low to high: 0.08 × 1000 clear; the last pair (0.16, 0.08) sets 0.12.
    expect(depth.body).toEqual({
      slotStart: iso(S), mechanism: 'uniform', gridFee: '0.0100', clearingPrice: '0.1200', volumeWh: 1000,
      bids: [
        { price: '0.1900', energyWh: 600, cumulativeWh: 600 },
        { price: '0.1600', energyWh: 400, cumulativeWh: 1000 },
        { price: '0.0900', energyWh: 300, cumulativeWh: 1300 },
      ],
      offers: [
        { price: '0.0800', energyWh: 1000, cumulativeWh: 1000 },
        { price: '0.1500', energyWh: 500, cumulativeWh: 1500 },
      ],
    });
    const slot = await get(`slots/${iso(S)}`);
    expect(slot.body.book.filter((o: { refused: string | null }) => o.refused !== null)).toHaveLength(1);
  });

  it('sums volume, prices, welfare, fees and the share of the shared energy traded over a period', async () => {
    const stats = await get(`statistics?from=${iso(S)}&to=${iso(S + 2 * Q)}`);
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({
      from: iso(S), to: iso(S + 2 * Q), slots: 2, tradedSlots: 2, trades: 4, volumeWh: 1100,
      // (1000 × 0.12 + 100 × 0.15) / 1100 = 0.122727… → 0.1227.
      minPrice: '0.1200', averagePrice: '0.1227', maxPrice: '0.1500',
      // Σ (bid − offer) × energy: 0.12 × 0.6 + 0.09 × 0.2 + 0.09 × 0.2 + 0.11 × 0.1 kWh.
      welfare: '0.119', gridFees: '0.011',
      sharedWh: 1200, tradedShare: 1100 / 1200,
    });
    // A period with no clearing and no sharing: zeros and no prices.
    const empty = await get(`statistics?from=${iso(T0 - 86_400_000)}&to=${iso(T0 - 43_200_000)}`);
    expect(empty.body).toMatchObject({ slots: 0, tradedSlots: 0, trades: 0, volumeWh: 0, minPrice: null, averagePrice: null, maxPrice: null, welfare: '0', sharedWh: 0, tradedShare: null });
  });

  it('prices the savings of the quarter hours the market settled with what the market paid and charged', async () => {
    clock = S + 2 * Q + 30 * MIN;
    await tp.platform.market.flush();
    const savings = async (token: string, memberId: string) =>
      (await tp.call('GET', `/api/v1/members/${memberId}/energy?from=${iso(S)}&to=${iso(S + 2 * Q)}&resolution=15m`, { token })).body.savings.amount;
    // A2 bought 1,000 Wh at 0.12 + fee 0.01 and used 800 (200 back at 0.06), then 100 Wh at 0.15 + 0.01 and used 600 (500 short at 0.28):
    // the grid would have cost 1,400 Wh × 0.30 = 0.42, the market charged 0.118 + 0.156 = 0.274: 0.146 → 0.15 (the tariff's figure: 0.18).
    expect(await savings(w.memberA2.token, w.memberIdA2)).toBe('0.15');
    // A sold 1,000 Wh at 0.12, then 100 at 0.15 and 300 more at 0.06: 0.153 against 1,400 Wh at feed-in 0.07 = 0.098: 0.055 → 0.06 (tariff: 0.10).
    expect(await savings(w.memberA.token, w.memberIdA)).toBe('0.06');
  });

  it('draws a slot without trades with the grid fee in force at its clearing, not today\'s', async () => {
    const slot = S + 8 * Q;
    const place = async (token: string, memberId: string, side: 'buy' | 'sell', energyWh: number, price: string) => {
      clock += 1_000;
      const response = await tp.call('POST', `/api/v1/members/${memberId}/market/orders`, { token, body: { slotStart: iso(slot), side, energyWh, price } });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
    };
    clock = slot - 30 * MIN;
    // A bid of 0.1000 can pay the seller 0.0900 under the fee 0.0100: it does not meet the offer at 0.1200, so nothing trades.
    await place(w.memberA.token, w.memberIdA, 'sell', 100, '0.1200');
    await place(w.memberA2.token, w.memberIdA2, 'buy', 200, '0.1000');
    clock = slot - 4 * MIN;
    await tp.platform.market.flush();
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, {
      token: w.managerA.token, body: { ...SETTINGS, ceiling: '0.2500', gridFee: '0.0300' },
    })).status).toBe(200);
    const depth = await get(`slots/${iso(slot)}/depth`);
    expect(depth.status).toBe(200);
    expect(depth.body).toEqual({
      slotStart: iso(slot), mechanism: 'uniform', gridFee: '0.0100', clearingPrice: null, volumeWh: 0,
      bids: [{ price: '0.0900', energyWh: 200, cumulativeWh: 200 }],
      offers: [{ price: '0.1200', energyWh: 100, cumulativeWh: 100 }],
    });
  });

  it('refuses bad periods and slots, and keeps both from members and other communities', async () => {
    expect((await get(`statistics?from=${iso(S)}&to=${iso(S)}`)).status).toBe(400);
    expect((await get(`statistics?from=${iso(S)}&to=${iso(S - Q)}`)).status).toBe(400);
    expect((await get(`statistics?from=${iso(S - 367 * 86_400_000)}&to=${iso(S)}`)).status).toBe(400);
    expect((await get('statistics?from=yesterday')).status).toBe(400);
    expect((await get('statistics?limit=5')).status).toBe(400);
    expect((await get(`slots/${iso(S + 40 * Q)}/depth`)).status).toBe(404);
    expect((await get('slots/not-a-time/depth')).status).toBe(400);
    for (const url of [`slots/${iso(S)}/depth`, `statistics?from=${iso(S)}&to=${iso(S + 2 * Q)}`]) {
      expect((await get(url, w.memberA.token)).status).toBe(403);
      expect((await get(url, w.managerB.token)).status).toBe(404);
    }
  });
});
