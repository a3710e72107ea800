import PDFDocument from 'pdfkit';
import { escapeField } from '../../kernel/csv.js';
import { formatFixed } from '../../kernel/decimal.js';
import { billingFormat, billingText, type BillingMessageKey } from './catalog.js';
import { printable } from './invoice-pdf.js';
import { marketLineText, tariffLineKey, type StatementLine, type StatementView } from './statement.js';

/** What a statement's documents need besides the statement: the reader's locale and the community's tariff names. */
export interface StatementDocumentContext {
  readonly locale: string;
  /** Tariff id → name, for the tariff lines' texts; a line whose tariff is gone keeps its stored text. */
  readonly tariffNames?: Readonly<Record<string, string>>;
}

const ENERGY_KEY: Record<keyof StatementView['energy'], BillingMessageKey> = {
  consumptionWh: 'statement.energy.consumptionWh',
  selfConsumedWh: 'statement.energy.selfConsumedWh',
  fromCommunityWh: 'statement.energy.fromCommunityWh',
  fromGridWh: 'statement.energy.fromGridWh',
  productionWh: 'statement.energy.productionWh',
  toCommunityWh: 'statement.energy.toCommunityWh',
  toGridWh: 'statement.energy.toGridWh',
};

const CSV_HEADER: readonly BillingMessageKey[] = [
  'statement.csv.period', 'statement.csv.member', 'statement.csv.kind', 'statement.csv.code', 'statement.csv.description',
  'statement.csv.energyWh', 'statement.csv.unitPrice', 'statement.csv.amount', 'statement.csv.exactAmount', 'statement.csv.currency',
];

/** A line's text in the reader's locale: tariff lines by their code and tariff, rewards with their order's Period, market lines by kind. */
function lineText(line: StatementLine, { locale, tariffNames }: StatementDocumentContext): string {
  if (line.code === 'flex-reward') return billingText(locale, 'statement.line.flex-reward', { orderReference: line.orderReference, period: line.orderPeriod });
  const tariff = tariffNames?.[line.tariffId];
  return tariff === undefined ? line.description : billingText(locale, tariffLineKey(line.code), { tariff });
}

/**
 * A statement as CSV (one row per line, then total, savings and CO2, and the energy by source):
 * headers and descriptions in the reader's language, the figures as data (exactly as stored,
 * dot decimals) in every locale, so a spreadsheet or script reads the same numbers.
 */
export function statementCsv(s: StatementView, context: StatementDocumentContext): string {
  const t = (key: BillingMessageKey) => billingText(context.locale, key);
  const rows: string[][] = [CSV_HEADER.map(t)];
  const row = (code: string, description: string, energyWh: string, unitPrice: string, amount: string, exact: string) =>
    rows.push([s.period, s.displayName, s.kind, code, description, energyWh, unitPrice, amount, exact, s.currency]);
  for (const line of s.lines) row(line.code, lineText(line, context), String(line.energyWh), line.code === 'flex-reward' ? '' : line.unitPrice, line.amount, line.exactAmount);
  row('total', t('statement.totalLine'), '', '', s.total, '');
  for (const line of s.market?.lines ?? []) row(`market:${line.kind}${line.correction ? ':correction' : ''}`, marketLineText(context.locale, line), String(line.energyWh), '', line.amount, line.exactAmount);
  if (s.market) row('market-total', t('statement.market.totalLine'), '', '', s.market.total, '');
  row('savings', t('statement.savings'), '', '', s.savings, '');
  row('co2-avoided-kg', t('statement.co2Avoided'), '', '', s.co2AvoidedKg, '');
  for (const [key, wh] of energyEntries(s)) row(`energy:${key}`, t(ENERGY_KEY[key]), String(wh), '', '', '');
  return `${rows.map((r) => r.map(escapeField).join(',')).join('\r\n')}\r\n`;
}

const energyEntries = (s: StatementView) => Object.entries(s.energy) as [keyof StatementView['energy'], number][];

/**
 * The statement PDF in the reader's locale: every word from the catalogs, dates, amounts and
 * quantities by the locale's formatter (`billingFormat`, exact). It uses the standard Helvetica
 * font (WinAnsi encoding: Latin letters with accents and the € sign); characters outside it in
 * names are replaced by "?", never dropped silently.
 */
