import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { storeIntervals } from '../sharing/support/stored.js';
import { clearSlot, formatMarketPrice, parseMarketPrice, type ClearingOrder } from '../../src/market/index.js';
import { clearStoredSlot, correctSettledSlots } from '../../src/market/service.js';
import { loadSettings } from '../../src/market/store.js';
import { parseNano } from '../../src/kernel/money.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { decodeEntry, type MarketTradeEntry } from '../../src/ledger/domain/index.js';
import { iso, MIN, Q, SETTINGS, T0 } from './operation-support.js';

describe.each(platformStoreKinds)('the market in operation on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let clock = T0;
  const at = (ms: number) => {
    clock = ms;
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { market: { now: () => clock, lookbackMs: 6 * 60 * MIN, finalDelayMs: 30 * MIN, everyMs: 3_600_000 } });
    w = await buildWorld(tp);
    const put = await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: SETTINGS });
    expect(put.status).toBe(200);
    for (const memberId of [w.memberIdA, w.memberIdA2]) {
      const top = await tp.call('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, {
        token: w.managerA.token, body: { memberId, amount: '20.00', reference: 'bank transfer' },
      });
      expect(top.status).toBe(201);
      expect(top.body.amount).toBe('20');
    }
  });
  afterAll(() => tp?.close());

  const order = (token: string, memberId: string, body: Record<string, unknown>) =>
    tp.call('POST', `/api/v1/members/${memberId}/market/orders`, { token, body });
  const ordersOf = async (token: string, memberId: string) =>
    (await tp.call('GET', `/api/v1/members/${memberId}/market/orders?from=${iso(T0 - 86_400_000)}&to=${iso(T0 + 10 * 86_400_000)}`, { token })).body;
  const totals = async () => (await tp.call('GET', `/api/v1/communities/${w.communityA}/market/wallets`, { token: w.managerA.token })).body;

  it('refuses NaN, negative, huge and fractional prices and quantities, slots off the grid, and stores nothing', async () => {
    at(T0);
    const slot = iso(T0 + 4 * Q);
    const bad = [
      { slotStart: slot, side: 'buy', energyWh: 500, price: 'NaN' },
      { slotStart: slot, side: 'buy', energyWh: 500, price: '-0.1000' },
      { slotStart: slot, side: 'buy', energyWh: 500, price: '1000000' },
      { slotStart: slot, side: 'buy', energyWh: 500, price: '0.12345' },
      { slotStart: slot, side: 'buy', energyWh: 500, price: 0.12 },
      { slotStart: slot, side: 'buy', energyWh: 0, price: '0.1200' },
      { slotStart: slot, side: 'buy', energyWh: -5, price: '0.1200' },
      { slotStart: slot, side: 'buy', energyWh: 1e12, price: '0.1200' },
      { slotStart: slot, side: 'buy', energyWh: 1.5, price: '0.1200' },
      { slotStart: slot, side: 'hold', energyWh: 500, price: '0.1200' },
      { slotStart: iso(T0 + 4 * Q + 60_000), side: 'buy', energyWh: 500, price: '0.1200' },
      // Outside the community's bounds: an offer below the floor, a bid less the fee above the ceiling.
      { slotStart: slot, side: 'sell', energyWh: 500, price: '0.0100' },
      { slotStart: slot, side: 'buy', energyWh: 500, price: '0.3500' },
    ];
    for (const body of bad) {
      const response = await order(w.memberA.token, w.memberIdA, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.message).toEqual(expect.any(String));
    }
    expect(await ordersOf(w.memberA.token, w.memberIdA)).toEqual([]);
  });

  it('refuses orders and withdrawals after gate closure with a clear error', async () => {
    const slot = T0 + 8 * Q;
    at(slot - 10 * MIN);
    const placed = await order(w.memberA.token, w.memberIdA, { slotStart: iso(slot), side: 'sell', energyWh: 100, price: '0.1000' });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ state: 'open', gateClosesAt: iso(slot - 5 * MIN), price: '0.1000' });
    at(slot - 5 * MIN);
    const late = await order(w.memberA.token, w.memberIdA, { slotStart: iso(slot), side: 'sell', energyWh: 100, price: '0.1000' });
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/gate .* closed/);
    const withdraw = await tp.call('DELETE', `/api/v1/market-orders/${placed.body.id}`, { token: w.memberA.token });
    expect(withdraw.status).toBe(409);
    expect((await ordersOf(w.memberA.token, w.memberIdA)).map((o: { id: string }) => o.id)).toEqual([placed.body.id]);
  });

  it('shows members only their own orders; managers may look but not trade for them', async () => {
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA}/market/orders`, { token: w.memberA2.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA}/market/wallet`, { token: w.memberA2.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA}/market/orders`, { token: w.memberB.token })).status).toBe(404);
    const own = await ordersOf(w.memberA2.token, w.memberIdA2);
    expect(own.every((o: { memberId: string }) => o.memberId === w.memberIdA2)).toBe(true);
    expect((await order(w.managerA.token, w.memberIdA, { slotStart: iso(T0 + 40 * Q), side: 'buy', energyWh: 1, price: '0.1000' })).status).toBe(403);
  });

  it('clears a slot from its stored orders exactly as the pure clearing of the same orders, once', async () => {
    const slot = T0 + 12 * Q;
    at(slot - 60 * MIN);
    const bodies: [TestUserKey, Record<string, unknown>][] = [
      ['A', { side: 'sell', energyWh: 800, price: '0.0800' }],
      ['A', { side: 'sell', energyWh: 500, price: '0.1500' }],
      ['A2', { side: 'buy', energyWh: 600, price: '0.2000' }],
      ['A2', { side: 'buy', energyWh: 400, price: '0.1700' }],
      ['A2', { side: 'buy', energyWh: 300, price: '0.1000' }],
    ];
    const ids: string[] = [];
    for (const [who, body] of bodies) {
      clock += 1_000;
      const response = await order(who === 'A' ? w.memberA.token : w.memberA2.token, who === 'A' ? w.memberIdA : w.memberIdA2, { slotStart: iso(slot), ...body });
      expect(response.status).toBe(201);
      ids.push(response.body.id);
    }
    expect((await tp.call('DELETE', `/api/v1/market-orders/${ids[3]}`, { token: w.memberA.token })).status).toBe(404);
    expect((await tp.call('DELETE', `/api/v1/market-orders/${ids[3]}`, { token: w.memberA2.token })).status).toBe(204);

    at(slot - 5 * MIN);
    await tp.platform.market.flush();
    const result = await tp.call('GET', `/api/v1/communities/${w.communityA}/market/slots/${iso(slot)}`, { token: w.managerA.token });
    expect(result.status).toBe(200);

    const stored = [...await ordersOf(w.memberA.token, w.memberIdA), ...await ordersOf(w.memberA2.token, w.memberIdA2)]
      .filter((o: { slotStart: string; state: string }) => o.slotStart === iso(slot) && o.state !== 'withdrawn');
    const clearing: ClearingOrder[] = stored.map((o: { id: string; memberId: string; side: 'buy' | 'sell'; energyWh: number; price: string; submittedAt: string }) => ({
      id: o.id, memberId: o.memberId, side: o.side, energyWh: o.energyWh, price: parseMarketPrice(o.price)!, submittedAtMs: Date.parse(o.submittedAt),
    }));
    const pure = clearSlot('uniform', clearing, { gridFee: parseMarketPrice('0.0100')!, floor: parseMarketPrice('0.0500')!, ceiling: parseMarketPrice('0.3000')! });
    expect(pure.trades.length).toBeGreaterThan(0);
    expect(result.body.trades).toEqual(pure.trades.map((t) => ({ buyOrderId: t.buyOrderId, sellOrderId: t.sellOrderId, energyWh: t.energyWh, price: formatMarketPrice(t.price) })));
    expect(result.body.summary).toMatchObject({ clearingPrice: formatMarketPrice(pure.clearingPrice!), volumeWh: pure.volumeWh, orders: 4 });
    expect(result.body.book.find((o: { id: string }) => o.id === ids[3])).toMatchObject({ withdrawn: true, matchedWh: 0 });

    // Replaying the slot changes nothing.
    const settings = (await loadSettings(tp.platform.db, w.communityA))!;
    expect(await clearStoredSlot(tp.platform.db, tp.platform.events, w.communityA, settings, slot, clock + 60_000)).toBe(false);
    await tp.platform.market.flush();
    const again = await tp.call('GET', `/api/v1/communities/${w.communityA}/market/slots/${iso(slot)}`, { token: w.managerA.token });
    expect(again.body).toEqual(result.body);

    const trades = await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/trades?from=${iso(T0)}&to=${iso(T0 + 86_400_000)}`, { token: w.memberA2.token });
    expect(trades.body.map((t: { side: string; energyWh: number }) => [t.side, t.energyWh])).toEqual(pure.trades.map((t) => ['buy', t.energyWh]));

    // Each trade is in the verifiable record once (the replay added none), its parties only as commitments.
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const rows = await tp.platform.db.query<{ subject: string; body: Uint8Array }>(
      "SELECT subject, body FROM ledger_entries WHERE kind = 'market.trade' AND community_id = $1 AND subject LIKE $2 ORDER BY subject", [w.communityA, `${w.communityA}:${slot}-%`]);
    const entries = rows.map((r) => decodeEntry(r.body) as MarketTradeEntry);
    expect(entries.map((e) => [e.energyWh, e.price, e.currency, e.slot.start])).toEqual(
      pure.trades.map((t) => [String(t.energyWh), formatMarketPrice(t.price), 'EUR', new Date(slot).toISOString().replace('.000Z', 'Z')]));
    expect(new Set(entries.map((e) => e.buyer)).size).toBe(1);
    expect(new Set(entries.map((e) => e.seller)).size).toBe(1);
    expect(entries[0]!.buyer).not.toBe(entries[0]!.seller);
    for (const row of rows) {
      const text = new TextDecoder().decode(row.body);
      for (const id of [w.memberIdA, w.memberIdA2]) expect(text).not.toContain(id);
    }
  });

  it('settles after the meters are final, pays the wallets once, and the books balance to the cent over many slots', async () => {
    // Many slots: A offers from its PV and its agent keeps selling; A2's agent buys what A2 used before each gate closure.
    await tp.call('PUT', `/api/v1/members/${w.memberIdA2}/market/agent-limits`, {
      token: w.memberA2.token, body: { enabled: true, minSellPrice: null, maxBuyPrice: '0.2200', sellShare: '1', buyShare: '0.5', meteringPointIds: [] },
    });
    const first = T0 + 16 * Q;
    const slots = Array.from({ length: 24 }, (_, k) => first + k * Q);
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, Object.fromEntries(
      [T0 + 12 * Q, first - 2 * Q, first - Q, ...slots].map((s, k) => [s, { importWh: 150 + ((k * 37) % 200), exportWh: 0 }])));
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, Object.fromEntries(
      [T0 + 12 * Q, first - 2 * Q, first - Q, ...slots].map((s, k) => [s, { importWh: 0, exportWh: 300 + ((k * 53) % 250) }])));
    for (const [k, slot] of slots.entries()) {
      at(slot - 30 * MIN);
      expect((await order(w.memberA.token, w.memberIdA, { slotStart: iso(slot), side: 'sell', energyWh: 250 + k * 7, price: `0.${String(900 + k * 13).padStart(4, '0')}` })).status).toBe(201);
      at(slot - 5 * MIN);
      await tp.platform.market.flush();
    }
    const summaries = (await tp.call('GET', `/api/v1/communities/${w.communityA}/market/slots?limit=100`, { token: w.managerA.token })).body;
    const traded = summaries.filter((s: { trades: number }) => s.trades > 0);
    expect(traded.length).toBeGreaterThan(20);
    // The agent's bids are in the books.
    const book = (await tp.call('GET', `/api/v1/communities/${w.communityA}/market/slots/${iso(slots[3]!)}`, { token: w.managerA.token })).body.book;
    expect(book.some((o: { origin: string; side: string }) => o.origin === 'agent' && o.side === 'buy')).toBe(true);

    at(slots[slots.length - 1]! + Q + 30 * MIN);
    await tp.platform.market.flush();
    const after = await totals();
    expect(after.sum).toBe('0');
    expect(after.drifted).toBe(0);
    expect(parseNano(after.walletsTotal) + parseNano(after.communityTotal)).toBe(0n);
    const settled = (await tp.call('GET', `/api/v1/communities/${w.communityA}/market/slots?limit=100`, { token: w.managerA.token })).body;
    // Every slot that ended half an hour ago is settled (those cleared since are still to be delivered).
    const ended = settled.filter((s: { slotStart: string }) => Date.parse(s.slotStart) <= slots[slots.length - 1]!);
    expect(ended.length).toBeGreaterThan(24);
    expect(ended.filter((s: { settledAt: string | null }) => s.settledAt === null)).toEqual([]);

    // Each wallet is its postings to the nano: top-up plus every settlement line.
    for (const [token, memberId] of [[w.memberA.token, w.memberIdA], [w.memberA2.token, w.memberIdA2]] as const) {
      const wallet = (await tp.call('GET', `/api/v1/members/${memberId}/market/wallet`, { token })).body;
      const sum = wallet.postings.reduce((s: bigint, p: { amount: string }) => s + parseNano(p.amount), 0n);
      expect(parseNano(wallet.balance)).toBe(sum);
      expect(wallet.postings.filter((p: { kind: string }) => p.kind === 'top-up')).toHaveLength(1);
      expect(after.accounts.find((a: { memberId: string | null }) => a.memberId === memberId).balance).toBe(wallet.balance);
      // One posting per line kind and settlement transaction, saying how many lines it pays over which period:
      // the trade postings together pay each of the member's trades once.
      type Paid = { kind: string; at: string; line: string; slotStart: string; slotEnd: string; lines: number };
      const paid: Paid[] = wallet.postings.filter((p: Paid) => p.kind === 'settlement');
      expect(new Set(paid.map((p) => `${p.at} ${p.line}`)).size).toBe(paid.length);
      for (const p of paid) expect(Date.parse(p.slotEnd) - Date.parse(p.slotStart)).toBeGreaterThanOrEqual(Q);
      // Every trade settled so far: this test's slots and the one the clearing test above traded.
      const trades = (await tp.call('GET', `/api/v1/members/${memberId}/market/trades?from=${iso(T0)}&to=${iso(slots[slots.length - 1]! + Q)}`, { token })).body;
      const line = memberId === w.memberIdA ? 'sale' : 'purchase';
      expect(trades.length).toBeGreaterThan(0);
      expect(paid.filter((p) => p.line === line).reduce((n, p) => n + p.lines, 0)).toBe(trades.length);
    }

    // Running everything again posts nothing more.
    const count = async () => (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/wallet`, { token: w.memberA2.token })).body.postings.length;
    const before = await count();
    clock += 60 * MIN;
    await tp.platform.market.flush();
    expect(await count()).toBe(before);
    expect(await totals()).toMatchObject({ sum: '0', drifted: 0, walletsTotal: after.walletsTotal });

    // Late data: A2 used 100 Wh more in the first slot than metered at settlement. The settlement is
    // corrected by its own postings, the original stays, and a second run finds nothing to correct.
    const wallet = async () => (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/wallet`, { token: w.memberA2.token })).body;
    const original = await wallet();
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [first]: { importWh: 150 + ((3 * 37) % 200) + 100, exportWh: 0 } });
    expect(await correctSettledSlots(tp.platform.db, tp.platform.events, w.communityA, [first, first - 50 * Q], clock)).toBe(1);
    const corrected = await wallet();
    const corrections = corrected.postings.filter((p: { kind: string }) => p.kind === 'settlement-correction');
    expect(corrections.length).toBeGreaterThan(0);
    // One correction posting per line kind, each paying its lines of the one corrected slot.
    expect(new Set(corrections.map((p: { line: string }) => p.line)).size).toBe(corrections.length);
    for (const p of corrections) expect(p).toMatchObject({ slotStart: iso(first), slotEnd: iso(first + Q) });
    const delta = corrections.reduce((sum: bigint, p: { amount: string }) => sum + parseNano(p.amount), 0n);
    expect(delta).toBeLessThan(0n);
    expect(parseNano(corrected.balance)).toBe(parseNano(original.balance) + delta);
    // The original postings as they were (whether recorded yet aside: the ledger's job may have run in between).
    const content = (postings: { recorded: boolean }[]) => postings.map(({ recorded: _recorded, ...p }) => p);
    expect(content(corrected.postings.slice(corrections.length))).toEqual(content(original.postings));
    expect(await correctSettledSlots(tp.platform.db, tp.platform.events, w.communityA, [first], clock)).toBe(0);
    expect(await totals()).toMatchObject({ sum: '0', drifted: 0 });
  });

  it('refuses an order that no longer fits the community\'s bounds at clearing, and clears the others', async () => {
    const slot = Math.floor(clock / Q) * Q + 8 * Q;
    at(slot - 60 * MIN);
    const cheap = await order(w.memberA.token, w.memberIdA, { slotStart: iso(slot), side: 'sell', energyWh: 200, price: '0.0600' });
    const fair = await order(w.memberA.token, w.memberIdA, { slotStart: iso(slot), side: 'sell', energyWh: 200, price: '0.1000' });
    const bid = await order(w.memberA2.token, w.memberIdA2, { slotStart: iso(slot), side: 'buy', energyWh: 300, price: '0.2000' });
    expect([cheap.status, fair.status, bid.status]).toEqual([201, 201, 201]);
    // The manager raises the floor after the cheap offer was placed: it is refused at clearing, alone.
    const raised = await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: { ...SETTINGS, floor: '0.0800' } });
    expect(raised.status).toBe(200);
    at(slot - 5 * MIN);
    await tp.platform.market.flush();
    const result = (await tp.call('GET', `/api/v1/communities/${w.communityA}/market/slots/${iso(slot)}`, { token: w.managerA.token })).body;
    expect(result.book.find((o: { id: string }) => o.id === cheap.body.id).refused).toMatch(/below the floor/);
    expect(result.summary.refused).toBe(1);
    const sold = result.trades.filter((t: { sellOrderId: string }) => t.sellOrderId === fair.body.id);
    expect(sold.reduce((s: number, t: { energyWh: number }) => s + t.energyWh, 0)).toBe(200);
    await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: SETTINGS });
  });
});

type TestUserKey = 'A' | 'A2';
