import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { communityBody } from '../support/world.js';
import { readPayload, signingKeyFromSecret, writeXml, encodeMessage, type FlexOffer, type FlexOrder, type FlexRequest, type UftpMessage } from '../../src/flex/index.js';
import { example, publishedKeyPairs, schemas, uftpPresent } from './support.js';
import { startCanary, TestDso } from './support/test-dso.js';

/**
 * The UFTP transport over real HTTP: a test DSO (its own HTTP server, the published test keys)
 * exchanges the reference conversation and hostile or wrong messages with a whole platform, whose
 * clock the test drives (expiry, the outbox's retries).
 */

const AGR = 'aggregator.org';
const DSO = 'uftp.dso.nl';
const CONGESTION_POINT = 'ea1.2009-01.nl.enexis.usef:123-TP-bundel-congestiepunt';
/** A minute after the reference FlexOrder was sent (its offer expires 10:30Z, the Period is 2021-10-30). */
const START = Date.parse('2021-10-29T06:56:00Z');
const PATH = '/shapeshifter/api/v3/message';

const keyPair = (id: string) => publishedKeyPairs().find((k) => k.id.startsWith(id))!;

describe.skipIf(!uftpPresent).each(platformStoreKinds)('UFTP transport on %s', (kind) => {
  let tp: TestPlatform;
  let dso: TestDso;
  let clock = START;
  let communityId: string;
  let agrPublicKey: string;
  let participantId: string;
  const stored: { direction: string; type: string }[] = [];

  const post = (xml: string | Buffer, contentType = 'text/xml') => fetch(`${tp.platform.httpUrl.replace('localhost', '127.0.0.1')}${PATH}`, {
    method: 'POST', headers: { 'content-type': contentType }, body: xml,
  });
  const manager = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: tp.admin.token, body });
  const messages = async (conversationId?: string) => (await manager('GET', `/api/v1/communities/${communityId}/flex/messages?limit=500${conversationId ? `&conversationId=${conversationId}` : ''}`)).body as {
    id: string; direction: string; type: string; messageId: string; state: string; rejectionReason: string | null; inReplyTo: string | null; duplicateOf: string | null;
    delivery: { state: string; attempts: number; nextAttemptAt: string | null } | null;
  }[];
  /** Delivers the outbox and returns what the DSO got since `from`, opened. */
  const delivered = async (from: number) => {
    await tp.platform.flex.outbox.flush();
    return dso.opened(AGR, agrPublicKey, from).map((m) => m.message);
  };
  /** Posts a payload signed by the DSO, expects 200 and returns the one answer delivered. */
  const exchange = async (payloadXml: string) => {
    const from = dso.received.length;
    const response = await post(dso.sign(payloadXml));
    expect(response.status, await response.clone().text()).toBe(200);
    const answers = await delivered(from);
    expect(answers).toHaveLength(1);
    return answers[0] as Extract<UftpMessage, { result: 'Accepted' | 'Rejected' }>;
  };
  const write = (message: UftpMessage) => writeXml(encodeMessage(message));
  const referenceRequest = () => readPayload(example('FlexRequest.xml'), schemas()) as FlexRequest;
  const freshRequest = (changes: Partial<FlexRequest> = {}): FlexRequest => ({ ...referenceRequest(), messageId: crypto.randomUUID(), conversationId: crypto.randomUUID(), ...changes });

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { flex: { now: () => clock } });
    tp.platform.events.afterCommit('flex.message.stored', (event) => {
      stored.push({ direction: event.direction, type: event.type });
    });
    dso = await TestDso.start(DSO, keyPair('python-demo-dso').secretKey_b64);
    communityId = (await manager('POST', '/api/v1/communities', communityBody(unique('Flex ')))).body.id;
    const identity = await manager('PUT', `/api/v1/communities/${communityId}/flex/identity`, { domain: AGR, timeZone: 'Europe/Amsterdam' });
    expect(identity.status).toBe(200);
    agrPublicKey = identity.body.publicKey;
    const participant = await manager('POST', `/api/v1/communities/${communityId}/flex/participants`, {
      domain: DSO, role: 'DSO', endpoint: dso.url, publicKeys: [keyPair('python-demo-dso').publicKey_b64], congestionPoints: [CONGESTION_POINT],
    });
    expect(participant.status, JSON.stringify(participant.body)).toBe(201);
    participantId = participant.body.id;
  }, 120_000);
  afterAll(async () => {
    await tp?.close();
    await dso?.close();
  });

  it('answers the reference FlexRequest, signed with the published DSO key, with a signed FlexRequestResponse in its conversation', async () => {
    const xml = example('FlexRequest.xml');
    const request = readPayload(xml, schemas()) as FlexRequest;
    const answer = await exchange(xml);
    expect(answer).toMatchObject({
      type: 'FlexRequestResponse', result: 'Accepted', senderDomain: AGR, recipientDomain: DSO,
      conversationId: request.conversationId, flexRequestMessageId: request.messageId, timeStamp: clock,
    });
    const conversation = await messages(request.conversationId);
    const incoming = conversation.find((m) => m.direction === 'in')!;
    const outgoing = conversation.find((m) => m.direction === 'out')!;
    expect(incoming).toMatchObject({ type: 'FlexRequest', messageId: request.messageId, state: 'accepted', rejectionReason: null });
    expect(outgoing).toMatchObject({ type: 'FlexRequestResponse', state: 'sent', inReplyTo: incoming.id, delivery: { state: 'delivered', attempts: 1 } });
    // Each stored message is published for the verifiable record.
    expect(stored).toEqual(expect.arrayContaining([{ direction: 'received', type: 'FlexRequest' }, { direction: 'sent', type: 'FlexRequestResponse' }]));
    // …and enters the verifiable record, one entry per stored message.
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const ledger = await manager('GET', `/api/v1/communities/${communityId}/ledger`);
    // Each message, and the two settings changes before it (the identity set, the DSO entered): flex is a money-relevant audit kind.
    expect(ledger.body.community.entries).toBe(conversation.length + 2);
  });

  it('sends the reference FlexOffer, takes an order for it once, and refuses a second order of the same offer', async () => {
    const offer = readPayload(example('FlexOffer.xml'), schemas()) as FlexOffer;
    const from = dso.received.length;
    await tp.platform.flex.transport.send(communityId, offer);
    const [sent] = await delivered(from);
    expect(sent).toMatchObject({ type: 'FlexOffer', messageId: offer.messageId, senderDomain: AGR, flexRequestMessageId: referenceRequest().messageId });

    const option = offer.offerOptions[0]!;
    const order: FlexOrder = {
      type: 'FlexOrder', version: '3.1.0', senderDomain: DSO, recipientDomain: AGR, timeStamp: clock, messageId: crypto.randomUUID(), conversationId: offer.conversationId,
      ispDurationMinutes: 15, timeZone: offer.timeZone, period: offer.period, congestionPoint: CONGESTION_POINT, flexOfferMessageId: offer.messageId,
      price: option.price, currency: offer.currency, orderReference: 'ORD-1', optionReference: option.optionReference, activationFactor: 100, isps: option.isps,
    };
    expect(await exchange(write(order))).toMatchObject({ type: 'FlexOrderResponse', result: 'Accepted', flexOrderMessageId: order.messageId });
    expect((await messages(offer.conversationId)).find((m) => m.type === 'FlexOffer')!.state).toBe('ordered');

    const again = await exchange(write({ ...order, messageId: crypto.randomUUID() }));
    expect(again).toMatchObject({ result: 'Rejected', rejectionReason: expect.stringContaining('Offer already ordered') });

    // An order of an offer that is not known: Unknown MessageID reference.
    const unknown = await exchange(write({ ...order, messageId: crypto.randomUUID(), flexOfferMessageId: crypto.randomUUID() }));
    expect(unknown).toMatchObject({ result: 'Rejected', rejectionReason: expect.stringContaining('Unknown MessageID reference') });
  });

  it('answers a repeated message as before and rejects a reused MessageID with other content (Duplicate Identifier)', async () => {
    const request = freshRequest();
    const first = await exchange(write(request));
    expect(first.result).toBe('Accepted');
    const firstAnswer = dso.received.at(-1);

    const repeated = await exchange(write(request));
    expect(repeated).toEqual(first);
    expect(dso.received.at(-1)).toBe(firstAnswer);

    const reused = await exchange(write({ ...request, revision: 2 }));
    expect(reused).toMatchObject({ result: 'Rejected', rejectionReason: expect.stringContaining('Duplicate Identifier'), flexRequestMessageId: request.messageId });
    const conversation = await messages(request.conversationId);
    const original = conversation.find((m) => m.direction === 'in' && m.duplicateOf === null)!;
    expect(original.state).toBe('accepted');
    expect(conversation.filter((m) => m.direction === 'in' && m.duplicateOf === original.id).map((m) => m.state)).toEqual(['duplicate', 'duplicate']);
  });

  it('rejects, with a signed answer to the signer, a message whose inner SenderDomain is not the signer (Mismatch SenderDomain)', async () => {
    const answer = await exchange(write(freshRequest({ senderDomain: 'other-dso.example.org' })));
    expect(answer).toMatchObject({ result: 'Rejected', recipientDomain: DSO, rejectionReason: expect.stringContaining('Mismatch SenderDomain') });
  });

  it('rejects an expired request, a Period that is over and a congestion point not traded at', async () => {
    const expired = await exchange(write(freshRequest({ expirationDateTime: clock - 1 })));
    expect(expired.rejectionReason).toContain('ExpirationDateTime out of bounds');
    const past = await exchange(write(freshRequest({ period: '2021-10-28', expirationDateTime: clock + 60_000 })));
    expect(past.rejectionReason).toContain('Period out of bounds');
    const elsewhere = await exchange(write(freshRequest({ congestionPoint: 'ea1.2009-01.nl.enexis.usef:elsewhere' })));
    expect(elsewhere.rejectionReason).toContain('Invalid CongestionPoint');
  });

  it('refuses unknown senders, bad signatures and barred senders on the transport, storing nothing', async () => {
    const before = (await messages()).length;
    const request = write(freshRequest());
    const unknownSender = await post(dso.sign(request, { senderDomain: 'stranger.example.org' }));
    expect(unknownSender.status).toBe(401);
    const otherKey = signingKeyFromSecret(keyPair('java-spring').secretKey_b64);
    const forged = await post(dso.sign(request, { key: otherKey }));
    expect([forged.status, ((await forged.json()) as { message: string }).message]).toEqual([401, expect.stringMatching(/signature/i)]);
    // Another community listing the same DSO domain with that other key does not let it speak to this one.
    const other = (await manager('POST', '/api/v1/communities', communityBody(unique('Other flex ')))).body.id;
    await manager('PUT', `/api/v1/communities/${other}/flex/identity`, { domain: 'other-agr.example.org' });
    await manager('POST', `/api/v1/communities/${other}/flex/participants`, { domain: DSO, role: 'DSO', endpoint: dso.url, publicKeys: [keyPair('java-spring').publicKey_b64] });
    const crossTenant = await post(dso.sign(request, { key: otherKey }));
    expect([crossTenant.status, ((await crossTenant.json()) as { message: string }).message]).toEqual([401, expect.stringContaining(`address book of ${AGR}`)]);

    const entry = (await manager('GET', `/api/v1/communities/${communityId}/flex/participants`)).body[0];
    const { id: _id, communityId: _c, createdAt: _a, updatedAt: _u, ...input } = entry;
    expect((await manager('PUT', `/api/v1/flex/participants/${participantId}`, { ...input, barred: true })).status).toBe(200);
    expect((await post(dso.sign(request))).status).toBe(403);
    // A rotation: the old and the new key are both accepted while both are listed.
    expect((await manager('PUT', `/api/v1/flex/participants/${participantId}`, { ...input, barred: false, publicKeys: [input.publicKeys[0], keyPair('java-spring').publicKey_b64] })).status).toBe(200);
    expect((await post(dso.sign(request, { key: otherKey }))).status).toBe(200);
    expect((await manager('PUT', `/api/v1/flex/participants/${participantId}`, input)).status).toBe(200);
    await tp.platform.flex.outbox.flush();
    expect((await messages()).length).toBe(before + 2);
  });

  it('refuses schema-invalid payloads, the no-version reference messages and hostile XML without an outbound request', async () => {
    const before = (await messages()).length;
    const invalid = example('FlexRequest.xml').replace(/\s+CongestionPoint="[^"]*"/, '');
    const refused = await post(dso.sign(invalid));
    expect([refused.status, ((await refused.json()) as { message: string }).message]).toEqual([400, expect.stringMatching(/CongestionPoint/)]);
    for (const name of ['FlexRequest', 'FlexOffer', 'FlexOrder', 'FlexRequestResponse', 'FlexOfferResponse', 'FlexOrderResponse']) {
      expect((await post(dso.sign(example(`no-version/${name}.xml`)))).status, name).toBe(400);
    }

    const canary = await startCanary();
    try {
      const doctype = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % ext SYSTEM "${canary.url}/dtd"> %ext; <!ENTITY x SYSTEM "${canary.url}/x">]>`;
      const inEnvelope = dso.sign(write(freshRequest())).replace(/^(<\?xml[^>]*\?>)?/, doctype);
      const inPayload = dso.sign(`${doctype}${write(freshRequest()).replace(/^<\?xml[^>]*\?>/, '').replace('Revision="1"', 'Revision="&x;"')}`);
      const schemaHint = dso.sign(write(freshRequest()).replace('<FlexRequest ', `<FlexRequest xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="${canary.url}/x.xsd" `));
      for (const hostile of [inEnvelope, inPayload, schemaHint]) expect((await post(hostile)).status).toBe(400);
      await tp.platform.flex.outbox.flush();
      expect(canary.hits()).toBe(0);
    } finally {
      await canary.close();
    }
    expect((await messages()).length).toBe(before);
  });

  it('needs a Content-Length, XML and at most 1 MiB', async () => {
    const body = dso.sign(write(freshRequest()));
    const url = new URL(`${tp.platform.httpUrl.replace('localhost', '127.0.0.1')}${PATH}`);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'text/xml', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(chunked).toBe(411);
    expect((await post('{}', 'application/json')).status).toBe(415);
    expect((await post(body, 'application/octet-stream')).status).toBe(415);
    expect((await post(Buffer.alloc(1024 * 1024 + 1, 'a'))).status).toBe(413);
  });

  it('retries a delivery with growing delays for at least an hour, then gives up; a 4xx other than 404 ends it at once', async () => {
    const request = freshRequest();
    dso.statuses.push(...Array<number>(100).fill(503));
    const from = dso.received.length;
    expect((await post(dso.sign(write(request)))).status).toBe(200);
    await tp.platform.flex.outbox.flush();
    const answer = async () => (await messages(request.conversationId)).find((m) => m.direction === 'out')!;
    expect((await answer()).delivery).toMatchObject({ state: 'pending', attempts: 1 });
    // Nothing is sent again before the retry is due.
    await tp.platform.flex.outbox.flush();
    expect(dso.received.length - from).toBe(1);
    // The clock moves to each retry as it comes due (a step short of it first: nothing is sent early).
    const attempts = [clock];
    for (let delivery = (await answer()).delivery!; delivery.state === 'pending'; delivery = (await answer()).delivery!) {
      const due = Date.parse(delivery.nextAttemptAt!);
      clock = due - 1;
      await tp.platform.flex.outbox.flush();
      expect(dso.received.length - from).toBe(attempts.length);
      clock = due;
      await tp.platform.flex.outbox.flush();
      attempts.push(clock);
      expect(dso.received.length - from).toBe(attempts.length);
      expect(attempts.length).toBeLessThan(30);
    }
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
    const final = await answer();
    expect(final).toMatchObject({ state: 'failed', delivery: { state: 'failed' } });
    // The gaps grow, then stay at the cap; the last attempt is at least an hour after the first.
    expect(gaps.slice(0, 4)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(Math.max(...gaps)).toBe(600_000);
    expect(attempts.at(-1)! - attempts[0]!).toBeGreaterThanOrEqual(3_600_000);
    expect(attempts.at(-2)! - attempts[0]!).toBeLessThan(3_600_000);
    dso.statuses.length = 0;

    dso.statuses.push(400);
    const refused = freshRequest();
    expect((await post(dso.sign(write(refused)))).status).toBe(200);
    await tp.platform.flex.outbox.flush();
    expect((await messages(refused.conversationId)).find((m) => m.direction === 'out')).toMatchObject({ state: 'failed', delivery: { state: 'failed', attempts: 1 } });

    dso.statuses.push(404, 500);
    const later = freshRequest();
    expect((await post(dso.sign(write(later)))).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      await tp.platform.flex.outbox.flush();
      clock += 5 * 60_000;
    }
    expect((await messages(later.conversationId)).find((m) => m.direction === 'out')).toMatchObject({ state: 'sent', delivery: { state: 'delivered', attempts: 3 } });
  });
});

describe.skipIf(!uftpPresent).each(platformStoreKinds)('UFTP address book on %s', (kind) => {
  let tp: TestPlatform;
  let communityId: string;
  const call = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: tp.admin.token, body });
  const entry = (changes: Record<string, unknown> = {}) => ({
    domain: 'dso.example.org', role: 'DSO', endpoint: 'https://dso.example.org/shapeshifter/api/v3/message', publicKeys: [publishedKeyPairs()[0]!.publicKey_b64], ...changes,
  });

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    communityId = (await call('POST', '/api/v1/communities', communityBody(unique('Book ')))).body.id;
  });
  afterAll(() => tp?.close());

  it('creates the identity with its key once, keeps the key when the domain changes, and refuses another community\'s domain', async () => {
    expect((await call('GET', `/api/v1/communities/${communityId}/flex/identity`)).status).toBe(404);
    const first = await call('PUT', `/api/v1/communities/${communityId}/flex/identity`, { domain: 'energy.example.org' });
    expect(first.body).toMatchObject({ domain: 'energy.example.org', role: 'AGR', timeZone: 'Europe/Amsterdam', ispDurationMinutes: 15, endpoint: expect.stringMatching(/\/shapeshifter\/api\/v3\/message$/) });
    const renamed = await call('PUT', `/api/v1/communities/${communityId}/flex/identity`, { domain: 'Coop.Example.org', timeZone: 'Europe/Vienna' });
    expect(renamed.body).toMatchObject({ domain: 'coop.example.org', publicKey: first.body.publicKey });
    const other = (await call('POST', '/api/v1/communities', communityBody(unique('Other ')))).body.id;
    expect((await call('PUT', `/api/v1/communities/${other}/flex/identity`, { domain: 'coop.example.org' })).status).toBe(409);
    expect((await call('PUT', `/api/v1/communities/${other}/flex/identity`, { domain: 'x.example.org', timeZone: 'Mars/Olympus' })).status).toBe(400);
    expect((await call('PUT', `/api/v1/communities/${other}/flex/identity`, { domain: 'not a domain' })).status).toBe(400);
  });

  it('keeps one entry per domain and role, one or two valid keys, http(s) endpoints', async () => {
    const created = await call('POST', `/api/v1/communities/${communityId}/flex/participants`, entry({ congestionPoints: ['cp-1', 'cp-1'] }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ barred: false, congestionPoints: ['cp-1'] });
    expect((await call('POST', `/api/v1/communities/${communityId}/flex/participants`, entry())).status).toBe(409);
    for (const bad of [
      { publicKeys: [] }, { publicKeys: ['a', 'b', 'c'] }, { publicKeys: ['not-base64'] }, { endpoint: 'file:///etc/passwd' }, { endpoint: 'gopher://x' },
      { role: 'BRP' }, { domain: 'localhost' }, { publicKeys: [publishedKeyPairs()[0]!.publicKey_b64, publishedKeyPairs()[0]!.publicKey_b64] },
    ]) {
      expect((await call('POST', `/api/v1/communities/${communityId}/flex/participants`, entry({ domain: 'other.example.org', ...bad }))).status, JSON.stringify(bad)).toBe(400);
    }
    const list = await call('GET', `/api/v1/communities/${communityId}/flex/participants`);
    expect(list.body.map((p: { domain: string }) => p.domain)).toEqual(['dso.example.org']);
    expect((await call('DELETE', `/api/v1/flex/participants/${created.body.id}`)).status).toBe(204);
    expect((await call('DELETE', `/api/v1/flex/participants/${created.body.id}`)).status).toBe(404);
  });
});
