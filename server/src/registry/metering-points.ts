import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { Principal } from '../kernel/principal.js';
import { activeMembership, isManagerOf, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { conflictOnDuplicate } from '../platform/store/errors.js';
import { recordChange } from '../audit/index.js';
import { getCommunity } from './communities.js';
import { isActiveMemberIn } from './store/members.js';
import { deleteMeteringPointRow, insertMeteringPoint, meteringPointById, meteringPointsOfCommunity, meteringPointsOfMember, patchMeteringPoint, pointHoldingAnyId, type MeteringPoint, type MeteringPointInput } from './store/metering-points.js';
import { connectionCapacityW, type MeteringPointRole } from './domain/site-limits.js';

export { connectionCapacityW, type MeteringPoint, type MeteringPointInput, type MeteringPointRole };

/** Sites belong to their member; the community's managers see and manage all of them. */
function canSee(principal: Principal, point: MeteringPoint): boolean {
  if (isManagerOf(principal, point.communityId)) return true;
  return principal.kind === 'user' && principal.memberships.some((m) => m.memberId === point.memberId && m.state === 'active');
}

export async function getMeteringPoint(db: Queryable, principal: Principal, id: string): Promise<MeteringPoint> {
  requireUser(principal);
  const point = await meteringPointById(db, id);
  if (!point || !canSee(principal, point)) throw new NotFoundError('metering point');
  return point;
}

export async function listMeteringPoints(db: Queryable, principal: Principal, communityId: string): Promise<MeteringPoint[]> {
  requireUser(principal);
  await getCommunity(db, principal, communityId);
  if (isManagerOf(principal, communityId)) {
    return meteringPointsOfCommunity(db, communityId);
  }
  const own = activeMembership(principal, communityId);
  if (!own) throw new NotFoundError('community');
  return meteringPointsOfMember(db, own.memberId);
}

/** What the database says when a concurrent write took the id between our check and the write. */
const DUPLICATE_GRID_CONNECTION = 'this grid connection id (or generation grid connection id) is already registered in the community';

/** Roles that feed in, and so may have a generation id of their own. */
const FEEDS_IN: readonly MeteringPointRole[] = ['producer', 'prosumer'];

/**
 * The point's ids as they would be after the write: a generation id only on a point that feeds
 * in, and not the consumption id again (400, with the field to fix).
 */
function checkIds(gridConnectionId: string, generationGridConnectionId: string | null, role: MeteringPointRole): void {
  if (generationGridConnectionId === null) return;
  if (!FEEDS_IN.includes(role)) {
    throw new BadRequestError(`body/generationGridConnectionId: only producer and prosumer points have one (role is ${role}); set it to null first`,
      'body/generationGridConnectionId');
  }
  if (generationGridConnectionId === gridConnectionId) {
    throw new BadRequestError('body/generationGridConnectionId: must differ from gridConnectionId (the consumption id)', 'body/generationGridConnectionId');
  }
}

/**
 * Within a community an id names one metering point, as its consumption id or its generation id:
 * the operator's message for a Zählpunkt must lead to one point (operator-imports.ts). Checked
 * here for a message that says which id clashes; the database (grid_connection_ids, migration
 * 0025) refuses the same under concurrent writes.
 */
async function checkIdsFree(db: Queryable, communityId: string, pointId: string | null, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const clash = await pointHoldingAnyId(db, communityId, pointId, ids);
  if (!clash) return;
  const id = ids.find((candidate) => candidate === clash.gridConnectionId || candidate === clash.generationGridConnectionId)!;
  const as = id === clash.gridConnectionId ? 'grid connection id' : 'generation grid connection id';
  throw new ConflictError(`${id} is already registered in the community as another metering point's ${as}`);
}

/** A feed-in limit above what the connection carries at all means nothing: refused, naming the field. */
function checkExportLimit(exportLimitW: number | null, capacityW: number): void {
  if (exportLimitW !== null && exportLimitW > capacityW) {
    throw new BadRequestError(`body/exportLimitW: ${exportLimitW} W is above the connection's capacity (${capacityW} W)`, 'body/exportLimitW');
  }
}

export async function createMeteringPoint(
  db: Db,
  events: EventPublisher,
  principal: Principal,
  communityId: string,
  input: MeteringPointInput,
): Promise<MeteringPoint> {
  requireUser(principal);
  await getCommunity(db, principal, communityId);
  const own = activeMembership(principal, communityId);
  const memberId = input.memberId ?? own?.memberId;
  if (!isManagerOf(principal, communityId)) {
    if (!own) throw new NotFoundError('community');
    if (memberId !== own.memberId) throw new NotFoundError('member');
  }
  if (!memberId) throw new BadRequestError('body/memberId: is required for managers', 'body/memberId');
  // The physical limits of the site decide what counts as plausible energy: the managers set them.
  if (input.communityBattery || input.connectionCapacityW != null || input.exportLimitW != null) requireManager(principal, communityId, 'community');
  checkExportLimit(input.exportLimitW ?? null, connectionCapacityW({ role: input.role, pvCapacityW: input.pvCapacityW ?? null, connectionCapacityW: input.connectionCapacityW ?? null }));
  if (!(await isActiveMemberIn(db, memberId, communityId))) throw new NotFoundError('member');
  const generationId = input.generationGridConnectionId ?? null;
  checkIds(input.gridConnectionId, generationId, input.role);
  await checkIdsFree(db, communityId, null, generationId === null ? [input.gridConnectionId] : [input.gridConnectionId, generationId]);
  return events.transaction(db, async (tx, publish) => {
    const point = await conflictOnDuplicate(DUPLICATE_GRID_CONNECTION, () =>
      insertMeteringPoint(tx, communityId, memberId, { ...input, generationGridConnectionId: generationId }));
    await recordChange(publish, { kind: 'metering-point', communityId, resourceId: point.id, action: 'create', before: null, after: point, subjectMemberId: memberId });
    return point;
  });
}

export async function updateMeteringPoint(
  db: Db,
  events: EventPublisher,
  principal: Principal,
  id: string,
  patch: Partial<Omit<MeteringPointInput, 'memberId'>>,
): Promise<MeteringPoint> {
  const point = await getMeteringPoint(db, principal, id);
  // Which point is the community's battery changes everybody's split: the managers decide.
  if (patch.communityBattery !== undefined && patch.communityBattery !== point.communityBattery) requireManager(principal, point.communityId, 'metering point');
  if (patch.connectionCapacityW !== undefined && patch.connectionCapacityW !== point.connectionCapacityW) requireManager(principal, point.communityId, 'metering point');
  if (patch.exportLimitW !== undefined && patch.exportLimitW !== point.exportLimitW) requireManager(principal, point.communityId, 'metering point');
  checkExportLimit(patch.exportLimitW !== undefined ? patch.exportLimitW : point.exportLimitW, connectionCapacityW({
    role: patch.role ?? point.role,
    pvCapacityW: patch.pvCapacityW !== undefined ? patch.pvCapacityW : point.pvCapacityW,
    connectionCapacityW: patch.connectionCapacityW !== undefined ? patch.connectionCapacityW : point.connectionCapacityW,
  }));
  const gridConnectionId = patch.gridConnectionId ?? point.gridConnectionId;
  const generationId = patch.generationGridConnectionId !== undefined ? patch.generationGridConnectionId : point.generationGridConnectionId;
  checkIds(gridConnectionId, generationId, patch.role ?? point.role);
  const changed = [patch.gridConnectionId, patch.generationGridConnectionId].filter((id): id is string => typeof id === 'string');
  await checkIdsFree(db, point.communityId, point.id, changed);
  return events.transaction(db, async (tx, publish) => {
    const after = await conflictOnDuplicate(DUPLICATE_GRID_CONNECTION, () => patchMeteringPoint(tx, id, patch));
    await recordChange(publish, { kind: 'metering-point', communityId: point.communityId, resourceId: id, action: 'update', before: point, after, subjectMemberId: point.memberId });
    return after;
  });
}

/**
 * Its member or a manager removes a site entered by mistake. A site with recorded energy stays:
 * the capabilities holding that energy refuse `site.removing`, and nothing is removed.
 */
export async function deleteMeteringPoint(db: Db, events: EventPublisher, principal: Principal, id: string): Promise<void> {
  const point = await getMeteringPoint(db, principal, id);
  await events.transaction(db, async (tx, publish) => {
    await publish('site.removing', { communityId: point.communityId, meteringPointId: point.id });
    await deleteMeteringPointRow(tx, point.id);
    await recordChange(publish, { kind: 'metering-point', communityId: point.communityId, resourceId: point.id, action: 'delete', before: point, after: null, subjectMemberId: point.memberId });
  });
}
