import type { Queryable } from '../platform/store/db.js';
import { parseStoredCodes, type StoredCodes } from './domain/index.js';

/** The operator mode's tables: operator_imports (one row per imported message) and operator_figures (merged codes). */

export interface OperatorImport {
  id: string;
  communityId: string;
  messageId: string;
  conversationId: string;
  documentMode: string | null;
  schemaVersion: string;
  /** The message's ECID (community id at the operator); null before schema 01.40. */
  ecId: string | null;
  gridConnectionId: string;
  meteringPointId: string | null;
  sender: string | null;
  messageCreatedAt: string | null;
  periodFrom: string;
  periodTo: string;
  rowsStored: number;
  /** Zählpunkte of the message that match no metering point (a message with one is refused today, so empty). */
  unmatched: string[];
  unknownCodes: string[];
  importedBy: string | null;
  importedAt: string;
}

interface ImportRow {
  id: string;
  community_id: string;
  message_id: string;
  conversation_id: string;
  document_mode: string | null;
  schema_version: string;
  ec_id: string | null;
  grid_connection_id: string;
  metering_point_id: string | null;
  sender: string | null;
  message_created_at: Date | null;
  period_from: Date;
  period_to: Date;
  rows_stored: number;
  unmatched: string[];
  unknown_codes: string[];
  body_sha256: string;
  imported_by: string | null;
  imported_at: Date;
}

const IMPORT_COLUMNS = `id, community_id, message_id, conversation_id, document_mode, schema_version, ec_id, grid_connection_id,
  metering_point_id, sender, message_created_at, period_from, period_to, rows_stored, unmatched, unknown_codes, body_sha256,
  imported_by, imported_at`;

function toImport(row: ImportRow): OperatorImport {
  return {
    id: row.id,
    communityId: row.community_id,
    messageId: row.message_id,
    conversationId: row.conversation_id,
    documentMode: row.document_mode,
    schemaVersion: row.schema_version,
    ecId: row.ec_id,
    gridConnectionId: row.grid_connection_id,
    meteringPointId: row.metering_point_id,
    sender: row.sender,
    messageCreatedAt: row.message_created_at?.toISOString() ?? null,
    periodFrom: row.period_from.toISOString(),
    periodTo: row.period_to.toISOString(),
    rowsStored: row.rows_stored,
    unmatched: row.unmatched,
    unknownCodes: row.unknown_codes,
    importedBy: row.imported_by,
    importedAt: row.imported_at.toISOString(),
  };
}

/** Holds imports of one Zählpunkt of the community to one at a time, until the transaction ends. */
export async function lockZaehlpunkt(tx: Queryable, communityId: string, zaehlpunkt: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`operator-import|${communityId}|${zaehlpunkt}`]);
}

/** The import of this message id, with the hash of the body it had. */
export async function findImport(db: Queryable, communityId: string, messageId: string): Promise<{ record: OperatorImport; bodySha256: string } | undefined> {
  const rows = await db.query<ImportRow>(`SELECT ${IMPORT_COLUMNS} FROM operator_imports WHERE community_id = $1 AND message_id = $2`, [communityId, messageId]);
  return rows[0] && { record: toImport(rows[0]), bodySha256: rows[0].body_sha256 };
}

export interface NewImport {
  communityId: string;
  messageId: string;
  conversationId: string;
  documentMode: string | null;
  schemaVersion: string;
  ecId: string | null;
  gridConnectionId: string;
  meteringPointId: string;
  sender: string | null;
  messageCreatedAtMs: number | null;
  periodFromMs: number;
  periodToMs: number;
  rowsStored: number;
  unknownCodes: readonly string[];
  bodySha256: string;
  importedBy: string;
}

export async function recordImport(tx: Queryable, i: NewImport): Promise<OperatorImport> {
  const rows = await tx.query<ImportRow>(
    `INSERT INTO operator_imports (community_id, message_id, conversation_id, document_mode, schema_version, ec_id, grid_connection_id,
       metering_point_id, sender, message_created_at, period_from, period_to, rows_stored, unmatched, unknown_codes, body_sha256, imported_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text[], $15::text[], $16, $17)
     RETURNING ${IMPORT_COLUMNS}`,
    [i.communityId, i.messageId, i.conversationId, i.documentMode, i.schemaVersion, i.ecId, i.gridConnectionId, i.meteringPointId, i.sender,
      i.messageCreatedAtMs === null ? null : new Date(i.messageCreatedAtMs), new Date(i.periodFromMs), new Date(i.periodToMs),
      i.rowsStored, [], [...i.unknownCodes], i.bodySha256, i.importedBy],
  );
  return toImport(rows[0]!);
}

