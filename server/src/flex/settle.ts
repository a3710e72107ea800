import { randomUUID } from 'node:crypto';
import type { Queryable } from '../platform/store/db.js';
import type { Publish } from '../platform/events/index.js';
import type { Wh } from '../kernel/energy.js';
import { minorDigits } from '../kernel/money.js';
import { MINUTE_MS, QUARTER_HOUR_MS } from '../kernel/time.js';
import { pointIntervals } from '../intervals/index.js';
import { meteringPointsOfCommunity } from '../registry/index.js';
import { ispAt, periodGrid, perIsp } from './domain/isp.js';
import { readPayload, type ResponseIds, type SchemaValidator } from './domain/uftp/inbound.js';
import type { DPrognosis, FlexOrder, FlexOrderSettlement, FlexSettlement, FlexSettlementResponse } from './domain/uftp/messages.js';
import { agreedPrognosis, answerFlexSettlement, settleOrder, type OrderSettlement, type ReviewTolerances, type SettlementTerms } from './domain/settlement.js';
import { contributionWh, shareRemuneration, type MemberIspEnergy } from './domain/rewards.js';
import {
  acceptedMessages, contractsOfCommunity, insertOrderSettlement, insertRewards, memberBaselines, participatingMembers, setMessageState,
  type StoredContract, type StoredIdentity, type StoredMessage, type StoredParticipant, type StoredReward,
} from './store.js';

/**
 * The settle phase: a DSO's FlexSettlement is checked order by order against figures Gridshare
 * computes itself — the order as accepted, the baseline of the D-Prognosis the DSO accepted, the
 * community's metered quarter hours — answered with a FlexSettlementResponse (accepted or disputed
 * with the reason, per order), stored, and each accepted order's net settlement shared among the
 * members whose devices take part, by measured contribution (domain/rewards.ts).
 */

/** Paid pro rata for the flex delivered (the specification's settlement example); the contract carries the penalty rate. */
const REMUNERATION: SettlementTerms['remuneration'] = 'delivered';
/** How far the DSO's ActualPower may be from our metering (W): meters and their rounding differ a little. */
export const SETTLEMENT_TOLERANCES: ReviewTolerances = { actualPowerW: 100 };
const QUARTER_HOUR_MINUTES = QUARTER_HOUR_MS / MINUTE_MS;

export interface SettlementInput {
  readonly identity: StoredIdentity;
  readonly sender: StoredParticipant;
  readonly settlement: FlexSettlement;
  /** The stored FlexSettlement (flex_messages.id). */
  readonly settlementId: string;
  /** Set when the FlexSettlement was rejected as a whole (then every order is disputed and nothing is recorded). */
  readonly rejectionReason: string | null;
  readonly ids: ResponseIds;
  readonly schemas: SchemaValidator;
}

interface Verified {
  readonly order: StoredMessage;
  readonly orderMessage: FlexOrder;
  readonly contract: StoredContract;
  readonly ours: OrderSettlement;
  /** Each member's metered energy per ordered ISP. */
  readonly memberActualWh: ReadonlyMap<string, ReadonlyMap<number, Wh>>;
}

/** The orders accepted from a DSO that no FlexSettlement settled yet (what its next FlexSettlement must list). */
export async function unsettledOrders(tx: Queryable, communityId: string, dsoDomain: string, schemas: SchemaValidator): Promise<Array<{ orderReference: string; period: string }>> {
  return (await acceptedOrders(tx, communityId, dsoDomain, schemas)).map(({ order }) => ({ orderReference: order.orderReference, period: order.period }));
}

async function acceptedOrders(tx: Queryable, communityId: string, dsoDomain: string, schemas: SchemaValidator) {
  return (await acceptedMessages(tx, communityId, 'FlexOrder', 'in', dsoDomain)).map((stored) => ({ stored, order: readPayload(stored.payloadXml, schemas) as FlexOrder }));
}

