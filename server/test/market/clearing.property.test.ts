/**
 * Property tests of clearing (fast-check), for both mechanisms and with or without a grid fee:
 * - no trade above a bid (price + grid fee ≤ bid) or below an offer;
 * - quantities conserved: no order trades more than its energy, volume = Σ trades, and the book
 *   left over does not cross (no further match was possible);
 * - deterministic: the same orders in any input order clear the same way;
 * - uniform: one price, between the last matched bid (less the fee) and offer, and the volume is
 *   the largest any single price could clear (max over p of min(demand ≥ p, supply ≤ p));
 * - pay-as-bid: one order at a time through submitOrder equals the replay of the sequence.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  arrivalOrder, clearSlot, EMPTY_BOOK, matchPrice, PRICE_STEP, replayOrders, submitOrder, type ClearingResult,
} from '../../src/market/domain/index.js';
import { books, pricings } from './support.js';

const mechanisms = fc.constantFrom('uniform', 'pay-as-bid');

function filled(result: ClearingResult): Map<string, number> {
  const sums = new Map<string, number>();
  for (const t of result.trades) {
    sums.set(t.buyOrderId, (sums.get(t.buyOrderId) ?? 0) + t.energyWh);
    sums.set(t.sellOrderId, (sums.get(t.sellOrderId) ?? 0) + t.energyWh);
  }
  return sums;
}

describe('clearing properties', () => {
  it('never trades above a bid or below an offer', () => {
    fc.assert(fc.property(books(), pricings, mechanisms, (orders, pricing, mechanism) => {
      const byId = new Map(orders.map((o) => [o.id, o]));
      for (const t of clearSlot(mechanism, orders, pricing).trades) {
        expect(t.price + t.gridFee).toBeLessThanOrEqual(byId.get(t.buyOrderId)!.price);
        expect(t.price).toBeGreaterThanOrEqual(byId.get(t.sellOrderId)!.price);
        expect(byId.get(t.buyOrderId)!.side).toBe('buy');
        expect(byId.get(t.sellOrderId)!.side).toBe('sell');
        expect(t.gridFee).toBe(pricing.gridFee);
      }
    }), { numRuns: 300 });
  });

  it('conserves quantities and leaves a book that does not cross', () => {
    fc.assert(fc.property(books(), pricings, mechanisms, (orders, pricing, mechanism) => {
      const result = clearSlot(mechanism, orders, pricing);
      const sums = filled(result);
      expect(result.volumeWh).toBe(result.trades.reduce((s, t) => s + t.energyWh, 0));
      for (const t of result.trades) expect(t.energyWh).toBeGreaterThan(0);
      let bought = 0;
      let sold = 0;
      for (const o of orders) {
        const f = sums.get(o.id) ?? 0;
        expect(f).toBeLessThanOrEqual(o.energyWh);
        if (o.side === 'buy') bought += f; else sold += f;
      }
      expect(bought).toBe(result.volumeWh);
      expect(sold).toBe(result.volumeWh);
      const open = orders.filter((o) => (sums.get(o.id) ?? 0) < o.energyWh);
      const bestBid = open.filter((o) => o.side === 'buy').reduce<bigint | undefined>((m, o) => (m === undefined || matchPrice(o, pricing) > m ? matchPrice(o, pricing) : m), undefined);
      const bestOffer = open.filter((o) => o.side === 'sell').reduce<bigint | undefined>((m, o) => (m === undefined || o.price < m ? o.price : m), undefined);
      if (bestBid !== undefined && bestOffer !== undefined) expect(bestBid).toBeLessThan(bestOffer);
    }), { numRuns: 300 });
  });

  it('is deterministic: the same orders in any input order give the same result', () => {
    fc.assert(fc.property(books().chain((orders) => fc.tuple(fc.constant(orders), fc.shuffledSubarray(orders, { minLength: orders.length }))), pricings, mechanisms, ([orders, shuffled], pricing, mechanism) => {
      expect(clearSlot(mechanism, shuffled, pricing)).toEqual(clearSlot(mechanism, orders, pricing));
    }), { numRuns: 200 });
  });

  it('uniform: one price between the last matched bid and offer, and the most volume any one price clears', () => {
    fc.assert(fc.property(books(), pricings, (orders, pricing) => {
      const result = clearSlot('uniform', orders, pricing);
      const byId = new Map(orders.map((o) => [o.id, o]));
      const last = result.trades[result.trades.length - 1];
      if (last) {
        for (const t of result.trades) expect(t.price).toBe(result.clearingPrice);
        expect(result.clearingPrice!).toBeLessThanOrEqual(matchPrice(byId.get(last.buyOrderId)!, pricing));
        expect(result.clearingPrice!).toBeGreaterThanOrEqual(byId.get(last.sellOrderId)!.price);
        expect(result.clearingPrice! % PRICE_STEP).toBe(0n);
      } else {
        expect(result.clearingPrice).toBeUndefined();
      }
      let best = 0;
      for (const p of new Set(orders.map((o) => matchPrice(o, pricing)))) {
        const demand = orders.filter((o) => o.side === 'buy' && matchPrice(o, pricing) >= p).reduce((s, o) => s + o.energyWh, 0);
        const supply = orders.filter((o) => o.side === 'sell' && o.price <= p).reduce((s, o) => s + o.energyWh, 0);
        best = Math.max(best, Math.min(demand, supply));
      }
      expect(result.volumeWh).toBe(best);
    }), { numRuns: 300 });
  });

  it('pay-as-bid: submitting one order at a time equals the replay, and each trade is at the resting order\'s price', () => {
    fc.assert(fc.property(books(), pricings, (orders, pricing) => {
      const sequence = [...orders].sort(arrivalOrder);
      let book = EMPTY_BOOK;
      const trades = [];
      const arrived = new Set<string>();
      for (const o of sequence) {
        const step = submitOrder(book, o, pricing);
        for (const t of step.trades) {
          const resting = t.buyOrderId === o.id ? t.sellOrderId : t.buyOrderId;
          expect(arrived.has(resting)).toBe(true);
          const restingOrder = orders.find((x) => x.id === resting)!;
          expect(t.price).toBe(matchPrice(restingOrder, pricing));
        }
        trades.push(...step.trades);
        book = step.book;
        arrived.add(o.id);
      }
      const replay = replayOrders(sequence, pricing);
      expect(trades).toEqual(replay.trades);
      expect(book).toEqual(replay.book);
      expect(clearSlot('pay-as-bid', orders, pricing).trades).toEqual(replay.trades);
    }), { numRuns: 200 });
  });
});
