import { formatNano, type MicroPrice, type Nano } from '../../kernel/money.js';
import type { Wh } from '../../kernel/energy.js';
import { perIsp, toRanges } from './isp.js';
import { responseHeader, type ResponseIds } from './uftp/inbound.js';
import type { DPrognosis, FlexOrder, FlexOrderSettlement, FlexOrderSettlementIsp, FlexOrderSettlementStatus, FlexSettlement, FlexSettlementResponse } from './uftp/messages.js';
import { NANO_PER_AMOUNT_UNIT } from './uftp/values.js';

/**
 * Settlement of flexibility orders as the specification defines it (settle phase, "Settlement
 * calculations" and its example), per ISP, powers in W (positive = consumption):
 *
 *   adjusted baseline   = BaselinePower + OrderedFlexPower
 *   realised flex       = ActualPower − BaselinePower
 *   DeliveredFlexPower  = the realised flex in the ordered direction, at most the ordered flex
 *                         (over-delivery, a "passive contribution", is not paid; a move the wrong
 *                         way delivers 0); it carries the sign of the order
 *   PowerDeficiency     = how far ActualPower missed the adjusted baseline in the ordered
 *                         direction (≥ 0; 0 in ISPs without ordered flex: the penalty is single-sided)
 *
 * per order, pay-as-bid (the order's own price, already scaled by its ActivationFactor):
 *   Price       = 'ordered':   the order's price, as FlexOrderSettlement.Price describes it;
 *                 'delivered': the order's price × Σ|delivered| / Σ|ordered| (energy-weighted),
 *                 the "flex paid" of the specification's settlement example
 *   Penalty     = Σ PowerDeficiency × ISP length × the contract's penalty rate per kWh
 *   NetSettlement = Price − Penalty (negative when penalties exceed the price)
 * Amounts are divided once and rounded once (half away from zero) to the 4 decimals UFTP carries.
 */

/**
 * The D-Prognosis an order is measured against: the one it names (D-PrognosisMessageID), else the
 * latest revision for its congestion point and Period — among those the DSO accepted. Undefined: no
 * agreed baseline (a direct order is then rejected, a settlement disputed).
 */
export function agreedPrognosis(accepted: readonly DPrognosis[], order: Pick<FlexOrder, 'period' | 'congestionPoint' | 'dPrognosisMessageId'>): DPrognosis | undefined {
  return accepted
    .filter((p) => p.period === order.period && p.congestionPoint === order.congestionPoint && (order.dPrognosisMessageId === undefined || p.messageId === order.dPrognosisMessageId))
    .reduce<DPrognosis | undefined>((latest, p) => (latest === undefined || p.revision > latest.revision ? p : latest), undefined);
}

export interface IspSettlementFigures {
  readonly deliveredFlexPower: number;
  readonly powerDeficiency: number;
}

export function ispSettlement(baselinePower: number, orderedFlexPower: number, actualPower: number): IspSettlementFigures {
  if (orderedFlexPower === 0) return { deliveredFlexPower: 0, powerDeficiency: 0 };
  const direction = Math.sign(orderedFlexPower);
  const realisedInDirection = direction * (actualPower - baselinePower);
  const delivered = Math.min(Math.abs(orderedFlexPower), Math.max(0, realisedInDirection));
  const deficiency = Math.max(0, direction * (baselinePower + orderedFlexPower - actualPower));
  return { deliveredFlexPower: direction * delivered || 0, powerDeficiency: deficiency };
}

/** Average power in an ISP from its metered energy: Wh × 60 / minutes, to the nearest W (half away from zero). */
export function averagePower(energyWh: Wh, ispMinutes: number): number {
  const numerator = energyWh * 60;
  const quotient = Math.trunc(numerator / ispMinutes);
  const remainder = numerator - quotient * ispMinutes;
  return quotient + (2 * Math.abs(remainder) >= ispMinutes ? Math.sign(numerator) : 0);
}

