import type { Db, Queryable } from '../platform/store/db.js';
import { trimDecimal } from '../kernel/decimal.js';
import { HOUR_MS, QUARTER_HOUR_MS } from '../kernel/time.js';
import { getRule } from './domain/allocation/index.js';
import type { BySource } from './domain/battery.js';
import { type Quality } from '../kernel/energy.js';
import { splitCommunity, type MemberQuarter, type OperatorQuarter, type PointQuarter, type PoolAfter, type ShareVersion,
  type CoefficientPeriod } from './domain/community-split.js';

/** At most this many quarter hours of one community per pass (a month), so a pass stays short. */
const QUARTERS_PER_PASS = 3_000;

/** Marks quarter hours of a community for recomputation, inside the caller's transaction. */
export async function markSharingDirty(tx: Queryable, communityId: string, startsMs: readonly number[]): Promise<void> {
  if (startsMs.length === 0) return;
  await tx.query(
    `INSERT INTO sharing_dirty (community_id, start) SELECT $1, s FROM unnest($2::timestamptz[]) AS u(s)
     ON CONFLICT (community_id, start) DO UPDATE SET version = nextval('sharing_dirty_version')`,
    [communityId, [...new Set(startsMs)].map((ms) => new Date(ms))],
  );
}

/** Marks every quarter hour of the community in [fromMs, toMs) that has intervals (a new key, a new mode). */
export async function markSharingDirtyFrom(tx: Queryable, communityId: string, fromMs: number, toMs = Number.POSITIVE_INFINITY): Promise<void> {
  await tx.query(
    `INSERT INTO sharing_dirty (community_id, start)
     SELECT DISTINCT $1::uuid, start FROM intervals WHERE community_id = $1 AND start >= $2 AND ($3::timestamptz IS NULL OR start < $3)
     ON CONFLICT (community_id, start) DO UPDATE SET version = nextval('sharing_dirty_version')`,
    [communityId, new Date(fromMs), Number.isFinite(toMs) ? new Date(toMs) : null],
  );
}

interface CommunitySettings {
  rule: string;
  mode: 'compute' | 'operator';
}

interface IntervalRow {
  metering_point_id: string;
  start: Date;
  import_wh: number | null;
  export_wh: number | null;
  pv_wh: number | null;
  battery_charge_wh: number | null;
  battery_discharge_wh: number | null;
  quality: Quality;
}

interface PoolRow { metering_point_id: string; start: Date; own_pv_wh: number; community_wh: number; grid_wh: number }

/** Hourly rules (Spain, Italy) settle whole hours: a dirty quarter hour recomputes its hour. */
function isHourly(rule: string): boolean {
  const probe = getRule(rule)?.create({ shares: { members: 0, vectorFor: () => undefined } });
  return probe?.granularity === 'hour';
}

const key = (pointId: string, ms: number) => `${pointId}|${ms}`;

