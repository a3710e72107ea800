import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, IdParams, IsoDateTime, Uuid, type Api } from '../platform/http/api.js';
import { loadCommunity } from '../registry/index.js';
import * as settlements from './settlements.js';
import { statementCsv, statementPdf } from './domain/documents.js';
import type { StatementView } from './domain/statement.js';

const Kind = Type.Enum(['statement', 'correction']);
const State = Type.Enum(['draft', 'closed']);
const StatementSummary = Type.Object({
  id: Uuid, memberId: Uuid, displayName: Type.String(), kind: Kind, sequence: Type.Integer(),
  total: Type.String(), currency: Type.String(), createdAt: IsoDateTime,
});
const Settlement = Type.Object({
  id: Uuid,
  communityId: Uuid,
  period: Type.String(),
  periodStart: IsoDateTime,
  periodEnd: IsoDateTime,
  state: State,
  createdAt: IsoDateTime,
  computedAt: IsoDateTime,
  closedAt: Type.Union([IsoDateTime, Type.Null()]),
  statements: Type.Array(StatementSummary),
  totals: Type.Object({
    currency: Type.String(), amount: Type.String(), statements: Type.Integer(), corrections: Type.Integer(),
    fromCommunityWh: Type.Integer(), toCommunityWh: Type.Integer(),
  }),
});
const Line = Type.Object({
  code: Type.Enum(['community-energy', 'community-sales', 'grid-fee-reduction']),
  description: Type.String(), tariffId: Type.String(), energyWh: Type.Integer(), unitPrice: Type.String(),
  amount: Type.String({ description: 'rounded once, half away from zero; positive is owed by the member' }),
  exactAmount: Type.String({ description: 'the exact amount before rounding' }),
});
const Energy = Type.Object({
  consumptionWh: Type.Integer(), selfConsumedWh: Type.Integer(), fromCommunityWh: Type.Integer(), fromGridWh: Type.Integer(),
  productionWh: Type.Integer(), toCommunityWh: Type.Integer(), toGridWh: Type.Integer(),
});
const Statement = Type.Object({
  id: Uuid,
  settlementId: Uuid,
  communityId: Uuid,
  memberId: Uuid,
  displayName: Type.String(),
  communityName: Type.String(),
  period: Type.String(),
  periodStart: IsoDateTime,
  periodEnd: IsoDateTime,
  timeZone: Type.String(),
  state: State,
  kind: Kind,
  sequence: Type.Integer(),
  currency: Type.String(),
  lines: Type.Array(Line),
  total: Type.String({ description: 'Σ of the rounded lines' }),
  energy: Energy,
  savings: Type.String(),
  co2AvoidedKg: Type.String(),
  unpricedIntervals: Type.Integer(),
  quarterHours: Type.Object({ expected: Type.Integer(), withData: Type.Integer(), estimated: Type.Integer(), missing: Type.Integer(), provisional: Type.Integer() }),
  createdAt: IsoDateTime,
});
const MemberStatement = Type.Object({
  id: Uuid, settlementId: Uuid, period: Type.String(), state: State, kind: Kind, sequence: Type.Integer(),
  total: Type.String(), currency: Type.String(), createdAt: IsoDateTime,
});

export async function billingRoutes(app: Api, { db }: { db: Db }): Promise<void> {
  app.post('/api/v1/communities/:id/settlements', {
    schema: {
      tags: ['billing'],
      summary: 'Settle a month (community time zone): statements for every member; a draft is replaced (managers)',
      params: IdParams,
      body: Type.Object({ period: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'month, e.g. 2026-10' }) }, { additionalProperties: false }),
      response: { 201: Settlement, ...errors(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => reply.status(201).send(await settlements.runSettlement(db, request.principal, request.params.id, request.body.period)));

  app.get('/api/v1/communities/:id/settlements', {
    schema: { tags: ['billing'], summary: 'Settlements, newest month first (managers)', params: IdParams, response: { 200: Type.Array(Settlement), ...errors(401, 403, 404) } },
  }, async (request) => settlements.listSettlements(db, request.principal, request.params.id));

  app.get('/api/v1/settlements/:id', {
    schema: { tags: ['billing'], summary: 'One settlement with its statements and corrections (managers)', params: IdParams, response: { 200: Settlement, ...errors(401, 403, 404) } },
  }, async (request) => settlements.getSettlement(db, request.principal, request.params.id));

  app.post('/api/v1/settlements/:id/close', {
    schema: { tags: ['billing'], summary: 'Close a month that has ended: its statements become immutable (managers)', params: IdParams, response: { 200: Settlement, ...errors(401, 403, 404, 409) } },
  }, async (request) => settlements.closeSettlement(db, request.principal, request.params.id));

  app.post('/api/v1/settlements/:id/recompute', {
    schema: {
      tags: ['billing'],
      summary: 'Draft: run again. Closed: issue correction statements for members whose figures changed, never changing the closed ones (managers)',
      params: IdParams, response: { 200: Settlement, ...errors(401, 403, 404, 409) },
    },
  }, async (request) => settlements.recomputeSettlement(db, request.principal, request.params.id));

  app.get('/api/v1/members/:id/statements', {
    schema: { tags: ['billing'], summary: 'A member\'s statements and corrections, newest month first', params: IdParams, response: { 200: Type.Array(MemberStatement), ...errors(401, 404) } },
  }, async (request) => settlements.listMemberStatements(db, request.principal, request.params.id));

  app.get('/api/v1/statements/:id', {
    schema: { tags: ['billing'], summary: 'One statement: lines, energy by source, savings, CO2 avoided, total', params: IdParams, response: { 200: Statement, ...errors(401, 404) } },
  }, async (request) => {
    const statement = await settlements.getStatement(db, request.principal, request.params.id);
    return { ...statement, lines: [...statement.lines] };
  });

  const fileName = (s: StatementView, ext: string) => `statement-${s.period}-${s.kind === 'correction' ? `correction-${s.sequence}-` : ''}${s.id.slice(0, 8)}.${ext}`;

  app.get('/api/v1/statements/:id/statement.csv', {
    schema: { tags: ['billing'], summary: 'One statement as CSV', params: IdParams, produces: ['text/csv'], response: errors(401, 404) },
  }, async (request, reply) => {
    const statement = await settlements.getStatement(db, request.principal, request.params.id);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${fileName(statement, 'csv')}"`)
      .send(statementCsv(statement));
  });

  app.get('/api/v1/statements/:id/statement.pdf', {
    schema: { tags: ['billing'], summary: 'One statement as PDF', params: IdParams, produces: ['application/pdf'], response: errors(401, 404) },
  }, async (request, reply) => {
    const statement = await settlements.getStatement(db, request.principal, request.params.id);
    const community = await loadCommunity(db, statement.communityId);
    return reply
      .header('content-type', 'application/pdf')
      .header('content-disposition', `attachment; filename="${fileName(statement, 'pdf')}"`)
      .send(await statementPdf(statement, community?.locale ?? 'en'));
  });
}
