import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { isManagerOf } from '../accounts/index.js';
import { memberScope, type BindingPeriod, type DeviceDataScope } from './binding-periods.js';

interface BindingRow {
  device_id: string;
  metering_point_id: string;
  owner_member_id: string | null;
  bound_from: Date | null;
  bound_until: Date | null;
  messages_at_start: number;
  readings_at_start: number;
  duplicates_at_start: number;
  rejected_at_start: number;
}

const toPeriod = (row: BindingRow): BindingPeriod => ({
  meteringPointId: row.metering_point_id,
  ownerMemberId: row.owner_member_id,
  from: row.bound_from?.getTime() ?? null,
  until: row.bound_until?.getTime() ?? null,
  countersAtStart: {
    messages: row.messages_at_start, readings: row.readings_at_start, duplicates: row.duplicates_at_start, rejected: row.rejected_at_start,
  },
});

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
  const rows = await db.query<BindingRow>(
    `SELECT b.device_id, b.metering_point_id, mp.member_id AS owner_member_id, b.bound_from, b.bound_until,
       b.messages_at_start, b.readings_at_start, b.duplicates_at_start, b.rejected_at_start
     FROM device_bindings b LEFT JOIN metering_points mp ON mp.id = b.metering_point_id
     WHERE b.device_id = ANY($1::text[])`,
    [asMember.map((d) => d.id)],
  );
  const memberIds = new Set(principal.kind === 'user' ? principal.memberships.filter((m) => m.state === 'active').map((m) => m.memberId) : []);
  for (const device of asMember) {
    const periods = rows.filter((r) => r.device_id === device.id).map(toPeriod);
    scopes.set(device.id, memberScope(periods, memberIds));
  }
  return scopes;
}

export async function deviceDataScope(db: Queryable, principal: Principal, device: { id: string; communityId: string }): Promise<DeviceDataScope> {
  return (await deviceDataScopes(db, principal, [device])).get(device.id)!;
}

/**
 * The metering point each device was bound to at each instant (null: none), for readings a device
 * sends late, after it was moved: they belong to the site it measured then, not to its new one.
 */
export async function meteringPointsAt(db: Queryable, items: readonly { deviceId: string; ts: string }[]): Promise<(string | null)[]> {
  if (items.length === 0) return [];
  const rows = await db.query<{ i: number; metering_point_id: string | null }>(
    `SELECT u.i::int AS i, b.metering_point_id
     FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS u(device_id, ts, i)
     LEFT JOIN LATERAL (
       SELECT metering_point_id FROM device_bindings b
       WHERE b.device_id = u.device_id AND (b.bound_from IS NULL OR b.bound_from <= u.ts) AND (b.bound_until IS NULL OR u.ts < b.bound_until)
       ORDER BY b.bound_from DESC NULLS LAST LIMIT 1) b ON true`,
    [items.map((x) => x.deviceId), items.map((x) => x.ts)],
  );
  const points: (string | null)[] = items.map(() => null);
  for (const row of rows) points[row.i - 1] = row.metering_point_id;
  return points;
}
