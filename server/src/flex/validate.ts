import { randomUUID } from 'node:crypto';
import type { FlexOfferView } from '@gridshare/contract/flex';
import type { Db, Queryable } from '../platform/store/db.js';
import type { JobDefinition } from '../platform/jobs/index.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { formatNano } from '../kernel/money.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { communityDevices, meteringPointsOfCommunity, requireCommunityManager } from '../registry/index.js';
import type { PlanService } from '../optimise/index.js';
import { periodGrid } from './domain/isp.js';
import { asksForRange, offerFor, requestTargets, unsolicitedRequest, type UnsolicitedOfferInput } from './domain/offer.js';
import { connectionKey, stepsOfIsps, withinWindows } from './domain/portfolio.js';
import { readPayload, respondTo, WRITTEN_VERSION, type SchemaValidator } from './domain/uftp/inbound.js';
import type { FlexOffer, FlexOfferRevocation, FlexOrder, FlexRequest } from './domain/uftp/messages.js';
import { isLocalDate } from './domain/uftp/values.js';
import { contractsOfCommunity, identityOfCommunity, messageByUftpId, optInsOfDevices, ordersTaken, participantById, participantsOfCommunity, setMessageState, type StoredContract } from './store.js';
import { congestionPointOf, insertOffer, latestPrognosis, offerByMessageId, offersOfCommunity, pendingRequests, type PendingRequest, type StoredOffer } from './store/portfolio.js';
import type { UftpTransport } from './transport.js';

export const FLEX_VALIDATE_JOB = 'flex validate';
/** The longest horizon a re-plan looks at (48 h of quarter hours): a request for the day after tomorrow is planned from its start when it comes closer. */
export const MAX_PLAN_STEPS = 192;

export interface ValidationOptions {
  readonly db: Db;
  readonly transport: UftpTransport;
  readonly plans: PlanService;
  readonly schemas: () => SchemaValidator | undefined;
  readonly now: () => number;
  /** The solver's time limit for each of the two plans of a request, s (default 20, as the MPC's plans). */
  readonly timeLimitS?: number;
}

/** What a request is validated against: the contract, the congestion point's metering points, the devices that take part. */
interface Portfolio {
  readonly contract: StoredContract;
  readonly meteringPointIds: readonly string[];
  readonly deviceIds: readonly string[];
  /** The most power each device may shift where its member set a limit on the opt-in (the plan takes the smaller of it and the member's control limit). */
  readonly powerLimitsW: ReadonlyMap<string, number>;
}

/**
 * The validate phase: answers each FlexRequest the transport left to it (one at a congestion
 * point under an active contract with its sender) by re-planning the community with the request
 * as exchange targets at the congestion point's connections — only devices opted in to the
 * contract move — and pricing the difference: Accepted and a FlexOffer, or Rejected with why.
 * Offers not ordered yet can be revoked.
 */
export class FlexValidation {
  constructor(private readonly options: ValidationOptions) {}

  /** Whether the validate phase answers this request (asked by the transport when it accepts one). */
  async answersLater(tx: Queryable, communityId: string, participantId: string, request: FlexRequest): Promise<boolean> {
    return (await this.contractFor(tx, communityId, participantId, request)) !== undefined;
  }

  /** One pass of the job: answers the waiting requests of the communities this runner leased. */
  async answerPending(lease: (units: readonly string[]) => Promise<string[]>, limit = 10): Promise<{ done: number; more: boolean }> {
    const pending = await pendingRequests(this.options.db, limit);
    const leased = new Set(await lease([...new Set(pending.map((p) => p.communityId))]));
    const mine = pending.filter((p) => leased.has(p.communityId));
    for (const request of mine) {
      try {
        await this.answer(request);
      } catch (error) {
        // One request that cannot be validated (its plan failed) must not hold up the others: it is answered Rejected with why.
        await this.rejectFailed(request, error);
      }
    }
    return { done: mine.length, more: pending.length === limit };
  }

