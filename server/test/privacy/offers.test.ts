import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { decodeEntry, type ConsentChangedEntry } from '../../src/ledger/domain/index.js';
import { grantDigest } from '../../src/privacy/index.js';
import { grantById } from '../../src/privacy/store.js';

/**
 * Data offers (issue 20, phase 5): a member offers a scope of their data; another member accepts,
 * paying from their wallet when priced; the offer becomes a consent grant read through the consent
 * API within its scope only, in the verifiable record like any grant.
 */
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 10, 12);
const T0 = Date.UTC(2026, 2, 1);
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(platformStoreKinds)('data offers on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  const clock = { now: NOW };

  async function ok(method: string, url: string, token: string, body?: unknown) {
    const response = await tp.call(method, url, { token, body });
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** memberA's home: 8 quarter hours of import from T0 (1, 2, … 8 Wh) and of export (10 Wh each). */
  async function storeIntervals(): Promise<void> {
    for (let i = 0; i < 8; i++) {
      await tp.platform.db.query(
        `INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, pv_wh, quality) VALUES ($1, $2, $3, $4, 10, 0, 'measured')`,
        [w.meteringPointA, new Date(T0 + i * 900_000), w.communityA, i + 1],
      );
    }
  }

  const offerBody = (overrides: Record<string, unknown> = {}) => ({
    scope: { meteringPoints: [w.meteringPointA], quantities: ['import'], resolution: '1h', from: iso(T0), to: iso(T0 + DAY) },
    description: 'Hourly consumption of a house with a heat pump, one day.',
    audience: 'members', price: '0', grantValidityDays: 30, openUntil: iso(NOW + 10 * DAY),
    ...overrides,
  });
  const purpose = { code: 'peer-comparison', statement: 'Compare our mornings.' };
  const series = (grantId: string, q: Record<string, string> = {}) => {
    const query = new URLSearchParams({ meteringPoint: w.meteringPointA, quantity: 'import', resolution: '1h', from: iso(T0), to: iso(T0 + DAY), ...q });
    return `/api/v1/consents/${grantId}/series?${query}`;
  };
  const wallets = async () => {
    const totals = await ok('GET', `/api/v1/communities/${w.communityA}/market/wallets`, w.managerA.token);
    const of = (memberId: string) => totals.accounts.find((a: { memberId: string | null }) => a.memberId === memberId)?.balance ?? '0';
    return { sum: totals.sum, drifted: totals.drifted, a: of(w.memberIdA), a2: of(w.memberIdA2) };
  };
  const grantsOfA = async () => (await ok('GET', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token)).given as { id: string; offerId: string | null }[];

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { privacy: { now: () => clock.now } });
    w = await buildWorld(tp);
    await storeIntervals();
  }, 300_000);
  afterAll(() => tp?.close());

  it('a free offer accepted becomes a grant read within its scope only; taken once; in the record; withdrawn, it takes no one more', async () => {
    const offer = await ok('POST', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token, offerBody());
    expect(offer).toMatchObject({ state: 'open', price: '0.00', currency: 'EUR', takers: 0, grantor: w.memberIdA });
    const listed = await ok('GET', `/api/v1/members/${w.memberIdA2}/data-offers`, w.memberA2.token);
    expect(listed.available.map((o: { id: string }) => o.id)).toContain(offer.id);
    expect(listed.available.find((o: { id: string }) => o.id === offer.id)).toMatchObject({ taken: false, takers: null });
    // Another community's member does not see it, nor can take it.
    expect((await ok('GET', `/api/v1/members/${w.memberIdB}/data-offers`, w.memberB.token)).available).toEqual([]);
    expect((await tp.call('POST', `/api/v1/data-offers/${offer.id}/accept`, { token: w.memberB.token, body: { memberId: w.memberIdB, purpose } })).status).toBe(404);

    const grant = await ok('POST', `/api/v1/data-offers/${offer.id}/accept`, w.memberA2.token, { memberId: w.memberIdA2, purpose });
    expect(grant).toMatchObject({
      state: 'active', grantor: w.memberIdA, recipient: { kind: 'member', id: w.memberIdA2 }, offerId: offer.id, payment: null,
      scope: offer.scope, validUntil: iso(NOW + 30 * DAY).replace('.000Z', 'Z'),
    });
    expect(grant.recipientToken).toBeUndefined();

    // Read through the consent API: hourly import of that day, nothing finer, nothing else.
    const read = await tp.call('GET', series(grant.id), { token: w.memberA2.token });
    expect(read.status).toBe(200);
    expect(read.body.values.slice(0, 2).map((v: { wh: number }) => v.wh)).toEqual([1 + 2 + 3 + 4, 5 + 6 + 7 + 8]);
    expect((await tp.call('GET', series(grant.id, { resolution: '15m' }), { token: w.memberA2.token })).status).toBe(404);
    expect((await tp.call('GET', series(grant.id, { quantity: 'export' }), { token: w.memberA2.token })).status).toBe(404);
    expect((await tp.call('GET', series(grant.id, { from: iso(T0 + DAY), to: iso(T0 + 2 * DAY) }), { token: w.memberA2.token })).status).toBe(404);
    expect((await tp.call('GET', series(grant.id), { token: w.memberB.token })).status).toBe(404);
    expect((await tp.call('GET', series(grant.id), { token: w.managerA.token })).status).toBe(404);
    // The read is in memberA's access log, through the grant.
    const log = await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token);
    expect(log.some((e: { grantId: string | null }) => e.grantId === grant.id)).toBe(true);

    // Accepting twice: 409, no second grant.
    const before = (await grantsOfA()).length;
    const again = await tp.call('POST', `/api/v1/data-offers/${offer.id}/accept`, { token: w.memberA2.token, body: { memberId: w.memberIdA2, purpose } });
    expect(again.status).toBe(409);
    expect((await grantsOfA()).length).toBe(before);
    expect((await ok('GET', `/api/v1/members/${w.memberIdA2}/data-offers`, w.memberA2.token)).available.find((o: { id: string }) => o.id === offer.id).taken).toBe(true);
    expect((await ok('GET', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token)).mine.find((o: { id: string }) => o.id === offer.id).takers).toBe(1);

    // In the verifiable record like a grant given directly, with the digest of its terms (which name the offer).
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const rows = await tp.platform.db.query<{ subject: string; body: Uint8Array }>(
      "SELECT subject, body FROM ledger_entries WHERE kind = 'consent.changed' AND subject LIKE $1 ORDER BY seq", [`${grant.id}:%`]);
    expect(rows.map((r) => r.subject)).toEqual([`${grant.id}:granted`]);
    expect((decodeEntry(rows[0]!.body) as ConsentChangedEntry).termsSha256).toBe(grant.digest);

    // Withdrawn: only by its member; nobody takes it any more, the grant runs on; withdrawing again changes nothing.
    expect((await tp.call('POST', `/api/v1/data-offers/${offer.id}/withdraw`, { token: w.memberA2.token })).status).toBe(403);
    clock.now += 60_000;
    const withdrawn = await ok('POST', `/api/v1/data-offers/${offer.id}/withdraw`, w.memberA.token);
    expect(withdrawn).toMatchObject({ state: 'withdrawn', withdrawnAt: iso(clock.now).replace('.000Z', 'Z') });
    clock.now += 60_000;
    expect((await ok('POST', `/api/v1/data-offers/${offer.id}/withdraw`, w.memberA.token)).withdrawnAt).toBe(withdrawn.withdrawnAt);
    expect((await ok('GET', `/api/v1/members/${w.memberIdA2}/data-offers`, w.memberA2.token)).available.map((o: { id: string }) => o.id)).not.toContain(offer.id);
    await ok('POST', `/api/v1/consents/${grant.id}/revoke`, w.memberA.token);
    const late = await tp.call('POST', `/api/v1/data-offers/${offer.id}/accept`, { token: w.memberA2.token, body: { memberId: w.memberIdA2, purpose } });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/withdrawn/);
    expect((await grantsOfA()).length).toBe(before);

    // On the audit trail: published, accepted, withdrawn (kind consent).
    const trail = await ok('GET', `/api/v1/communities/${w.communityA}/audit?kind=consent&limit=500`, tp.admin.token);
    const actions = trail.entries.filter((e: { resourceId: string }) => e.resourceId === offer.id || e.resourceId === grant.id).map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['publish-offer', 'accept-offer', 'withdraw-offer']));
  });

  it('a priced offer is paid from the taker\'s wallet: too little refused with nothing changed, then exactly the price moved, the ledger adding up', async () => {
    await ok('PUT', `/api/v1/communities/${w.communityA}/market/settings`, w.managerA.token,
      { mechanism: 'uniform', gateLeadMinutes: 5, gridFee: '0.0000', floor: null, ceiling: null, surplusPrice: '0.0500', shortfallPrice: '0.3000', lowBalanceThreshold: '1.00' });
    await ok('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, w.managerA.token, { memberId: w.memberIdA2, amount: '2.49', reference: 'offers-test-1' });
    const offer = await ok('POST', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token, offerBody({ price: '2.50' }));
    expect(offer.price).toBe('2.50');
    const start = await wallets();
    const grantsBefore = (await grantsOfA()).length;

    const poor = await tp.call('POST', `/api/v1/data-offers/${offer.id}/accept`, { token: w.memberA2.token, body: { memberId: w.memberIdA2, purpose } });
    expect(poor.status).toBe(409);
    expect(poor.body.message).toMatch(/wallet holds 2\.49/);
    expect(await wallets()).toEqual(start);
    expect((await grantsOfA()).length).toBe(grantsBefore);

    await ok('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, w.managerA.token, { memberId: w.memberIdA2, amount: '0.01', reference: 'offers-test-2' });
    const funded = await wallets();
    const grant = await ok('POST', `/api/v1/data-offers/${offer.id}/accept`, w.memberA2.token, { memberId: w.memberIdA2, purpose });
    expect(grant).toMatchObject({ offerId: offer.id, payment: { amount: '2.50', currency: 'EUR', posting: expect.any(Number) } });
    const paid = await wallets();
    expect(paid).toMatchObject({ sum: '0', drifted: 0 });
    expect(Number(paid.a2)).toBe(Number(funded.a2) - 2.5);
    expect(Number(paid.a)).toBe(Number(funded.a) + 2.5);
    // Each side sees the transfer as a posting of their wallet.
    const walletA2 = await ok('GET', `/api/v1/members/${w.memberIdA2}/market/wallet`, w.memberA2.token);
    expect(walletA2.postings[0]).toMatchObject({ sequence: grant.payment.posting, kind: 'transfer', amount: '-2.5' });
    const walletA = await ok('GET', `/api/v1/members/${w.memberIdA}/market/wallet`, w.memberA.token);
    expect(walletA.postings[0]).toMatchObject({ sequence: grant.payment.posting, kind: 'transfer', amount: '2.5' });
    // The payment took the taker's wallet below the community's threshold: told, as after any posting.
    await tp.platform.jobs.flush(OUTBOX_JOB);
    const lowBalance = (member: { token: string }) => ok('GET', '/api/v1/me/notifications', member.token)
      .then((list: { items: { event: string }[] }) => list.items.filter((n) => n.event === 'wallet-low-balance'));
    expect(await lowBalance(w.memberA2)).toHaveLength(1);
    expect(await lowBalance(w.memberA)).toEqual([]);
    expect((await tp.call('GET', series(grant.id), { token: w.memberA2.token })).status).toBe(200);

    // Accepting again: 409, no second payment.
    expect((await tp.call('POST', `/api/v1/data-offers/${offer.id}/accept`, { token: w.memberA2.token, body: { memberId: w.memberIdA2, purpose } })).status).toBe(409);
    expect(await wallets()).toEqual(paid);
    // The grant's terms, payment included, read back as they were hashed: the digest recomputed from the stored row is the one in the record.
    const stored = (await ok('GET', `/api/v1/members/${w.memberIdA2}/consents`, w.memberA2.token)).received.find((g: { id: string }) => g.id === grant.id);
    expect(stored).toMatchObject({ digest: grant.digest, payment: grant.payment });
    const row = (await grantById(tp.platform.db, grant.id))!;
    expect(row.origin).toEqual({ kind: 'offer', offerId: offer.id, payment: { kind: 'wallet-transfer', transferId: String(grant.payment.posting), amountMinor: 250n, currency: 'EUR' } });
    expect(grantDigest(row)).toBe(grant.digest);
    // Revoking a paid grant is on the trail like any other (its amount as text).
    expect((await ok('POST', `/api/v1/consents/${grant.id}/revoke`, w.memberA.token)).state).toBe('revoked');
  });

  it('an offer to anyone is free and taken by an organisation with a token of its own, or by another community\'s member', async () => {
    const offer = await ok('POST', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token, offerBody({ audience: 'anyone' }));
    const lab = await ok('POST', `/api/v1/data-offers/${offer.id}/accept`, w.memberB.token,
      { recipient: { kind: 'researcher', label: 'Energy Lab' }, purpose: { code: 'research', statement: 'Heat pump study.' } });
    expect(lab).toMatchObject({ recipient: { kind: 'researcher', label: 'Energy Lab' }, recipientToken: expect.stringMatching(/^gsc_/) });
    const byToken = await tp.call('GET', series(lab.id), { headers: { authorization: `Bearer ${lab.recipientToken}` } });
    expect(byToken.status).toBe(200);
    const member = await ok('POST', `/api/v1/data-offers/${offer.id}/accept`, w.memberB.token, { memberId: w.memberIdB, purpose });
    expect(member.recipient).toMatchObject({ kind: 'member', id: w.memberIdB });
    expect((await tp.call('GET', series(member.id), { token: w.memberB.token })).status).toBe(200);
  });

  it('the catalogue shows open offers with scope, price and purpose: the community\'s to its members, offers to anyone to every signed-in user — never who made them', async () => {
    const members = await ok('POST', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token,
      offerBody({ price: '1.50', description: 'Hourly import for the neighbours, priced.' }));
    clock.now += 1000;
    const anyone = await ok('POST', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token,
      offerBody({ audience: 'anyone', description: 'Daily import for research.' }));
    const catalogue = async (token: string, query = '') => {
      const response = await tp.call('GET', `/api/v1/data-offers${query}`, { token });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return (response.body as { id: string; mine: boolean; taken: boolean }[]).filter((o) => o.id === members.id || o.id === anyone.id);
    };
    const [priced, open] = await catalogue(w.memberA2.token).then((list) => [list.find((o) => o.id === members.id), list.find((o) => o.id === anyone.id)]);
    expect(priced).toEqual({
      id: members.id, communityId: w.communityA, communityName: expect.any(String), scope: members.scope, description: 'Hourly import for the neighbours, priced.',
      audience: 'members', price: '1.50', currency: members.currency, grantValidityDays: 30, publishedAt: members.publishedAt, openUntil: members.openUntil,
      mine: false, taken: false,
    });
    expect(priced).not.toHaveProperty('grantor');
    expect(open).toMatchObject({ audience: 'anyone', price: '0.00', mine: false, taken: false });
    expect((await catalogue(w.memberA.token)).map((o) => [o.id, o.mine])).toEqual([[anyone.id, true], [members.id, true]]);
    // Another community's member sees the offer to anyone only, even when asking for the community; taken once they hold a grant from it.
    expect((await catalogue(w.memberB.token)).map((o) => o.id)).toEqual([anyone.id]);
    expect((await catalogue(w.memberB.token, `?community=${w.communityA}`)).map((o) => o.id)).toEqual([anyone.id]);
    expect(await catalogue(w.memberB.token, `?community=${w.communityB}`)).toEqual([]);
    await ok('POST', `/api/v1/data-offers/${anyone.id}/accept`, w.memberB.token, { recipient: { kind: 'researcher', label: 'Energy Lab' }, purpose: { code: 'research', statement: 'Study.' } });
    expect(await catalogue(w.memberB.token)).toMatchObject([{ id: anyone.id, taken: true }]);
    expect(await catalogue(w.memberA2.token)).toMatchObject([{ id: anyone.id, taken: false }, { id: members.id, taken: false }]);
    // Withdrawn or closed: out of the catalogue.
    await ok('POST', `/api/v1/data-offers/${members.id}/withdraw`, w.memberA.token);
    expect((await catalogue(w.memberA2.token)).map((o) => o.id)).toEqual([anyone.id]);
    clock.now = NOW + 11 * DAY;
    expect(await catalogue(w.memberA2.token)).toEqual([]);
    clock.now = NOW;
    // Signed-in users only; a bad community id is refused.
    expect((await tp.call('GET', '/api/v1/data-offers', {})).status).toBe(401);
    expect((await tp.call('GET', '/api/v1/data-offers?community=nope', { token: w.memberA.token })).status).toBe(400);
  });

  it('refuses bad offers and acceptances and changes nothing', async () => {
    const before = (await ok('GET', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token)).mine.length;
    const refuse = async (body: unknown, status = 400, token = w.memberA.token, memberId = w.memberIdA) =>
      expect((await tp.call('POST', `/api/v1/members/${memberId}/data-offers`, { token, body })).status).toBe(status);
    await refuse(offerBody({ audience: 'anyone', price: '1.00' }));
    await refuse(offerBody({ price: '1.005' }));
    await refuse(offerBody({ price: '-1' }));
    await refuse(offerBody({ openUntil: iso(NOW - DAY) }));
    await refuse(offerBody({ grantValidityDays: 0 }));
    await refuse(offerBody({ description: ' ' }));
    await refuse(offerBody({ scope: { meteringPoints: ['11111111-1111-4111-8111-111111111111'], quantities: ['import'], resolution: '1h', from: iso(T0), to: null } }));
    await refuse(offerBody({ extra: true }));
    // For another member: their managers see it exists (403), another member learns nothing (404).
    await refuse(offerBody(), 403, w.managerA.token);
    await refuse(offerBody(), 404, w.memberA2.token);
    expect((await ok('GET', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token)).mine.length).toBe(before);

    const offer = await ok('POST', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token, offerBody());
    const accept = (body: unknown, token = w.memberA2.token) => tp.call('POST', `/api/v1/data-offers/${offer.id}/accept`, { token, body });
    expect((await accept({ purpose })).status).toBe(400);
    expect((await accept({ memberId: w.memberIdA2, recipient: { kind: 'app', label: 'X' }, purpose })).status).toBe(400);
    expect((await accept({ memberId: w.memberIdA, purpose })).status).toBe(403);
    expect((await accept({ memberId: w.memberIdA2, purpose: { code: 'gossip', statement: 'x' } })).status).toBe(400);
    expect((await accept({ memberId: w.memberIdA2, purpose: { code: 'other', statement: ' ' } })).status).toBe(400);
    // A members-only offer is not for an organisation; its member does not take their own.
    expect((await accept({ recipient: { kind: 'app', label: 'X' }, purpose })).status).toBe(400);
    expect((await accept({ memberId: w.memberIdA, purpose }, w.memberA.token)).status).toBe(400);
    expect((await tp.call('POST', '/api/v1/data-offers/00000000-0000-4000-8000-000000000000/accept', { token: w.memberA2.token, body: { memberId: w.memberIdA2, purpose } })).status).toBe(404);
    // Closed: past its openUntil.
    clock.now = NOW + 11 * DAY;
    expect((await accept({ memberId: w.memberIdA2, purpose })).status).toBe(409);
    clock.now = NOW;
    expect((await ok('GET', `/api/v1/members/${w.memberIdA}/data-offers`, w.memberA.token)).mine.find((o: { id: string }) => o.id === offer.id).takers).toBe(0);
  });
});
