import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, ConflictError } from '../kernel/errors.js';
import { requireCommunityManager } from '../registry/index.js';
import {
  mergeCodes, messageCodes, operatorAllocationRows, parseConsumptionRecord, parseStoredCodes, storedFigure,
  type ConsumptionRecord, type OperatorFigure, type StoredCodes,
} from './domain/index.js';
import { writeOperatorAllocations } from '../sharing/index.js';

/**
 * Operator-import mode, the service side (issue 5): one EDA ConsumptionRecord message in, the
 * operator's codes and allocation rows stored, the import recorded. The message itself is read
 * and checked by the pure eda/ core; this module decides what may be stored where.
 *
 * One message carries one Zählpunkt. It is refused whole (nothing stored, nothing recorded) when
 * it is malformed, a test message (SIMU) not asked for, or its Zählpunkt is no metering point's
 * grid connection id (or generation grid connection id) in this community, so that the manager
 * can fix the registry and send it again.
 *
 * A prosumer has two Zählpunkte on one meter, registered as one metering point: the consumption
 * Zählpunkt as its grid connection id, the generation Zählpunkt as its generation grid connection
 * id. Both Zählpunkte's messages land on that point's operator_allocations rows, the one filling
 * consumption and coverage, the other production and what was given (the upsert merges columns).
 * So that one cannot overwrite the other's columns, a message of either of the two that carries
 * the other side's figures is refused (`codes_of_other_zaehlpunkt`). The same message id again is a replay: it changes nothing and answers with the first
 * import; a different message under a used id is refused (409).
 */

/**
 * Largest message accepted over HTTP. The parser is synchronous (about 0.2 s per MB on the shared
 * benchmark machine, eda/README.md "Performance"): 4 MiB holds a month of one Zählpunkt with
 * every code (≈ 3 MB) while keeping one upload from holding the event loop for long.
 */
export const OPERATOR_IMPORT_MAX_BYTES = 4 * 1024 * 1024;

export type ImportRefusal = 'simulation_message' | 'unknown_metering_point' | 'codes_of_other_zaehlpunkt';

/** A well-formed message that this community does not take (HTTP 400 with `reason`). */
export class OperatorImportRefused extends BadRequestError {
  constructor(readonly reason: ImportRefusal, message: string, field?: string) {
    super(message, field);
    this.name = 'OperatorImportRefused';
  }
}

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

export interface ImportOptions {
  /** Store a test message (DocumentMode SIMU) too; refused otherwise. */
  allowSimulation?: boolean;
}

export interface ImportOutcome {
  import: OperatorImport;
  /** False for a replay of a message imported before (nothing was changed). */
  created: boolean;
}

/**
 * Imports one ConsumptionRecord message: parses it, maps its Zählpunkt to the community's metering
 * point, merges its codes into the stored ones (operator_figures), stores the allocation rows the
 * sharing job reads (operator_allocations, which marks the quarter hours) and records the import,
 * in one transaction. The caller wakes the sharing job afterwards.
 */
