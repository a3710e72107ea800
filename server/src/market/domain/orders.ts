import { isQuarterHour } from '../../kernel/time.js';
import type { MicroPrice } from '../../kernel/money.js';
import type { Wh } from '../../kernel/energy.js';
import { formatMarketPrice, isMarketPrice } from './price.js';

/** A buy bid or a sell offer. */
export type Side = 'buy' | 'sell';

/**
 * What clearing needs of an order: one slot's bid or offer. `price` is per kWh on the 4-digit
 * grid (see price.ts): for a bid the most the buyer pays per kWh all in (grid fee included),
 * for an offer the least the seller takes.
 */
export interface ClearingOrder {
  readonly id: string;
  readonly memberId: string;
  readonly side: Side;
  readonly energyWh: Wh;
  readonly price: MicroPrice;
  /** UTC ms: earlier orders go first among equal prices. */
  readonly submittedAtMs: number;
}

/** An order of the community's book: a clearing order for one delivery slot. */
export interface MarketOrder extends ClearingOrder {
  /** Start of the 15-minute delivery slot (UTC ms on the quarter-hour grid). */
  readonly slotStartMs: number;
  /** Posted by the member in the app or by their agent within the member's limits. */
  readonly origin: 'member' | 'agent';
}

/** 10 MWh in a quarter hour (a 40 MW plant): far above a community's assets. */
export const MAX_ORDER_WH = 10_000_000;

/**
 * The community's price options, applied to every trade:
 * - `gridFee` (per kWh, ≥ 0): charged to the buyer on top of the trade price and credited to
 *   the community's grid-fee account. Bids include it: a bid is matched as `bid − gridFee`
 *   against offers, so a buyer never pays more than their bid in all.
 * - `floor` / `ceiling` (per kWh): bounds on the trade price, e.g. the feed-in tariff and the
 *   grid price less the fee. An offer must lie within them and so must a bid less the fee;
 *   an order outside is refused (never silently moved), so every trade price, which lies
 *   between a bid less the fee and an offer, lies within them too.
 */
export interface CommunityPricing {
  readonly gridFee: MicroPrice;
  readonly floor?: MicroPrice | undefined;
  readonly ceiling?: MicroPrice | undefined;
}

export const NO_FEES: CommunityPricing = { gridFee: 0n };

/** The price a bid is matched at: what is left of it for the energy once the grid fee is paid. */
export const matchPrice = (order: ClearingOrder, pricing: CommunityPricing): MicroPrice =>
  order.side === 'buy' ? order.price - pricing.gridFee : order.price;

/** Problems with the pricing options themselves, or [] when they are usable. */
export function pricingProblems(pricing: CommunityPricing): string[] {
  const problems: string[] = [];
  if (!isMarketPrice(pricing.gridFee)) problems.push('the grid fee must be a price ≥ 0 with at most 4 places');
  for (const [name, value] of [['floor', pricing.floor], ['ceiling', pricing.ceiling]] as const) {
    if (value !== undefined && !isMarketPrice(value)) problems.push(`the ${name} must be a price ≥ 0 with at most 4 places`);
  }
  if (pricing.floor !== undefined && pricing.ceiling !== undefined && pricing.floor > pricing.ceiling) {
    problems.push(`the floor ${formatMarketPrice(pricing.floor)} is above the ceiling ${formatMarketPrice(pricing.ceiling)}`);
  }
  return problems;
}

/** Why this order cannot enter the book under these pricing options, or [] when it can. */
export function orderProblems(order: ClearingOrder, pricing: CommunityPricing): string[] {
  const problems: string[] = [];
  if (order.id.trim() === '') problems.push('the order id is empty');
  if (order.memberId.trim() === '') problems.push('the member id is empty');
  if (order.side !== 'buy' && order.side !== 'sell') problems.push(`side "${String(order.side)}" is neither buy nor sell`);
  if (!Number.isSafeInteger(order.energyWh) || order.energyWh <= 0 || order.energyWh > MAX_ORDER_WH) {
    problems.push(`energy ${order.energyWh} Wh is not a whole number of Wh between 1 and ${MAX_ORDER_WH}`);
  }
  if (!Number.isSafeInteger(order.submittedAtMs)) problems.push('the submission time is not a UTC instant');
  if (!isMarketPrice(order.price)) {
    problems.push('the price must be ≥ 0 with at most 4 places');
    return problems;
  }
  const price = matchPrice(order, pricing);
  const what = order.side === 'buy' && pricing.gridFee > 0n ? `bid less the grid fee (${formatMarketPrice(price)})` : `price ${formatMarketPrice(price)}`;
  if (price < 0n) problems.push(`the bid ${formatMarketPrice(order.price)} is below the grid fee ${formatMarketPrice(pricing.gridFee)}`);
  else if (pricing.floor !== undefined && price < pricing.floor) problems.push(`the ${what} is below the floor ${formatMarketPrice(pricing.floor)}`);
  if (pricing.ceiling !== undefined && price > pricing.ceiling) problems.push(`the ${what} is above the ceiling ${formatMarketPrice(pricing.ceiling)}`);
  return problems;
}

/**
 * When a slot's book closes: `lead` before delivery. Orders are placed, changed and withdrawn
 * until then (a change is a new submission and takes its new time for priority); the book of
 * a slot opens `horizon` before delivery, when a horizon is set.
 */
export interface GateRule {
  readonly leadMs: number;
  readonly horizonMs?: number | undefined;
}

export type GateDecision =
  | { readonly open: true }
  | { readonly open: false; readonly reason: 'not-a-slot' | 'closed' | 'not-yet-open'; readonly message: string };

export const gateClosureAt = (slotStartMs: number, gate: GateRule): number => slotStartMs - gate.leadMs;

/** May an order of this slot be placed, changed or withdrawn at `atMs`? */
export function gateDecision(slotStartMs: number, atMs: number, gate: GateRule): GateDecision {
  if (!Number.isSafeInteger(slotStartMs) || !isQuarterHour(slotStartMs)) {
    return { open: false, reason: 'not-a-slot', message: 'the delivery slot does not start on a UTC quarter hour' };
  }
  if (atMs >= gateClosureAt(slotStartMs, gate)) {
    return { open: false, reason: 'closed', message: 'the gate of this slot has closed' };
  }
  if (gate.horizonMs !== undefined && atMs < slotStartMs - gate.horizonMs) {
    return { open: false, reason: 'not-yet-open', message: 'the book of this slot is not open yet' };
  }
  return { open: true };
}

/** Everything that stops a member's order from entering the book at `atMs`, or []. */
export function marketOrderProblems(order: MarketOrder, pricing: CommunityPricing, gate: GateRule, atMs: number): string[] {
  const problems = orderProblems(order, pricing);
  const decision = gateDecision(order.slotStartMs, atMs, gate);
  if (!decision.open) problems.push(decision.message);
  if (order.submittedAtMs > atMs) problems.push('the submission time is in the future');
  return problems;
}
