import { describe, expect, it } from 'vitest';
import {
  clearSlot, EMPTY_BOOK, formatMarketPrice, mechanismNames, midpoint, NO_FEES, replayOrders, submitOrder,
  type ClearingOrder, type Trade,
} from '../../src/market/domain/index.js';
import { EXAMPLE_BOOK, order, price } from './support.js';

const summary = (trades: readonly Trade[]) => trades.map((t) => `${t.buyOrderId}/${t.sellOrderId} ${t.energyWh} @ ${formatMarketPrice(t.price)}`);

describe('uniform clearing, by hand', () => {
  it('matches best bid with best offer while they cross, all at the midpoint of the last matched pair', () => {
    // Bids .20 (300), .18 (200), .10 (100); offers .12 (250), .15 (200), .19 (100).
    // B1/S1 250, B1/S2 50, B2/S2 150; then B2 .18 < S3 .19 stops. Last pair .18/.15 → .1650.
    const result = clearSlot('uniform', EXAMPLE_BOOK, NO_FEES);
    expect(summary(result.trades)).toEqual(['B1/S1 250 @ 0.1650', 'B1/S2 50 @ 0.1650', 'B2/S2 150 @ 0.1650']);
    expect(result.clearingPrice).toBe(price('0.165'));
    expect(result.volumeWh).toBe(450);
    // (.20−.12)×250 + (.20−.15)×50 + (.18−.15)×150 = 27 Wh·€/kWh = 0.027 € = 27,000,000 nano.
    expect(result.welfare).toBe(27_000_000n);
    expect(result.gridFees).toBe(0n);
    expect(result.trades[0]).toMatchObject({ buyerId: 'alice', sellerId: 'dave', gridFee: 0n });
  });

  it('rounds the midpoint half up to 4 places', () => {
    expect(formatMarketPrice(midpoint(price('0.1801'), price('0.15')))).toBe('0.1651');
    expect(formatMarketPrice(midpoint(price('0.1802'), price('0.15')))).toBe('0.1651');
    expect(formatMarketPrice(midpoint(price('0.0001'), price('0')))).toBe('0.0001');
    const result = clearSlot('uniform', [order('b', 'x', 'buy', 10, '0.1801', 0), order('s', 'y', 'sell', 10, '0.15', 0)], NO_FEES);
    expect(formatMarketPrice(result.clearingPrice!)).toBe('0.1651');
  });

  it('breaks price ties by submission time, then by order id', () => {
    const book = [
      order('late', 'a', 'buy', 100, '0.20', 5),
      order('b-early', 'b', 'buy', 100, '0.20', 1),
      order('a-early', 'c', 'buy', 100, '0.20', 1),
      order('s', 'd', 'sell', 150, '0.10', 0),
    ];
    expect(summary(clearSlot('uniform', book, NO_FEES).trades)).toEqual(['a-early/s 100 @ 0.1500', 'b-early/s 50 @ 0.1500']);
  });

  it('matches a bid equal to the offer, and nothing when the best bid is below the best offer', () => {
    const equal = clearSlot('uniform', [order('b', 'x', 'buy', 10, '0.15', 0), order('s', 'y', 'sell', 20, '0.15', 0)], NO_FEES);
    expect(summary(equal.trades)).toEqual(['b/s 10 @ 0.1500']);
    const apart = clearSlot('uniform', [order('b', 'x', 'buy', 10, '0.1499', 0), order('s', 'y', 'sell', 20, '0.15', 0)], NO_FEES);
    expect(apart).toMatchObject({ trades: [], clearingPrice: undefined, volumeWh: 0, welfare: 0n });
    expect(clearSlot('uniform', [], NO_FEES).trades).toEqual([]);
  });

  it('matches bids less the grid fee, charges the fee on top and keeps welfare on the bids as posted', () => {
    // Fee .03: bids count as .17, .15, .07. B1/S1 250, B1/S2 50, B2/S2 150 (.15 ≥ .15); last pair .15/.15.
    const result = clearSlot('uniform', EXAMPLE_BOOK, { gridFee: price('0.03') });
    expect(summary(result.trades)).toEqual(['B1/S1 250 @ 0.1500', 'B1/S2 50 @ 0.1500', 'B2/S2 150 @ 0.1500']);
    expect(result.gridFees).toBe(13_500_000n); // .03 × 450 Wh
    expect(result.welfare).toBe(27_000_000n);
    // B2 pays .15 + .03 = .18: exactly its bid.
    expect(result.trades[2]!.price + result.trades[2]!.gridFee).toBe(price('0.18'));
  });

  it('refuses a book with orders outside the floor and ceiling, naming each', () => {
    const pricing = { gridFee: price('0.02'), floor: price('0.11'), ceiling: price('0.17') };
    // S3 .19 > ceiling; B3 .10 − .02 < floor; B1 .20 − .02 = .18 > ceiling.
    expect(() => clearSlot('uniform', EXAMPLE_BOOK, pricing)).toThrow(
      /order 2 \(B1\): the bid less the grid fee \(0\.1800\) is above the ceiling 0\.1700.*order 5 \(S3\): the price 0\.1900 is above the ceiling.*order 6 \(B3\): the bid less the grid fee \(0\.0800\) is below the floor 0\.1100/,
    );
    const inside = EXAMPLE_BOOK.filter((o) => ['S1', 'S2', 'B2'].includes(o.id));
    const result = clearSlot('uniform', inside, pricing);
    for (const t of result.trades) {
      expect(t.price).toBeGreaterThanOrEqual(pricing.floor);
      expect(t.price).toBeLessThanOrEqual(pricing.ceiling);
    }
  });

  it('refuses repeated ids, bad quantities and prices, unknown mechanisms and bad pricing', () => {
    const bad: ClearingOrder[] = [
      order('x', 'a', 'buy', 0, '0.1', 0),
      order('x', 'a', 'sell', 1.5, '0.1', 0),
      { ...order('y', 'a', 'sell', 10, '0.1', 0), price: 123n },
      { ...order('z', '', 'sell', Number.NaN, '0.1', 0), submittedAtMs: Number.NaN },
    ];
    let message = '';
    try { clearSlot('uniform', bad, NO_FEES); } catch (error) { message = (error as Error).message; }
    expect(message).toMatch(/order 1 \(x\): energy 0 Wh/);
    expect(message).toMatch(/order 2 \(x\): energy 1.5 Wh/);
    expect(message).toMatch(/order 2 \(x\): order id x is used before \(order 1\)/);
    expect(message).toMatch(/order 3 \(y\): the price must be ≥ 0 with at most 4 places/);
    expect(message).toMatch(/order 4 \(z\): the member id is empty.*energy NaN.*submission time/);
    expect(() => clearSlot('vickrey', [], NO_FEES)).toThrow(/unknown clearing mechanism "vickrey" \(known: uniform, pay-as-bid\)/);
    expect(() => clearSlot('uniform', [], { gridFee: -100n })).toThrow(/grid fee/);
    expect(() => clearSlot('uniform', [], { gridFee: 0n, floor: price('0.2'), ceiling: price('0.1') })).toThrow(/floor 0.2000 is above the ceiling 0.1000/);
    expect(mechanismNames()).toEqual(['uniform', 'pay-as-bid']);
  });
});