export async function importOperatorMessage(
  db: Db, principal: Principal, communityId: string, body: Uint8Array, options: ImportOptions = {},
): Promise<ImportOutcome> {
  const user = await requireCommunityManager(db, principal, communityId);
  const message = parseConsumptionRecord(body, { maxBytes: OPERATOR_IMPORT_MAX_BYTES });
  if (message.documentMode === 'SIMU' && options.allowSimulation !== true) {
    throw new OperatorImportRefused('simulation_message',
      'MarketParticipantDirectory/@DocumentMode: SIMU is a test message; send it with ?allowSimulation=true to import it anyway',
      'MarketParticipantDirectory/@DocumentMode');
  }
  const sha256 = createHash('sha256').update(body).digest('hex');

  return db.transaction(async (tx) => {
    // Imports of one Zählpunkt read the stored codes and write them back merged: one at a time.
    // The lock also makes two uploads of the same message id meet here in order (the id belongs
    // to one Zählpunkt), so the second sees the first and is answered as a replay.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`operator-import|${communityId}|${message.meteringPoint}`]);
    const earlier = await tx.query<ImportRow>(
      `SELECT ${IMPORT_COLUMNS} FROM operator_imports WHERE community_id = $1 AND message_id = $2`, [communityId, message.messageId],
    );
    if (earlier[0]) {
      if (earlier[0].body_sha256 !== sha256) {
        throw new ConflictError(`message ${message.messageId} was imported before with different content (${earlier[0].imported_at.toISOString()}); the operator sends corrections under a new message id`);
      }
      return { import: toImport(earlier[0]), created: false };
    }

    // At most one row: an id names one point of a community, as either of its ids (migration 0025).
    const points = await tx.query<{ id: string; grid_connection_id: string; generation_grid_connection_id: string | null }>(
      `SELECT id, grid_connection_id, generation_grid_connection_id FROM metering_points
       WHERE community_id = $1 AND (grid_connection_id = $2 OR generation_grid_connection_id = $2)`,
      [communityId, message.meteringPoint],
    );
    const point = points[0];
    if (point === undefined) {
      // Not "unmatched and stored nothing": refusing lets the same message be sent again once
      // the metering point is registered (a recorded import would make that a replay).
      throw new OperatorImportRefused('unknown_metering_point',
        `ProcessDirectory/MeteringPoint: Zählpunkt ${message.meteringPoint} is the grid connection id (or generation grid connection id) of no metering point of this community`,
        'ProcessDirectory/MeteringPoint');
    }
    const side = zaehlpunktSide(point, message.meteringPoint);

    const rows = await storeCodes(tx, communityId, message, point.id, side);
    const inserted = await tx.query<ImportRow>(
      `INSERT INTO operator_imports (community_id, message_id, conversation_id, document_mode, schema_version, ec_id, grid_connection_id,
         metering_point_id, sender, message_created_at, period_from, period_to, rows_stored, unmatched, unknown_codes, body_sha256, imported_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text[], $15::text[], $16, $17)
       RETURNING ${IMPORT_COLUMNS}`,
      [communityId, message.messageId, message.conversationId, message.documentMode, message.schemaVersion, message.communityId,
        message.meteringPoint, point.id, message.sender, message.createdAtMs === null ? null : new Date(message.createdAtMs),
        new Date(Math.min(...message.energy.map((e) => e.periodStartMs))), new Date(Math.max(...message.energy.map((e) => e.periodEndMs))),
        rows, [], [...message.unknownCodes], sha256, user.userId],
    );
    return { import: toImport(inserted[0]!), created: true };
  });
}

/**
 * Merges the message's codes into operator_figures and writes the allocation rows of the merged
 * figures; returns the number of rows written. Rows come from the merged codes, not from the
 * message alone, so an old message uploaded late cannot overwrite a newer correction there either.
 */
