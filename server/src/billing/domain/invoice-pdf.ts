import PDFDocument from 'pdfkit';
import { billingFormat, billingText, type BillingMessageKey } from './catalog.js';
import type { Invoice, InvoiceRow, PostalAddress } from './invoice.js';

/**
 * An issued invoice as PDF, in the reader's locale: every text from the catalogs, every figure
 * exactly as the document holds it (formatted, never recomputed). Quantities keep their unit in
 * a column of its own; money appears only in the price and net columns of charge rows, whose
 * headers name the currency, and in the totals.
 *
 * The standard Helvetica font writes WinAnsi (Latin letters with accents, €): a subscript two is
 * written as a plain 2 (CO2) and any other character outside it as "?", never dropped silently.
 */

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const PAGE_BOTTOM = 780;
const COLUMNS = { position: 50, description: 78, quantity: 268, unit: 328, unitPrice: 368, vat: 438, net: 488 } as const;
const WIDTHS = { position: 26, description: 186, quantity: 56, unit: 38, unitPrice: 66, vat: 48, net: 57 } as const;

/** Text the standard fonts can write: CO₂ as CO2, a narrow no-break space (French amounts) as a no-break space, anything else outside WinAnsi as "?". */
export const printable = (value: string) => value.replace(/₂/g, '2').replace(/\u202f/g, '\u00a0').replace(/[^\u0020-\u007e\u00a0-\u00ff€–—‘’“”•…]/g, '?');

