import { BadRequestError } from '../../kernel/errors.js';
import type { Quality, Wh } from '../../kernel/energy.js';
import type { MicroPrice, Nano } from '../../kernel/money.js';
import type { Trade } from './clearing/types.js';

/**
 * Settlement of one delivered slot: each trading member's metered net energy against their net
 * traded position. Trades are paid at their price (the buyer also pays the grid fee); what the
 * meter shows beyond the position is balanced with the community at the balancing prices:
 * delivered more than sold (or used less than bought) → the community buys the surplus at
 * `surplusPrice`; delivered less than sold (or used more than bought) → the community supplies
 * the shortfall at `shortfallPrice`.
 *
 * Every line is `energy × price` exactly, signed for the member (+ receives, − pays), so a
 * statement's lines add up to the member's total without rounding.
 */
export interface MeteredNet {
  readonly memberId: string;
  /** Export − import in the slot, in Wh: positive when the member delivered to the community. */
  readonly netWh: Wh;
  readonly quality: Quality;
}

export interface BalancingPrices {
  /** Per kWh the community pays for energy delivered beyond the traded position. */
  readonly surplusPrice: MicroPrice;
  /** Per kWh the member pays for energy the community supplied beyond the traded position. */
  readonly shortfallPrice: MicroPrice;
}

export type SettlementLineKind = 'sale' | 'purchase' | 'grid-fee' | 'balancing-surplus' | 'balancing-shortfall';

const SIGN: Record<SettlementLineKind, 1n | -1n> = {
  sale: 1n, purchase: -1n, 'grid-fee': -1n, 'balancing-surplus': 1n, 'balancing-shortfall': -1n,
};

export interface SettlementLine {
  readonly memberId: string;
  readonly slotStartMs: number;
  readonly kind: SettlementLineKind;
  /** The trade of a sale, purchase or grid-fee line. */
  readonly buyOrderId?: string | undefined;
  readonly sellOrderId?: string | undefined;
  /** Wh; negative only in a correction that takes energy back. */
  readonly energyWh: Wh;
  readonly price: MicroPrice;
  /** `± energyWh × price` in nano-units, + when the member receives. */
  readonly amount: Nano;
}

/** A trade as settlement lines and postings name it by its orders: its slot and orders (a pair of orders trades at most once in a slot). */
export const tradeKey = (slotStartMs: number, buyOrderId: string, sellOrderId: string): string => `${slotStartMs}\n${buyOrderId}\n${sellOrderId}`;

export interface MemberPosition {
  readonly memberId: string;
  readonly meteredNetWh: Wh;
  /** Sold − bought in the slot. */
  readonly tradedNetWh: Wh;
  /** meteredNetWh − tradedNetWh: balanced with the community. */
  readonly imbalanceWh: Wh;
  readonly quality: Quality;
}

export interface SlotSettlement {
  readonly slotStartMs: number;
  readonly positions: readonly MemberPosition[];
  readonly lines: readonly SettlementLine[];
}

export interface SlotSettlementInput {
  readonly slotStartMs: number;
  /** The slot's trades (all of them: a settlement covers both sides of every trade). */
  readonly trades: readonly Trade[];
  /** Metered net per member; members without trades are left alone. */
  readonly metered: readonly MeteredNet[];
  readonly balancing: BalancingPrices;
}

function line(memberId: string, slotStartMs: number, kind: SettlementLineKind, energyWh: Wh, price: MicroPrice, trade?: Trade): SettlementLine {
  return {
    memberId, slotStartMs, kind,
    buyOrderId: trade?.buyOrderId, sellOrderId: trade?.sellOrderId,
    energyWh, price, amount: SIGN[kind] * BigInt(energyWh) * price,
  };
}

/**
 * Settles one slot. Refused when a trading member has no metered value or a missing one (the
 * slot is not final for them yet) or when the prices are negative; members are in the order of
 * their first trade, lines per member in trade order, then balancing.
 */
