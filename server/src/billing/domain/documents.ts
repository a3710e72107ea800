import PDFDocument from 'pdfkit';
import { escapeField } from '../../kernel/csv.js';
import { billingText } from './catalog.js';
import { marketLineText, type StatementLine, type StatementView } from './statement.js';

/**
 * A statement as CSV (one row per line, then total, savings and CO2, and the energy by source)
 * and as PDF. Amounts are written exactly as stored: no float formatting anywhere.
 */
export function statementCsv(s: StatementView): string {
  const rows: string[][] = [['period', 'member', 'kind', 'code', 'description', 'energy_wh', 'unit_price', 'amount', 'exact_amount', 'currency']];
  const row = (code: string, description: string, energyWh: string, unitPrice: string, amount: string, exact: string) =>
    rows.push([s.period, s.displayName, s.kind, code, description, energyWh, unitPrice, amount, exact, s.currency]);
  for (const line of s.lines) row(line.code, line.description, String(line.energyWh), line.code === 'flex-reward' ? '' : line.unitPrice, line.amount, line.exactAmount);
  row('total', 'Total (sum of the lines)', '', '', s.total, '');
  for (const line of s.market?.lines ?? []) row(`market:${line.kind}${line.correction ? ':correction' : ''}`, line.description, String(line.energyWh), '', line.amount, line.exactAmount);
  if (s.market) row('market-total', 'Local market, paid through the market wallet (not in the total)', '', '', s.market.total, '');
  row('savings', 'Saved against buying everything from the grid', '', '', s.savings, '');
  row('co2-avoided-kg', 'CO2 avoided (kg)', '', '', s.co2AvoidedKg, '');
  for (const [key, wh] of Object.entries(s.energy)) row(`energy:${key}`, ENERGY_TEXT[key] ?? key, String(wh), '', '', '');
  return `${rows.map((r) => r.map(escapeField).join(',')).join('\r\n')}\r\n`;
}

const ENERGY_TEXT: Record<string, string> = {
  consumptionWh: 'Consumption',
  selfConsumedWh: 'Own PV used',
  fromCommunityWh: 'From the community',
  fromGridWh: 'From the grid',
  productionWh: 'Production',
  toCommunityWh: 'To the community',
  toGridWh: 'To the grid',
};

/** "€" for EUR, "CHF" where the currency has no sign of its own. */
function currencySymbol(currency: string, locale: string): string {
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).formatToParts(0).find((p) => p.type === 'currency')?.value ?? currency;
  } catch {
    return currency;
  }
}

const kwh = (wh: number) => `${(wh / 1000).toFixed(3)} kWh`;

/** Local date of an instant in the community's zone, e.g. 31.10.2026. */
function localDay(iso: string, timeZone: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, { timeZone, dateStyle: 'medium' }).format(new Date(iso));
}

/** A reward line is written in the reader's locale (its order's Period as a local date); tariff lines as stored. */
const lineText = (line: StatementLine, locale: string) => (line.code === 'flex-reward'
  ? billingText(locale, 'statement.line.flex-reward', { orderReference: line.orderReference, period: line.orderPeriod })
  : line.description);

/**
 * The PDF uses the standard Helvetica font (WinAnsi encoding: Latin letters with accents and
 * the € sign); characters outside it in names are replaced by "?", never dropped silently.
 */
export function statementPdf(s: StatementView, locale = 'en'): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Energy statement ${s.period} – ${s.displayName}`, Author: 'Gridshare' } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const symbol = currencySymbol(s.currency, locale);
  const money = (amount: string) => `${symbol} ${amount}`;
  const text = (value: string) => value.replace(/[^\u0020-\u007e\u00a0-\u00ff€–—‘’“”•…]/g, '?');
  const lastDay = new Date(Date.parse(s.periodEnd) - 1).toISOString();

  doc.font('Helvetica-Bold').fontSize(18).text(s.kind === 'correction' ? `Correction statement ${s.period}` : `Energy statement ${s.period}`);
  doc.moveDown(0.5).font('Helvetica').fontSize(11);
  doc.text(text(s.communityName));
  doc.text(`Member: ${text(s.displayName)}`);
  doc.text(`Period: ${localDay(s.periodStart, s.timeZone, locale)} – ${localDay(lastDay, s.timeZone, locale)} (${s.timeZone})`);
  doc.text(`State: ${s.state === 'closed' ? 'closed (final)' : 'draft'}`);
  doc.moveDown();

  const columns = [50, 290, 370, 440];
  const header = (y: number) => {
    doc.font('Helvetica-Bold').fontSize(10);
    ['Line', 'Energy', 'Price/kWh', 'Amount'].forEach((h, i) => doc.text(h, columns[i]!, y, { width: i === 0 ? 230 : 100 }));
    doc.font('Helvetica');
  };
  header(doc.y);
  doc.moveDown(0.3);
  for (const line of s.lines) {
    const y = doc.y;
    doc.text(text(lineText(line, locale)), columns[0]!, y, { width: 230 });
    const next = doc.y;
    doc.text(kwh(line.energyWh), columns[1]!, y, { width: 80 });
    if (line.code !== 'flex-reward') doc.text(money(line.unitPrice), columns[2]!, y, { width: 70 });
    doc.text(money(line.amount), columns[3]!, y, { width: 100 });
    doc.y = Math.max(next, doc.y);
  }
  if (s.lines.length === 0) doc.text('No billed energy in this period.', columns[0]!, doc.y);
  doc.moveDown(0.5).font('Helvetica-Bold').text(`Total: ${money(s.total)}`, columns[0]!, doc.y);
  doc.font('Helvetica').fontSize(9).text('Each line is rounded once to the cent, half away from zero; the total is the sum of the rounded lines. Negative amounts are owed to the member.');
  if (s.market) {
    doc.moveDown().fontSize(11).font('Helvetica-Bold').text('Local market (paid through your market wallet)', columns[0]!, doc.y);
    doc.font('Helvetica');
    for (const line of s.market.lines) {
      const y = doc.y;
      doc.text(text(marketLineText(locale, line)), columns[0]!, y, { width: 230 });
      const next = doc.y;
      doc.text(kwh(line.energyWh), columns[1]!, y, { width: 80 });
      doc.text(money(line.amount), columns[3]!, y, { width: 100 });
      doc.y = Math.max(next, doc.y);
    }
    doc.moveDown(0.5).font('Helvetica-Bold').text(`Local market: ${money(s.market.total)}`, columns[0]!, doc.y);
    doc.font('Helvetica').fontSize(9).text(`The market priced ${s.market.quarterHours} quarter hours of this period (its trades, then balancing); the tariff lines above leave them out.`);
  }
  doc.moveDown().fontSize(11);
  doc.font('Helvetica-Bold').text('Energy by source');
  doc.font('Helvetica');
  for (const [key, wh] of Object.entries(s.energy)) doc.text(`${ENERGY_TEXT[key] ?? key}: ${kwh(wh)}`);
  doc.moveDown();
  doc.text(`Saved against buying everything from the grid: ${money(s.savings)}`);
  doc.text(`CO2 avoided: ${s.co2AvoidedKg} kg`);
  const q = s.quarterHours;
  doc.moveDown().fontSize(9).text(
    `Data: ${q.withData} of ${q.expected} quarter hours (${q.estimated} estimated, ${q.missing} missing, ${q.provisional} split provisionally).`,
  );
  doc.end();
  return done;
}