export function invoicePdf(invoice: Invoice, locale: string): Promise<Buffer> {
  const format = billingFormat(locale);
  const t = (key: string, values: Readonly<Record<string, string>> = {}) => printable(billingText(locale, key as BillingMessageKey,
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, ISO_DATE.test(value) ? format.date(value) : value]))));
  const title = t(invoice.kind === 'correction' ? 'invoice.correctionTitle' : 'invoice.title', { number: invoice.number });
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: title, Author: printable(invoice.seller.legalName) } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const { currency } = invoice;
  const address = (a: PostalAddress) => [a.street, `${a.postalCode} ${a.city}`, a.country].map(printable);

  // Seller, then buyer, then the invoice's own facts.
  doc.font('Helvetica-Bold').fontSize(11).text(printable(invoice.seller.legalName));
  doc.font('Helvetica').fontSize(9);
  for (const line of address(invoice.seller.address)) doc.text(line);
  if (invoice.seller.registrationNumber) doc.text(`${t('invoice.registrationNumber')}: ${printable(invoice.seller.registrationNumber)}`);
  if (invoice.seller.vat.vatId) doc.text(`${t('invoice.vatId')}: ${printable(invoice.seller.vat.vatId)}`);
  doc.moveDown();
  doc.font('Helvetica-Bold').text(t('invoice.billedTo'));
  doc.font('Helvetica').fontSize(10).text(printable(invoice.buyer.name));
  for (const line of address(invoice.buyer.billingAddress)) doc.text(line);
  if (invoice.buyer.vat.vatId) doc.text(`${t('invoice.vatId')}: ${printable(invoice.buyer.vat.vatId)}`);
  doc.moveDown();
  doc.font('Helvetica-Bold').fontSize(16).text(title);
  doc.font('Helvetica').fontSize(10);
  doc.text(`${t('invoice.issueDate')}: ${format.date(invoice.issueDate)}`);
  doc.text(`${t('invoice.dueDate')}: ${format.date(invoice.dueDate)}`);
  doc.text(t('invoice.period', { firstDay: invoice.period.firstDay, lastDay: invoice.period.lastDay }));
  doc.moveDown();

  const cell = (text: string, column: keyof typeof COLUMNS, y: number, align: 'left' | 'right' = 'left') =>
    doc.text(text, COLUMNS[column], y, { width: WIDTHS[column], align });
  const header = () => {
    const y = doc.y;
    doc.font('Helvetica-Bold').fontSize(8);
    cell(t('invoice.column.position'), 'position', y);
    cell(t('invoice.column.description'), 'description', y);
    cell(t('invoice.column.quantity'), 'quantity', y, 'right');
    cell(t('invoice.column.unit'), 'unit', y);
    cell(t('invoice.column.unitPrice', { currency }), 'unitPrice', y, 'right');
    cell(t('invoice.column.vatRate'), 'vat', y, 'right');
    cell(t('invoice.column.net', { currency }), 'net', y, 'right');
    doc.font('Helvetica').fontSize(9);
    doc.y = Math.max(doc.y, y + 20);
  };
  const newPageIfNeeded = (height: number) => {
    if (doc.y + height <= PAGE_BOTTOM) return;
    doc.addPage();
    header();
  };
  const row = (r: InvoiceRow) => {
    newPageIfNeeded(24);
    const y = doc.y;
    cell(r.kind === 'charge' ? String(r.position) : '', 'position', y);
    cell(r.kind === 'charge' ? t(r.label, r.labelValues) : t(r.label), 'description', y);
    const below = doc.y;
    cell(format.decimal(r.quantity), 'quantity', y, 'right');
    cell(printable(r.unit), 'unit', y);
    if (r.kind === 'charge') {
      cell(r.unitPrice === null ? '' : format.decimal(r.unitPrice), 'unitPrice', y, 'right');
      cell(r.vat.category === 'S' ? format.decimal(r.vat.rate) : r.vat.category, 'vat', y, 'right');
      cell(format.decimal(r.net), 'net', y, 'right');
    }
    doc.y = Math.max(below, y + 12);
  };

  header();
  let section: InvoiceRow['section'] | undefined;
  for (const r of invoice.rows) {
    if (r.section !== section) {
      section = r.section;
      newPageIfNeeded(40);
      doc.moveDown(0.4).font('Helvetica-Bold').text(t(`invoice.section.${section}`), COLUMNS.description, doc.y);
      doc.font('Helvetica');
    }
    row(r);
  }

  newPageIfNeeded(120);
  doc.moveDown().font('Helvetica-Bold').fontSize(9).text(t('invoice.vatBreakdown'), COLUMNS.position, doc.y);
  doc.font('Helvetica');
  for (const group of invoice.vatBreakdown) {
    const y = doc.y;
    doc.text(t(`invoice.vatCategory.${group.category}`, { rate: format.decimal(group.rate) }), COLUMNS.position, y, { width: 250 });
    const below = doc.y;
    doc.text(`${t('invoice.column.taxable', { currency })}: ${format.decimal(group.taxable)}`, 300, y, { width: 130 });
    doc.text(`${t('invoice.column.vat', { currency })}: ${format.decimal(group.vat)}`, 430, y, { width: 115, align: 'right' });
    doc.y = Math.max(below, doc.y);
  }
  doc.moveDown(0.5).fontSize(10);
  for (const [key, amount] of [['invoice.total.net', invoice.totals.net], ['invoice.total.vat', invoice.totals.vat], ['invoice.total.gross', invoice.totals.gross]] as const) {
    const y = doc.y;
    if (key === 'invoice.total.gross') doc.font('Helvetica-Bold');
    doc.text(t(key), 300, y, { width: 130 });
    doc.text(printable(format.money(amount, currency)), 430, y, { width: 115, align: 'right' });
  }
  doc.font('Helvetica').fontSize(9).moveDown();
  for (const note of invoice.notes) doc.text(t(note.key, note.values), COLUMNS.position, doc.y, { width: 495 });
  doc.moveDown(0.5).text(t('invoice.savings', { amount: printable(format.money(invoice.savings, currency)) }));
  const bank = invoice.seller.bank;
  doc.moveDown(0.5).text(`${t('invoice.bank')}: IBAN ${bank.iban}${bank.bic ? `, BIC ${bank.bic}` : ''}`);
  doc.end();
  return done;
}
