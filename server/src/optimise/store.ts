import type { Queryable } from '../platform/store/db.js';
import type { PlanCommand } from '../kernel/events.js';
import type { PlannedAsset, PlanTrigger } from '@gridshare/contract/optimise';
import type { ObjectiveWeights } from './domain/assets/index.js';
import type { Binding } from './domain/assemble.js';
import type { Limits } from './domain/control.js';
import type { PlanDocument } from './domain/plan.js';
import type { SharingExplanation } from './domain/savings.js';
import type { ModelSize } from './domain/model.js';
import type { SolveReport, SolveStatus } from './domain/solve-report.js';
import type { NamedSolution } from './domain/warm-start.js';

/**
 * The only SQL on optimise's tables: optimise_plans, optimise_warm_starts, optimise_objectives,
 * optimise_device_control and optimise_appliance_requests.
 */

/** A plan as stored: how it was solved (the solver's report, nodes and settings aside) and what it decided. */
export interface StoredPlan extends Pick<SolveReport, 'status' | 'message' | 'objective' | 'bound' | 'relativeGap' | 'absoluteGap' | 'timeS' | 'size'> {
  readonly id: string;
  readonly communityId: string;
  readonly decidedAtMs: number;
  readonly trigger: PlanTrigger;
  readonly horizonStartMs: number;
  readonly horizonEndMs: number;
  readonly stepMinutes: number;
  readonly warmStart: boolean;
  readonly weights: ObjectiveWeights;
  readonly currency: string;
  readonly scenario: Record<string, unknown>;
  readonly bindings: readonly Binding[];
  readonly document: (PlanDocument & { readonly members: readonly MemberSavingsRow[] }) | null;
  readonly assets: readonly PlannedAsset[];
  readonly communityImportW: readonly number[];
  readonly baselineImportW: readonly number[];
  readonly problems: readonly string[];
  readonly commands: readonly PlanCommand[];
  readonly saving: string | null;
  readonly planCost: string | null;
  readonly baselineCost: string | null;
}

/** A member's part of the saving as the plan document holds it. */
export interface MemberSavingsRow {
  readonly member: string;
  readonly baselineCost: { readonly amount: string };
  readonly planCost: { readonly amount: string };
  readonly direct: { readonly amount: string };
  readonly communityShare: { readonly amount: string };
  /** Absent in plans stored before savings followed the community's rule. */
  readonly sharing?: SharingExplanation;
  readonly total: { readonly amount: string };
  readonly because: readonly string[];
}

interface PlanRow {
  community_id: string;
  id: string;
  decided_at: Date;
  trigger: PlanTrigger;
  horizon_start: Date;
  horizon_end: Date;
  step_minutes: number;
  status: SolveStatus;
  message: string;
  objective: number | null;
  bound: number | null;
  relative_gap: number | null;
  absolute_gap: number | null;
  time_s: number;
  size: ModelSize;
  warm_start: boolean;
  weights: ObjectiveWeights;
  currency: string;
  scenario: Record<string, unknown>;
  bindings: Binding[];
  document: StoredPlan['document'];
  assets: PlannedAsset[];
  community_import_w: number[];
  baseline_import_w: number[];
  problems: string[];
  commands: PlanCommand[];
  saving: string | null;
  plan_cost: string | null;
  baseline_cost: string | null;
}

const toPlan = (r: PlanRow): StoredPlan => ({
  id: r.id, communityId: r.community_id, decidedAtMs: r.decided_at.getTime(), trigger: r.trigger, horizonStartMs: r.horizon_start.getTime(),
  horizonEndMs: r.horizon_end.getTime(), stepMinutes: r.step_minutes, status: r.status, message: r.message, objective: r.objective, bound: r.bound,
  relativeGap: r.relative_gap, absoluteGap: r.absolute_gap, timeS: r.time_s, size: r.size, warmStart: r.warm_start, weights: r.weights,
  currency: r.currency, scenario: r.scenario, bindings: r.bindings, document: r.document, assets: r.assets, communityImportW: r.community_import_w,
  baselineImportW: r.baseline_import_w, problems: r.problems, commands: r.commands, saving: r.saving, planCost: r.plan_cost, baselineCost: r.baseline_cost,
});

