import type { Queryable } from '../platform/store/db.js';
import { trimDecimal } from '../kernel/decimal.js';
import type { Co2Intensity, EnergyBySource, Quality } from '../kernel/energy.js';
import type { BySource } from './domain/battery.js';
import type { CoefficientPeriod, MemberQuarter, OperatorQuarter, PoolAfter, ShareVersion } from './domain/community-split.js';

/**
 * Sharing's tables, the only SQL on them: member_energy (the split per member and quarter hour),
 * battery_pools, allocation_shares, allocation_coefficient_periods / allocation_coefficients,
 * co2_intensity / co2_intensity_hours, operator_allocations and the job's sharing_dirty marks
 * (marked in service.ts). Rows become domain values here.
 */

// ── member_energy ───────────────────────────────────────────────────────────────────────────

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

interface QuarterRow {
  start: Date;
  consumption_wh: number;
  self_consumed_wh: number;
  from_community_wh: number;
  from_grid_wh: number;
  production_wh: number;
  to_community_wh: number;
  to_grid_wh: number;
  allocated_from_community_wh: number;
  community_grid_origin_wh: number;
  missing: boolean;
  incomplete: boolean;
  estimated: boolean;
  provisional: boolean;
}

const toQuarter = (r: QuarterRow): StoredQuarter => ({
  startMs: r.start.getTime(),
  consumptionWh: r.consumption_wh, selfConsumedWh: r.self_consumed_wh, fromCommunityWh: r.from_community_wh, fromGridWh: r.from_grid_wh,
  productionWh: r.production_wh, toCommunityWh: r.to_community_wh, toGridWh: r.to_grid_wh,
  allocatedFromCommunityWh: r.allocated_from_community_wh, communityGridOriginWh: r.community_grid_origin_wh,
  missing: r.missing, incomplete: r.incomplete, estimated: r.estimated, provisional: r.provisional,
});

/** A member's stored quarter hours in [fromMs, toMs), ascending. */
export async function memberQuarters(db: Queryable, memberId: string, fromMs: number, toMs: number): Promise<StoredQuarter[]> {
  const rows = await db.query<QuarterRow>(
    `SELECT start, consumption_wh, self_consumed_wh, from_community_wh, from_grid_wh, production_wh, to_community_wh, to_grid_wh,
       allocated_from_community_wh, community_grid_origin_wh, quality = 'missing' AS missing, false AS incomplete,
       quality = 'estimated' AS estimated, provisional
     FROM member_energy WHERE member_id = $1 AND start >= $2 AND start < $3 ORDER BY start`,
    [memberId, new Date(fromMs), new Date(toMs)],
  );
  return rows.map(toQuarter);
}

/** One member's stored quarter hours of a range as columns: position i of every array is the quarter hour startsMs[i]. */
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

/** A member's columns as the database sends them: each a comma-separated list (see memberEnergyColumns). */
interface ColumnsRow {
  member_id: string; starts_ms: string; self_consumed_wh: string; from_community_wh: string; from_grid_wh: string;
  to_community_wh: string; to_grid_wh: string; allocated_from_community_wh: string; community_grid_origin_wh: string;
  quality: string; provisional: string;
}

/** The value columns sent; consumption and production are their sums (member_energy's CHECKs), added up here instead of sent. */
const COLUMN_NAMES = ['self_consumed_wh', 'from_community_wh', 'from_grid_wh', 'to_community_wh', 'to_grid_wh',
  'allocated_from_community_wh', 'community_grid_origin_wh'] as const;

/**
 * A comma-separated list of whole numbers (as int8 prints them) read digit by digit: no string per
 * value, which for a 1,000-member day (700,000 values) made garbage collection most of the work.
 */
