import { randomUUID } from 'node:crypto';
import type { Queryable } from '../platform/store/db.js';
import type { Publish } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Principal } from '../kernel/principal.js';
import type { ApplianceRequest, CommunityPlan, DeviceControl, DeviceLimits, LimitExcess, MyPlan, PlanCommandView, PlanSummary } from '@gridshare/contract/optimise';
import { requireManager, requireUser } from '../accounts/index.js';
import { getDevice, getMember, loadCommunity, meteringPointById, requireCommunityManager, type Device } from '../registry/index.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../kernel/errors.js';
import type { PlanCommand } from '../kernel/events.js';
import { DAY_MS } from '../kernel/time.js';
import type { ObjectiveWeights } from './domain/assets/index.js';
import { isControllableKind, validateLimits } from './domain/control.js';
import {
  controlOfDevice, deleteRequest, insertRequest, latestPlan, objectiveOf, applianceRequests, planById, requestById, setObjective, upsertControl,
  type ApplianceRequestRow, type StoredPlan,
} from './store.js';
import { DEFAULT_WEIGHTS } from './service.js';

/** What the optimise routes answer, with the callers' rights checked; changes report what to re-plan through `changed`. */

const iso = (ms: number) => new Date(ms).toISOString();

export function planSummary(p: StoredPlan): PlanSummary {
  return {
    id: p.id, communityId: p.communityId, decidedAt: iso(p.decidedAtMs), trigger: p.trigger, horizonStart: iso(p.horizonStartMs), horizonEnd: iso(p.horizonEndMs),
    stepMinutes: p.stepMinutes, status: p.status, message: p.message, objective: p.objective, bound: p.bound, relativeGap: p.relativeGap,
    absoluteGap: p.absoluteGap, timeS: p.timeS, size: p.size, warmStart: p.warmStart, weights: p.weights, currency: p.currency,
    saving: p.document && p.saving !== null && p.planCost !== null && p.baselineCost !== null
      ? { cost: p.saving, co2Grams: p.document.savings.co2Grams, importWh: p.document.savings.importWh, planCost: p.planCost, baselineCost: p.baselineCost }
      : null,
    problems: [...p.problems], commands: p.commands.length,
  };
}

const commandView = (c: PlanCommand): PlanCommandView => ({ deviceId: c.deviceId, kind: c.kind, value: c.value, validFrom: iso(c.validFromMs), expiresAt: iso(c.expiresAtMs) });

/** Where the plan could not keep a connection's limit, per site (named as its bindings name it) and step. */
function limitExcessOf(p: StoredPlan): (LimitExcess & { memberId: string | null })[] {
  return (p.document?.sites ?? []).flatMap((site) => {
    const binding = site.id === null ? undefined : p.bindings.find((b) => b.key.startsWith(`${site.id}/`));
    return (site.limitExcess ?? []).map((e) => ({
      meteringPointId: binding?.meteringPointId ?? null, memberId: binding?.memberId ?? null, name: site.id === null ? 'community' : binding?.name ?? site.id, ...e,
    }));
  });
}

const communityPlanOf = (p: StoredPlan): CommunityPlan => ({
  plan: planSummary(p), assets: [...p.assets], commandList: p.commands.map(commandView), communityImportW: [...p.communityImportW], baselineImportW: [...p.baselineImportW],
  limitExcess: limitExcessOf(p).map(({ memberId: _memberId, ...e }) => e),
});

export async function communityPlan(db: Queryable, principal: Principal, communityId: string): Promise<{ plan: CommunityPlan | null }> {
  await requireCommunityManager(db, principal, communityId);
  const plan = await latestPlan(db, communityId);
  return { plan: plan ? communityPlanOf(plan) : null };
}

export async function planOfId(db: Queryable, principal: Principal, id: string): Promise<CommunityPlan> {
  requireUser(principal);
  const plan = await planById(db, id);
  if (!plan) throw new NotFoundError('plan');
  requireManager(principal, plan.communityId, 'plan');
  return communityPlanOf(plan);
}

