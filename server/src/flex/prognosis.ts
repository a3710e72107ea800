import { randomUUID } from 'node:crypto';
import type { Db } from '../platform/store/db.js';
import type { JobDefinition } from '../platform/jobs/index.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { communityDevices, meteringPointsOfCommunity } from '../registry/index.js';
import type { PlanService } from '../optimise/index.js';
import { periodGrid } from './domain/isp.js';
import { changedMaterially, dPrognosis, memberBaselinesOf, prognosisPowers } from './domain/offer.js';
import { connectionKey, nextPeriodGate, stepsOfIsps } from './domain/portfolio.js';
import { identityOfCommunity, participantById, replaceMemberBaselines } from './store.js';
import { congestionPointOf, contractedCongestionPoints, insertPrognosis, latestPrognosis } from './store/portfolio.js';
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
  constructor(private readonly options: { db: Db; transport: UftpTransport; plans: PlanService; now: () => number; timeLimitS?: number }) {}

  /** One pass: every leased community with active contracts. */
  async sendDue(lease: (units: readonly string[]) => Promise<string[]>): Promise<{ done: number; more: boolean }> {
    const points = await contractedCongestionPoints(this.options.db);
    const leased = new Set(await lease([...new Set(points.map((p) => p.communityId))]));
    let done = 0;
    for (const p of points.filter((c) => leased.has(c.communityId))) {
      if (await this.prognose(p.communityId, p.participantId, p.congestionPoint)) done += 1;
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
    const revision = (sent?.revision ?? 0) + 1;
    const message = dPrognosis({
      senderDomain: identity.domain, recipientDomain: participant.domain, congestionPoint, grid, revision, nowMs,
      messageId: randomUUID(), conversationId: randomUUID(),
    }, powers);
    // The members' baselines are the same plan's, recorded with the prognosis they add up to.
    const baselines = memberBaselinesOf(ispSteps, plan.watchedPoints, plan.stepMinutes);
    await this.options.transport.sendAll(communityId, [{ message }], async (tx) => {
      await insertPrognosis(tx, { messageId: message.messageId, communityId, participantId, congestionPoint, period, revision, powers, sentAtMs: nowMs });
      await replaceMemberBaselines(tx, communityId, congestionPoint, period, baselines);
    });
    return true;
  }
}

/** The `flex prognosis` job: hourly (a revision is at most an hour behind the plan), woken on demand. */
export function flexPrognosisJob(prognoses: FlexPrognoses): JobDefinition {
  return { name: FLEX_PROGNOSIS_JOB, delayMs: 1000, everyMs: 3_600_000, pass: ({ lease }) => prognoses.sendDue(lease) };
}