export function wholeNumbers(list: string): number[] {
  const values: number[] = [];
  let value = 0;
  let negative = false;
  let digits = 0;
  for (let i = 0; i <= list.length; i++) {
    const code = i === list.length ? 44 : list.charCodeAt(i);
    if (code === 44) {
      if (digits === 0) throw new Error(`not a list of whole numbers: "${list.slice(0, 40)}"`);
      values.push(negative ? -value : value);
      value = 0;
      negative = false;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      value = value * 10 + (code - 48);
      digits += 1;
    } else if (code === 45 && digits === 0 && !negative) {
      negative = true;
    } else {
      throw new Error(`not a list of whole numbers: "${list.slice(0, 40)}"`);
    }
  }
  return values;
}

/**
 * The community's member energy in [fromMs, toMs) as one row per member (sorted by member id), for
 * readers that sum a period (settlement): a member's day travels as a few lists instead of 96 row
 * objects with a timestamp each. Each column comes as one comma-separated text of whole numbers
 * (`string_agg`), read here into JS numbers (exact: whole Wh far below 2^53): the drivers parse a
 * SQL array character by character into a string per value, several times slower. The rows are sorted once by member
 * and start and aggregated in that order, instead of one sort per column (`… ORDER BY start` in
 * each aggregate sorts each separately: about half of the query's time on PostgreSQL); as SQL does
 * not promise that order to the aggregate, it is checked here and restored where it was not kept.
 */
