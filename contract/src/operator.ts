/**
 * Operator-import mode (Austria): EDA ConsumptionRecord uploads and their reconciliation against
 * the metered quarter hours (server/src/sharing/operator-*.ts).
 */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime, nullable, Uuid } from './common.js';
import { route } from './route.js';

/** The content types an EDA message is sent with. */
export const XML_CONTENT_TYPES = ['application/xml', 'text/xml'];

/** How many differences a reconciliation returns unless asked for another limit. */
export const DEFAULT_DIFFERENCE_LIMIT = 1_000;

/** The kinds of difference a reconciliation reports (server/src/sharing/eda/reconcile.ts), in the order it lists them. */
export const DIFFERENCE_KINDS = [
  /** Operator consumption (1-1:1.9.0 G.01) ≠ metered import. */
  'consumption_mismatch',
  /** Operator generation (1-1:2.9.0 G.01) ≠ metered export. */
  'production_mismatch',
  /** Allocated community energy (own coverage, G.03) above the consumption it covers (G.01 or G.01T). */
  'allocated_exceeds_consumption',
  /** Own coverage (G.03) above the community share the key assigned (G.02). */
  'allocated_exceeds_share',
  /** A producer's remaining surplus (P.01T, P.01) above its generation (G.01T, G.01). */
  'surplus_exceeds_production',
  /** Σ coverage of all consumers ≠ Σ given by all producers in a quarter hour. */
  'community_imbalance',
  /** Metered data without the operator's figure for the same Zählpunkt and quarter hour. */
  'missing_operator_figure',
  /** The operator's figure without metered data (or with a metered gap). */
  'missing_metered_interval',
] as const;

export const OperatorImport = Type.Object({
  id: Uuid,
  communityId: Uuid,
  messageId: Type.String(),
  conversationId: Type.String(),
  documentMode: nullable(Type.String({ description: 'PROD, or SIMU for a test message imported with allowSimulation' })),
  schemaVersion: Type.String(),
  ecId: nullable(Type.String({ description: 'the community id (ECID) the operator sent the message for; recorded, not checked' })),
  gridConnectionId: Type.String({ description: 'the message\'s Zählpunkt' }),
  meteringPointId: nullable(Uuid),
  sender: nullable(Type.String()),
  messageCreatedAt: nullable(IsoDateTime),
  periodFrom: IsoDateTime,
  periodTo: IsoDateTime,
  rowsStored: Type.Integer({ description: 'quarter hours stored for the sharing job' }),
  unmatched: Type.Array(Type.String(), { description: 'Zählpunkte without a metering point, not stored' }),
  unknownCodes: Type.Array(Type.String(), { description: 'meter codes kept but not used' }),
  importedBy: nullable(Uuid),
  importedAt: IsoDateTime,
});

const ImportQuery = Type.Object({
  allowSimulation: Type.Optional(Type.Boolean({ default: false, description: 'import a test message (DocumentMode SIMU) too' })),
}, { additionalProperties: false });

const ListQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 100 })) }, { additionalProperties: false });

const ReconciliationQuery = Type.Object({
  from: Type.String({ description: 'UTC start of a quarter hour, e.g. 2025-06-01T00:00:00Z' }),
  to: Type.String({ description: 'UTC end (exclusive), at most 31 days and 1 hour after from' }),
  toleranceWh: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9, description: 'differences up to this many Wh are not flagged' })),
  tolerancePercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: '… nor up to this percentage of the larger side' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: DEFAULT_DIFFERENCE_LIMIT, description: 'differences returned (the summaries count all)' })),
}, { additionalProperties: false });

