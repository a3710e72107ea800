import { randomUUID } from 'node:crypto';
import type { Db } from '../platform/store/db.js';
import type { JobDefinition } from '../platform/jobs/index.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { communityDevices, meteringPointsOfCommunity } from '../registry/index.js';
import type { PlanService } from '../optimise/index.js';
import { ispAt, ispStartMs, periodGrid, periodOf, perIsp, type PeriodGrid } from './domain/isp.js';
import { changedMaterially, deliveryDeviates, dPrognosis, memberBaselinesOf, prognosisPowers, revisedDuringPeriod } from './domain/offer.js';
import { connectionKey, nextPeriodGate, stepsOfIsps } from './domain/portfolio.js';
import { averagePower } from './domain/settlement.js';
import { readPayload, type SchemaValidator } from './domain/uftp/inbound.js';
import type { FlexOrder } from './domain/uftp/messages.js';
import { acceptedMessages, identityOfCommunity, participantById, replaceMemberBaselines, type StoredIdentity, type StoredParticipant } from './store.js';
import { congestionPointOf, contractedCongestionPoints, insertPrognosis, latestPrognosis } from './store/portfolio.js';
import { byHandPerIsp, orderBasis, type OrderBasis } from './operate.js';
import { MeteringOfPeriods } from './settle.js';
import type { UftpTransport } from './transport.js';
import { MAX_PLAN_STEPS } from './validate.js';

export const FLEX_PROGNOSIS_JOB = 'flex prognosis';
/** How long before the gate the first D-Prognosis of a Period is made (the day-ahead forecasts are in by then). */
export const PROGNOSIS_LEAD_MS = 2 * 3_600_000;

/**
 * The plan phase's D-Prognoses: for each congestion point of an active contract, tomorrow's
 * expected net import of its connections per ISP — the community's plan as it would be made now
 * (forecasts, every device its member lets the plan control) — sent to the DSO from
 * PROGNOSIS_LEAD_MS before the congestion point's gate, and a new revision whenever it changes
 * materially (domain/offer.ts: changedMaterially) until the Period begins.
 */
export class FlexPrognoses {
  constructor(private readonly options: { db: Db; transport: UftpTransport; plans: PlanService; now: () => number; schemas: () => SchemaValidator | undefined; timeLimitS?: number }) {}

  /** One pass: every leased community with active contracts. */
  async sendDue(lease: (units: readonly string[]) => Promise<string[]>): Promise<{ done: number; more: boolean }> {
    const points = await contractedCongestionPoints(this.options.db);
    const leased = new Set(await lease([...new Set(points.map((p) => p.communityId))]));
    let done = 0;
    for (const p of points.filter((c) => leased.has(c.communityId))) {
      if (await this.prognose(p.communityId, p.participantId, p.congestionPoint)) done += 1;
      if (await this.revise(p.communityId, p.participantId, p.congestionPoint)) done += 1;
    }
    return { done, more: false };
  }