export async function memberEnergyColumns(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<MemberEnergyColumns[]> {
  const rows = await db.query<ColumnsRow>(
    `SELECT member_id, string_agg((date_part('epoch', start) * 1000)::int8::text, ',') AS starts_ms,
       ${COLUMN_NAMES.map((name) => `string_agg(${name}::text, ',') AS ${name}`).join(', ')},
       string_agg(quality, ',') AS quality, string_agg(CASE WHEN provisional THEN 't' ELSE 'f' END, '') AS provisional
     FROM (SELECT member_id, start, ${COLUMN_NAMES.join(', ')}, quality, provisional FROM member_energy
           WHERE community_id = $1 AND start >= $2 AND start < $3 ORDER BY member_id, start) AS ordered
     GROUP BY member_id`,
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  return rows.map((r) => {
    const selfConsumedWh = wholeNumbers(r.self_consumed_wh);
    const fromCommunityWh = wholeNumbers(r.from_community_wh);
    const fromGridWh = wholeNumbers(r.from_grid_wh);
    const toCommunityWh = wholeNumbers(r.to_community_wh);
    const toGridWh = wholeNumbers(r.to_grid_wh);
    return inStartOrder({
      memberId: r.member_id, startsMs: wholeNumbers(r.starts_ms),
      consumptionWh: selfConsumedWh.map((self, i) => self + fromCommunityWh[i]! + fromGridWh[i]!),
      selfConsumedWh, fromCommunityWh, fromGridWh,
      productionWh: selfConsumedWh.map((self, i) => self + toCommunityWh[i]! + toGridWh[i]!),
      toCommunityWh, toGridWh,
      allocatedFromCommunityWh: wholeNumbers(r.allocated_from_community_wh), communityGridOriginWh: wholeNumbers(r.community_grid_origin_wh),
      quality: r.quality.split(',') as Quality[], provisional: Array.from(r.provisional, (flag) => flag === 't'),
    });
  }).sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

/** The member's columns with every array in ascending order of start (as they come, when they came so). */
export function inStartOrder(columns: MemberEnergyColumns): MemberEnergyColumns {
  const starts = columns.startsMs;
  let ascending = true;
  for (let i = 1; i < starts.length && ascending; i++) ascending = starts[i - 1]! < starts[i]!;
  if (ascending) return columns;
  const order = starts.map((_, i) => i).sort((a, b) => starts[a]! - starts[b]!);
  const reorder = <T>(values: T[]) => order.map((i) => values[i]!);
  return {
    memberId: columns.memberId, startsMs: reorder(columns.startsMs),
    consumptionWh: reorder(columns.consumptionWh), selfConsumedWh: reorder(columns.selfConsumedWh), fromCommunityWh: reorder(columns.fromCommunityWh),
    fromGridWh: reorder(columns.fromGridWh), productionWh: reorder(columns.productionWh), toCommunityWh: reorder(columns.toCommunityWh),
    toGridWh: reorder(columns.toGridWh), allocatedFromCommunityWh: reorder(columns.allocatedFromCommunityWh),
    communityGridOriginWh: reorder(columns.communityGridOriginWh), quality: reorder(columns.quality), provisional: reorder(columns.provisional),
  };
}

/** The community's quarter hours in [fromMs, toMs), summed over its members, ascending. */
export async function communityQuarters(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<StoredQuarter[]> {
  const rows = await db.query<QuarterRow>(
    `SELECT start, sum(consumption_wh)::int8 AS consumption_wh, sum(self_consumed_wh)::int8 AS self_consumed_wh,
       sum(from_community_wh)::int8 AS from_community_wh, sum(from_grid_wh)::int8 AS from_grid_wh, sum(production_wh)::int8 AS production_wh,
       sum(to_community_wh)::int8 AS to_community_wh, sum(to_grid_wh)::int8 AS to_grid_wh,
       sum(allocated_from_community_wh)::int8 AS allocated_from_community_wh, sum(community_grid_origin_wh)::int8 AS community_grid_origin_wh,
       bool_and(quality = 'missing') AS missing, bool_or(quality = 'missing') AS incomplete,
       bool_or(quality = 'estimated') AS estimated, bool_or(provisional) AS provisional
     FROM member_energy WHERE community_id = $1 AND start >= $2 AND start < $3 GROUP BY start ORDER BY start`,
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  return rows.map(toQuarter);
}

/** Each member's energy in [fromMs, toMs) summed, for the members of the community with stored quarter hours there. */
export async function memberTotals(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<Map<string, EnergyBySource>> {
  const rows = await db.query<{ member_id: string; consumption_wh: number; self_consumed_wh: number; from_community_wh: number; from_grid_wh: number;
    production_wh: number; to_community_wh: number; to_grid_wh: number }>(
    `SELECT member_id, sum(consumption_wh)::int8 AS consumption_wh, sum(self_consumed_wh)::int8 AS self_consumed_wh,
       sum(from_community_wh)::int8 AS from_community_wh, sum(from_grid_wh)::int8 AS from_grid_wh, sum(production_wh)::int8 AS production_wh,
       sum(to_community_wh)::int8 AS to_community_wh, sum(to_grid_wh)::int8 AS to_grid_wh
     FROM member_energy WHERE community_id = $1 AND start >= $2 AND start < $3 GROUP BY member_id`,
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  return new Map(rows.map((r) => [r.member_id, {
    consumptionWh: r.consumption_wh, selfConsumedWh: r.self_consumed_wh, fromCommunityWh: r.from_community_wh, fromGridWh: r.from_grid_wh,
    productionWh: r.production_wh, toCommunityWh: r.to_community_wh, toGridWh: r.to_grid_wh,
  }]));
}

/** The members of the community with a stored quarter hour in [fromMs, toMs). */
export async function membersWithEnergy(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<Set<string>> {
  const rows = await db.query<{ member_id: string }>(
    'SELECT DISTINCT member_id FROM member_energy WHERE community_id = $1 AND start >= $2 AND start < $3',
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  return new Set(rows.map((r) => r.member_id));
}

/** member_energy's value columns, in the order the write statement's arrays carry them. */
const ENERGY_COLUMNS = ['import_wh', 'export_wh', 'consumption_wh', 'self_consumed_wh', 'from_community_wh', 'from_grid_wh', 'production_wh',
  'to_community_wh', 'to_grid_wh', 'allocated_from_community_wh', 'community_grid_origin_wh', 'quality', 'provisional'] as const;
const STORED = ENERGY_COLUMNS.map((c) => `member_energy.${c}`).join(', ');
const NEW = ENERGY_COLUMNS.map((c) => `EXCLUDED.${c}`).join(', ');

/**
 * Stores the split of `startsMs` (a chunk of one community) in one statement: the new rows are
 * upserted, and only rows whose values changed are written (a recomputation that comes to the
 * same figures writes nothing, computed_at included); stored rows of those quarter hours that
 * are not among the new ones go (a member who takes no part there any more: a start moved, a
 * departure). Members and quarter hours travel once each, the rows refer to them by position:
 * the statement's arrays are integers, which both drivers encode and the server parses far
 * faster than a uuid and a timestamp per row.
 */
export async function writeMemberQuarters(tx: Queryable, communityId: string, rows: readonly MemberQuarter[], startsMs: readonly number[]): Promise<void> {
  const starts = startsMs.map((ms) => new Date(ms));
  const memberPosition = new Map<string, number>();
  const startPosition = new Map(startsMs.map((ms, i) => [ms, i + 1]));
  const qualities: readonly Quality[] = ['measured', 'estimated', 'missing'];
  const n = rows.length;
  const member = new Array<number>(n);
  const start = new Array<number>(n);
  const quality = new Array<number>(n);
  for (let k = 0; k < n; k++) {
    const row = rows[k]!;
    let position = memberPosition.get(row.memberId);
    if (position === undefined) { position = memberPosition.size + 1; memberPosition.set(row.memberId, position); }
    member[k] = position;
    start[k] = startPosition.get(row.startMs)!;
    quality[k] = qualities.indexOf(row.quality) + 1;
  }
  const col = (k: keyof MemberQuarter) => rows.map((r) => r[k]);
  await tx.query(
    `WITH new AS (
       SELECT ($2::uuid[])[m] AS member_id, ($3::timestamptz[])[s] AS start, i, e, c, sc, fc, fg, p, tc, tg, a, go, ($4::text[])[q] AS quality, pr
       FROM unnest($5::int4[], $6::int4[], $7::int8[], $8::int8[], $9::int8[], $10::int8[], $11::int8[], $12::int8[],
         $13::int8[], $14::int8[], $15::int8[], $16::int8[], $17::int8[], $18::int4[], $19::bool[]) AS u(m, s, i, e, c, sc, fc, fg, p, tc, tg, a, go, q, pr)
     ), gone AS (
       DELETE FROM member_energy stored WHERE stored.community_id = $1 AND stored.start = ANY($3::timestamptz[])
         AND NOT EXISTS (SELECT 1 FROM new WHERE new.member_id = stored.member_id AND new.start = stored.start)
     )
     INSERT INTO member_energy (member_id, start, community_id, ${ENERGY_COLUMNS.join(', ')}, computed_at)
     SELECT member_id, start, $1, i, e, c, sc, fc, fg, p, tc, tg, a, go, quality, pr, now() FROM new
     ON CONFLICT (member_id, start, community_id) DO UPDATE SET (${ENERGY_COLUMNS.join(', ')}, computed_at) = (${NEW}, EXCLUDED.computed_at)
     WHERE (${STORED}) IS DISTINCT FROM (${NEW})`,
    [communityId, [...memberPosition.keys()], starts, qualities, member, start, col('importWh'), col('exportWh'),
      col('consumptionWh'), col('selfConsumedWh'), col('fromCommunityWh'), col('fromGridWh'), col('productionWh'), col('toCommunityWh'),
      col('toGridWh'), col('allocatedFromCommunityWh'), col('communityGridOriginWh'), quality, col('provisional')],
  );
}

/** Deletes every member_energy row of a community that is gone (it has no foreign key to members). */
export async function deleteCommunityEnergy(tx: Queryable, communityId: string): Promise<void> {
  await tx.query('DELETE FROM member_energy WHERE community_id = $1', [communityId]);
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