const Kind = Type.Enum([...DIFFERENCE_KINDS]);
const OperatorQualityEnum = Type.Enum(['measured', 'substitute', 'unspecified', 'provisional']);
const MeteredQualityEnum = Type.Enum(['measured', 'estimated', 'missing']);
const Owner = {
  meteringPointId: nullable(Uuid),
  memberId: nullable(Uuid),
};
const Difference = Type.Object({
  kind: Kind,
  gridConnectionId: nullable(Type.String()),
  ...Owner,
  start: IsoDateTime,
  operatorWh: nullable(Type.Integer()),
  referenceWh: nullable(Type.Integer()),
  differenceWh: nullable(Type.Integer()),
  allowedWh: Type.Number({ description: 'the largest |difference| not flagged: rounding allowance or tolerance' }),
  operatorQuality: nullable(OperatorQualityEnum),
  meteredQuality: nullable(MeteredQualityEnum),
});
const PointSummary = Type.Object({
  gridConnectionId: Type.String(),
  ...Owner,
  role: Type.Enum(['consumption', 'generation', 'unknown']),
  operatorIntervals: Type.Integer(),
  meteredIntervals: Type.Integer(),
  comparedIntervals: Type.Integer(),
  operatorWh: Type.Integer(),
  meteredWh: Type.Integer(),
  differenceWh: Type.Integer(),
  communityWh: Type.Integer({ description: 'own coverage received (consumption) or given to the community (generation)' }),
  flagged: Type.Integer(),
  flaggedByKind: Type.Object(Object.fromEntries(DIFFERENCE_KINDS.map((kind) => [kind, Type.Optional(Type.Integer())]))),
  largestDifferenceWh: nullable(Type.Integer()),
});
export const Reconciliation = Type.Object({
  communityId: Uuid,
  from: IsoDateTime,
  to: IsoDateTime,
  tolerance: Type.Object({ wh: Type.Number(), percent: Type.Number() }),
  differenceCount: Type.Integer(),
  truncated: Type.Boolean(),
  differences: Type.Array(Difference),
  points: Type.Array(PointSummary),
  community: Type.Object({
    balancedIntervals: Type.Integer(),
    imbalancedIntervals: Type.Integer(),
    fromCommunityWh: Type.Integer(),
    toCommunityWh: Type.Integer(),
  }),
});

export type OperatorImport = Static<typeof OperatorImport>;
export type Reconciliation = Static<typeof Reconciliation>;

export const operatorRoutes = {
  importOperatorMessage: route('POST', '/api/v1/communities/:id/operator-imports', {
    tags: ['sharing'],
    summary: 'Import one EDA ConsumptionRecord message (application/xml or text/xml, at most 4 MiB) from the grid operator (managers)',
    description: 'The Zählpunkt must be the grid connection id or the generation grid connection id of one of the community\'s metering points '
      + '(a prosumer\'s consumption and generation Zählpunkte both fill that one point). 201: imported; '
      + '200: this message id was imported before with the same content, nothing changed (the earlier import is returned); '
      + '400: refused whole, nothing stored (`reason`: the EDA parser\'s, or simulation_message, unknown_metering_point, '
      + 'codes_of_other_zaehlpunkt when a point\'s consumption Zählpunkt sends generation figures or the other way round); '
      + '409: the message id was used for different content, or the Zählpunkt\'s stored figures belong to another ECID; 413: too large; 415: not XML. '
      + 'The quarter hours are then split again by the sharing job (operator mode takes these figures).',
    consumes: XML_CONTENT_TYPES,
    // Documents the body only: any bytes pass here, the EDA parser checks them.
    body: Type.Unknown({ description: 'one EDA ConsumptionRecord message (schema 01.30–01.41), UTF-8' }),
    params: IdParams,
    querystring: ImportQuery,
    response: { 200: OperatorImport, 201: OperatorImport, ...errors(400, 401, 403, 404, 409, 413, 415) },
  }),
  listOperatorImports: route('GET', '/api/v1/communities/:id/operator-imports', {
    tags: ['sharing'],
    summary: 'The community\'s imported EDA messages, newest first (managers)',
    params: IdParams,
    querystring: ListQuery,
    response: { 200: Type.Array(OperatorImport), ...errors(400, 401, 403, 404) },
  }),
  reconciliation: route('GET', '/api/v1/communities/:id/reconciliation', {
    tags: ['sharing'],
    summary: 'The grid operator\'s imported figures against the metered quarter hours: differences per member, metering point and quarter hour, per-point and community summaries (managers)',
    params: IdParams,
    querystring: ReconciliationQuery,
    response: { 200: Reconciliation, ...errors(400, 401, 403, 404) },
  }),
};
