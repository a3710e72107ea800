import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { platformStoreKinds } from '../support/stores.js';
import { confirmedCloseUrl } from '../support/settlements.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { monthRange } from '../../src/kernel/calendar.js';
import { Q, storeIntervals } from '../sharing/support/stored.js';
import { pdfText } from '../support/pdf.js';
import { camt053 } from './sepa/camt-fixture.js';
import { defaultSepaSchemaDirectory, SEPA_SCHEMA_DIRECTORY_VARIABLE } from '../../src/billing/sepa/schemas.js';
import { validated as schemaChecked } from '../../src/billing/payment-status.js';

const schemaDirectory = defaultSepaSchemaDirectory();
if (!schemaDirectory) process.stderr.write('invoices.test: no ISO 20022 XSDs (server/src/billing/sepa/iso20022 is missing and neither $SEPA_XSD_DIR nor ../shared/sepa is there): the SEPA files are not validated here\n');


/** Two past months, October before November, both ended whenever the test runs. */
function pastMonths(): [string, string] {
  const now = new Date();
  const year = now.getUTCMonth() >= 11 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
  return [`${year}-10`, `${year}-11`];
}

const profile = {
  legalName: 'Sonnenhof Energiegemeinschaft eGen',
  address: { street: 'Hauptplatz 1', postalCode: '8010', city: 'Graz', country: 'AT' },
  registrationNumber: 'FN 123456a',
  vat: { country: 'AT', regime: 'registered', vatId: 'ATU12345678' },
  bank: { iban: 'AT61 1904 3002 3457 3201', bic: 'BKAUATWW' },
  creditorId: 'DE98ZZZ09999999999',
  invoicePrefix: 'SUN-',
  paymentTermDays: 14,
};
const detailsA2 = { fullName: 'Jürgen Müller', address: { street: 'Gartengasse 7', postalCode: '8020', city: 'Graz', country: 'AT' }, vat: { regime: 'private' } };
const detailsA = { fullName: 'Anna Berger', address: { street: 'Feldweg 3', postalCode: '8020', city: 'Graz', country: 'AT' }, vat: { regime: 'private' } };

interface Summary { id: string; statementId: string; memberId: string; number: string; kind: string; corrects: string | null; totals: { net: string; vat: string; gross: string } }

