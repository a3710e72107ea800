import type { Queryable } from '../platform/store/db.js';
import { keyIdSql, sealedStore } from '../secrets/index.js';
import type { Resolution } from '../kernel/calendar.js';
import type {
  AccessLogEntry, ConsentPurpose, MaskingRuleSet, ConsentQuantity, DataCategory, DataOffer, ErasurePlan, Grant, GrantOrigin, OfferAudience, ProcessingPurpose,
  RecipientKind, RetentionPolicy,
} from './domain/index.js';

/**
 * The only SQL on privacy's tables: consent_grants, consent_recipient_tokens, access_log, erasure_requests, retention_policies,
 * masking_salts, masking_rule_sets, privacy_export_jobs, data_offers.
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
  offer_id: string | null;
  payment_posting: number | null;
  payment_minor: string | null;
  payment_currency: string | null;
}

export interface StoredGrant extends Grant {
  readonly digest: string;
}

function originOf(r: GrantRow): GrantOrigin {
  if (r.offer_id === null) return { kind: 'direct' };
  return {
    kind: 'offer', offerId: r.offer_id,
    payment: r.payment_posting === null
      ? { kind: 'free' }
      : { kind: 'wallet-transfer', transferId: String(r.payment_posting), amountMinor: BigInt(r.payment_minor!), currency: r.payment_currency! },
  };
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
  origin: originOf(r),
  createdAt: r.created_at.getTime(),
  validUntil: r.valid_until.getTime(),
  revokedAt: r.revoked_at?.getTime() ?? null,
  digest: r.digest,
});

const GRANT_SELECT = `SELECT id, community_id, grantor, recipient_kind, recipient_id, recipient_label, metering_points, quantities, resolution,
  period_from, period_to, purpose_code, purpose_statement, created_at, valid_until, revoked_at, digest, offer_id, payment_posting,
  payment_minor::text, payment_currency FROM consent_grants`;

export async function insertGrant(db: Queryable, grant: Grant, digest: string): Promise<void> {
  const { scope, origin } = grant;
  const payment = origin.kind === 'offer' && origin.payment.kind === 'wallet-transfer' ? origin.payment : undefined;
  await db.query(
    `INSERT INTO consent_grants (id, community_id, grantor, recipient_kind, recipient_id, recipient_label, metering_points, quantities,
       resolution, period_from, period_to, purpose_code, purpose_statement, created_at, valid_until, revoked_at, digest,
       offer_id, payment_posting, payment_minor, payment_currency)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL, $16, $17, $18, $19, $20)`,
    [grant.id, grant.communityId, grant.grantor, grant.recipient.kind, grant.recipient.id, grant.recipient.label, scope.meteringPoints,
      scope.quantities, scope.resolution, new Date(scope.period.fromMs), scope.period.toMs === null ? null : new Date(scope.period.toMs),
      grant.purpose.code, grant.purpose.statement, new Date(grant.createdAt), new Date(grant.validUntil), digest,
      origin.kind === 'offer' ? origin.offerId : null, payment ? Number(payment.transferId) : null, payment ? payment.amountMinor.toString() : null,
      payment ? payment.currency : null],
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

/** A recipient token's place in its grant's history, for the audit trail (never the token or its hash). */
export interface RecipientTokenIssue {
  readonly generation: number;
  readonly issuedAt: number;
}

/**
 * Replaces the grant's recipient token by a new one (its hash) and returns the issue before and
 * after; the old hash is overwritten in the same row, so the old token opens nothing once committed.
 */
