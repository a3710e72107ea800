import { parseDecimal, toFixedUnits } from '../../kernel/decimal.js';
import type { Wh } from '../../kernel/energy.js';
import type { MicroPrice } from '../../kernel/money.js';
import { formatUtcInstant } from '../../kernel/time.js';
import { gateDecision, MAX_ORDER_WH, type CommunityPricing, type GateRule, type MarketOrder, type Side } from './orders.js';

/**
 * Agents: the orders a member's assets post, within the limits the member set. Per slot the
 * agent adds up the chosen devices' expected net energy (the optimiser's plan where it has one
 * for a device, else the forecast; + is surplus, − is need), offers the chosen share of a
 * surplus at the minimum sell price or bids for the chosen share of a need at the maximum buy
 * price. A limit outside the community's price bounds is brought inside them where that keeps
 * within the member's limit (an offer at the floor instead of below it: the seller gets at least
 * as much; a bid at the ceiling plus the fee instead of above it: the buyer pays no more);
 * otherwise the agent stays out of that side.
 */
export interface AgentLimits {
  readonly memberId: string;
  /** Least price per kWh to sell at; no selling without it. */
  readonly minSellPrice?: MicroPrice | undefined;
  /** Most price per kWh to pay in all (grid fee included); no buying without it. */
  readonly maxBuyPrice?: MicroPrice | undefined;
  /** Share of the expected surplus to offer, in millionths (1,000,000 = all of it). */
  readonly sellShare: number;
  /** Share of the expected need to bid for, in millionths. */
  readonly buyShare: number;
  /** The devices whose energy the agent trades. */
  readonly devices: readonly string[];
}

/** Expected net energy per device in one slot: + surplus (production, discharge), − need. */
export interface SlotOutlook {
  readonly slotStartMs: number;
  readonly forecastWh: Readonly<Record<string, Wh>>;
  /** The optimiser's plan for the slot, per device; wins over the forecast where present. */
  readonly plannedWh?: Readonly<Record<string, Wh>> | undefined;
}

export interface AgentContext {
  readonly pricing: CommunityPricing;
  readonly gate: GateRule;
  readonly nowMs: number;
  /** Orders smaller than this are not worth posting (default 1 Wh). */
  readonly minOrderWh?: number | undefined;
}

export const SHARE_UNIT = 1_000_000;

/** "0.8" → 800000 millionths; undefined outside 0…1 or with more than 6 places. */
export function parseShare(text: string): number | undefined {
  const decimal = parseDecimal(text, { integerDigits: 1, fractionDigits: 6, signed: false });
  const units = decimal ? Number(toFixedUnits(decimal, 6)) : undefined;
  return units !== undefined && units <= SHARE_UNIT ? units : undefined;
}

/** The id an agent's order of a slot and side has: posting again for the slot replaces it. */
export const agentOrderId = (memberId: string, slotStartMs: number, side: Side): string =>
  `agent:${memberId}:${formatUtcInstant(slotStartMs)}:${side}`;

function sellPrice(limits: AgentLimits, pricing: CommunityPricing): MicroPrice | undefined {
  const limit = limits.minSellPrice;
  if (limit === undefined || (pricing.ceiling !== undefined && limit > pricing.ceiling)) return undefined;
  return pricing.floor !== undefined && limit < pricing.floor ? pricing.floor : limit;
}

function buyPrice(limits: AgentLimits, pricing: CommunityPricing): MicroPrice | undefined {
  const limit = limits.maxBuyPrice;
  if (limit === undefined) return undefined;
  const forEnergy = limit - pricing.gridFee;
  if (forEnergy < (pricing.floor ?? 0n)) return undefined;
  return pricing.ceiling !== undefined && forEnergy > pricing.ceiling ? pricing.ceiling + pricing.gridFee : limit;
}

/** The chosen share of `wh`, rounded down to whole Wh (an agent never trades more than the member allowed). */
const shareOf = (wh: number, share: number): number => Math.floor((wh * share) / SHARE_UNIT);

/** The orders an agent posts for the slots whose gate is still open, one per slot at most. */
export function agentOrders(limits: AgentLimits, outlook: readonly SlotOutlook[], context: AgentContext): MarketOrder[] {
  if (!Number.isSafeInteger(limits.sellShare) || limits.sellShare < 0 || limits.sellShare > SHARE_UNIT
    || !Number.isSafeInteger(limits.buyShare) || limits.buyShare < 0 || limits.buyShare > SHARE_UNIT) {
    throw new RangeError('agent shares must be whole millionths between 0 and 1,000,000');
  }
  const minOrderWh = Math.max(1, context.minOrderWh ?? 1);
  const sell = sellPrice(limits, context.pricing);
  const buy = buyPrice(limits, context.pricing);
  const orders: MarketOrder[] = [];
  for (const slot of outlook) {
    if (!gateDecision(slot.slotStartMs, context.nowMs, context.gate).open) continue;
    let netWh = 0;
    for (const device of limits.devices) {
      const wh = slot.plannedWh?.[device] ?? slot.forecastWh[device] ?? 0;
      if (!Number.isSafeInteger(wh)) throw new RangeError(`device ${device} at ${formatUtcInstant(slot.slotStartMs)}: ${wh} is not whole Wh`);
      netWh += wh;
    }
    const side: Side = netWh > 0 ? 'sell' : 'buy';
    const price = side === 'sell' ? sell : buy;
    const energyWh = shareOf(Math.min(Math.abs(netWh), MAX_ORDER_WH), side === 'sell' ? limits.sellShare : limits.buyShare);
    if (price === undefined || energyWh < minOrderWh) continue;
    orders.push({
      id: agentOrderId(limits.memberId, slot.slotStartMs, side),
      memberId: limits.memberId, side, energyWh, price,
      submittedAtMs: context.nowMs, slotStartMs: slot.slotStartMs, origin: 'agent',
    });
  }
  return orders;
}
