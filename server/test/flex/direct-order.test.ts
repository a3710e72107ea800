import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { storeIntervals } from '../sharing/support/stored.js';
import { parsePrice } from '../../src/kernel/money.js';
import {
  DsoSimulator, flexRewardsOfPeriods, generateSigningKey, ispStartMs, periodGrid, recordMemberBaselines,
  type DPrognosis, type FlexOrderResponse, type PeriodGrid,
} from '../../src/flex/index.js';
import { messageByUftpId } from '../../src/flex/store.js';
import { schemas, uftpPresent } from './support.js';

/**
 * Direct FlexOrders (UFTP 3.1: Unsolicited, no FlexOffer) between the DSO simulator and a whole
 * platform over HTTP: refused where no contract allows them ("Direct FlexOrder not agreed"), without
 * an accepted D-Prognosis to measure them against (no baseline), or naming a D-Prognosis the DSO did
 * not accept; accepted under a contract that allows them, planned like an order of an offer (the
 * D-Prognosis as its baseline), monitored, settled and shared among the members.
 */

const AGR = 'community.direct.example.org';
const DSO = 'dso-direct.example.org';
const CP = 'ea1.2026-01.org.example.dso-direct:cp-1';
const ZONE = 'Europe/Vienna';
const PERIOD = '2026-06-01';
/** The day before the Period, 11:00 local. */
const BEFORE = Date.UTC(2026, 4, 31, 9, 0);
/** The day after the Period, 10:00 local. */
const AFTER = Date.UTC(2026, 5, 2, 8, 0);
const EUR = (text: string) => parsePrice(text) * 1_000n; // micro → nano
const BASELINE_W = 2_000;
const MEMBER_BASELINE_WH = 250;
const ORDERED = [{ power: -1_000, start: 73, duration: 4 }];

