/**
 * Billing benchmark (`npm run bench:billing`, add `-- --record` to update bench/RESULTS.md):
 * the monthly run of a 1,000-member community through the pure cores of issue 21 — invoices
 * from statements, the SEPA files of the period (and their XSD validation where the schemas are
 * present), a bank statement of 10,000 transactions read and matched, and the 1,000 "statement
 * ready" emails rendered in German. The issue sets no target; the figures show what phase 2's
 * closing and bulk-send jobs will spend in the core.
 */
import { loadavg } from 'node:os';
import { buildInvoice, type InvoiceFacts, type InvoiceStatement } from '../server/src/billing/domain/invoice.js';
import { formatInvoiceNumber } from '../server/src/billing/domain/invoice-number.js';
import { planPayments, type PayableStatement } from '../server/src/billing/sepa/payments.js';
import { creditTransferXml, directDebitXml } from '../server/src/billing/sepa/pain.js';
import { matchPayments, readBankStatement } from '../server/src/billing/sepa/camt053.js';
import { defaultSepaSchemaDirectory, loadSepaSchemas } from '../server/src/billing/sepa/schemas.js';
import { renderEmail } from '../server/src/notifications/domain/render.js';
import { camt053, type FixtureTransaction } from '../server/test/billing/sepa/camt-fixture.js';
import { machine, peakRssMb, recordSection } from './lib/report.js';
import { prng } from './allocate.js';

const LOAD_AT_START = loadavg()[0]!;
const MEMBERS = 1_000;
const random = prng(21);
const rows: [string, number, number][] = [];

function measure<T>(what: string, count: number, run: () => T): T {
  const start = performance.now();
  const result = run();
  rows.push([what, count, performance.now() - start]);
  return result;
}

const address = { street: 'Sonnengasse 1', postalCode: '1010', city: 'Wien', country: 'AT' };
const number = (i: number) => formatInvoiceNumber({ prefix: 'SUN-', year: 2026, sequence: i + 1 });
const statements: InvoiceStatement[] = Array.from({ length: MEMBERS }, () => {
  const cents = (max: number) => (Math.floor(random() * max) / 100).toFixed(2);
  return {
    periodStart: '2026-09-30T22:00:00.000Z', periodEnd: '2026-10-31T23:00:00.000Z', currency: 'EUR',
    lines: [
      { code: 'community-energy', tariffId: 't1', energyWh: 110_260, unitPrice: '0.14', amount: cents(5000) },
      { code: 'grid-fee-reduction', tariffId: 't1', energyWh: 110_260, unitPrice: '0.018', amount: `-${cents(500)}` },
      ...(random() < 0.3 ? [{ code: 'community-sales' as const, tariffId: 't1', energyWh: 32_780, unitPrice: '0.14', amount: `-${cents(9000)}` }] : []),
    ],
    energy: { consumptionWh: 423_160, selfConsumedWh: 14_900, fromCommunityWh: 110_260, fromGridWh: 298_000, productionWh: 56_620, toCommunityWh: 32_780, toGridWh: 8_940 },
    savings: '21.40', co2AvoidedKg: '31.290',
  };
});
const facts = (i: number): InvoiceFacts => ({
  number: number(i), issueDate: '2026-11-03', dueDate: '2026-11-17', period: { firstDay: '2026-10-01', lastDay: '2026-10-31' },
  member: { name: `Household ${i + 1}`, billingAddress: address, vat: { regime: 'private' } },
  community: { legalName: 'EEG Sonnenstraße', address, vat: { country: 'AT', regime: 'registered', vatId: 'ATU12345678' }, bank: { iban: 'AT611904300234573201', bic: 'BKAUATWW' } },
});

const invoices = measure('build invoices (VAT, totals, notes)', MEMBERS, () => statements.map((s, i) => buildInvoice(s, facts(i))));