/** Loads what the split of `starts` needs, runs it, and stores the result; returns how many quarter hours were done. */
async function shareQuarters(db: Db, communityId: string, settings: CommunitySettings, marks: { start: Date; version: number }[]): Promise<void> {
  const hourly = isHourly(settings.rule);
  const starts = new Set<number>();
  for (const mark of marks) {
    const ms = mark.start.getTime();
    if (!hourly || settings.mode === 'operator') { starts.add(ms); continue; }
    const hour = Math.floor(ms / HOUR_MS) * HOUR_MS;
    for (let q = 0; q < 4; q++) starts.add(hour + q * QUARTER_HOUR_MS);
  }
  const sorted = [...starts].sort((a, b) => a - b);
  const startDates = sorted.map((ms) => new Date(ms));
  const firstMs = sorted[0]!;

  // Participants: members whose part in the sharing (active_from until left_at) overlaps these
  // quarter hours. A former member who asked to join again keeps the earlier period. A stable
  // order: ties in the split go to the lower index, so a recomputation must see the same order.
  const members = await db.query<{ id: string; active_from: Date | null; left_at: Date | null }>(
    `SELECT id, active_from, left_at FROM members
     WHERE community_id = $1 AND (state = 'active' OR left_at IS NOT NULL)
       AND (active_from IS NULL OR active_from <= $3) AND (left_at IS NULL OR left_at > $2)
     ORDER BY requested_at, id`,
    [communityId, new Date(firstMs), new Date(sorted[sorted.length - 1]!)],
  );
  const periods = new Map(members.map((m) => [m.id, { fromMs: m.active_from?.getTime() ?? -Infinity, untilMs: m.left_at?.getTime() ?? Infinity }]));
  const takesPart = (memberId: string, ms: number) => {
    const period = periods.get(memberId);
    return period !== undefined && period.fromMs <= ms && ms < period.untilMs;
  };
  // Each point with its first quarter hour of data (one probe of the intervals' primary key each).
  const points = (await db.query<{ id: string; member_id: string; community_battery: boolean; data_from: Date | null }>(
    `SELECT mp.id, mp.member_id, mp.community_battery,
       (SELECT i.start FROM intervals i WHERE i.metering_point_id = mp.id ORDER BY i.start LIMIT 1) AS data_from
     FROM metering_points mp WHERE mp.community_id = $1 ORDER BY mp.id`, [communityId],
  )).map((p) => ({ id: p.id, memberId: p.member_id, communityBattery: p.community_battery, dataFromMs: p.data_from?.getTime() ?? null }));
  const memberOfPoint = new Map(points.map((p) => [p.id, p.memberId]));
  const pointIds = points.map((p) => p.id);

  const intervals = new Map<string, PointQuarter>();
  for (const row of await db.query<IntervalRow>(
    `SELECT metering_point_id, start, import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh, quality
     FROM intervals WHERE metering_point_id = ANY($1::uuid[]) AND start = ANY($2::timestamptz[])`,
    [pointIds, startDates],
  )) {
    intervals.set(key(row.metering_point_id, row.start.getTime()), {
      importWh: row.import_wh, exportWh: row.export_wh, pvWh: row.pv_wh,
      batteryChargeWh: row.battery_charge_wh, batteryDischargeWh: row.battery_discharge_wh, quality: row.quality,
    });
  }
  const operator = new Map<string, OperatorQuarter>();
  if (settings.mode === 'operator') {
    for (const row of await db.query<{ metering_point_id: string; start: Date; from_community_wh: number | null; to_community_wh: number | null }>(
      `SELECT metering_point_id, start, from_community_wh, to_community_wh FROM operator_allocations
       WHERE community_id = $1 AND start = ANY($2::timestamptz[])`, [communityId, startDates],
    )) operator.set(key(row.metering_point_id, row.start.getTime()), { fromCommunityWh: row.from_community_wh, toCommunityWh: row.to_community_wh });
    // Provisional substitutes (EDA L3) keep the quarter hour provisional until final figures come.
    for (const row of await db.query<{ metering_point_id: string; start: Date }>(
      `SELECT DISTINCT f.metering_point_id, f.start FROM operator_figures f, jsonb_each(f.codes) AS c(code, entry)
       WHERE f.community_id = $1 AND f.start = ANY($2::timestamptz[]) AND c.entry->>'quality' = 'provisional'`, [communityId, startDates],
    )) {
      const k = key(row.metering_point_id, row.start.getTime());
      const figures = operator.get(k);
      if (figures) operator.set(k, { ...figures, provisional: true });
    }
  }
  const versions = await loadShareVersions(db, communityId);
  const coefficientPeriods = await loadCoefficientPeriods(db, communityId, firstMs, sorted[sorted.length - 1]! + QUARTER_HOUR_MS);
  const storedPools = new Map<string, BySource>();
  for (const row of await db.query<PoolRow>(
    `SELECT metering_point_id, start, own_pv_wh, community_wh, grid_wh FROM battery_pools
     WHERE metering_point_id = ANY($1::uuid[]) AND (start = ANY($2::timestamptz[]) OR start = ANY($3::timestamptz[]))`,
    [pointIds, startDates, sorted.map((ms) => new Date(ms - QUARTER_HOUR_MS))],
  )) storedPools.set(key(row.metering_point_id, row.start.getTime()), { ownPv: row.own_pv_wh, community: row.community_wh, grid: row.grid_wh });

  // Outside a member's period its points count as empty, not as missing: it takes no part.
  const gone = (pointId: string, ms: number) => !takesPart(memberOfPoint.get(pointId)!, ms);
  const EMPTY: PointQuarter = { importWh: 0, exportWh: 0, pvWh: null, batteryChargeWh: null, batteryDischargeWh: null, quality: 'measured' };
  const output = splitCommunity({
    rule: settings.rule,
    mode: settings.mode,
    starts: sorted,
    memberIds: members.map((m) => m.id),
    points,
    shareVersions: versions,
    coefficientPeriods,
    interval: (pointId, ms) => (gone(pointId, ms) ? EMPTY : intervals.get(key(pointId, ms))),
    operator: (pointId, ms) => operator.get(key(pointId, ms)),
    poolAfter: (pointId, ms) => storedPools.get(key(pointId, ms)),
  });
  const rows = output.members.filter((r) => takesPart(r.memberId, r.startMs));
  const changedPools = output.pools.filter((p) => !samePool(storedPools.get(key(p.pointId, p.startMs)), p.pool));

  await db.transaction(async (tx) => {
    await writeMemberQuarters(tx, communityId, rows, startDates);
    await writePools(tx, changedPools);
    // A battery's changed pool changes every later quarter hour of it: carry the change forward.
    const next = changedPools.map((p) => p.startMs + QUARTER_HOUR_MS).filter((ms) => !starts.has(ms));
    if (next.length > 0) {
      const existing = await tx.query<{ start: Date }>(
        'SELECT DISTINCT start FROM intervals WHERE community_id = $1 AND start = ANY($2::timestamptz[])',
        [communityId, next.map((ms) => new Date(ms))],
      );
      await markSharingDirty(tx, communityId, existing.map((r) => r.start.getTime()));
    }
    await tx.query(
      `DELETE FROM sharing_dirty d USING unnest($2::timestamptz[], $3::int8[]) AS u(s, v)
       WHERE d.community_id = $1 AND d.start = u.s AND d.version <= u.v`,
      [communityId, marks.map((m) => m.start), marks.map((m) => m.version)],
    );
  });
}