describe.skipIf(!uftpPresent).each(platformStoreKinds)('direct FlexOrders on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let sim: DsoSimulator;
  let clock = BEFORE;
  let grid: PeriodGrid;
  let participantId = '';
  let firstContractId = '';
  const dsoMeter = new Map<number, number>();
  const devices: Array<{ token: string; id: string }> = [];

  const manager = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: w.managerA.token, body });
  const settle = async () => {
    for (let round = 0; round < 4; round++) {
      await tp.platform.flex.outbox.flush();
      await sim.idle();
    }
  };
  const responseTo = (orderId: string) => sim.received.find((m): m is FlexOrderResponse => m.type === 'FlexOrderResponse' && m.flexOrderMessageId === orderId);
  const contract = async (directOrders: boolean | undefined) => {
    const made = await manager('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, {
      participantId, congestionPoints: [CP], serviceType: 'congestion-management', validFrom: '2026-01-01', validTo: '2026-12-31',
      windows: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }], capacityRemuneration: '0', volumeRemuneration: '0.10', penaltyRate: '0.30',
      ...(directOrders === undefined ? {} : { directOrders }),
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect((await manager('POST', `/api/v1/flex/contracts/${made.body.id}/activate`)).status).toBe(200);
    return made.body as { id: string; directOrders: boolean };
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { flex: { now: () => clock, replanTimeLimitS: 10 }, optimise: { now: () => clock, delayMs: 600_000, timeLimitS: 10, steps: 192 } });
    w = await buildWorld(tp);
    grid = periodGrid(PERIOD, ZONE, 15)!;
    const connections: string[] = [];
    for (const point of [w.meteringPointA, w.meteringPointA2]) {
      const ean = `8716859${String(Math.floor(Math.random() * 1e11)).padStart(11, '0')}`;
      expect((await manager('PATCH', `/api/v1/metering-points/${point}`, { gridConnectionId: ean })).status).toBe(200);
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
    participantId = participant.body.id;
    expect((await manager('PUT', `/api/v1/flex/participants/${participantId}/portfolio`, { congestionPoints: [{ entityAddress: CP, connections }] })).status).toBe(200);
    // The first contract says nothing of direct orders: they are not agreed.
    const first = await contract(undefined);
    expect(first.directOrders).toBe(false);
    firstContractId = first.id;
    // Member A2's battery, controllable, and member A's smart plug, both behind the congestion point.
    for (const [user, point, kindOf, role] of [[w.memberA, w.meteringPointA, 'smart-plug', 'sub-load'], [w.memberA2, w.meteringPointA2, 'battery', 'storage']] as const) {
      const device = await manager('POST', `/api/v1/communities/${w.communityA}/devices`, { kind: kindOf, name: unique('Direct device '), meteringPointId: point, role });
      expect(device.status, JSON.stringify(device.body)).toBe(201);
      if (kindOf === 'battery') {
        const control = await tp.call('PUT', `/api/v1/devices/${device.body.id}/control`, { token: user.token, body: { controllable: true, limits: { capacityWh: 10_000, reserveSoc: 0.1 } } });
        expect(control.status, JSON.stringify(control.body)).toBe(200);
      }
      devices.push({ token: user.token, id: device.body.id });
    }
    await recordMemberBaselines(tp.platform.db, w.communityA, CP, PERIOD, [w.memberIdA, w.memberIdA2].flatMap((memberId) =>
      Array.from({ length: grid.count }, (_, i) => ({ memberId, isp: i + 1, baselineWh: MEMBER_BASELINE_WH }))));
  }, 180_000);
  afterAll(async () => {
    await sim?.close();
    await tp?.close();
  });

  it('rejects a direct order no contract allows, with the specification\'s reason', async () => {
    const order = await sim.orderDirectly(PERIOD, ORDERED, EUR('1.00'));
    await settle();
    expect(responseTo(order.messageId)).toMatchObject({ result: 'Rejected', rejectionReason: expect.stringContaining('Direct FlexOrder not agreed') });
    expect((await messageByUftpId(tp.platform.db, w.communityA, 'FlexOrder', order.messageId))!.state).toBe('rejected');
  });

  it('under a contract that allows direct orders: refuses one without an accepted D-Prognosis or naming an unknown one, accepts one against the D-Prognosis, plans, monitors and settles it', async () => {
    expect((await manager('POST', `/api/v1/flex/contracts/${firstContractId}/end`)).status).toBe(200);
    const allowing = await contract(true);
    expect((await manager('GET', `/api/v1/flex/contracts/${allowing.id}`)).body).toMatchObject({ directOrders: true, state: 'active' });
    for (const device of devices) {
      expect((await tp.call('PUT', `/api/v1/flex/contracts/${allowing.id}/devices/${device.id}`, { token: device.token, body: {} })).status).toBe(200);
    }
    // No D-Prognosis accepted yet: nothing to measure a direct order against.
    const early = await sim.orderDirectly(PERIOD, ORDERED, EUR('1.00'));
    await settle();
    expect(responseTo(early.messageId)).toMatchObject({ result: 'Rejected', rejectionReason: expect.stringMatching(/^Invalid Message: .*no baseline/) });

    const prognosis: DPrognosis = {
      type: 'D-Prognosis', version: '3.1.0', senderDomain: AGR, recipientDomain: DSO, timeStamp: clock, messageId: crypto.randomUUID(), conversationId: crypto.randomUUID(),
      ispDurationMinutes: 15, timeZone: ZONE, period: PERIOD, congestionPoint: CP, revision: 1, isps: [{ power: BASELINE_W, start: 1, duration: grid.count }],
    };
    await tp.platform.flex.transport.send(w.communityA, prognosis);
    await settle();
    // A D-Prognosis that is not ours (or not accepted) cannot be the baseline.
    const unknown = await sim.orderDirectly(PERIOD, ORDERED, EUR('1.00'), { dPrognosisMessageId: crypto.randomUUID() });
    await settle();
    expect(responseTo(unknown.messageId)).toMatchObject({ result: 'Rejected', rejectionReason: expect.stringContaining('Unknown MessageID reference') });

    const order = await sim.orderDirectly(PERIOD, ORDERED, EUR('1.00'), { dPrognosisMessageId: prognosis.messageId });
    await settle();
    expect(responseTo(order.messageId)).toMatchObject({ result: 'Accepted' });
    expect(sim.orders.map((o) => o.state)).toEqual(['rejected', 'rejected', 'rejected', 'accepted']);

    // Operate: the plan in operation imports the D-Prognosis's 2000 W less the ordered 1000 W in ISPs 73–76.
    const horizon = { startMs: clock, steps: 192, stepMinutes: 15 };
    const targets = await tp.platform.flex.operation.planTargets(w.communityA, horizon);
    const stepOf = (isp: number) => (ispStartMs(grid, isp) - clock) / 900_000;
    expect(targets?.targets).toEqual([73, 74, 75, 76].map((isp) => ({ step: stepOf(isp), minW: 1_000, maxW: 1_000 })));

    // Monitored against the D-Prognosis: nothing measured, then the meters' 1000 W — all delivered.
    const delivery = async () => {
      const answer = await manager('GET', `/api/v1/communities/${w.communityA}/flex/orders/${order.messageId}/delivery`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return answer.body as { isps: unknown[] };
    };
    expect((await delivery()).isps).toEqual([73, 74, 75, 76].map((isp) => ({ isp, baselineW: BASELINE_W, orderedW: -1_000, byHandW: 0, automatedW: -1_000, actualW: null, deliveredW: null, deficiencyW: null })));
    for (const [pointId, wh] of [[w.meteringPointA, 100], [w.meteringPointA2, 150]] as const) {
      await storeIntervals(tp.platform.db, w.communityA, pointId, Object.fromEntries([73, 74, 75, 76].map((isp) => [ispStartMs(grid, isp), { importWh: wh, exportWh: 0 }])));
    }
    for (const isp of [73, 74, 75, 76]) dsoMeter.set(isp, 250);
    expect((await delivery()).isps).toEqual([73, 74, 75, 76].map((isp) => ({ isp, baselineW: BASELINE_W, orderedW: -1_000, byHandW: 0, automatedW: -1_000, actualW: 1_000, deliveredW: -1_000, deficiencyW: 0 })));

    // Settled: the DSO's figures match ours, the order's price is paid in full, shared 60:40 by contribution (A 600 Wh, A2 400 Wh).
    clock = AFTER;
    const settlement = await sim.settle(PERIOD);
    await settle();
    expect(settlement!.flexOrderSettlements).toMatchObject([{ orderReference: order.orderReference, price: EUR('1.00'), penalty: 0n, netSettlement: EUR('1.00') }]);
    expect(sim.settlementResponses()).toMatchObject([{ result: 'Accepted', flexOrderSettlementStatuses: [{ orderReference: order.orderReference, disposition: 'Accepted' }] }]);
    expect((await messageByUftpId(tp.platform.db, w.communityA, 'FlexOrder', order.messageId))!.state).toBe('settled');
    const rewards = await flexRewardsOfPeriods(tp.platform.db, w.communityA, PERIOD, PERIOD);
    expect(rewards.map((r) => [r.memberId, r.orderReference, r.contributionWh, r.amountMinor]).sort()).toEqual([
      [w.memberIdA, order.orderReference, 600, 60n], [w.memberIdA2, order.orderReference, 400, 40n],
    ].sort());
  });
});
