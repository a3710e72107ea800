/**
 * Accounts in a real Chromium (PGlite only: the API tests run both stores): a person signs up,
 * is told to confirm their address, asks for a new link and opens it on the /verify-email page (used
 * once); a language chosen on the account page is kept with the account and applied at the next
 * log-in in a browser that never saw it; a manager sets the device-offline threshold, a value out
 * of range refused before it is sent; date fields show and take days in the person's locale.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { signUp, startTestPlatform, unique, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, communityBody } from '../../server/test/support/world.js';
import { mailTo, smtpServer, type SmtpSink } from '../../server/test/support/smtp.js';
import { collectPageErrors, launchBrowser, logIn, openContext, rawKeysShown, screenshot } from './browser.js';

const VERIFY_LINK = /\/verify-email#token=([A-Za-z0-9_-]{43})/;

describe('web app: accounts', () => {
  let tp: TestPlatform;
  let smtp: SmtpSink;
  let browser: Browser;

  beforeAll(async () => {
    smtp = await smtpServer();
    [tp, browser] = await Promise.all([
      startTestPlatform('pglite', { smtp: { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, from: 'Gridshare <noreply@example.org>', timeoutMs: 5_000 } }),
      launchBrowser(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
    await smtp?.close();
  });

  it('tells a new account to confirm its address, sends a new link, and confirms it once on the verify page', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const email = `${unique('newcomer')}@example.org`;
    await page.goto('/signup');
    await page.getByLabel('Your name').fill('Nora Newcomer');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a long enough passphrase');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL((url) => url.pathname === '/communities');

    const notice = page.getByTestId('email-unverified');
    await expect.poll(() => notice.textContent()).toContain(`open the link we sent to ${email}`);
    const first = VERIFY_LINK.exec((await mailTo(smtp, email)).text ?? '')![1]!;
    await notice.getByRole('button', { name: 'Send a new link' }).click();
    await expect.poll(() => notice.textContent()).toContain('A new link is on its way.');
    const second = VERIFY_LINK.exec((await mailTo(smtp, email)).text ?? '')![1]!;
    expect(second).not.toBe(first);
    await screenshot(page, 'accounts-unverified-notice');

    await page.goto(`/verify-email#token=${second}`);
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Your email address is confirmed.' }).count()).toBe(1);
    // The token leaves the address bar once read.
    expect(new URL(page.url()).hash).toBe('');
    await screenshot(page, 'accounts-verify-email');
    await page.getByRole('link', { name: 'Continue to Gridshare' }).click();
    await page.waitForURL((url) => url.pathname === '/communities');
    expect(await page.getByTestId('email-unverified').count()).toBe(0);
    const me = await page.evaluate(async () => (await (await fetch('/api/v1/me')).json()) as { user: { emailVerifiedAt: string | null } });
    expect(me.user.emailVerifiedAt).not.toBeNull();

    // Used once: the same link again, and the older one, are refused with a way on.
    for (const token of [second, first]) {
      await page.goto(`/verify-email#token=${token}`);
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('This link does not work');
      expect(await page.getByRole('link', { name: 'Ask for a new link on your account page.' }).count()).toBe(1);
    }
    await page.goto('/verify-email');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('This link does not work');
    expect(await rawKeysShown(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('keeps the language chosen on the account page with the account, in every browser it logs in from', async () => {
    const user = await signUp(tp, 'linguist');
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, user.email, user.password);
    await page.goto('/account');
    const select = page.getByLabel('Language of Gridshare');
    expect(await select.inputValue()).toBe('automatic');
    await select.selectOption('de');
    await expect.poll(() => page.getByRole('heading', { name: 'Sprache', exact: true }).count()).toBe(1);
    expect(await page.evaluate(() => document.documentElement.lang)).toMatch(/^de/);
    expect((await tp.call('GET', '/api/v1/me', { token: user.token })).body.user.locale).toBe('de');
    await context.close();

    // Another browser (English, nothing stored): the log-in page is English, the app German once the account is known.
    const elsewhere = await openContext(browser, tp.platform.httpUrl);
    const second = await elsewhere.newPage();
    const secondErrors = collectPageErrors(second);
    await logIn(second, user.email, user.password);
    await second.goto('/account');
    await expect.poll(() => second.evaluate(() => document.documentElement.lang)).toMatch(/^de/);
    await expect.poll(() => second.getByRole('heading', { name: 'Sprache', exact: true }).count()).toBe(1);
    expect(await second.getByLabel('Sprache von Gridshare').inputValue()).toBe('de');
    await screenshot(second, 'accounts-language-kept');
    // Back to the browser's language: English again, and the account follows the browser.
    await second.getByLabel('Sprache von Gridshare').selectOption('automatic');
    await expect.poll(() => second.evaluate(() => document.documentElement.lang)).toBe('en-GB');
    await expect.poll(() => second.getByRole('heading', { name: 'Language', exact: true }).count()).toBe(1);
    expect((await tp.call('GET', '/api/v1/me', { token: user.token })).body.user.locale).toBeNull();
    expect(await rawKeysShown(second)).toEqual([]);
    expect([...errors, ...secondErrors]).toEqual([]);
    await elsewhere.close();
  });

  it('lets a manager set the device-offline threshold, refusing a value out of range', async () => {
    const manager = await signUp(tp, 'alerter');
    const community = await tp.call('POST', '/api/v1/communities', { token: manager.token, body: communityBody(unique('Alert Street ')) });
    expect(community.status).toBe(201);
    const threshold = async () => (await tp.call('GET', `/api/v1/communities/${community.body.id}`, { token: manager.token })).body.deviceOfflineMinutes as number | null;
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, manager.email, manager.password);
    await page.goto(`/manage/${community.body.id}/devices`);
    const field = page.getByLabel('Tell a device\'s member after it has sent nothing for (minutes)');
    await expect.poll(() => field.count()).toBe(1);
    expect(await field.inputValue()).toBe('');
    expect(await page.getByText('From 1 to 43,200 minutes; empty: no one is told.').count()).toBe(1);
    const section = page.getByRole('region', { name: 'Device alerts' });

    for (const bad of ['0', '43201', '2.5']) {
      await field.fill(bad);
      await section.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => section.getByRole('alert').textContent()).toContain('Enter a whole number of minutes from 1 to 43,200, or leave the field empty.');
    }
    expect(await threshold()).toBeNull();

    await field.fill('90');
    await section.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => section.getByRole('status').textContent()).toContain('Saved.');
    expect(await threshold()).toBe(90);
    await page.reload();
    await expect.poll(() => page.getByLabel('Tell a device\'s member after it has sent nothing for (minutes)').inputValue()).toBe('90');
    await screenshot(page, 'accounts-device-alerts');
    await page.getByLabel('Tell a device\'s member after it has sent nothing for (minutes)').fill('');
    await page.getByRole('region', { name: 'Device alerts' }).getByRole('button', { name: 'Save' }).click();
    await expect.poll(threshold).toBeNull();
    expect(await rawKeysShown(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
  it('shows and takes days in the person\'s locale, German TT.MM.JJJJ or British DD/MM/YYYY, and sends nothing for a day not in the calendar', async () => {
    const w = await buildWorld(tp);
    const mandate = { mandateId: 'LOCALE-1', signedOn: '2026-12-01', iban: 'AT483200000012345864', accountHolder: 'Jürgen Müller' };
    expect((await tp.call('PUT', `/api/v1/members/${w.memberIdA2}/sepa-mandate`, { token: w.managerA.token, body: mandate })).status).toBe(200);
    expect((await tp.call('PATCH', '/api/v1/me', { token: w.managerA.token, body: { locale: 'de' } })).status).toBe(200);
    const tariffs = async () => (await tp.call('GET', `/api/v1/communities/${w.communityA}/tariffs`, { token: w.managerA.token })).body as { name: string; validFrom: string }[];
    const before = await tariffs();
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const posted: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith(`/communities/${w.communityA}/tariffs`)) posted.push(request.postData() ?? '');
    });
    await logIn(page, w.managerA.email, w.managerA.password);

    // German: 2026-12-01 shows as 01.12.2026, with the pattern as placeholder.
    await page.goto(`/manage/${w.communityA}/billing`);
    const signed = page.locator(`#mandate-${w.memberIdA2}-signed`);
    await expect.poll(() => signed.inputValue()).toBe('01.12.2026');
    expect(await signed.getAttribute('placeholder')).toBe('TT.MM.JJJJ');

    await page.goto(`/manage/${w.communityA}/tariffs`);
    const form = page.locator('form:has(#tariff-from)');
    await page.locator('details:has(#tariff-from) > summary').click();
    await form.locator('#tariff-name').fill('Dezember');
    await form.locator('#tariff-gridPrice').fill('0.30');
    await form.locator('#tariff-communityPrice').fill('0.15');
    await form.locator('#tariff-feedInPrice').fill('0.06');
    const from = form.locator('#tariff-from');
    expect(await from.getAttribute('placeholder')).toBe('TT.MM.JJJJ');
    // Not in the calendar, not in the pattern: said in German under the field, nothing sent.
    for (const [text, message] of [
      ['31.02.2026', 'Den Tag 31.02.2026 gibt es im Kalender nicht.'],
      ['2026-12-15', 'Bitte das Datum als TT.MM.JJJJ eingeben, z. B. 31.12.2026.'],
      ['abc', 'Bitte das Datum als TT.MM.JJJJ eingeben, z. B. 31.12.2026.'],
    ] as const) {
      await from.fill(text);
      await form.locator('button[type=submit]').click();
      await expect.poll(() => form.locator('#tariff-from-error').textContent()).toBe(message);
      expect(await from.getAttribute('aria-invalid')).toBe('true');
    }
    await screenshot(page, 'date-input-refused-de');
    expect(posted).toEqual([]);
    expect(await tariffs()).toEqual(before);
    // A German day is taken and sent as ISO.
    await from.fill('15.12.2026');
    expect(await form.locator('#tariff-from-error').count()).toBe(0);
    await form.locator('button[type=submit]').click();
    await expect.poll(() => posted.length).toBe(1);
    expect(JSON.parse(posted[0]!)).toMatchObject({ name: 'Dezember', validFrom: '2026-12-15' });
    await expect.poll(async () => (await tariffs()).filter((t) => t.name === 'Dezember').map((t) => t.validFrom)).toEqual(['2026-12-15']);

    // English (the browser's en-GB): the same day as 01/12/2026.
    expect((await tp.call('PATCH', '/api/v1/me', { token: w.managerA.token, body: { locale: null } })).status).toBe(200);
    await page.evaluate(() => localStorage.clear());
    await page.goto(`/manage/${w.communityA}/billing`);
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('en-GB');
    await expect.poll(() => signed.inputValue()).toBe('01/12/2026');
    expect(await signed.getAttribute('placeholder')).toBe('DD/MM/YYYY');
    expect(await rawKeysShown(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