const samePool = (a: BySource | undefined, b: BySource) => !!a && a.ownPv === b.ownPv && a.community === b.community && a.grid === b.grid;

/** Stores the split of `starts`; rows of members who take no part there any more (a start moved, a departure) go. */
async function writeMemberQuarters(tx: Queryable, communityId: string, rows: readonly MemberQuarter[], starts: readonly Date[]): Promise<void> {
  await tx.query(
    `DELETE FROM member_energy e WHERE e.community_id = $1 AND e.start = ANY($2::timestamptz[])
       AND NOT EXISTS (SELECT 1 FROM unnest($3::uuid[], $4::timestamptz[]) AS u(m, s) WHERE u.m = e.member_id AND u.s = e.start)`,
    [communityId, starts, rows.map((r) => r.memberId), rows.map((r) => new Date(r.startMs))],
  );
  if (rows.length === 0) return;
  const col = <K extends keyof MemberQuarter>(k: K) => rows.map((r) => r[k]);
  await tx.query(
    `INSERT INTO member_energy (member_id, start, community_id, import_wh, export_wh, consumption_wh, self_consumed_wh, from_community_wh,
       from_grid_wh, production_wh, to_community_wh, to_grid_wh, allocated_from_community_wh, community_grid_origin_wh, quality, provisional, computed_at)
     SELECT m, s, $1, i, e, c, sc, fc, fg, p, tc, tg, a, go, q, pr, now()
     FROM unnest($2::uuid[], $3::timestamptz[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::int8[],
       $11::int8[], $12::int8[], $13::int8[], $14::int8[], $15::text[], $16::bool[]) AS u(m, s, i, e, c, sc, fc, fg, p, tc, tg, a, go, q, pr)
     ON CONFLICT (member_id, start) DO UPDATE SET
       import_wh = EXCLUDED.import_wh, export_wh = EXCLUDED.export_wh, consumption_wh = EXCLUDED.consumption_wh,
       self_consumed_wh = EXCLUDED.self_consumed_wh, from_community_wh = EXCLUDED.from_community_wh, from_grid_wh = EXCLUDED.from_grid_wh,
       production_wh = EXCLUDED.production_wh, to_community_wh = EXCLUDED.to_community_wh, to_grid_wh = EXCLUDED.to_grid_wh,
       allocated_from_community_wh = EXCLUDED.allocated_from_community_wh, community_grid_origin_wh = EXCLUDED.community_grid_origin_wh,
       quality = EXCLUDED.quality, provisional = EXCLUDED.provisional, computed_at = now()`,
    [communityId, col('memberId'), rows.map((r) => new Date(r.startMs)), col('importWh'), col('exportWh'), col('consumptionWh'),
      col('selfConsumedWh'), col('fromCommunityWh'), col('fromGridWh'), col('productionWh'), col('toCommunityWh'), col('toGridWh'),
      col('allocatedFromCommunityWh'), col('communityGridOriginWh'), col('quality'), col('provisional')],
  );
}

