import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import type { EventPublisher } from '../platform/events/index.js';
import { loadCommunity } from '../registry/index.js';
import { billingRoutes as contract } from '@gridshare/contract/billing';
import * as settlements from './settlements.js';
import { statementCsv, statementPdf } from './domain/documents.js';
import type { StatementView } from './domain/statement.js';

export async function billingRoutes(app: Api, { db, events }: { db: Db; events: EventPublisher }): Promise<void> {
  app.post(contract.runSettlement.path, { schema: contract.runSettlement.schema }, async (request, reply) => reply.status(201).send(await settlements.runSettlement(db, request.principal, request.params.id, request.body.period)));

  app.get(contract.listSettlements.path, { schema: contract.listSettlements.schema }, async (request) => settlements.listSettlements(db, request.principal, request.params.id));

  app.get(contract.getSettlement.path, { schema: contract.getSettlement.schema }, async (request) => settlements.getSettlement(db, request.principal, request.params.id));

  app.get(contract.settlementGaps.path, { schema: contract.settlementGaps.schema }, async (request) => {
    const { countedUntilMs, points, ...gaps } = await settlements.settlementGaps(db, request.principal, request.params.id);
    return { ...gaps, countedUntil: new Date(countedUntilMs).toISOString(), points: [...points] };
  });

  app.post(contract.closeSettlement.path, { schema: contract.closeSettlement.schema },
    async (request) => settlements.closeSettlement(db, request.principal, request.params.id, events, request.query.confirmMissing));

  app.post(contract.recomputeSettlement.path, { schema: contract.recomputeSettlement.schema }, async (request) => settlements.recomputeSettlement(db, request.principal, request.params.id, events));

  app.get(contract.memberStatements.path, { schema: contract.memberStatements.schema }, async (request) => settlements.listMemberStatements(db, request.principal, request.params.id));

  app.get(contract.getStatement.path, { schema: contract.getStatement.schema }, async (request) => {
    const statement = await settlements.getStatement(db, request.principal, request.params.id);
    return { ...statement, lines: [...statement.lines] };
  });

  const fileName = (s: StatementView, ext: string) => `statement-${s.period}-${s.kind === 'correction' ? `correction-${s.sequence}-` : ''}${s.id.slice(0, 8)}.${ext}`;

  app.get(contract.statementCsv.path, { schema: contract.statementCsv.schema }, async (request, reply) => {
    const statement = await settlements.getStatement(db, request.principal, request.params.id);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${fileName(statement, 'csv')}"`)
      .send(statementCsv(statement));
  });

  app.get(contract.statementPdf.path, { schema: contract.statementPdf.schema }, async (request, reply) => {
    const statement = await settlements.getStatement(db, request.principal, request.params.id);
    const community = await loadCommunity(db, statement.communityId);
    return reply
      .header('content-type', 'application/pdf')
      .header('content-disposition', `attachment; filename="${fileName(statement, 'pdf')}"`)
      .send(await statementPdf(statement, community?.locale ?? 'en'));
  });
}
