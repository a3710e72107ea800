import { randomUUID } from 'node:crypto';
import type { FlexActivationRequest, FlexActivationSummary } from '@gridshare/contract/flex';
import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { ConflictError, NotFoundError } from '../kernel/errors.js';
import { activeMembership, requireUser } from '../accounts/index.js';
import { communityDevices, meteringPointsOfCommunity, requireCommunityManager } from '../registry/index.js';
import { deviceControlsOfCommunity } from '../optimise/index.js';
import { acceptedPowerW, activationWindow, answered, type ActivationAnswer } from './domain/activation.js';
import { periodGrid } from './domain/isp.js';
import { readPayload, type SchemaValidator } from './domain/uftp/inbound.js';
import type { FlexOrder } from './domain/uftp/messages.js';
import { messageByUftpId } from './store.js';
import { activationById, activationsOfCommunity, activationsOfMember, insertActivations, optInMaxPowerW, setActivationState, type StoredActivation } from './store/activations.js';
import { offerByMessageId } from './store/portfolio.js';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Manual activation requests (operate phase): a device opted in to the contract behind an accepted
 * order that the plan may not control (its member allows no automation) cannot be commanded, so its
 * member is asked to move by hand in the ordered ISPs and answers — accept or decline — before they
 * begin. Managers see how many answered what per order, never who.
 */
export class FlexActivations {
  constructor(private readonly options: { db: Db; now: () => number; schemas: () => SchemaValidator | undefined }) {}

  /** The caller's requests in the community that have not ended, soonest first. */
  async mine(principal: Principal, communityId: string): Promise<FlexActivationRequest[]> {
    const { db } = this.options;
    const membership = activeMembership(requireUser(principal), communityId);
    if (!membership) throw new NotFoundError('community');
    const names = new Map((await communityDevices(db, communityId)).map((d) => [d.id, d.name]));
    return (await activationsOfMember(db, communityId, membership.memberId, this.options.now())).map((a) => view(a, names.get(a.deviceId) ?? a.deviceId));
  }

  /**
   * A member's answer, until the first ordered ISP begins; only the request's own member (anyone
   * else: 404). Accepting may say the power they will move by hand (`powerW`), and must when their
   * opt-in sets no maximum (domain/activation.ts: acceptedPowerW).
   */
  async answer(principal: Principal, id: string, answer: ActivationAnswer, powerW?: number): Promise<FlexActivationRequest> {
    const user = requireUser(principal);
    return this.options.db.transaction(async (tx) => {
      const request = await activationById(tx, id, { lock: true });
      const membership = request && activeMembership(user, request.communityId);
      if (!request || !membership || membership.memberId !== request.memberId) throw new NotFoundError('activation request');
      const nowMs = this.options.now();
      const state = answered(request.startsAtMs, answer, nowMs);
      if (!state) throw new ConflictError(`the ordered ISPs began at ${iso(request.startsAtMs)}: the request can no longer be answered`);
      const optIn = await this.optInOf(tx, request);
      if (optIn === undefined) throw new ConflictError('the device is no longer opted in to the contract of the order');
      await setActivationState(tx, id, state, nowMs, acceptedPowerW(answer, powerW, optIn));
      const device = (await communityDevices(tx, request.communityId)).find((d) => d.id === request.deviceId);
      return view({ ...request, state, answeredAtMs: nowMs }, device?.name ?? request.deviceId);
    });
  }

  /** The most power the device's opt-in to the contract behind the request's order allows (null: no maximum; undefined: opted out). */
  private async optInOf(tx: Queryable, request: StoredActivation): Promise<number | null | undefined> {
    const stored = await messageByUftpId(tx, request.communityId, 'FlexOrder', request.orderMessageId);
    const schemas = this.options.schemas();
    const order = stored && schemas ? readPayload(stored.payloadXml, schemas) as FlexOrder : undefined;
    const offer = order?.flexOfferMessageId ? await offerByMessageId(tx, order.flexOfferMessageId) : undefined;
    return offer && optInMaxPowerW(tx, request.communityId, offer.contractId, request.deviceId);
  }

  /** Managers: per order not ended, how many requests are pending, accepted, declined. */
  async summary(principal: Principal, communityId: string): Promise<FlexActivationSummary[]> {
    const { db } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const byOrder = new Map<string, StoredActivation[]>();
    for (const a of await activationsOfCommunity(db, communityId, this.options.now())) byOrder.set(a.orderMessageId, [...(byOrder.get(a.orderMessageId) ?? []), a]);
    return [...byOrder.values()].map((requests) => {
      const first = requests[0]!;
      const count = (state: StoredActivation['state']) => requests.filter((r) => r.state === state).length;
      return {
        orderMessageId: first.orderMessageId, congestionPoint: first.congestionPoint, period: first.period, firstIsp: first.firstIsp, lastIsp: first.lastIsp,
        startsAt: iso(first.startsAtMs), endsAt: iso(first.endsAtMs), direction: first.direction, pending: count('pending'), accepted: count('accepted'), declined: count('declined'),
      };
    });
  }
}

/**
 * The requests of an accepted FlexOrder of one of our offers, recorded in the transaction that
 * accepts it (the transport's): one per device of the offer whose member lets the plan not control it.
 */
export async function requestActivations(tx: Queryable, communityId: string, order: FlexOrder, nowMs: number): Promise<void> {
  const offer = order.flexOfferMessageId ? await offerByMessageId(tx, order.flexOfferMessageId) : undefined;
  const grid = periodGrid(order.period, order.timeZone, order.ispDurationMinutes);
  const window = grid && activationWindow(order, grid);
  if (!offer || offer.communityId !== communityId || !window || window.startsAtMs <= nowMs) return;
  const [devices, points, controls] = await Promise.all([communityDevices(tx, communityId), meteringPointsOfCommunity(tx, communityId), deviceControlsOfCommunity(tx, communityId)]);
  const automated = new Set(controls.filter((c) => c.controllable).map((c) => c.deviceId));
  const memberOf = new Map(points.map((p) => [p.id, p.memberId]));
  const taking = new Set(offer.deviceIds);
  const rows: StoredActivation[] = devices.flatMap((d) => {
    const memberId = d.meteringPointId === null ? null : memberOf.get(d.meteringPointId) ?? null;
    if (!taking.has(d.id) || automated.has(d.id) || memberId === null) return [];
    return [{
      id: randomUUID(), communityId, orderMessageId: order.messageId, congestionPoint: order.congestionPoint, period: order.period, deviceId: d.id, memberId,
      ...window, state: 'pending' as const, answeredAtMs: null, createdAtMs: nowMs,
    }];
  });
  await insertActivations(tx, rows);
}

function view(a: StoredActivation, deviceName: string): FlexActivationRequest {
  return {
    id: a.id, orderMessageId: a.orderMessageId, congestionPoint: a.congestionPoint, period: a.period, deviceId: a.deviceId, deviceName, firstIsp: a.firstIsp,
    lastIsp: a.lastIsp, startsAt: iso(a.startsAtMs), endsAt: iso(a.endsAtMs), direction: a.direction, state: a.state,
    answeredAt: a.answeredAtMs === null ? null : iso(a.answeredAtMs), createdAt: iso(a.createdAtMs),
  };
}
