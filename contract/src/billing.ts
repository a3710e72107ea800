/** Settlements of a month, statements and corrections (server/src/billing). */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime, NoContent, nullable, Uuid } from './common.js';
import { route } from './route.js';
import { XML_CONTENT_TYPES } from './operator.js';

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
const MarketLine = Type.Object({
  kind: Type.Enum(['sale', 'purchase', 'grid-fee', 'balancing-surplus', 'balancing-shortfall', 'dispute-correction']),
  correction: Type.Boolean({ description: 'a settlement correction after late meter data, or a dispute\'s correction' }),
  description: Type.String({ description: 'in the community\'s language' }),
  energyWh: Type.Integer(), count: Type.Integer({ description: 'slots (or disputes) the line sums' }),
  amount: Type.String({ description: 'rounded once; positive is owed by the member' }), exactAmount: Type.String(),
});
const MarketSection = Type.Object({
  quarterHours: Type.Integer({ description: 'quarter hours the market priced instead of the tariff lines' }),
  lines: Type.Array(MarketLine),
  total: Type.String({ description: 'Σ of the rounded market lines: paid through the market wallet, not part of total' }),
});
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
  market: Type.Optional(MarketSection),
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

/* Invoices (issue 21): the community as seller, members as buyers, mandates, issued invoices. */
const Text = (maxLength = 140) => Type.String({ minLength: 1, maxLength });
const OptionalText = Type.Optional(Type.String({ maxLength: 140 }));
const Country = Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166-1 alpha-2' });
const LocalDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const VatRate = Type.String({ pattern: '^\\d{1,2}(\\.\\d{1,2})?$|^100$', description: 'percent' });
export const PostalAddress = Type.Object({ street: Text(), postalCode: Text(20), city: Text(), country: Country }, { additionalProperties: false });
export const BillingProfile = Type.Object({
  legalName: Text(),
  address: PostalAddress,
  registrationNumber: OptionalText,
  vat: Type.Object({
    country: Type.Enum(['AT', 'DE', 'FR', 'ES', 'IT', 'NL', 'BE']),
    regime: Type.Enum(['registered', 'small-business', 'not-registered']),
    vatId: OptionalText,
    rates: Type.Optional(Type.Object({
      'community-energy': Type.Optional(VatRate), 'grid-fee-reduction': Type.Optional(VatRate), 'community-sales': Type.Optional(VatRate),
    }, { additionalProperties: false, description: 'percent per tariff component where it differs from the country\'s standard rate' })),
  }, { additionalProperties: false }),
  bank: Type.Object({ iban: Text(42), bic: Type.Optional(Type.String({ maxLength: 11 })), accountHolder: OptionalText }, { additionalProperties: false }),
  creditorId: Type.Optional(Type.String({ maxLength: 35, description: 'SEPA creditor identifier, needed for direct debits' })),
  invoicePrefix: Type.String({ pattern: '^[A-Z0-9]{0,10}-?$', description: 'invoice numbers read <prefix><year>-<sequence>, e.g. SUN-2026-00042' }),
  paymentTermDays: Type.Integer({ minimum: 0, maximum: 365 }),
}, { additionalProperties: false });
export const BillingDetails = Type.Object({
  fullName: Text(),
  address: PostalAddress,
  vat: Type.Object({
    regime: Type.Enum(['private', 'small-business', 'registered']), vatId: OptionalText,
    reverseCharge: Type.Optional(Type.Boolean({ description: 'the community owes the VAT on this member\'s sales (domestic reverse charge)' })),
  }, { additionalProperties: false }),
  payoutAccount: Type.Optional(Type.Object({ iban: Text(42), bic: Type.Optional(Type.String({ maxLength: 11 })) }, { additionalProperties: false })),
}, { additionalProperties: false });
export const SepaMandate = Type.Object({
  mandateId: Text(35), signedOn: LocalDate, iban: Text(42), bic: Type.Optional(Type.String({ maxLength: 11 })), accountHolder: Text(70),
}, { additionalProperties: false });
/** One member invoices are made out to, with what they are made out with. */
export const MemberBillingDetails = Type.Object({
  memberId: Uuid, displayName: Type.String(), hasLeft: Type.Boolean({ description: 'left the community; still billed for the months they took part in' }),
  details: nullable(BillingDetails), mandate: nullable(SepaMandate),
});
const PaymentStatus = Type.Enum(['open', 'paid', 'partial', 'failed']);
const PaymentEntry = Type.Object({
  status: PaymentStatus, settled: Type.String(), reason: nullable(Type.String()), source: Type.Enum(['manual', 'camt053']),
  bookingDate: nullable(LocalDate), recordedBy: nullable(Uuid), recordedAt: IsoDateTime,
});
export const InvoicePayment = Type.Object({
  invoiceId: Uuid, statementId: Uuid, memberId: Uuid, number: Type.String(), buyerName: Type.String(), gross: Type.String(), currency: Type.String(),
  status: PaymentStatus, settled: Type.String(), history: Type.Array(PaymentEntry, { description: 'every change of the status, oldest first' }),
  sepa: nullable(Type.Enum(['direct-debit', 'credit-transfer'], { description: 'in which SEPA file the invoice is now' })),
  sepaSkipped: nullable(Type.String({ description: 'why it is in no SEPA file (no mandate, no account, …)' })),
});
export const BankStatementImport = Type.Object({
  applied: Type.Boolean(),
  matches: Type.Array(Type.Object({
    invoiceId: Uuid, number: Type.String(), buyerName: Type.String(), gross: Type.String(), memberId: Uuid, before: PaymentStatus, status: PaymentStatus,
    settled: Type.String(), bookingDate: LocalDate, returnReasons: Type.Array(Type.String()), changes: Type.Boolean({ description: 'false: already recorded so' }),
  })),
  unmatched: Type.Array(Type.Object({
    bookingDate: Type.String(), direction: Type.Enum(['credit', 'debit']), amount: Type.String(), currency: Type.String(),
    endToEndId: nullable(Type.String()), remittance: Type.String(), reason: Type.String(),
  })),
});
const Totals = Type.Object({ net: Type.String(), vat: Type.String(), gross: Type.String({ description: 'positive: owed by the member; negative: owed to them' }) });
export const InvoiceSummary = Type.Object({
  id: Uuid, statementId: Uuid, settlementId: Uuid, memberId: Uuid, number: Type.String(), kind: Type.Enum(['invoice', 'correction']),
  corrects: nullable(Type.String({ description: 'the number of the invoice this one corrects' })),
  buyerName: Type.String(), issueDate: LocalDate, dueDate: LocalDate, currency: Type.String(), totals: Totals,
  payment: Type.Object({ status: PaymentStatus, settled: Type.String({ description: 'what arrived (or was paid out), positive' }) }),
});
const LineVat = Type.Object({ category: Type.Enum(['S', 'AE', 'E', 'O']), rate: Type.String() });
const InvoiceRow = Type.Union([
  Type.Object({ kind: Type.Literal('quantity'), section: Type.Enum(['consumption', 'production', 'environment']), key: Type.String(), label: Type.String(), quantity: Type.String(), unit: Type.String() }),
  Type.Object({
    kind: Type.Literal('charge'), section: Type.Enum(['consumption', 'production', 'flexibility']), position: Type.Integer(), key: Type.String(), label: Type.String(),
    labelValues: Type.Record(Type.String(), Type.String(), { description: 'values of the label: the tariff\'s name, or a reward\'s order and Period' }), quantity: Type.String(), unit: Type.String(),
    unitPrice: nullable(Type.String({ description: 'null on a flexibility reward: shared by contribution, not priced per kWh' })), net: Type.String(), vat: LineVat,
  }),
]);
const Party = Type.Object({ legalName: Type.String(), address: PostalAddress, registrationNumber: Type.Optional(Type.String()) });
export const InvoiceDocument = Type.Object({
  kind: Type.Enum(['invoice', 'correction']), number: Type.String(), issueDate: LocalDate, dueDate: LocalDate,
  period: Type.Object({ firstDay: LocalDate, lastDay: LocalDate }), currency: Type.String(),
  seller: Type.Object({ ...Party.properties, vat: Type.Object({ country: Type.String(), regime: Type.String(), vatId: Type.Optional(Type.String()) }), bank: Type.Object({ iban: Type.String(), bic: Type.Optional(Type.String()) }) }),
  buyer: Type.Object({ name: Type.String(), billingAddress: PostalAddress, vat: Type.Object({ regime: Type.String(), vatId: Type.Optional(Type.String()) }) }),
  rows: Type.Array(InvoiceRow),
  vatBreakdown: Type.Array(Type.Object({ category: Type.Enum(['S', 'AE', 'E', 'O']), rate: Type.String(), taxable: Type.String(), vat: Type.String() })),
  totals: Totals, savings: Type.String(),
  notes: Type.Array(Type.Object({ key: Type.String(), values: Type.Optional(Type.Record(Type.String(), Type.String())) })),
});
export const InvoiceView = Type.Object({ ...InvoiceSummary.properties, document: InvoiceDocument });
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
export type BillingProfile = Static<typeof BillingProfile>;
export type BillingDetails = Static<typeof BillingDetails>;
export type SepaMandate = Static<typeof SepaMandate>;
export type MemberBillingDetails = Static<typeof MemberBillingDetails>;
export type InvoiceSummary = Static<typeof InvoiceSummary>;
export type InvoiceView = Static<typeof InvoiceView>;
export type InvoicePayment = Static<typeof InvoicePayment>;
export type BankStatementImport = Static<typeof BankStatementImport>;

