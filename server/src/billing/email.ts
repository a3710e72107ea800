import type { Queryable } from '../platform/store/db.js';
import { loadTariffs } from '../registry/index.js';
import { statementPdf } from './domain/documents.js';
import { invoicePdf } from './domain/invoice-pdf.js';
import { findSettlement, findStatement, settlementInvoices, settlementStatements } from './store.js';

/**
 * What notifications needs to email an issued statement (issue 21, "statement ready" and the bulk
 * send): its period, number, total and due date — the invoice's where the community invoices, else
 * the statement's own (its short id, due on the day it was issued) — and its PDF in `locale`.
 */
export interface StatementEmail {
  communityId: string;
  memberId: string;
  period: string;
  invoiceNumber: string;
  total: string;
  currency: string;
  dueDate: string;
  pdf?: { filename: string; content: Uint8Array };
}

export async function statementEmail(db: Queryable, statementId: string, options: { pdf: boolean; locale: string }): Promise<StatementEmail | undefined> {
  const statement = await findStatement(db, statementId);
  if (!statement || statement.state !== 'closed') return undefined;
  const invoice = (await settlementInvoices(db, statement.settlementId)).find((i) => i.statementId === statementId);
  const period = statement.document.period;
  const base = { communityId: statement.communityId, memberId: statement.memberId, period, currency: statement.currency };
  if (invoice) {
    const pdf = options.pdf ? { filename: `invoice-${invoice.number.replace(/[^\w.-]/g, '-')}.pdf`, content: await invoicePdf(invoice.document, options.locale) } : undefined;
    return { ...base, invoiceNumber: invoice.number, total: invoice.gross, dueDate: invoice.document.dueDate, ...(pdf ? { pdf } : {}) };
  }
  const tariffNames = options.pdf ? Object.fromEntries((await loadTariffs(db, statement.communityId)).map((t) => [t.id, t.name])) : {};
  const pdf = options.pdf
    ? {
      filename: `statement-${period}-${statement.id.slice(0, 8)}.pdf`,
      content: await statementPdf({ ...statement.document, id: statement.id, settlementId: statement.settlementId, communityId: statement.communityId,
        state: statement.state, kind: statement.kind, sequence: statement.sequence, createdAt: statement.createdAt }, { locale: options.locale, tariffNames }),
    }
    : undefined;
  return { ...base, invoiceNumber: statement.id.slice(0, 8), total: statement.total, dueDate: statement.createdAt.slice(0, 10), ...(pdf ? { pdf } : {}) };
}

/** A settlement's community and, once it is closed, its statements (the latest of each member: a correction replaces its statement). */
export async function settlementStatementIds(db: Queryable, settlementId: string): Promise<{ communityId: string; closed: boolean; statements: { statementId: string; memberId: string }[] } | undefined> {
  const settlement = await findSettlement(db, settlementId);
  if (!settlement) return undefined;
  if (settlement.state !== 'closed') return { communityId: settlement.communityId, closed: false, statements: [] };
  const latest = new Map<string, { statementId: string; memberId: string; sequence: number }>();
  for (const s of await settlementStatements(db, settlementId)) {
    const seen = latest.get(s.memberId);
    if (!seen || s.sequence > seen.sequence) latest.set(s.memberId, { statementId: s.id, memberId: s.memberId, sequence: s.sequence });
  }
  return { communityId: settlement.communityId, closed: true, statements: [...latest.values()].map(({ statementId, memberId }) => ({ statementId, memberId })) };
}