export async function getObjective(db: Queryable, principal: Principal, communityId: string): Promise<ObjectiveWeights> {
  await requireCommunityManager(db, principal, communityId);
  return (await objectiveOf(db, communityId)) ?? DEFAULT_WEIGHTS;
}

export async function putObjective(db: Queryable, publish: Publish, principal: Principal, communityId: string, weights: ObjectiveWeights): Promise<ObjectiveWeights> {
  await requireCommunityManager(db, principal, communityId);
  if (Object.values(weights).every((w) => w === 0)) throw new BadRequestError('body: at least one weight must be above 0', 'body');
  const before = (await objectiveOf(db, communityId)) ?? DEFAULT_WEIGHTS;
  await setObjective(db, communityId, weights);
  await recordChange(publish, { kind: 'plan-objective', communityId, resourceId: communityId, action: 'set', before, after: weights });
  return weights;
}

export async function memberPlan(db: Queryable, principal: Principal, memberId: string): Promise<MyPlan> {
  const member = await getMember(db, principal, memberId);
  const community = (await loadCommunity(db, member.communityId))!;
  const plan = await latestPlan(db, member.communityId, true);
  const mine = plan?.document?.members.find((m) => m.member === member.id);
  const assets = plan ? plan.assets.filter((a) => a.memberId === member.id && a.deviceId !== null) : [];
  const devices = new Set(assets.flatMap((a) => (a.deviceId ? [a.deviceId] : [])));
  return {
    memberId: member.id,
    timeZone: community.timeZone,
    plan: plan ? planSummary(plan) : null,
    saving: mine
      ? {
        baselineCost: mine.baselineCost.amount, planCost: mine.planCost.amount, direct: mine.direct.amount, communityShare: mine.communityShare.amount,
        sharing: mine.sharing ?? null, total: mine.total.amount,
      }
      : null,
    because: mine ? [...mine.because] : [],
    assets,
    commandList: plan ? plan.commands.filter((c) => devices.has(c.deviceId)).map(commandView) : [],
    limitExcess: plan ? limitExcessOf(plan).filter((e) => e.memberId === member.id).map(({ memberId: _memberId, ...e }) => e) : [],
  };
}

/** The device as its member or a manager sees it, and whether the caller is its member. */
async function deviceFor(db: Queryable, principal: Principal, deviceId: string): Promise<{ device: Device; owner: boolean }> {
  const user = requireUser(principal);
  const device = await getDevice(db, principal, deviceId);
  const point = device.meteringPointId ? await meteringPointById(db, device.meteringPointId) : undefined;
  const owner = point !== undefined && user.memberships.some((m) => m.memberId === point.memberId && m.state === 'active');
  return { device, owner };
}

const requestView = (r: ApplianceRequestRow): ApplianceRequest => ({
  id: r.id, deviceId: r.deviceId, earliestStart: iso(r.earliestStartMs), readyBy: iso(r.readyByMs), createdAt: iso(r.createdAtMs),
  startsAt: r.startsAtMs === null ? null : iso(r.startsAtMs),
});

async function controlView(db: Queryable, device: Device): Promise<DeviceControl> {
  const control = await controlOfDevice(db, device.id);
  return {
    deviceId: device.id, communityId: device.communityId, name: device.name, kind: device.kind, meteringPointId: device.meteringPointId,
    supported: isControllableKind(device.kind), controllable: control?.controllable ?? false, limits: (control?.limits ?? {}) as DeviceLimits,
    overrideUntil: control?.overrideUntilMs != null ? iso(control.overrideUntilMs) : null, overrideSource: control?.overrideSource ?? null,
    requests: (await applianceRequests(db, { deviceId: device.id })).map(requestView),
  };
}

export async function getDeviceControl(db: Queryable, principal: Principal, deviceId: string): Promise<DeviceControl> {
  const { device } = await deviceFor(db, principal, deviceId);
  return controlView(db, device);
}

/** Members stay in charge: only the device's member changes its settings. */
async function ownDevice(db: Queryable, principal: Principal, deviceId: string): Promise<Device> {
  const { device, owner } = await deviceFor(db, principal, deviceId);
  if (!owner) throw new ForbiddenError('only the device\'s member decides how the community may control it');
  return device;
}