describe('pay-as-bid clearing, by hand', () => {
  it('matches each arriving order against the book at the resting order\'s price', () => {
    // S1 rests; B1 takes S1's 250 at .12 and rests 50 at .20; S2 takes B1's 50 at .20 and rests
    // 150; B2 takes S2's 150 at .15 and rests 50; S3 (.19) and B3 (.10) rest.
    const result = clearSlot('pay-as-bid', EXAMPLE_BOOK, NO_FEES);
    expect(summary(result.trades)).toEqual(['B1/S1 250 @ 0.1200', 'B1/S2 50 @ 0.2000', 'B2/S2 150 @ 0.1500']);
    expect(result.clearingPrice).toBeUndefined();
    expect(result.welfare).toBe(27_000_000n);
    const { book } = replayOrders(EXAMPLE_BOOK, NO_FEES);
    expect(book.bids.map((r) => [r.order.id, r.remainingWh])).toEqual([['B2', 50], ['B3', 100]]);
    expect(book.offers.map((r) => [r.order.id, r.remainingWh])).toEqual([['S3', 100]]);
  });

  it('takes arrival order from the submission time, not from the input order', () => {
    const shuffled = [...EXAMPLE_BOOK].reverse();
    expect(clearSlot('pay-as-bid', shuffled, NO_FEES).trades).toEqual(clearSlot('pay-as-bid', EXAMPLE_BOOK, NO_FEES).trades);
  });

  it('a resting bid trades at its price less the grid fee, so the buyer pays the bid in all', () => {
    const fee = { gridFee: price('0.03') };
    const { trades } = replayOrders([order('b', 'x', 'buy', 100, '0.20', 0), order('s', 'y', 'sell', 60, '0.10', 1)], fee);
    expect(summary(trades)).toEqual(['b/s 60 @ 0.1700']);
  });

  it('submitOrder leaves the given book as it was and refuses an inadmissible order', () => {
    const first = submitOrder(EMPTY_BOOK, order('s', 'y', 'sell', 60, '0.10', 0), NO_FEES);
    const before = JSON.stringify(first.book, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const second = submitOrder(first.book, order('b', 'x', 'buy', 100, '0.20', 1), NO_FEES);
    expect(JSON.stringify(first.book, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).toBe(before);
    expect(summary(second.trades)).toEqual(['b/s 60 @ 0.1000']);
    expect(second.book.bids.map((r) => r.remainingWh)).toEqual([40]);
    expect(second.book.offers).toEqual([]);
    expect(() => submitOrder(first.book, order('b', 'x', 'buy', -5, '0.20', 1), NO_FEES)).toThrow(/energy -5 Wh/);
  });
});
