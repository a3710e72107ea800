import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, joinA, PARTICIPATION_START, type World } from '../support/world.js';
import { runSharing, storeIntervals } from '../sharing/support/stored.js';
import { pdfText } from '../support/pdf.js';
import { formatMinor, parsePrice } from '../../src/kernel/money.js';
import {
  DsoSimulator, flexRewardsOfPeriods, generateSigningKey, ispStartMs, periodGrid, readPayload, recordMemberBaselines,
  type DPrognosis, type FlexOffer, type FlexRequest, type FlexSettlement, type PeriodGrid,
} from '../../src/flex/index.js';
import { messageByUftpId, orderSettlementsOf } from '../../src/flex/store.js';
import { insertPrognosis } from '../../src/flex/store/portfolio.js';
import { schemas } from './support.js';
import { confirmedCloseUrl } from '../support/settlements.js';
import { billingFormat } from '../../src/billing/domain/catalog.js';

/**
 * The DSO simulator and a whole platform over real HTTP, both signing with their own keys and
 * validating every message against the XSDs: portfolio, D-Prognosis, request, the offer the
 * validate phase computes by re-planning (member A2's battery, opted in and controllable, behind
 * the congestion point), order, and the settlement — reviewed from the community's own metering,
 * accepted or disputed per order, the accepted net shared among the members. Each request asks for
 * one exact power (MinPower = MaxPower) so the re-plan's offer is known; its price comes from the plan.
 */

const AGR = 'community.settle.example.org';
const DSO = 'dso-sim.example.org';
const CP = 'ea1.2026-01.org.example.dso-sim:cp-1';
const ZONE = 'Europe/Vienna';
const PERIOD = '2026-06-01';
/** The day before the Period, 11:00 local. */
const BEFORE = Date.UTC(2026, 4, 31, 9, 0);
/** The day after the Period, 10:00 local: the Period is over. */
const AFTER = Date.UTC(2026, 5, 2, 8, 0);
const EUR = (text: string) => parsePrice(text) * 1_000n; // micro → nano
/** The portfolio's agreed baseline: 2 kW in every ISP, 250 Wh per quarter hour for each of the two members. */
const BASELINE_W = 2_000;
const MEMBER_BASELINE_WH = 250;