  /** Answers one waiting FlexRequest: re-plan, price, then Accepted + FlexOffer or Rejected, sent in one transaction with the offer's record. */
  async answer(pending: PendingRequest): Promise<StoredOffer | undefined> {
    const { db, transport } = this.options;
    const schemas = this.options.schemas();
    if (!schemas) return undefined;
    const request = readPayload(pending.payloadXml, schemas) as FlexRequest;
    const nowMs = this.options.now();
    const reject = (reason: string) => transport.sendAll(pending.communityId, [{ message: respondTo(request, { messageId: randomUUID(), nowMs }, reason), inReplyTo: pending.id }]);
    const participant = (await participantsOfCommunity(db, pending.communityId)).find((p) => p.domain === request.senderDomain && p.role === 'DSO');
    const contract = participant && await this.contractFor(db, pending.communityId, participant.id, request);
    if (!participant || !contract) {
      await reject(`no active flexibility contract with ${request.senderDomain} at ${request.congestionPoint} on ${request.period}`);
      return undefined;
    }
    const made = await this.plannedOffer(pending.communityId, participant.id, contract, request, false);
    if (typeof made === 'string') {
      await reject(made);
      return undefined;
    }
    await transport.sendAll(pending.communityId, [
      { message: respondTo(request, { messageId: randomUUID(), nowMs }), inReplyTo: pending.id },
      { message: made.offer },
    ], (tx) => insertOffer(tx, made.stored));
    return made.stored;
  }

  /**
   * An unsolicited FlexOffer (UFTP 3.1: without a FlexRequest), asked for by a manager: the
   * community offers a DSO it has an active contract with the deviation it can make toward the given
   * power ranges at one of the contract's congestion points, re-planned and priced exactly as an
   * answer to a request would be. Refused (409, with why) when nothing can be offered.
   */
  async offerUnsolicited(principal: Principal, communityId: string, input: UnsolicitedOfferInput): Promise<FlexOfferView> {
    const { db, transport } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const participant = await participantById(db, input.participantId);
    if (!participant || participant.communityId !== communityId) throw new NotFoundError('participant');
    if (participant.role !== 'DSO' || participant.barred) throw new BadRequestError('body/participantId: offers go to a DSO of the address book that is not barred', 'body/participantId');
    const identity = await identityOfCommunity(db, communityId);
    if (!identity) throw new ConflictError('set the community\'s UFTP identity first');
    const grid = isLocalDate(input.period) ? periodGrid(input.period, identity.timeZone, identity.ispDurationMinutes) : undefined;
    if (!grid) throw new BadRequestError(`body/period: not a day of ${identity.ispDurationMinutes}-minute ISPs: ${JSON.stringify(input.period)}`, 'body/period');
    const request = unsolicitedRequest(input, grid, { dso: participant.domain, agr: identity.domain, nowMs: this.options.now(), messageId: randomUUID(), conversationId: randomUUID() });
    const contract = await this.contractFor(db, communityId, participant.id, request);
    if (!contract) throw new ConflictError(`no active flexibility contract with ${participant.domain} at ${input.congestionPoint} on ${input.period}`);
    const made = await this.plannedOffer(communityId, participant.id, contract, request, true);
    if (typeof made === 'string') throw new ConflictError(made);
    await transport.sendAll(communityId, [{ message: made.offer }], (tx) => insertOffer(tx, made.stored));
    return this.view(made.stored, null);
  }