const payable: PayableStatement[] = invoices.map((invoice, i) => ({
  statementId: `s${i}`, invoiceNumber: invoice.number, memberName: `Household ${i + 1}`, currency: 'EUR', gross: invoice.totals.gross,
  iban: 'DE89370400440532013000', mandate: { id: `SUN-M-${i}`, signedOn: '2026-01-15' }, remittance: `Rechnung ${invoice.number}`,
}));
const plan = measure('plan payments (IBAN, mandate, ids)', MEMBERS, () => planPayments(payable));
const header = { messageId: 'SUN-2026-10', createdAtMs: Date.parse('2026-11-03T09:00:00Z'), executionDate: '2026-11-17' };
const community = { name: 'EEG Sonnenstraße', iban: 'AT611904300234573201', bic: 'BKAUATWW', creditorId: 'DE98ZZZ09999999999' };
const pain008 = measure(`write pain.008.001.08 (${plan.debits.length} debits)`, plan.debits.length, () =>
  directDebitXml({ ...header, creditor: community, scheme: 'CORE', sequenceType: 'RCUR', debits: plan.debits }, 'pain.008.001.08'));
const pain001 = measure(`write pain.001.001.09 (${plan.credits.length} transfers)`, plan.credits.length, () =>
  creditTransferXml({ ...header, debtor: community, transfers: plan.credits }, 'pain.001.001.09'));

const directory = defaultSepaSchemaDirectory();
const schemas = directory ? loadSepaSchemas(directory) : undefined;
if (schemas?.versions.includes('pain.008.001.08')) measure('XSD-validate the pain.008 (libxml2-wasm)', plan.debits.length, () => schemas.validate(pain008, 'pain.008.001.08'));
if (schemas?.versions.includes('pain.001.001.09')) measure('XSD-validate the pain.001 (libxml2-wasm)', plan.credits.length, () => schemas.validate(pain001, 'pain.001.001.09'));

const transactions: FixtureTransaction[] = Array.from({ length: 10_000 }, (_, i) => {
  const debit = plan.debits[i % plan.debits.length]!;
  return i < plan.debits.length
    ? { direction: 'CRDT', amount: (Number(debit.amountCents) / 100).toFixed(2), bookingDate: '2026-11-17', endToEndId: debit.endToEndId }
    : { direction: 'CRDT', amount: '10.00', bookingDate: '2026-11-18', remittance: `transfer ${i} for something else` };
});
const camt = camt053('08', transactions);
const read = measure(`read camt.053.001.08 (${(camt.length / 1e6).toFixed(1)} MB)`, transactions.length, () => readBankStatement(camt));
const open = plan.debits.map((d) => ({ statementId: d.statementId, invoiceNumber: d.endToEndId, grossCents: d.amountCents }));
const matched = measure('match against 1,000 open statements', transactions.length, () => matchPayments(read.transactions, open));
if (schemas?.versions.includes('camt.053.001.08')) measure('XSD-validate the camt.053', transactions.length, () => schemas.validate(camt, 'camt.053.001.08'));
schemas?.dispose();

const pdf = { filename: 'statement.pdf', content: new TextEncoder().encode('%PDF-1.4\n') };
measure('render "statement ready" emails (de-AT)', MEMBERS, () => invoices.map((invoice, i) => renderEmail('statement-ready',
  { name: `Household ${i + 1}`, email: `member${i}@example.org`, locale: 'de-AT', timeZone: 'Europe/Vienna', role: 'member' },
  { communityName: 'EEG Sonnenstraße', period: '2026-10', invoiceNumber: invoice.number, total: invoice.totals.gross, currency: 'EUR', dueDate: '2026-11-17', link: 'https://gridshare.example/s', pdf })));

const table = [
  '| Step | Items | Time (ms) | Items/s |',
  '|---|---:|---:|---:|',
  ...rows.map(([what, count, ms]) => `| ${what} | ${count.toLocaleString('en')} | ${ms.toFixed(1)} | ${Math.round(count / (ms / 1000)).toLocaleString('en')} |`),
].join('\n');
const body = `Measured ${machine()} with \`npm run bench:billing\` (invoices, SEPA and notifications core, phase 1 of issue 21); one cold run each, 1-minute load average at the start: ${LOAD_AT_START.toFixed(1)} (the machine is shared with other sessions). ${matched.matches.length} statements matched as paid, ${matched.unmatched.length} transactions unmatched; ${schemas ? `validated against the official XSDs (${schemas.versions.length} versions found)` : 'no XSDs found: validation rows absent'}. Peak RSS ${peakRssMb()} MB.

${table}

No target is set for these; phase 2's period closing and bulk send add the database and SMTP round trips on top.`;
process.stdout.write(`${body}\n`);
if (process.argv.includes('--record')) recordSection('Billing (invoices, SEPA, notifications core)', body);