async function writePools(tx: Queryable, pools: readonly PoolAfter[]): Promise<void> {
  if (pools.length === 0) return;
  await tx.query(
    `INSERT INTO battery_pools (metering_point_id, start, own_pv_wh, community_wh, grid_wh)
     SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::int8[], $4::int8[], $5::int8[])
     ON CONFLICT (metering_point_id, start) DO UPDATE SET
       own_pv_wh = EXCLUDED.own_pv_wh, community_wh = EXCLUDED.community_wh, grid_wh = EXCLUDED.grid_wh`,
    [pools.map((p) => p.pointId), pools.map((p) => new Date(p.startMs)), pools.map((p) => p.pool.ownPv),
      pools.map((p) => p.pool.community), pools.map((p) => p.pool.grid)],
  );
}

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

/** The coefficient periods overlapping [fromMs, toMs), for the sharing job (no authorisation). */
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

/**
 * Works off the quarter hours marked for sharing, oldest community first, a bounded number of
 * quarter hours per community and pass. Returns the number of quarter hours done.
 */
export async function processSharingDirty(
  db: Db,
  maxCommunities = 20,
  /** Takes communities under the job runner's lease; returns those this pass may do. */
  lease?: (communityIds: readonly string[]) => Promise<string[]>,
): Promise<number> {
  const waiting = await db.query<{ community_id: string; allocation_rule: string; allocation_mode: 'compute' | 'operator' | null }>(
    `SELECT d.community_id, c.allocation_rule, c.allocation_mode FROM sharing_dirty d LEFT JOIN communities c ON c.id = d.community_id
     GROUP BY d.community_id, c.allocation_rule, c.allocation_mode ORDER BY min(d.start), d.community_id LIMIT $1`,
    [maxCommunities],
  );
  // Communities another process is working on are left to it.
  const held = lease ? new Set(await lease(waiting.map((c) => c.community_id))) : undefined;
  const communities = waiting.filter((c) => !held || held.has(c.community_id));
  let done = 0;
  for (const community of communities) {
    if (community.allocation_mode === null) {
      await db.query('DELETE FROM sharing_dirty WHERE community_id = $1', [community.community_id]);
      continue;
    }
    const marks = await db.query<{ start: Date; version: number }>(
      'SELECT start, version FROM sharing_dirty WHERE community_id = $1 ORDER BY start LIMIT $2',
      [community.community_id, QUARTERS_PER_PASS],
    );
    if (marks.length === 0) continue;
    await shareQuarters(db, community.community_id, { rule: community.allocation_rule, mode: community.allocation_mode }, marks);
    done += marks.length;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return done;
}