/** The largest camt.053 file the API takes. */
export const BANK_STATEMENT_MAX_BYTES = 16 * 1024 * 1024;

/** The locale a document is written in, where the reader asks for one (else their browser's, else the community's). */
const DocumentLocale = Type.Object({ locale: Type.Optional(Type.String({ pattern: '^[a-z]{2}(-[A-Z]{2})?$' })) }, { additionalProperties: false });

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
  statementCsv: route('GET', '/api/v1/statements/:id/statement.csv', {
    tags: ['billing'], summary: 'One statement as CSV: headers and texts in the locale asked for (else the reader\'s own, else the browser\'s, else the community\'s), figures as data',
    params: IdParams, querystring: DocumentLocale, produces: ['text/csv'], response: errors(400, 401, 404),
  }),
  statementPdf: route('GET', '/api/v1/statements/:id/statement.pdf', {
    tags: ['billing'], summary: 'One statement as PDF, its words, dates and amounts in the locale asked for (else the reader\'s own, else the browser\'s, else the community\'s)',
    params: IdParams, querystring: DocumentLocale, produces: ['application/pdf'], response: errors(400, 401, 404),
  }),
  getBillingProfile: route('GET', '/api/v1/communities/:id/billing-profile', {
    tags: ['billing'], summary: 'The community as its invoices name it: legal name, address, VAT, bank, creditor id, numbering; null: statements only (managers)',
    params: IdParams, response: { 200: nullable(BillingProfile), ...errors(401, 403, 404) },
  }),
  setBillingProfile: route('PUT', '/api/v1/communities/:id/billing-profile', {
    tags: ['billing'], summary: 'Set the billing profile; from then on closing a month issues an invoice per statement (managers)',
    params: IdParams, body: BillingProfile, response: { 200: BillingProfile, ...errors(400, 401, 403, 404) },
  }),
  getBillingDetails: route('GET', '/api/v1/members/:id/billing-details', {
    tags: ['billing'], summary: 'A member\'s billing name, address, VAT status and SEPA mandate (the member, managers)',
    params: IdParams, response: { 200: Type.Object({ details: nullable(BillingDetails), mandate: nullable(SepaMandate) }), ...errors(401, 404) },
  }),
  communityBillingDetails: route('GET', '/api/v1/communities/:id/billing-details', {
    tags: ['billing'],
    summary: 'Billing name, address, VAT status and SEPA mandate of every member invoices are made out to (members who are or were in the community; not a manager without a site), by name, in one answer (managers)',
    params: IdParams, response: { 200: Type.Array(MemberBillingDetails), ...errors(401, 403, 404) },
  }),
  setBillingDetails: route('PUT', '/api/v1/members/:id/billing-details', {
    tags: ['billing'], summary: 'Set the name and address invoices are made out to, and the VAT status (the member, managers)',
    params: IdParams, body: BillingDetails, response: { 200: BillingDetails, ...errors(400, 401, 404) },
  }),
  setSepaMandate: route('PUT', '/api/v1/members/:id/sepa-mandate', {
    tags: ['billing'], summary: 'Record the member\'s signed SEPA direct-debit mandate, replacing the one in force (managers)',
    params: IdParams, body: SepaMandate, response: { 200: SepaMandate, ...errors(400, 401, 403, 404, 409) },
  }),
  revokeSepaMandate: route('DELETE', '/api/v1/members/:id/sepa-mandate', {
    tags: ['billing'], summary: 'The mandate ends: the member pays by transfer (managers)', params: IdParams, response: { ...NoContent, ...errors(401, 403, 404) },
  }),
  settlementInvoices: route('GET', '/api/v1/settlements/:id/invoices', {
    tags: ['billing'], summary: 'The invoices issued for a month, in number order (managers)', params: IdParams, response: { 200: Type.Array(InvoiceSummary), ...errors(401, 403, 404) },
  }),
  memberInvoices: route('GET', '/api/v1/members/:id/invoices', {
    tags: ['billing'], summary: 'A member\'s invoices, newest first', params: IdParams, response: { 200: Type.Array(InvoiceSummary), ...errors(401, 404) },
  }),
  getInvoice: route('GET', '/api/v1/invoices/:id', {
    tags: ['billing'], summary: 'One invoice as issued: parties, rows in their fixed order, VAT per line and rate, totals', params: IdParams, response: { 200: InvoiceView, ...errors(401, 404) },
  }),
  invoicePdf: route('GET', '/api/v1/invoices/:id/invoice.pdf', {
    tags: ['billing'], summary: 'One invoice as PDF, in the locale asked for (else the reader\'s own, else the browser\'s, else the community\'s)', params: IdParams,
    querystring: DocumentLocale, produces: ['application/pdf'], response: errors(400, 401, 404),
  }),
  directDebitFile: route('GET', '/api/v1/settlements/:id/sepa/direct-debits.xml', {
    tags: ['billing'], summary: 'SEPA direct debits (pain.008) of a closed month\'s open and failed invoices owed by members with a mandate (managers)',
    description: 'Checked against the ISO 20022 schema before download (the ISO originals vendored with Gridshare, or $SEPA_XSD_DIR). A file that fails is Gridshare\'s fault, not the request\'s: 500 naming the violation, logged, no file. 409: nothing to collect, or no creditor id.',
    params: IdParams, querystring: Type.Object({ version: Type.Optional(Type.Enum(['pain.008.001.02', 'pain.008.001.08'])) }, { additionalProperties: false }),
    produces: ['application/xml'], response: errors(400, 401, 403, 404, 409, 500),
  }),
  creditTransferFile: route('GET', '/api/v1/settlements/:id/sepa/credit-transfers.xml', {
    tags: ['billing'], summary: 'SEPA credit transfers (pain.001) of a closed month\'s open and failed invoices owed to members (managers)',
    description: 'Checked against the ISO 20022 schema before download (the ISO originals vendored with Gridshare, or $SEPA_XSD_DIR). A file that fails is Gridshare\'s fault, not the request\'s: 500 naming the violation, logged, no file. 409: nothing to pay out.',
    params: IdParams, querystring: Type.Object({ version: Type.Optional(Type.Enum(['pain.001.001.03', 'pain.001.001.09'])) }, { additionalProperties: false }),
    produces: ['application/xml'], response: errors(400, 401, 403, 404, 409, 500),
  }),
  settlementPayments: route('GET', '/api/v1/settlements/:id/payments', {
    tags: ['billing'], summary: 'Payment status of each invoice of a closed month, with its history and its SEPA file (managers)',
    params: IdParams, response: { 200: Type.Array(InvoicePayment), ...errors(401, 403, 404, 409) },
  }),
  setPaymentStatus: route('PUT', '/api/v1/invoices/:id/payment', {
    tags: ['billing'], summary: 'Record by hand what happened to an invoice\'s payment: open, paid, partial (with the amount) or failed (with the reason) (managers)',
    params: IdParams,
    body: Type.Object({ status: PaymentStatus, settled: Type.Optional(Type.String({ maxLength: 20 })), reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
    response: { 200: Type.Object({ status: PaymentStatus, settled: Type.String(), history: Type.Array(PaymentEntry) }), ...errors(400, 401, 403, 404) },
  }),
  importBankStatement: route('POST', '/api/v1/settlements/:id/bank-statements', {
    tags: ['billing'], summary: 'Read a camt.053 bank statement against a closed month\'s invoices: a preview of the matches, or (apply=true) recorded (managers)',
    params: IdParams, consumes: XML_CONTENT_TYPES,
    querystring: Type.Object({ apply: Type.Optional(Type.Boolean({ default: false })) }, { additionalProperties: false }),
    // Documents the body only: the camt.053 reader checks the bytes.
    body: Type.Unknown({ description: 'one camt.053 (.02–.08) document, UTF-8; .02 and .08 are checked against their ISO 20022 schema (400 naming the violation)' }),
    response: { 200: BankStatementImport, ...errors(400, 401, 403, 404, 409, 413, 415) },
  }),
};