export interface SettlementTerms {
  /** Penalty per kWh of power deficiency (the contract's penalty rate), micro-units of the currency. */
  readonly penaltyPerKwh: MicroPrice;
  /** Whether the price is paid for the order as placed or pro rata for the flex delivered (see above). */
  readonly remuneration: 'ordered' | 'delivered';
}

export interface OrderSettlementInput {
  readonly order: FlexOrder;
  /** BaselinePower per ISP number (the accepted D-Prognosis the order is based on, or another agreed baseline). */
  readonly baselinePower: ReadonlyMap<number, number>;
  /** The portfolio's metered energy per ISP number at the congestion point. */
  readonly actualEnergyWh: ReadonlyMap<number, Wh>;
  readonly terms: SettlementTerms;
}

export interface OrderSettlement {
  readonly orderReference: string;
  readonly period: string;
  readonly congestionPoint: string;
  readonly ispMinutes: number;
  /** The order's price as placed. */
  readonly orderPrice: Nano;
  /** What is paid for it under the terms (see SettlementTerms.remuneration). */
  readonly price: Nano;
  readonly penalty: Nano;
  readonly netSettlement: Nano;
  /** Per ISP number, ascending. */
  readonly isps: ReadonlyArray<{ readonly isp: number; readonly baselinePower: number; readonly orderedFlexPower: number; readonly actualPower: number } & IspSettlementFigures>;
}

const MINUTES_PER_HOUR = 60n;

/** Gridshare's own figures for one accepted order; missing baseline or metering is an error, never a guess. */
export function settleOrder(input: OrderSettlementInput): OrderSettlement {
  const { order, terms } = input;
  const ordered = perIsp(order.isps, (isp) => isp.power);
  let deficiencyWattMinutes = 0n;
  let orderedWatts = 0n;
  let deliveredWatts = 0n;
  const isps = [...ordered.keys()].sort((a, b) => a - b).map((isp) => {
    const baselinePower = input.baselinePower.get(isp);
    const energy = input.actualEnergyWh.get(isp);
    if (baselinePower === undefined) throw new Error(`no baseline for ISP ${isp} of order ${order.orderReference}`);
    if (energy === undefined) throw new Error(`no metering for ISP ${isp} of order ${order.orderReference}`);
    const orderedFlexPower = ordered.get(isp)!;
    const actualPower = averagePower(energy, order.ispDurationMinutes);
    const figures = ispSettlement(baselinePower, orderedFlexPower, actualPower);
    deficiencyWattMinutes += BigInt(figures.powerDeficiency) * BigInt(order.ispDurationMinutes);
    orderedWatts += BigInt(Math.abs(orderedFlexPower));
    deliveredWatts += BigInt(Math.abs(figures.deliveredFlexPower));
    return { isp, baselinePower, orderedFlexPower, actualPower, ...figures };
  });
  const penalty = penaltyFor(deficiencyWattMinutes, terms);
  const price = priceFor(order.price, deliveredWatts, orderedWatts, terms);
  return {
    orderReference: order.orderReference,
    period: order.period,
    congestionPoint: order.congestionPoint,
    ispMinutes: order.ispDurationMinutes,
    orderPrice: order.price,
    price,
    penalty,
    netSettlement: price - penalty,
    isps,
  };
}

/** Every ISP of an order has the same length, so the delivered share of the energy is that of the powers. */
function priceFor(orderPrice: Nano, deliveredWatts: bigint, orderedWatts: bigint, terms: SettlementTerms): Nano {
  if (terms.remuneration === 'ordered' || orderedWatts === 0n) return orderPrice;
  return divideRounded(orderPrice * deliveredWatts, orderedWatts * NANO_PER_AMOUNT_UNIT) * NANO_PER_AMOUNT_UNIT;
}

/** Deficiency in W·min → penalty: W·min / 60 = Wh, Wh × micro-price = nano; divided and rounded once, to UFTP's 4 decimals. */
function penaltyFor(deficiencyWattMinutes: bigint, terms: SettlementTerms): Nano {
  return divideRounded(deficiencyWattMinutes * terms.penaltyPerKwh, MINUTES_PER_HOUR * NANO_PER_AMOUNT_UNIT) * NANO_PER_AMOUNT_UNIT;
}

