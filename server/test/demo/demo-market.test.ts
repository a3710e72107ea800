import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookie, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { DEMO_MANAGER_EMAIL, DEMO_PASSWORD, ensureDemoCommunity } from '../../src/demo/seed.js';
import { tradeDemoDay, type DemoMarketDay } from '../../src/demo/market-day.js';

/**
 * The demo's day of trading, as `gridshare start --demo` runs it when it creates Sunny Street: a
 * day of the simulated meters through ingest and the interval job, the market job clearing and
 * settling it, a dispute and a payout through the market's services.
 */
describe('the demo community\'s day on the market', () => {
  let tp: TestPlatform;
  let communityId: string;
  let day: DemoMarketDay;
  let cookie = '';
  const manager = async (path: string) => (await tp.call('GET', `/api/v1${path}`, { cookie })).body;

  beforeAll(async () => {
    tp = await startTestPlatform('pglite');
    communityId = (await ensureDemoCommunity(tp.platform.db, tp.platform.secrets.box)).communityId;
    day = await tradeDemoDay(tp.platform, communityId);
    const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: DEMO_MANAGER_EMAIL, password: DEMO_PASSWORD } });
    expect(login.status).toBe(200);
    cookie = sessionCookie(login);
  }, 900_000);
  afterAll(() => tp?.close());

  it('clears and settles the day\'s slots against the simulated meters', async () => {
    expect(day.readings).toBeGreaterThan(1000);
    const slots = (await manager(`/communities/${communityId}/market/slots?limit=200`)) as { slotStart: string; trades: number; volumeWh: number; settledAt: string | null }[];
    const ofDay = slots.filter((s) => Date.parse(s.slotStart) >= day.fromMs && Date.parse(s.slotStart) < day.toMs);
    expect(ofDay.length).toBeGreaterThanOrEqual(94);
    expect(ofDay.filter((s) => s.trades > 0).length).toBeGreaterThan(0);
    expect(ofDay.length).toBe(96);
    expect(ofDay.filter((s) => s.settledAt === null)).toEqual([]);
    // Nothing after the day was cleared (the job clears today's slots as usual: its lookback is an hour).
    expect(slots.filter((s) => Date.parse(s.slotStart) >= day.toMs && Date.parse(s.slotStart) < Date.now() - 2 * 3_600_000)).toEqual([]);
  });

  it('moves the wallets exactly, with one dispute corrected and one payout confirmed', async () => {
    const totals = await manager(`/communities/${communityId}/market/wallets`);
    expect(totals).toMatchObject({ sum: '0', drifted: 0 });
    expect(day.dispute).toBeDefined();
    const disputes = (await manager(`/communities/${communityId}/market/disputes`)) as { state: string; amount: string | null; posting: { sequence: number } }[];
    expect(disputes.map((d) => [d.state, d.amount, d.posting.sequence])).toEqual([['corrected', '0.01', day.dispute!.posting]]);
    expect(day.payout).toBeDefined();
    const payouts = (await manager(`/communities/${communityId}/market/payouts`)) as { id: string; state: string }[];
    expect(payouts.filter((p) => p.state === 'confirmed').map((p) => p.id)).toEqual([day.payout!.id]);
  });
});