/** The D-Prognoses of ours a DSO accepted: the baselines its orders are settled against. */
export async function acceptedPrognoses(tx: Queryable, communityId: string, dsoDomain: string, schemas: SchemaValidator): Promise<DPrognosis[]> {
  return (await acceptedMessages(tx, communityId, 'D-Prognosis', 'out', dsoDomain)).map((stored) => readPayload(stored.payloadXml, schemas) as DPrognosis);
}

/** The contract with the DSO (active or ended) covering the order's congestion point on its Period; with `direct`, one that allows direct orders. */
export function contractOfOrder(contracts: readonly StoredContract[], participantId: string, order: Pick<FlexOrder, 'congestionPoint' | 'period'>, direct = false): StoredContract | undefined {
  return contracts.find((c) => c.participantId === participantId && c.congestionPoints.includes(order.congestionPoint) && c.validFrom <= order.period && order.period <= c.validTo
    && (!direct || c.directOrders));
}

/**
 * What a direct FlexOrder (no FlexOffer) is judged with: whether an active contract with its sender
 * covering the congestion point and Period allows direct orders, and the D-Prognoses the sender accepted.
 */
export async function directOrderContext(tx: Queryable, communityId: string, sender: StoredParticipant, order: FlexOrder, schemas: SchemaValidator) {
  const contracts = await contractsOfCommunity(tx, communityId, ['active']);
  return { directOrdersAgreed: contractOfOrder(contracts, sender.id, order, true) !== undefined, acceptedPrognoses: await acceptedPrognoses(tx, communityId, sender.domain, schemas) };
}

/** Answers a FlexSettlement in the receiving transaction; records the settlements and rewards of an accepted one. */
export async function answerSettlement(tx: Queryable, publish: Publish, input: SettlementInput): Promise<FlexSettlementResponse> {
  const { settlement, rejectionReason, ids } = input;
  if (rejectionReason !== null) {
    // Every order is disputed without being looked at: the terms are not consulted.
    return answerFlexSettlement(settlement, new Map(), { penaltyPerKwh: 0n, remuneration: REMUNERATION }, SETTLEMENT_TOLERANCES, ids, rejectionReason);
  }
  const { identity, sender, schemas } = input;
  const communityId = identity.communityId;
  const orders = await acceptedOrders(tx, communityId, sender.domain, schemas);
  const prognoses = await acceptedPrognoses(tx, communityId, sender.domain, schemas);
  const contracts = await contractsOfCommunity(tx, communityId, ['active', 'ended']);
  const metering = new MeteringOfPeriods(tx, communityId);

  const verified = new Map<string, Verified>();
  const unverifiable = new Map<string, string>();
  for (const item of settlement.flexOrderSettlements) {
    const reference = item.orderReference ?? '';
    const found = orders.find((o) => o.order.orderReference === reference && o.order.period === item.period && o.order.congestionPoint === item.congestionPoint);
    if (!found) continue; // answerFlexSettlement disputes an order it does not know
    // A direct order is under a contract that allows direct orders.
    const contract = contractOfOrder(contracts, sender.id, item, found.order.flexOfferMessageId === undefined);
    const outcome = await verify(found.order, item, { prognoses, contract, metering });
    if (typeof outcome === 'string') unverifiable.set(reference, outcome);
    else verified.set(reference, { order: found.stored, orderMessage: found.order, ...outcome });
  }

  const answered = answerFlexSettlement(
    settlement, new Map([...verified].map(([reference, v]) => [reference, v.ours])),
    (reference) => ({ penaltyPerKwh: verified.get(reference)!.contract.penaltyRate, remuneration: REMUNERATION }), SETTLEMENT_TOLERANCES, ids,
  );
  const statuses = answered.flexOrderSettlementStatuses.map((status) => {
    const reason = unverifiable.get(status.orderReference ?? '');
    return reason === undefined ? status : { orderReference: status.orderReference, disposition: 'Disputed' as const, disputeReason: reason };
  });

  const rewards: Array<StoredReward & { readonly orderReference: string }> = [];
  for (const [index, item] of settlement.flexOrderSettlements.entries()) {
    const status = statuses[index]!;
    const reference = item.orderReference ?? '';
    const mine = verified.get(reference);
    const orderSettlementId = randomUUID();
    await insertOrderSettlement(tx, {
      id: orderSettlementId, communityId, settlementId: input.settlementId, orderReference: reference, period: item.period, congestionPoint: item.congestionPoint,
      currency: settlement.currency, dso: { price: item.price, penalty: item.penalty, net: item.netSettlement },
      ours: mine ? { price: mine.ours.price, penalty: mine.ours.penalty, net: mine.ours.netSettlement } : null,
      disposition: status.disposition, disputeReason: status.disputeReason ?? null, figures: mine?.ours.isps ?? [], settledAtMs: ids.nowMs,
    });
    if (status.disposition !== 'Accepted' || !mine) continue;
    const shared = await shareOrder(tx, communityId, mine, item.netSettlement, settlement.currency);
    for (const m of shared) {
      rewards.push({ orderSettlementId, communityId, memberId: m.memberId, period: item.period, currency: settlement.currency, contributionWh: m.contributionWh, amountMinor: m.amount, recordedAtMs: ids.nowMs, orderReference: reference });
    }
    await setMessageState(tx, mine.order.id, 'settled', ['accepted']);
  }
  await insertRewards(tx, rewards);
  if (rewards.length > 0) {
    await publish('flex.rewards.recorded', {
      communityId, settlementId: input.settlementId, currency: settlement.currency, atMs: ids.nowMs,
      rewards: rewards.map((r) => ({ memberId: r.memberId, orderReference: r.orderReference, period: r.period, contributionWh: r.contributionWh, amountMinor: r.amountMinor.toString() })),
    });
  }
  return { ...answered, flexOrderSettlementStatuses: statuses };
}

