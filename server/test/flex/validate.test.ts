import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { encodeMessage, scaledOption, writeXml, type DPrognosis, type FlexOffer, type FlexOrder, type FlexRequest, type UftpMessage } from '../../src/flex/index.js';
import { memberBaselines } from '../../src/flex/store.js';
import { publishedKeyPairs, uftpPresent } from './support.js';
import { TestDso } from './support/test-dso.js';

/**
 * The plan and validate phases over real HTTP: a test DSO with its own keys (the published test
 * key pair) sends FlexRequests to a whole platform; the community (a member's battery opted in to
 * an active contract, the congestion point's connection entered by the manager) re-plans with the
 * request and answers Accepted with a FlexOffer that the test opens against the XSDs — or Rejected
 * with why; the offer is revoked; the D-Prognosis goes out before the gate. The clock is the test's.
 */

const DSO = 'dso.validate.example.org';
const CP = 'ea1.2026-06.org.example.dso:feeder-12';
const OTHER_CP = 'ea1.2026-06.org.example.dso:feeder-13';
const ZONE = 'Europe/Amsterdam';
/** 10:00 in Amsterdam on 15 June 2026; the Period asked for is the next day (96 ISPs from 2026-06-15T22:00Z). */
const START = Date.UTC(2026, 5, 15, 8, 0);
const PERIOD = '2026-06-16';
const PATH = '/shapeshifter/api/v3/message';

const keyPair = () => publishedKeyPairs().find((k) => k.id.startsWith('python-demo-dso'))!;

