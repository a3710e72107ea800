import { BadRequestError } from '../../../kernel/errors.js';
import type { Nano } from '../../../kernel/money.js';
import { orderProblems, pricingProblems, type ClearingOrder, type CommunityPricing } from '../orders.js';
import type { ClearingMechanism, ClearingResult } from './types.js';

/**
 * Clearing mechanisms by name. Each module registers itself when imported (like the meter
 * decoders and allocation rules) and `./index.ts` imports them all; a community stores the
 * name of the mechanism it uses.
 */
const mechanisms = new Map<string, ClearingMechanism>();

export function registerMechanism(mechanism: ClearingMechanism): void {
  if (mechanisms.has(mechanism.name)) throw new Error(`clearing mechanism ${mechanism.name} is registered twice`);
  mechanisms.set(mechanism.name, mechanism);
}

export function getMechanism(name: string): ClearingMechanism | undefined {
  return mechanisms.get(name);
}

export function mechanismNames(): string[] {
  return [...mechanisms.keys()];
}

/** One reason an order of a book cannot be cleared; `index` is its position in the input. */
export interface BookProblem {
  readonly index: number;
  readonly orderId: string;
  readonly message: string;
}

/** Every problem of a book: inadmissible orders and repeated order ids (each repeat named). */
export function bookProblems(orders: readonly ClearingOrder[], pricing: CommunityPricing): BookProblem[] {
  const problems: BookProblem[] = [];
  const firstIndex = new Map<string, number>();
  orders.forEach((order, index) => {
    for (const message of orderProblems(order, pricing)) problems.push({ index, orderId: order.id, message });
    const first = firstIndex.get(order.id);
    if (first === undefined) firstIndex.set(order.id, index);
    else problems.push({ index, orderId: order.id, message: `order id ${order.id} is used before (order ${first + 1})` });
  });
  return problems;
}

/**
 * Clears one slot's book with the named mechanism. The book is checked first and refused as a
 * whole, naming every problem: a clearing of a book with a bad order would not be the clearing
 * the members were promised.
 */
export function clearSlot(mechanismName: string, orders: readonly ClearingOrder[], pricing: CommunityPricing): ClearingResult {
  const mechanism = mechanisms.get(mechanismName);
  if (!mechanism) throw new BadRequestError(`unknown clearing mechanism "${mechanismName}" (known: ${mechanismNames().join(', ')})`, 'mechanism');
  const pricingIssues = pricingProblems(pricing);
  if (pricingIssues.length > 0) throw new BadRequestError(pricingIssues.join('; '), 'pricing');
  const problems = bookProblems(orders, pricing);
  if (problems.length > 0) {
    throw new BadRequestError(problems.map((p) => `order ${p.index + 1} (${p.orderId}): ${p.message}`).join('; '), 'orders');
  }
  const { trades, clearingPrice } = mechanism.match(orders, pricing);
  const byId = new Map(orders.map((order) => [order.id, order]));
  let volumeWh = 0;
  let welfare: Nano = 0n;
  let gridFees: Nano = 0n;
  for (const trade of trades) {
    const energy = BigInt(trade.energyWh);
    volumeWh += trade.energyWh;
    welfare += (byId.get(trade.buyOrderId)!.price - byId.get(trade.sellOrderId)!.price) * energy;
    gridFees += trade.gridFee * energy;
  }
  return { mechanism: mechanism.name, trades, clearingPrice, volumeWh, welfare, gridFees };
}
