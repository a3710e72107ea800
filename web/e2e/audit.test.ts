/**
 * The managers' audit trail in a real Chromium (PGlite only: the API tests run both stores): a
 * manager invites someone in the members page and finds the invitation on the trail, filters by
 * kind, pages back through older entries and downloads the CSV; a member has no link and no page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestPlatform, unique, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { collectPageErrors, launchBrowser, logIn, openContext, rawKeysShown, screenshot, typed } from './browser.js';

describe('web app: the audit trail', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    w = await buildWorld(tp);
    // More tariff changes than one page holds (50), so there is an older page to go to.
    const tariff = await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'Paged tariff', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', validFrom: '2027-01-01' },
    });
    for (let cents = 1; cents <= 55; cents += 1) {
      await tp.call('PATCH', `/api/v1/tariffs/${tariff.body.id}`, { token: w.managerA.token, body: { feedInPrice: `0.${String(cents).padStart(2, '0')}` } });
    }
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  it('shows a manager the change they just made, filtered by kind and paged, with a CSV download', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.managerA.email, w.managerA.password);

    const email = `${unique('audited')}@example.org`;
    await page.goto(`/manage/${w.communityA}/members`);
    await page.getByText('Invite someone').click();
    await page.locator('#invite-email').fill(email);
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    await expect.poll(() => page.getByText(email).count()).toBeGreaterThan(0);

    await page.getByRole('link', { name: 'Audit trail' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Who changed what' }).count()).toBe(1);
    const entries = page.getByTestId('audit-entries');
    // The invitation is the newest entry, by this manager, with the address masked.
    const newest = entries.locator('tbody tr').first();
    await expect.poll(() => newest.textContent()).toContain('Invitation');
    expect(await newest.textContent()).toContain('send');
    expect(await newest.textContent()).toContain('as manager');
    expect(await newest.textContent()).toContain('"[personal]"');
    expect(await entries.textContent()).not.toContain(email);
    await screenshot(page, 'audit-manager');

    // Filtered by kind: only tariff entries, 50 on the first page, older ones a click away.
    await page.getByLabel('Kind of change').selectOption('tariff');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(async () => [...new Set(await entries.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind'))))]).toEqual(['tariff']);
    expect(await entries.locator('tbody tr').count()).toBe(50);
    const firstOfNewest = await entries.locator('tbody tr').first().textContent();
    await page.getByRole('button', { name: 'Older entries' }).click();
    await expect.poll(() => entries.locator('tbody tr').first().textContent()).not.toBe(firstOfNewest);
    const tariffEntries = await tp.call('GET', `/api/v1/communities/${w.communityA}/audit?kind=tariff&limit=500`, { token: w.managerA.token });
    expect(await entries.locator('tbody tr').count()).toBe(tariffEntries.body.entries.length - 50);
    expect(await entries.textContent()).toContain('create');
    await page.getByRole('button', { name: 'Newer entries' }).click();
    await expect.poll(() => entries.locator('tbody tr').first().textContent()).toBe(firstOfNewest);

    // The CSV link carries the filter.
    const csv = page.getByRole('link', { name: /Download as CSV/ });
    expect(await csv.getAttribute('href')).toBe(`/api/v1/communities/${w.communityA}/audit.csv?kind=tariff`);
    const download = await context.request.get(`/api/v1/communities/${w.communityA}/audit.csv?kind=tariff`);
    expect(download.status()).toBe(200);
    expect((await download.text()).split('\n')[0]).toMatch(/^id,at,community_id,kind/);

    // A period with nothing in it.
    await page.getByLabel('Kind of change').selectOption('');
    await page.getByLabel('From (day)').fill('01/01/2001');
    await page.getByLabel('To (day, included)').fill('31/01/2001');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.getByText('No changes recorded for these filters.').count()).toBe(1);
    // Today, in the community's time zone, as its times are shown: the invitation is there.
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Vienna' }).format(new Date());
    await page.getByLabel('From (day)').fill(typed(today));
    await page.getByLabel('To (day, included)').fill(typed(today));
    await page.getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => entries.locator('tbody tr').first().textContent()).toContain('Invitation');

    expect(await rawKeysShown(page)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('gives a member no link and no page', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    await logIn(page, w.memberA.email, w.memberA.password);
    await page.goto(`/members/${w.memberIdA}`);
    await expect.poll(() => page.getByRole('link', { name: 'My energy' }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'Audit trail' }).count()).toBe(0);
    await page.goto(`/manage/${w.communityA}/audit`);
    await expect.poll(() => page.getByRole('heading', { name: 'Not found' }).count()).toBe(1);
    expect(await page.getByTestId('audit-entries').count()).toBe(0);
    expect((await context.request.get(`/api/v1/communities/${w.communityA}/audit`)).status()).toBe(403);
    await context.close();
  });
});
