import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import type { JobWaker } from '../platform/jobs/index.js';
import { SHARING_JOB } from '../sharing/index.js';
import { errors, IdParams, IsoDateTime, Uuid, type Api } from '../platform/http/api.js';
import { BadRequestError, UnsupportedMediaTypeError } from '../kernel/errors.js';
import { DIFFERENCE_KINDS } from './domain/index.js';
import { importOperatorMessage, listOperatorImports, OPERATOR_IMPORT_MAX_BYTES } from './imports.js';
import { communityReconciliation, DEFAULT_DIFFERENCE_LIMIT } from './reconciliation.js';

/** The content types an EDA message is sent with. */
export const XML_CONTENT_TYPES = ['application/xml', 'text/xml'];

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const OperatorImport = Type.Object({
  id: Uuid,
  communityId: Uuid,
  messageId: Type.String(),
  conversationId: Type.String(),
  documentMode: Nullable(Type.String({ description: 'PROD, or SIMU for a test message imported with allowSimulation' })),
  schemaVersion: Type.String(),
  ecId: Nullable(Type.String({ description: 'the community id (ECID) the operator sent the message for; recorded, not checked' })),
  gridConnectionId: Type.String({ description: 'the message\'s Zählpunkt' }),
  meteringPointId: Nullable(Uuid),
  sender: Nullable(Type.String()),
  messageCreatedAt: Nullable(IsoDateTime),
  periodFrom: IsoDateTime,
  periodTo: IsoDateTime,
  rowsStored: Type.Integer({ description: 'quarter hours stored for the sharing job' }),
  unmatched: Type.Array(Type.String(), { description: 'Zählpunkte without a metering point, not stored' }),
  unknownCodes: Type.Array(Type.String(), { description: 'meter codes kept but not used' }),
  importedBy: Nullable(Uuid),
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
  meteringPointId: Nullable(Uuid),
  memberId: Nullable(Uuid),
};
const Difference = Type.Object({
  kind: Kind,
  gridConnectionId: Nullable(Type.String()),
  ...Owner,
  start: IsoDateTime,
  operatorWh: Nullable(Type.Integer()),
  referenceWh: Nullable(Type.Integer()),
  differenceWh: Nullable(Type.Integer()),
  allowedWh: Type.Number({ description: 'the largest |difference| not flagged: rounding allowance or tolerance' }),
  operatorQuality: Nullable(OperatorQualityEnum),
  meteredQuality: Nullable(MeteredQualityEnum),
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
  largestDifferenceWh: Nullable(Type.Integer()),
});
const Reconciliation = Type.Object({
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

/**
 * Operator-import mode (Austria): EDA uploads and reconciliation, for managers and admins. Thin:
 * operator-imports.ts and operator-reconciliation.ts do the work, eda/ holds the pure core.
 */
export async function operatorRoutes(app: Api, { db, jobs }: { db: Db; jobs: JobWaker }): Promise<void> {
  // XML is taken raw (a Buffer) and parsed by the EDA parser, which checks encoding and limits.
  for (const type of XML_CONTENT_TYPES) {
    if (!app.hasContentTypeParser(type)) {
      app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: OPERATOR_IMPORT_MAX_BYTES }, (_request, body, done) => done(null, body));
    }
  }

  app.post('/api/v1/communities/:id/operator-imports', {
    schema: {
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
    },
    bodyLimit: OPERATOR_IMPORT_MAX_BYTES,
  }, async (request, reply) => {
    const body = request.body;
    if (!Buffer.isBuffer(body)) {
      const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (XML_CONTENT_TYPES.includes(type)) throw new BadRequestError('the body is empty: send one ConsumptionRecord message');
      throw new UnsupportedMediaTypeError(`send the EDA message as ${XML_CONTENT_TYPES.join(' or ')}`);
    }
    const outcome = await importOperatorMessage(db, request.principal, request.params.id, body, { allowSimulation: request.query.allowSimulation ?? false });
    if (outcome.created) jobs.wake(SHARING_JOB);
    return reply.status(outcome.created ? 201 : 200).send(outcome.import);
  });

  app.get('/api/v1/communities/:id/operator-imports', {
    schema: {
      tags: ['sharing'],
      summary: 'The community\'s imported EDA messages, newest first (managers)',
      params: IdParams,
      querystring: ListQuery,
      response: { 200: Type.Array(OperatorImport), ...errors(400, 401, 403, 404) },
    },
  }, async (request) => listOperatorImports(db, request.principal, request.params.id, request.query.limit));

  app.get('/api/v1/communities/:id/reconciliation', {
    schema: {
      tags: ['sharing'],
      summary: 'The grid operator\'s imported figures against the metered quarter hours: differences per member, metering point and quarter hour, per-point and community summaries (managers)',
      params: IdParams,
      querystring: ReconciliationQuery,
      response: { 200: Reconciliation, ...errors(400, 401, 403, 404) },
    },
  }, async (request) => communityReconciliation(db, request.principal, request.params.id, request.query));
}
