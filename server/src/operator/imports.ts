import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, ConflictError } from '../kernel/errors.js';
import { communityMeteringPoints, requireCommunityManager, type CommunityMeteringPoint } from '../registry/index.js';
import { mergeCodes, messageCodes, operatorAllocationRows, parseConsumptionRecord, storedFigure, type ConsumptionRecord, type OperatorFigure, type StoredCodes } from './domain/index.js';
import { writeOperatorAllocations } from '../sharing/index.js';
import { figureCodesAt, findImport, listImports, lockZaehlpunkt, recordImport, writeFigureCodes, type OperatorImport } from './store.js';
import { recordChange } from '../audit/index.js';

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
 * with `operator-import.accepted` for the verifiable record, in one transaction. The caller wakes the sharing job afterwards.
 */
export async function importOperatorMessage(
  db: Db, events: EventPublisher, principal: Principal, communityId: string, body: Uint8Array, options: ImportOptions = {},
): Promise<ImportOutcome> {
  const user = await requireCommunityManager(db, principal, communityId);
  const message = parseConsumptionRecord(body, { maxBytes: OPERATOR_IMPORT_MAX_BYTES });
  if (message.documentMode === 'SIMU' && options.allowSimulation !== true) {
    throw new OperatorImportRefused('simulation_message',
      'MarketParticipantDirectory/@DocumentMode: SIMU is a test message; send it with ?allowSimulation=true to import it anyway',
      'MarketParticipantDirectory/@DocumentMode');
  }
  const sha256 = createHash('sha256').update(body).digest('hex');

  return events.transaction(db, async (tx, publish) => {
    // Imports of one Zählpunkt read the stored codes and write them back merged: one at a time.
    // The lock also makes two uploads of the same message id meet here in order (the id belongs
    // to one Zählpunkt), so the second sees the first and is answered as a replay.
    await lockZaehlpunkt(tx, communityId, message.meteringPoint);
    const earlier = await findImport(tx, communityId, message.messageId);
    if (earlier) {
      if (earlier.bodySha256 !== sha256) {
        throw new ConflictError(`message ${message.messageId} was imported before with different content (${earlier.record.importedAt}); the operator sends corrections under a new message id`);
      }
      return { import: earlier.record, created: false };
    }

    // At most one row: an id names one point of a community, as either of its ids (migration 0025).
    const point = (await communityMeteringPoints(tx, communityId))
      .find((p) => p.gridConnectionId === message.meteringPoint || p.generationGridConnectionId === message.meteringPoint);
    if (point === undefined) {
      // Not "unmatched and stored nothing": refusing lets the same message be sent again once
      // the metering point is registered (a recorded import would make that a replay).
      throw new OperatorImportRefused('unknown_metering_point',
        `ProcessDirectory/MeteringPoint: Zählpunkt ${message.meteringPoint} is the grid connection id (or generation grid connection id) of no metering point of this community`,
        'ProcessDirectory/MeteringPoint');
    }
    const side = zaehlpunktSide(point, message.meteringPoint);

    const rows = await storeCodes(tx, communityId, message, point.id, side);
    const recorded = await recordImport(tx, {
      communityId, messageId: message.messageId, conversationId: message.conversationId, documentMode: message.documentMode,
      schemaVersion: message.schemaVersion, ecId: message.communityId, gridConnectionId: message.meteringPoint, meteringPointId: point.id,
      sender: message.sender, messageCreatedAtMs: message.createdAtMs, periodFromMs: Math.min(...message.energy.map((e) => e.periodStartMs)),
      periodToMs: Math.max(...message.energy.map((e) => e.periodEndMs)), rowsStored: rows, unknownCodes: [...message.unknownCodes],
      bodySha256: sha256, importedBy: user.userId,
    });
    await publish('operator-import.accepted', {
      communityId, importId: recorded.id, operator: message.sender ?? 'unknown', format: 'eda-consumption-record',
      periodFromMs: Math.min(...message.energy.map((e) => e.periodStartMs)), periodToMs: Math.max(...message.energy.map((e) => e.periodEndMs)),
      sha256, size: body.length, atMs: Date.parse(recorded.importedAt),
    });
    await recordChange(publish, { kind: 'operator-import', communityId, resourceId: recorded.id, action: 'upload', before: null, after: recorded, atMs: Date.parse(recorded.importedAt) });
    return { import: recorded, created: true };
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
  const before = new Map<number, StoredCodes>();
  for (const row of await figureCodesAt(tx, communityId, message.meteringPoint, starts)) {
    if (row.ecId !== null && message.communityId !== null && row.ecId !== message.communityId) {
      // A Zählpunkt may take part in up to five communities; their figures must never be merged.
      throw new ConflictError(`the figures of ${message.meteringPoint} stored for these quarter hours belong to community (ECID) ${row.ecId}, this message to ${message.communityId}`);
    }
    before.set(row.startMs, row.codes);
  }
  const merged = starts.map((ms) => mergeCodes(before.get(ms), incoming.get(ms)!));
  await writeFigureCodes(tx, communityId, message.meteringPoint, pointId, message.communityId, starts, merged);
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

function zaehlpunktSide(point: CommunityMeteringPoint, zaehlpunkt: string): ZaehlpunktSide {
  if (point.generationGridConnectionId === null) return 'only';
  return zaehlpunkt === point.generationGridConnectionId ? 'generation' : 'consumption';
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
  return listImports(db, communityId, limit);
}
