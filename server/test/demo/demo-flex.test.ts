import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionCookie, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { DEMO_MANAGER_EMAIL, DEMO_PASSWORD, demoMemberEmail } from '../../src/demo/seed.js';
import { DEMO_AGR_DOMAIN, DEMO_CONGESTION_POINT, DEMO_DSO_DOMAIN } from '../../src/demo/flex.js';
import { flexRewardsOfPeriods, periodGrid, periodOf, readPayload, type FlexOrder, type FlexSettlement } from '../../src/flex/index.js';
import { schemas } from '../flex/support.js';

/** Nano-units of an exact decimal amount ("1.2345" → 1 234 500 000). */
const nano = (amount: string) => {
  const [whole, fraction = ''] = amount.replace('-', '').split('.');
  const value = BigInt(whole!) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  return amount.startsWith('-') ? -value : value;
};

/**
 * `gridshare start --demo`: Sunny Street trades flexibility with a simulated grid operator that
 * speaks UFTP over HTTP to the platform's own endpoint. A new demo has its identity, the DSO in its
 * address book, the congestion point and an active contract, and yesterday traded and settled by
 * messages really exchanged: the D-Prognosis, a FlexRequest answered with an offer, the order, and
 * the settlement accepted against the street's meters, its net shared among the members.
 */
describe('the demo\'s flexibility with its simulated DSO', () => {
  let tp: TestPlatform;
  let communityId: string;
  let cookie: string;
  const manager = async (url: string) => {
    const answer = await tp.call('GET', url, { cookie });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };

  beforeAll(async () => {
    tp = await startTestPlatform('pglite', { demo: true });
    // The first day is traded after the start, in the background.
    await tp.platform.demoFlex!.ready;
    communityId = tp.platform.demo!.communityId;
    cookie = sessionCookie(await tp.call('POST', '/api/v1/auth/login', { body: { email: DEMO_MANAGER_EMAIL, password: DEMO_PASSWORD } }));
  }, 900_000);
  afterAll(async () => {
    await tp?.close();
  });

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
