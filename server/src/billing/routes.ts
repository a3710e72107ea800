import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import type { EventPublisher } from '../platform/events/index.js';
import { loadCommunity, loadTariffs } from '../registry/index.js';
import { getUser } from '../accounts/index.js';
import { BANK_STATEMENT_MAX_BYTES, billingRoutes as contract } from '@gridshare/contract/billing';
import { XML_CONTENT_TYPES } from '@gridshare/contract/operator';
import { BadRequestError, UnsupportedMediaTypeError } from '../kernel/errors.js';
import * as settlements from './settlements.js';
import * as invoices from './invoices.js';
import * as payments from './payment-status.js';
import { statementCsv, statementPdf } from './domain/documents.js';
import { invoicePdf } from './domain/invoice-pdf.js';
import type { StatementView } from './domain/statement.js';
import type { ResolvedPrincipal } from '../kernel/principal.js';

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

  /** The locale a document is written in: asked for, else the reader's own choice, else their browser's, else the community's. */
  const readerLocale = async (
    request: { query: { locale?: string | undefined }; headers: { 'accept-language'?: string | undefined }; principal: ResolvedPrincipal }, communityLocale: string | undefined,
  ) => request.query.locale
    ?? (request.principal.kind === 'user' ? (await getUser(db, request.principal.userId)).locale : null)
    ?? browserLocale(request.headers['accept-language']) ?? communityLocale ?? 'en';

  const fileName = (s: StatementView, ext: string) => `statement-${s.period}-${s.kind === 'correction' ? `correction-${s.sequence}-` : ''}${s.id.slice(0, 8)}.${ext}`;

  /** A statement with what its documents need: the reader's locale (readerLocale) and the tariff names. */
  const statementDocument = async (request: { params: { id: string }; query: { locale?: string | undefined }; headers: { 'accept-language'?: string | undefined }; principal: ResolvedPrincipal }) => {
    const statement = await settlements.getStatement(db, request.principal, request.params.id);
    const community = await loadCommunity(db, statement.communityId);
    const tariffNames = Object.fromEntries((await loadTariffs(db, statement.communityId)).map((t) => [t.id, t.name]));
    const locale = await readerLocale(request, community?.locale);
    return { statement, context: { locale, tariffNames } };
  };

  app.get(contract.statementCsv.path, { schema: contract.statementCsv.schema }, async (request, reply) => {
    const { statement, context } = await statementDocument(request);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${fileName(statement, 'csv')}"`)
      .send(statementCsv(statement, context));
  });

  app.get(contract.statementPdf.path, { schema: contract.statementPdf.schema }, async (request, reply) => {
    const { statement, context } = await statementDocument(request);
    return reply
      .header('content-type', 'application/pdf')
      .header('content-disposition', `attachment; filename="${fileName(statement, 'pdf')}"`)
      // The reader's locale, as for invoices: an English reader in a German-speaking community reads English.
      .send(await statementPdf(statement, context));
  });

  app.get(contract.getBillingProfile.path, { schema: contract.getBillingProfile.schema }, async (request) => invoices.getBillingProfile(db, request.principal, request.params.id));

  app.put(contract.setBillingProfile.path, { schema: contract.setBillingProfile.schema }, async (request) => invoices.setBillingProfile(db, request.principal, request.params.id, request.body, events));

  app.get(contract.getBillingDetails.path, { schema: contract.getBillingDetails.schema }, async (request) => invoices.getBillingDetails(db, request.principal, request.params.id));

  app.get(contract.communityBillingDetails.path, { schema: contract.communityBillingDetails.schema }, async (request) => invoices.communityBillingDetails(db, request.principal, request.params.id));

  app.put(contract.setBillingDetails.path, { schema: contract.setBillingDetails.schema }, async (request) => invoices.setBillingDetails(db, request.principal, request.params.id, request.body, events));

  app.put(contract.setSepaMandate.path, { schema: contract.setSepaMandate.schema }, async (request) => invoices.setMandate(db, request.principal, request.params.id, request.body, events));

  app.delete(contract.revokeSepaMandate.path, { schema: contract.revokeSepaMandate.schema }, async (request, reply) => {
    await invoices.revokeMandate(db, request.principal, request.params.id, events);
    return reply.status(204).send(null);
  });

  app.get(contract.settlementInvoices.path, { schema: contract.settlementInvoices.schema }, async (request) => invoices.listSettlementInvoices(db, request.principal, request.params.id));

  app.get(contract.memberInvoices.path, { schema: contract.memberInvoices.schema }, async (request) => invoices.listMemberInvoices(db, request.principal, request.params.id));

  app.get(contract.getInvoice.path, { schema: contract.getInvoice.schema }, async (request) => {
    const { communityLocale: _locale, ...invoice } = await invoices.getInvoice(db, request.principal, request.params.id);
    return invoice;
  });

  app.get(contract.invoicePdf.path, { schema: contract.invoicePdf.schema }, async (request, reply) => {
    const invoice = await invoices.getInvoice(db, request.principal, request.params.id);
    const locale = await readerLocale(request, invoice.communityLocale);
    return reply
      .header('content-type', 'application/pdf')
      .header('content-disposition', `attachment; filename="invoice-${invoice.number}.pdf"`)
      .send(await invoicePdf(invoice.document, locale));
  });

  app.get(contract.directDebitFile.path, { schema: contract.directDebitFile.schema }, async (request, reply) => {
    const file = await payments.sepaFile(db, request.principal, request.params.id, 'direct-debits', request.query.version ?? 'pain.008.001.08');
    return reply.header('content-type', 'application/xml; charset=utf-8').header('content-disposition', `attachment; filename="${file.fileName}"`).send(file.xml);
  });

  app.get(contract.creditTransferFile.path, { schema: contract.creditTransferFile.schema }, async (request, reply) => {
    const file = await payments.sepaFile(db, request.principal, request.params.id, 'credit-transfers', request.query.version ?? 'pain.001.001.09');
    return reply.header('content-type', 'application/xml; charset=utf-8').header('content-disposition', `attachment; filename="${file.fileName}"`).send(file.xml);
  });

  app.get(contract.settlementPayments.path, { schema: contract.settlementPayments.schema }, async (request) => payments.settlementPayments(db, request.principal, request.params.id));

  app.put(contract.setPaymentStatus.path, { schema: contract.setPaymentStatus.schema }, async (request) => payments.setPaymentStatus(db, request.principal, request.params.id, request.body, events));

  // A bank statement is taken raw and read by the camt.053 reader, which checks markup and limits.
  for (const type of XML_CONTENT_TYPES) {
    if (!app.hasContentTypeParser(type)) app.addContentTypeParser(type, { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  }
  app.post(contract.importBankStatement.path, { schema: contract.importBankStatement.schema, bodyLimit: BANK_STATEMENT_MAX_BYTES }, async (request) => {
    const body = request.body;
    if (!Buffer.isBuffer(body)) {
      const type = String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (XML_CONTENT_TYPES.includes(type)) throw new BadRequestError('the body is empty: send one camt.053 bank statement');
      throw new UnsupportedMediaTypeError(`send the bank statement as ${XML_CONTENT_TYPES.join(' or ')}`);
    }
    return payments.importBankStatement(db, request.principal, request.params.id, body.toString('utf8'), request.query.apply ?? false, events);
  });
}

/** The first language the browser asks for, when it is one the catalogs could name ("de-AT", "en"). */
function browserLocale(header: string | undefined): string | undefined {
  const first = header?.split(',')[0]?.split(';')[0]?.trim();
  return first && /^[a-z]{2}(-[A-Z]{2})?$/.test(first) ? first : undefined;
}
