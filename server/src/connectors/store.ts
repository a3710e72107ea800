/**
 * The only SQL on the connectors' tables: connector_instances (configuration without secrets,
 * secrets sealed, bindings, schedule, state), connector_status (next run, last outcome) and
 * connector_runs (the newest runs of each instance).
 */
import type { Queryable } from '../platform/store/db.js';
import { keyIdSql, sealedStore } from '../secrets/index.js';
import type { Binding } from './domain/instances.js';

/** How many runs of an instance the log keeps. */
export const RUNS_KEPT = 20;

export type Outcome = 'ok' | 'partial' | 'failed';

export interface InstanceRecord {
  readonly id: string;
  readonly communityId: string;
  readonly kind: string;
  readonly name: string;
  /** Without its secrets. */
  readonly config: unknown;
  /** The secret values as one sealed JSON object (secrets/), or null when there are none. */
  readonly sealedSecrets: string | null;
  readonly bindings: Binding[];
  readonly enabled: boolean;
  readonly intervalS: number;
  readonly jitterS: number;
  readonly timeoutMs: number | null;
  readonly state: unknown;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly status: InstanceStatus;
}

export interface InstanceStatus {
  readonly nextRunAt: Date;
  readonly lastRunAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastOutcome: Outcome | null;
  readonly readingsStored: number;
  readonly lastErrorCode: string | null;
  readonly lastErrorMessage: string | null;
  readonly failuresInRow: number;
}

export interface RunRecord {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly outcome: Outcome;
  readonly readingsStored: number;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly problems: { where: string; message: string }[];
}

/** What a new or changed instance stores (its secrets already sealed). */
export interface InstanceFields {
  readonly name: string;
  readonly config: unknown;
  readonly sealedSecrets: string | null;
  readonly bindings: readonly Binding[];
  readonly enabled: boolean;
  readonly intervalS: number;
  readonly jitterS: number;
  readonly timeoutMs: number | null;
}

interface InstanceRow {
  id: string; community_id: string; kind: string; name: string; config: unknown; secrets: string | null; bindings: Binding[];
  enabled: boolean; interval_s: number; jitter_s: number; timeout_ms: number | null; state: unknown; created_at: Date; updated_at: Date;
  next_run_at: Date; last_run_at: Date | null; last_success_at: Date | null; last_outcome: Outcome | null; readings_stored: string | number;
  last_error_code: string | null; last_error_message: string | null; failures_in_row: number;
}

const SELECT = `SELECT i.id, i.community_id, i.kind, i.name, i.config, i.secrets, i.bindings, i.enabled, i.interval_s, i.jitter_s,
    i.timeout_ms, i.state, i.created_at, i.updated_at, s.next_run_at, s.last_run_at, s.last_success_at, s.last_outcome,
    s.readings_stored, s.last_error_code, s.last_error_message, s.failures_in_row
  FROM connector_instances i JOIN connector_status s ON s.instance_id = i.id`;

const toRecord = (row: InstanceRow): InstanceRecord => ({
  id: row.id,
  communityId: row.community_id,
  kind: row.kind,
  name: row.name,
  config: row.config,
  sealedSecrets: row.secrets,
  bindings: row.bindings,
  enabled: row.enabled,
  intervalS: row.interval_s,
  jitterS: row.jitter_s,
  timeoutMs: row.timeout_ms,
  state: row.state,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  status: {
    nextRunAt: row.next_run_at,
    lastRunAt: row.last_run_at,
    lastSuccessAt: row.last_success_at,
    lastOutcome: row.last_outcome,
    readingsStored: Number(row.readings_stored),
    lastErrorCode: row.last_error_code,
    lastErrorMessage: row.last_error_message,
    failuresInRow: row.failures_in_row,
  },
});

/** Adds an instance (its id chosen by the caller: its secrets are sealed for that id) due at once. */
export async function insertInstance(tx: Queryable, id: string, communityId: string, kind: string, createdBy: string | null, fields: InstanceFields): Promise<void> {
  await tx.query(
    `INSERT INTO connector_instances (id, community_id, kind, name, config, secrets, bindings, enabled, interval_s, jitter_s, timeout_ms, created_by)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, $8, $9, $10, $11, $12)`,
    [id, communityId, kind, fields.name, JSON.stringify(fields.config), fields.sealedSecrets, JSON.stringify(fields.bindings),
      fields.enabled, fields.intervalS, fields.jitterS, fields.timeoutMs, createdBy],
  );
  await tx.query('INSERT INTO connector_status (instance_id, community_id) VALUES ($1, $2)', [id, communityId]);
}

/** Changes an instance; a changed configuration or a re-enabled instance runs at once. */
export async function updateInstance(tx: Queryable, id: string, fields: InstanceFields, runSoon: boolean): Promise<void> {
  await tx.query(
    `UPDATE connector_instances SET name = $2, config = $3::jsonb, secrets = $4, bindings = $5::jsonb, enabled = $6,
       interval_s = $7, jitter_s = $8, timeout_ms = $9, updated_at = now()
     WHERE id = $1`,
    [id, fields.name, JSON.stringify(fields.config), fields.sealedSecrets, JSON.stringify(fields.bindings),
      fields.enabled, fields.intervalS, fields.jitterS, fields.timeoutMs],
  );
  if (runSoon) await tx.query('UPDATE connector_status SET next_run_at = now(), failures_in_row = 0 WHERE instance_id = $1', [id]);
}

export async function instanceById(db: Queryable, id: string): Promise<InstanceRecord | undefined> {
  const rows = await db.query<InstanceRow>(`${SELECT} WHERE i.id = $1`, [id]);
  return rows[0] && toRecord(rows[0]);
}