function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const rounded = (magnitude + denominator / 2n) / denominator;
  return negative ? -rounded : rounded;
}

/** Our figures as a FlexOrderSettlement element (what the DSO simulator sends), equal ISPs merged. */
export function toFlexOrderSettlement(ours: OrderSettlement, order: FlexOrder): FlexOrderSettlement {
  const byIsp = new Map(ours.isps.map((i) => [i.isp, i]));
  const ranges = toRanges(byIsp, (a, b) => a.baselinePower === b.baselinePower && a.orderedFlexPower === b.orderedFlexPower
    && a.actualPower === b.actualPower && a.deliveredFlexPower === b.deliveredFlexPower && a.powerDeficiency === b.powerDeficiency);
  return {
    orderReference: ours.orderReference,
    period: ours.period,
    ...(order.contractId === undefined ? {} : { contractId: order.contractId }),
    ...(order.dPrognosisMessageId === undefined ? {} : { dPrognosisMessageId: order.dPrognosisMessageId }),
    ...(order.baselineReference === undefined ? {} : { baselineReference: order.baselineReference }),
    congestionPoint: ours.congestionPoint,
    price: ours.price,
    penalty: ours.penalty,
    netSettlement: ours.netSettlement,
    isps: ranges.map(({ start, duration, value }) => ({
      start, duration,
      baselinePower: value.baselinePower,
      orderedFlexPower: value.orderedFlexPower,
      actualPower: value.actualPower,
      deliveredFlexPower: value.deliveredFlexPower,
      powerDeficiency: value.powerDeficiency,
    })),
  };
}

export interface ReviewTolerances {
  /** How far the DSO's ActualPower may be from our metering before we dispute (meters differ a little). */
  readonly actualPowerW: number;
}

/**
 * The AGR's plausibility check of one FlexOrderSettlement against its own figures: accepted, or
 * disputed with every reason found. What must match exactly: the ISPs and ordered powers (they
 * are the order), the baseline (it is agreed), the DSO's own arithmetic (delivered flex and
 * deficiency from its baseline/ordered/actual, net = price − penalty), its price and penalty
 * recomputed from its own figures with the contract's terms; ActualPower within the tolerance
 * of our metering (meters differ a little; the tolerance is the contract's plausibility limit).
 */