export function statementPdf(s: StatementView, context: StatementDocumentContext): Promise<Buffer> {
  const { locale } = context;
  const format = billingFormat(locale);
  const t = (key: BillingMessageKey, values: Record<string, string | number> = {}) => printable(billingText(locale, key, values));
  const title = t(s.kind === 'correction' ? 'statement.correctionTitle' : 'statement.title', { period: s.period });
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `${title} – ${printable(s.displayName)}`, Author: 'Gridshare' } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const money = (amount: string) => printable(format.money(amount, s.currency));
  const kwh = (wh: number) => `${format.decimal(formatFixed(BigInt(wh), 3))} kWh`;
  const localDay = (iso: string) => new Intl.DateTimeFormat(locale, { timeZone: s.timeZone, dateStyle: 'medium' }).format(new Date(iso));
  const lastDay = new Date(Date.parse(s.periodEnd) - 1).toISOString();

  doc.font('Helvetica-Bold').fontSize(18).text(title);
  doc.moveDown(0.5).font('Helvetica').fontSize(11);
  doc.text(printable(s.communityName));
  doc.text(t('statement.member', { name: s.displayName }));
  doc.text(t('statement.period', { firstDay: localDay(s.periodStart), lastDay: localDay(lastDay), timeZone: s.timeZone }));
  doc.text(t('statement.state', { state: s.state }));
  doc.moveDown();

  const columns = [50, 290, 370, 440];
  const header = (y: number) => {
    doc.font('Helvetica-Bold').fontSize(10);
    (['statement.column.line', 'statement.column.energy', 'statement.column.unitPrice', 'statement.column.amount'] as const)
      .forEach((h, i) => doc.text(t(h), columns[i]!, y, { width: i === 0 ? 230 : 100 }));
    doc.font('Helvetica');
  };
  header(doc.y);
  doc.moveDown(0.3);
  for (const line of s.lines) {
    const y = doc.y;
    doc.text(printable(lineText(line, context)), columns[0]!, y, { width: 230 });
    const next = doc.y;
    doc.text(kwh(line.energyWh), columns[1]!, y, { width: 80 });
    if (line.code !== 'flex-reward') doc.text(money(line.unitPrice), columns[2]!, y, { width: 70 });
    doc.text(money(line.amount), columns[3]!, y, { width: 100 });
    doc.y = Math.max(next, doc.y);
  }
  if (s.lines.length === 0) doc.text(t('statement.noLines'), columns[0]!, doc.y);
  doc.moveDown(0.5).font('Helvetica-Bold').text(t('statement.total', { amount: money(s.total) }), columns[0]!, doc.y);
  doc.font('Helvetica').fontSize(9).text(t('statement.rounding'));
  if (s.market) {
    doc.moveDown().fontSize(11).font('Helvetica-Bold').text(t('statement.market.title'), columns[0]!, doc.y);
    doc.font('Helvetica');
    for (const line of s.market.lines) {
      const y = doc.y;
      doc.text(printable(marketLineText(locale, line)), columns[0]!, y, { width: 230 });
      const next = doc.y;
      doc.text(kwh(line.energyWh), columns[1]!, y, { width: 80 });
      doc.text(money(line.amount), columns[3]!, y, { width: 100 });
      doc.y = Math.max(next, doc.y);
    }
    doc.moveDown(0.5).font('Helvetica-Bold').text(t('statement.market.total', { amount: money(s.market.total) }), columns[0]!, doc.y);
    doc.font('Helvetica').fontSize(9).text(t('statement.market.note', { quarterHours: s.market.quarterHours }));
  }
  doc.moveDown().fontSize(11);
  doc.font('Helvetica-Bold').text(t('statement.energy.title'));
  doc.font('Helvetica');
  for (const [key, wh] of energyEntries(s)) doc.text(`${t(ENERGY_KEY[key])}: ${kwh(wh)}`);
  doc.moveDown();
  doc.text(`${t('statement.savings')}: ${money(s.savings)}`);
  doc.text(`${t('statement.co2Avoided')}: ${format.decimal(s.co2AvoidedKg)}`);
  const q = s.quarterHours;
  doc.moveDown().fontSize(9).text(t('statement.data', { withData: q.withData, expected: q.expected, estimated: q.estimated, missing: q.missing, provisional: q.provisional }));
  doc.end();
  return done;
}
