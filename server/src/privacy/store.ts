import type { Queryable } from '../platform/store/db.js';
import { keyIdSql, sealedStore } from '../secrets/index.js';
import type { Resolution } from '../kernel/calendar.js';
import type {
  AccessLogEntry, ConsentPurpose, MaskingRuleSet, ConsentQuantity, DataCategory, ErasurePlan, Grant, ProcessingPurpose, RecipientKind, RetentionPolicy,
} from './domain/index.js';

/**
 * The only SQL on privacy's tables: consent_grants, consent_recipient_tokens, access_log, erasure_requests, retention_policies,
 * masking_salts, masking_rule_sets.
 */

interface GrantRow {
  id: string;
  community_id: string;
  grantor: string;
  recipient_kind: RecipientKind;
  recipient_id: string;
  recipient_label: string;
  metering_points: string[];
  quantities: ConsentQuantity[];
  resolution: Resolution;
  period_from: Date;
  period_to: Date | null;
  purpose_code: ConsentPurpose;
  purpose_statement: string;
  created_at: Date;
  valid_until: Date;
  revoked_at: Date | null;
  digest: string;
}

export interface StoredGrant extends Grant {
  readonly digest: string;
}

const toGrant = (r: GrantRow): StoredGrant => ({
  id: r.id,
  communityId: r.community_id,
  grantor: r.grantor,
  recipient: { kind: r.recipient_kind, id: r.recipient_id, label: r.recipient_label },
  scope: {
    meteringPoints: r.metering_points,
    quantities: r.quantities,
    resolution: r.resolution,
    period: { fromMs: r.period_from.getTime(), toMs: r.period_to?.getTime() ?? null },
  },
  purpose: { code: r.purpose_code, statement: r.purpose_statement },
  origin: { kind: 'direct' },
  createdAt: r.created_at.getTime(),
  validUntil: r.valid_until.getTime(),
  revokedAt: r.revoked_at?.getTime() ?? null,
  digest: r.digest,
});

const GRANT_SELECT = `SELECT id, community_id, grantor, recipient_kind, recipient_id, recipient_label, metering_points, quantities, resolution,
  period_from, period_to, purpose_code, purpose_statement, created_at, valid_until, revoked_at, digest FROM consent_grants`;

export async function insertGrant(db: Queryable, grant: Grant, digest: string): Promise<void> {
  const { scope } = grant;
  await db.query(
    `INSERT INTO consent_grants (id, community_id, grantor, recipient_kind, recipient_id, recipient_label, metering_points, quantities,
       resolution, period_from, period_to, purpose_code, purpose_statement, created_at, valid_until, revoked_at, digest)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL, $16)`,
    [grant.id, grant.communityId, grant.grantor, grant.recipient.kind, grant.recipient.id, grant.recipient.label, scope.meteringPoints,
      scope.quantities, scope.resolution, new Date(scope.period.fromMs), scope.period.toMs === null ? null : new Date(scope.period.toMs),
      grant.purpose.code, grant.purpose.statement, new Date(grant.createdAt), new Date(grant.validUntil), digest],
  );
}

export async function grantById(db: Queryable, id: string): Promise<StoredGrant | undefined> {
  const rows = await db.query<GrantRow>(`${GRANT_SELECT} WHERE id = $1`, [id]);
  return rows[0] && toGrant(rows[0]);
}

/** The grants a member gave, newest first. */
export async function grantsOfGrantor(db: Queryable, grantor: string): Promise<StoredGrant[]> {
  const rows = await db.query<GrantRow>(`${GRANT_SELECT} WHERE grantor = $1 ORDER BY created_at DESC, id`, [grantor]);
  return rows.map(toGrant);
}

/** The grants a recipient holds, newest first (all grantors). */
export async function grantsOfRecipient(db: Queryable, kind: RecipientKind, id: string): Promise<StoredGrant[]> {
  const rows = await db.query<GrantRow>(`${GRANT_SELECT} WHERE recipient_kind = $1 AND recipient_id = $2 ORDER BY created_at DESC, id`, [kind, id]);
  return rows.map(toGrant);
}