export async function insertPlan(db: Queryable, p: StoredPlan): Promise<void> {
  await db.query(
    `INSERT INTO optimise_plans (community_id, id, decided_at, trigger, horizon_start, horizon_end, step_minutes, status, message, objective, bound,
       relative_gap, absolute_gap, time_s, size, warm_start, weights, currency, scenario, bindings, document, assets, community_import_w, baseline_import_w,
       problems, commands, saving, plan_cost, baseline_cost)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17::jsonb, $18, $19::jsonb, $20::jsonb, $21::jsonb, $22::jsonb,
       $23::jsonb, $24::jsonb, $25::jsonb, $26::jsonb, $27, $28, $29)`,
    [p.communityId, p.id, new Date(p.decidedAtMs), p.trigger, new Date(p.horizonStartMs), new Date(p.horizonEndMs), p.stepMinutes, p.status, p.message,
      p.objective, p.bound, p.relativeGap, p.absoluteGap, p.timeS, JSON.stringify(p.size), p.warmStart, JSON.stringify(p.weights), p.currency,
      JSON.stringify(p.scenario), JSON.stringify(p.bindings), p.document === null ? null : JSON.stringify(p.document), JSON.stringify(p.assets),
      JSON.stringify(p.communityImportW), JSON.stringify(p.baselineImportW), JSON.stringify(p.problems), JSON.stringify(p.commands), p.saving, p.planCost, p.baselineCost],
  );
}

const PLAN_COLUMNS = `community_id, id, decided_at, trigger, horizon_start, horizon_end, step_minutes, status, message, objective, bound, relative_gap,
  absolute_gap, time_s, size, warm_start, weights, currency, scenario, bindings, document, assets, community_import_w, baseline_import_w, problems, commands,
  saving, plan_cost, baseline_cost`;

export async function latestPlan(db: Queryable, communityId: string, withDocument = false): Promise<StoredPlan | undefined> {
  const rows = await db.query<PlanRow>(
    `SELECT ${PLAN_COLUMNS} FROM optimise_plans WHERE community_id = $1 ${withDocument ? 'AND document IS NOT NULL' : ''} ORDER BY seq DESC LIMIT 1`,
    [communityId],
  );
  return rows[0] && toPlan(rows[0]);
}

export async function planById(db: Queryable, id: string): Promise<StoredPlan | undefined> {
  const rows = await db.query<PlanRow>(`SELECT ${PLAN_COLUMNS} FROM optimise_plans WHERE id = $1`, [id]);
  return rows[0] && toPlan(rows[0]);
}

/**
 * Deletes the plans decided before `beforeMs`, of every community, except each community's latest
 * plan and its latest plan with a document (what the views and the next plan's state read).
 */