/** Our own figures for an order, or why they cannot be computed (the order is then disputed with that reason). */
async function verify(
  order: FlexOrder, item: FlexOrderSettlement,
  known: { prognoses: readonly DPrognosis[]; contract: StoredContract | undefined; metering: MeteringOfPeriods },
): Promise<Omit<Verified, 'order' | 'orderMessage'> | string> {
  const { contract } = known;
  if (!contract) return `no contract with ${item.congestionPoint} covers ${item.period}`;
  const prognosis = agreedPrognosis(known.prognoses, order);
  if (!prognosis) {
    return order.dPrognosisMessageId === undefined
      ? `no accepted D-Prognosis for ${order.congestionPoint} on ${order.period}: no agreed baseline`
      : `the order's D-Prognosis ${order.dPrognosisMessageId} was not accepted: no agreed baseline`;
  }
  const orderedIsps = [...perIsp(order.isps, (isp) => isp.power).keys()];
  const metered = await known.metering.of(order.period, order.timeZone, order.ispDurationMinutes);
  if (typeof metered === 'string') return metered;
  const incomplete = orderedIsps.filter((isp) => !metered.portfolio.has(isp));
  if (incomplete.length > 0) return `metering incomplete for ISP ${incomplete.join(', ')}: the delivered flex cannot be checked`;
  const ours = settleOrder({
    order, baselinePower: perIsp(prognosis.isps, (isp) => isp.power), actualEnergyWh: metered.portfolio,
    terms: { penaltyPerKwh: contract.penaltyRate, remuneration: REMUNERATION },
  });
  return { contract, ours, memberActualWh: metered.members };
}

