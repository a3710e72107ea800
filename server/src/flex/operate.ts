import type { FlexOrderDelivery } from '@gridshare/contract/flex';
import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { NotFoundError } from '../kernel/errors.js';
import { requireCommunityManager } from '../registry/index.js';
import type { PlanTargets, PlanTargetSource } from '../optimise/index.js';
import { periodGrid } from './domain/isp.js';
import { stepsOfIsps } from './domain/portfolio.js';
import { agreedPrognosis, averagePower, ispSettlement } from './domain/settlement.js';
import { perIsp } from './domain/isp.js';
import { readPayload, type SchemaValidator } from './domain/uftp/inbound.js';
import type { FlexOrder } from './domain/uftp/messages.js';
import { acceptedMessages, contractsOfCommunity, messageByUftpId, participantsOfCommunity, type StoredParticipant } from './store.js';
import { acceptedPrognoses, contractOfOrder, MeteringOfPeriods } from './settle.js';
import { offerByMessageId } from './store/portfolio.js';
import { acceptedAllowances } from './store/activations.js';
import { countedByHandW } from './domain/activation.js';
import { meteringPointsAt } from './validate.js';

export interface OperationOptions {
  readonly db: Db;
  readonly schemas: () => SchemaValidator | undefined;
}

/** An accepted order as the plan must hold it: where, and the summed net import it asks per step. */
interface OrderTargets {
  readonly congestionPoint: string;
  readonly meteringPointIds: readonly string[];
  /** Per step of the horizon, W: the offer's baseline and the ordered power (its deviation) less what members accepted to move by hand. */
  readonly steps: ReadonlyMap<number, { readonly baselineW: number; readonly orderedW: number }>;
}

/**
 * The operate phase: every FlexOrder the community accepted and has not settled yet becomes a
 * bound of the community's plans in operation (optimise's exchange targets, the same soft bound the
 * validate phase re-planned with) — in each ordered ISP the congestion point's metering points must
 * import the offer's baseline plus the ordered power. The plan's `plan.decided` then carries the
 * commands that make the devices deliver it (control).
 */
export class FlexOperation {
  constructor(private readonly options: OperationOptions) {}

  /**
   * What optimise asks before each plan. UFTP orders at one congestion point add up; optimise takes
   * one group of metering points, so orders at a second congestion point in the same horizon wait
   * for the first's ISPs to pass (a community trades at one congestion point per feeder).
   */
  readonly planTargets: PlanTargetSource = async (communityId, horizon) => {
    const orders = await this.ordersInHorizon(communityId, horizon);
    const first = orders[0];
    if (!first) return undefined;
    // Orders at the same ISPs add their deviations to the baseline of the earliest one.
    const stepW = new Map<number, number>();
    for (const order of orders.filter((o) => o.congestionPoint === first.congestionPoint)) {
      for (const [step, { baselineW, orderedW }] of order.steps) stepW.set(step, (stepW.get(step) ?? baselineW) + orderedW);
    }
    const targets: PlanTargets['targets'] = [...stepW].sort(([a], [b]) => a - b).map(([step, watts]) => ({ step, minW: watts, maxW: watts }));
    return { meteringPointIds: first.meteringPointIds, targets };
  };

  /**
   * Delivery monitored per ISP: the offer's baseline, the ordered deviation split into what members
   * accepted to move by hand (`byHandPerIsp`) and what the plan binds the automated devices to, and,
   * for every ISP all metering points measured, the actual average power with the flex delivered and
   * the deficiency (the settlement's rules, against the offer's baseline — the settlement itself uses
   * the D-Prognosis). The hand-moved devices are behind the same meters, so the metered portfolio is
   * held to the whole order: the automated part alone would hide a member who accepted and did not move.
   */
  async delivery(principal: Principal, communityId: string, messageId: string): Promise<FlexOrderDelivery> {
    const { db } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const stored = await messageByUftpId(db, communityId, 'FlexOrder', messageId);
    const schemas = this.options.schemas();
    if (!stored || stored.direction !== 'in' || !['accepted', 'settled'].includes(stored.state) || !schemas) throw new NotFoundError('order');
    const order = readPayload(stored.payloadXml, schemas) as FlexOrder;
    const dso = (await participantsOfCommunity(db, communityId)).find((p) => p.role === 'DSO' && p.domain === stored.senderDomain);
    const offer = dso && await orderBasis(db, communityId, dso, order, schemas);
    if (!offer) throw new NotFoundError('baseline of the order');
    const metering = await new MeteringOfPeriods(db, communityId).of(order.period, order.timeZone, order.ispDurationMinutes);
    const measured = typeof metering === 'string' ? new Map<number, number>() : metering.portfolio;
    const ordered = perIsp(order.isps, (element) => element.power);
    const byHand = await byHandPerIsp(db, communityId, order, offer.contractId);
    const isps = [...ordered].sort(([a], [b]) => a - b).map(([isp, orderedW]) => {
      const baselineW = offer.baseline.get(isp) ?? 0;
      const byHandW = byHand.get(isp) ?? 0;
      const split = { byHandW, automatedW: orderedW - byHandW };
      const energy = measured.get(isp);
      if (energy === undefined) return { isp, baselineW, orderedW, ...split, actualW: null, deliveredW: null, deficiencyW: null };
      const actualW = averagePower(energy, order.ispDurationMinutes);
      const figures = ispSettlement(baselineW, orderedW, actualW);
      return { isp, baselineW, orderedW, ...split, actualW, deliveredW: figures.deliveredFlexPower, deficiencyW: figures.powerDeficiency };
    });
    return { messageId, orderReference: order.orderReference, congestionPoint: order.congestionPoint, period: order.period, state: stored.state, isps };
  }

