import type { Queryable } from '../platform/store/db.js';
import type { CommandFacts, CommandKind, CommandState } from './domain/commands.js';

/** The only SQL on control's table, control_commands. */

export interface StoredCommand extends CommandFacts {
  readonly communityId: string;
  readonly value: number | null;
  readonly planId: string | null;
  readonly issuedBy: string | null;
  readonly attempts: number;
  readonly createdAtMs: number;
  readonly sentAtMs: number | null;
  readonly closedAtMs: number | null;
  readonly reason: string | null;
  readonly supersededBy: string | null;
}

export type NewCommand = Omit<StoredCommand, 'attempts' | 'sentAtMs' | 'closedAtMs' | 'reason' | 'supersededBy'>;

interface Row {
  id: string;
  community_id: string;
  device_id: string;
  kind: CommandKind;
  value: number | null;
  valid_from: Date;
  expires_at: Date;
  issued_at: Date;
  plan_id: string | null;
  issued_by: string | null;
  state: CommandState;
  attempts: number;
  created_at: Date;
  sent_at: Date | null;
  closed_at: Date | null;
  reason: string | null;
  superseded_by: string | null;
}

const COLUMNS = 'id, community_id, device_id, kind, value, valid_from, expires_at, issued_at, plan_id, issued_by, state, attempts, created_at, sent_at, closed_at, reason, superseded_by';
const OPEN = "state IN ('queued', 'sent')";
/** Never sent, or its retry is due ($2 is now). */
const DUE = "(state = 'queued' OR next_attempt_at <= $2)";
const ms = (d: Date | null) => (d === null ? null : d.getTime());

const toCommand = (r: Row): StoredCommand => ({
  id: r.id, communityId: r.community_id, deviceId: r.device_id, kind: r.kind, value: r.value, state: r.state,
  validFromMs: r.valid_from.getTime(), expiresAtMs: r.expires_at.getTime(), issuedAtMs: r.issued_at.getTime(),
  planId: r.plan_id, issuedBy: r.issued_by, attempts: r.attempts, createdAtMs: r.created_at.getTime(),
  sentAtMs: ms(r.sent_at), closedAtMs: ms(r.closed_at), reason: r.reason, supersededBy: r.superseded_by,
});

export async function insertCommands(tx: Queryable, commands: readonly NewCommand[]): Promise<void> {
  if (commands.length === 0) return;
  await tx.query(
    `INSERT INTO control_commands (id, community_id, device_id, kind, value, valid_from, expires_at, issued_at, plan_id, issued_by, state, created_at)
     SELECT r.id, r.community_id, r.device_id, r.kind, r.value, to_timestamp(r.valid_from / 1000.0), to_timestamp(r.expires_at / 1000.0),
            to_timestamp(r.issued_at / 1000.0), r.plan_id, r.issued_by, r.state, to_timestamp(r.created_at / 1000.0)
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, community_id uuid, device_id text, kind text, value integer, valid_from int8, expires_at int8,
       issued_at int8, plan_id text, issued_by uuid, state text, created_at int8)`,
    [JSON.stringify(commands.map((c) => ({
      id: c.id, community_id: c.communityId, device_id: c.deviceId, kind: c.kind, value: c.value, valid_from: c.validFromMs, expires_at: c.expiresAtMs,
      issued_at: c.issuedAtMs, plan_id: c.planId, issued_by: c.issuedBy, state: c.state, created_at: c.createdAtMs,
    })))],
  );
}

/**
 * The commands a new one for these devices and kinds meets: the open ones and the acknowledged ones
 * still in force, locked until the transaction ends so two plans at once supersede in one order.
 */
export async function competingCommands(tx: Queryable, deviceIds: readonly string[], nowMs: number): Promise<StoredCommand[]> {
  if (deviceIds.length === 0) return [];
  const rows = await tx.query<Row>(
    `SELECT ${COLUMNS} FROM control_commands
     WHERE device_id = ANY($1::text[]) AND (${OPEN} OR (state = 'acknowledged' AND expires_at > $2))
     ORDER BY id FOR UPDATE`,
    [deviceIds, new Date(nowMs)],
  );
  return rows.map(toCommand);
}

export async function markSuperseded(tx: Queryable, ids: readonly string[], by: string, nowMs: number): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    `UPDATE control_commands SET state = 'superseded', superseded_by = $2, closed_at = $3, next_attempt_at = NULL
     WHERE id = ANY($1::uuid[]) AND ${OPEN}`,
    [ids, by, new Date(nowMs)],
  );
}

/**
 * The commands `where` picks, locked in id order (a CTE `locked` for an UPDATE … FROM locked): as
 * competingCommands locks them. An UPDATE of several rows locks them in the order it scans, and
 * meeting a plan's transaction that locked in id order, the two waited on each other (seen on
 * PostgreSQL: the expiry sweep against a plan superseding commands).
 */
const lockedInIdOrder = (where: string) => `WITH locked AS (SELECT id FROM control_commands WHERE ${where} ORDER BY id FOR UPDATE)`;

/** Expires the open commands past their expiry (of one device, or of one community); how many. */
export async function expireDue(db: Queryable, scope: { deviceId: string } | { communityId: string }, nowMs: number): Promise<number> {
  const [column, id] = 'deviceId' in scope ? ['device_id', scope.deviceId] : ['community_id', scope.communityId];
  const rows = await db.query(
    `${lockedInIdOrder(`${column} = $1 AND ${OPEN} AND expires_at <= $2`)}
     UPDATE control_commands c SET state = 'expired', closed_at = $2, next_attempt_at = NULL FROM locked WHERE c.id = locked.id RETURNING c.id`,
    [id, new Date(nowMs)],
  );
  return rows.length;
}