export function reviewOrderSettlement(item: FlexOrderSettlement, ours: OrderSettlement, terms: SettlementTerms, tolerances: ReviewTolerances): FlexOrderSettlementStatus {
  const reasons: string[] = [];
  const theirs = perIsp(item.isps, (isp): FlexOrderSettlementIsp => isp);
  const mine = new Map(ours.isps.map((i) => [i.isp, i]));
  const missing = [...mine.keys()].filter((isp) => !theirs.has(isp));
  const extra = [...theirs.keys()].filter((isp) => !mine.has(isp));
  if (missing.length > 0) reasons.push(`ordered ISPs missing: ${missing.join(', ')}`);
  if (extra.length > 0) reasons.push(`ISPs that were not ordered: ${extra.join(', ')}`);

  const firstWrong = (label: string, wrong: (isp: number, t: FlexOrderSettlementIsp) => string | undefined) => {
    for (const [isp, t] of theirs) {
      const problem = wrong(isp, t);
      if (problem) {
        reasons.push(`${label} ISP ${isp}: ${problem}`);
        return;
      }
    }
  };
  firstWrong('ordered flex', (isp, t) => (mine.has(isp) && t.orderedFlexPower !== mine.get(isp)!.orderedFlexPower ? `${t.orderedFlexPower} W, the order says ${mine.get(isp)!.orderedFlexPower} W` : undefined));
  firstWrong('baseline', (isp, t) => (mine.has(isp) && t.baselinePower !== mine.get(isp)!.baselinePower ? `${t.baselinePower} W, the agreed baseline is ${mine.get(isp)!.baselinePower} W` : undefined));
  firstWrong('actual power', (isp, t) => (mine.has(isp) && Math.abs(t.actualPower - mine.get(isp)!.actualPower) > tolerances.actualPowerW ? `${t.actualPower} W, metered ${mine.get(isp)!.actualPower} W` : undefined));
  firstWrong('delivered flex', (_isp, t) => {
    const expected = ispSettlement(t.baselinePower, t.orderedFlexPower, t.actualPower);
    if (t.deliveredFlexPower !== expected.deliveredFlexPower) return `${t.deliveredFlexPower} W, ${expected.deliveredFlexPower} W follows from its own figures`;
    if (t.powerDeficiency !== expected.powerDeficiency) return `deficiency ${t.powerDeficiency} W, ${expected.powerDeficiency} W follows from its own figures`;
    return undefined;
  });
  let wattMinutes = 0n;
  let orderedWatts = 0n;
  let deliveredWatts = 0n;
  for (const t of item.isps) {
    wattMinutes += BigInt(t.powerDeficiency) * BigInt(t.duration) * BigInt(ours.ispMinutes);
    orderedWatts += BigInt(Math.abs(t.orderedFlexPower)) * BigInt(t.duration);
    deliveredWatts += BigInt(Math.abs(t.deliveredFlexPower)) * BigInt(t.duration);
  }
  const expectedPrice = priceFor(ours.orderPrice, deliveredWatts, orderedWatts, terms);
  if (item.price !== expectedPrice) {
    reasons.push(`price ${formatNano(item.price)}, ${terms.remuneration === 'ordered' ? 'the order’s price is' : 'its delivered flex is worth'} ${formatNano(expectedPrice)}`);
  }
  const penaltyFromTheirDeficiency = penaltyFor(wattMinutes, terms);
  if (item.penalty !== penaltyFromTheirDeficiency) reasons.push(`penalty ${formatNano(item.penalty)}, the contract's rate gives ${formatNano(penaltyFromTheirDeficiency)}`);
  if (item.netSettlement !== item.price - item.penalty) reasons.push(`net settlement ${formatNano(item.netSettlement)} is not price minus penalty`);

  return reasons.length === 0
    ? { orderReference: item.orderReference ?? ours.orderReference, disposition: 'Accepted' }
    : { orderReference: item.orderReference ?? ours.orderReference, disposition: 'Disputed', disputeReason: reasons.join('; ') };
}


/**
 * The FlexSettlementResponse: every FlexOrderSettlement accepted or disputed after
 * `reviewOrderSettlement` (an order we do not know is disputed). A settlement rejected as a
 * whole (see checkFlexSettlement) still lists every item, disputed, since the schema requires
 * at least one status and the DSO must treat all of them as disputed anyway.
 */
export function answerFlexSettlement(
  settlement: FlexSettlement,
  ours: ReadonlyMap<string, OrderSettlement>,
  /** The terms, or the terms of each order (its contract's) by OrderReference. */
  terms: SettlementTerms | ((orderReference: string) => SettlementTerms),
  tolerances: ReviewTolerances,
  ids: ResponseIds,
  rejectionReason?: string,
): FlexSettlementResponse {
  const statuses = settlement.flexOrderSettlements.map((item): FlexOrderSettlementStatus => {
    const reference = item.orderReference ?? '';
    if (rejectionReason !== undefined) return { orderReference: reference, disposition: 'Disputed', disputeReason: 'the FlexSettlement was rejected' };
    const mine = ours.get(reference);
    if (!mine) return { orderReference: reference, disposition: 'Disputed', disputeReason: `no accepted order ${JSON.stringify(reference)} is known` };
    return reviewOrderSettlement(item, mine, typeof terms === 'function' ? terms(reference) : terms, tolerances);
  });
  return {
    type: 'FlexSettlementResponse',
    ...responseHeader(settlement, ids, rejectionReason),
    flexSettlementMessageId: settlement.messageId,
    flexOrderSettlementStatuses: statuses,
  };
}