  /** The accepted, unsettled orders with an ISP inside the horizon, oldest first, as per-step targets. */
  private async ordersInHorizon(communityId: string, horizon: Parameters<PlanTargetSource>[1]): Promise<OrderTargets[]> {
    const { db } = this.options;
    const schemas = this.options.schemas();
    if (!schemas) return [];
    const out: OrderTargets[] = [];
    for (const dso of (await participantsOfCommunity(db, communityId)).filter((p) => p.role === 'DSO')) {
      for (const stored of await acceptedMessages(db, communityId, 'FlexOrder', 'in', dso.domain)) {
        const order = readPayload(stored.payloadXml, schemas) as FlexOrder;
        const offer = await orderBasis(db, communityId, dso, order, schemas);
        const grid = periodGrid(order.period, order.timeZone, order.ispDurationMinutes);
        if (!offer || !grid) continue;
        const meteringPointIds = await meteringPointsAt(db, communityId, dso.id, order.congestionPoint);
        if (typeof meteringPointIds === 'string') continue;
        const ispSteps = stepsOfIsps(grid, horizon.startMs, horizon.stepMinutes * 60_000, horizon.steps);
        // Members who accepted to move a device by hand deliver their allowed power themselves; a declined request counts nothing.
        const byHand = await byHandPerIsp(db, communityId, order, offer.contractId);
        const steps = new Map<number, { baselineW: number; orderedW: number }>();
        for (const element of order.isps) {
          for (let isp = element.start; isp < element.start + element.duration; isp++) {
            const baseline = offer.baseline.get(isp);
            if (baseline === undefined) continue;
            for (const step of ispSteps.get(isp) ?? []) steps.set(step, { baselineW: baseline, orderedW: element.power - (byHand.get(isp) ?? 0) });
          }
        }
        if (steps.size > 0) out.push({ congestionPoint: order.congestionPoint, meteringPointIds, steps });
      }
    }
    return out;
  }
}

export interface OrderBasis {
  /** W per ISP: what delivery is measured against. */
  readonly baseline: ReadonlyMap<number, number>;
  readonly contractId: string;
}

/**
 * What an accepted order is held against (W per ISP) and under which contract: an order of our offer,
 * the offer's baseline and contract; a direct order (UFTP 3.1, no offer), the D-Prognosis the DSO
 * accepted that it names (else the latest revision for its Period) and the contract that allows direct
 * orders — what the settlement measures it against too. Undefined when neither is there.
 */
export async function orderBasis(db: Queryable, communityId: string, dso: StoredParticipant, order: FlexOrder, schemas: SchemaValidator): Promise<OrderBasis | undefined> {
  if (order.flexOfferMessageId !== undefined) {
    const offer = await offerByMessageId(db, order.flexOfferMessageId);
    return offer && offer.communityId === communityId ? offer : undefined;
  }
  const contract = contractOfOrder(await contractsOfCommunity(db, communityId, ['active', 'ended']), dso.id, order, true);
  const prognosis = agreedPrognosis(await acceptedPrognoses(db, communityId, dso.domain, schemas), order);
  return contract && prognosis && { baseline: perIsp(prognosis.isps, (isp) => isp.power), contractId: contract.id };
}

/**
 * Per ISP of an accepted order, what members who accepted its manual activation requests are
 * counted for (W, signed as the ordered power; domain/activation.ts countedByHandW): the plan's
 * automated devices are bound to the rest, and a revised D-Prognosis adds it back to the plan.
 */
export async function byHandPerIsp(db: Queryable, communityId: string, order: FlexOrder, contractId: string): Promise<Map<number, number>> {
  const accepted = (await acceptedAllowances(db, communityId, order.messageId, contractId)).flatMap((a) => (a.countedW === null ? [] : [{ ...a, countedW: a.countedW }]));
  const out = new Map<number, number>();
  if (accepted.length === 0) return out;
  for (const [isp, orderedW] of perIsp(order.isps, (element) => element.power)) {
    // A member asked to decrease moves nothing by hand in the window's ISPs that go the other way (a rebound), and the reverse.
    const inIsp = accepted.filter((a) => a.firstIsp <= isp && isp <= a.lastIsp && (a.direction === 'decrease' ? orderedW < 0 : orderedW > 0));
    const manualW = countedByHandW(orderedW, inIsp.map((a) => a.countedW));
    if (manualW !== 0) out.set(isp, manualW);
  }
  return out;
}