export async function replaceRecipientToken(db: Queryable, grant: Pick<Grant, 'id' | 'communityId'>, tokenSha256: string, at: number): Promise<{ before: RecipientTokenIssue | undefined; after: RecipientTokenIssue }> {
  const issue = (r: { generation: number; issued_at: Date }): RecipientTokenIssue => ({ generation: r.generation, issuedAt: r.issued_at.getTime() });
  const before = await db.query<{ generation: number; issued_at: Date }>('SELECT generation, issued_at FROM consent_recipient_tokens WHERE grant_id = $1 AND community_id = $2 FOR UPDATE', [grant.id, grant.communityId]);
  const after = await db.query<{ generation: number; issued_at: Date }>(
    `INSERT INTO consent_recipient_tokens AS t (grant_id, community_id, token_sha256, issued_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (grant_id, community_id) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256, issued_at = EXCLUDED.issued_at, generation = t.generation + 1
     RETURNING generation, issued_at`,
    [grant.id, grant.communityId, tokenSha256, new Date(at)]);
  return { before: before[0] ? issue(before[0]) : undefined, after: issue(after[0]!) };
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
    // By the bigint id, not its text (the output column of the same name): entry 10 comes after entry 9.
    `SELECT id::text, at, community_id, subject, accessor_kind, accessor_label, grant_id, purpose, category, metering_points,
       period_from, period_to, resolution, route
     FROM access_log WHERE subject = $1 ORDER BY at DESC, access_log.id DESC LIMIT $2`,
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

// ---- export jobs ----

export type ExportJobKind = 'member' | 'regulator-intervals';
export type ExportJobState = 'queued' | 'running' | 'done' | 'failed';

export interface StoredExportJob {
  readonly id: string;
  readonly communityId: string;
  readonly export: ExportJobKind;
  readonly memberId: string | null;
  readonly requestedBy: string;
  readonly requesterKind: 'member' | 'manager' | 'admin';
  readonly language: 'en' | 'de';
  readonly period: { readonly fromMs: number; readonly toMs: number } | null;
  readonly state: ExportJobState;
  readonly itemsDone: number;
  readonly itemsTotal: number | null;
  readonly requestedAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly expiresAt: number | null;
  readonly fileName: string | null;
  readonly bytes: number | null;
  readonly error: string | null;
}

interface ExportJobRow {
  id: string;
  community_id: string;
  export: ExportJobKind;
  member_id: string | null;
  requested_by: string;
  requester_kind: StoredExportJob['requesterKind'];
  language: StoredExportJob['language'];
  period_from: Date | null;
  period_to: Date | null;
  state: ExportJobState;
  items_done: number;
  items_total: number | null;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
  file_name: string | null;
  bytes: string | number | null;
  error: string | null;
}

const EXPORT_JOB_COLUMNS = `id, community_id, export, member_id, requested_by, requester_kind, language, period_from, period_to, state, items_done, items_total,
  requested_at, started_at, finished_at, expires_at, file_name, bytes, error`;
const ms = (d: Date | null) => (d === null ? null : d.getTime());

function exportJobOf(r: ExportJobRow): StoredExportJob {
  return {
    id: r.id, communityId: r.community_id, export: r.export, memberId: r.member_id, requestedBy: r.requested_by, requesterKind: r.requester_kind, language: r.language,
    period: r.period_from && r.period_to ? { fromMs: r.period_from.getTime(), toMs: r.period_to.getTime() } : null,
    state: r.state, itemsDone: r.items_done, itemsTotal: r.items_total, requestedAt: r.requested_at.getTime(), startedAt: ms(r.started_at),
    finishedAt: ms(r.finished_at), expiresAt: ms(r.expires_at), fileName: r.file_name, bytes: r.bytes === null ? null : Number(r.bytes), error: r.error,
  };
}

/** Queues an export unless one of the same kind and subject waits or runs: then that one is returned, and `created` is false. */
export async function insertExportJob(
  db: Queryable,
  job: Pick<StoredExportJob, 'id' | 'communityId' | 'export' | 'memberId' | 'requestedBy' | 'requesterKind' | 'language' | 'period' | 'requestedAt'>,
): Promise<{ job: StoredExportJob; created: boolean }> {
  const rows = await db.query<ExportJobRow>(
    `INSERT INTO privacy_export_jobs (community_id, id, export, member_id, requested_by, requester_kind, language, period_from, period_to, state, requested_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10)
     ON CONFLICT DO NOTHING RETURNING ${EXPORT_JOB_COLUMNS}`,
    [job.communityId, job.id, job.export, job.memberId, job.requestedBy, job.requesterKind, job.language,
      job.period === null ? null : new Date(job.period.fromMs), job.period === null ? null : new Date(job.period.toMs), new Date(job.requestedAt)],
  );
  if (rows[0]) return { job: exportJobOf(rows[0]), created: true };
  const active = await db.query<ExportJobRow>(
    `SELECT ${EXPORT_JOB_COLUMNS} FROM privacy_export_jobs
     WHERE community_id = $1 AND export = $2 AND member_id IS NOT DISTINCT FROM $3 AND state IN ('queued', 'running')`,
    [job.communityId, job.export, job.memberId],
  );
  // The one active a moment ago may have finished since: then this request is queued after all.
  return active[0] ? { job: exportJobOf(active[0]), created: false } : insertExportJob(db, job);
}

export async function exportJobById(db: Queryable, id: string): Promise<StoredExportJob | undefined> {
  const rows = await db.query<ExportJobRow>(`SELECT ${EXPORT_JOB_COLUMNS} FROM privacy_export_jobs WHERE id = $1`, [id]);
  return rows[0] && exportJobOf(rows[0]);
}

/** A member's export jobs, or (memberId null) a community's manager exports, newest first. */
export async function exportJobsOf(db: Queryable, communityId: string, memberId: string | null, limit = 20): Promise<StoredExportJob[]> {
  const rows = await db.query<ExportJobRow>(
    `SELECT ${EXPORT_JOB_COLUMNS} FROM privacy_export_jobs WHERE community_id = $1 AND member_id IS NOT DISTINCT FROM $2
     ORDER BY requested_at DESC, id LIMIT $3`,
    [communityId, memberId, limit],
  );
  return rows.map(exportJobOf);
}

/** Every export job of the community, members' and managers', newest first (the managers' overview). */
export async function allExportJobsOf(db: Queryable, communityId: string, limit = 100): Promise<StoredExportJob[]> {
  const rows = await db.query<ExportJobRow>(
    `SELECT ${EXPORT_JOB_COLUMNS} FROM privacy_export_jobs WHERE community_id = $1 ORDER BY requested_at DESC, id LIMIT $2`, [communityId, limit]);
  return rows.map(exportJobOf);
}

/** Jobs not finished, oldest first: queued ones and those whose process may have died while running (their leases decide). */
export async function unfinishedExportJobs(db: Queryable, limit: number): Promise<StoredExportJob[]> {
  const rows = await db.query<ExportJobRow>(
    `SELECT ${EXPORT_JOB_COLUMNS} FROM privacy_export_jobs WHERE state IN ('queued', 'running') ORDER BY requested_at, id LIMIT $1`, [limit]);
  return rows.map(exportJobOf);
}

/** Starts (or starts again, after a dead process) a job: no progress yet. False when it is gone or finished meanwhile. */
export async function startExportJob(db: Queryable, job: Pick<StoredExportJob, 'communityId' | 'id'>, at: number): Promise<boolean> {
  const rows = await db.query(
    `UPDATE privacy_export_jobs SET state = 'running', started_at = $3, items_done = 0, items_total = NULL, error = NULL
     WHERE community_id = $1 AND id = $2 AND state IN ('queued', 'running') RETURNING id`,
    [job.communityId, job.id, new Date(at)],
  );
  return rows.length > 0;
}

export async function exportJobProgress(db: Queryable, job: Pick<StoredExportJob, 'communityId' | 'id'>, done: number, total: number): Promise<void> {
  await db.query(`UPDATE privacy_export_jobs SET items_done = $3, items_total = $4 WHERE community_id = $1 AND id = $2 AND state = 'running'`,
    [job.communityId, job.id, done, total]);
}

/** Marks the job done with its file; false when the job is gone meanwhile (its member erased): the file is then the caller's to delete. */
export async function finishExportJob(
  db: Queryable, job: Pick<StoredExportJob, 'communityId' | 'id'>, result: { at: number; expiresAt: number; fileName: string; bytes: number; items: number },
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE privacy_export_jobs SET state = 'done', finished_at = $3, expires_at = $4, file_name = $5, bytes = $6, items_done = $7, items_total = $7
     WHERE community_id = $1 AND id = $2 AND state = 'running' RETURNING id`,
    [job.communityId, job.id, new Date(result.at), new Date(result.expiresAt), result.fileName, result.bytes, result.items],
  );
  return rows.length > 0;
}

export async function failExportJob(db: Queryable, job: Pick<StoredExportJob, 'communityId' | 'id'>, at: number, error: string): Promise<void> {
  await db.query(`UPDATE privacy_export_jobs SET state = 'failed', finished_at = $3, error = $4 WHERE community_id = $1 AND id = $2 AND state = 'running'`,
    [job.communityId, job.id, new Date(at), error]);
}

/** Removes the jobs whose files expired before `at` (finished ones past their expiry, failed ones a day after); returns their ids, whose files go next. */
export async function deleteExpiredExportJobs(db: Queryable, at: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `DELETE FROM privacy_export_jobs WHERE (state = 'done' AND expires_at <= $1) OR (state = 'failed' AND finished_at <= $1 - interval '1 day') RETURNING id`,
    [new Date(at)],
  );
  return rows.map((r) => r.id);
}

/** Removes a member's export jobs (erasure); returns their ids, whose files go once committed. */
export async function deleteExportJobsOfMembers(db: Queryable, memberIds: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ id: string }>('DELETE FROM privacy_export_jobs WHERE member_id = ANY($1::uuid[]) RETURNING id', [memberIds]);
  return rows.map((r) => r.id);
}

// ---- data offers ----

interface OfferRow {
  id: string;
  community_id: string;
  grantor: string;
  metering_points: string[];
  quantities: ConsentQuantity[];
  resolution: Resolution;
  period_from: Date;
  period_to: Date | null;
  description: string;
  audience: OfferAudience;
  price_minor: string;
  currency: string;
  grant_validity_days: number;
  published_at: Date;
  open_until: Date;
  withdrawn_at: Date | null;
}

const toOffer = (r: OfferRow): DataOffer => ({
  id: r.id, communityId: r.community_id, grantor: r.grantor,
  scope: {
    meteringPoints: r.metering_points, quantities: r.quantities, resolution: r.resolution,
    period: { fromMs: r.period_from.getTime(), toMs: r.period_to?.getTime() ?? null },
  },
  description: r.description, audience: r.audience, priceMinor: BigInt(r.price_minor), currency: r.currency, grantValidityDays: r.grant_validity_days,
  publishedAt: r.published_at.getTime(), openUntil: r.open_until.getTime(), withdrawnAt: r.withdrawn_at?.getTime() ?? null,
});

const OFFER_SELECT = `SELECT id, community_id, grantor, metering_points, quantities, resolution, period_from, period_to, description, audience,
  price_minor::text, currency, grant_validity_days, published_at, open_until, withdrawn_at FROM data_offers`;

export async function insertOffer(db: Queryable, offer: DataOffer): Promise<void> {
  const { scope } = offer;
  await db.query(
    `INSERT INTO data_offers (community_id, id, grantor, metering_points, quantities, resolution, period_from, period_to, description, audience,
       price_minor, currency, grant_validity_days, published_at, open_until, withdrawn_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULL)`,
    [offer.communityId, offer.id, offer.grantor, scope.meteringPoints, scope.quantities, scope.resolution, new Date(scope.period.fromMs),
      scope.period.toMs === null ? null : new Date(scope.period.toMs), offer.description, offer.audience, offer.priceMinor.toString(), offer.currency,
      offer.grantValidityDays, new Date(offer.publishedAt), new Date(offer.openUntil)],
  );
}

/** An offer; `lock` takes its row for the transaction (acceptances of one offer one after the other). */
export async function offerById(db: Queryable, id: string, lock = false): Promise<DataOffer | undefined> {
  const rows = await db.query<OfferRow>(`${OFFER_SELECT} WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
  return rows[0] && toOffer(rows[0]);
}

/** A member's offers, newest first. */
export async function offersOfGrantor(db: Queryable, grantor: string): Promise<DataOffer[]> {
  const rows = await db.query<OfferRow>(`${OFFER_SELECT} WHERE grantor = $1 ORDER BY published_at DESC, id`, [grantor]);
  return rows.map(toOffer);
}

/** The community's offers open at `now` of members other than `except`, newest first. */
export async function openOffersOfCommunity(db: Queryable, communityId: string, except: string, now: number): Promise<DataOffer[]> {
  const rows = await db.query<OfferRow>(
    `${OFFER_SELECT} WHERE community_id = $1 AND grantor <> $2 AND withdrawn_at IS NULL AND published_at <= $3 AND open_until > $3
     ORDER BY published_at DESC, id`, [communityId, except, new Date(now)]);
  return rows.map(toOffer);
}

/**
 * The catalogue at `now`: open offers of the communities in `memberOf` and open offers to anyone,
 * optionally of one community only, newest first, at most `limit`.
 */
export async function catalogueOffers(db: Queryable, memberOf: readonly string[], community: string | null, now: number, limit: number): Promise<DataOffer[]> {
  const rows = await db.query<OfferRow>(
    `${OFFER_SELECT} WHERE withdrawn_at IS NULL AND published_at <= $2 AND open_until > $2 AND (audience = 'anyone' OR community_id = ANY($1::uuid[]))
       AND ($3::uuid IS NULL OR community_id = $3) ORDER BY published_at DESC, id LIMIT $4`,
    [memberOf, new Date(now), community, limit]);
  return rows.map(toOffer);
}

/** Sets the withdrawal time once (withdrawing again keeps the first). */
export async function markOfferWithdrawn(db: Queryable, offer: Pick<DataOffer, 'id' | 'communityId'>, at: number): Promise<void> {
  await db.query('UPDATE data_offers SET withdrawn_at = $3 WHERE community_id = $1 AND id = $2 AND withdrawn_at IS NULL', [offer.communityId, offer.id, new Date(at)]);
}

/** An erased member's offers: withdrawn, and their description (the member's own words) gone; the terms stay with the grants made from them. */
export async function withdrawOffersOfErased(db: Queryable, grantor: string, at: number): Promise<void> {
  await db.query(`UPDATE data_offers SET withdrawn_at = coalesce(withdrawn_at, $2), description = '' WHERE grantor = $1`, [grantor, new Date(at)]);
}

/** How many grants were made from each of the offers. */
export async function takersOfOffers(db: Queryable, offerIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await db.query<{ offer_id: string; n: number }>(
    'SELECT offer_id, count(*)::int AS n FROM consent_grants WHERE offer_id = ANY($1::uuid[]) GROUP BY offer_id', [offerIds]);
  return new Map(rows.map((r) => [r.offer_id, r.n]));
}

/** The grants any of these recipients (member ids, `user:<id>` for an organisation) hold from the offers, any state. */
export async function grantsFromOffersHeldBy(db: Queryable, recipientIds: readonly string[], offerIds: readonly string[]): Promise<StoredGrant[]> {
  const rows = await db.query<GrantRow>(`${GRANT_SELECT} WHERE recipient_id = ANY($1::text[]) AND offer_id = ANY($2::uuid[]) ORDER BY created_at DESC, id`, [recipientIds, offerIds]);
  return rows.map(toGrant);
}

/** The grants a recipient holds from offers (any state): whether it holds one still running is decided by the caller's clock. */
export async function grantsFromOffers(db: Queryable, kind: RecipientKind, recipientId: string, offerIds: readonly string[]): Promise<StoredGrant[]> {
  const rows = await db.query<GrantRow>(
    `${GRANT_SELECT} WHERE recipient_kind = $1 AND recipient_id = $2 AND offer_id = ANY($3::uuid[]) ORDER BY created_at DESC, id`, [kind, recipientId, offerIds]);
  return rows.map(toGrant);
}