  /** Sends the congestion point's D-Prognosis for tomorrow when it is due or changed materially; whether one was sent. */
  async prognose(communityId: string, participantId: string, congestionPoint: string): Promise<boolean> {
    const { db } = this.options;
    const nowMs = this.options.now();
    const [identity, participant, point] = await Promise.all([identityOfCommunity(db, communityId), participantById(db, participantId), congestionPointOf(db, participantId, congestionPoint)]);
    if (!identity || !participant || participant.barred || !point) return false;
    const { period, gateMs } = nextPeriodGate(nowMs, identity.timeZone, point.prognosisGate);
    if (nowMs < gateMs - PROGNOSIS_LEAD_MS) return false;
    const grid = periodGrid(period, identity.timeZone, identity.ispDurationMinutes);
    if (!grid) return false;
    const wanted = new Set(point.connections.map(connectionKey));
    const meteringPointIds = (await meteringPointsOfCommunity(db, communityId)).filter((p) => wanted.has(connectionKey(p.gridConnectionId))).map((p) => p.id);
    if (meteringPointIds.length === 0) return false;
    const devices = new Set((await communityDevices(db, communityId)).map((d) => d.id));
    const steps = Math.min(MAX_PLAN_STEPS, Math.ceil((grid.endMs - nowMs) / QUARTER_HOUR_MS) + 1);
    const plan = await this.options.plans.explore(communityId, { steps, devices, meteringPointIds, nowMs, timeLimitS: this.options.timeLimitS ?? 20 });
    if (!plan || plan.planCost === null) return false;
    const ispSteps = stepsOfIsps(grid, plan.horizonStartMs, plan.stepMinutes * 60_000, steps);
    const powers = prognosisPowers(ispSteps, plan.watchedImportW);
    if (powers.size < grid.count) return false; // the horizon does not reach the Period's end: a prognosis covers the whole day
    const sent = await latestPrognosis(db, participantId, congestionPoint, period);
    if (sent && !changedMaterially(sent.powers, powers)) return false;
    // The members' baselines are the same plan's, recorded with the prognosis they add up to.
    await this.send({ identity, participant, congestionPoint, grid, revision: (sent?.revision ?? 0) + 1, nowMs, powers }, memberBaselinesOf(ispSteps, plan.watchedPoints, plan.stepMinutes));
    return true;
  }

  /**
   * Today's D-Prognosis while its Period runs: when the delivery of an order accepted at the
   * congestion point deviates materially (domain/offer.ts: deliveryDeviates), the rest of the day is
   * re-planned from now — bound by the accepted orders as the plans in operation are — and a revision sent if it changes the
   * prognosis materially; the ISPs that have begun keep what was sent. Whether one was sent.
   */
  async revise(communityId: string, participantId: string, congestionPoint: string): Promise<boolean> {
    const { db } = this.options;
    const schemas = this.options.schemas();
    const nowMs = this.options.now();
    const [identity, participant, point] = await Promise.all([identityOfCommunity(db, communityId), participantById(db, participantId), congestionPointOf(db, participantId, congestionPoint)]);
    if (!schemas || !identity || !participant || participant.barred || !point) return false;
    const grid = periodGrid(periodOf(nowMs, identity.timeZone), identity.timeZone, identity.ispDurationMinutes);
    const sent = grid && await latestPrognosis(db, participantId, congestionPoint, grid.period);
    if (!grid || !sent || !(await this.deviates(communityId, participant, congestionPoint, grid, schemas))) return false;
    const wanted = new Set(point.connections.map(connectionKey));
    const meteringPointIds = (await meteringPointsOfCommunity(db, communityId)).filter((p) => wanted.has(connectionKey(p.gridConnectionId))).map((p) => p.id);
    const devices = new Set((await communityDevices(db, communityId)).map((d) => d.id));
    const steps = Math.min(MAX_PLAN_STEPS, Math.ceil((grid.endMs - nowMs) / QUARTER_HOUR_MS) + 1);
    const plan = await this.options.plans.explore(communityId, { steps, devices, meteringPointIds, nowMs, asInOperation: true, timeLimitS: this.options.timeLimitS ?? 20 });
    if (!plan || plan.planCost === null) return false;
    const ispSteps = stepsOfIsps(grid, plan.horizonStartMs, plan.stepMinutes * 60_000, steps);
    const firstOpen = ispAt(grid, plan.horizonStartMs) ?? grid.count + 1;
    // The plan binds the automated devices to what members accepted to move by hand less; what they move is added back (a declined request adds nothing).
    const planned = prognosisPowers(ispSteps, plan.watchedImportW);
    for (const { order, offer } of await this.ordersOfDay(communityId, participant, congestionPoint, grid, schemas)) {
      for (const [isp, manualW] of await byHandPerIsp(db, communityId, order, offer.contractId)) if (planned.has(isp)) planned.set(isp, planned.get(isp)! + manualW);
    }
    const powers = revisedDuringPeriod(sent.powers, planned, ispStartMs(grid, firstOpen) < plan.horizonStartMs ? firstOpen + 1 : firstOpen);
    if (!changedMaterially(sent.powers, powers)) return false;
    // The members' baselines stay those recorded before the Period: their contributions to ISPs delivered already are measured against them.
    await this.send({ identity, participant, congestionPoint, grid, revision: sent.revision + 1, nowMs, powers }, undefined);
    return true;
  }

