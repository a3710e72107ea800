import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookie, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { DEMO_MANAGER_EMAIL, DEMO_PASSWORD, demoMemberEmail } from '../../src/demo/seed.js';
import { DEMO_AGR_DOMAIN, DEMO_CONGESTION_POINT, DEMO_DSO_DOMAIN } from '../../src/demo/flex.js';
import { tradeDemoDay, type DemoMarketDay } from '../../src/demo/market-day.js';
import { flexRewardsOfPeriods, periodGrid, periodOf, readPayload, type FlexOrder, type FlexSettlement } from '../../src/flex/index.js';
import { schemas } from '../flex/support.js';

/** Nano-units of an exact decimal amount ("1.2345" → 1 234 500 000). */
const nano = (amount: string) => {
  const [whole, fraction = ''] = amount.replace('-', '').split('.');
  const value = BigInt(whole!) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  return amount.startsWith('-') ? -value : value;
};

/**
 * A new demo as `gridshare start --demo` makes it: the platform with `demo` (Sunny Street, its
 * last month settled, its first day of flexibility traded with the simulated DSO), then the
 * demo's day on the market. One demo for both parts: each starts a whole platform and trades a
 * day (the costliest start in the suite), and neither part's tests change what the other reads.
 */
let tp: TestPlatform;
let communityId: string;
let cookie: string;
let day: DemoMarketDay;

beforeAll(async () => {
  tp = await startTestPlatform('pglite', { demo: true });
  // The first day of flexibility is traded after the start, in the background.
  await tp.platform.demoFlex!.ready;
  communityId = tp.platform.demo!.communityId;
  day = await tradeDemoDay(tp.platform, communityId);
  const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: DEMO_MANAGER_EMAIL, password: DEMO_PASSWORD } });
  expect(login.status).toBe(200);
  cookie = sessionCookie(login);
}, 900_000);
afterAll(async () => {
  await tp?.close();
});

/**
 * Sunny Street trades flexibility with a simulated grid operator that speaks UFTP over HTTP to
 * the platform's own endpoint. A new demo has its identity, the DSO in its address book, the
 * congestion point and an active contract, and yesterday traded and settled by messages really
 * exchanged: the D-Prognosis, a FlexRequest answered with an offer, the order, and the settlement
 * accepted against the street's meters, its net shared among the members.
 */