describe.skipIf(!uftpPresent).each(platformStoreKinds)('flexibility requests validated on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let dso: TestDso;
  let clock = START;
  let agr = '';
  let agrPublicKey = '';
  let dsoId = '';
  let battery = '';
  let counter = 0;

  const call = (token: string, method: string, url: string, body?: unknown) => tp.call(method, url, { token, body });
  const manager = (method: string, url: string, body?: unknown) => call(w.managerA.token, method, url, body);
  const uuid = () => `00000000-0000-4000-9000-${(++counter).toString(16).padStart(12, '0')}`;
  const request = (changes: Partial<FlexRequest> = {}): FlexRequest => ({
    type: 'FlexRequest', version: '3.1.0', senderDomain: DSO, recipientDomain: agr, timeStamp: clock, messageId: uuid(), conversationId: uuid(),
    ispDurationMinutes: 15, timeZone: ZONE, period: PERIOD, congestionPoint: CP, revision: 1, expirationDateTime: clock + 3_600_000,
    // Less consumption, 2–20 kW, 18:00–19:00 local (ISPs 73–76); room for the battery to recharge elsewhere.
    isps: [
      { disposition: 'Available', minPower: -50_000, maxPower: 50_000, start: 1, duration: 72 },
      { disposition: 'Requested', minPower: -20_000, maxPower: -2_000, start: 73, duration: 4 },
      { disposition: 'Available', minPower: -50_000, maxPower: 50_000, start: 77, duration: 20 },
    ],
    ...changes,
  });
  /** Posts a message signed by the DSO, lets the validate phase and the outbox run, and returns what the DSO got, opened and schema-checked. */
  const exchange = async (message: UftpMessage): Promise<UftpMessage[]> => {
    const from = dso.received.length;
    const response = await fetch(`${tp.platform.httpUrl.replace('localhost', '127.0.0.1')}${PATH}`, {
      method: 'POST', headers: { 'content-type': 'text/xml' }, body: dso.sign(writeXml(encodeMessage(message))),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    await tp.platform.flex.validate.flush();
    await tp.platform.flex.outbox.flush();
    return dso.opened(agr, agrPublicKey, from).map((m) => m.message);
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { flex: { now: () => clock, replanTimeLimitS: 10 }, optimise: { now: () => clock, delayMs: 600_000, timeLimitS: 10 } });
    w = await buildWorld(tp);
    dso = await TestDso.start(DSO, keyPair().secretKey_b64);
    agr = `a-${w.communityA}.example.org`;
    const identity = await manager('PUT', `/api/v1/communities/${w.communityA}/flex/identity`, { domain: agr, timeZone: ZONE });
    expect(identity.status, JSON.stringify(identity.body)).toBe(200);
    agrPublicKey = identity.body.publicKey;
    const participant = await manager('POST', `/api/v1/communities/${w.communityA}/flex/participants`, {
      domain: DSO, role: 'DSO', endpoint: dso.url, publicKeys: [keyPair().publicKey_b64], congestionPoints: [CP, OTHER_CP],
    });
    expect(participant.status, JSON.stringify(participant.body)).toBe(201);
    dsoId = participant.body.id;

    // Member A's home battery, which they let the plan control and opt in to the contract.
    battery = (await manager('POST', `/api/v1/communities/${w.communityA}/devices`, { kind: 'battery', name: 'Home battery', meteringPointId: w.meteringPointA, role: 'storage' })).body.id;
    expect((await call(w.memberA.token, 'PUT', `/api/v1/devices/${battery}/control`, { controllable: true, limits: { capacityWh: 10_000, reserveSoc: 0.1 } })).status).toBe(200);
    const contract = await manager('POST', `/api/v1/communities/${w.communityA}/flex/contracts`, {
      participantId: dsoId, congestionPoints: [CP, OTHER_CP], serviceType: 'congestion-management', validFrom: '2026-06-01', validTo: '2026-12-31',
      windows: [{ weekdays: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }], capacityRemuneration: '2.50', volumeRemuneration: '0.12', penaltyRate: '0.30',
    });
    expect(contract.status, JSON.stringify(contract.body)).toBe(201);
    expect((await manager('POST', `/api/v1/flex/contracts/${contract.body.id}/activate`)).status).toBe(200);
    expect((await call(w.memberA.token, 'PUT', `/api/v1/flex/contracts/${contract.body.id}/devices/${battery}`, {})).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await tp?.close();
    await dso?.close();
  });

  it('keeps the portfolio the manager enters: congestion points of the DSO\'s entry only, connections matched to metering points', async () => {
    const point = (await call(w.memberA.token, 'GET', `/api/v1/metering-points/${w.meteringPointA}`)).body;
    const refused = await manager('PUT', `/api/v1/flex/participants/${dsoId}/portfolio`, { congestionPoints: [{ entityAddress: 'ea1.elsewhere:1', connections: [] }] });
    expect([refused.status, refused.body.message]).toEqual([400, expect.stringContaining('body/congestionPoints/0/entityAddress')]);
    expect((await manager('GET', `/api/v1/communities/${w.communityA}/flex/portfolio`)).body).toEqual([]);

    const set = await manager('PUT', `/api/v1/flex/participants/${dsoId}/portfolio`, {
      congestionPoints: [
        { entityAddress: CP, connections: [`ean.${point.gridConnectionId}`, 'ean.871685900000000099'] },
        { entityAddress: OTHER_CP, connections: ['ean.871685900000000098'], prognosisGate: '11:00' },
      ],
    });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.map((cp: { entityAddress: string; matchedMeteringPoints: number; prognosisGate: string }) => [cp.entityAddress, cp.matchedMeteringPoints, cp.prognosisGate]))
      .toEqual([[CP, 1, '12:00'], [OTHER_CP, 0, '11:00']]);
  });

  it('answers a FlexRequest with Accepted and a FlexOffer from the re-plan: the battery discharges in the requested ISPs, priced and partly activatable', async () => {
    const asked = request();
    const [response, offer] = await exchange(asked);
    expect(response).toMatchObject({ type: 'FlexRequestResponse', result: 'Accepted', flexRequestMessageId: asked.messageId, conversationId: asked.conversationId });
    expect(offer).toMatchObject({ type: 'FlexOffer', flexRequestMessageId: asked.messageId, conversationId: asked.conversationId, congestionPoint: CP, period: PERIOD, currency: 'EUR' });
    const { offerOptions, expirationDateTime } = offer as FlexOffer;
    expect(offerOptions).toHaveLength(1);
    const option = offerOptions[0]!;
    const powerAt = (isp: number) => option.isps.find((e) => e.start <= isp && isp < e.start + e.duration)?.power ?? 0;
    // Every requested ISP moves down; the battery (10 kWh, 5 kW) gives at most its power.
    for (const isp of [73, 74, 75, 76]) {
      expect(powerAt(isp), `ISP ${isp}`).toBeLessThanOrEqual(-2_000);
      expect(powerAt(isp), `ISP ${isp}`).toBeGreaterThanOrEqual(-5_010);
    }
    // Partial activation down to the share that still gives 2 kW in every requested ISP.
    const weakest = Math.min(...[73, 74, 75, 76].map((isp) => -powerAt(isp)));
    expect(option.minActivationFactor).toBe(Math.ceil((100 * 2_000) / weakest));
    // The price covers at least the volume remuneration (0.12 per kWh) of the energy moved.
    const movedWh = option.isps.reduce((sum, e) => sum + Math.round(Math.abs(e.power) / 4) * e.duration, 0);
    expect(option.price).toBeGreaterThanOrEqual(120_000n * BigInt(movedWh));
    expect(expirationDateTime).toBeLessThan(Date.parse('2026-06-16T16:00:00Z'));

    const offers = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/offers`)).body;
    expect(offers[0]).toMatchObject({ messageId: offer!.messageId, requestMessageId: asked.messageId, state: 'sent', devices: 1, congestionPoint: CP });
    expect(offers[0].baseline).toHaveLength(96);
  });

  it('rejects, with the reason, a request where no opted-in device stands behind the congestion point', async () => {
    const asked = request({ congestionPoint: OTHER_CP });
    const answers = await exchange(asked);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ type: 'FlexRequestResponse', result: 'Rejected', rejectionReason: expect.stringContaining('none of the connections') });
  });

  it('revokes an offer not ordered (FlexOfferRevocation) and then refuses its order; an ordered offer cannot be revoked', async () => {
    const [, offer] = await exchange(request()) as [UftpMessage, FlexOffer];
    const from = dso.received.length;
    const revoked = await manager('POST', `/api/v1/communities/${w.communityA}/flex/offers/${offer.messageId}/revoke`);
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body.state).toBe('revoked');
    await tp.platform.flex.outbox.flush();
    const [revocation] = dso.opened(agr, agrPublicKey, from).map((m) => m.message);
    expect(revocation).toMatchObject({ type: 'FlexOfferRevocation', flexOfferMessageId: offer.messageId, recipientDomain: DSO });
    expect((await manager('POST', `/api/v1/communities/${w.communityA}/flex/offers/${offer.messageId}/revoke`)).status).toBe(409);

    const option = offer.offerOptions[0]!;
    const order = (of: FlexOffer): FlexOrder => ({
      type: 'FlexOrder', version: '3.1.0', senderDomain: DSO, recipientDomain: agr, timeStamp: clock, messageId: uuid(), conversationId: of.conversationId,
      ispDurationMinutes: 15, timeZone: ZONE, period: PERIOD, congestionPoint: CP, flexOfferMessageId: of.messageId, price: of.offerOptions[0]!.price, currency: 'EUR',
      orderReference: `ORD-${uuid()}`, optionReference: 'A', activationFactor: 100, isps: of.offerOptions[0]!.isps,
    });
    const [refused] = await exchange(order(offer));
    expect(refused).toMatchObject({ type: 'FlexOrderResponse', result: 'Rejected' });
    expect(option.isps.length).toBeGreaterThan(0);

    const [, second] = await exchange(request()) as [UftpMessage, FlexOffer];
    const [accepted] = await exchange(order(second));
    expect(accepted).toMatchObject({ type: 'FlexOrderResponse', result: 'Accepted' });
    const late = await manager('POST', `/api/v1/communities/${w.communityA}/flex/offers/${second.messageId}/revoke`);
    expect([late.status, late.body.message]).toEqual([409, expect.stringContaining('ordered')]);
  });

  it('asks the member of an opted-in device the plan may not control to move by hand when an order is accepted; they answer until the ISPs begin', async () => {
    const contractId = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/contracts`)).body[0].id;
    // Member A's smart plug takes part but is not automated (no control settings): only a request can move it.
    const plug = (await manager('POST', `/api/v1/communities/${w.communityA}/devices`, { kind: 'smart-plug', name: 'Dryer plug', meteringPointId: w.meteringPointA, role: 'sub-load' })).body.id;
    // Its member allows it 300 W for flexibility: what an accepted request counts for in the plan.
    expect((await call(w.memberA.token, 'PUT', `/api/v1/flex/contracts/${contractId}/devices/${plug}`, { maxPowerW: 300 })).status).toBe(200);
    const [, offer] = await exchange(request()) as [UftpMessage, FlexOffer];
    const mine = () => call(w.memberA.token, 'GET', `/api/v1/communities/${w.communityA}/flex/activation-requests/mine`);
    // An offer alone asks nobody.
    expect((await mine()).body).toEqual([]);
    const ordered: FlexOrder = {
      type: 'FlexOrder', version: '3.1.0', senderDomain: DSO, recipientDomain: agr, timeStamp: clock, messageId: uuid(), conversationId: offer.conversationId,
      ispDurationMinutes: 15, timeZone: ZONE, period: PERIOD, congestionPoint: CP, flexOfferMessageId: offer.messageId, price: offer.offerOptions[0]!.price, currency: 'EUR',
      orderReference: `ORD-${uuid()}`, optionReference: 'A', activationFactor: 100, isps: offer.offerOptions[0]!.isps,
    };
    const [accepted] = await exchange(ordered);
    expect(accepted).toMatchObject({ type: 'FlexOrderResponse', result: 'Accepted' });

    const moving = offer.offerOptions[0]!.isps.filter((e) => e.power !== 0);
    const firstIsp = Math.min(...moving.map((e) => e.start));
    const lastIsp = Math.max(...moving.map((e) => e.start + e.duration - 1));
    const startsAt = new Date(Date.parse('2026-06-15T22:00:00Z') + (firstIsp - 1) * 900_000).toISOString();
    const requests = (await mine()).body;
    // The battery is automated: only the plug is asked.
    expect(requests).toEqual([expect.objectContaining({
      orderMessageId: ordered.messageId, congestionPoint: CP, period: PERIOD, deviceId: plug, deviceName: 'Dryer plug', firstIsp, lastIsp, startsAt, direction: 'decrease', state: 'pending', answeredAt: null,
    })]);
    const summary = () => manager('GET', `/api/v1/communities/${w.communityA}/flex/activation-requests`);
    expect((await summary()).body).toEqual([expect.objectContaining({ orderMessageId: ordered.messageId, pending: 1, accepted: 0, declined: 0, firstIsp, lastIsp })]);
    // Nobody else answers it (another member, the manager), nor with an answer that is not one.
    const answer = (token: string, body: unknown) => call(token, 'POST', `/api/v1/flex/activation-requests/${requests[0].id}/answer`, body);
    expect((await answer(w.memberA2.token, { answer: 'accept' })).status).toBe(404);
    expect((await answer(w.managerA.token, { answer: 'accept' })).status).toBe(404);
    expect((await answer(w.memberA.token, { answer: 'maybe' })).status).toBe(400);
    expect((await summary()).body[0]).toMatchObject({ pending: 1 });

    // The plan in operation: the battery is bound to the whole order while nobody accepted to move by hand.
    const horizon = { startMs: clock, steps: 192, stepMinutes: 15 };
    const stepOf = (isp: number) => (Date.parse('2026-06-15T22:00:00Z') - clock) / 900_000 + isp - 1;
    const targetsNow = async () => new Map(((await tp.platform.flex.operation.planTargets(w.communityA, horizon))?.targets ?? []).map((t) => [t.step, t.minW]));
    const unanswered = await targetsNow();
    expect(unanswered.size).toBeGreaterThan(0);
    const yes = await answer(w.memberA.token, { answer: 'accept' });
    expect([yes.status, yes.body.state, yes.body.answeredAt]).toEqual([200, 'accepted', new Date(clock).toISOString()]);
    // Accepted: the plug's 300 W are its member's to move in the requested ISPs; the battery is bound to 300 W less there, nothing else changes.
    const accepting = await targetsNow();
    for (const [step, watts] of unanswered) {
      const requestedStep = [73, 74, 75, 76].some((isp) => stepOf(isp) === step);
      expect(accepting.get(step), `step ${step}`).toBe(requestedStep ? watts + 300 : watts);
    }
    expect((await answer(w.memberA.token, { answer: 'decline' })).body.state).toBe('declined');
    // Declined: the plug counts for nothing, the battery is bound to the whole order again.
    expect(await targetsNow()).toEqual(unanswered);
    expect((await summary()).body[0]).toMatchObject({ pending: 0, accepted: 0, declined: 1 });
    // The member may say how much they will move: above what the opt-in allows, or with a decline, is refused and changes nothing.
    expect((await answer(w.memberA.token, { answer: 'accept', powerW: 301 })).body).toMatchObject({ field: 'body/powerW' });
    expect((await answer(w.memberA.token, { answer: 'decline', powerW: 100 })).body).toMatchObject({ field: 'body/powerW' });
    expect((await mine()).body[0].state).toBe('declined');
    expect((await answer(w.memberA.token, { answer: 'accept', powerW: 200 })).status).toBe(200);
    expect(await targetsNow()).toEqual(new Map([...unanswered].map(([step, watts]) => [step, [73, 74, 75, 76].some((isp) => stepOf(isp) === step) ? watts + 200 : watts])));
    // Delivery monitoring shows the order split: what members accepted to move by hand and what the automated devices are bound to.
    const delivery = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/orders/${ordered.messageId}/delivery`)).body;
    const orderedAt = new Map<number, number>(delivery.isps.map((i: { isp: number; orderedW: number }) => [i.isp, i.orderedW]));
    for (const i of delivery.isps as { isp: number; orderedW: number; byHandW: number; automatedW: number }[]) {
      const byHand = [73, 74, 75, 76].includes(i.isp) && i.orderedW < 0 ? Math.max(i.orderedW, -200) : 0;
      expect([i.byHandW, i.automatedW], `ISP ${i.isp}`).toEqual([byHand, orderedAt.get(i.isp)! - byHand]);
    }
    // An opt-in without a maximum: accepting must say the power (else nothing would be counted for it); with one, it counts.
    expect((await call(w.memberA.token, 'PUT', `/api/v1/flex/contracts/${contractId}/devices/${plug}`, { maxPowerW: null })).status).toBe(200);
    const unsaid = await answer(w.memberA.token, { answer: 'accept' });
    expect([unsaid.status, unsaid.body.field]).toEqual([400, 'body/powerW']);
    expect((await answer(w.memberA.token, { answer: 'accept', powerW: 450 })).status).toBe(200);
    expect(await targetsNow()).toEqual(new Map([...unanswered].map(([step, watts]) => [step, [73, 74, 75, 76].some((isp) => stepOf(isp) === step) ? watts + 450 : watts])));
    expect((await answer(w.memberA.token, { answer: 'decline' })).body.state).toBe('declined');
    // Once the first ordered ISP has begun the answer stands.
    const before = clock;
    clock = Date.parse(startsAt);
    try {
      const late = await answer(w.memberA.token, { answer: 'accept' });
      expect([late.status, late.body.message]).toEqual([409, expect.stringContaining('can no longer be answered')]);
      expect((await mine()).body[0].state).toBe('declined');
    } finally {
      clock = before;
    }
    expect((await call(w.memberA.token, 'DELETE', `/api/v1/flex/contracts/${contractId}/devices/${plug}`)).status).toBe(204);
  });

  it('bounds the battery in the re-plan by the smaller of the opt-in\'s maxPowerW and the member\'s own control limit', async () => {
    const contractId = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/contracts`)).body[0].id;
    const mostGiven = async () => {
      const [, offer] = await exchange(request()) as [UftpMessage, FlexOffer];
      return Math.max(...offer.offerOptions[0]!.isps.filter((e) => e.start >= 73 && e.start <= 76).map((e) => -e.power));
    };
    const optIn = (maxPowerW: number | null) => call(w.memberA.token, 'PUT', `/api/v1/flex/contracts/${contractId}/devices/${battery}`, { maxPowerW });
    const control = (limits: Record<string, number>) => call(w.memberA.token, 'PUT', `/api/v1/devices/${battery}/control`, { controllable: true, limits: { capacityWh: 10_000, reserveSoc: 0.1, ...limits } });
    try {
      // The opt-in allows 1.5 kW: the offer gives no more, where without it the battery gave at least 2 kW.
      expect((await optIn(1_500)).status).toBe(200);
      const optInBound = await mostGiven();
      expect(optInBound).toBeGreaterThan(1_000);
      expect(optInBound).toBeLessThanOrEqual(1_510);
      // The member's own control limit of 1 kW is smaller: it wins.
      expect((await control({ maxPowerW: 1_000 })).status).toBe(200);
      expect(await mostGiven()).toBeLessThanOrEqual(1_010);
      // An opt-in below the control limit wins in turn.
      expect((await optIn(600)).status).toBe(200);
      expect(await mostGiven()).toBeLessThanOrEqual(610);
    } finally {
      expect((await optIn(null)).status).toBe(200);
      expect((await control({})).status).toBe(200);
    }
  });

  it('offers mutually exclusive options where the congestion point takes them: the order picks one by OptionReference, an unknown one is rejected', async () => {
    const point = (await call(w.memberA.token, 'GET', `/api/v1/metering-points/${w.meteringPointA}`)).body;
    const portfolio = (mutexOffersSupported: boolean) => manager('PUT', `/api/v1/flex/participants/${dsoId}/portfolio`, {
      congestionPoints: [
        { entityAddress: CP, connections: [`ean.${point.gridConnectionId}`, 'ean.871685900000000099'], mutexOffersSupported },
        { entityAddress: OTHER_CP, connections: ['ean.871685900000000098'], prognosisGate: '11:00' },
      ],
    });
    expect((await portfolio(true)).status).toBe(200);
    try {
      // 2–20 kW less asked: option A is the re-plan within the range, B the most the battery gives toward 20 kW.
      const [response, offered] = await exchange(request()) as [UftpMessage, FlexOffer];
      expect(response).toMatchObject({ type: 'FlexRequestResponse', result: 'Accepted' });
      const [a, b] = offered.offerOptions;
      expect(offered.offerOptions.map((o) => o.optionReference)).toEqual(['A', 'B']);
      const given = (option: typeof a, isp: number) => -(option!.isps.find((e) => e.start <= isp && isp < e.start + e.duration)?.power ?? 0);
      for (const isp of [73, 74, 75, 76]) {
        expect(given(a, isp), `A at ISP ${isp}`).toBeGreaterThanOrEqual(2_000);
        expect(given(b, isp), `B at ISP ${isp}`).toBeGreaterThan(given(a, isp) + 500);
        expect(given(b, isp), `B at ISP ${isp}`).toBeLessThanOrEqual(5_010);
      }
      // More flexibility costs more and may be activated in a smaller share.
      expect(b!.price).toBeGreaterThan(a!.price);
      expect(b!.minActivationFactor).toBeLessThan(a!.minActivationFactor);

      const order = (optionReference: string, option: typeof a, factor: number): FlexOrder => {
        const { isps, price } = scaledOption(option!, factor);
        return {
          type: 'FlexOrder', version: '3.1.0', senderDomain: DSO, recipientDomain: agr, timeStamp: clock, messageId: uuid(), conversationId: offered.conversationId,
          ispDurationMinutes: 15, timeZone: ZONE, period: PERIOD, congestionPoint: CP, flexOfferMessageId: offered.messageId, price, currency: 'EUR',
          orderReference: `ORD-${uuid()}`, optionReference, activationFactor: factor, isps: [...isps],
        };
      };
      // An option the offer does not have, and B's ISPs under A's name: rejected, the offer stays open.
      const [unknown] = await exchange(order('Z', b, 100));
      expect(unknown).toMatchObject({ type: 'FlexOrderResponse', result: 'Rejected', rejectionReason: expect.stringContaining('no option "Z"') });
      const [mixed] = await exchange(order('A', b, 100));
      expect(mixed).toMatchObject({ type: 'FlexOrderResponse', result: 'Rejected' });
      // B at its minimum activation factor, exactly scaled: accepted; the offer is ordered.
      const [accepted] = await exchange(order('B', b, b!.minActivationFactor));
      expect(accepted).toMatchObject({ type: 'FlexOrderResponse', result: 'Accepted' });
      const offers = (await manager('GET', `/api/v1/communities/${w.communityA}/flex/offers`)).body;
      expect(offers.find((o: { messageId: string }) => o.messageId === offered.messageId)).toMatchObject({ state: 'ordered' });
    } finally {
      expect((await portfolio(false)).status).toBe(200);
    }
  }, 120_000);

  it('makes an unsolicited FlexOffer a manager asks for, which the DSO may order; refuses bad ranges, other callers and what no contract covers', async () => {
    const body = (changes: Record<string, unknown> = {}) => ({ participantId: dsoId, congestionPoint: CP, period: PERIOD, isps: [{ start: 73, duration: 4, minPower: -20_000, maxPower: -2_000 }], ...changes });
    const url = `/api/v1/communities/${w.communityA}/flex/offers`;
    const from = dso.received.length;
    const made = await manager('POST', url, body());
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ requestMessageId: null, congestionPoint: CP, period: PERIOD, devices: 1, state: 'queued' });
    await tp.platform.flex.outbox.flush();
    const [offer] = dso.opened(agr, agrPublicKey, from).map((m) => m.message) as FlexOffer[];
    expect(offer).toMatchObject({ type: 'FlexOffer', messageId: made.body.messageId, unsolicited: true, congestionPoint: CP, period: PERIOD, recipientDomain: DSO });
    expect(offer!.flexRequestMessageId).toBeUndefined();
    const option = offer!.offerOptions[0]!;
    expect(offer!.offerOptions).toHaveLength(1);
    for (const isp of [73, 74, 75, 76]) expect(option.isps.find((e) => e.start <= isp && isp < e.start + e.duration)?.power ?? 0, `ISP ${isp}`).toBeLessThanOrEqual(-2_000);

    // The DSO orders it like any offer.
    const [accepted] = await exchange({
      type: 'FlexOrder', version: '3.1.0', senderDomain: DSO, recipientDomain: agr, timeStamp: clock, messageId: uuid(), conversationId: offer!.conversationId,
      ispDurationMinutes: 15, timeZone: ZONE, period: PERIOD, congestionPoint: CP, flexOfferMessageId: offer!.messageId, price: option.price, currency: 'EUR',
      orderReference: `ORD-${uuid()}`, optionReference: option.optionReference, activationFactor: 100, isps: option.isps,
    });
    expect(accepted).toMatchObject({ type: 'FlexOrderResponse', result: 'Accepted' });
    const listed = (await manager('GET', url)).body.find((o: { messageId: string }) => o.messageId === offer!.messageId);
    expect(listed).toMatchObject({ state: 'ordered', requestMessageId: null, orderMessageId: expect.any(String) });

    // Bad ranges name their field; what no contract or portfolio covers is refused with why; others are not let in. Nothing is sent.
    const before = dso.received.length;
    const refusals: [Record<string, unknown>, string][] = [
      [{ isps: [{ start: 95, duration: 4, minPower: -2_000, maxPower: -1_000 }] }, 'body/isps/0'],
      [{ isps: [{ start: 73, duration: 4, minPower: -1_000, maxPower: -2_000 }] }, 'body/isps/0'],
      [{ isps: [{ start: 73, duration: 4, minPower: -1_000, maxPower: 1_000 }] }, 'body/isps/0'],
      [{ isps: [{ start: 73, duration: 4, minPower: -2_000, maxPower: -1_000 }, { start: 76, duration: 2, minPower: -2_000, maxPower: -1_000 }] }, 'body/isps'],
      [{ period: '2026-02-30' }, 'body/period'],
    ];
    for (const [changes, field] of refusals) {
      const refused = await manager('POST', url, body(changes));
      expect(refused.status, JSON.stringify(changes)).toBe(400);
      expect(refused.body.field, JSON.stringify(refused.body)).toBe(field);
    }
    expect((await manager('POST', url, body({ isps: [] }))).status).toBe(400);
    const uncovered = await manager('POST', url, body({ period: '2027-02-01' }));
    expect([uncovered.status, uncovered.body.message]).toEqual([409, expect.stringContaining('no active flexibility contract')]);
    const nobody = await manager('POST', url, body({ congestionPoint: OTHER_CP }));
    expect([nobody.status, nobody.body.message]).toEqual([409, expect.stringContaining('none of the connections')]);
    expect((await manager('POST', url, body({ participantId: crypto.randomUUID() }))).status).toBe(404);
    expect((await call(w.memberA.token, 'POST', url, body())).status).toBe(403);
    expect((await call(w.managerB.token, 'POST', url, body())).status).toBe(404);
    await tp.platform.flex.outbox.flush();
    expect(dso.received.length).toBe(before);
  }, 120_000);

  it('sends the D-Prognosis of tomorrow before the gate, revision 1 for all 96 ISPs, and no new revision while nothing changes', async () => {
    clock = Date.UTC(2026, 5, 15, 8, 30); // 10:30 local: within two hours of the 12:00 gate
    const from = dso.received.length;
    await tp.platform.flex.prognosis.flush();
    await tp.platform.flex.outbox.flush();
    const sent = dso.opened(agr, agrPublicKey, from).map((m) => m.message).filter((m): m is DPrognosis => m.type === 'D-Prognosis');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ congestionPoint: CP, period: PERIOD, revision: 1, recipientDomain: DSO });
    expect(sent[0]!.isps.reduce((n, e) => n + e.duration, 0)).toBe(96);
    // The members' baselines come from the same plan: member A's is the congestion point's (their point is
    // the only one matched), a quarter of the ISP's power in Wh, within the one rounding of each.
    const baselines = await memberBaselines(tp.platform.db, w.communityA, CP, PERIOD);
    expect(baselines).toHaveLength(96);
    expect(new Set(baselines.map((b) => b.memberId))).toEqual(new Set([w.memberIdA]));
    for (const element of sent[0]!.isps) {
      for (let isp = element.start; isp < element.start + element.duration; isp++) {
        expect(Math.abs(baselines.find((b) => b.isp === isp)!.baselineWh - element.power / 4), `ISP ${isp}`).toBeLessThanOrEqual(1);
      }
    }

    const again = dso.received.length;
    await tp.platform.flex.prognosis.flush();
    await tp.platform.flex.outbox.flush();
    expect(dso.received.length).toBe(again);
  });
});