  /** Whether some metered ISP of an order accepted from this DSO for the Period missed the offer's baseline + the ordered power materially. */
  private async deviates(communityId: string, dso: StoredParticipant, congestionPoint: string, grid: PeriodGrid, schemas: SchemaValidator): Promise<boolean> {
    const { db } = this.options;
    const orders = await this.ordersOfDay(communityId, dso, congestionPoint, grid, schemas);
    if (orders.length === 0) return false;
    const metering = await new MeteringOfPeriods(db, communityId).of(grid.period, grid.timeZone, grid.ispMinutes);
    if (typeof metering === 'string') return false;
    for (const { order, offer } of orders) {
      const measured = [...perIsp(order.isps, (element) => element.power)].flatMap(([isp, orderedW]) => {
        const energy = metering.portfolio.get(isp);
        const baselineW = offer.baseline.get(isp);
        return energy === undefined || baselineW === undefined ? [] : [{ expectedW: baselineW + orderedW, actualW: averagePower(energy, grid.ispMinutes) }];
      });
      if (deliveryDeviates(measured)) return true;
    }
    return false;
  }

  /** The orders accepted from this DSO for the Period at the congestion point, with what each is held against (the offer's baseline, or a direct order's D-Prognosis). */
  private async ordersOfDay(communityId: string, dso: StoredParticipant, congestionPoint: string, grid: PeriodGrid, schemas: SchemaValidator): Promise<Array<{ order: FlexOrder; offer: OrderBasis }>> {
    const { db } = this.options;
    const orders = (await acceptedMessages(db, communityId, 'FlexOrder', 'in', dso.domain)).map((m) => readPayload(m.payloadXml, schemas) as FlexOrder)
      .filter((o) => o.period === grid.period && o.congestionPoint === congestionPoint);
    const out: Array<{ order: FlexOrder; offer: OrderBasis }> = [];
    for (const order of orders) {
      const offer = await orderBasis(db, communityId, dso, order, schemas);
      if (offer) out.push({ order, offer });
    }
    return out;
  }

  private async send(
    p: { identity: StoredIdentity; participant: StoredParticipant; congestionPoint: string; grid: PeriodGrid; revision: number; nowMs: number; powers: ReadonlyMap<number, number> },
    baselines: ReturnType<typeof memberBaselinesOf> | undefined,
  ): Promise<void> {
    const { identity, participant, congestionPoint, grid, revision, nowMs, powers } = p;
    const message = dPrognosis({
      senderDomain: identity.domain, recipientDomain: participant.domain, congestionPoint, grid, revision, nowMs,
      messageId: randomUUID(), conversationId: randomUUID(),
    }, powers);
    const communityId = identity.communityId;
    await this.options.transport.sendAll(communityId, [{ message }], async (tx) => {
      await insertPrognosis(tx, { messageId: message.messageId, communityId, participantId: participant.id, congestionPoint, period: grid.period, revision, powers, sentAtMs: nowMs });
      if (baselines) await replaceMemberBaselines(tx, communityId, congestionPoint, grid.period, baselines);
    });
  }
}

/** The `flex prognosis` job: hourly (a revision is at most an hour behind the plan), woken on demand. */
export function flexPrognosisJob(prognoses: FlexPrognoses): JobDefinition {
  return { name: FLEX_PROGNOSIS_JOB, delayMs: 1000, everyMs: 3_600_000, pass: ({ lease }) => prognoses.sendDue(lease) };
}
