/**
 * Invoices in a real Chromium (issue 21): the manager keeps the community's billing profile and
 * the members' mandates on the Billing page, a member keeps their own billing address on their
 * Statements page; closing a month issues the invoices, whose PDF names what was entered, whose
 * payment status the manager sets by hand and whose direct debits name the mandate.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Dialog, Locator, Page } from 'playwright-core';
import type { InvoicePayment, InvoiceSummary } from '@gridshare/contract/billing';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { pdfText } from '../../server/test/support/pdf.js';
import { Q, storeIntervals } from '../../server/test/sharing/support/stored.js';
import { monthRange } from '../../server/src/kernel/calendar.js';
import { previousPeriod } from '../src/lib/time.js';
import { collectPageErrors, launchBrowser, logIn, openContext, rawKeysShown, screenshot, typed } from './browser.js';

const LEGAL_NAME = 'Sonnenhof Energiegemeinschaft eGen';
/** As long as Playwright waits for an element: the pages load and answer slower on a busy machine than vitest's one second. */
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 15_000 });

describe('web app: invoices', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;
  let manager: Page;
  let member: Page;
  let errors: string[];
  let memberErrors: string[];
  const period = previousPeriod(new Date(), 'Europe/Vienna');

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    w = await buildWorld(tp);
    // A tariff with a grid-fee reduction, valid for any past month; one day of last month: A exports 400 Wh, A2 imports 250 Wh a quarter hour.
    await tp.call('DELETE', `/api/v1/tariffs/${w.tariffA}`, { token: w.managerA.token });
    await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'Founding', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', gridFeeReduction: '0.02', validFrom: '2000-01-01' },
    });
    const { startMs } = monthRange(period, 'Europe/Vienna')!;
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, Object.fromEntries(Array.from({ length: 96 }, (_, t) => [startMs + t * Q, { importWh: 0, exportWh: 400 }])));
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, Object.fromEntries(Array.from({ length: 96 }, (_, t) => [startMs + t * Q, { importWh: 250, exportWh: 0 }])));
    await tp.platform.sharing.flush();
    manager = await (await openContext(browser, tp.platform.httpUrl)).newPage();
    member = await (await openContext(browser, tp.platform.httpUrl)).newPage();
    errors = collectPageErrors(manager);
    memberErrors = collectPageErrors(member);
    await logIn(manager, w.managerA.email, w.managerA.password);
    await logIn(member, w.memberA2.email, w.memberA2.password);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  const get = async <T>(url: string): Promise<T> => (await tp.call('GET', url, { token: w.managerA.token })).body as T;
  const memberRow = (memberId: string): Locator => manager.locator(`li[data-member-id="${memberId}"]`);

  /** Fills a postal address in `form` (the labels the address fields share). */
  async function fillAddress(form: Locator, street: string, postalCode: string, city: string, country: string) {
    await form.getByLabel('Street and number').fill(street);
    await form.getByLabel('Postal code').fill(postalCode);
    await form.getByLabel('City').fill(city);
    await form.getByLabel('Country').fill(country);
  }

  it('keeps the billing profile entered on the Billing page, refusing a bad IBAN and storing nothing then', async () => {
    await manager.goto(`/manage/${w.communityA}/billing`);
    await poll(() => manager.getByTestId('no-billing-profile').count()).toBe(1);
    const form = manager.getByRole('form', { name: 'Billing profile' });
    await form.getByLabel('Legal name').fill(LEGAL_NAME);
    await fillAddress(form, 'Hauptplatz 1', '8010', 'Graz', 'AT');
    await form.getByLabel('Company register number').fill('FN 123456a');
    await form.getByLabel('VAT rules of').selectOption({ label: 'Austria' });
    await form.getByLabel('VAT status').selectOption({ label: 'VAT-registered' });
    await form.getByLabel('VAT number').fill('ATU12345678');
    // The check digits are off by one.
    await form.getByLabel('IBAN').fill('AT61 1904 3002 3457 3202');
    await form.getByLabel('BIC').fill('BKAUATWW');
    await form.getByLabel('SEPA creditor identifier').fill('DE98ZZZ09999999999');
    await form.getByLabel('Invoice number prefix').fill('SUN-');
    await form.getByLabel('Payment term in days').fill('14');
    await form.getByRole('button', { name: 'Save billing profile' }).click();
    await poll(() => form.getByRole('alert').textContent()).toContain('not a valid IBAN');
    expect(await get(`/api/v1/communities/${w.communityA}/billing-profile`)).toBeNull();

    await form.getByLabel('IBAN').fill('AT61 1904 3002 3457 3201');
    await form.getByRole('button', { name: 'Save billing profile' }).click();
    await poll(() => form.getByRole('status').textContent()).toBe('Saved.');
    expect(await get(`/api/v1/communities/${w.communityA}/billing-profile`)).toEqual({
      legalName: LEGAL_NAME, address: { street: 'Hauptplatz 1', postalCode: '8010', city: 'Graz', country: 'AT' }, registrationNumber: 'FN 123456a',
      vat: { country: 'AT', regime: 'registered', vatId: 'ATU12345678' }, bank: { iban: 'AT611904300234573201', bic: 'BKAUATWW' },
      creditorId: 'DE98ZZZ09999999999', invoicePrefix: 'SUN-', paymentTermDays: 14,
    });
    await manager.reload();
    await poll(() => manager.getByRole('form', { name: 'Billing profile' }).getByLabel('Legal name').inputValue()).toBe(LEGAL_NAME);
    expect(await manager.getByTestId('no-billing-profile').count()).toBe(0);
  });

  it('lets a member keep their own billing address and the manager another member\'s and their mandate', async () => {
    await member.goto(`/members/${w.memberIdA2}/statements`);
    const own = member.getByRole('form', { name: 'Billing address' });
    await own.getByLabel('Name on invoices').fill('Jürgen Müller');
    await fillAddress(own, 'Gartengasse 7', '8020', 'Graz', 'at');
    await own.getByRole('button', { name: 'Save billing details' }).click();
    await poll(() => own.getByRole('status').textContent()).toBe('Saved.');
    expect(await member.getByTestId('own-mandate').textContent()).toBe('SEPA mandate: none');

    const asked: string[] = [];
    const record = (request: { url(): string }) => asked.push(new URL(request.url()).pathname);
    manager.on('request', record);
    await manager.reload();
    const a = memberRow(w.memberIdA);
    await poll(() => a.getByTestId('billing-address').textContent()).toBe('No billing address');
    await poll(() => memberRow(w.memberIdA2).getByTestId('billing-address').textContent()).toBe('Gartengasse 7, 8020 Graz, Austria');
    manager.off('request', record);
    // The members invoices are made out to, not the manager who only runs the community; all in one request.
    expect(await manager.locator('li[data-member-id]').count()).toBe(2);
    expect(asked.filter((path) => path.endsWith('/billing-details'))).toEqual([`/api/v1/communities/${w.communityA}/billing-details`]);
    await a.locator('summary').click();
    const details = a.getByRole('form', { name: 'Billing address' });
    await details.getByLabel('Name on invoices').fill('Anna Berger');
    await fillAddress(details, 'Feldweg 3', '8020', 'Graz', 'AT');
    // A produces: credits are paid to this account, A has no mandate.
    await details.getByLabel('IBAN for payouts').fill('DE89 3704 0044 0532 0130 00');
    await details.getByRole('button', { name: 'Save billing details' }).click();
    await poll(() => a.getByTestId('billing-address').textContent()).toBe('Feldweg 3, 8020 Graz, Austria');

    const a2 = memberRow(w.memberIdA2);
    await a2.locator('summary').click();
    const mandate = a2.getByRole('form', { name: 'SEPA mandate' });
    await mandate.getByLabel('Mandate reference').fill('SUN-M-0002');
    // Signed tomorrow: refused, nothing recorded.
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    await mandate.getByLabel('Signed on').fill(typed(tomorrow));
    await mandate.getByLabel('IBAN').fill('AT48 3200 0000 1234 5864');
    await mandate.getByRole('button', { name: 'Save mandate' }).click();
    await poll(() => mandate.getByRole('alert').textContent()).toContain('future');
    expect((await get<{ mandate: unknown }>(`/api/v1/members/${w.memberIdA2}/billing-details`)).mandate).toBeNull();
    await mandate.getByLabel('Signed on').fill('20/01/2026');
    await mandate.getByRole('button', { name: 'Save mandate' }).click();
    await poll(() => a2.getByTestId('billing-mandate').textContent()).toBe('SEPA mandate: SUN-M-0002, signed 20 Jan 2026');
    expect((await get<{ mandate: unknown }>(`/api/v1/members/${w.memberIdA2}/billing-details`)).mandate)
      .toEqual({ mandateId: 'SUN-M-0002', signedOn: '2026-01-20', iban: 'AT483200000012345864', accountHolder: 'Jürgen Müller' });
    expect(await rawKeysShown(manager)).toEqual([]);
    await screenshot(manager, 'manager-billing');
    // The member sees the mandate the manager recorded.
    await member.reload();
    await poll(() => member.getByTestId('own-mandate').textContent()).toBe('SEPA mandate: SUN-M-0002, signed 20 Jan 2026');
  });

  it('issues invoices when the month is closed: the PDF names both parties and adds up, the payment is set by hand, the direct debit names the mandate', async () => {
    await manager.goto(`/manage/${w.communityA}/settlements`);
    await manager.getByLabel('Month to settle').fill(typed(period));
    await manager.getByRole('button', { name: 'Run settlement' }).click();
    await manager.waitForURL(new RegExp(`/manage/${w.communityA}/settlements/[0-9a-f-]{36}$`));
    const settlementId = manager.url().split('/').at(-1)!;
    // The month misses all but one day: the manager confirms what is missing.
    manager.once('dialog', (dialog: Dialog) => void dialog.accept());
    await manager.getByRole('button', { name: 'Close settlement' }).click();
    const table = manager.getByTestId('settlement-invoices');
    await poll(() => table.locator('tbody tr').count()).toBe(2);

    const invoices = await get<InvoiceSummary[]>(`/api/v1/settlements/${settlementId}/invoices`);
    const ofA2 = invoices.find((i) => i.memberId === w.memberIdA2)!;
    const year = ofA2.issueDate.slice(0, 4);
    expect(invoices.map((i) => i.number).sort()).toEqual([`SUN-${year}-00001`, `SUN-${year}-00002`]);
    // 24 kWh × 0.15 = 3.60, reduction −0.48: net 3.12; 20 % VAT of 3.12 = 0.624 → 0.62; gross 3.74.
    expect(ofA2.totals).toEqual({ net: '3.12', vat: '0.62', gross: '3.74' });

    const [download] = await Promise.all([manager.waitForEvent('download'), table.getByRole('link', { name: `PDF of invoice ${ofA2.number}` }).click()]);
    expect(download.suggestedFilename()).toBe(`invoice-${ofA2.number}.pdf`);
    const pdf = pdfText(readFileSync((await download.path())!));
    for (const text of [`Invoice ${ofA2.number}`, 'Jürgen Müller', 'Gartengasse 7', '8020 Graz', LEGAL_NAME, 'Hauptplatz 1', 'ATU12345678', 'FN 123456a',
      'IBAN AT611904300234573201', 'Total net', '€3.12', 'VAT 20 %', '€0.62', '€3.74']) {
      expect(pdf, text).toContain(text);
    }
    // An English page gets an English PDF: no German words or number formats, dates as the reader's locale (en-GB) writes them.
    expect(pdf).not.toMatch(/Rechnung|3,74/);
    expect(pdf).toContain(new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${ofA2.dueDate}T00:00:00Z`)));

    // The direct debits: A2 owes and has a mandate; A is owed (a credit transfer).
    const [debits] = await Promise.all([manager.waitForEvent('download'), manager.getByRole('button', { name: 'Direct debits (pain.008)' }).click()]);
    const xml = readFileSync((await debits.path())!, 'utf8');
    expect(xml).toContain('urn:iso:std:iso:20022:tech:xsd:pain.008');
    expect(xml).toMatch(/<MndtId>SUN-M-0002<\/MndtId>\s*<DtOfSgntr>2026-01-20<\/DtOfSgntr>/);
    expect(xml).toContain(`<EndToEndId>${ofA2.number}</EndToEndId>`);
    expect(xml).toContain('<InstdAmt Ccy="EUR">3.74</InstdAmt>');
    expect(xml).toContain('AT483200000012345864');
    expect(xml).toContain('<Id>DE98ZZZ09999999999</Id>');
    const ofA = invoices.find((i) => i.memberId === w.memberIdA)!;
    const [credits] = await Promise.all([manager.waitForEvent('download'), manager.getByRole('button', { name: 'Credit transfers (pain.001)' }).click()]);
    const transfers = readFileSync((await credits.path())!, 'utf8');
    expect(transfers).toContain(`<EndToEndId>${ofA.number}</EndToEndId>`);
    expect(transfers).toContain('<InstdAmt Ccy="EUR">3.60</InstdAmt>');
    expect(transfers).toContain('DE89370400440532013000');
    expect(transfers).not.toContain(ofA2.number);

    const row = table.locator('tbody tr').filter({ hasText: ofA2.number });
    const status = row.getByRole('form', { name: `Payment of invoice ${ofA2.number}` });
    await status.getByLabel('Payment status').selectOption({ label: 'Paid' });
    await status.getByRole('button', { name: 'Save status' }).click();
    await poll(() => row.locator('.badge').textContent()).toBe('Paid');
    const payments = await get<InvoicePayment[]>(`/api/v1/settlements/${settlementId}/payments`);
    expect(payments.find((p) => p.invoiceId === ofA2.id)).toMatchObject({ status: 'paid', settled: '3.74', sepa: null, history: [{ status: 'paid', source: 'manual' }] });
    expect(payments.find((p) => p.memberId === w.memberIdA)).toMatchObject({ status: 'open', sepa: 'credit-transfer' });
    // Paid, it leaves the direct debits: nothing is left to collect. The page says so; no file, no page of JSON.
    expect((await tp.call('GET', `/api/v1/settlements/${settlementId}/sepa/direct-debits.xml`, { token: w.managerA.token })).status).toBe(409);
    let downloaded = false;
    manager.on('download', () => { downloaded = true; });
    const pageUrl = manager.url();
    await manager.getByRole('button', { name: 'Direct debits (pain.008)' }).click();
    await poll(() => manager.getByRole('alert').filter({ hasText: 'nothing to collect by direct debit' }).count()).toBe(1);
    expect(downloaded).toBe(false);
    expect(manager.url()).toBe(pageUrl);
    await screenshot(manager, 'manager-invoices-and-payments');

    // The member sees the invoice, paid.
    await member.reload();
    const mine = member.getByTestId('member-invoices').locator('tbody tr').filter({ hasText: ofA2.number });
    await poll(() => mine.locator('.badge').textContent()).toBe('Paid');
    expect(errors).toEqual([]);
    expect(memberErrors).toEqual([]);
  });

  it('writes documents in the reader\'s locale, not the community\'s: an English page in a German-speaking community, then the page switched to German', async () => {
    expect((await tp.call('PATCH', `/api/v1/communities/${w.communityA}`, { token: w.managerA.token, body: { locale: 'de-AT' } })).status).toBe(200);
    const [settlement] = await get<{ id: string; periodStart: string }[]>(`/api/v1/communities/${w.communityA}/settlements`);
    await manager.goto(`/manage/${w.communityA}/settlements/${settlement!.id}`);
    // The app sets the page's language once it knows the reader (the static page says en).
    await poll(() => manager.evaluate(() => document.documentElement.lang)).toBe('en-GB');
    const firstDay = (locale: string) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'Europe/Vienna' }).format(new Date(settlement!.periodStart));
    const statementRow = manager.locator('tr').filter({ hasText: 'memberA2' }).filter({ has: manager.getByRole('link', { name: /^PDF/ }) });
    const [statement] = await Promise.all([manager.waitForEvent('download'), statementRow.getByRole('link', { name: /^PDF/ }).click()]);
    const statementText = pdfText(readFileSync((await statement.path())!));
    expect(statementText).toContain(`Period: ${firstDay('en-GB')}`);
    expect(statementText).not.toContain(firstDay('de-AT'));

    await manager.goto('/account');
    await manager.getByLabel('Language of Gridshare').selectOption({ label: 'Deutsch' });
    await poll(() => manager.evaluate(() => document.documentElement.lang)).toBe('de');
    await manager.goto(`/manage/${w.communityA}/settlements/${settlement!.id}`);
    const invoices = await get<InvoiceSummary[]>(`/api/v1/settlements/${settlement!.id}/invoices`);
    const ofA2 = invoices.find((i) => i.memberId === w.memberIdA2)!;
    const [german] = await Promise.all([manager.waitForEvent('download'), manager.getByRole('link', { name: `PDF der Rechnung ${ofA2.number}` }).click()]);
    const text = pdfText(readFileSync((await german.path())!));
    expect(text).toContain(`Rechnung ${ofA2.number}`);
    expect(text).toMatch(/Gesamtbetrag[^\n]*3,74/);
    expect(text).not.toContain('€3.74');
    // The statement too: every word German, not only its dates and amounts.
    const [germanStatement] = await Promise.all([manager.waitForEvent('download'), statementRow.getByRole('link', { name: /^PDF/ }).click()]);
    const statementWords = pdfText(readFileSync((await germanStatement.path())!));
    for (const word of ['Energieabrechnung', `Zeitraum: ${firstDay('de')}`, 'Energie nach Herkunft', 'Summe: ', 'Daten: ']) expect(statementWords, word).toContain(word);
    expect(statementWords).not.toMatch(/Energy statement|Energy by source|Total: /);

    await manager.goto('/account');
    await manager.getByLabel('Sprache von Gridshare').selectOption({ label: 'English' });
    await poll(() => manager.evaluate(() => document.documentElement.lang)).toBe('en-GB');
    expect(errors).toEqual([]);
  });

  it('sets the VAT rate per tariff component on the Billing page, refusing a rate that is no percentage and storing nothing then', async () => {
    const profileUrl = `/api/v1/communities/${w.communityA}/billing-profile`;
    const before = await get<{ vat: Record<string, unknown> }>(profileUrl);
    expect(before.vat.rates).toBeUndefined();
    await manager.goto(`/manage/${w.communityA}/billing`);
    const form = manager.getByRole('form', { name: 'Billing profile' });
    const energy = form.getByLabel('Energy from the community (%)');
    await poll(() => energy.inputValue()).toBe('');
    for (const bad of ['120', '7.555', 'ten', '-5']) {
      await energy.fill(bad);
      await form.getByRole('button', { name: 'Save billing profile' }).click();
      await poll(() => form.getByRole('alert').textContent()).toContain('Energy from the community (%): a VAT rate in percent from 0 to 100');
      expect(await get(profileUrl)).toEqual(before);
    }
    // A decimal comma is read as the decimal point; an empty field keeps the country's standard rate.
    await energy.fill('10');
    await form.getByLabel('Grid-fee reduction (%)').fill('7,5');
    await form.getByRole('button', { name: 'Save billing profile' }).click();
    await poll(() => form.getByRole('status').textContent()).toBe('Saved.');
    expect(await get(profileUrl)).toEqual({ ...before, vat: { ...before.vat, rates: { 'community-energy': '10', 'grid-fee-reduction': '7.5' } } });
    await manager.reload();
    await poll(() => manager.getByRole('form', { name: 'Billing profile' }).getByLabel('Grid-fee reduction (%)').inputValue()).toBe('7.5');
    expect(await manager.getByRole('form', { name: 'Billing profile' }).getByLabel('Energy sold to the community (%)').inputValue()).toBe('');

    // Emptied again: the standard rate applies, no rates are kept.
    const again = manager.getByRole('form', { name: 'Billing profile' });
    await again.getByLabel('Energy from the community (%)').fill('');
    await again.getByLabel('Grid-fee reduction (%)').fill('');
    await again.getByRole('button', { name: 'Save billing profile' }).click();
    await poll(() => again.getByRole('status').textContent()).toBe('Saved.');
    expect(await get(profileUrl)).toEqual(before);
    expect(await rawKeysShown(manager)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
