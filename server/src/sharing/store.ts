import type { Queryable } from '../platform/store/db.js';
import { trimDecimal } from '../kernel/decimal.js';
import type { Co2Intensity, EnergyBySource, Quality } from '../kernel/energy.js';
import type { BySource } from './domain/battery.js';
import type { CoefficientPeriod, OperatorQuarter, PoolAfter, ShareVersion } from './domain/community-split.js';
import { DAY_ENERGY_KEYS, QUALITY_CODES, storedSlots, type DayChanges, type EnergyDay } from './domain/member-days.js';
import { DAY_MS, QUARTER_HOUR_MS } from '../kernel/time.js';
import { flagsFromText, numbersFromText } from '../platform/store/text-lists.js';

/**
 * Sharing's tables, the only SQL on them: member_energy_days (the split per member and quarter hour, a row per UTC day),
 * battery_energy_days (the same for each community battery), battery_pools, allocation_shares, allocation_coefficient_periods / allocation_coefficients,
 * co2_intensity / co2_intensity_hours, operator_allocations and the job's sharing_dirty marks
 * (marked in service.ts). Rows become domain values here.
 */

// ── member_energy_days, battery_energy_days ─────────────────────────────────────────────────

/** Whose days: the members' (member_energy_days) or the community batteries' (battery_energy_days, by metering point). */
export type DayKind = 'members' | 'batteries';
const DAY_TABLES: Record<DayKind, { table: string; id: string }> = {
  members: { table: 'member_energy_days', id: 'member_id' },
  batteries: { table: 'battery_energy_days', id: 'metering_point_id' },
};

/** One stored quarter hour (of a member, or summed over a community), energy by source in Wh. */
export interface StoredQuarter extends EnergyBySource {
  startMs: number;
  /** Community energy allocated to the member's import (what is billed). */
  allocatedFromCommunityWh: number;
  /** Part of fromCommunityWh a community battery had stored from the grid. */
  communityGridOriginWh: number;
  /** No data at all (a member's row, or every member of a community, missing). */
  missing: boolean;
  /** Known only in part (some members of a community missing). */
  incomplete: boolean;
  estimated: boolean;
  /** The split was made while another member's data was missing. */
  provisional: boolean;
}

/** Days since 1970-01-01 (SQL `day - DATE '1970-01-01'`), kept within PostgreSQL's dates for open ranges. */
const epochDay = (ms: number) => Math.min(1_000_000, Math.max(-1_000_000, Math.floor(ms / DAY_MS)));
/** Quarter hours since the epoch: a stored quarter hour q starts in [fromMs, toMs) when ceil(fromMs/Q) ≤ q < ceil(toMs/Q). */
const epochQuarter = (ms: number) => Math.min(2 ** 40, Math.max(-(2 ** 40), Math.ceil(ms / QUARTER_HOUR_MS)));

/** The columns of member_energy_days in the order of DAY_ENERGY_KEYS, then quality and provisional. */
const DAY_COLUMNS = ['consumption_wh', 'self_consumed_wh', 'from_community_wh', 'from_grid_wh', 'production_wh', 'to_community_wh', 'to_grid_wh',
  'allocated_from_community_wh', 'community_grid_origin_wh', 'quality', 'provisional'] as const;

/** A day row with every array column as text (`array_to_string(column, ',', '')`, read by platform/store's text-lists). */
type DayRow = { id: string; day_number: number } & Record<(typeof DAY_COLUMNS)[number], string>;

const toEnergyDay = (r: DayRow): EnergyDay => ({
  id: r.id,
  consumptionWh: numbersFromText(r.consumption_wh), selfConsumedWh: numbersFromText(r.self_consumed_wh), fromCommunityWh: numbersFromText(r.from_community_wh),
  fromGridWh: numbersFromText(r.from_grid_wh), productionWh: numbersFromText(r.production_wh), toCommunityWh: numbersFromText(r.to_community_wh),
  toGridWh: numbersFromText(r.to_grid_wh), allocatedFromCommunityWh: numbersFromText(r.allocated_from_community_wh),
  communityGridOriginWh: numbersFromText(r.community_grid_origin_wh), quality: numbersFromText(r.quality), provisional: flagsFromText(r.provisional),
});
const DAY_COLUMNS_AS_TEXT = DAY_COLUMNS.map((c) => `array_to_string(${c}, ',', '') AS ${c}`).join(', ');

