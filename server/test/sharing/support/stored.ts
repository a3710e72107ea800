/**
 * A community written straight into a migrated test database (no HTTP, no password hashing),
 * with helpers to store quarter-hour intervals as the interval job would and to run the sharing
 * job, for service-level tests of sharing and billing.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../../src/platform/store/db.js';
import { markSharingDirty, processSharingDirty } from '../../../src/sharing/service.js';
import { memberQuarters, type StoredQuarter } from '../../../src/sharing/store.js';
import { provisionalFigures } from '../../../src/operator/index.js';

export const Q = 900_000;

export interface StoredCommunity {
  id: string;
  /** Member id and its first metering point id, by name. */
  members: Record<string, { memberId: string; pointId: string }>;
}

export async function storeCommunity(
  db: Db,
  names: readonly string[],
  options: { rule?: string; mode?: 'compute' | 'operator'; timeZone?: string; currency?: string } = {},
): Promise<StoredCommunity> {
  const id = randomUUID();
  await db.query(
    `INSERT INTO communities (id, name, time_zone, currency, allocation_rule, allocation_mode) VALUES ($1, $2, $3, $4, $5, $6)`,
    [id, `Stored ${id.slice(0, 8)}`, options.timeZone ?? 'Europe/Vienna', options.currency ?? 'EUR', options.rule ?? 'dynamic', options.mode ?? 'compute'],
  );
  const members: StoredCommunity['members'] = {};
  for (const name of names) {
    const user = await db.query<{ id: string }>(
      `INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, 'x') RETURNING id`, [`${name}-${id}@example.org`, name],
    );
    const member = await db.query<{ id: string }>(
      `INSERT INTO members (community_id, user_id, role, state, display_name, decided_at) VALUES ($1, $2, 'member', 'active', $3, now()) RETURNING id`,
      [id, user[0]!.id, name],
    );
    const pointId = await addPoint(db, id, member[0]!.id, name);
    members[name] = { memberId: member[0]!.id, pointId };
  }
  return { id, members };
}

export async function addPoint(db: Db, communityId: string, memberId: string, name: string, communityBattery = false): Promise<string> {
  const point = await db.query<{ id: string }>(
    `INSERT INTO metering_points (community_id, member_id, name, grid_connection_id, role, community_battery)
     VALUES ($1, $2, $3, $4, 'prosumer', $5) RETURNING id`,
    [communityId, memberId, name, `GC${randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase()}`, communityBattery],
  );
  return point[0]!.id;
}

export interface StoredInterval {
  importWh: number | null;
  exportWh: number | null;
  pvWh?: number | null;
  chargeWh?: number | null;
  dischargeWh?: number | null;
  quality?: 'measured' | 'estimated' | 'missing';
}

/** Writes intervals (as the interval job does) and marks their quarter hours for sharing in the same transaction. */
export async function storeIntervals(db: Db, communityId: string, pointId: string, byStart: Record<number, StoredInterval>): Promise<void> {
  const starts = Object.keys(byStart).map(Number);
  const all = starts.map((start) => byStart[start]!);
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh, quality)
       SELECT $1, s, $2, i, e, p, c, d, q FROM unnest($3::timestamptz[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::text[]) AS u(s, i, e, p, c, d, q)
       ON CONFLICT (metering_point_id, start, community_id) DO UPDATE SET import_wh = EXCLUDED.import_wh, export_wh = EXCLUDED.export_wh,
         pv_wh = EXCLUDED.pv_wh, battery_charge_wh = EXCLUDED.battery_charge_wh, battery_discharge_wh = EXCLUDED.battery_discharge_wh,
         quality = EXCLUDED.quality`,
      [pointId, communityId, starts.map((ms) => new Date(ms)), all.map((iv) => iv.importWh), all.map((iv) => iv.exportWh),
        all.map((iv) => iv.pvWh ?? null), all.map((iv) => iv.chargeWh ?? null), all.map((iv) => iv.dischargeWh ?? null),
        all.map((iv) => iv.quality ?? (iv.importWh === null || iv.exportWh === null ? 'missing' : 'measured'))],
    );
    await markSharingDirty(tx, communityId, starts);
  });
}

/** Runs the sharing job until nothing is marked. */
export async function runSharing(db: Db): Promise<void> {
  while ((await processSharingDirty(db, provisionalFigures)) > 0) { /* until nothing is dirty */ }
}

export interface EnergyRow {
  consumption: number;
  self: number;
  fromCommunity: number;
  fromGrid: number;
  production: number;
  toCommunity: number;
  toGrid: number;
  allocated: number;
  gridOrigin: number;
  quality: string;
  provisional: boolean;
}

/** A member's stored split of one quarter hour, read as the application reads it (sharing's store). */
export async function memberRow(db: Db, memberId: string, start: number): Promise<EnergyRow | undefined> {
  const r = (await memberQuarters(db, memberId, start, start + Q))[0];
  if (!r) return undefined;
  return {
    consumption: r.consumptionWh, self: r.selfConsumedWh, fromCommunity: r.fromCommunityWh, fromGrid: r.fromGridWh, production: r.productionWh,
    toCommunity: r.toCommunityWh, toGrid: r.toGridWh, allocated: r.allocatedFromCommunityWh, gridOrigin: r.communityGridOriginWh,
    quality: r.missing ? 'missing' : r.estimated ? 'estimated' : 'measured', provisional: r.provisional,
  };
}

/** Every stored quarter hour of a community's members, by quarter hour then member name (ids differ between communities). */
export async function storedRows(db: Db, communityId: string): Promise<(StoredQuarter & { name: string })[]> {
  const members = await db.query<{ id: string; name: string }>('SELECT id, display_name AS name FROM members WHERE community_id = $1', [communityId]);
  const rows: (StoredQuarter & { name: string })[] = [];
  for (const m of members) for (const q of await memberQuarters(db, m.id, -Infinity, Infinity)) rows.push({ ...q, name: m.name });
  return rows.sort((a, b) => a.startMs - b.startMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