  /** The re-plans and the offer of a request (a DSO's or a manager's unsolicited one), or why there is none. */
  private async plannedOffer(
    communityId: string, participantId: string, contract: StoredContract, request: FlexRequest, unsolicited: boolean,
  ): Promise<{ offer: FlexOffer; stored: StoredOffer } | string> {
    const { db } = this.options;
    const nowMs = this.options.now();
    const portfolio = await this.portfolioOf(communityId, participantId, contract, request.congestionPoint);
    if (typeof portfolio === 'string') return portfolio;
    const grid = periodGrid(request.period, request.timeZone, request.ispDurationMinutes);
    if (!grid) return `Period ${request.period} has no ISP grid of ${request.ispDurationMinutes} minutes in ${request.timeZone}`;
    const steps = Math.min(MAX_PLAN_STEPS, Math.ceil((grid.endMs - nowMs) / QUARTER_HOUR_MS) + 1);
    // The congestion point's households planned as one where that is exact (optimise's mergeWatched):
    // the offer needs their summed import and the cost, and the model shrinks by the number of households.
    const explore = {
      steps, devices: new Set(portfolio.deviceIds), meteringPointIds: portfolio.meteringPointIds, powerLimitsW: portfolio.powerLimitsW, mergeWatched: true, nowMs,
      timeLimitS: this.options.timeLimitS ?? 20,
    };
    const baseline = await this.options.plans.explore(communityId, explore);
    if (!baseline || baseline.planCost === null) return `the community could not be planned: ${baseline?.problems.join('; ') || 'no metering points'}`;
    const ispSteps = stepsOfIsps(grid, baseline.horizonStartMs, baseline.stepMinutes * 60_000, steps);
    const available = (isp: number) => withinWindows(contract.windows, contract.timeZone, grid, isp);
    const targets = requestTargets(request, ispSteps, baseline.watchedImportW, available);
    const planned = await this.options.plans.explore(communityId, { ...explore, targets });
    if (!planned || planned.planCost === null) return `the community could not be planned with the request: ${planned?.problems.join('; ') || 'no metering points'}`;
    // Mutually exclusive options where the DSO takes them and a range is asked: the full deviation (the most asked) re-planned too.
    const alternatives = [];
    if (asksForRange(request) && (await congestionPointOf(db, participantId, request.congestionPoint))?.mutexOffersSupported) {
      const full = await this.options.plans.explore(communityId, { ...explore, targets: requestTargets(request, ispSteps, baseline.watchedImportW, available, 'most') });
      if (full && full.planCost !== null && full.status === 'optimal') alternatives.push({ plannedW: full.watchedImportW, extraCost: full.planCost - baseline.planCost });
    }
    const prognosis = await latestPrognosis(db, participantId, request.congestionPoint, request.period);
    const outcome = offerFor({
      request, grid, ispSteps, baselineW: baseline.watchedImportW, plannedW: planned.watchedImportW, extraCost: planned.planCost - baseline.planCost, alternatives,
      volumePrice: contract.volumePrice, currency: contract.currency, nowMs: this.options.now(), messageId: randomUUID(), unsolicited,
      ...(request.contractId ? { contractId: request.contractId } : {}), ...(prognosis ? { dPrognosisMessageId: prognosis.messageId } : {}),
    });
    // A re-plan the solver did not finish may simply not have found the flexibility: say so.
    if (outcome.outcome === 'reject') return planned.status === 'optimal' ? outcome.reason : `${outcome.reason}; the re-plan ended ${planned.status}`;
    const stored: StoredOffer = {
      messageId: outcome.offer.messageId, communityId, contractId: contract.id, requestMessageId: unsolicited ? null : request.messageId,
      congestionPoint: request.congestionPoint, period: request.period, baseline: outcome.baselineW, deviceIds: portfolio.deviceIds,
      planCost: planned.planCost, baselineCost: baseline.planCost, createdAtMs: nowMs,
    };
    return { offer: outcome.offer, stored };
  }