/** The stored days of `kind` overlapping [fromMs, toMs) of one member (`of` 'id') or of a community, by day then id. */
async function storedDays(db: Queryable, kind: DayKind, of: 'id' | 'community_id', id: string, fromMs: number, toMs: number): Promise<{ dayMs: number; day: EnergyDay }[]> {
  if (toMs <= fromMs) return [];
  const { table, id: idColumn } = DAY_TABLES[kind];
  const rows = await db.query<DayRow>(
    `SELECT ${idColumn} AS id, day - DATE '1970-01-01' AS day_number, ${DAY_COLUMNS_AS_TEXT} FROM ${table}
     WHERE ${of === 'id' ? idColumn : of} = $1 AND day >= DATE '1970-01-01' + $2::int4 AND day <= DATE '1970-01-01' + $3::int4 ORDER BY day, ${idColumn}`,
    [id, epochDay(fromMs), epochDay(toMs - 1)],
  );
  return rows.map((r) => ({ dayMs: r.day_number * DAY_MS, day: toEnergyDay(r) }));
}

/** A member's stored quarter hours in [fromMs, toMs), ascending. */
export async function memberQuarters(db: Queryable, memberId: string, fromMs: number, toMs: number): Promise<StoredQuarter[]> {
  const quarters: StoredQuarter[] = [];
  for (const { dayMs, day } of await storedDays(db, 'members', 'id', memberId, fromMs, toMs)) {
    for (const s of storedSlots(dayMs, day, fromMs, toMs)) {
      const quality = QUALITY_CODES[day.quality[s]!]!;
      quarters.push({
        startMs: dayMs + s * QUARTER_HOUR_MS,
        consumptionWh: day.consumptionWh[s]!, selfConsumedWh: day.selfConsumedWh[s]!, fromCommunityWh: day.fromCommunityWh[s]!, fromGridWh: day.fromGridWh[s]!,
        productionWh: day.productionWh[s]!, toCommunityWh: day.toCommunityWh[s]!, toGridWh: day.toGridWh[s]!,
        allocatedFromCommunityWh: day.allocatedFromCommunityWh[s]!, communityGridOriginWh: day.communityGridOriginWh[s]!,
        missing: quality === 'missing', incomplete: false, estimated: quality === 'estimated', provisional: day.provisional[s]!,
      });
    }
  }
  return quarters;
}

/** One member's stored quarter hours of a range as columns (what settlement prices), index k the quarter hour at startsMs[k]. */
export interface MemberEnergyColumns {
  memberId: string;
  /** Ascending quarter-hour starts in [fromMs, toMs) that have a stored value. */
  startsMs: number[];
  consumptionWh: number[]; selfConsumedWh: number[]; fromCommunityWh: number[]; fromGridWh: number[];
  productionWh: number[]; toCommunityWh: number[]; toGridWh: number[];
  allocatedFromCommunityWh: number[]; communityGridOriginWh: number[];
  quality: Quality[];
  provisional: boolean[];
}