/** The SHA-256 of the token a non-member recipient reads a grant with (the token itself is never stored). */
export async function insertRecipientToken(db: Queryable, grant: Pick<Grant, 'id' | 'communityId'>, tokenSha256: string, at: number): Promise<void> {
  await db.query('INSERT INTO consent_recipient_tokens (grant_id, community_id, token_sha256, issued_at) VALUES ($1, $2, $3, $4)',
    [grant.id, grant.communityId, tokenSha256, new Date(at)]);
}

/** The grant a recipient token opens, or undefined for a token nobody issued. */
export async function grantIdOfRecipientToken(db: Queryable, tokenSha256: string): Promise<string | undefined> {
  const rows = await db.query<{ grant_id: string }>('SELECT grant_id FROM consent_recipient_tokens WHERE token_sha256 = $1', [tokenSha256]);
  return rows[0]?.grant_id;
}

/** Sets the revocation time once (a second revocation keeps the first); true when this call revoked it. */
export async function markRevoked(db: Queryable, id: string, at: number): Promise<boolean> {
  const rows = await db.query('UPDATE consent_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id, new Date(at)]);
  return rows.length > 0;
}

/** Revokes every grant a member gave or holds as a member recipient (erasure); returns how many. */
export async function revokeAllOfMember(db: Queryable, memberId: string, at: number): Promise<number> {
  const rows = await db.query(
    `UPDATE consent_grants SET revoked_at = $2
     WHERE revoked_at IS NULL AND (grantor = $1 OR (recipient_kind = 'member' AND recipient_id = $1::text)) RETURNING id`,
    [memberId, new Date(at)],
  );
  return rows.length;
}

/** The recipient label of grants a member holds: an erased member's name goes too. */
export async function relabelRecipient(db: Queryable, memberId: string, label: string): Promise<void> {
  await db.query(`UPDATE consent_grants SET recipient_label = $2 WHERE recipient_kind = 'member' AND recipient_id = $1::text`, [memberId, label]);
}

/** Grants ended (revoked or expired) before `cutoff`: deleted with the access log's retention, unless a kept log entry names them. */
export async function deleteEndedGrantsBefore(db: Queryable, communityId: string, cutoff: number): Promise<number> {
  const rows = await db.query(
    `DELETE FROM consent_grants g WHERE g.community_id = $1 AND COALESCE(LEAST(g.revoked_at, g.valid_until), g.valid_until) < $2
       AND NOT EXISTS (SELECT 1 FROM access_log a WHERE a.community_id = g.community_id AND a.grant_id = g.id)
     RETURNING g.id`,
    [communityId, new Date(cutoff)],
  );
  return rows.length;
}

export interface StoredAccess {
  readonly id: string;
  readonly at: number;
  readonly communityId: string;
  readonly subject: string;
  readonly accessorKind: AccessLogEntry['accessor']['kind'];
  readonly accessorLabel: string;
  readonly grantId: string | null;
  readonly purpose: ProcessingPurpose;
  readonly category: DataCategory;
  readonly meteringPoints: readonly string[];
  readonly period: { readonly fromMs: number; readonly toMs: number } | null;
  readonly resolution: Resolution | null;
  readonly route: string;
}

export async function insertAccess(db: Queryable, entry: AccessLogEntry, route: string): Promise<void> {
  const { accessor, data } = entry;
  const [accessorId, label, grantId] = accessor.kind === 'recipient'
    ? [accessor.recipient.id, accessor.recipient.label, accessor.grantId]
    : accessor.kind === 'export' ? [accessor.jobId, `export (${accessor.requestedBy})`, null] : [accessor.userId, accessor.name, null];
  await db.query(
    `INSERT INTO access_log (community_id, subject, at, accessor_kind, accessor_id, accessor_label, grant_id, purpose, category,
       metering_points, period_from, period_to, resolution, route)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [entry.communityId, entry.subject, new Date(entry.at), accessor.kind, accessorId, label, grantId, entry.purpose, data.category,
      data.meteringPoints, data.period && new Date(data.period.fromMs), data.period && new Date(data.period.toMs), data.resolution, route],
  );
}

interface AccessRow {
  id: string;
  at: Date;
  community_id: string;
  subject: string;
  accessor_kind: StoredAccess['accessorKind'];
  accessor_label: string;
  grant_id: string | null;
  purpose: ProcessingPurpose;
  category: DataCategory;
  metering_points: string[];
  period_from: Date | null;
  period_to: Date | null;
  resolution: Resolution | null;
  route: string;
}

/** A member's access log, newest first, at most `limit` entries. */
export async function accessLogOf(db: Queryable, subject: string, limit: number): Promise<StoredAccess[]> {
  const rows = await db.query<AccessRow>(
    `SELECT id::text, at, community_id, subject, accessor_kind, accessor_label, grant_id, purpose, category, metering_points,
       period_from, period_to, resolution, route
     FROM access_log WHERE subject = $1 ORDER BY at DESC, id DESC LIMIT $2`,
    [subject, limit],
  );
  return rows.map((r) => ({
    id: r.id, at: r.at.getTime(), communityId: r.community_id, subject: r.subject, accessorKind: r.accessor_kind, accessorLabel: r.accessor_label,
    grantId: r.grant_id, purpose: r.purpose, category: r.category, meteringPoints: r.metering_points,
    period: r.period_from && r.period_to ? { fromMs: r.period_from.getTime(), toMs: r.period_to.getTime() } : null,
    resolution: r.resolution, route: r.route,
  }));
}

export async function deleteAccessLogBefore(db: Queryable, communityId: string, cutoff: number): Promise<number> {
  const rows = await db.query('DELETE FROM access_log WHERE community_id = $1 AND at < $2 RETURNING id', [communityId, new Date(cutoff)]);
  return rows.length;
}

/** Entries an erased member made as a reader (a manager's name, a member recipient's label) carry the pseudonym instead. */
export async function relabelAccessor(db: Queryable, accessorIds: readonly string[], label: string): Promise<void> {
  await db.query('UPDATE access_log SET accessor_label = $2 WHERE accessor_id = ANY($1::text[])', [accessorIds, label]);
}

/** Communities with privacy records the retention job looks at. */
export async function communitiesWithPrivacyData(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ community_id: string }>(
    `SELECT community_id FROM access_log UNION SELECT community_id FROM consent_grants UNION SELECT community_id FROM retention_policies
     UNION SELECT community_id FROM erasure_requests ORDER BY 1`,
  );
  return rows.map((r) => r.community_id);
}

interface PolicyRow {
  raw_readings_days: number;
  intervals_days: number;
  forecasts_days: number;
  access_log_days: number;
  operational_logs_days: number;
  export_files_days: number;
  billing_records_years: number;
  updated_at: Date;
}

/** The longest raw-readings retention any community has set, in days; null when none has set one. */
export async function longestStoredRawReadingsDays(db: Queryable): Promise<number | null> {
  const [row] = await db.query<{ days: number | null }>('SELECT max(raw_readings_days) AS days FROM retention_policies');
  return row?.days ?? null;
}

export async function retentionPolicyOf(db: Queryable, communityId: string): Promise<(RetentionPolicy & { updatedAt: number }) | undefined> {
  const rows = await db.query<PolicyRow>(
    `SELECT raw_readings_days, intervals_days, forecasts_days, access_log_days, operational_logs_days, export_files_days, billing_records_years, updated_at
     FROM retention_policies WHERE community_id = $1`,
    [communityId],
  );
  const r = rows[0];
  return r && {
    rawReadingsDays: r.raw_readings_days, intervalsDays: r.intervals_days, forecastsDays: r.forecasts_days, accessLogDays: r.access_log_days,
    operationalLogsDays: r.operational_logs_days, exportFilesDays: r.export_files_days, billingRecordsYears: r.billing_records_years,
    updatedAt: r.updated_at.getTime(),
  };
}

export async function saveRetentionPolicy(db: Queryable, communityId: string, p: RetentionPolicy, at: number, by: string): Promise<void> {
  await db.query(
    `INSERT INTO retention_policies (community_id, raw_readings_days, intervals_days, forecasts_days, access_log_days, operational_logs_days,
       export_files_days, billing_records_years, updated_at, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (community_id) DO UPDATE SET raw_readings_days = $2, intervals_days = $3, forecasts_days = $4, access_log_days = $5,
       operational_logs_days = $6, export_files_days = $7, billing_records_years = $8, updated_at = $9, updated_by = $10`,
    [communityId, p.rawReadingsDays, p.intervalsDays, p.forecastsDays, p.accessLogDays, p.operationalLogsDays, p.exportFilesDays,
      p.billingRecordsYears, new Date(at), by],
  );
}

export type ErasureState = 'requested' | 'done' | 'failed';

export interface StoredErasure {
  readonly id: string;
  readonly communityId: string;
  readonly memberId: string;
  readonly requestedBy: 'member' | 'admin';
  readonly requestedAt: number;
  readonly state: ErasureState;
  readonly plan: ErasurePlan | null;
  readonly pseudonym: string | null;
  readonly finalDeletionAt: number | null;
  readonly executedAt: number | null;
  readonly error: string | null;
}

interface ErasureRow {
  id: string;
  community_id: string;
  member_id: string;
  requested_by: 'member' | 'admin';
  requested_at: Date;
  state: ErasureState;
  plan: ErasurePlan | null;
  pseudonym: string | null;
  final_deletion_at: Date | null;
  executed_at: Date | null;
  error: string | null;
}

const toErasure = (r: ErasureRow): StoredErasure => ({
  id: r.id, communityId: r.community_id, memberId: r.member_id, requestedBy: r.requested_by, requestedAt: r.requested_at.getTime(),
  state: r.state, plan: r.plan, pseudonym: r.pseudonym, finalDeletionAt: r.final_deletion_at?.getTime() ?? null,
  executedAt: r.executed_at?.getTime() ?? null, error: r.error,
});

const ERASURE_SELECT = `SELECT id, community_id, member_id, requested_by, requested_at, state, plan, pseudonym, final_deletion_at, executed_at, error
  FROM erasure_requests`;

/** A new request; undefined when the member has one open or done already. */
export async function insertErasureRequest(
  db: Queryable, request: { communityId: string; memberId: string; requestedBy: 'member' | 'admin'; at: number },
): Promise<StoredErasure | undefined> {
  const rows = await db.query<ErasureRow>(
    `INSERT INTO erasure_requests (community_id, member_id, requested_by, requested_at, state) VALUES ($1, $2, $3, $4, 'requested')
     ON CONFLICT (member_id, community_id) WHERE state <> 'failed' DO NOTHING
     RETURNING id, community_id, member_id, requested_by, requested_at, state, plan, pseudonym, final_deletion_at, executed_at, error`,
    [request.communityId, request.memberId, request.requestedBy, new Date(request.at)],
  );
  return rows[0] && toErasure(rows[0]);
}

export async function erasureRequestsOf(db: Queryable, communityId: string): Promise<StoredErasure[]> {
  const rows = await db.query<ErasureRow>(`${ERASURE_SELECT} WHERE community_id = $1 ORDER BY requested_at DESC, id`, [communityId]);
  return rows.map(toErasure);
}

/** The members whose erasure was carried out at or after `sinceMs`. */
export async function erasedSince(db: Queryable, sinceMs: number): Promise<string[]> {
  const rows = await db.query<{ member_id: string }>(
    `SELECT member_id FROM erasure_requests WHERE state = 'done' AND executed_at >= $1 ORDER BY executed_at, member_id`, [new Date(sinceMs)]);
  return rows.map((r) => r.member_id);
}

export async function pendingErasures(db: Queryable, limit: number): Promise<StoredErasure[]> {
  const rows = await db.query<ErasureRow>(`${ERASURE_SELECT} WHERE state = 'requested' ORDER BY requested_at, id LIMIT $1`, [limit]);
  return rows.map(toErasure);
}

/** False when the request is no longer waiting (another process carried it out): nothing changed. */
export async function markErasureDone(
  db: Queryable, id: string, done: { plan: ErasurePlan; pseudonym: string; at: number },
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE erasure_requests SET state = 'done', plan = $2, pseudonym = $3, final_deletion_at = $4, executed_at = $5, error = NULL
     WHERE id = $1 AND state = 'requested' RETURNING id`,
    [id, JSON.stringify(done.plan), done.pseudonym, done.plan.finalDeletionAt === null ? null : new Date(done.plan.finalDeletionAt), new Date(done.at)],
  );
  return rows.length === 1;
}

/** False when the request was no longer waiting (another process finished it). */
export async function markErasureFailed(db: Queryable, id: string, error: string, at: number): Promise<boolean> {
  const rows = await db.query(`UPDATE erasure_requests SET state = 'failed', error = $2, executed_at = $3 WHERE id = $1 AND state = 'requested' RETURNING id`, [id, error, new Date(at)]);
  return rows.length === 1;
}

// ---- masking ----

/** The community's sealed salt for `hash`, or undefined before the first export that needs one. */
export async function maskingSaltOf(db: Queryable, communityId: string): Promise<string | undefined> {
  const rows = await db.query<{ salt: string }>('SELECT salt FROM masking_salts WHERE community_id = $1', [communityId]);
  return rows[0]?.salt;
}

/** Stores a new community's salt unless one is there already (two first exports at once keep the first); returns the one kept. */
export async function insertMaskingSalt(db: Queryable, communityId: string, sealed: string, at: number): Promise<string> {
  await db.query('INSERT INTO masking_salts (community_id, salt, created_at) VALUES ($1, $2, $3) ON CONFLICT (community_id) DO NOTHING', [communityId, sealed, new Date(at)]);
  return (await maskingSaltOf(db, communityId))!;
}

/** The sealed salt column, for the secrets capability (key checks at start, rotation). */
export const maskingSaltStore = sealedStore({
  table: 'masking_salts',
  id: 'community_id',
  columns: ['salt'],
  summary: `SELECT ${keyIdSql('salt')} AS "keyId", count(*)::int AS count FROM masking_salts GROUP BY 1`,
  page: `SELECT community_id::text AS community_id, salt FROM masking_salts WHERE ($1::uuid IS NULL OR community_id > $1::uuid) ORDER BY community_id LIMIT $2`,
  replace: `UPDATE masking_salts m SET salt = v.after FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, before, after)
    WHERE m.community_id = v.id AND m.salt = v.before RETURNING 1`,
});

interface RuleSetRow { export_schema: string; name: string; fields: Record<string, string>; other_fields: 'keep' | 'drop'; updated_at: Date }

export interface StoredRuleSet {
  readonly ruleSet: MaskingRuleSet;
  readonly updatedAt: number;
}

const toRuleSet = (r: RuleSetRow): StoredRuleSet => ({
  ruleSet: { name: r.name, schema: r.export_schema, fields: r.fields, otherFields: r.other_fields }, updatedAt: r.updated_at.getTime(),
});

export async function ruleSetsOf(db: Queryable, communityId: string): Promise<StoredRuleSet[]> {
  const rows = await db.query<RuleSetRow>(
    'SELECT export_schema, name, fields, other_fields, updated_at FROM masking_rule_sets WHERE community_id = $1 ORDER BY export_schema', [communityId]);
  return rows.map(toRuleSet);
}

export async function ruleSetOf(db: Queryable, communityId: string, schema: string): Promise<StoredRuleSet | undefined> {
  const rows = await db.query<RuleSetRow>(
    'SELECT export_schema, name, fields, other_fields, updated_at FROM masking_rule_sets WHERE community_id = $1 AND export_schema = $2', [communityId, schema]);
  return rows[0] && toRuleSet(rows[0]);
}

export async function saveRuleSet(db: Queryable, communityId: string, ruleSet: MaskingRuleSet, at: number, by: string): Promise<void> {
  await db.query(
    `INSERT INTO masking_rule_sets (community_id, export_schema, name, fields, other_fields, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (community_id, export_schema) DO UPDATE SET name = $3, fields = $4, other_fields = $5, updated_at = $6, updated_by = $7`,
    [communityId, ruleSet.schema, ruleSet.name, JSON.stringify(ruleSet.fields), ruleSet.otherFields, new Date(at), by],
  );
}
