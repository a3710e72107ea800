import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, joinA, PARTICIPATION_START, type World } from '../support/world.js';
import { runSharing, storeIntervals } from '../sharing/support/stored.js';
import { pdfText } from '../support/pdf.js';
import { parsePrice } from '../../src/kernel/money.js';
import {
  DsoSimulator, flexRewardsOfPeriods, generateSigningKey, ispStartMs, periodGrid, readPayload, recordMemberBaselines,
  type DPrognosis, type FlexOffer, type FlexRequest, type FlexSettlement, type PeriodGrid,
} from '../../src/flex/index.js';
import { messageByUftpId, orderSettlementsOf } from '../../src/flex/store.js';
import { schemas } from './support.js';

/**
 * The DSO simulator and a whole platform over real HTTP, both signing with their own keys and
 * validating every message against the XSDs: portfolio, D-Prognosis, request, offer (sent here,
 * standing in for the validate phase), order, and the settlement — reviewed from the community's
 * own metering, accepted or disputed per order, the accepted net shared among the members.
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

describe.each(storeKinds)('DSO simulator ↔ platform over UFTP, and settlement, on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let sim: DsoSimulator;
  let clock = BEFORE;
  let grid: PeriodGrid;
  let prognosis: DPrognosis;
  let lastSettlement: FlexSettlement;
  /** What the DSO's own meter says per ISP of the Period (Wh). */
  const dsoMeter = new Map<number, number>();
  const rewardEvents: { memberId: string; amountMinor: string }[] = [];

  const manager = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: w.managerA.token, body });
  const messages = async () => (await manager('GET', `/api/v1/communities/${w.communityA}/flex/messages?limit=500`)).body as
    { direction: string; type: string; messageId: string; state: string; rejectionReason: string | null; payloadXml: string }[];
  /** Lets both sides answer until nothing is left in flight: the platform's outbox and the simulator's replies. */
  const settle = async () => {
    for (let round = 0; round < 4; round++) {
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
  const rewardLines = (statement: StatementJson) => statement.lines.filter((l) => l.code === 'flex-reward');
  /** Billing's community total of reward lines must be what flex recorded, to the cent. */
  const expectRewardLinesToAddUp = async (statements: readonly StatementJson[]) => {
    const recorded = (await flexRewardsOfPeriods(tp.platform.db, w.communityA, PERIOD, PERIOD)).reduce((sum, r) => sum + r.amountMinor, 0n);
    const billed = statements.flatMap(rewardLines).reduce((sum, l) => sum + cents(l.amount), 0n);
    expect(billed).toBe(-recorded);
    for (const statement of statements) expect(cents(statement.total)).toBe(statement.lines.reduce((sum, l) => sum + cents(l.amount), 0n));
  };

  /** An offer for the request (what the validate phase will compute), sent by the platform. */
  const offer = async (request: FlexRequest, isps: { start: number; duration: number; power: number }, price: string): Promise<FlexOffer> => {
    const message: FlexOffer = {
      type: 'FlexOffer', version: '3.1.0', senderDomain: AGR, recipientDomain: DSO, timeStamp: clock, messageId: crypto.randomUUID(), conversationId: request.conversationId,
      ispDurationMinutes: 15, timeZone: ZONE, period: PERIOD, congestionPoint: CP, expirationDateTime: clock + 3_600_000, flexRequestMessageId: request.messageId,
      dPrognosisMessageId: prognosis.messageId, currency: 'EUR',
      offerOptions: [{ optionReference: 'A', price: EUR(price), minActivationFactor: 100, isps: [{ power: isps.power, start: isps.start, duration: isps.duration }] }],
    };
    await tp.platform.flex.transport.send(w.communityA, message);
    await settle();
    return message;
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { flex: { now: () => clock } });
    tp.platform.events.afterCommit('flex.rewards.recorded', (event) => {
      rewardEvents.push(...event.rewards.map((r) => ({ memberId: r.memberId, amountMinor: r.amountMinor })));
    });
    w = await buildWorld(tp);
    grid = periodGrid(PERIOD, ZONE, 15)!;
    const identity = await manager('PUT', `/api/v1/communities/${w.communityA}/flex/identity`, { domain: AGR, timeZone: ZONE });
    expect(identity.status, JSON.stringify(identity.body)).toBe(200);
    sim = await DsoSimulator.start({
      domain: DSO, signingKey: generateSigningKey(), congestionPoint: CP, connections: ['ean.871685900000000001'], timeZone: ZONE, ispDurationMinutes: 15,
      agr: { url: `${tp.platform.httpUrl.replace('localhost', '127.0.0.1')}/shapeshifter/api/v3/message`, domain: AGR, publicKey: identity.body.publicKey },
      schemas: schemas(), terms: { penaltyPerKwh: parsePrice('0.30'), remuneration: 'delivered' }, now: () => clock, meteredEnergyWh: () => dsoMeter,
    });
    const participant = await manager('POST', `/api/v1/communities/${w.communityA}/flex/participants`, {
      domain: DSO, role: 'DSO', endpoint: sim.url, publicKeys: [sim.publicKey], congestionPoints: [CP],
    });
    expect(participant.status, JSON.stringify(participant.body)).toBe(201);
    const contract = await manager('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, {
      participantId: participant.body.id, congestionPoints: [CP], serviceType: 'congestion-management', validFrom: '2026-01-01', validTo: '2026-12-31',
      windows: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }], capacityRemuneration: '0', volumeRemuneration: '0.10', penaltyRate: '0.30',
    });
    expect(contract.status, JSON.stringify(contract.body)).toBe(201);
    expect((await manager('POST', `/api/v1/flex/contracts/${contract.body.id}/activate`)).status).toBe(200);
    // Both members take part with a device of theirs.
    for (const [user, point, kindOf] of [[w.memberA, w.meteringPointA, 'smart-plug'], [w.memberA2, w.meteringPointA2, 'battery']] as const) {
      const device = await manager('POST', `/api/v1/communities/${w.communityA}/devices`, { kind: kindOf, name: unique('Flex device '), meteringPointId: point, role: 'sub-load' });
      expect(device.status, JSON.stringify(device.body)).toBe(201);
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
    const request = await sim.sendFlexRequest(PERIOD, [{ start: 73, duration: 4, minPower: -20_000, maxPower: -1_000 }], grid.startMs - 3_600_000);
    await settle();
    const offered = await offer(request, { start: 73, duration: 4, power: -1_200 }, '12.50');

    // The simulator ordered the offer exactly, and the platform accepted the order.
    expect(sim.orders).toHaveLength(1);
    expect(sim.orders[0]).toMatchObject({ state: 'accepted', order: { flexOfferMessageId: offered.messageId, price: EUR('12.50'), activationFactor: 100, isps: [{ power: -1_200, start: 73, duration: 4 }] } });
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
    expect(portfolio).toMatchObject({ result: 'Accepted', period: PERIOD, dsoViews: [{ dsoPortfolios: [{ dsoDomain: DSO, congestionPoints: [{ entityAddress: CP, connections: [{ entityAddress: 'ean.871685900000000001' }] }] }] }] });
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
    await meter([73, 74, 75, 76], 100, 150);
    for (const isp of [73, 74, 75, 76]) dsoMeter.set(isp, 250);
    clock = AFTER;
    const settlement = await sim.settle(PERIOD);
    await settle();

    const item = settlement!.flexOrderSettlements[0]!;
    // Paid pro rata for delivery: 12.50 × 1000/1200 = 10.4167; penalty 200 W × 1 h = 0.2 kWh × 0.30 = 0.06; net 10.3567.
    expect(item).toMatchObject({ price: EUR('10.4167'), penalty: EUR('0.06'), netSettlement: EUR('10.3567') });
    const [response] = sim.settlementResponses();
    expect(response).toMatchObject({ result: 'Accepted', flexSettlementMessageId: settlement!.messageId, flexOrderSettlementStatuses: [{ orderReference: item.orderReference, disposition: 'Accepted' }] });

    const stored = await messageByUftpId(tp.platform.db, w.communityA, 'FlexSettlement', settlement!.messageId);
    const [reviewed] = await orderSettlementsOf(tp.platform.db, w.communityA, stored!.id);
    expect(reviewed).toMatchObject({
      orderReference: item.orderReference, disposition: 'Accepted', disputeReason: null,
      dso: { price: EUR('10.4167'), penalty: EUR('0.06'), net: EUR('10.3567') }, ours: { price: EUR('10.4167'), penalty: EUR('0.06'), net: EUR('10.3567') },
    });
    expect(reviewed!.figures).toContainEqual({ isp: 73, baselinePower: 2_000, orderedFlexPower: -1_200, actualPower: 1_000, deliveredFlexPower: -1_000, powerDeficiency: 200 });
    expect((await messageByUftpId(tp.platform.db, w.communityA, 'FlexOrder', sim.orders[0]!.order.messageId))!.state).toBe('settled');

    // Member A moved 150 Wh per ISP, A2 100 Wh (600 and 400 Wh): 1035 whole cents of 10.3567 split 60:40; the 0.0067 left stays with the community.
    const rewards = await flexRewardsOfPeriods(tp.platform.db, w.communityA, PERIOD, PERIOD);
    const byMember = new Map(rewards.map((r) => [r.memberId, r]));
    expect(byMember.get(w.memberIdA)).toMatchObject({ contributionWh: 600, amountMinor: 621n, currency: 'EUR', orderReference: item.orderReference });
    expect(byMember.get(w.memberIdA2)).toMatchObject({ contributionWh: 400, amountMinor: 414n });
    const paid = rewards.reduce((sum, r) => sum + r.amountMinor, 0n) * 10_000_000n;
    expect(paid + EUR('0.0067')).toBe(item.netSettlement);
    expect(rewardEvents).toEqual(expect.arrayContaining([{ memberId: w.memberIdA, amountMinor: '621' }, { memberId: w.memberIdA2, amountMinor: '414' }]));
  });

  it('puts each member\'s reward on their statement of the month as a credit line with the order, the total exact', async () => {
    const run = await manager('POST', `/api/v1/communities/${w.communityA}/settlements`, { period: MONTH });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    monthSettlementId = run.body.id;
    const statements = await statementsOfMonth();
    const [order] = sim.orders.map((o) => o.order.orderReference);
    const ofMember = (memberId: string) => statements.find((s) => s.memberId === memberId)!;
    expect(rewardLines(ofMember(w.memberIdA))).toEqual([
      { code: 'flex-reward', orderReference: order, orderPeriod: PERIOD, energyWh: 600, amount: '-6.21', exactAmount: '-6.21', description: expect.stringContaining(order!) },
    ]);
    expect(rewardLines(ofMember(w.memberIdA2))).toEqual([expect.objectContaining({ orderReference: order, energyWh: 400, amount: '-4.14' })]);
    await expectRewardLinesToAddUp(statements);

    // The member reads it in their own statement, its CSV and PDF.
    const own = await tp.call('GET', `/api/v1/statements/${ofMember(w.memberIdA).id}`, { token: w.memberA.token });
    expect(own.status).toBe(200);
    expect(rewardLines(own.body as StatementJson)).toHaveLength(1);
    const csv = await tp.call('GET', `/api/v1/statements/${ofMember(w.memberIdA).id}/statement.csv`, { token: w.memberA.token });
    const csvRow = String(csv.body).split('\r\n').find((row) => row.includes(',flex-reward,'));
    expect(csvRow).toContain(`${order} of `);
    expect(csvRow).toMatch(/",600,,-6\.21,-6\.21,EUR$/);
    const pdf = await tp.call('GET', `/api/v1/statements/${ofMember(w.memberIdA).id}/statement.pdf`, { token: w.memberA.token });
    expect(pdf.status).toBe(200);
    expect(pdfText(pdf.raw.rawPayload)).toContain('€ -6.21');

    const close = await manager('POST', `/api/v1/settlements/${monthSettlementId}/close`);
    expect(close.status, JSON.stringify(close.body)).toBe(200);
  });

  it('disputes an order whose settlement differs from its own metering, saying why, and records no reward for it', async () => {
    clock = BEFORE;
    const request = await sim.sendFlexRequest(PERIOD, [{ start: 81, duration: 4, minPower: -20_000, maxPower: -500 }], grid.startMs - 3_600_000);
    await settle();
    await offer(request, { start: 81, duration: 4, power: -800 }, '4.00');
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
    expect(reviewed).toMatchObject({ disposition: 'Disputed', disputeReason: status!.disputeReason, ours: { price: EUR('4'), penalty: 0n, net: EUR('4') } });
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
    const request = await sim.sendFlexRequest(PERIOD, [{ start: 85, duration: 4, minPower: -20_000, maxPower: -100 }], grid.startMs - 3_600_000);
    await settle();
    await offer(request, { start: 85, duration: 4, power: -400 }, '2.00');
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
    // Each member moved 100 Wh per ISP in the second order (4.00 split evenly) and 50 Wh in the third (2.00 evenly).
    const rewards = await flexRewardsOfPeriods(tp.platform.db, w.communityA, PERIOD, PERIOD);
    const of = (reference: string) => rewards.filter((r) => r.orderReference === reference).map((r) => [r.memberId, r.contributionWh, r.amountMinor]);
    expect(of(second!)).toEqual(expect.arrayContaining([[w.memberIdA, 400, 200n], [w.memberIdA2, 400, 200n]]));
    expect(of(third!)).toEqual(expect.arrayContaining([[w.memberIdA, 200, 100n], [w.memberIdA2, 200, 100n]]));
    expect(corrected!.flexOrderSettlements.map((i) => i.netSettlement)).toEqual([EUR('4'), EUR('2')]);
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
    expect(rewardLines(correctionOf(w.memberIdA)).map((l) => [l.orderReference, l.energyWh, l.amount])).toEqual([[second, 400, '-2.00'], [third, 200, '-1.00']]);
    expect(rewardLines(correctionOf(w.memberIdA2)).map((l) => [l.orderReference, l.energyWh, l.amount])).toEqual([[second, 400, '-2.00'], [third, 200, '-1.00']]);
    // The statement issued at closing keeps its single reward line: a correction never rewrites it.
    expect(rewardLines(statements.find((s) => s.memberId === w.memberIdA && s.kind === 'statement')!)).toHaveLength(1);
    const joinersStatement = statements.find((s) => s.memberId === joiner.memberId)!;
    expect(joinersStatement).toBeDefined();
    expect(rewardLines(joinersStatement)).toEqual([]);
    await expectRewardLinesToAddUp(statements);
  });
});