async function storeCodes(tx: Queryable, communityId: string, message: ConsumptionRecord, pointId: string, side: ZaehlpunktSide): Promise<number> {
  const incoming = messageCodes(message);
  const starts = [...incoming.keys()].sort((a, b) => a - b);
  const stored = await tx.query<{ start: Date; codes: unknown; ec_id: string | null }>(
    `SELECT start, codes, ec_id FROM operator_figures WHERE community_id = $1 AND grid_connection_id = $2 AND start = ANY($3::timestamptz[])`,
    [communityId, message.meteringPoint, starts.map((ms) => new Date(ms))],
  );
  const before = new Map<number, StoredCodes>();
  for (const row of stored) {
    if (row.ec_id !== null && message.communityId !== null && row.ec_id !== message.communityId) {
      // A Zählpunkt may take part in up to five communities; their figures must never be merged.
      throw new ConflictError(`the figures of ${message.meteringPoint} stored for these quarter hours belong to community (ECID) ${row.ec_id}, this message to ${message.communityId}`);
    }
    before.set(row.start.getTime(), parseStoredCodes(row.codes));
  }
  const merged = starts.map((ms) => mergeCodes(before.get(ms), incoming.get(ms)!));
  await tx.query(
    `INSERT INTO operator_figures (community_id, grid_connection_id, start, metering_point_id, ec_id, codes)
     SELECT $1, $2, s, $3, $4, c::jsonb FROM unnest($5::timestamptz[], $6::text[]) AS u(s, c)
     ON CONFLICT (community_id, grid_connection_id, start) DO UPDATE SET
       metering_point_id = EXCLUDED.metering_point_id, ec_id = COALESCE(EXCLUDED.ec_id, operator_figures.ec_id),
       codes = EXCLUDED.codes, updated_at = now()`,
    [communityId, message.meteringPoint, pointId, message.communityId, starts.map((ms) => new Date(ms)), merged.map((codes) => JSON.stringify(codes))],
  );
  const figures = starts.map((ms, k) => storedFigure(message.meteringPoint, message.communityId, ms, merged[k]!));
  checkSide(figures, side, message.meteringPoint);
  const { rows } = operatorAllocationRows(figures, (zp) => (zp === message.meteringPoint ? pointId : undefined), message.messageId);
  // A quarter hour with none of the four figures (only codes Gridshare does not use) gets no row:
  // an empty row would make the sharing job treat it as settled with zero community energy.
  const useful = rows.filter((r) => r.consumptionWh !== null || r.fromCommunityWh !== null || r.productionWh !== null || r.toCommunityWh !== null);
  await writeOperatorAllocations(tx, communityId, useful);
  return useful.length;
}

/**
 * Which figures a Zählpunkt may give its metering point: all four when it is the point's only id;
 * when the point has two, the consumption Zählpunkt gives consumption and coverage, the
 * generation Zählpunkt production and what it gave.
 */
type ZaehlpunktSide = 'only' | 'consumption' | 'generation';

function zaehlpunktSide(point: { grid_connection_id: string; generation_grid_connection_id: string | null }, zaehlpunkt: string): ZaehlpunktSide {
  if (point.generation_grid_connection_id === null) return 'only';
  return zaehlpunkt === point.generation_grid_connection_id ? 'generation' : 'consumption';
}

type FigureField = 'consumptionWh' | 'fromCommunityWh' | 'productionWh' | 'toCommunityWh';
/** Per side, the fields only the point's other Zählpunkt gives, and what they are called. */
const OTHER_SIDE: Record<Exclude<ZaehlpunktSide, 'only'>, { fields: readonly FigureField[]; what: string }> = {
  consumption: { fields: ['productionWh', 'toCommunityWh'], what: 'generation' },
  generation: { fields: ['consumptionWh', 'fromCommunityWh'], what: 'consumption' },
};

/** Refuses figures of the other Zählpunkt's side (checked on the merged figures, before anything is written). */
function checkSide(figures: readonly OperatorFigure[], side: ZaehlpunktSide, zaehlpunkt: string): void {
  if (side === 'only') return;
  const other = OTHER_SIDE[side];
  for (const figure of figures) {
    const field = other.fields.find((name) => figure[name] !== null);
    if (field === undefined) continue;
    throw new OperatorImportRefused('codes_of_other_zaehlpunkt',
      `ProcessDirectory/Energy: ${zaehlpunkt} is the ${side} Zählpunkt of its metering point but carries ${other.what} figures `
      + `(${field} at ${new Date(figure.startMs).toISOString()}); those come from the point's other Zählpunkt`,
      'ProcessDirectory/Energy');
  }
}

/** The community's imports, newest first (managers and admins). */
export async function listOperatorImports(db: Queryable, principal: Principal, communityId: string, limit = 100): Promise<OperatorImport[]> {
  await requireCommunityManager(db, principal, communityId);
  const rows = await db.query<ImportRow>(
    `SELECT ${IMPORT_COLUMNS} FROM operator_imports WHERE community_id = $1 ORDER BY imported_at DESC, message_created_at DESC NULLS LAST, id DESC LIMIT $2`,
    [communityId, limit],
  );
  return rows.map(toImport);
}