export async function prunePlans(db: Queryable, beforeMs: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH gone AS (
       DELETE FROM optimise_plans p WHERE p.decided_at < $1
         AND p.seq < (SELECT max(l.seq) FROM optimise_plans l WHERE l.community_id = p.community_id)
         AND p.seq IS DISTINCT FROM (SELECT max(d.seq) FROM optimise_plans d WHERE d.community_id = p.community_id AND d.document IS NOT NULL)
       RETURNING 1)
     SELECT count(*)::int AS n FROM gone`,
    [new Date(beforeMs)],
  );
  return rows[0]!.n;
}

/** The solution of a community's last solved plan and the horizon it covered. */
export interface StoredWarmStart {
  readonly planId: string;
  readonly horizonEndMs: number;
  readonly solution: NamedSolution;
}

export async function warmStartOf(db: Queryable, communityId: string): Promise<StoredWarmStart | undefined> {
  const rows = await db.query<{ plan_id: string; horizon_start: Date; horizon_end: Date; step_ms: number; names: string[]; solution: number[] }>(
    'SELECT plan_id, horizon_start, horizon_end, step_ms, names, solution FROM optimise_warm_starts WHERE community_id = $1',
    [communityId],
  );
  const row = rows[0];
  return row && {
    planId: row.plan_id,
    horizonEndMs: row.horizon_end.getTime(),
    solution: { startMs: row.horizon_start.getTime(), stepMs: row.step_ms, names: row.names, values: Float64Array.from(row.solution) },
  };
}

/** Replaces the community's warm start with this plan's solution. */
export async function saveWarmStart(db: Queryable, communityId: string, warm: StoredWarmStart): Promise<void> {
  const { solution } = warm;
  await db.query(
    `INSERT INTO optimise_warm_starts (community_id, plan_id, horizon_start, horizon_end, step_ms, names, solution)
     VALUES ($1, $2, $3, $4, $5, $6::text[], $7::float8[])
     ON CONFLICT (community_id) DO UPDATE SET plan_id = EXCLUDED.plan_id, horizon_start = EXCLUDED.horizon_start, horizon_end = EXCLUDED.horizon_end,
       step_ms = EXCLUDED.step_ms, names = EXCLUDED.names, solution = EXCLUDED.solution, updated_at = now()`,
    [communityId, warm.planId, new Date(solution.startMs), new Date(warm.horizonEndMs), solution.stepMs, [...solution.names], Array.from(solution.values)],
  );
}

export async function objectiveOf(db: Queryable, communityId: string): Promise<ObjectiveWeights | undefined> {
  return (await db.query<{ weights: ObjectiveWeights }>('SELECT weights FROM optimise_objectives WHERE community_id = $1', [communityId]))[0]?.weights;
}

export async function setObjective(db: Queryable, communityId: string, weights: ObjectiveWeights): Promise<void> {
  await db.query(
    `INSERT INTO optimise_objectives (community_id, weights) VALUES ($1, $2::jsonb)
     ON CONFLICT (community_id) DO UPDATE SET weights = EXCLUDED.weights, updated_at = now()`,
    [communityId, JSON.stringify(weights)],
  );
}

export interface ControlRow {
  readonly deviceId: string;
  readonly controllable: boolean;
  readonly limits: Limits;
  readonly overrideUntilMs: number | null;
  readonly overrideSource: 'device' | 'app' | null;
}

interface ControlDbRow { device_id: string; controllable: boolean; limits: Limits; override_until: Date | null; override_source: 'device' | 'app' | null }
const toControl = (r: ControlDbRow): ControlRow => ({
  deviceId: r.device_id, controllable: r.controllable, limits: r.limits, overrideUntilMs: r.override_until?.getTime() ?? null, overrideSource: r.override_source,
});

export async function controlOfCommunity(db: Queryable, communityId: string): Promise<ControlRow[]> {
  const rows = await db.query<ControlDbRow>(
    'SELECT device_id, controllable, limits, override_until, override_source FROM optimise_device_control WHERE community_id = $1 ORDER BY device_id',
    [communityId],
  );
  return rows.map(toControl);
}

export async function controlOfDevice(db: Queryable, deviceId: string): Promise<ControlRow | undefined> {
  const rows = await db.query<ControlDbRow>(
    'SELECT device_id, controllable, limits, override_until, override_source FROM optimise_device_control WHERE device_id = $1', [deviceId],
  );
  return rows[0] && toControl(rows[0]);
}

export async function upsertControl(db: Queryable, communityId: string, row: ControlRow): Promise<void> {
  await db.query(
    `INSERT INTO optimise_device_control (community_id, device_id, controllable, limits, override_until, override_source)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6)
     ON CONFLICT (community_id, device_id) DO UPDATE SET controllable = EXCLUDED.controllable, limits = EXCLUDED.limits,
       override_until = EXCLUDED.override_until, override_source = EXCLUDED.override_source, updated_at = now()`,
    [communityId, row.deviceId, row.controllable, JSON.stringify(row.limits), row.overrideUntilMs === null ? null : new Date(row.overrideUntilMs), row.overrideSource],
  );
}

export interface ApplianceRequestRow {
  readonly id: string;
  readonly communityId: string;
  readonly deviceId: string;
  readonly earliestStartMs: number;
  readonly readyByMs: number;
  readonly startsAtMs: number | null;
  readonly createdAtMs: number;
}

interface RequestDbRow { id: string; community_id: string; device_id: string; earliest_start: Date; ready_by: Date; starts_at: Date | null; created_at: Date }
const toRequest = (r: RequestDbRow): ApplianceRequestRow => ({
  id: r.id, communityId: r.community_id, deviceId: r.device_id, earliestStartMs: r.earliest_start.getTime(), readyByMs: r.ready_by.getTime(),
  startsAtMs: r.starts_at?.getTime() ?? null, createdAtMs: r.created_at.getTime(),
});
const REQUEST_COLUMNS = 'id, community_id, device_id, earliest_start, ready_by, starts_at, created_at';

export async function insertRequest(db: Queryable, r: Omit<ApplianceRequestRow, 'startsAtMs'>): Promise<ApplianceRequestRow> {
  const rows = await db.query<RequestDbRow>(
    `INSERT INTO optimise_appliance_requests (community_id, id, device_id, earliest_start, ready_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING ${REQUEST_COLUMNS}`,
    [r.communityId, r.id, r.deviceId, new Date(r.earliestStartMs), new Date(r.readyByMs), new Date(r.createdAtMs)],
  );
  return toRequest(rows[0]!);
}

export async function requestById(db: Queryable, id: string): Promise<ApplianceRequestRow | undefined> {
  const rows = await db.query<RequestDbRow>(`SELECT ${REQUEST_COLUMNS} FROM optimise_appliance_requests WHERE id = $1`, [id]);
  return rows[0] && toRequest(rows[0]);
}

/** The requests kept (pruneRequests removes those long over), of a community or of one device, oldest first. */
export async function applianceRequests(db: Queryable, where: { communityId: string } | { deviceId: string }): Promise<ApplianceRequestRow[]> {
  const [column, value] = 'communityId' in where ? ['community_id', where.communityId] : ['device_id', where.deviceId];
  const rows = await db.query<RequestDbRow>(`SELECT ${REQUEST_COLUMNS} FROM optimise_appliance_requests WHERE ${column} = $1 ORDER BY created_at, id`, [value]);
  return rows.map(toRequest);
}

export async function markStarted(db: Queryable, ids: readonly string[], startsAtMs: number): Promise<void> {
  if (ids.length === 0) return;
  await db.query('UPDATE optimise_appliance_requests SET starts_at = $2 WHERE id = ANY($1::uuid[]) AND starts_at IS NULL', [ids, new Date(startsAtMs)]);
}

export async function deleteRequest(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM optimise_appliance_requests WHERE id = $1', [id]);
}

/** Requests whose run ended before `beforeMs` (started then) or that were never started by a day after their ready-by. */
export async function pruneRequests(db: Queryable, communityId: string, beforeMs: number): Promise<void> {
  await db.query(
    `DELETE FROM optimise_appliance_requests WHERE community_id = $1 AND (starts_at < $2::timestamptz - interval '12 hours' OR ready_by < $2::timestamptz - interval '1 day')`,
    [communityId, new Date(beforeMs)],
  );
}

/** Communities with at least one device its member lets the plan control. */
export async function controlledCommunities(db: Queryable): Promise<string[]> {
  return (await db.query<{ community_id: string }>('SELECT DISTINCT community_id FROM optimise_device_control WHERE controllable ORDER BY community_id')).map((r) => r.community_id);
}

/**
 * What the plan in force at `decidedByMs` (the newest with a plan document decided by then) has
 * each site — a metering point — exchange in the quarter hour from `slotStartMs`: export − import
 * in Wh (+ surplus, − need), its battery charging and discharging and shifted loads included;
 * a plan step longer than a quarter hour counts with its quarter-hour share, rounded to whole Wh.
 * Empty when that plan does not reach the slot (or there is none).
 */
export async function plannedNetWh(db: Queryable, communityId: string, slotStartMs: number, decidedByMs: number): Promise<Map<string, number>> {
  const rows = await db.query<{ id: string; export_wh: number | null; import_wh: number | null; step_minutes: number }>(
    `WITH plan AS (
       SELECT document, horizon_start, horizon_end, step_minutes FROM optimise_plans
       WHERE community_id = $1 AND document IS NOT NULL AND decided_at <= $3 ORDER BY seq DESC LIMIT 1)
     SELECT s->>'id' AS id, (s->'exportWh'->>k)::float8 AS export_wh, (s->'importWh'->>k)::float8 AS import_wh, step_minutes
     FROM plan
     CROSS JOIN LATERAL (SELECT floor(extract(epoch FROM $2::timestamptz - horizon_start) / 60 / step_minutes)::int4 AS k) step
     CROSS JOIN LATERAL jsonb_array_elements(document->'sites') s
     WHERE horizon_start <= $2::timestamptz AND horizon_end > $2::timestamptz AND s->>'id' IS NOT NULL`,
    [communityId, new Date(slotStartMs), new Date(decidedByMs)],
  );
  return new Map(rows.flatMap((r) => (r.export_wh === null && r.import_wh === null
    ? []
    : [[r.id, Math.round((((r.export_wh ?? 0) - (r.import_wh ?? 0)) * 15) / r.step_minutes)] as const])));
}
