import type { Queryable } from '../../platform/store/db.js';
import type { BindingPeriod } from '../binding-periods.js';

/** The only SQL on the device_bindings table (each period a device was bound to a site). */

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

/** Every binding period of these devices, with the member owning each site now. */
export async function bindingPeriodsOf(db: Queryable, deviceIds: readonly string[]): Promise<Map<string, BindingPeriod[]>> {
  const rows = await db.query<BindingRow>(
    `SELECT b.device_id, b.metering_point_id, mp.member_id AS owner_member_id, b.bound_from, b.bound_until,
       b.messages_at_start, b.readings_at_start, b.duplicates_at_start, b.rejected_at_start
     FROM device_bindings b LEFT JOIN metering_points mp ON mp.id = b.metering_point_id
     WHERE b.device_id = ANY($1::text[])`,
    [deviceIds],
  );
  const periods = new Map<string, BindingPeriod[]>(deviceIds.map((id) => [id, []]));
  for (const row of rows) periods.get(row.device_id)?.push(toPeriod(row));
  return periods;
}

/** The devices that are or ever were bound to a site these members own, in id order. */
export async function devicesBoundToSitesOf(db: Queryable, memberIds: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ device_id: string }>(
    `SELECT DISTINCT b.device_id FROM device_bindings b JOIN metering_points mp ON mp.id = b.metering_point_id
     WHERE mp.member_id = ANY($1::uuid[]) ORDER BY b.device_id`,
    [memberIds],
  );
  return rows.map((r) => r.device_id);
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