/** A device's open, unexpired commands, oldest issue first. */
export async function openCommandsOfDevice(db: Queryable, deviceId: string, nowMs: number): Promise<StoredCommand[]> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM control_commands WHERE device_id = $1 AND ${OPEN} AND expires_at > $2 ORDER BY issued_at, valid_from`,
    [deviceId, new Date(nowMs)],
  );
  return rows.map(toCommand);
}

/** A community's open commands due for an MQTT delivery: never sent, or whose retry is due. */
export async function dueForDelivery(db: Queryable, communityId: string, nowMs: number, limit: number): Promise<StoredCommand[]> {
  const rows = await db.query<Row>(
    `SELECT ${COLUMNS} FROM control_commands
     WHERE community_id = $1 AND ${OPEN} AND expires_at > $2 AND ${DUE}
     ORDER BY issued_at, valid_from LIMIT $3`,
    [communityId, new Date(nowMs), limit],
  );
  return rows.map(toCommand);
}

/**
 * Counts one delivery of each command still open and unexpired (queued → sent), with its next
 * MQTT retry; returns the ids that were delivered (a command closed meanwhile is not). With
 * `onlyIfDue`, a command is claimed only while it is still due, so two delivery passes running
 * at once (the job woken by a plan and a flush) publish it once.
 */
export async function markDelivered(db: Queryable, ids: readonly string[], nowMs: number, retryAtMs: number, onlyIfDue: boolean): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.query<{ id: string }>(
    `${lockedInIdOrder(`id = ANY($1::uuid[]) AND ${OPEN} AND expires_at > $2 ${onlyIfDue ? `AND ${DUE}` : ''}`)}
     UPDATE control_commands c SET state = 'sent', sent_at = coalesce(c.sent_at, $2), attempts = c.attempts + 1, next_attempt_at = $3
     FROM locked WHERE c.id = locked.id RETURNING c.id`,
    [ids, new Date(nowMs), new Date(retryAtMs)],
  );
  return new Set(rows.map((r) => r.id));
}

/** Communities with open commands (the delivery job's units). */
export async function communitiesWithOpenCommands(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ community_id: string }>(`SELECT DISTINCT community_id FROM control_commands WHERE ${OPEN}`);
  return rows.map((r) => r.community_id);
}

/** How many commands are in each state, over every community (the operator's metrics). */
/**
 * The open commands (queued, sent) by state, both always present. Closed commands are left out:
 * they pile up with every plan, and counting them read the whole table at every scrape; the open
 * ones are what the partial indexes on ${OPEN} hold.
 */
export async function openCommandsByState(db: Queryable): Promise<Map<CommandState, number>> {
  const rows = await db.query<{ state: CommandState; commands: string }>(`SELECT state, count(*)::text AS commands FROM control_commands WHERE ${OPEN} GROUP BY state`);
  return new Map<CommandState, number>([['queued', 0], ['sent', 0], ...rows.map((r): [CommandState, number] => [r.state, Number(r.commands)])]);
}

export async function commandById(db: Queryable, id: string): Promise<StoredCommand | undefined> {
  const rows = await db.query<Row>(`SELECT ${COLUMNS} FROM control_commands WHERE id = $1`, [id]);
  return rows[0] && toCommand(rows[0]);
}

/** Closes an open command (acknowledged, rejected, expired); undefined when it was no longer open. */
export async function closeCommand(tx: Queryable, id: string, state: CommandState, reason: string | null, nowMs: number): Promise<StoredCommand | undefined> {
  const rows = await tx.query<Row>(
    `UPDATE control_commands SET state = $2, reason = $3, closed_at = $4, next_attempt_at = NULL
     WHERE id = $1 AND ${OPEN} RETURNING ${COLUMNS}`,
    [id, state, reason, new Date(nowMs)],
  );
  return rows[0] && toCommand(rows[0]);
}

export interface CommandFilter {
  /** Only these devices (a member's own); undefined: every device of the community. */
  readonly deviceIds: readonly string[] | undefined;
  readonly deviceId: string | undefined;
  readonly state: CommandState | undefined;
  readonly limit: number;
  readonly offset: number;
}

/** A community's commands, newest issue first, and how many match in all. */
export async function listCommands(db: Queryable, communityId: string, filter: CommandFilter): Promise<{ items: StoredCommand[]; total: number }> {
  const where = `community_id = $1 AND ($2::text[] IS NULL OR device_id = ANY($2::text[])) AND ($3::text IS NULL OR device_id = $3) AND ($4::text IS NULL OR state = $4)`;
  const params = [communityId, filter.deviceIds ?? null, filter.deviceId ?? null, filter.state ?? null];
  const [rows, count] = await Promise.all([
    db.query<Row>(`SELECT ${COLUMNS} FROM control_commands WHERE ${where} ORDER BY issued_at DESC, id DESC LIMIT $5 OFFSET $6`, [...params, filter.limit, filter.offset]),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM control_commands WHERE ${where}`, params),
  ]);
  return { items: rows.map(toCommand), total: count[0]?.total ?? 0 };
}