export async function instancesOfCommunity(db: Queryable, communityId: string): Promise<InstanceRecord[]> {
  const rows = await db.query<InstanceRow>(`${SELECT} WHERE i.community_id = $1 ORDER BY i.name, i.id`, [communityId]);
  return rows.map(toRecord);
}

export async function deleteInstance(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM connector_instances WHERE id = $1', [id]);
}

/** Enabled instances due at `now`, the longest waiting first. */
export async function dueInstanceIds(db: Queryable, now: Date, limit: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT i.id FROM connector_instances i JOIN connector_status s ON s.instance_id = i.id
     WHERE i.enabled AND s.next_run_at <= $1 AND (s.claimed_until IS NULL OR s.claimed_until < $1)
     ORDER BY s.next_run_at, i.id LIMIT $2`,
    [now, limit],
  );
  return rows.map((row) => row.id);
}

/**
 * Takes a due instance for one run until `until` (one atomic update: of two processes, one gets
 * it); recordRun gives it back. False: it was not due any more or another process holds it.
 */
export async function claimInstance(db: Queryable, id: string, now: Date, until: Date): Promise<boolean> {
  const rows = await db.query(
    `UPDATE connector_status SET claimed_until = $3
     WHERE instance_id = $1 AND next_run_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2) RETURNING 1`,
    [id, now, until],
  );
  return rows.length === 1;
}

/** The oldest due instance's time, for the job's lag. */
export async function oldestDue(db: Queryable, now: Date): Promise<Date | null> {
  const rows = await db.query<{ at: Date | null }>(
    `SELECT min(s.next_run_at) AS at FROM connector_instances i JOIN connector_status s ON s.instance_id = i.id
     WHERE i.enabled AND s.next_run_at <= $1 AND (s.claimed_until IS NULL OR s.claimed_until < $1)`, [now]);
  return rows[0]?.at ?? null;
}

export async function runSoon(db: Queryable, id: string, at: Date): Promise<void> {
  await db.query('UPDATE connector_status SET next_run_at = $2 WHERE instance_id = $1', [id, at]);
}

export interface FinishedRun extends RunRecord {
  readonly nextRunAt: Date;
  readonly failuresInRow: number;
  /** The state to keep; undefined keeps the one stored. */
  readonly state: unknown;
}

/** Records a run: the instance's state and status, and a row in its log (the newest RUNS_KEPT are kept). */
export async function recordRun(tx: Queryable, id: string, run: FinishedRun): Promise<void> {
  if (run.state !== undefined) await saveState(tx, id, run.state);
  const success = run.outcome !== 'failed';
  await tx.query(
    `UPDATE connector_status SET next_run_at = $2, claimed_until = NULL, last_run_at = $3, last_outcome = $4,
       last_success_at = CASE WHEN $5 THEN $3 ELSE last_success_at END,
       readings_stored = readings_stored + $6, last_error_code = $7, last_error_message = $8, failures_in_row = $9
     WHERE instance_id = $1`,
    [id, run.nextRunAt, run.startedAt, run.outcome, success, run.readingsStored, run.errorCode, run.errorMessage, run.failuresInRow],
  );
  await tx.query(
    `INSERT INTO connector_runs (instance_id, community_id, started_at, duration_ms, outcome, readings_stored, error_code, error_message, problems)
     SELECT $1, community_id, $2, $3, $4, $5, $6, $7, $8::jsonb FROM connector_instances WHERE id = $1`,
    [id, run.startedAt, run.durationMs, run.outcome, run.readingsStored, run.errorCode, run.errorMessage, JSON.stringify(run.problems)],
  );
  await tx.query(
    `DELETE FROM connector_runs WHERE instance_id = $1 AND id NOT IN (
       SELECT id FROM connector_runs WHERE instance_id = $1 ORDER BY id DESC LIMIT $2)`,
    [id, RUNS_KEPT],
  );
}

export async function saveState(db: Queryable, id: string, state: unknown): Promise<void> {
  await db.query('UPDATE connector_instances SET state = $2::jsonb WHERE id = $1', [id, JSON.stringify(state)]);
}

export async function recentRuns(db: Queryable, id: string, limit: number): Promise<RunRecord[]> {
  const rows = await db.query<{
    started_at: Date; duration_ms: number; outcome: Outcome; readings_stored: number; error_code: string | null; error_message: string | null; problems: RunRecord['problems'];
  }>('SELECT started_at, duration_ms, outcome, readings_stored, error_code, error_message, problems FROM connector_runs WHERE instance_id = $1 ORDER BY id DESC LIMIT $2', [id, limit]);
  return rows.map((row) => ({
    startedAt: row.started_at, durationMs: row.duration_ms, outcome: row.outcome, readingsStored: row.readings_stored,
    errorCode: row.error_code, errorMessage: row.error_message, problems: row.problems,
  }));
}

/** The sealed secrets column, for the secrets capability (key checks at start, rotation). */
export const connectorSecretsStore = sealedStore({
  table: 'connector_instances',
  id: 'id',
  columns: ['secrets'],
  summary: `SELECT ${keyIdSql('secrets')} AS "keyId", count(*)::int AS count FROM connector_instances WHERE secrets IS NOT NULL GROUP BY 1`,
  page: `SELECT id::text AS id, secrets FROM connector_instances
    WHERE secrets IS NOT NULL AND ($1::text IS NULL OR id::text > $1) ORDER BY id::text LIMIT $2`,
  replace: `UPDATE connector_instances c SET secrets = v.after
    FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, before, after)
    WHERE c.id::text = v.id AND c.secrets = v.before
    RETURNING 1`,
});
