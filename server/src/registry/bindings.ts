import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { isManagerOf } from '../accounts/index.js';
import { memberScope, type DeviceDataScope, type MemberDataScope } from './binding-periods.js';
import { bindingPeriodsOf, devicesBoundToSitesOf } from './store/bindings.js';
import { devicesByIds, type Device } from './store/devices.js';

/**
 * What of each device's data the caller may see: everything for the community's managers and
 * admins; for a member, only the periods the device was bound to their own sites.
 */
export async function deviceDataScopes(
  db: Queryable,
  principal: Principal,
  devices: readonly { id: string; communityId: string }[],
): Promise<Map<string, DeviceDataScope>> {
  const scopes = new Map<string, DeviceDataScope>();
  const asMember = devices.filter((d) => !isManagerOf(principal, d.communityId));
  for (const device of devices) if (!asMember.includes(device)) scopes.set(device.id, { kind: 'all' });
  if (asMember.length === 0) return scopes;
  const periods = await bindingPeriodsOf(db, asMember.map((d) => d.id));
  const memberIds = new Set(principal.kind === 'user' ? principal.memberships.filter((m) => m.state === 'active').map((m) => m.memberId) : []);
  for (const device of asMember) {
    scopes.set(device.id, memberScope(periods.get(device.id)!, memberIds));
  }
  return scopes;
}

export async function deviceDataScope(db: Queryable, principal: Principal, device: { id: string; communityId: string }): Promise<DeviceDataScope> {
  return (await deviceDataScopes(db, principal, [device])).get(device.id)!;
}

/** A device that is or was on a site of the members, with their part of its data. */
export interface MembersDevice {
  readonly device: Device;
  readonly scope: MemberDataScope;
}

/**
 * The devices that are or were bound to a site of these members (one person's memberships), each
 * with the periods it was: what of its data is theirs. Trusted callers only (the member's export,
 * erasure): no principal is checked.
 */
export async function devicesOfMembers(db: Queryable, memberIds: readonly string[]): Promise<MembersDevice[]> {
  const ids = await devicesBoundToSitesOf(db, memberIds);
  if (ids.length === 0) return [];
  const periods = await bindingPeriodsOf(db, ids);
  const members = new Set(memberIds);
  return (await devicesByIds(db, ids)).map((device) => ({ device, scope: memberScope(periods.get(device.id)!, members) }));
}