describe('the demo\'s flexibility with its simulated DSO', () => {
  const manager = async (url: string) => {
    const answer = await tp.call('GET', url, { cookie });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };

  it('has its UFTP identity, the DSO in its address book, the congestion point and an active contract with members taking part', async () => {
    expect(await manager(`/api/v1/communities/${communityId}/flex/identity`)).toMatchObject({ domain: DEMO_AGR_DOMAIN, role: 'AGR' });
    const [dso] = await manager(`/api/v1/communities/${communityId}/flex/participants`);
    expect(dso).toMatchObject({ domain: DEMO_DSO_DOMAIN, role: 'DSO', barred: false, congestionPoints: [DEMO_CONGESTION_POINT] });
    const [point] = await manager(`/api/v1/communities/${communityId}/flex/portfolio`);
    expect(point).toMatchObject({ entityAddress: DEMO_CONGESTION_POINT, matchedMeteringPoints: 33 });
    const [contract] = await manager(`/api/v1/communities/${communityId}/flex/contracts`);
    expect(contract).toMatchObject({ participantId: dso.id, state: 'active', congestionPoints: [DEMO_CONGESTION_POINT] });
    expect(contract.participation.devices).toBeGreaterThanOrEqual(4);
    // Today's D-Prognosis (sent yesterday) for every ISP, beside the meters.
    const today = await manager(`/api/v1/communities/${communityId}/flex/prognosis`);
    expect(today.congestionPoints).toMatchObject([{ congestionPoint: DEMO_CONGESTION_POINT, dsoDomain: DEMO_DSO_DOMAIN, revision: 1 }]);
    expect(today.congestionPoints[0].isps).toHaveLength(periodGrid(today.period, 'Europe/Vienna', 15)!.count);
  });

  it('traded yesterday over UFTP: prognosis, request, offer, order — every message stored and valid', async () => {
    const messages = await manager(`/api/v1/communities/${communityId}/flex/messages?limit=500`) as { direction: string; type: string; state: string; payloadXml: string }[];
    const kinds = new Set(messages.map((m) => `${m.direction} ${m.type}`));
    for (const kind of ['out D-Prognosis', 'in D-PrognosisResponse', 'in FlexRequest', 'out FlexRequestResponse', 'out FlexOffer', 'in FlexOrder', 'out FlexOrderResponse', 'in FlexSettlement', 'out FlexSettlementResponse']) {
      expect(kinds, kind).toContain(kind);
    }
    for (const m of messages) expect(() => readPayload(m.payloadXml, schemas())).not.toThrow();
    const yesterday = periodOf(periodGrid(periodOf(Date.now(), 'Europe/Vienna'), 'Europe/Vienna', 15)!.startMs - 1, 'Europe/Vienna');
    const order = messages.map((m) => (m.type === 'FlexOrder' ? readPayload(m.payloadXml, schemas()) as FlexOrder : undefined)).find((o) => o?.period === yesterday);
    expect(order).toBeDefined();
    const offers = await manager(`/api/v1/communities/${communityId}/flex/offers`) as { messageId: string; state: string; orderMessageId: string | null }[];
    expect(offers).toContainEqual(expect.objectContaining({ messageId: order!.flexOfferMessageId, state: 'ordered', orderMessageId: order!.messageId }));
    // Delivery per ISP of the ordered hour, measured by the street's meters.
    const delivery = await manager(`/api/v1/communities/${communityId}/flex/orders/${order!.messageId}/delivery`);
    expect(delivery.state).toBe('settled');
    expect(delivery.isps).toHaveLength(4);
    for (const isp of delivery.isps) expect(isp.actualW).not.toBeNull();
  });

  it('settled yesterday: accepted, and the members\' rewards add up to the net', async () => {
    const settlements = await manager(`/api/v1/communities/${communityId}/flex/settlements`) as { orderReference: string; period: string; disposition: string; disputeReason: string | null; dso: { net: string }; ours: { net: string }; rewards: { members: number; total: string } }[];
    expect(settlements).toHaveLength(1);
    const [settled] = settlements;
    expect(settled, settled!.disputeReason ?? '').toMatchObject({ disposition: 'Accepted', disputeReason: null });
    expect(settled!.ours.net).toBe(settled!.dso.net);
    const net = nano(settled!.dso.net);
    expect(net).toBeGreaterThan(0n);
    const rewards = await flexRewardsOfPeriods(tp.platform.db, communityId, settled!.period, settled!.period);
    expect(rewards.length).toBeGreaterThan(0);
    expect(rewards.every((r) => r.amountMinor >= 0n && r.contributionWh >= 0)).toBe(true);
    // Whole cents to the members; the community keeps no fee, only the fraction of a cent.
    const paid = rewards.reduce((sum, r) => sum + r.amountMinor, 0n) * 10_000_000n;
    expect(paid).toBe(net - net % 10_000_000n);
    expect(nano(settled!.rewards.total)).toBe(paid);
    // The message the DSO sent says the same.
    const stored = (await manager(`/api/v1/communities/${communityId}/flex/messages?limit=500`) as { type: string; payloadXml: string }[]).find((m) => m.type === 'FlexSettlement')!;
    const settlement = readPayload(stored.payloadXml, schemas()) as FlexSettlement;
    expect(settlement.flexOrderSettlements[0]!.netSettlement).toBe(net);
    // Household 1 sees its own reward.
    const member = sessionCookie(await tp.call('POST', '/api/v1/auth/login', { body: { email: demoMemberEmail(1), password: DEMO_PASSWORD } }));
    const mine = await tp.call('GET', `/api/v1/communities/${communityId}/flex/my-rewards`, { cookie: member });
    expect(mine.status).toBe(200);
    expect(mine.body.rewards).toHaveLength(1);
  });
});

/**
 * The demo's day of trading, as `gridshare start --demo` runs it when it creates Sunny Street: a
 * day of the simulated meters through ingest and the interval job, the market job clearing and
 * settling it, a dispute and a payout through the market's services.
 */
describe('the demo community\'s day on the market', () => {
  const manager = async (path: string) => (await tp.call('GET', `/api/v1${path}`, { cookie })).body;

  it('clears and settles the day\'s slots against the simulated meters', async () => {
    expect(day.readings).toBeGreaterThan(1000);
    const slots = (await manager(`/communities/${communityId}/market/slots?limit=500`)) as { slotStart: string; trades: number; volumeWh: number; settledAt: string | null }[];
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
    // The day settled in one transaction: one posting per line kind pays the member all of the day's lines of that kind.
    const wallet = (await manager(`/members/${day.dispute!.memberId}/market/wallet`)) as { postings: { kind: string; sequence: number; line: string; slotStart: string; slotEnd: string; lines: number }[] };
    const paid = wallet.postings.filter((p) => p.kind === 'settlement');
    expect(paid.filter((p) => p.line === 'purchase').map((p) => p.sequence)).toEqual([day.dispute!.posting]);
    expect(new Set(paid.map((p) => p.line)).size).toBe(paid.length);
    const purchases = paid.find((p) => p.line === 'purchase')!;
    expect(purchases.lines).toBeGreaterThan(1);
    expect(Date.parse(purchases.slotStart)).toBeGreaterThanOrEqual(day.fromMs);
    expect(Date.parse(purchases.slotEnd)).toBeLessThanOrEqual(day.toMs);
    expect(Date.parse(purchases.slotEnd) - Date.parse(purchases.slotStart)).toBeGreaterThan(900_000);
    expect(day.payout).toBeDefined();
    const payouts = (await manager(`/communities/${communityId}/market/payouts`)) as { id: string; state: string }[];
    expect(payouts.filter((p) => p.state === 'confirmed').map((p) => p.id)).toEqual([day.payout!.id]);
  });
});