/** The order's net settlement shared among the members with devices in its contract, by their contribution against their own baselines. */
async function shareOrder(tx: Queryable, communityId: string, v: Verified, netSettlement: bigint, currency: string) {
  const participants = await participatingMembers(tx, v.contract.id);
  const baselines = await memberBaselines(tx, communityId, v.orderMessage.congestionPoint, v.orderMessage.period);
  const ordered = perIsp(v.orderMessage.isps, (isp) => isp.power);
  const contributions = participants.map((memberId) => {
    const actual = v.memberActualWh.get(memberId);
    // Only ISPs with both a recorded baseline and metering count: no baseline, no measurable contribution.
    const energy: MemberIspEnergy[] = baselines
      .filter((b) => b.memberId === memberId && ordered.has(b.isp) && actual?.has(b.isp))
      .map((b) => ({ isp: b.isp, baselineWh: b.baselineWh, actualWh: actual!.get(b.isp)! }));
    return { memberId, contributionWh: contributionWh(ordered, energy) };
  });
  return shareRemuneration(netSettlement, contributions, { communityFeeBasisPoints: v.contract.communityFeeBasisPoints, minorDigits: minorDigits(currency) }).members;
}

interface PeriodMetering {
  /** The community's metered net energy (import − export, Wh) per ISP, for ISPs every metering point measured in full. */
  readonly portfolio: ReadonlyMap<number, Wh>;
  readonly members: ReadonlyMap<string, ReadonlyMap<number, Wh>>;
}

/**
 * The community's quarter hours (intervals, through its public index) summed per ISP of a Period:
 * the portfolio behind the congestion point is the community's metering points until the plan
 * phase maps a congestion point's connections. Loaded once per Period and ISP length.
 */
export class MeteringOfPeriods {
  private readonly loaded = new Map<string, Promise<PeriodMetering | string>>();

  constructor(private readonly tx: Queryable, private readonly communityId: string) {}

  of(period: string, timeZone: string, ispMinutes: number): Promise<PeriodMetering | string> {
    const key = `${period} ${timeZone} ${ispMinutes}`;
    let metering = this.loaded.get(key);
    if (!metering) {
      metering = this.load(period, timeZone, ispMinutes);
      this.loaded.set(key, metering);
    }
    return metering;
  }

  private async load(period: string, timeZone: string, ispMinutes: number): Promise<PeriodMetering | string> {
    const grid = periodGrid(period, timeZone, ispMinutes);
    if (!grid || ispMinutes % QUARTER_HOUR_MINUTES !== 0) return `ISPs of ${ispMinutes} minutes on ${period} cannot be measured from quarter hours`;
    const quartersPerIsp = ispMinutes / QUARTER_HOUR_MINUTES;
    const points = await meteringPointsOfCommunity(this.tx, this.communityId);
    const members = new Map<string, Map<number, Wh>>();
    const complete = new Map<number, number>();
    const portfolio = new Map<number, Wh>();
    for (const point of points) {
      const quarters = new Map<number, { wh: Wh; count: number }>();
      for (const interval of await pointIntervals(this.tx, point.id, grid.startMs, grid.endMs)) {
        if (interval.quality === 'missing' || interval.importWh === null || interval.exportWh === null) continue;
        const isp = ispAt(grid, interval.startMs);
        if (isp === undefined) continue;
        const sum = quarters.get(isp) ?? { wh: 0, count: 0 };
        quarters.set(isp, { wh: sum.wh + interval.importWh - interval.exportWh, count: sum.count + 1 });
      }
      const member = members.get(point.memberId) ?? new Map<number, Wh>();
      members.set(point.memberId, member);
      for (const [isp, { wh, count }] of quarters) {
        if (count !== quartersPerIsp) continue;
        member.set(isp, (member.get(isp) ?? 0) + wh);
        portfolio.set(isp, (portfolio.get(isp) ?? 0) + wh);
        complete.set(isp, (complete.get(isp) ?? 0) + 1);
      }
    }
    // An ISP counts only when every metering point measured all of it.
    for (const isp of [...portfolio.keys()]) if (complete.get(isp) !== points.length) portfolio.delete(isp);
    return { portfolio, members };
  }
}
