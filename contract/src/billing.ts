/** Settlements of a month, statements and corrections (server/src/billing). */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime, Uuid } from './common.js';
import { route } from './route.js';

const Kind = Type.Enum(['statement', 'correction']);
const State = Type.Enum(['draft', 'closed']);
export const StatementSummary = Type.Object({
  id: Uuid, memberId: Uuid, displayName: Type.String(), kind: Kind, sequence: Type.Integer(),
  total: Type.String(), currency: Type.String(), createdAt: IsoDateTime,
});
export const Settlement = Type.Object({
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
const TariffLine = Type.Object({
  code: Type.Enum(['community-energy', 'community-sales', 'grid-fee-reduction']),
  description: Type.String(), tariffId: Type.String(), energyWh: Type.Integer(), unitPrice: Type.String(),
  amount: Type.String({ description: 'rounded once, half away from zero; positive is owed by the member' }),
  exactAmount: Type.String({ description: 'the exact amount before rounding' }),
});
const FlexRewardLine = Type.Object({
  code: Type.Literal('flex-reward'),
  description: Type.String({ description: 'in the community\'s language' }),
  orderReference: Type.String({ description: 'the grid operator\'s FlexOrder the reward is a share of' }),
  orderPeriod: Type.String({ description: 'the order\'s Period, a local date' }),
  energyWh: Type.Integer({ description: 'the member\'s measured contribution in the ordered direction' }),
  amount: Type.String({ description: 'the member\'s share, a credit (negative: owed to the member)' }),
  exactAmount: Type.String({ description: 'equal to the amount: rewards are shared in whole minor units' }),
});
const Line = Type.Union([TariffLine, FlexRewardLine]);
const Energy = Type.Object({
  consumptionWh: Type.Integer(), selfConsumedWh: Type.Integer(), fromCommunityWh: Type.Integer(), fromGridWh: Type.Integer(),
  productionWh: Type.Integer(), toCommunityWh: Type.Integer(), toGridWh: Type.Integer(),
});
export const Statement = Type.Object({
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
export const MemberStatement = Type.Object({
  id: Uuid, settlementId: Uuid, period: Type.String(), state: State, kind: Kind, sequence: Type.Integer(),
  total: Type.String(), currency: Type.String(), createdAt: IsoDateTime,
});

const QuarterHours = Type.Integer({ minimum: 0 });
export const SettlementGaps = Type.Object({
  /** Quarter hours are counted up to here: the period's end, or for a running month the last that has passed. */
  countedUntil: IsoDateTime,
  withDataQuarterHours: QuarterHours,
  missingQuarterHours: QuarterHours,
  noData: Type.Boolean({ description: 'no metering point has energy for a single quarter hour of the period' }),
  points: Type.Array(Type.Object({
    meteringPointId: Uuid, meteringPointName: Type.String(), memberId: Uuid, memberName: Type.String(),
    expectedQuarterHours: QuarterHours, missingQuarterHours: QuarterHours,
  }), { description: 'the metering points that miss quarter hours' }),
});

export type StatementSummary = Static<typeof StatementSummary>;
export type SettlementGaps = Static<typeof SettlementGaps>;
export type Settlement = Static<typeof Settlement>;
export type Statement = Static<typeof Statement>;
export type MemberStatement = Static<typeof MemberStatement>;

/** A statement as a file to download. */
const statementFile = <const F extends 'csv' | 'pdf'>(format: F, type: string) => route('GET', `/api/v1/statements/:id/statement.${format}`, {
  tags: ['billing'], summary: `One statement as ${format.toUpperCase()}`, params: IdParams, produces: [type], response: errors(401, 404),
});

export const billingRoutes = {
  runSettlement: route('POST', '/api/v1/communities/:id/settlements', {
    tags: ['billing'],
    summary: 'Settle a month (community time zone): statements for every member; a draft is replaced (managers)',
    params: IdParams,
    body: Type.Object({ period: Type.String({ pattern: '^\\d{4}-(0[1-9]|1[0-2])$', description: 'month, e.g. 2026-10' }) }, { additionalProperties: false }),
    response: { 201: Settlement, ...errors(400, 401, 403, 404, 409) },
  }),
  listSettlements: route('GET', '/api/v1/communities/:id/settlements', {
    tags: ['billing'], summary: 'Settlements, newest month first (managers)', params: IdParams, response: { 200: Type.Array(Settlement), ...errors(401, 403, 404) },
  }),
  getSettlement: route('GET', '/api/v1/settlements/:id', {
    tags: ['billing'], summary: 'One settlement with its statements and corrections (managers)', params: IdParams, response: { 200: Settlement, ...errors(401, 403, 404) },
  }),
  settlementGaps: route('GET', '/api/v1/settlements/:id/gaps', {
    tags: ['billing'], summary: 'The quarter hours the month lacks, per metering point (managers): what closing it would accept as missing',
    params: IdParams, response: { 200: SettlementGaps, ...errors(401, 403, 404) },
  }),
  closeSettlement: route('POST', '/api/v1/settlements/:id/close', {
    tags: ['billing'],
    summary: 'Close a month that has ended: its statements become immutable (managers)',
    description: 'A month with no data or missing quarter hours (see …/gaps) is refused (409) unless confirmMissing names its count of missing quarter hours.',
    params: IdParams,
    querystring: Type.Object({ confirmMissing: Type.Optional(Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'the missing quarter hours the manager accepts, as …/gaps reported them' })) }, { additionalProperties: false }),
    response: { 200: Settlement, ...errors(400, 401, 403, 404, 409) },
  }),
  recomputeSettlement: route('POST', '/api/v1/settlements/:id/recompute', {
    tags: ['billing'],
    summary: 'Draft: run again. Closed: issue correction statements for members whose figures changed, never changing the closed ones (managers)',
    params: IdParams, response: { 200: Settlement, ...errors(401, 403, 404, 409) },
  }),
  memberStatements: route('GET', '/api/v1/members/:id/statements', {
    tags: ['billing'], summary: 'A member\'s statements and corrections, newest month first', params: IdParams, response: { 200: Type.Array(MemberStatement), ...errors(401, 404) },
  }),
  getStatement: route('GET', '/api/v1/statements/:id', {
    tags: ['billing'], summary: 'One statement: lines, energy by source, savings, CO2 avoided, total', params: IdParams, response: { 200: Statement, ...errors(401, 404) },
  }),
  statementCsv: statementFile('csv', 'text/csv'),
  statementPdf: statementFile('pdf', 'application/pdf'),
};