export async function putDeviceControl(
  db: Queryable, publish: Publish, nowMs: number, principal: Principal, deviceId: string,
  body: { controllable?: boolean | undefined; limits?: DeviceLimits | undefined; overrideUntil?: string | null | undefined },
): Promise<{ control: DeviceControl; communityId: string; override: { untilMs: number | null } | undefined }> {
  const device = await ownDevice(db, principal, deviceId);
  const current = await controlOfDevice(db, device.id);
  if (!isControllableKind(device.kind)) throw new BadRequestError(`body: a plan cannot control a device of kind ${device.kind}`, 'body');
  const limits = body.limits === undefined ? current?.limits ?? {} : validateLimits(device.kind, body.limits);
  let overrideUntilMs = current?.overrideUntilMs ?? null;
  let overrideSource = current?.overrideSource ?? null;
  let override: { untilMs: number | null } | undefined;
  if (body.overrideUntil !== undefined) {
    const untilMs = body.overrideUntil === null ? null : Date.parse(body.overrideUntil);
    if (untilMs !== null && (untilMs <= nowMs || untilMs > nowMs + 7 * DAY_MS)) {
      throw new BadRequestError('body/overrideUntil: must lie in the next 7 days (null ends the override)', 'body/overrideUntil');
    }
    overrideUntilMs = untilMs;
    overrideSource = untilMs === null ? null : 'app';
    override = { untilMs };
  }
  const before = await controlView(db, device);
  await upsertControl(db, device.communityId, { deviceId: device.id, controllable: body.controllable ?? current?.controllable ?? false, limits, overrideUntilMs, overrideSource });
  const control = await controlView(db, device);
  await recordChange(publish, {
    kind: 'device-control', communityId: device.communityId, resourceId: device.id, action: override ? 'override' : 'set', before, after: control, atMs: nowMs,
  });
  return { control, communityId: device.communityId, override };
}

export async function createApplianceRequest(
  db: Queryable, publish: Publish, nowMs: number, principal: Principal, deviceId: string, body: { readyBy: string; earliestStart?: string | undefined },
): Promise<{ request: ApplianceRequest; communityId: string }> {
  const device = await ownDevice(db, principal, deviceId);
  if (device.kind !== 'smart-plug') throw new BadRequestError(`body: only appliances on a smart plug take start requests, this is a ${device.kind}`, 'body');
  const control = await controlOfDevice(db, device.id);
  if (!control?.controllable) throw new ConflictError('allow the community to control this appliance first (PUT /devices/{id}/control)');
  const earliestStartMs = body.earliestStart === undefined ? nowMs : Date.parse(body.earliestStart);
  const readyByMs = Date.parse(body.readyBy);
  if (readyByMs <= Math.max(earliestStartMs, nowMs)) throw new BadRequestError('body/readyBy: must be after now and after earliestStart', 'body/readyBy');
  if (readyByMs > nowMs + 2 * DAY_MS) throw new BadRequestError('body/readyBy: at most 48 hours ahead (the plan\'s horizon)', 'body/readyBy');
  const request = await insertRequest(db, { id: randomUUID(), communityId: device.communityId, deviceId: device.id, earliestStartMs, readyByMs, createdAtMs: nowMs });
  const view = requestView(request);
  await recordChange(publish, { kind: 'appliance-request', communityId: device.communityId, resourceId: request.id, action: 'create', before: null, after: view, atMs: nowMs });
  return { request: view, communityId: device.communityId };
}

export async function withdrawApplianceRequest(db: Queryable, publish: Publish, principal: Principal, id: string): Promise<string> {
  requireUser(principal);
  const request = await requestById(db, id);
  if (!request) throw new NotFoundError('appliance request');
  // Someone who cannot see the device learns nothing about the request.
  await ownDevice(db, principal, request.deviceId).catch((error: unknown) => {
    throw error instanceof NotFoundError ? new NotFoundError('appliance request') : error;
  });
  await deleteRequest(db, id);
  await recordChange(publish, { kind: 'appliance-request', communityId: request.communityId, resourceId: id, action: 'withdraw', before: requestView(request), after: null });
  return request.communityId;
}
