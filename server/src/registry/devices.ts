import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { Quotas } from '../quotas/index.js';
import type { Principal } from '../kernel/principal.js';
import { activeMembership, isManagerOf, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import type { DeviceRole } from '../kernel/energy.js';
import { conflictOnDuplicate } from '../platform/store/errors.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import { getCommunity } from './communities.js';
import { isMeteringPointIn } from './store/metering-points.js';
import { DEVICE_KINDS, countDevices, deleteDeviceRow, deviceWithOwnership, devicesOfCommunity, insertDevice, otherBillingMeter, patchDevice, recordedRole, setDeviceBinding, setDeviceSpecs, type Device, type DeviceKind, type DeviceStatus } from './store/devices.js';
import { validateSpecs, type DeviceSpecs } from './domain/device-specs.js';

export { DEVICE_KINDS, DEVICE_ROLES, countDevices, type Device, type DeviceKind, type DeviceStatus, type DeviceRole };
import { DEVICE_ROLES } from '@gridshare/contract/registry';

/** The role a device of a kind takes when it is bound without one (as the database's default does). */
export function defaultRole(kind: DeviceKind): DeviceRole {
  if (kind === 'meter-reader') return 'billing-meter';
  if (kind === 'inverter') return 'production';
  if (kind === 'battery') return 'storage';
  return 'sub-load';
}

export async function getDevice(db: Queryable, principal: Principal, id: string): Promise<Device> {
  const user = requireUser(principal);
  const found = await deviceWithOwnership(db, id, user.userId);
  if (!found || !(found.owned || isManagerOf(principal, found.communityId))) throw new NotFoundError('device');
  const { owned: _owned, ...device } = found;
  return device;
}

export async function listDevices(db: Queryable, principal: Principal, communityId: string): Promise<Device[]> {
  const user = requireUser(principal);
  await getCommunity(db, principal, communityId);
  const all = isManagerOf(principal, communityId);
  if (!all && !activeMembership(principal, communityId)) throw new NotFoundError('community');
  return devicesOfCommunity(db, communityId, user.userId, all);
}

/** Device ids are not guessable and never reused: 80 random bits. */
export function newDeviceId(): string {
  return `gs-${randomBytes(10).toString('hex')}`;
}

async function assertMeteringPointInCommunity(db: Queryable, communityId: string, meteringPointId: string | null | undefined) {
  if (!meteringPointId) return;
  if (!(await isMeteringPointIn(db, meteringPointId, communityId))) throw new NotFoundError('metering point');
}

const SECOND_BILLING_METER = 'this metering point already has a billing meter';

/**
 * The role a device takes on a site: the one asked for, else its kind's default. A site has one
 * billing meter: asking for a second is refused, naming the one it has (the database's unique
 * index refuses the same under concurrent writes).
 */
export async function roleForBinding(db: Queryable, device: { id: string; kind: DeviceKind }, meteringPointId: string, requested: DeviceRole | undefined): Promise<DeviceRole> {
  const role = requested ?? defaultRole(device.kind);
  if (role !== 'billing-meter') return role;
  const holder = await otherBillingMeter(db, meteringPointId, device.id);
  if (holder) {
    throw new ConflictError(`${SECOND_BILLING_METER}, device ${holder.id} ("${holder.name}"); a site has one. Bind this device in another role `
      + '(production: a PV inverter; storage: a battery; sub-load: a sub-meter, a charger, a heat pump), or unbind or re-role that device first');
  }
  return role;
}

/** Binds a device to a site in a role (or unbinds it), refusing a second billing meter whatever races it. */
export async function bindDevice(db: Queryable, deviceId: string, meteringPointId: string | null, role: DeviceRole | null, options: { claimed?: boolean } = {}): Promise<void> {
  await conflictOnDuplicate(SECOND_BILLING_METER, () => setDeviceBinding(db, deviceId, meteringPointId, role, options.claimed ?? false));
}

export async function createDevice(
  db: Db,
  events: EventPublisher,
  quotas: Quotas,
  principal: Principal,
  communityId: string,
  input: { kind: DeviceKind; name: string; meteringPointId?: string | null | undefined; role?: DeviceRole | undefined },
): Promise<Device> {
  requireManager(principal, communityId);
  await assertMeteringPointInCommunity(db, communityId, input.meteringPointId);
  const id = newDeviceId();
  const role = input.meteringPointId ? await roleForBinding(db, { id, kind: input.kind }, input.meteringPointId, input.role) : null;
  if (!input.meteringPointId && input.role) throw new BadRequestError('body/role: a role is a device\'s role on a site; give meteringPointId too', 'body/role');
  return events.transaction(db, async (tx, publish) => {
    await quotas.enforce(tx, principal, 'devicesPerCommunity', communityId, 1, async () => ({ used: await countDevices(tx, communityId) }));
    const device = await conflictOnDuplicate(SECOND_BILLING_METER, () =>
      insertDevice(tx, { id, communityId, meteringPointId: input.meteringPointId ?? null, kind: input.kind, name: input.name, role }));
    await recordChange(publish, { kind: 'device', communityId, resourceId: id, action: 'create', before: null, after: device });
    return device;
  });
}

/** What an update changed for the intervals: the site whose readings of this device now mean something else. */
export interface DeviceUpdate {
  device: Device;
  /** Set when the device's role at a site where it has (had) readings changed. */
  roleChangedAt: string | undefined;
}

export async function updateDevice(
  db: Db,
  events: EventPublisher,
  principal: Principal,
  id: string,
  patch: { name?: string | undefined; meteringPointId?: string | null | undefined; status?: DeviceStatus | undefined; role?: DeviceRole | undefined },
): Promise<DeviceUpdate> {
  return events.transaction(db, async (tx, publish) => {
    const device = await getDevice(tx, principal, id);
    requireManager(principal, device.communityId, 'device');
    await assertMeteringPointInCommunity(tx, device.communityId, patch.meteringPointId);
    const pointId = patch.meteringPointId !== undefined ? patch.meteringPointId : device.meteringPointId;
    if (patch.role !== undefined && pointId === null) {
      throw new BadRequestError('body/role: the device is bound to no metering point; give meteringPointId too', 'body/role');
    }
    let roleChangedAt: string | undefined;
    if (patch.meteringPointId !== undefined || patch.role !== undefined) {
      const role = pointId === null ? null : await roleForBinding(tx, device, pointId,
        patch.role ?? (patch.meteringPointId === undefined || patch.meteringPointId === device.meteringPointId ? device.role ?? undefined : undefined));
      if (pointId !== null) {
        const before = await recordedRole(tx, pointId, id);
        if (before !== undefined && before !== role) roleChangedAt = pointId;
      }
      await bindDevice(tx, id, pointId, role);
    }
    const after = await patchDevice(tx, id, { name: patch.name, status: patch.status });
    await recordChange(publish, { kind: 'device', communityId: device.communityId, resourceId: id, action: 'update', before: device, after });
    return { device: after, roleChangedAt };
  });
}

/** Its member or a manager records a device's technical data (what the datasheet says), checked for its kind. */
export async function updateDeviceSpecs(db: Db, events: EventPublisher, principal: Principal, id: string, specs: DeviceSpecs | null): Promise<Device> {
  return events.transaction(db, async (tx, publish) => {
    const device = await getDevice(tx, principal, id);
    const after = await setDeviceSpecs(tx, id, specs === null ? null : validateSpecs(device.kind, specs));
    await recordChange(publish, { kind: 'device', communityId: device.communityId, resourceId: id, action: 'update', before: device, after });
    return after;
  });
}

export async function deleteDevice(db: Db, events: EventPublisher, principal: Principal, id: string): Promise<void> {
  await events.transaction(db, async (tx, publish) => {
    const device = await getDevice(tx, principal, id);
    requireManager(principal, device.communityId, 'device');
    await deleteDeviceRow(tx, id);
    await recordChange(publish, { kind: 'device', communityId: device.communityId, resourceId: id, action: 'delete', before: device, after: null });
  });
}
