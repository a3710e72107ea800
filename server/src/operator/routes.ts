import type { JobWaker } from '../platform/jobs/index.js';
import { SHARING_JOB } from '../sharing/index.js';
import type { Db } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import type { Api } from '../platform/http/api.js';
import { operatorRoutes as contract, XML_CONTENT_TYPES } from '@gridshare/contract/operator';
import { BadRequestError, UnsupportedMediaTypeError } from '../kernel/errors.js';
import { importOperatorMessage, listOperatorImports, OPERATOR_IMPORT_MAX_BYTES } from './imports.js';
import { communityReconciliation } from './reconciliation.js';

/**
 * Operator-import mode (Austria): EDA uploads and reconciliation, for managers and admins. Thin:
 * operator-imports.ts and operator-reconciliation.ts do the work, eda/ holds the pure core.
 */
export async function operatorRoutes(app: Api, { db, events, jobs }: { db: Db; events: EventPublisher; jobs: JobWaker }): Promise<void> {
  // XML is taken raw (a Buffer) and parsed by the EDA parser, which checks encoding and limits.
  for (const type of XML_CONTENT_TYPES) {
    if (!app.hasContentTypeParser(type)) {
      app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: OPERATOR_IMPORT_MAX_BYTES }, (_request, body, done) => done(null, body));
    }
  }

  app.post(contract.importOperatorMessage.path, {
    schema: contract.importOperatorMessage.schema,
    bodyLimit: OPERATOR_IMPORT_MAX_BYTES,
  }, async (request, reply) => {
    const body = request.body;
    if (!Buffer.isBuffer(body)) {
      const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (XML_CONTENT_TYPES.includes(type)) throw new BadRequestError('the body is empty: send one ConsumptionRecord message');
      throw new UnsupportedMediaTypeError(`send the EDA message as ${XML_CONTENT_TYPES.join(' or ')}`);
    }
    const outcome = await importOperatorMessage(db, events, request.principal, request.params.id, body, { allowSimulation: request.query.allowSimulation ?? false });
    if (outcome.created) jobs.wake(SHARING_JOB);
    return reply.status(outcome.created ? 201 : 200).send(outcome.import);
  });

  app.get(contract.listOperatorImports.path, { schema: contract.listOperatorImports.schema }, async (request) => listOperatorImports(db, request.principal, request.params.id, request.query.limit));

  app.get(contract.reconciliation.path, { schema: contract.reconciliation.schema }, async (request) => communityReconciliation(db, request.principal, request.params.id, request.query));
}