describe.each(platformStoreKinds)('DSO simulator ↔ platform over UFTP, and settlement, on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let sim: DsoSimulator;
  let clock = BEFORE;
  let grid: PeriodGrid;
  let prognosis: DPrognosis;
  let lastSettlement: FlexSettlement;
  /** The members' grid connections: the congestion point's connections (the CRO's and the manager's portfolio). */
  let connections: string[] = [];
  let batteryId = '';
  /** What the DSO's own meter says per ISP of the Period (Wh). */
  const dsoMeter = new Map<number, number>();
  const rewardEvents: { memberId: string; amountMinor: string }[] = [];

  const manager = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: w.managerA.token, body });
  const messages = async () => (await manager('GET', `/api/v1/communities/${w.communityA}/flex/messages?limit=500`)).body as
    { direction: string; type: string; messageId: string; state: string; rejectionReason: string | null; payloadXml: string }[];
  /** Lets both sides answer until nothing is left in flight: the platform's outbox and the simulator's replies. */
  const settle = async () => {
    for (let round = 0; round < 4; round++) {
      await tp.platform.flex.validate.flush();
      await tp.platform.flex.outbox.flush();
      await sim.idle();
    }
  };
  /** Both members' metered quarter hours in ISPs of the Period (Wh imported per quarter hour). */
  const meter = async (isps: readonly number[], memberA: number, memberA2: number) => {
    for (const [pointId, wh] of [[w.meteringPointA, memberA], [w.meteringPointA2, memberA2]] as const) {
      await storeIntervals(tp.platform.db, w.communityA, pointId, Object.fromEntries(isps.map((isp) => [ispStartMs(grid, isp), { importWh: wh, exportWh: 0 }])));
    }
  };
  /** Billing's statements of the Period's month, as each member reads them (statements and corrections). */
  const MONTH = PERIOD.slice(0, 7);
  let monthSettlementId: string;
  interface StatementLineJson { code: string; orderReference?: string; orderPeriod?: string; energyWh: number; amount: string; description: string }
  interface StatementJson { id: string; memberId: string; kind: string; total: string; lines: StatementLineJson[] }
  const statementsOfMonth = async (): Promise<StatementJson[]> => {
    const settlement = await manager('GET', `/api/v1/settlements/${monthSettlementId}`);
    expect(settlement.status, JSON.stringify(settlement.body)).toBe(200);
    return Promise.all((settlement.body.statements as { id: string }[]).map(async ({ id }) => (await manager('GET', `/api/v1/statements/${id}`)).body as StatementJson));
  };
  const cents = (amount: string) => BigInt(amount.replace('.', ''));
  /** A recorded reward (whole cents) as its credit line shows it: negative, two decimals. */
  const creditText = (minor: bigint) => `-${minor / 100n}.${String(minor % 100n).padStart(2, '0')}`;
  /** What flex recorded for a member and an order: the amount the statement line must carry. */
  const rewardOf = async (memberId: string, orderReference: string | undefined) =>
    (await flexRewardsOfPeriods(tp.platform.db, w.communityA, PERIOD, PERIOD)).find((r) => r.memberId === memberId && r.orderReference === orderReference)!;
  const rewardLines = (statement: StatementJson) => statement.lines.filter((l) => l.code === 'flex-reward');
  /** Billing's community total of reward lines must be what flex recorded, to the cent. */
  const expectRewardLinesToAddUp = async (statements: readonly StatementJson[]) => {
    const recorded = (await flexRewardsOfPeriods(tp.platform.db, w.communityA, PERIOD, PERIOD)).reduce((sum, r) => sum + r.amountMinor, 0n);
    const billed = statements.flatMap(rewardLines).reduce((sum, l) => sum + cents(l.amount), 0n);
    expect(billed).toBe(-recorded);
    for (const statement of statements) expect(cents(statement.total)).toBe(statement.lines.reduce((sum, l) => sum + cents(l.amount), 0n));
  };

  /**
   * The simulator asks for exactly `power` W in `count` ISPs from `start`, and no rebound elsewhere in
   * the Period (the battery recharges the day before); the validate phase answers with an offer from
   * the re-plan, which the simulator orders.
   */
  const requestAndOrder = async (start: number, count: number, power: number): Promise<{ request: FlexRequest; offer: FlexOffer }> => {
    const request = await sim.sendFlexRequest(PERIOD, [{ start, duration: count, minPower: power, maxPower: power }], grid.startMs - 3_600_000, { minPower: 0, maxPower: 0 });
    await settle();
    const offer = sim.received.filter((m): m is FlexOffer => m.type === 'FlexOffer').find((o) => o.flexRequestMessageId === request.messageId);
    expect(offer, `an offer for the request at ISP ${start}`).toBeDefined();
    // The battery gives exactly what was asked in the requested ISPs and nothing elsewhere in the Period.
    expect(offer!.offerOptions).toMatchObject([{ minActivationFactor: 100, isps: [{ power, start, duration: count }] }]);
    // At least the contract's volume remuneration (0.10 per kWh) of the energy moved.
    expect(offer!.offerOptions[0]!.price).toBeGreaterThanOrEqual(EUR('0.10') * BigInt(-power * count / 4) / 1_000n);
    return { request, offer: offer! };
  };
  /** Half away from zero to UFTP's 4 decimals: `amount` × numerator / denominator (nano-units). */
  const proRata = (amount: bigint, numerator: bigint, denominator: bigint) => ((amount / 100_000n) * numerator * 2n + denominator) / (2n * denominator) * 100_000n;
  /** The community's fee the manager set on the contract: 12.5 % of a positive net settlement (nano-units; nets have ≤ 4 decimals, so exact). */
  const FEE_PERCENT = '12.5';
  const feeOf = (net: bigint) => net * 1_250n / 10_000n;
  /** The whole cents of a net (nano-units) after the community's fee, split by contribution, largest remainders first, ties to the earlier member id — in the order given. */
  const split = (net: bigint, members: ReadonlyArray<readonly [string, bigint]>): bigint[] => {
    const cents = (net - feeOf(net)) / 10_000_000n;
    const total = members.reduce((sum, [, wh]) => sum + wh, 0n);
    const amounts = members.map(([, wh]) => cents * wh / total);
    let left = cents - amounts.reduce((a, b) => a + b, 0n);
    const byRemainder = members.map(([id, wh], i) => ({ i, id, rest: (cents * wh) % total }))
      .sort((a, b) => (a.rest === b.rest ? (a.id < b.id ? -1 : 1) : a.rest > b.rest ? -1 : 1));
    for (const { i } of byRemainder) if (left-- > 0n) amounts[i]! += 1n;
    return amounts;
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { flex: { now: () => clock, replanTimeLimitS: 10 }, optimise: { now: () => clock, delayMs: 600_000, timeLimitS: 10, steps: 192 } });
    tp.platform.events.afterCommit('flex.rewards.recorded', (event) => {
      rewardEvents.push(...event.rewards.map((r) => ({ memberId: r.memberId, amountMinor: r.amountMinor })));
    });
    w = await buildWorld(tp);
    grid = periodGrid(PERIOD, ZONE, 15)!;
    // The members' connections get 18-digit EANs, as the DSO names them (ean.<EAN> in UFTP).
    for (const point of [w.meteringPointA, w.meteringPointA2]) {
      const ean = `8716859${String(Math.floor(Math.random() * 1e11)).padStart(11, '0')}`;
      const patched = await manager('PATCH', `/api/v1/metering-points/${point}`, { gridConnectionId: ean });
      expect(patched.status, JSON.stringify(patched.body)).toBe(200);
      connections.push(`ean.${ean}`);
    }
    const identity = await manager('PUT', `/api/v1/communities/${w.communityA}/flex/identity`, { domain: AGR, timeZone: ZONE });
    expect(identity.status, JSON.stringify(identity.body)).toBe(200);
    sim = await DsoSimulator.start({
      domain: DSO, signingKey: generateSigningKey(), congestionPoint: CP, connections, timeZone: ZONE, ispDurationMinutes: 15,
      agr: { url: `${tp.platform.httpUrl.replace('localhost', '127.0.0.1')}/shapeshifter/api/v3/message`, domain: AGR, publicKey: identity.body.publicKey },
      schemas: schemas(), terms: { penaltyPerKwh: parsePrice('0.30'), remuneration: 'delivered' }, now: () => clock, meteredEnergyWh: () => dsoMeter,
    });
    const participant = await manager('POST', `/api/v1/communities/${w.communityA}/flex/participants`, {
      domain: DSO, role: 'DSO', endpoint: sim.url, publicKeys: [sim.publicKey], congestionPoints: [CP],
    });
    expect(participant.status, JSON.stringify(participant.body)).toBe(201);
    // The manager's portfolio: both members' connections are behind the congestion point.
    const portfolio = await manager('PUT', `/api/v1/flex/participants/${participant.body.id}/portfolio`, { congestionPoints: [{ entityAddress: CP, connections }] });
    expect(portfolio.status, JSON.stringify(portfolio.body)).toBe(200);
    expect(portfolio.body[0].matchedMeteringPoints).toBe(2);
    const contract = await manager('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, {
      participantId: participant.body.id, congestionPoints: [CP], serviceType: 'congestion-management', validFrom: '2026-01-01', validTo: '2026-12-31',
      windows: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }], capacityRemuneration: '0', volumeRemuneration: '0.10', penaltyRate: '0.30',
      communityFeePercent: FEE_PERCENT,
    });
    expect(contract.status, JSON.stringify(contract.body)).toBe(201);
    expect((await manager('POST', `/api/v1/flex/contracts/${contract.body.id}/activate`)).status).toBe(200);
    // Both members take part with a device of theirs; A2 lets the plan control their home battery.
    for (const [user, point, kindOf, role] of [[w.memberA, w.meteringPointA, 'smart-plug', 'sub-load'], [w.memberA2, w.meteringPointA2, 'battery', 'storage']] as const) {
      const device = await manager('POST', `/api/v1/communities/${w.communityA}/devices`, { kind: kindOf, name: unique('Flex device '), meteringPointId: point, role });
      expect(device.status, JSON.stringify(device.body)).toBe(201);
      if (kindOf === 'battery') {
        batteryId = device.body.id;
        const control = await tp.call('PUT', `/api/v1/devices/${device.body.id}/control`, { token: user.token, body: { controllable: true, limits: { capacityWh: 10_000, reserveSoc: 0.1 } } });
        expect(control.status, JSON.stringify(control.body)).toBe(200);
      }
      const optIn = await tp.call('PUT', `/api/v1/flex/contracts/${contract.body.id}/devices/${device.body.id}`, { token: user.token, body: {} });
      expect(optIn.status, JSON.stringify(optIn.body)).toBe(200);
    }
    // The members' baselines behind the D-Prognosis (what the plan phase records).
    await recordMemberBaselines(tp.platform.db, w.communityA, CP, PERIOD, [w.memberIdA, w.memberIdA2].flatMap((memberId) =>
      Array.from({ length: grid.count }, (_, i) => ({ memberId, isp: i + 1, baselineWh: MEMBER_BASELINE_WH }))));
  }, 180_000);
  afterAll(async () => {
    await sim?.close();
    await tp?.close();
  });

  it('talks UFTP both ways over HTTP: portfolio, D-Prognosis, request, offer, order — both sides store the conversation', async () => {
    // Congestion points come from the CRO, which the simulator plays too: the AGR asks, the CRO answers.
    const cro = await manager('POST', `/api/v1/communities/${w.communityA}/flex/participants`, { domain: DSO, role: 'CRO', endpoint: sim.url, publicKeys: [sim.publicKey] });
    expect(cro.status, JSON.stringify(cro.body)).toBe(201);
    const update = sim.portfolioUpdate(PERIOD);
    await tp.platform.flex.transport.send(w.communityA, {
      type: 'AGRPortfolioQuery', version: '3.1.0', senderDomain: AGR, recipientDomain: DSO, timeStamp: clock, messageId: crypto.randomUUID(), conversationId: crypto.randomUUID(),
      timeZone: ZONE, period: PERIOD,
    });
    await settle();
    // A DSOPortfolioUpdate is the CRO's to receive: sent to the AGR it is stored as rejected and not answered.
    expect(await sim.send({ ...update, recipientDomain: AGR, messageId: crypto.randomUUID() })).toBe(200);
    await settle();

    prognosis = {
      type: 'D-Prognosis', version: '3.1.0', senderDomain: AGR, recipientDomain: DSO, timeStamp: clock, messageId: crypto.randomUUID(), conversationId: crypto.randomUUID(),
      ispDurationMinutes: 15, timeZone: ZONE, period: PERIOD, congestionPoint: CP, revision: 1, isps: [{ power: BASELINE_W, start: 1, duration: grid.count }],
    };
    await tp.platform.flex.transport.send(w.communityA, prognosis);
    await settle();
    const { offer: offered } = await requestAndOrder(73, 4, -1_200);

    // The simulator ordered the offer exactly, and the platform accepted the order.
    expect(sim.orders).toHaveLength(1);
    expect(sim.orders[0]).toMatchObject({ state: 'accepted', order: { flexOfferMessageId: offered.messageId, price: offered.offerOptions[0]!.price, activationFactor: 100, isps: [{ power: -1_200, start: 73, duration: 4 }] } });
    const offers = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/offers`)).body;
    expect(offers).toMatchObject([{ messageId: offered.messageId, state: 'ordered', orderMessageId: sim.orders[0]!.order.messageId, devices: 2, congestionPoint: CP }]);

    // Operate: the accepted order bounds the community's plan in operation (48 h from now reach the Period):
    // in ISPs 73–76 both members' connections import the offer's baseline − 1200 W, the battery discharging for it.
    await tp.platform.optimise.service.plan(w.communityA, 'manual');
    const { plan } = (await manager('GET', `/api/v1/communities/${w.communityA}/plan`)).body;
    const stepOf = (isp: number) => (ispStartMs(grid, isp) - Date.parse(plan.plan.horizonStart)) / 900_000;
    const baselineOf = new Map<number, number>(offers[0].baseline.map((b: { isp: number; powerW: number }) => [b.isp, b.powerW]));
    const battery = plan.assets.find((a: { deviceId: string | null; powerW: number[] }) => a.deviceId === batteryId);
    for (const isp of [73, 74, 75, 76]) {
      expect(plan.communityImportW[stepOf(isp)], `ISP ${isp}`).toBeCloseTo(baselineOf.get(isp)! - 1_200, 0);
      expect(battery.powerW[stepOf(isp)], `ISP ${isp}`).toBeLessThan(0);
    }
    expect(sim.sent.every((s) => s.status === 200)).toBe(true);
    expect(sim.received.map((m) => [m.type, 'result' in m ? m.result : undefined])).toEqual([
      ['AGRPortfolioQuery', undefined], ['D-Prognosis', undefined], ['FlexRequestResponse', 'Accepted'], ['FlexOffer', undefined], ['FlexOrderResponse', 'Accepted'],
    ]);

    const stored = await messages();
    const byType = (type: string) => stored.find((m) => m.type === type)!;
    expect(stored.map((m) => `${m.direction} ${m.type}`).sort()).toEqual([
      'in AGRPortfolioQueryResponse', 'in D-PrognosisResponse', 'in DSOPortfolioUpdate', 'in FlexOfferResponse', 'in FlexOrder', 'in FlexRequest',
      'out AGRPortfolioQuery', 'out D-Prognosis', 'out FlexOffer', 'out FlexOrderResponse', 'out FlexRequestResponse',
    ]);
    const portfolio = readPayload(byType('AGRPortfolioQueryResponse').payloadXml, schemas());
    expect(portfolio).toMatchObject({ result: 'Accepted', period: PERIOD, dsoViews: [{ dsoPortfolios: [{ dsoDomain: DSO, congestionPoints: [{ entityAddress: CP, connections: connections.map((entityAddress) => ({ entityAddress })) }] }] }] });
    expect(byType('AGRPortfolioQuery').state).toBe('accepted');
    expect(byType('DSOPortfolioUpdate')).toMatchObject({ state: 'rejected', rejectionReason: expect.stringContaining('does not receive DSOPortfolioUpdate') });
    expect(byType('D-Prognosis').state).toBe('accepted');
    expect(byType('FlexOffer').state).toBe('ordered');
    expect(byType('FlexOrder').state).toBe('accepted');
    // Every stored payload, in and out, is valid against the schema of its version.
    for (const m of stored) expect(() => readPayload(m.payloadXml, schemas())).not.toThrow();
  });

  it('accepts a settlement that matches its own metering and shares the net among the members by contribution, exactly', async () => {
    // Ordered −1200 W in ISPs 73–76 against a 2000 W baseline. Metered: member A 100 Wh, A2 150 Wh per
    // quarter hour (1000 W: 1000 of 1200 W delivered, 200 W short); the DSO's meter agrees.
    // Delivery is monitored per ISP against the offer's baseline: nothing measured yet, then the meters' 1000 W.
    const delivery = async () => {
      const answer = await manager('GET', `/api/v1/communities/${w.communityA}/flex/orders/${sim.orders[0]!.order.messageId}/delivery`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body as { orderReference: string; state: string; isps: { isp: number; baselineW: number; orderedW: number; actualW: number | null; deliveredW: number | null; deficiencyW: number | null }[] };
    };
    const offerBaseline = new Map<number, number>((await manager('GET', `/api/v1/communities/${w.communityA}/flex/offers`)).body
      .find((o: { messageId: string }) => o.messageId === sim.orders[0]!.order.flexOfferMessageId).baseline.map((b: { isp: number; powerW: number }) => [b.isp, b.powerW]));
    const before = await delivery();
    expect(before).toMatchObject({ orderReference: sim.orders[0]!.order.orderReference, state: 'accepted' });
    expect(before.isps).toEqual([73, 74, 75, 76].map((isp) => ({ isp, baselineW: offerBaseline.get(isp), orderedW: -1_200, byHandW: 0, automatedW: -1_200, actualW: null, deliveredW: null, deficiencyW: null })));
    await meter([73, 74, 75, 76], 100, 150);
    for (const isp of [73, 74, 75, 76]) dsoMeter.set(isp, 250);
    expect((await delivery()).isps).toEqual([73, 74, 75, 76].map((isp) => {
      const baselineW = offerBaseline.get(isp)!;
      // Down from the baseline is delivered (at most the 1200 W ordered); short of baseline − 1200 W is deficient.
      return { isp, baselineW, orderedW: -1_200, byHandW: 0, automatedW: -1_200, actualW: 1_000, deliveredW: Math.max(-1_200, Math.min(0, 1_000 - baselineW)), deficiencyW: Math.max(0, 1_000 - (baselineW - 1_200)) };
    }));
    clock = AFTER;
    const settlement = await sim.settle(PERIOD);
    await settle();

    const item = settlement!.flexOrderSettlements[0]!;
    // Paid pro rata for delivery: the offer's price × 1000/1200; penalty 200 W × 1 h = 0.2 kWh × 0.30 = 0.06.
    const price = proRata(sim.orders[0]!.order.price, 1_000n, 1_200n);
    const net = price - EUR('0.06');
    expect(price).toBeGreaterThan(0n);
    expect(item).toMatchObject({ price, penalty: EUR('0.06'), netSettlement: net });
    const [response] = sim.settlementResponses();
    expect(response).toMatchObject({ result: 'Accepted', flexSettlementMessageId: settlement!.messageId, flexOrderSettlementStatuses: [{ orderReference: item.orderReference, disposition: 'Accepted' }] });

    const stored = await messageByUftpId(tp.platform.db, w.communityA, 'FlexSettlement', settlement!.messageId);
    const [reviewed] = await orderSettlementsOf(tp.platform.db, w.communityA, stored!.id);
    expect(reviewed).toMatchObject({
      orderReference: item.orderReference, disposition: 'Accepted', disputeReason: null,
      dso: { price, penalty: EUR('0.06'), net }, ours: { price, penalty: EUR('0.06'), net },
    });
    expect(reviewed!.figures).toContainEqual({ isp: 73, baselinePower: 2_000, orderedFlexPower: -1_200, actualPower: 1_000, deliveredFlexPower: -1_000, powerDeficiency: 200 });
    expect((await messageByUftpId(tp.platform.db, w.communityA, 'FlexOrder', sim.orders[0]!.order.messageId))!.state).toBe('settled');

    // Member A moved 150 Wh per ISP, A2 100 Wh (600 and 400 Wh): the community keeps its 12.5 % fee, the rest's
    // whole cents are split 60:40; the fraction of a cent stays with the community too.
    const [shareA, shareA2] = split(net, [[w.memberIdA, 600n], [w.memberIdA2, 400n]]);
    const rewards = await flexRewardsOfPeriods(tp.platform.db, w.communityA, PERIOD, PERIOD);
    const byMember = new Map(rewards.map((r) => [r.memberId, r]));
    expect(byMember.get(w.memberIdA)).toMatchObject({ contributionWh: 600, amountMinor: shareA, currency: 'EUR', orderReference: item.orderReference });
    expect(byMember.get(w.memberIdA2)).toMatchObject({ contributionWh: 400, amountMinor: shareA2 });
    const paid = rewards.reduce((sum, r) => sum + r.amountMinor, 0n) * 10_000_000n;
    // Rewards + the fee + the rest of a cent = the net, exactly; the fee is what the manager set, not more.
    const fee = feeOf(net);
    expect(fee).toBeGreaterThan(0n);
    expect(paid + fee + (net - fee) % 10_000_000n).toBe(item.netSettlement);
    expect(paid).toBe(net - fee - (net - fee) % 10_000_000n);
    expect(rewardEvents).toEqual(expect.arrayContaining([{ memberId: w.memberIdA, amountMinor: String(shareA) }, { memberId: w.memberIdA2, amountMinor: String(shareA2) }]));
  });

  it('shows managers the settled order and the day\'s prognosis beside the meters, and each member only their own reward', async () => {
    const [rewardA, rewardA2] = [(await rewardOf(w.memberIdA, sim.orders[0]!.order.orderReference)).amountMinor, (await rewardOf(w.memberIdA2, sim.orders[0]!.order.orderReference)).amountMinor];
    const settled = await manager('GET', `/api/v1/communities/${w.communityA}/flex/settlements`);
    expect(settled.status).toBe(200);
    expect(settled.body).toEqual([expect.objectContaining({
      orderReference: sim.orders[0]!.order.orderReference, period: PERIOD, congestionPoint: CP, currency: 'EUR', disposition: 'Accepted', disputeReason: null,
      rewards: { members: 2, total: formatMinor(rewardA + rewardA2, 2) },
    })]);
    expect(settled.body[0].dso.net).toBe(settled.body[0].ours.net);

    // The prognosis the plan phase sent (2 kW all day) beside what was metered: 1000 W in ISPs 73–76, nothing measured elsewhere.
    await insertPrognosis(tp.platform.db, {
      messageId: prognosis.messageId, communityId: w.communityA, participantId: (await manager('GET', `/api/v1/communities/${w.communityA}/flex/participants`)).body.find((p: { role: string }) => p.role === 'DSO').id,
      congestionPoint: CP, period: PERIOD, revision: 1, powers: new Map(Array.from({ length: grid.count }, (_, i) => [i + 1, BASELINE_W])), sentAtMs: BEFORE,
    });
    const day = await manager('GET', `/api/v1/communities/${w.communityA}/flex/prognosis?period=${PERIOD}`);
    expect(day.status, JSON.stringify(day.body)).toBe(200);
    expect(day.body).toMatchObject({ period: PERIOD, timeZone: ZONE, ispDurationMinutes: 15, congestionPoints: [{ congestionPoint: CP, dsoDomain: DSO, revision: 1 }] });
    const isps = day.body.congestionPoints[0].isps as { isp: number; start: string; prognosisW: number; actualW: number | null }[];
    expect(isps).toHaveLength(grid.count);
    expect(isps.filter((i) => i.actualW !== null)).toEqual([73, 74, 75, 76].map((isp) => ({ isp, start: new Date(ispStartMs(grid, isp)).toISOString(), prognosisW: BASELINE_W, actualW: 1_000 })));
    expect((await manager('GET', `/api/v1/communities/${w.communityA}/flex/prognosis?period=2026-02-30`)).status).toBe(400);

    const mine = await tp.call('GET', `/api/v1/communities/${w.communityA}/flex/my-rewards`, { token: w.memberA.token });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({
      rewards: [{ period: PERIOD, orderReference: sim.orders[0]!.order.orderReference, congestionPoint: CP, currency: 'EUR', contributionWh: 600, amount: formatMinor(rewardA, 2) }],
      totals: [{ currency: 'EUR', amount: formatMinor(rewardA, 2) }],
    });
    // A manager's own "my rewards" are theirs, not the members' they manage.
    expect((await manager('GET', `/api/v1/communities/${w.communityA}/flex/my-rewards`)).body.rewards).toEqual([]);
  });

  it('puts each member\'s reward on their statement of the month as a credit line with the order, the total exact', async () => {
    const run = await manager('POST', `/api/v1/communities/${w.communityA}/settlements`, { period: MONTH });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    monthSettlementId = run.body.id;
    const statements = await statementsOfMonth();
    const [order] = sim.orders.map((o) => o.order.orderReference);
    const ofMember = (memberId: string) => statements.find((s) => s.memberId === memberId)!;
    const amountA = creditText((await rewardOf(w.memberIdA, order)).amountMinor);
    const amountA2 = creditText((await rewardOf(w.memberIdA2, order)).amountMinor);
    expect(amountA).not.toBe('-0.00');
    expect(rewardLines(ofMember(w.memberIdA))).toEqual([
      { code: 'flex-reward', orderReference: order, orderPeriod: PERIOD, energyWh: 600, amount: amountA, exactAmount: amountA, description: expect.stringContaining(order!) },
    ]);
    expect(rewardLines(ofMember(w.memberIdA2))).toEqual([expect.objectContaining({ orderReference: order, energyWh: 400, amount: amountA2 })]);
    await expectRewardLinesToAddUp(statements);

    // The member reads it in their own statement, its CSV and PDF.
    const own = await tp.call('GET', `/api/v1/statements/${ofMember(w.memberIdA).id}`, { token: w.memberA.token });
    expect(own.status).toBe(200);
    expect(rewardLines(own.body as StatementJson)).toHaveLength(1);
    const csv = await tp.call('GET', `/api/v1/statements/${ofMember(w.memberIdA).id}/statement.csv`, { token: w.memberA.token });
    const csvRow = String(csv.body).split('\r\n').find((row) => row.includes(',flex-reward,'));
    expect(csvRow).toContain(`${order} of `);
    expect(csvRow?.endsWith(`",600,,${amountA},${amountA},EUR`)).toBe(true);
    const pdf = await tp.call('GET', `/api/v1/statements/${ofMember(w.memberIdA).id}/statement.pdf`, { token: w.memberA.token });
    expect(pdf.status).toBe(200);
    expect(pdfText(pdf.raw.rawPayload)).toContain(billingFormat('en').money(amountA, 'EUR'));

    const close = await manager('POST', await confirmedCloseUrl(tp, w.managerA.token, monthSettlementId));
    expect(close.status, JSON.stringify(close.body)).toBe(200);
  });

  it('disputes an order whose settlement differs from its own metering, saying why, and records no reward for it', async () => {
    clock = BEFORE;
    await requestAndOrder(81, 4, -800);
    expect(sim.orders[1]!.state).toBe('accepted');

    // Our meters: 150 + 150 Wh per quarter hour (1200 W: the 800 W delivered in full); the DSO's says 400 Wh (1600 W).
    await meter([81, 82, 83, 84], 150, 150);
    for (const isp of [81, 82, 83, 84]) dsoMeter.set(isp, 400);
    clock = AFTER;
    const settlement = await sim.settle(PERIOD);
    await settle();

    const response = sim.settlementResponses().at(-1)!;
    const [status] = response.flexOrderSettlementStatuses;
    expect(status).toMatchObject({ orderReference: sim.orders[1]!.order.orderReference, disposition: 'Disputed' });
    expect(status!.disputeReason).toContain('actual power ISP 81: 1600 W, metered 1200 W');

    const stored = await messageByUftpId(tp.platform.db, w.communityA, 'FlexSettlement', settlement!.messageId);
    const [reviewed] = await orderSettlementsOf(tp.platform.db, w.communityA, stored!.id);
    const secondPrice = sim.orders[1]!.order.price;
    expect(reviewed).toMatchObject({ disposition: 'Disputed', disputeReason: status!.disputeReason, ours: { price: secondPrice, penalty: 0n, net: secondPrice } });
    // The order stays open for a corrected settlement; no reward is recorded for it.
    expect((await messageByUftpId(tp.platform.db, w.communityA, 'FlexOrder', sim.orders[1]!.order.messageId))!.state).toBe('accepted');
    const rewards = await flexRewardsOfPeriods(tp.platform.db, w.communityA, PERIOD, PERIOD);
    expect(rewards.map((r) => r.orderReference)).toEqual([sim.orders[0]!.order.orderReference, sim.orders[0]!.order.orderReference]);
    // The simulator settles a disputed order again.
    expect(sim.orders[1]!.state).toBe('accepted');
    lastSettlement = settlement!;
  });

  it('rejects a FlexSettlement that leaves out an unsettled order; a corrected one settles both orders', async () => {
    clock = BEFORE;
    await requestAndOrder(85, 4, -400);
    const [, second, third] = sim.orders.map((o) => o.order.orderReference);
    // Our meters for ISPs 85–88: 200 + 200 Wh (1600 W: the 400 W delivered in full, 50 Wh per member and ISP).
    await meter([85, 86, 87, 88], 200, 200);
    for (const isp of [85, 86, 87, 88]) dsoMeter.set(isp, 400);
    clock = AFTER;

    // The earlier settlement again, under a new MessageID: it lists the second order but not the third.
    const resent = { ...lastSettlement, messageId: crypto.randomUUID(), timeStamp: clock };
    expect(await sim.send(resent)).toBe(200);
    await settle();
    const storedResent = await messageByUftpId(tp.platform.db, w.communityA, 'FlexSettlement', resent.messageId);
    expect(storedResent!.state).toBe('rejected');
    expect(await orderSettlementsOf(tp.platform.db, w.communityA, storedResent!.id)).toEqual([]);
    const rejected = sim.settlementResponses().at(-1)!;
    expect(rejected).toMatchObject({ result: 'Rejected', rejectionReason: expect.stringContaining(`Missing Settlement Items`), flexOrderSettlementStatuses: [{ orderReference: second, disposition: 'Disputed' }] });
    expect(rejected.rejectionReason).toContain(third);

    // The DSO corrects its meter for ISPs 81–84 and settles both open orders.
    for (const isp of [81, 82, 83, 84]) dsoMeter.set(isp, 300);
    const corrected = await sim.settle(PERIOD);
    await settle();
    expect(corrected!.flexOrderSettlements.map((i) => i.orderReference)).toEqual([second, third]);
    expect(sim.settlementResponses().at(-1)).toMatchObject({
      result: 'Accepted', flexOrderSettlementStatuses: [{ orderReference: second, disposition: 'Accepted' }, { orderReference: third, disposition: 'Accepted' }],
    });
    // Each member moved 100 Wh per ISP in the second order and 50 Wh in the third: both delivered in full, paid as offered, split evenly.
    const [secondPrice, thirdPrice] = [sim.orders[1]!.order.price, sim.orders[2]!.order.price];
    expect(corrected!.flexOrderSettlements.map((i) => [i.price, i.penalty, i.netSettlement])).toEqual([[secondPrice, 0n, secondPrice], [thirdPrice, 0n, thirdPrice]]);
    const rewards = await flexRewardsOfPeriods(tp.platform.db, w.communityA, PERIOD, PERIOD);
    const of = (reference: string) => rewards.filter((r) => r.orderReference === reference).map((r) => [r.memberId, r.contributionWh, r.amountMinor]);
    const evenly = (net: bigint, wh: number) => split(net, [[w.memberIdA, 1n], [w.memberIdA2, 1n]]).map((amount, i) => [[w.memberIdA, w.memberIdA2][i], wh, amount]);
    expect(of(second!)).toEqual(expect.arrayContaining(evenly(secondPrice, 400)));
    expect(of(third!)).toEqual(expect.arrayContaining(evenly(thirdPrice, 200)));
  });

  it('rewards recorded after the month was closed reach the statements as a correction; a member without a reward gets no reward line', async () => {
    const [, second, third] = sim.orders.map((o) => o.order.orderReference);
    // Someone who took no part joins with a consumer metering point and June energy (flex has settled every order).
    const joiner = await joinA(tp, w, 'latejoiner', PARTICIPATION_START);
    await storeIntervals(tp.platform.db, w.communityA, joiner.pointId, { [ispStartMs(grid, 40)]: { importWh: 300, exportWh: 0 } });
    await runSharing(tp.platform.db);

    const recompute = await manager('POST', `/api/v1/settlements/${monthSettlementId}/recompute`);
    expect(recompute.status, JSON.stringify(recompute.body)).toBe(200);
    const statements = await statementsOfMonth();
    const correctionOf = (memberId: string) => statements.find((s) => s.memberId === memberId && s.kind === 'correction')!;
    for (const memberId of [w.memberIdA, w.memberIdA2]) {
      const expected = await Promise.all([second, third].map(async (order) => {
        const reward = await rewardOf(memberId, order);
        return [order, reward.contributionWh, creditText(reward.amountMinor)];
      }));
      expect(expected.map(([, wh]) => wh)).toEqual([400, 200]);
      expect(rewardLines(correctionOf(memberId)).map((l) => [l.orderReference, l.energyWh, l.amount])).toEqual(expected);
    }
    // The statement issued at closing keeps its single reward line: a correction never rewrites it.
    expect(rewardLines(statements.find((s) => s.memberId === w.memberIdA && s.kind === 'statement')!)).toHaveLength(1);
    const joinersStatement = statements.find((s) => s.memberId === joiner.memberId)!;
    expect(joinersStatement).toBeDefined();
    expect(rewardLines(joinersStatement)).toEqual([]);
    await expectRewardLinesToAddUp(statements);
  });
});