/** Every member of the community with a stored quarter hour in [fromMs, toMs), its quarter hours there as columns, sorted by memberId. */
export async function memberEnergyColumns(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<MemberEnergyColumns[]> {
  const byMember = new Map<string, MemberEnergyColumns>();
  for (const { dayMs, day } of await storedDays(db, 'members', 'community_id', communityId, fromMs, toMs)) {
    const slots = storedSlots(dayMs, day, fromMs, toMs);
    if (slots.length === 0) continue;
    let columns = byMember.get(day.id);
    if (columns === undefined) {
      columns = { memberId: day.id, startsMs: [], consumptionWh: [], selfConsumedWh: [], fromCommunityWh: [], fromGridWh: [], productionWh: [],
        toCommunityWh: [], toGridWh: [], allocatedFromCommunityWh: [], communityGridOriginWh: [], quality: [], provisional: [] };
      byMember.set(day.id, columns);
    }
    for (const s of slots) {
      columns.startsMs.push(dayMs + s * QUARTER_HOUR_MS);
      for (const key of DAY_ENERGY_KEYS) columns[key].push(day[key][s]!);
      columns.quality.push(QUALITY_CODES[day.quality[s]!]!);
      columns.provisional.push(day.provisional[s]!);
    }
  }
  return [...byMember.values()].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

/**
 * The community's stored quarter hours of `kinds` with their start (as a quarter-hour number since
 * the epoch) in [fromMs, toMs), as a FROM clause: one row per member (or battery, its id in
 * `member_id`) and quarter hour, unnested from the day rows in SQL so that sums over them never
 * leave the database. Parameters $1 community, $2/$3 first and last day, $4/$5 quarter-hour bounds.
 */
const communityQuartersOf = (kinds: readonly DayKind[]) => `(${kinds.map((kind) => `SELECT d.${DAY_TABLES[kind].id} AS member_id, (d.day - DATE '1970-01-01') * 96 + u.slot - 1 AS q, u.*
   FROM ${DAY_TABLES[kind].table} d, unnest(${DAY_COLUMNS.map((c) => `d.${c}`).join(', ')}) WITH ORDINALITY AS u(${DAY_COLUMNS.join(', ')}, slot)
   WHERE d.community_id = $1 AND d.day >= DATE '1970-01-01' + $2::int4 AND d.day <= DATE '1970-01-01' + $3::int4 AND u.quality IS NOT NULL`).join(' UNION ALL ')}) e
 WHERE e.q >= $4::int8 AND e.q < $5::int8`;
const MEMBER_QUARTERS = communityQuartersOf(['members']);
const communityRange = (communityId: string, fromMs: number, toMs: number) =>
  [communityId, epochDay(fromMs), epochDay(toMs - 1), epochQuarter(fromMs), epochQuarter(toMs)];

/** Sums of the Wh columns, named as the columns. */
const SUMS = DAY_COLUMNS.slice(0, DAY_ENERGY_KEYS.length).map((c) => `sum(e.${c})::int8 AS ${c}`).join(', ');

interface SumRow {
  consumption_wh: number; self_consumed_wh: number; from_community_wh: number; from_grid_wh: number; production_wh: number;
  to_community_wh: number; to_grid_wh: number; allocated_from_community_wh: number; community_grid_origin_wh: number;
}

/** The community's quarter hours in [fromMs, toMs), summed over its members and community batteries, ascending. */
export async function communityQuarters(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<StoredQuarter[]> {
  if (toMs <= fromMs) return [];
  const rows = await db.query<SumRow & { q: number; missing: boolean; incomplete: boolean; estimated: boolean; provisional: boolean }>(
    `SELECT e.q, ${SUMS}, bool_and(e.quality = 2) AS missing, bool_or(e.quality = 2) AS incomplete,
       bool_or(e.quality = 1) AS estimated, bool_or(e.provisional) AS provisional
     FROM ${communityQuartersOf(['members', 'batteries'])} GROUP BY e.q ORDER BY e.q`,
    communityRange(communityId, fromMs, toMs),
  );
  return rows.map((r) => ({
    startMs: r.q * QUARTER_HOUR_MS,
    consumptionWh: r.consumption_wh, selfConsumedWh: r.self_consumed_wh, fromCommunityWh: r.from_community_wh, fromGridWh: r.from_grid_wh,
    productionWh: r.production_wh, toCommunityWh: r.to_community_wh, toGridWh: r.to_grid_wh,
    allocatedFromCommunityWh: r.allocated_from_community_wh, communityGridOriginWh: r.community_grid_origin_wh,
    missing: r.missing, incomplete: r.incomplete, estimated: r.estimated, provisional: r.provisional,
  }));
}

/**
 * Each member's (or, `kind` 'batteries', each community battery's by metering point) energy in
 * [fromMs, toMs) summed, for those of the community with stored quarter hours there.
 */
export async function energyTotals(db: Queryable, kind: DayKind, communityId: string, fromMs: number, toMs: number): Promise<Map<string, EnergyBySource>> {
  if (toMs <= fromMs) return new Map();
  const rows = await db.query<SumRow & { member_id: string }>(
    `SELECT e.member_id, ${SUMS} FROM ${communityQuartersOf([kind])} GROUP BY e.member_id`,
    communityRange(communityId, fromMs, toMs),
  );
  return new Map(rows.map((r) => [r.member_id, {
    consumptionWh: r.consumption_wh, selfConsumedWh: r.self_consumed_wh, fromCommunityWh: r.from_community_wh, fromGridWh: r.from_grid_wh,
    productionWh: r.production_wh, toCommunityWh: r.to_community_wh, toGridWh: r.to_grid_wh,
  }]));
}

/** The members of the community with a stored quarter hour in [fromMs, toMs). */
export async function membersWithEnergy(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<Set<string>> {
  if (toMs <= fromMs) return new Set();
  const rows = await db.query<{ member_id: string }>(
    `SELECT DISTINCT e.member_id FROM ${MEMBER_QUARTERS}`, communityRange(communityId, fromMs, toMs),
  );
  return new Set(rows.map((r) => r.member_id));
}

/** The community's stored days of `kind` of one UTC day (`dayMs` its 00:00), by id: what a chunk of that day merges into. */
export async function communityDay(db: Queryable, kind: DayKind, communityId: string, dayMs: number): Promise<Map<string, EnergyDay>> {
  const days = await storedDays(db, kind, 'community_id', communityId, dayMs, dayMs + DAY_MS);
  return new Map(days.map(({ day }) => [day.id, day]));
}

/**
 * Stores what a chunk changed in one UTC day of a community's members or batteries, in one
 * statement: the changed days are upserted whole (and, should a row be stored meanwhile with the
 * same slots, not rewritten), and the day's stored rows of ids not `present` any more go (a member
 * who takes no part there now). The days travel as one flat array per column, day k's slots at
 * (k − 1) × 96 + 1 … k × 96, which the statement slices: no row or array literal per member.
 */
export async function writeEnergyDays(tx: Queryable, kind: DayKind, communityId: string, dayMs: number, changes: DayChanges): Promise<void> {
  const { table, id } = DAY_TABLES[kind];
  const slices = DAY_COLUMNS.map((c, k) => `($${k + 5}::${c === 'quality' ? 'int2' : c === 'provisional' ? 'bool' : 'int4'}[])[(k - 1) * 96 + 1 : k * 96] AS ${c}`);
  const stored = DAY_COLUMNS.map((c) => `${table}.${c}`).join(', ');
  const excluded = DAY_COLUMNS.map((c) => `EXCLUDED.${c}`).join(', ');
  await tx.query(
    `WITH gone AS (
       DELETE FROM ${table} WHERE community_id = $1 AND day = $2::date AND ${id} <> ALL($4::uuid[])
     )
     INSERT INTO ${table} (community_id, day, ${id}, ${DAY_COLUMNS.join(', ')})
     SELECT $1, $2::date, ($3::uuid[])[k], ${slices.join(', ')} FROM generate_series(1, cardinality($3::uuid[])) AS k
     ON CONFLICT (community_id, day, ${id}) DO UPDATE SET (${DAY_COLUMNS.join(', ')}, computed_at) = (${excluded}, now())
     WHERE (${stored}) IS DISTINCT FROM (${excluded})`,
    [communityId, new Date(dayMs).toISOString().slice(0, 10), changes.write.map((d) => d.id), changes.present,
      ...DAY_ENERGY_KEYS.map((key) => arrayLiteral(changes.write, (d) => d[key])), arrayLiteral(changes.write, (d) => d.quality),
      arrayLiteral(changes.write, (d) => d.provisional)],
  );
}

/**
 * One column of the days as a single flat array literal (`{1,NULL,…}`), joined natively: the
 * drivers' array encoding escapes every element on its own, which was the larger part of the
 * write. Array.join writes null as an empty string, which an array literal does not accept, so a
 * day with empty slots spells them out; booleans join as true/false, which PostgreSQL reads.
 */
function arrayLiteral(days: readonly EnergyDay[], column: (day: EnergyDay) => readonly (number | boolean | null)[]): string {
  const parts = days.map((day) => {
    const values = column(day);
    return values.includes(null) ? values.map((v) => v ?? 'NULL').join(',') : values.join(',');
  });
  return `{${parts.join(',')}}`;
}

/** Deletes every stored day of a community that is gone (member energy has no foreign key to members). */
export async function deleteCommunityEnergy(tx: Queryable, communityId: string): Promise<void> {
  await tx.query('DELETE FROM member_energy_days WHERE community_id = $1', [communityId]);
  await tx.query('DELETE FROM battery_energy_days WHERE community_id = $1', [communityId]);
}

// ── battery_pools ───────────────────────────────────────────────────────────────────────────

/** The stored pools of the points at `startsMs`, keyed `pointId|startMs`. */
export async function poolsAt(db: Queryable, pointIds: readonly string[], startsMs: readonly number[]): Promise<Map<string, BySource>> {
  const rows = await db.query<{ metering_point_id: string; start: Date; own_pv_wh: number; community_wh: number; grid_wh: number }>(
    `SELECT metering_point_id, start, own_pv_wh, community_wh, grid_wh FROM battery_pools
     WHERE metering_point_id = ANY($1::uuid[]) AND start = ANY($2::timestamptz[])`,
    [pointIds, startsMs.map((ms) => new Date(ms))],
  );
  return new Map(rows.map((r) => [`${r.metering_point_id}|${r.start.getTime()}`, { ownPv: r.own_pv_wh, community: r.community_wh, grid: r.grid_wh }]));
}

export async function writePools(tx: Queryable, communityId: string, pools: readonly PoolAfter[]): Promise<void> {
  if (pools.length === 0) return;
  await tx.query(
    `INSERT INTO battery_pools (metering_point_id, start, own_pv_wh, community_wh, grid_wh, community_id)
     SELECT *, $6::uuid FROM unnest($1::uuid[], $2::timestamptz[], $3::int8[], $4::int8[], $5::int8[])
     ON CONFLICT (metering_point_id, start, community_id) DO UPDATE SET
       own_pv_wh = EXCLUDED.own_pv_wh, community_wh = EXCLUDED.community_wh, grid_wh = EXCLUDED.grid_wh`,
    [pools.map((p) => p.pointId), pools.map((p) => new Date(p.startMs)), pools.map((p) => p.pool.ownPv),
      pools.map((p) => p.pool.community), pools.map((p) => p.pool.grid), communityId],
  );
}

// ── allocation_shares, allocation_coefficient_periods, allocation_coefficients ──────────────

/** Every version of the community's static key, oldest first. */
export async function loadShareVersions(db: Queryable, communityId: string): Promise<ShareVersion[]> {
  const rows = await db.query<{ valid_from: Date; member_id: string; share: string }>(
    'SELECT valid_from, member_id, share::text AS share FROM allocation_shares WHERE community_id = $1 ORDER BY valid_from, member_id',
    [communityId],
  );
  const versions = new Map<number, Map<string, string>>();
  for (const row of rows) {
    const ms = row.valid_from.getTime();
    const shares = versions.get(ms) ?? new Map<string, string>();
    shares.set(row.member_id, trimDecimal(row.share));
    versions.set(ms, shares);
  }
  return [...versions].map(([validFromMs, shares]) => ({ validFromMs, shares }));
}

/** Replaces the key version in force from `validFromMs` (no shares: the version goes). */
export async function replaceShares(tx: Queryable, communityId: string, validFromMs: number, shares: readonly { memberId: string; share: string }[]): Promise<void> {
  await tx.query('DELETE FROM allocation_shares WHERE community_id = $1 AND valid_from = $2', [communityId, new Date(validFromMs)]);
  if (shares.length === 0) return;
  await tx.query(
    `INSERT INTO allocation_shares (community_id, valid_from, member_id, share)
     SELECT $1, $2, m, s::numeric FROM unnest($3::uuid[], $4::text[]) AS u(m, s)`,
    [communityId, new Date(validFromMs), shares.map((s) => s.memberId), shares.map((s) => s.share)],
  );
}

/** The coefficient periods overlapping [fromMs, toMs). */
export async function loadCoefficientPeriods(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<CoefficientPeriod[]> {
  const rows = await db.query<{ start: Date; period_minutes: number; member_id: string | null; coefficient: string | null }>(
    `SELECT p.start, p.period_minutes, c.member_id, c.coefficient::text AS coefficient
     FROM allocation_coefficient_periods p LEFT JOIN allocation_coefficients c ON c.community_id = p.community_id AND c.start = p.start
     WHERE p.community_id = $1 AND p.start < $3 AND p.start + p.period_minutes * interval '1 minute' > $2
     ORDER BY p.start`,
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  const periods: CoefficientPeriod[] = [];
  let current: { startMs: number; endMs: number; shares: Map<string, string> } | undefined;
  for (const row of rows) {
    const startMs = row.start.getTime();
    if (current?.startMs !== startMs) {
      current = { startMs, endMs: startMs + row.period_minutes * 60_000, shares: new Map() };
      periods.push(current);
    }
    if (row.member_id !== null) current.shares.set(row.member_id, trimDecimal(row.coefficient!));
  }
  return periods;
}

/** Rows per statement, so a year of hourly coefficients of many members stays within the parameter limits. */
const INSERT_CHUNK = 20_000;

/**
 * Replaces the coefficient periods overlapping [fromMs, toMs) by periods of `periodMinutes` at
 * `startsMs` and their coefficients (exact decimals as text).
 */
export async function replaceCoefficients(
  tx: Queryable, communityId: string, fromMs: number, toMs: number, periodMinutes: number, startsMs: readonly number[],
  coefficients: { readonly memberIds: readonly string[]; readonly startsMs: readonly number[]; readonly values: readonly string[] },
): Promise<void> {
  await tx.query(
    `DELETE FROM allocation_coefficient_periods WHERE community_id = $1 AND start < $3
       AND start + period_minutes * interval '1 minute' > $2`,
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  for (let i = 0; i < startsMs.length; i += INSERT_CHUNK) {
    await tx.query(
      `INSERT INTO allocation_coefficient_periods (community_id, start, period_minutes) SELECT $1, s, $3 FROM unnest($2::timestamptz[]) AS u(s)`,
      [communityId, startsMs.slice(i, i + INSERT_CHUNK).map((ms) => new Date(ms)), periodMinutes],
    );
  }
  for (let i = 0; i < coefficients.memberIds.length; i += INSERT_CHUNK) {
    await tx.query(
      `INSERT INTO allocation_coefficients (community_id, start, member_id, coefficient)
       SELECT $1, s, m, c::numeric FROM unnest($2::timestamptz[], $3::uuid[], $4::text[]) AS u(s, m, c)`,
      [communityId, coefficients.startsMs.slice(i, i + INSERT_CHUNK).map((ms) => new Date(ms)), coefficients.memberIds.slice(i, i + INSERT_CHUNK),
        coefficients.values.slice(i, i + INSERT_CHUNK)],
    );
  }
}

/** How many coefficient periods the community holds, their span and lengths. */
export async function coefficientCoverage(db: Queryable, communityId: string): Promise<{ periods: number; fromMs: number | null; toMs: number | null; periodMinutes: number[] }> {
  const rows = await db.query<{ n: number; first: Date | null; last_end: Date | null; minutes: number[] | null }>(
    `SELECT count(*)::int AS n, min(start) AS first, max(start + period_minutes * interval '1 minute') AS last_end,
       array_agg(DISTINCT period_minutes::int) AS minutes
     FROM allocation_coefficient_periods WHERE community_id = $1`,
    [communityId],
  );
  const row = rows[0]!;
  return {
    periods: row.n, fromMs: row.first?.getTime() ?? null, toMs: row.last_end?.getTime() ?? null,
    periodMinutes: row.n === 0 ? [] : (row.minutes ?? []).map(Number).sort((a, b) => a - b),
  };
}

// ── co2_intensity, co2_intensity_hours ──────────────────────────────────────────────────────

/** The constant intensity (null: not configured) and how many hours have their own value, over which span. */
export async function co2Settings(db: Queryable, communityId: string): Promise<{ gramsPerKWh: number | null; hours: number; fromMs: number | null; toMs: number | null }> {
  const constant = await db.query<{ grams_per_kwh: string }>('SELECT grams_per_kwh::text FROM co2_intensity WHERE community_id = $1', [communityId]);
  const hours = await db.query<{ n: number; first: Date | null; last: Date | null }>(
    'SELECT count(*)::int AS n, min(hour) AS first, max(hour) AS last FROM co2_intensity_hours WHERE community_id = $1', [communityId],
  );
  return {
    gramsPerKWh: constant[0] ? Number(constant[0].grams_per_kwh) : null,
    hours: hours[0]?.n ?? 0, fromMs: hours[0]?.first?.getTime() ?? null, toMs: hours[0]?.last?.getTime() ?? null,
  };
}

/** Sets the constant intensity and adds (or replaces) hourly values. */
export async function writeCo2(tx: Queryable, communityId: string, gramsPerKWh: number, hourly: readonly { hourMs: number; gramsPerKWh: number }[]): Promise<void> {
  await tx.query(
    `INSERT INTO co2_intensity (community_id, grams_per_kwh) VALUES ($1, $2)
     ON CONFLICT (community_id) DO UPDATE SET grams_per_kwh = EXCLUDED.grams_per_kwh, updated_at = now()`,
    [communityId, gramsPerKWh],
  );
  if (hourly.length === 0) return;
  await tx.query(
    `INSERT INTO co2_intensity_hours (community_id, hour, grams_per_kwh)
     SELECT $1, h, g FROM unnest($2::timestamptz[], $3::numeric[]) AS u(h, g)
     ON CONFLICT (community_id, hour) DO UPDATE SET grams_per_kwh = EXCLUDED.grams_per_kwh`,
    [communityId, hourly.map((h) => new Date(h.hourMs)), hourly.map((h) => h.gramsPerKWh)],
  );
}

/** The intensity to price CO2 with over [fromMs, toMs) (no authorisation: callers checked it). */
export async function loadCo2Intensity(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<Co2Intensity> {
  const constant = await db.query<{ grams_per_kwh: string }>('SELECT grams_per_kwh::text FROM co2_intensity WHERE community_id = $1', [communityId]);
  const fallback = constant[0] ? Number(constant[0].grams_per_kwh) : 0;
  const hours = await db.query<{ hour: Date; grams_per_kwh: string }>(
    'SELECT hour, grams_per_kwh::text FROM co2_intensity_hours WHERE community_id = $1 AND hour >= $2 AND hour < $3',
    [communityId, new Date(Math.floor(fromMs / 3_600_000) * 3_600_000), new Date(toMs)],
  );
  if (hours.length === 0) return { kind: 'constant', gramsPerKWh: fallback };
  return { kind: 'hourly', gramsPerKWh: new Map(hours.map((h) => [h.hour.getTime(), Number(h.grams_per_kwh)])), fallback };
}

// ── operator_allocations ────────────────────────────────────────────────────────────────────

/** One quarter hour of the grid operator's allocation for one metering point (Austria: from EDA). */
export interface OperatorAllocation {
  meteringPointId: string;
  startMs: number;
  consumptionWh: number | null;
  fromCommunityWh: number | null;
  productionWh: number | null;
  toCommunityWh: number | null;
  /** Where the figures came from, e.g. the EDA message id. */
  source: string;
}

/** Upserts the rows; a null leaves the stored value (an EDA message may carry only some energy codes). */
export async function upsertOperatorAllocations(tx: Queryable, communityId: string, rows: readonly OperatorAllocation[]): Promise<void> {
  await tx.query(
    `INSERT INTO operator_allocations (community_id, metering_point_id, start, consumption_wh, from_community_wh, production_wh, to_community_wh, source)
     SELECT $1, p, s, c, f, pr, t, src FROM unnest($2::uuid[], $3::timestamptz[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::text[])
       AS u(p, s, c, f, pr, t, src)
     ON CONFLICT (metering_point_id, start, community_id) DO UPDATE SET
       consumption_wh = COALESCE(EXCLUDED.consumption_wh, operator_allocations.consumption_wh),
       from_community_wh = COALESCE(EXCLUDED.from_community_wh, operator_allocations.from_community_wh),
       production_wh = COALESCE(EXCLUDED.production_wh, operator_allocations.production_wh),
       to_community_wh = COALESCE(EXCLUDED.to_community_wh, operator_allocations.to_community_wh),
       source = EXCLUDED.source, imported_at = now()`,
    [communityId, rows.map((r) => r.meteringPointId), rows.map((r) => new Date(r.startMs)), rows.map((r) => r.consumptionWh),
      rows.map((r) => r.fromCommunityWh), rows.map((r) => r.productionWh), rows.map((r) => r.toCommunityWh), rows.map((r) => r.source)],
  );
}

/** The community's operator figures at `startsMs`, keyed `pointId|startMs`. */
export async function operatorAllocationsAt(db: Queryable, communityId: string, startsMs: readonly number[]): Promise<Map<string, OperatorQuarter>> {
  const rows = await db.query<{ metering_point_id: string; start: Date; from_community_wh: number | null; to_community_wh: number | null }>(
    `SELECT metering_point_id, start, from_community_wh, to_community_wh FROM operator_allocations
     WHERE community_id = $1 AND start = ANY($2::timestamptz[])`,
    [communityId, startsMs.map((ms) => new Date(ms))],
  );
  return new Map(rows.map((r) => [`${r.metering_point_id}|${r.start.getTime()}`, { fromCommunityWh: r.from_community_wh, toCommunityWh: r.to_community_wh }]));
}

// ── sharing_dirty (the job's work list; marks are written by service.ts) ───────────────────

/** Communities with marked quarter hours, the longest waiting first. */
export async function dirtyCommunities(db: Queryable, limit: number): Promise<string[]> {
  const rows = await db.query<{ community_id: string }>(
    'SELECT community_id FROM sharing_dirty GROUP BY community_id ORDER BY min(start), community_id LIMIT $1', [limit],
  );
  return rows.map((r) => r.community_id);
}

/** A mark: the quarter hour and the version it was marked with (a later mark has a higher one). */
export interface DirtyMark { startMs: number; version: number }

/** The community's oldest `limit` marks. */
export async function dirtyMarks(db: Queryable, communityId: string, limit: number): Promise<DirtyMark[]> {
  const rows = await db.query<{ start: Date; version: number }>(
    'SELECT start, version FROM sharing_dirty WHERE community_id = $1 ORDER BY start LIMIT $2', [communityId, limit],
  );
  return rows.map((r) => ({ startMs: r.start.getTime(), version: r.version }));
}

/** Clears the marks done, unless marked again since (a higher version). */
export async function clearMarks(tx: Queryable, communityId: string, marks: readonly DirtyMark[]): Promise<void> {
  await tx.query(
    `DELETE FROM sharing_dirty d USING unnest($2::timestamptz[], $3::int8[]) AS u(s, v)
     WHERE d.community_id = $1 AND d.start = u.s AND d.version <= u.v`,
    [communityId, marks.map((m) => new Date(m.startMs)), marks.map((m) => m.version)],
  );
}

/** Drops every mark of a community that is gone. */
export async function clearCommunityMarks(db: Queryable, communityId: string): Promise<void> {
  await db.query('DELETE FROM sharing_dirty WHERE community_id = $1', [communityId]);
}

/** Marks quarter hours of a community for the sharing job; a mark already there gets a new version. */
export async function markQuarters(tx: Queryable, communityId: string, startsMs: readonly number[]): Promise<void> {
  await tx.query(
    `INSERT INTO sharing_dirty (community_id, start) SELECT $1, s FROM unnest($2::timestamptz[]) AS u(s)
     ON CONFLICT (community_id, start) DO UPDATE SET version = nextval('sharing_dirty_version')`,
    [communityId, [...new Set(startsMs)].map((ms) => new Date(ms))],
  );
}