describe.each(platformStoreKinds)('invoices issued when a month is closed, on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  const [october, november] = pastMonths();
  const year = new Date().getUTCFullYear();
  /** The platform's log, one JSON line each. */
  const logged: string[] = [];

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { log: { destination: { write: (line) => logged.push(line) } } });
    w = await buildWorld(tp);
    await tp.call('DELETE', `/api/v1/tariffs/${w.tariffA}`, { token: w.managerA.token });
    await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'Founding', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', gridFeeReduction: '0.02', validFrom: '2000-01-01' },
    });
    // A day in each month: A exports 400 Wh, A2 imports 250 Wh a quarter hour (24 kWh from the community).
    for (const period of [october, november]) {
      const { startMs } = monthRange(period, 'Europe/Vienna')!;
      await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, Object.fromEntries(Array.from({ length: 96 }, (_, t) => [startMs + t * Q, { importWh: 0, exportWh: 400 }])));
      await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, Object.fromEntries(Array.from({ length: 96 }, (_, t) => [startMs + t * Q, { importWh: 250, exportWh: 0 }])));
    }
    await tp.platform.sharing.flush();
  }, 120_000);
  afterAll(() => tp?.close());

  const settle = async (period: string) => {
    const response = await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period } });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as { id: string; statements: { id: string; memberId: string }[] };
  };
  const invoicesOf = async (settlementId: string): Promise<Summary[]> => {
    const response = await tp.call('GET', `/api/v1/settlements/${settlementId}/invoices`, { token: w.managerA.token });
    expect(response.status).toBe(200);
    return response.body;
  };

  it('keeps the billing profile, refusing what an invoice could not carry and changing nothing then', async () => {
    const url = `/api/v1/communities/${w.communityA}/billing-profile`;
    expect((await tp.call('GET', url, { token: w.managerA.token })).body).toBeNull();
    for (const bad of [
      { ...profile, bank: { iban: 'AT61 1904 3002 3457 3202' } },
      { ...profile, vat: { country: 'XX', regime: 'registered', vatId: 'X' } },
      { ...profile, vat: { country: 'AT', regime: 'registered' } },
      { ...profile, vat: { ...profile.vat, rates: { 'community-energy': '120' } } },
      { ...profile, invoicePrefix: 'sun' },
      { ...profile, creditorId: 'DE99ZZZ09999999999' },
      { ...profile, paymentTermDays: 1.5 },
      { ...profile, paymentTermDays: 10_000 },
      { ...profile, legalName: '   ' },
      { ...profile, address: { ...profile.address, country: 'Austria' } },
      { ...profile, extra: true },
    ]) {
      const response = await tp.call('PUT', url, { token: w.managerA.token, body: bad });
      expect(response.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await tp.call('GET', url, { token: w.managerA.token })).body).toBeNull();
    expect((await tp.call('PUT', url, { token: w.memberA.token, body: profile })).status).toBe(403);
    expect((await tp.call('PUT', url, { token: w.managerB.token, body: profile })).status).toBe(404);

    const saved = await tp.call('PUT', url, { token: w.managerA.token, body: profile });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body.bank).toEqual({ iban: 'AT611904300234573201', bic: 'BKAUATWW' });
    expect((await tp.call('GET', url, { token: w.managerA.token })).body).toEqual(saved.body);
  });

  it('refuses to close a month while a member has no billing address, naming them, and reserves no number', async () => {
    const settlement = await settle(october);
    await tp.call('PUT', `/api/v1/members/${w.memberIdA2}/billing-details`, { token: w.memberA2.token, body: detailsA2 });
    const refused = await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, settlement.id), { token: w.managerA.token });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('billing address');
    expect((await tp.call('GET', `/api/v1/settlements/${settlement.id}`, { token: w.managerA.token })).body.state).toBe('draft');
    expect(await invoicesOf(settlement.id)).toEqual([]);
  });

  it('takes billing details from the member and mandates from managers, refusing bad ones', async () => {
    const details = `/api/v1/members/${w.memberIdA}/billing-details`;
    expect((await tp.call('PUT', details, { token: w.memberA2.token, body: detailsA })).status).toBe(404);
    expect((await tp.call('PUT', details, { token: w.memberA.token, body: { ...detailsA, vat: { regime: 'registered' } } })).status).toBe(400);
    expect((await tp.call('PUT', details, { token: w.memberA.token, body: { ...detailsA, vat: { regime: 'private', reverseCharge: true } } })).status).toBe(400);
    expect((await tp.call('PUT', details, { token: w.memberA.token, body: detailsA })).status).toBe(200);

    const mandate = { mandateId: 'SUN-M-0001', signedOn: '2026-01-15', iban: 'DE89 3704 0044 0532 0130 00', accountHolder: 'Anna Berger' };
    const mandateUrl = `/api/v1/members/${w.memberIdA}/sepa-mandate`;
    expect((await tp.call('PUT', mandateUrl, { token: w.memberA.token, body: mandate })).status).toBe(403);
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    for (const bad of [{ ...mandate, signedOn: future }, { ...mandate, signedOn: '2026-02-30' }, { ...mandate, iban: 'DE00 0000' }, { ...mandate, mandateId: 'ü' }]) {
      expect((await tp.call('PUT', mandateUrl, { token: w.managerA.token, body: bad })).status, JSON.stringify(bad)).toBe(400);
    }
    expect((await tp.call('GET', details, { token: w.memberA.token })).body.mandate).toBeNull();
    expect((await tp.call('PUT', mandateUrl, { token: w.managerA.token, body: mandate })).status).toBe(200);
    // The same mandate id for another member of the community is refused.
    expect((await tp.call('PUT', `/api/v1/members/${w.memberIdA2}/sepa-mandate`, { token: w.managerA.token, body: { ...mandate, accountHolder: 'Jürgen Müller' } })).status).toBe(409);
    const mine = await tp.call('GET', details, { token: w.memberA.token });
    expect(mine.body).toEqual({ details: detailsA, mandate: { ...mandate, iban: 'DE89370400440532013000' } });
  });

  it('issues gap-free numbered invoices with VAT per rate and totals that add up, in the closing transaction', async () => {
    const [settlement] = (await tp.call('GET', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token })).body;
    const closed = await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, settlement.id), { token: w.managerA.token });
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    const invoices = await invoicesOf(settlement.id);
    expect(invoices.map((i) => i.number)).toEqual([`SUN-${year}-00001`, `SUN-${year}-00002`]);
    expect(new Set(invoices.map((i) => i.statementId))).toEqual(new Set(settlement.statements.map((s: { id: string }) => s.id)));

    // A2: 24 kWh × 0.15 = 3.60, reduction −0.48, net 3.12; VAT 20 % of 3.12 = 0.624 → 0.62; 3.74.
    const a2 = invoices.find((i) => i.memberId === w.memberIdA2)!;
    expect(a2.totals).toEqual({ net: '3.12', vat: '0.62', gross: '3.74' });
    const full = (await tp.call('GET', `/api/v1/invoices/${a2.id}`, { token: w.memberA2.token })).body;
    expect(full.document.buyer).toMatchObject({ name: 'Jürgen Müller', billingAddress: detailsA2.address });
    expect(full.document.seller).toMatchObject({ legalName: profile.legalName, vat: { vatId: 'ATU12345678' } });
    expect(full.document.vatBreakdown).toEqual([{ category: 'S', rate: '20', taxable: '3.12', vat: '0.62' }]);
    expect(full.dueDate).toBe(addDays(full.issueDate, 14));
    const { startMs } = monthRange(october, 'Europe/Vienna')!;
    expect(full.document.period.firstDay).toBe(new Date(startMs + 3_600_000 * 12).toISOString().slice(0, 10));
    // The fixed order: consumption, its charges, production, environment.
    expect(full.document.rows.map((r: { key: string }) => r.key)).toEqual(['consumption', 'own-pv', 'from-community', 'community-energy', 'grid-fee-reduction', 'from-grid', 'co2-avoided']);
    // A, a private producer, is credited for the energy sold: outside the scope of VAT, a self-billing note.
    const a = invoices.find((i) => i.memberId === w.memberIdA)!;
    expect(a.totals).toEqual({ net: '-3.60', vat: '0.00', gross: '-3.60' });
    const credit = (await tp.call('GET', `/api/v1/invoices/${a.id}`, { token: w.memberA.token })).body;
    expect(credit.document.notes.map((n: { key: string }) => n.key)).toEqual(['invoice.note.selfBilling', 'invoice.note.outsideScope', 'invoice.note.credited']);

    // Issued invoices never change, in the database itself.
    await expect(tp.platform.db.query(`UPDATE invoices SET gross = '0.00' WHERE id = $1`, [a2.id])).rejects.toThrow(/never changed/);
    await expect(tp.platform.db.query('DELETE FROM invoices WHERE id = $1', [a2.id])).rejects.toThrow(/cannot be removed/);
  });

  it('continues the series with the next month and numbers a correction as a new invoice naming the corrected one', async () => {
    const next = await settle(november);
    await tp.call('PUT', `/api/v1/members/${w.memberIdA2}/billing-details`, { token: w.memberA2.token, body: { ...detailsA2, fullName: 'Jürgen Müller-Weiß' } });
    expect((await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, next.id), { token: w.managerA.token })).status).toBe(200);
    const november_ = await invoicesOf(next.id);
    expect(november_.map((i) => i.number)).toEqual([`SUN-${year}-00003`, `SUN-${year}-00004`]);
    expect(november_.find((i) => i.memberId === w.memberIdA2)).toMatchObject({ buyerName: 'Jürgen Müller-Weiß' });

    const [, october_] = (await tp.call('GET', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token })).body;
    const before = await invoicesOf(october_.id);
    // Late data in October: A2 used 100 Wh more in the first quarter hour.
    const { startMs } = monthRange(october, 'Europe/Vienna')!;
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [startMs]: { importWh: 350, exportWh: 0 } });
    await tp.platform.sharing.flush();
    expect((await tp.call('POST', `/api/v1/settlements/${october_.id}/recompute`, { token: w.managerA.token })).status).toBe(200);
    const after = await invoicesOf(october_.id);
    const corrections = after.filter((i) => i.kind === 'correction');
    expect(corrections.length).toBeGreaterThan(0);
    expect(corrections.map((i) => i.number)).toEqual(corrections.map((_, k) => `SUN-${year}-${String(5 + k).padStart(5, '0')}`));
    const ofA2 = corrections.find((i) => i.memberId === w.memberIdA2)!;
    expect(ofA2.corrects).toBe(before.find((i) => i.memberId === w.memberIdA2)!.number);
    // The invoices issued before stay exactly as they were.
    expect(after.filter((i) => i.kind === 'invoice')).toEqual(before);
  });

  /**
   * A payment file of ours that its schema refuses is our fault, not the request's: 500 naming the
   * violation, logged at error level with the community and period, no file, nothing recorded.
   * The writer keeps within the ISO schemas (sepa.test.ts validates every variant), so the fault
   * comes in where the service takes its schemas ($SEPA_XSD_DIR): the ISO originals, pain.008.001.08's
   * remittance text narrowed to letters and digits (the writer's is "<invoice number> <month>").
   */
  async function expectOwnInvalidFileRefused(settlementId: string, payments: () => Promise<unknown>) {
    const stricter = mkdtempSync(join(tmpdir(), 'gridshare-xsd-'));
    for (const file of readdirSync(schemaDirectory!).filter((name) => name.endsWith('.xsd'))) {
      const original = readFileSync(join(schemaDirectory!, file), 'utf8');
      const narrowed = file !== 'pain.008.001.08.xsd' ? original : original
        .replace('name="Ustrd" type="Max140Text"', 'name="Ustrd" type="LettersAndDigits"')
        .replace('<xs:simpleType name="Max140Text">', '<xs:simpleType name="LettersAndDigits"><xs:restriction base="xs:string"><xs:pattern value="[A-Za-z0-9]+"/></xs:restriction></xs:simpleType><xs:simpleType name="Max140Text">');
      if (file === 'pain.008.001.08.xsd') expect(narrowed).toContain('name="Ustrd" type="LettersAndDigits"');
      writeFileSync(join(stricter, file), narrowed);
    }
    const before = await payments();
    const previous = process.env[SEPA_SCHEMA_DIRECTORY_VARIABLE];
    process.env[SEPA_SCHEMA_DIRECTORY_VARIABLE] = stricter;
    try {
      const refused = await tp.call('GET', `/api/v1/settlements/${settlementId}/sepa/direct-debits.xml`, { token: w.managerA.token });
      expect(refused.status, JSON.stringify(refused.body)).toBe(500);
      expect(refused.headers['content-type']).toContain('application/json');
      expect(refused.headers['content-disposition']).toBeUndefined();
      expect(refused.body).toEqual({ error: 'internal', message: expect.stringMatching(new RegExp(`^the pain\\.008\\.001\\.08 file Gridshare generated for ${october} fails the ISO 20022 schema, so none was issued: `)) });
      const violation = /^not valid against pain\.008\.001\.08 \(line \d+\): Element '\{urn:iso:std:iso:20022:tech:xsd:pain\.008\.001\.08\}Ustrd': \[facet 'pattern'\] The value 'SUN-\d{4}-\d{5} \d{4}-10' is not accepted/;
      const line = logged.join('').split('\n').filter((text) => text !== '').map((text) => JSON.parse(text) as Record<string, unknown>)
        .find((entry) => entry.msg === refused.body.message);
      expect(line).toMatchObject({ level: 50, communityId: w.communityA, settlementId, period: october, version: 'pain.008.001.08', violation: expect.stringMatching(violation) });
      expect(refused.body.message.endsWith(`: ${line!.violation}`)).toBe(true);
      // The other files keep to their schemas and still leave.
      expect((await tp.call('GET', `/api/v1/settlements/${settlementId}/sepa/direct-debits.xml?version=pain.008.001.02`, { token: w.managerA.token })).status).toBe(200);
    } finally {
      if (previous === undefined) delete process.env[SEPA_SCHEMA_DIRECTORY_VARIABLE];
      else process.env[SEPA_SCHEMA_DIRECTORY_VARIABLE] = previous;
      rmSync(stricter, { recursive: true });
    }
    expect(await payments()).toEqual(before);
  }

  it('exports SEPA files of the open invoices and keeps each invoice\'s payment status, by hand or from a bank statement', async () => {
    const [, october_] = (await tp.call('GET', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token })).body;
    const payments = async () => {
      const response = await tp.call('GET', `/api/v1/settlements/${october_.id}/payments`, { token: w.managerA.token });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body as { invoiceId: string; memberId: string; number: string; status: string; settled: string; history: { status: string; source: string }[]; sepa: string | null; sepaSkipped: string | null }[];
    };
    const initial = await payments();
    expect(initial.every((p) => p.status === 'open' && p.settled === '0.00' && p.history.length === 0)).toBe(true);
    const ofA2 = initial.find((p) => p.number === october_invoice(initial, w.memberIdA2))!;
    const ofA = initial.find((p) => p.number === october_invoice(initial, w.memberIdA))!;
    expect(ofA2).toMatchObject({ sepa: null, sepaSkipped: 'the member has no IBAN on file' });
    expect(ofA.sepa).toBe('credit-transfer');

    // With a mandate A2's invoices are collected by direct debit.
    const mandate = { mandateId: 'SUN-M-0002', signedOn: '2026-01-20', iban: 'AT48 3200 0000 1234 5864', accountHolder: 'Jürgen Müller' };
    expect((await tp.call('PUT', `/api/v1/members/${w.memberIdA2}/sepa-mandate`, { token: w.managerA.token, body: mandate })).status).toBe(200);
    const debits = await tp.call('GET', `/api/v1/settlements/${october_.id}/sepa/direct-debits.xml`, { token: w.managerA.token });
    expect(debits.status, String(debits.body)).toBe(200);
    expect(debits.headers['content-type']).toContain('application/xml');
    expect(debits.headers['content-disposition']).toMatch(/^attachment; filename="SUN-\d{4}-10-DD-[0-9A-Z]+\.xml"$/);
    const debitXml = schemaChecked(String(debits.body), 'pain.008.001.08');
    expect(debitXml).toContain('urn:iso:std:iso:20022:tech:xsd:pain.008.001.08');
    expect(debitXml).toContain(`<EndToEndId>${ofA2.number}</EndToEndId>`);
    expect(debitXml).toContain('<InstdAmt Ccy="EUR">3.74</InstdAmt>');
    expect(debitXml).toContain('<MndtId>SUN-M-0002</MndtId>');
    expect(debitXml).toContain('<CdtrSchmeId>');
    const older = await tp.call('GET', `/api/v1/settlements/${october_.id}/sepa/direct-debits.xml?version=pain.008.001.02`, { token: w.managerA.token });
    expect(schemaChecked(String(older.body), 'pain.008.001.02')).toContain('pain.008.001.02');
    expect((await tp.call('GET', `/api/v1/settlements/${october_.id}/sepa/direct-debits.xml?version=pain.008.001.99`, { token: w.managerA.token })).status).toBe(400);
    const credits = await tp.call('GET', `/api/v1/settlements/${october_.id}/sepa/credit-transfers.xml`, { token: w.managerA.token });
    expect(credits.status).toBe(200);
    const creditXml = schemaChecked(String(credits.body), 'pain.001.001.09');
    expect(creditXml).toContain(`<EndToEndId>${ofA.number}</EndToEndId>`);
    expect(creditXml).toContain('<InstdAmt Ccy="EUR">3.60</InstdAmt>');
    expect(creditXml).not.toContain(ofA2.number);
    if (schemaDirectory) await expectOwnInvalidFileRefused(october_.id, payments);
    // A draft has nothing issued to pay.
    const { startMs } = monthRange(october, 'Europe/Vienna')!;
    const draft = await settle(new Date(startMs - 20 * 86_400_000).toISOString().slice(0, 7));
    expect((await tp.call('GET', `/api/v1/settlements/${draft.id}/payments`, { token: w.managerA.token })).status).toBe(409);
    expect((await tp.call('GET', `/api/v1/settlements/${draft.id}/sepa/direct-debits.xml`, { token: w.managerA.token })).status).toBe(409);

    // By hand: a partial payment needs its amount, a failed one its reason.
    const status = `/api/v1/invoices/${ofA2.invoiceId}/payment`;
    for (const bad of [{ status: 'partial' }, { status: 'partial', settled: '3.74' }, { status: 'partial', settled: '-1.00' }, { status: 'partial', settled: 'NaN' },
      { status: 'partial', settled: '1.001' }, { status: 'failed' }, { status: 'paid', settled: '1.00' }, { status: 'refunded' }]) {
      expect((await tp.call('PUT', status, { token: w.managerA.token, body: bad })).status, JSON.stringify(bad)).toBe(400);
    }
    expect((await payments()).find((p) => p.invoiceId === ofA2.invoiceId)!.history).toEqual([]);
    const partial = await tp.call('PUT', status, { token: w.managerA.token, body: { status: 'partial', settled: '1.00', reason: 'paid cash at the meeting' } });
    expect(partial.status, JSON.stringify(partial.body)).toBe(200);
    expect(partial.body).toMatchObject({ status: 'partial', settled: '1.00', history: [{ status: 'partial', source: 'manual', reason: 'paid cash at the meeting' }] });

    // The bank statement: A2's debit collected, A's credit paid out, one transfer nobody can place.
    const camt = camt053('02', [
      { direction: 'CRDT', amount: '3.74', bookingDate: '2026-11-20', endToEndId: ofA2.number },
      { direction: 'DBIT', amount: '3.60', bookingDate: '2026-11-21', endToEndId: ofA.number },
      { direction: 'CRDT', amount: '9.99', bookingDate: '2026-11-21', remittance: 'donation' },
    ]);
    const importUrl = `/api/v1/settlements/${october_.id}/bank-statements`;
    const upload = (query: string, text = camt, type = 'application/xml') => tp.call('POST', `${importUrl}${query}`, { token: w.managerA.token, rawBody: text, headers: { 'content-type': type } });
    const preview = await upload('');
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.applied).toBe(false);
    expect(preview.body.matches.map((m: { number: string; before: string; status: string; settled: string }) => [m.number, m.before, m.status, m.settled]).sort()).toEqual([
      [ofA.number, 'open', 'paid', '3.60'], [ofA2.number, 'partial', 'paid', '3.74'],
    ].sort());
    expect(preview.body.unmatched).toEqual([expect.objectContaining({ amount: '9.99', direction: 'credit', remittance: 'donation', reason: expect.any(String) })]);
    expect((await payments()).find((p) => p.invoiceId === ofA2.invoiceId)!.status).toBe('partial');

    for (const [text, type, expected] of [['<Document', 'application/xml', 400], ['<!DOCTYPE x [<!ENTITY e "e">]><x/>', 'application/xml', 400], [camt, 'text/plain', 415], ['', 'application/xml', 400]] as const) {
      expect((await upload('?apply=true', text, type)).status, `${type} ${text.slice(0, 20)}`).toBe(expected);
    }
    // A statement the reader could take but its version's XSD refuses is refused, naming the violation, and records nothing.
    const notValid = [
      camt.replace(/<CreDtTm>[^<]*<\/CreDtTm>/, ''), // .02: the group header's creation time is mandatory
      camt053('08', [{ direction: 'CRDT', amount: '3.74', bookingDate: '2026-11-20', endToEndId: ofA2.number }]).replace(/<Sts>\s*<Cd>BOOK<\/Cd>\s*<\/Sts>/, '<Sts>BOOK</Sts>'), // .08: the status is a code choice
    ];
    for (const text of schemaDirectory ? notValid : []) {
      const refused = await upload('?apply=true', text);
      expect(refused.status, text.slice(0, 120)).toBe(400);
      expect(JSON.stringify(refused.body)).toMatch(/not valid against camt\.053\.001\.0[28] \(line \d+\)/);
    }
    expect((await payments()).find((p) => p.invoiceId === ofA2.invoiceId)!.status).toBe('partial');
    // A version with no XSD here (.04) is read as before.
    expect((await upload('', camt.replace(/camt\.053\.001\.02/g, 'camt.053.001.04'))).body.matches).toHaveLength(2);
    const applied = await upload('?apply=true');
    expect(applied.status).toBe(200);
    expect(applied.body.applied).toBe(true);
    const after = await payments();
    expect(after.find((p) => p.invoiceId === ofA2.invoiceId)).toMatchObject({ status: 'paid', settled: '3.74', sepa: null });
    expect(after.find((p) => p.invoiceId === ofA2.invoiceId)!.history.map((h) => [h.status, h.source])).toEqual([['partial', 'manual'], ['paid', 'camt053']]);
    expect(after.find((p) => p.invoiceId === ofA.invoiceId)).toMatchObject({ status: 'paid', settled: '3.60' });
    // The same file again changes nothing: the invoices are paid.
    expect((await upload('?apply=true')).body.matches).toEqual([]);
    expect(after).toEqual(await payments());
    expect(String((await tp.call('GET', `/api/v1/settlements/${october_.id}/sepa/direct-debits.xml`, { token: w.managerA.token })).body)).not.toContain(`<EndToEndId>${ofA2.number}<`);

    // The member sees the status with their invoice; the trail has who changed it, never an address or IBAN.
    const mine = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/invoices`, { token: w.memberA2.token })).body;
    expect(mine.find((i: { id: string }) => i.id === ofA2.invoiceId).payment).toEqual({ status: 'paid', settled: '3.74' });
    const trail = async (auditKind: string) => (await tp.call('GET', `/api/v1/communities/${w.communityA}/audit?kind=${auditKind}&limit=500`, { token: w.managerA.token })).body.entries;
    const paymentTrail = await trail('payment');
    expect(paymentTrail.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['set-status', 'import-bank-statement']));
    const personal = JSON.stringify([...await trail('billing-details'), ...await trail('sepa-mandate'), ...await trail('billing-profile')]);
    expect(personal).toContain('[personal]');
    for (const secret of ['Gartengasse', 'AT483200000012345864', 'DE89370400440532013000']) expect(personal).not.toContain(secret);
  });

  it('shows members their own invoices only', async () => {
    const mine = await tp.call('GET', `/api/v1/members/${w.memberIdA2}/invoices`, { token: w.memberA2.token });
    expect(mine.status).toBe(200);
    expect(mine.body.every((i: Summary) => i.memberId === w.memberIdA2)).toBe(true);
    expect(mine.body.length).toBeGreaterThanOrEqual(3);
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA2}/invoices`, { token: w.memberA.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/invoices/${mine.body[0].id}`, { token: w.memberA.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/invoices/${mine.body[0].id}`, { token: w.managerB.token })).status).toBe(404);
    expect((await tp.call('GET', '/api/v1/invoices/not-a-uuid', { token: w.managerA.token })).status).toBe(400);
  });

  it('renders the invoice as PDF in the locale asked for, every figure as issued', async () => {
    const [, october_] = (await tp.call('GET', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token })).body;
    const invoice = (await invoicesOf(october_.id)).find((i) => i.memberId === w.memberIdA2 && i.kind === 'invoice')!;
    const url = `/api/v1/invoices/${invoice.id}/invoice.pdf`;

    const english = await tp.call('GET', `${url}?locale=en`, { token: w.memberA2.token });
    expect(english.status).toBe(200);
    expect(english.headers['content-type']).toBe('application/pdf');
    expect(english.headers['content-disposition']).toBe(`attachment; filename="invoice-${invoice.number}.pdf"`);
    const en = pdfText(english.raw.rawPayload);
    for (const text of [`Invoice ${invoice.number}`, 'Jürgen Müller', 'Gartengasse 7', '8020 Graz', profile.legalName, 'ATU12345678', 'FN 123456a',
      'Price per kWh (EUR)', 'Net (EUR)', 'Total net', '€3.12', '€0.62', '€3.74', 'VAT 20 %', 'IBAN AT611904300234573201']) {
      expect(en, text).toContain(text);
    }
    // Rows in the fixed order; the units in their own column; no currency on an energy or CO2 row.
    const order = ['Total consumption', 'From your own PV', 'From the community', 'Energy from the community (Founding)', 'From the grid', 'CO2 avoided'];
    const positions = order.map((label) => en.indexOf(label));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    expect(en).toContain('From the community24.000kWh');
    expect(en).toMatch(/CO2 avoided[\d.,]+kg CO2(?!€)/);

    const german = pdfText((await tp.call('GET', url, { token: w.memberA2.token, headers: { 'accept-language': 'de-AT,de;q=0.9' } })).raw.rawPayload);
    for (const text of [`Rechnung ${invoice.number}`, 'Preis je kWh (EUR)', 'Summe netto', 'Aus der Gemeinschaft24,000kWh', 'USt. 20 %', 'Fällig am']) {
      expect(german, text).toContain(text);
    }
    // Austrian German puts the euro sign first.
    expect(german).toMatch(/Gesamtbetrag€\s3,74/u);
    expect((await tp.call('GET', `${url}?locale=klingon`, { token: w.memberA2.token })).status).toBe(400);
    expect((await tp.call('GET', url, { token: w.memberA.token })).status).toBe(404);
  });

  it('lists the billing details and mandates of the members invoices are made out to in one answer, not the manager who only runs the community', async () => {
    const url = `/api/v1/communities/${w.communityA}/billing-details`;
    const listed = async () => {
      const response = await tp.call('GET', url, { token: w.managerA.token });
      expect(response.status).toBe(200);
      return response.body as { memberId: string; displayName: string; hasLeft: boolean; details: unknown; mandate: { mandateId: string } | null }[];
    };
    // The manager holds the community's battery: it is the community's, so they are still no member to bill.
    const battery = await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, {
      token: w.managerA.token, body: { name: 'Community battery', gridConnectionId: unique('ATB'), role: 'prosumer', batteryCapacityWh: 50_000, communityBattery: true },
    });
    expect(battery.status, JSON.stringify(battery.body)).toBe(201);
    const entries = await listed();
    expect(entries.map((e) => e.memberId).sort()).toEqual([w.memberIdA, w.memberIdA2].sort());
    const ofA = entries.find((e) => e.memberId === w.memberIdA)!;
    expect(ofA).toEqual({ memberId: w.memberIdA, displayName: expect.any(String), hasLeft: false, details: detailsA, mandate: expect.objectContaining({ mandateId: 'SUN-M-0001' }) });
    // One answer holds what the per-member route tells, for each of them.
    for (const entry of entries) {
      const one = (await tp.call('GET', `/api/v1/members/${entry.memberId}/billing-details`, { token: w.managerA.token })).body;
      expect({ details: entry.details, mandate: entry.mandate }).toEqual(one);
    }

    // A manager with a home of their own in the community is billed like any member.
    const home = await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, {
      token: w.managerA.token, body: { name: 'Manager home', gridConnectionId: unique('AT001GC'), role: 'consumer' },
    });
    expect(home.status, JSON.stringify(home.body)).toBe(201);
    expect((await listed()).map((e) => e.memberId)).toHaveLength(3);
    await tp.call('DELETE', `/api/v1/metering-points/${home.body.id}`, { token: w.managerA.token });

    // Managers of the community only; another community's manager learns nothing.
    expect((await tp.call('GET', url, { token: w.memberA.token })).status).toBe(403);
    expect((await tp.call('GET', url, { token: w.managerB.token })).status).toBe(404);
    expect((await tp.call('GET', url)).status).toBe(401);
    expect((await tp.call('GET', '/api/v1/communities/not-a-uuid/billing-details', { token: w.managerA.token })).status).toBe(400);
  });
});

/** The member's October invoice (the first issued to them, not a correction). */
function october_invoice(payments: readonly { memberId: string; number: string }[], memberId: string): string {
  return payments.filter((p) => p.memberId === memberId).map((p) => p.number).sort()[0]!;
}

function addDays(isoDate: string, days: number): string {
  return new Date(Date.parse(`${isoDate}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
