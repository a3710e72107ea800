import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { storeIntervals } from '../sharing/support/stored.js';
import { parseNano } from '../../src/kernel/money.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { decodeEntry, type ChangeRecordedEntry } from '../../src/ledger/domain/index.js';
import { iso, MIN, Q, SETTINGS, T0 } from './operation-support.js';

interface WalletPosting { sequence: number; kind: string; line: string | null; amount: string; slotStart: string | null; recorded: boolean }

/**
 * The wallets' books beyond settlement. Disputes: A2 bought from A in one settled slot and disputes
 * the purchase; the manager corrects it by a posting of its own (the purchase stays), the books
 * still add up to zero, and both steps are on the audit trail and in the verifiable record.
 * Payouts: requested monthly above the threshold, moved only when a manager confirms.
 */
describe.each(platformStoreKinds)('market disputes and payouts on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let clock = T0;
  let purchase: WalletPosting;

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { market: { now: () => clock, lookbackMs: 6 * 60 * MIN, finalDelayMs: 30 * MIN, everyMs: 3_600_000 } });
    w = await buildWorld(tp);
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: SETTINGS })).status).toBe(200);
    for (const memberId of [w.memberIdA, w.memberIdA2]) {
      const top = await tp.call('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, {
        token: w.managerA.token, body: { memberId, amount: '20.00', reference: 'bank transfer' },
      });
      expect(top.status).toBe(201);
    }
    // One slot: A offers 400 Wh, A2 bids for 300 Wh; both metered as traded.
    const slot = T0 + 8 * Q;
    clock = slot - 60 * MIN;
    const sell = await tp.call('POST', `/api/v1/members/${w.memberIdA}/market/orders`, { token: w.memberA.token, body: { slotStart: iso(slot), side: 'sell', energyWh: 400, price: '0.1000' } });
    const buy = await tp.call('POST', `/api/v1/members/${w.memberIdA2}/market/orders`, { token: w.memberA2.token, body: { slotStart: iso(slot), side: 'buy', energyWh: 300, price: '0.2000' } });
    expect([sell.status, buy.status]).toEqual([201, 201]);
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, { [slot]: { importWh: 0, exportWh: 300 } });
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [slot]: { importWh: 300, exportWh: 0 } });
    clock = slot - 5 * MIN;
    await tp.platform.market.flush();
    clock = slot + Q + 30 * MIN;
    await tp.platform.market.flush();
    const wallet = await walletOf(w.memberA2.token, w.memberIdA2);
    purchase = wallet.postings.find((p: WalletPosting) => p.line === 'purchase');
    expect(purchase).toBeDefined();
  });
  afterAll(() => tp?.close());

  const walletOf = async (token: string, memberId: string) => (await tp.call('GET', `/api/v1/members/${memberId}/market/wallet`, { token })).body;
  const totals = async () => (await tp.call('GET', `/api/v1/communities/${w.communityA}/market/wallets`, { token: w.managerA.token })).body;
  const file = (token: string, memberId: string, body: unknown) => tp.call('POST', `/api/v1/members/${memberId}/market/disputes`, { token, body });
  const resolve = (id: string, body: unknown, token = w.managerA.token, communityId = w.communityA) =>
    tp.call('POST', `/api/v1/communities/${communityId}/market/disputes/${id}/resolution`, { token, body });
  const disputesOf = async (token: string, memberId: string) => (await tp.call('GET', `/api/v1/members/${memberId}/market/disputes`, { token })).body;

  it('refuses disputes that are malformed, about another member\'s posting or filed by someone else, and stores none', async () => {
    const sale = (await walletOf(w.memberA.token, w.memberIdA)).postings.find((p: WalletPosting) => p.line === 'sale');
    const bad: [unknown, number][] = [
      [{ posting: purchase.sequence, reason: '' }, 400],
      [{ posting: purchase.sequence, reason: '   ' }, 400],
      [{ posting: purchase.sequence, reason: 'x'.repeat(1001) }, 400],
      [{ posting: 0, reason: 'wrong' }, 400],
      [{ posting: 'NaN', reason: 'wrong' }, 400],
      [{ posting: 1.5, reason: 'wrong' }, 400],
      [{ posting: 3_000_000_000, reason: 'wrong' }, 400],
      [{ posting: purchase.sequence, reason: 'wrong', amount: '1' }, 400],
      [{ posting: 999_999, reason: 'wrong' }, 404],
      // A's sale is not A2's to dispute: answered as if it did not exist.
      [{ posting: sale.sequence, reason: 'wrong' }, 404],
    ];
    for (const [body, status] of bad) {
      const response = await file(w.memberA2.token, w.memberIdA2, body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.message).toEqual(expect.any(String));
    }
    expect((await file(w.managerA.token, w.memberIdA2, { posting: purchase.sequence, reason: 'for them' })).status).toBe(403);
    expect((await file(w.memberB.token, w.memberIdA2, { posting: purchase.sequence, reason: 'for them' })).status).toBe(404);
    expect(await disputesOf(w.memberA2.token, w.memberIdA2)).toEqual([]);
  });

  it('corrects a disputed purchase by a posting of its own, once; the purchase stays and the books add up to zero', async () => {
    const before = await walletOf(w.memberA2.token, w.memberIdA2);
    const filed = await file(w.memberA2.token, w.memberIdA2, { posting: purchase.sequence, reason: 'My meter shows less than I bought.' });
    expect(filed.status).toBe(201);
    // The disputed posting as the wallet lists it, without the wallet's note of whether it is recorded yet.
    const { recorded: _recorded, ...posting } = purchase;
    expect(filed.body).toMatchObject({ memberId: w.memberIdA2, state: 'open', note: null, amount: null, correction: null, posting });
    // One open dispute per posting.
    expect((await file(w.memberA2.token, w.memberIdA2, { posting: purchase.sequence, reason: 'again' })).status).toBe(409);
    const open = (await tp.call('GET', `/api/v1/communities/${w.communityA}/market/disputes?state=open`, { token: w.managerA.token })).body;
    expect(open.map((d: { id: string }) => d.id)).toEqual([filed.body.id]);
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/market/disputes?state=resolved`, { token: w.managerA.token })).body).toEqual([]);

    // Bad decisions change nothing: the dispute stays open, no money moves.
    const refused: unknown[] = [
      { outcome: 'corrected', note: 'refund' },
      { outcome: 'corrected', note: 'refund', amount: '0' },
      { outcome: 'corrected', note: 'refund', amount: '0.001' },
      { outcome: 'corrected', note: 'refund', amount: '-1' },
      { outcome: 'corrected', note: 'refund', amount: 'NaN' },
      { outcome: 'corrected', note: 'refund', amount: '1000000000' },
      // More than the purchase cost: a refund never exceeds what is left of the disputed posting.
      { outcome: 'corrected', note: 'refund', amount: '10.00' },
      { outcome: 'rejected', note: 'no', amount: '0.01' },
      { outcome: 'corrected', note: '  ', amount: '0.01' },
      { outcome: 'accepted', note: 'hm' },
    ];
    for (const body of refused) {
      const response = await resolve(filed.body.id, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.message).toEqual(expect.any(String));
    }
    expect((await resolve(filed.body.id, { outcome: 'rejected', note: 'not theirs' }, w.managerB.token)).status).toBe(404);
    expect((await resolve(filed.body.id, { outcome: 'rejected', note: 'not theirs' }, w.managerB.token, w.communityB)).status).toBe(404);
    expect((await resolve(filed.body.id, { outcome: 'rejected', note: 'mine' }, w.memberA2.token)).status).toBe(403);
    expect((await walletOf(w.memberA2.token, w.memberIdA2)).balance).toBe(before.balance);

    clock += MIN;
    const resolved = await resolve(filed.body.id, { outcome: 'corrected', note: 'The meter was read late; 0.01 back.', amount: '0.01' });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ state: 'corrected', amount: '0.01', note: 'The meter was read late; 0.01 back.', resolvedAt: iso(clock) });
    expect((await resolve(filed.body.id, { outcome: 'corrected', note: 'twice', amount: '0.01' })).status).toBe(409);

    const after = await walletOf(w.memberA2.token, w.memberIdA2);
    expect(parseNano(after.balance) - parseNano(before.balance)).toBe(10_000_000n);
    const [correction, ...rest] = after.postings;
    expect(correction).toMatchObject({ sequence: resolved.body.correction, kind: 'dispute-correction', amount: '0.01', line: 'purchase', slotStart: purchase.slotStart });
    // The disputed purchase is as it was: nothing edited in place (whether recorded yet aside: the ledger's job may have run in between).
    const content = (postings: WalletPosting[]) => postings.map(({ recorded: _recorded, ...p }) => p);
    expect(content(rest)).toEqual(content(before.postings));
    expect(await totals()).toMatchObject({ sum: '0', drifted: 0 });
    const mine = await disputesOf(w.memberA2.token, w.memberIdA2);
    expect(mine).toEqual([resolved.body]);
    // Others do not see A2's disputes; A's manager does.
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/disputes`, { token: w.memberA.token })).status).toBe(404);
    expect(await disputesOf(w.managerA.token, w.memberIdA2)).toEqual(mine);

    // A second dispute of the same posting after the answer: rejected, no money moves.
    const again = await file(w.memberA2.token, w.memberIdA2, { posting: purchase.sequence, reason: 'Still too much.' });
    expect(again.status).toBe(201);
    const rejected = await resolve(again.body.id, { outcome: 'rejected', note: 'The meter data are final.' });
    expect(rejected.body).toMatchObject({ state: 'rejected', amount: null, correction: null });
    expect((await walletOf(w.memberA2.token, w.memberIdA2)).balance).toBe(after.balance);
    // What is left to refund is the purchase less the first correction.
    const third = await file(w.memberA2.token, w.memberIdA2, { posting: purchase.sequence, reason: 'Everything back, please.' });
    const whole = -parseNano(purchase.amount);
    const tooMuch = await resolve(third.body.id, { outcome: 'corrected', note: 'all', amount: (Number(whole) / 1e9).toFixed(2) });
    expect(tooMuch.status).toBe(400);
    expect((await resolve(third.body.id, { outcome: 'rejected', note: 'no' })).status).toBe(200);

    // The audit trail and the verifiable record have each step.
    const trail = (await tp.call('GET', `/api/v1/communities/${w.communityA}/audit?kind=wallet&limit=500`, { token: w.managerA.token })).body.entries
      .filter((e: { resourceId: string }) => e.resourceId === filed.body.id);
    expect(trail.map((e: { action: string; actor: { role: string } }) => [e.action, e.actor.role])).toEqual([['resolve-dispute', 'manager'], ['dispute', 'member']]);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const rows = await tp.platform.db.query<{ body: Uint8Array }>("SELECT body FROM ledger_entries WHERE kind = 'change.recorded' ORDER BY seq");
    const logged = rows.map((r) => decodeEntry(r.body) as ChangeRecordedEntry).filter((e) => e.resource === filed.body.id);
    expect(logged.map((e) => [e.change, e.action, e.role])).toEqual([['wallet', 'dispute', 'member'], ['wallet', 'resolve-dispute', 'manager']]);
  });

  it('requests a payout once a month above the threshold and moves the money only when a manager confirms it', async () => {
    const put = (body: Record<string, unknown>) => tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: { ...SETTINGS, ...body } });
    for (const payoutThreshold of ['0', '0.00', '-1', '0.001', 'abc', 12]) {
      const response = await put({ payoutThreshold });
      expect(response.status, String(payoutThreshold)).toBe(400);
    }
    const payouts = async () => (await tp.call('GET', `/api/v1/communities/${w.communityA}/market/payouts`, { token: w.managerA.token })).body;
    await tp.platform.market.flush();
    expect(await payouts()).toEqual([]);

    // A earned 300 Wh × 0.1450 = 0.0435 on the market on top of its 20.00 top-up; A2 bought (less a cent back from its dispute).
    // A threshold of a cent lies far below either top-up: only what the market brought in is paid out, never a top-up.
    const before = await walletOf(w.memberA.token, w.memberIdA);
    expect(parseNano(before.balance)).toBe(20_043_500_000n);
    expect(parseNano((await walletOf(w.memberA2.token, w.memberIdA2)).balance)).toBeLessThan(20_000_000_000n);
    expect((await put({ payoutThreshold: '0.01' })).status).toBe(200);
    await tp.platform.market.flush();
    await tp.platform.market.flush();
    const [first, ...others] = await payouts();
    expect(others).toEqual([]);
    expect(first).toMatchObject({ memberId: w.memberIdA, period: iso(clock).slice(0, 7), state: 'requested', posting: null, amount: '0.04' });
    // Requested is not paid: the wallet is as it was; cancelled, nothing moves.
    expect((await walletOf(w.memberA.token, w.memberIdA)).balance).toBe(before.balance);
    const cancelled = await tp.call('POST', `/api/v1/communities/${w.communityA}/market/payouts/${first.id}/decision`, {
      token: w.managerA.token, body: { outcome: 'cancelled', reference: 'member asked to keep it' },
    });
    expect(cancelled.body).toMatchObject({ state: 'cancelled', posting: null });
    expect((await walletOf(w.memberA.token, w.memberIdA)).balance).toBe(before.balance);
    // Once a month: a further pass asks for nothing more.
    await tp.platform.market.flush();
    expect(await payouts()).toHaveLength(1);

    // The next month A is asked again for the same earnings, and a confirmed payout moves exactly them.
    clock += 31 * 24 * 60 * MIN;
    await tp.platform.market.flush();
    const request = (await payouts()).find((p: { state: string }) => p.state === 'requested');
    expect(request).toMatchObject({ memberId: w.memberIdA, period: iso(clock).slice(0, 7), amount: '0.04' });
    const decide = (body: unknown, token = w.managerA.token) =>
      tp.call('POST', `/api/v1/communities/${w.communityA}/market/payouts/${request.id}/decision`, { token, body });
    for (const body of [{ outcome: 'maybe', reference: 'x' }, { outcome: 'confirmed', reference: '' }, { outcome: 'confirmed' }, { outcome: 'confirmed', reference: 'x', amount: '1' }]) {
      expect((await decide(body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await decide({ outcome: 'confirmed', reference: 'mine' }, w.memberA.token)).status).toBe(403);
    clock += MIN;
    const confirmed = await decide({ outcome: 'confirmed', reference: 'SEPA 2026-02-0001' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ state: 'confirmed', reference: 'SEPA 2026-02-0001', decidedAt: iso(clock) });
    expect((await decide({ outcome: 'cancelled', reference: 'twice' })).status).toBe(409);
    const after = await walletOf(w.memberA.token, w.memberIdA);
    expect(parseNano(before.balance) - parseNano(after.balance)).toBe(40_000_000n);
    expect(after.postings[0]).toMatchObject({ sequence: confirmed.body.posting, kind: 'payout', amount: '-0.04' });
    expect(await totals()).toMatchObject({ sum: '0', drifted: 0 });
    // What was paid out is not payable again: the month after, the half cent left asks for nothing.
    clock += 31 * 24 * 60 * MIN;
    await tp.platform.market.flush();
    expect(await payouts()).toHaveLength(2);
    const trail = (await tp.call('GET', `/api/v1/communities/${w.communityA}/audit?kind=wallet&limit=500`, { token: w.managerA.token })).body.entries;
    // Both requests (by the system, so in the verifiable record as well) and both decisions.
    const steps = trail.filter((e: { resourceId: string }) => e.resourceId === request.id || e.resourceId === first.id)
      .map((e: { action: string; actor: { role: string } }) => [e.action, e.actor.role]);
    expect(steps).toHaveLength(4);
    expect(steps).toEqual(expect.arrayContaining([['confirm-payout', 'manager'], ['cancel-payout', 'manager'], ['request-payout', 'system'], ['request-payout', 'system']]));
  });
});
