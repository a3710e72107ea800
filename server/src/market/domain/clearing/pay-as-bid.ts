import type { Wh } from '../../../kernel/energy.js';
import { BadRequestError } from '../../../kernel/errors.js';
import { matchPrice, orderProblems, type ClearingOrder, type CommunityPricing } from '../orders.js';
import { registerMechanism } from './registry.js';
import { arrivalOrder, bidPriority, offerPriority } from './priority.js';
import type { Matching, Trade } from './types.js';

/** An order waiting in the book with what is left of it. */
export interface RestingOrder {
  readonly order: ClearingOrder;
  readonly remainingWh: Wh;
}

/** A continuous book: resting bids best first, resting offers best first. */
export interface OrderBook {
  readonly bids: readonly RestingOrder[];
  readonly offers: readonly RestingOrder[];
}

export const EMPTY_BOOK: OrderBook = { bids: [], offers: [] };

/**
 * Matches an incoming order against the opposite side of the book, best first, while the
 * prices cross; each trade is at the resting order's price (for a resting bid, its price less
 * the grid fee, so the buyer pays exactly their bid in all). What is left of the incoming order
 * rests in the book at its priority. Works on the arrays it is given: `submitOrder` hands it
 * copies, `replayOrders` one set of arrays for the whole sequence.
 */
function matchIncoming(bids: RestingOrder[], offers: RestingOrder[], order: ClearingOrder, pricing: CommunityPricing, trades: Trade[]): void {
  const buying = order.side === 'buy';
  const opposite = buying ? offers : bids;
  const incomingPrice = matchPrice(order, pricing);
  let left = order.energyWh;
  let filled = 0;
  while (left > 0 && filled < opposite.length) {
    const resting = opposite[filled]!;
    const restingPrice = matchPrice(resting.order, pricing);
    if (buying ? incomingPrice < restingPrice : restingPrice < incomingPrice) break;
    const energyWh = Math.min(left, resting.remainingWh);
    const [bid, offer] = buying ? [order, resting.order] : [resting.order, order];
    trades.push({
      buyOrderId: bid.id, sellOrderId: offer.id, buyerId: bid.memberId, sellerId: offer.memberId,
      energyWh, price: restingPrice, gridFee: pricing.gridFee,
    });
    left -= energyWh;
    if (energyWh === resting.remainingWh) filled++;
    else opposite[filled] = { order: resting.order, remainingWh: resting.remainingWh - energyWh };
  }
  opposite.splice(0, filled);
  if (left === 0) return;
  const own = buying ? bids : offers;
  const priority = buying ? bidPriority : offerPriority;
  let lo = 0;
  let hi = own.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (priority(own[mid]!.order, order) < 0) lo = mid + 1;
    else hi = mid;
  }
  own.splice(lo, 0, { order, remainingWh: left });
}

function checked(order: ClearingOrder, pricing: CommunityPricing): ClearingOrder {
  const problems = orderProblems(order, pricing);
  if (problems.length > 0) throw new BadRequestError(`order ${order.id}: ${problems.join('; ')}`, 'order');
  return order;
}

function replay(orders: Iterable<ClearingOrder>, pricing: CommunityPricing, book: OrderBook, check: boolean): { trades: Trade[]; book: OrderBook } {
  const bids = [...book.bids];
  const offers = [...book.offers];
  const trades: Trade[] = [];
  for (const order of orders) matchIncoming(bids, offers, check ? checked(order, pricing) : order, pricing, trades);
  return { trades, book: { bids, offers } };
}

/**
 * One incoming order against a book: the trades it makes and the book after it (the given book
 * is not changed). An inadmissible order is refused; that its id is new to the book is the
 * caller's to ensure (the store's key does).
 */
export function submitOrder(book: OrderBook, order: ClearingOrder, pricing: CommunityPricing): { trades: Trade[]; book: OrderBook } {
  return replay([order], pricing, book, true);
}

/** Orders arriving in the given sequence, one after the other, from `book` (default empty); each is checked as in submitOrder. */
export function replayOrders(orders: Iterable<ClearingOrder>, pricing: CommunityPricing, book: OrderBook = EMPTY_BOOK): { trades: Trade[]; book: OrderBook } {
  return replay(orders, pricing, book, true);
}

/** A slot's orders cleared continuously in arrival order (submission time, then order id). */
export function matchPayAsBid(orders: readonly ClearingOrder[], pricing: CommunityPricing): Matching {
  return { trades: replay([...orders].sort(arrivalOrder), pricing, EMPTY_BOOK, false).trades, clearingPrice: undefined };
}

registerMechanism({
  name: 'pay-as-bid',
  summary: 'continuous matching as orders arrive, each trade at the resting order\'s price',
  match: matchPayAsBid,
});