  private async rejectFailed(pending: PendingRequest, error: unknown): Promise<void> {
    const schemas = this.options.schemas();
    if (!schemas) return;
    const request = readPayload(pending.payloadXml, schemas) as FlexRequest;
    const reason = `the request could not be validated: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500);
    await this.options.transport.sendAll(pending.communityId, [{ message: respondTo(request, { messageId: randomUUID(), nowMs: this.options.now() }, reason), inReplyTo: pending.id }]);
  }

  /** The managers' list of offers, newest first. */
  async offers(principal: Principal, communityId: string): Promise<FlexOfferView[]> {
    const { db } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const offers = await offersOfCommunity(db, communityId, 200);
    const orders = await this.ordersByOffer(communityId);
    return Promise.all(offers.map((o) => this.view(o, orders.get(o.messageId) ?? null)));
  }

  /** Which order took which offer: the offer's MessageID → the order's (what the delivery route takes). */
  private async ordersByOffer(communityId: string): Promise<Map<string, string>> {
    const schemas = this.options.schemas();
    const byOffer = new Map<string, string>();
    if (!schemas) return byOffer;
    for (const stored of await ordersTaken(this.options.db, communityId)) {
      const order = readPayload(stored.payloadXml, schemas) as FlexOrder;
      if (order.flexOfferMessageId) byOffer.set(order.flexOfferMessageId, order.messageId);
    }
    return byOffer;
  }

  /** Revokes an offer that is not ordered (FlexOfferRevocation to the DSO; the offer's state becomes `revoked`). */
  async revoke(principal: Principal, communityId: string, messageId: string): Promise<FlexOfferView> {
    const { db, transport } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const offer = await offerByMessageId(db, messageId);
    const stored = offer && offer.communityId === communityId ? await messageByUftpId(db, communityId, 'FlexOffer', messageId) : undefined;
    if (!offer || !stored) throw new NotFoundError('offer');
    if (!['queued', 'sent', 'accepted'].includes(stored.state)) throw new ConflictError(`the offer is ${stored.state}: only an offer not ordered, rejected or revoked can be revoked`);
    const identity = await identityOfCommunity(db, communityId);
    const revocation: FlexOfferRevocation = {
      type: 'FlexOfferRevocation', version: WRITTEN_VERSION, senderDomain: identity!.domain, recipientDomain: stored.recipientDomain, timeStamp: this.options.now(),
      messageId: randomUUID(), conversationId: stored.conversationId, flexOfferMessageId: messageId,
    };
    // An order that arrived since the state was read wins: the transaction ends and nothing is sent.
    await transport.sendAll(communityId, [{ message: revocation }], async (tx) => {
      const current = await messageByUftpId(tx, communityId, 'FlexOffer', messageId);
      if (current?.state === 'ordered') throw new ConflictError('the offer is ordered: it can no longer be revoked');
      await setMessageState(tx, stored.id, 'revoked', ['queued', 'sent', 'accepted']);
    });
    return this.view(offer, null);
  }

  private async view(o: StoredOffer, orderMessageId: string | null): Promise<FlexOfferView> {
    const stored = await messageByUftpId(this.options.db, o.communityId, 'FlexOffer', o.messageId);
    return {
      messageId: o.messageId, requestMessageId: o.requestMessageId, contractId: o.contractId, congestionPoint: o.congestionPoint, period: o.period,
      state: stored?.state ?? 'queued', orderMessageId, payloadXml: stored?.payloadXml ?? '',
      baseline: [...o.baseline].map(([isp, powerW]) => ({ isp, powerW })), devices: o.deviceIds.length,
      planCost: formatNano(o.planCost), baselineCost: formatNano(o.baselineCost), createdAt: new Date(o.createdAtMs).toISOString(),
    };
  }

  /** The active contract with this DSO covering the request's congestion point and Period. */
  private async contractFor(db: Queryable, communityId: string, participantId: string, request: FlexRequest): Promise<StoredContract | undefined> {
    const contracts = await contractsOfCommunity(db, communityId, ['active']);
    return contracts.find((c) => c.participantId === participantId && c.congestionPoints.includes(request.congestionPoint)
      && c.validFrom <= request.period && request.period <= c.validTo);
  }

  /** The congestion point's metering points and the devices there opted in to the contract; a string says why there is nothing to plan. */
  private async portfolioOf(communityId: string, participantId: string, contract: StoredContract, congestionPoint: string): Promise<Portfolio | string> {
    const { db } = this.options;
    const meteringPointIds = await meteringPointsAt(db, communityId, participantId, congestionPoint);
    if (typeof meteringPointIds === 'string') return meteringPointIds;
    const atPoint = new Set(meteringPointIds);
    const devices = (await communityDevices(db, communityId)).filter((d) => d.status === 'active' && d.meteringPointId !== null && atPoint.has(d.meteringPointId));
    const optIns = (await optInsOfDevices(db, devices.map((d) => d.id))).filter((o) => o.contractId === contract.id);
    const optedIn = new Set(optIns.map((o) => o.deviceId));
    const deviceIds = devices.filter((d) => optedIn.has(d.id)).map((d) => d.id);
    if (deviceIds.length === 0) return `no device at ${congestionPoint} takes part in the contract`;
    const powerLimitsW = new Map(optIns.flatMap((o) => (o.maxPowerW === null ? [] : [[o.deviceId, o.maxPowerW] as const])));
    return { contract, meteringPointIds, deviceIds, powerLimitsW };
  }
}

/** The community's metering points behind a congestion point of a DSO's portfolio; a string says why there are none. */
export async function meteringPointsAt(db: Queryable, communityId: string, participantId: string, congestionPoint: string): Promise<string[] | string> {
  const point = await congestionPointOf(db, participantId, congestionPoint);
  if (!point || point.connections.length === 0) return `no connection of the portfolio is known at ${congestionPoint}`;
  const wanted = new Set(point.connections.map(connectionKey));
  const meteringPointIds = (await meteringPointsOfCommunity(db, communityId)).filter((p) => wanted.has(connectionKey(p.gridConnectionId))).map((p) => p.id);
  return meteringPointIds.length > 0 ? meteringPointIds : `none of the connections at ${congestionPoint} is a metering point of the community`;
}

/** The `flex validate` job: answers waiting FlexRequests (woken by the transport; every minute for what a failed pass left). */
export function flexValidateJob(validation: FlexValidation): JobDefinition {
  return { name: FLEX_VALIDATE_JOB, delayMs: 50, everyMs: 60_000, pass: ({ lease }) => validation.answerPending(lease) };
}