export function settleSlot(input: SlotSettlementInput): SlotSettlement {
  const { slotStartMs, trades, balancing } = input;
  if (balancing.surplusPrice < 0n || balancing.shortfallPrice < 0n) throw new BadRequestError('balancing prices must not be negative', 'balancing');
  const metered = new Map<string, MeteredNet>();
  for (const m of input.metered) {
    if (metered.has(m.memberId)) throw new BadRequestError(`member ${m.memberId} has two metered values for the slot`, 'metered');
    if (!Number.isSafeInteger(m.netWh)) throw new BadRequestError(`metered net of member ${m.memberId} is not whole Wh`, 'metered');
    metered.set(m.memberId, m);
  }
  const linesOf = new Map<string, SettlementLine[]>();
  const tradedNet = new Map<string, number>();
  const memberLines = (memberId: string): SettlementLine[] => {
    let list = linesOf.get(memberId);
    if (!list) {
      list = [];
      linesOf.set(memberId, list);
      tradedNet.set(memberId, 0);
    }
    return list;
  };
  for (const trade of trades) {
    memberLines(trade.sellerId).push(line(trade.sellerId, slotStartMs, 'sale', trade.energyWh, trade.price, trade));
    tradedNet.set(trade.sellerId, tradedNet.get(trade.sellerId)! + trade.energyWh);
    const buyer = memberLines(trade.buyerId);
    buyer.push(line(trade.buyerId, slotStartMs, 'purchase', trade.energyWh, trade.price, trade));
    if (trade.gridFee > 0n) buyer.push(line(trade.buyerId, slotStartMs, 'grid-fee', trade.energyWh, trade.gridFee, trade));
    tradedNet.set(trade.buyerId, tradedNet.get(trade.buyerId)! - trade.energyWh);
  }
  const positions: MemberPosition[] = [];
  const lines: SettlementLine[] = [];
  for (const [memberId, own] of linesOf) {
    const meter = metered.get(memberId);
    if (!meter || meter.quality === 'missing') throw new BadRequestError(`member ${memberId} traded in the slot but has no metered value yet`, 'metered');
    const traded = tradedNet.get(memberId)!;
    const imbalanceWh = meter.netWh - traded;
    positions.push({ memberId, meteredNetWh: meter.netWh, tradedNetWh: traded, imbalanceWh, quality: meter.quality });
    lines.push(...own);
    if (imbalanceWh > 0) lines.push(line(memberId, slotStartMs, 'balancing-surplus', imbalanceWh, balancing.surplusPrice));
    if (imbalanceWh < 0) lines.push(line(memberId, slotStartMs, 'balancing-shortfall', -imbalanceWh, balancing.shortfallPrice));
  }
  return { slotStartMs, positions, lines };
}

/** Lines that answer to the same thing: same member, slot, kind, trade and price. */
const lineKey = (l: SettlementLine): string =>
  JSON.stringify([l.memberId, l.slotStartMs, l.kind, l.buyOrderId ?? null, l.sellOrderId ?? null, l.price.toString()]);

/**
 * Lines netted per key (same member, slot, kind, trade and price), lines that net to nothing
 * dropped, in key order: two sets of lines mean the same to every member exactly when their
 * netted lines are equal.
 */
export function netLines(lines: Iterable<SettlementLine>): SettlementLine[] {
  const sums = new Map<string, SettlementLine>();
  for (const l of lines) {
    const key = lineKey(l);
    const sum = sums.get(key);
    sums.set(key, sum ? { ...sum, energyWh: sum.energyWh + l.energyWh, amount: sum.amount + l.amount } : l);
  }
  return [...sums.entries()]
    .filter(([, l]) => l.energyWh !== 0 || l.amount !== 0n)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, l]) => l);
}

/**
 * The correction that takes a settled slot to its settlement on corrected data: the lines to
 * add (a taken-back part has negative energy and the opposite amount), so that the original
 * lines plus the correction net to the corrected settlement. The original is never changed;
 * statements show the correction as its own lines.
 */
export function correctSettlement(original: SlotSettlement, corrected: SlotSettlement): SettlementLine[] {
  if (original.slotStartMs !== corrected.slotStartMs) throw new BadRequestError('a correction must be of the same slot', 'slotStartMs');
  const negated = original.lines.map((l) => ({ ...l, energyWh: 0 - l.energyWh, amount: -l.amount }));
  return netLines([...negated, ...corrected.lines]);
}

/**
 * Each member's position per slot as the given lines settle it (a run's lines with the runs
 * before it: the position after a correction): traded net = sold − bought, imbalance = surplus −
 * shortfall balanced, metered net = traded net + imbalance — what `settleSlot` started from, read
 * back from the lines alone. By slot, then in the order members first appear.
 */
export function positionsOfLines(lines: Iterable<Pick<SettlementLine, 'slotStartMs' | 'memberId' | 'kind' | 'energyWh'>>): { slotStartMs: number; memberId: string; meteredNetWh: Wh; tradedNetWh: Wh }[] {
  const TRADED: Partial<Record<SettlementLineKind, 1 | -1>> = { sale: 1, purchase: -1 };
  const BALANCED: Partial<Record<SettlementLineKind, 1 | -1>> = { 'balancing-surplus': 1, 'balancing-shortfall': -1 };
  const sums = new Map<string, { slotStartMs: number; memberId: string; traded: number; imbalance: number }>();
  for (const l of lines) {
    const key = `${l.slotStartMs}\n${l.memberId}`;
    let sum = sums.get(key);
    if (!sum) sums.set(key, (sum = { slotStartMs: l.slotStartMs, memberId: l.memberId, traded: 0, imbalance: 0 }));
    sum.traded += (TRADED[l.kind] ?? 0) * l.energyWh;
    sum.imbalance += (BALANCED[l.kind] ?? 0) * l.energyWh;
  }
  return [...sums.values()]
    .sort((a, b) => a.slotStartMs - b.slotStartMs)
    .map((s) => ({ slotStartMs: s.slotStartMs, memberId: s.memberId, meteredNetWh: s.traded + s.imbalance, tradedNetWh: s.traded }));
}
