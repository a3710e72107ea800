import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { isManagerOf } from '../accounts/index.js';
import { memberScope, type DeviceDataScope } from './binding-periods.js';
import { bindingPeriodsOf } from './store/bindings.js';

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