/** The community's imports, newest first. */
export async function listImports(db: Queryable, communityId: string, limit: number): Promise<OperatorImport[]> {
  const rows = await db.query<ImportRow>(
    `SELECT ${IMPORT_COLUMNS} FROM operator_imports WHERE community_id = $1 ORDER BY imported_at DESC, message_created_at DESC NULLS LAST, id DESC LIMIT $2`,
    [communityId, limit],
  );
  return rows.map(toImport);
}

/** A Zählpunkt's stored codes of one quarter hour, with the ECID they were imported under. */
export interface StoredFigureCodes { startMs: number; codes: StoredCodes; ecId: string | null }

export async function figureCodesAt(tx: Queryable, communityId: string, zaehlpunkt: string, startsMs: readonly number[]): Promise<StoredFigureCodes[]> {
  const rows = await tx.query<{ start: Date; codes: unknown; ec_id: string | null }>(
    `SELECT start, codes, ec_id FROM operator_figures WHERE community_id = $1 AND grid_connection_id = $2 AND start = ANY($3::timestamptz[])`,
    [communityId, zaehlpunkt, startsMs.map((ms) => new Date(ms))],
  );
  return rows.map((r) => ({ startMs: r.start.getTime(), codes: parseStoredCodes(r.codes), ecId: r.ec_id }));
}

/** Stores a Zählpunkt's merged codes per quarter hour (replacing them); an ECID once known stays. */
export async function writeFigureCodes(
  tx: Queryable, communityId: string, zaehlpunkt: string, pointId: string, ecId: string | null, startsMs: readonly number[], codes: readonly StoredCodes[],
): Promise<void> {
  await tx.query(
    `INSERT INTO operator_figures (community_id, grid_connection_id, start, metering_point_id, ec_id, codes)
     SELECT $1, $2, s, $3, $4, c::jsonb FROM unnest($5::timestamptz[], $6::text[]) AS u(s, c)
     ON CONFLICT (community_id, grid_connection_id, start) DO UPDATE SET
       metering_point_id = EXCLUDED.metering_point_id, ec_id = COALESCE(EXCLUDED.ec_id, operator_figures.ec_id),
       codes = EXCLUDED.codes, updated_at = now()`,
    [communityId, zaehlpunkt, pointId, ecId, startsMs.map((ms) => new Date(ms)), codes.map((c) => JSON.stringify(c))],
  );
}

/** Every Zählpunkt's stored codes of the community in [fromMs, toMs). */
export async function figureCodesBetween(
  db: Queryable, communityId: string, fromMs: number, toMs: number,
): Promise<{ gridConnectionId: string; startMs: number; meteringPointId: string; codes: StoredCodes }[]> {
  const rows = await db.query<{ grid_connection_id: string; start: Date; metering_point_id: string; codes: unknown }>(
    'SELECT grid_connection_id, start, metering_point_id, codes FROM operator_figures WHERE community_id = $1 AND start >= $2 AND start < $3',
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  return rows.map((r) => ({ gridConnectionId: r.grid_connection_id, startMs: r.start.getTime(), meteringPointId: r.metering_point_id, codes: parseStoredCodes(r.codes) }));
}

/**
 * The metering points and quarter hours among `startsMs` with a provisional substitute (EDA L3)
 * in some code: the sharing job keeps those provisional until final figures come.
 */
export async function provisionalFigures(db: Queryable, communityId: string, startsMs: readonly number[]): Promise<{ meteringPointId: string; startMs: number }[]> {
  const rows = await db.query<{ metering_point_id: string; start: Date }>(
    `SELECT DISTINCT f.metering_point_id, f.start FROM operator_figures f, jsonb_each(f.codes) AS c(code, entry)
     WHERE f.community_id = $1 AND f.start = ANY($2::timestamptz[]) AND c.entry->>'quality' = 'provisional'`,
    [communityId, startsMs.map((ms) => new Date(ms))],
  );
  return rows.map((r) => ({ meteringPointId: r.metering_point_id, startMs: r.start.getTime() }));
}
