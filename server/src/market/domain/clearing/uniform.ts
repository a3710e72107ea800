import { midpoint } from '../price.js';
import { matchPrice, type ClearingOrder, type CommunityPricing } from '../orders.js';
import { registerMechanism } from './registry.js';
import { bidPriority, offerPriority } from './priority.js';
import type { Matching, Trade } from './types.js';

/**
 * Periodic double auction of one slot at one price. Bids by price descending, offers ascending
 * (ties: earlier submission, then order id); the best remaining bid and offer match while the
 * bid (less the grid fee) is at least the offer, each match for the smaller remaining quantity.
 * Every trade is at the midpoint of the last matched bid (less the fee) and offer, rounded half
 * up to 4 places: no matched bid is below it and no matched offer above it, as the bids only
 * fall and the offers only rise along the way.
 */
export function matchUniform(orders: readonly ClearingOrder[], pricing: CommunityPricing): Matching {
  const bids = orders.filter((o) => o.side === 'buy').sort(bidPriority);
  const offers = orders.filter((o) => o.side === 'sell').sort(offerPriority);
  const pairs: { bid: ClearingOrder; offer: ClearingOrder; energyWh: number }[] = [];
  let b = 0;
  let s = 0;
  let bidLeft = bids[0]?.energyWh ?? 0;
  let offerLeft = offers[0]?.energyWh ?? 0;
  while (b < bids.length && s < offers.length && matchPrice(bids[b]!, pricing) >= offers[s]!.price) {
    const energyWh = Math.min(bidLeft, offerLeft);
    pairs.push({ bid: bids[b]!, offer: offers[s]!, energyWh });
    bidLeft -= energyWh;
    offerLeft -= energyWh;
    if (bidLeft === 0) bidLeft = bids[++b]?.energyWh ?? 0;
    if (offerLeft === 0) offerLeft = offers[++s]?.energyWh ?? 0;
  }
  const last = pairs[pairs.length - 1];
  if (!last) return { trades: [], clearingPrice: undefined };
  const price = midpoint(matchPrice(last.bid, pricing), last.offer.price);
  const trades = pairs.map(({ bid, offer, energyWh }): Trade => ({
    buyOrderId: bid.id,
    sellOrderId: offer.id,
    buyerId: bid.memberId,
    sellerId: offer.memberId,
    energyWh,
    price,
    gridFee: pricing.gridFee,
  }));
  return { trades, clearingPrice: price };
}

registerMechanism({
  name: 'uniform',
  summary: 'periodic double auction per slot, every trade at the midpoint of the last matched bid and offer',
  match: matchUniform,
});
