/**
 * Privacy in a real Chromium (PGlite only: the API test runs both stores): a member sees the
 * manager's read of their data, grants and revokes a consent, has the export made and downloads
 * it, and asks for the erasure of their account; the manager sets the retention and sees the
 * request, sets a masking rule set and previews the regulator export it masks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { CONSENT_PURPOSES, CONSENT_QUANTITIES, DATA_CATEGORIES, PROCESSING_PURPOSES, RECIPIENT_KINDS, RESOLUTIONS } from '../../server/src/privacy/index.js';
import { ConsentPurpose, ConsentQuantity, ConsentResolution, RecipientKind } from '@gridshare/contract/privacy';
import { CATEGORY_NAMES, PURPOSE_DESCRIPTIONS, PURPOSE_TITLES, RESOLUTION_NAMES } from '../src/lib/privacy.js';
import { collectPageErrors, launchBrowser, logIn, openContext, rawKeysShown, screenshot, typed } from './browser.js';

describe('privacy vocabularies shared with the server', () => {
  it('takes every code the server takes, and names every purpose, category and resolution', () => {
    expect(ConsentQuantity.enum).toEqual([...CONSENT_QUANTITIES]);
    expect(ConsentResolution.enum).toEqual([...RESOLUTIONS]);
    expect(RecipientKind.enum).toEqual([...RECIPIENT_KINDS]);
    expect(ConsentPurpose.enum).toEqual([...CONSENT_PURPOSES]);
    expect(Object.keys(PURPOSE_TITLES)).toEqual([...PROCESSING_PURPOSES]);
    expect(Object.keys(PURPOSE_DESCRIPTIONS)).toEqual([...PROCESSING_PURPOSES]);
    expect(Object.keys(CATEGORY_NAMES)).toEqual([...DATA_CATEGORIES]);
    expect(Object.keys(RESOLUTION_NAMES)).toEqual([...RESOLUTIONS]);
  });
});

describe('web app: privacy', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    w = await buildWorld(tp);
    // The manager reads memberA's quarter hours once: the member's log shows it.
    const read = await tp.call('GET', `/api/v1/metering-points/${w.meteringPointA}/intervals?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`, { token: w.managerA.token });
    expect(read.status).toBe(200);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  // Before the test that erases memberA: memberA offers, memberA2 accepts.
  it('lets a member offer data, another member accept it as a consent, and the offer be withdrawn', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.memberA.email, w.memberA.password);
    await page.getByRole('link', { name: 'My privacy' }).click();
    const offers = page.getByRole('region', { name: 'Data offers' });
    await offers.getByLabel('What you offer').fill('Daily use of our flat');
    await offers.getByLabel('Data from').fill('01/01/2026');
    await offers.getByLabel('Open until').fill(typed(new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10)));
    await offers.getByRole('button', { name: 'Publish' }).click();
    const mine = offers.getByRole('list', { name: 'My offers' });
    await expect.poll(() => mine.textContent()).toContain('Daily use of our flat');
    expect(await mine.textContent()).toMatch(/Open.*daily values; free; consent for 365 days/);
    expect(await mine.textContent()).toContain('nobody accepted yet');

    const other = await openContext(browser, tp.platform.httpUrl);
    const neighbour = await other.newPage();
    errors.push(...collectPageErrors(neighbour));
    await logIn(neighbour, w.memberA2.email, w.memberA2.password);
    await neighbour.getByRole('link', { name: 'My privacy' }).click();
    const available = neighbour.getByRole('region', { name: 'Data offers' }).getByRole('list', { name: 'Offers of other members' });
    await available.getByLabel('What the data is for').fill('Compare our days.');
    await available.getByRole('button', { name: 'Accept Daily use of our flat' }).click();
    await expect.poll(() => available.textContent()).toContain('You hold a consent from this offer');
    // The grant is among the consents the neighbour received (the page read them before it existed).
    await neighbour.reload();
    const received = neighbour.getByRole('region', { name: 'My consents' });
    await expect.poll(() => received.textContent()).toContain('Compare our days.');
    expect(await rawKeysShown(neighbour)).toEqual([]);
    await other.close();

    await page.reload();
    const reloaded = page.getByRole('region', { name: 'Data offers' }).getByRole('list', { name: 'My offers' });
    await expect.poll(() => reloaded.textContent()).toContain('accepted once');
    await reloaded.getByRole('button', { name: 'Withdraw Daily use of our flat' }).click();
    await expect.poll(() => reloaded.textContent()).toContain('Withdrawn');
    expect(await rawKeysShown(page)).toEqual([]);
    await screenshot(page, 'privacy-offers');
    await context.close();
    expect(errors).toEqual([]);
  });

  it('lets a member see who read their data, grant and revoke a consent, and ask for erasure; the manager sees the request', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.memberA.email, w.memberA.password);
    await page.getByRole('link', { name: 'My privacy' }).click();
    await page.getByRole('heading', { name: 'Privacy' }).waitFor();

    const log = page.getByRole('region', { name: 'Who read my data' });
    await expect.poll(() => log.locator('tbody tr').count()).toBe(1);
    expect(await log.locator('tbody tr').first().textContent()).toContain(w.managerA.email);
    await expect.poll(() => page.getByRole('region', { name: 'How your data is used' }).textContent()).toContain('Billing');

    const consents = page.getByRole('region', { name: 'My consents' });
    await consents.getByLabel('Recipient id').fill(w.memberIdA2);
    await consents.getByLabel('Recipient name').fill('My neighbour');
    await consents.getByLabel('Data from').fill('01/01/2026');
    await consents.getByLabel('Valid until').fill(typed(new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10)));
    await consents.getByLabel('What the data is for').fill('Compare our mornings.');
    await consents.getByRole('button', { name: 'Grant' }).click();
    const given = consents.getByRole('list', { name: 'Consents you gave' });
    await expect.poll(() => given.textContent()).toContain('My neighbour');
    // Daily values by default, in the member's words.
    expect(await given.textContent()).toMatch(/Active.*Energy drawn · daily values/);
    await given.getByRole('button', { name: 'Revoke My neighbour' }).click();
    await expect.poll(() => given.textContent()).toContain('Revoked');

    // The export is made by the server's job; the page follows it and offers the file once done.
    await page.getByRole('button', { name: 'Prepare my data export' }).click();
    const download = page.getByRole('link', { name: 'Download my data (ZIP)' });
    await download.waitFor({ timeout: 30_000 });
    const href = (await download.getAttribute('href'))!;
    expect(href).toMatch(/^\/api\/v1\/export-jobs\/[0-9a-f-]{36}\/file$/);
    const zip = await context.request.get(href);
    expect(zip.status()).toBe(200);
    expect(zip.headers()['content-type']).toBe('application/zip');
    expect((await zip.body()).subarray(0, 2).toString()).toBe('PK');
    await page.getByRole('button', { name: 'Delete my account…' }).click();
    await page.getByRole('button', { name: 'Yes, erase my account' }).click();
    await page.getByRole('status').filter({ hasText: 'Erasure requested' }).waitFor();
    expect(await rawKeysShown(page)).toEqual([]);
    await screenshot(page, 'privacy-member');
    await context.close();

    const manager = await openContext(browser, tp.platform.httpUrl);
    const managerPage = await manager.newPage();
    errors.push(...collectPageErrors(managerPage));
    await logIn(managerPage, w.managerA.email, w.managerA.password);
    await managerPage.goto(`/manage/${w.communityA}/privacy`);
    const retention = managerPage.getByRole('region', { name: 'Retention' });
    await retention.getByLabel('Access log (days)').fill('800');
    await retention.getByRole('button', { name: 'Save retention' }).click();
    await retention.getByRole('status').filter({ hasText: 'Retention saved.' }).waitFor();
    await retention.getByLabel('Billing records (years)').fill('1');
    await retention.getByRole('button', { name: 'Save retention' }).click();
    await expect.poll(() => retention.textContent()).toMatch(/legal minimum/);
    const erasures = managerPage.getByRole('region', { name: 'Erasure requests' });
    await expect.poll(() => erasures.locator('li').count()).toBe(1);
    // memberA's export is in the managers' overview (until the erasure removes it), never with a link to its file.
    const exportJobs = managerPage.getByRole('region', { name: 'Export jobs' });
    await exportJobs.getByRole('heading', { name: 'Export jobs' }).waitFor();
    expect(await exportJobs.getByRole('link').count()).toBe(0);
    expect(await rawKeysShown(managerPage)).toEqual([]);
    await screenshot(managerPage, 'privacy-manager');
    await manager.close();
    expect(errors).toEqual([]);
  });

  it('lets a manager set a masking rule set and preview the regulator export it masks', async () => {
    // memberA2's home (memberA asked for erasure above): 8 quarter hours of import (1, 2, … 8 Wh) on 1 January, at an address.
    for (let i = 0; i < 8; i++) {
      await tp.platform.db.query(
        `INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, pv_wh, quality) VALUES ($1, $2, $3, $4, 0, 0, 'measured')`,
        [w.meteringPointA2, new Date(Date.UTC(2026, 0, 1) + i * 900_000), w.communityA, i + 1],
      );
    }
    const patched = await tp.call('PATCH', `/api/v1/metering-points/${w.meteringPointA2}`, { token: w.memberA2.token, body: { address: 'Hauptstraße 12, 1010 Wien' } });
    expect(patched.status).toBe(200);
    const point = patched.body;
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.managerA.email, w.managerA.password);
    await page.goto(`/manage/${w.communityA}/privacy`);
    const masking = page.getByRole('region', { name: 'Masking rules for exports' });
    await masking.getByText('No rules of your own yet').waitFor();
    // The editor shows the rules that apply: the cautious default's.
    expect(await masking.getByLabel('metering_point', { exact: true }).inputValue()).toBe('hash');
    expect(await masking.getByLabel('member_name', { exact: true }).inputValue()).toBe('drop');
    // Only the rules that fit a field are offered: an address may be cut to its postcode, a name may not.
    expect(await masking.getByLabel('address', { exact: true }).locator('option').allTextContents()).toContain('postcode only');
    expect(await masking.getByLabel('member_name', { exact: true }).locator('option').allTextContents()).not.toContain('postcode only');
    await masking.getByLabel('address', { exact: true }).selectOption('drop');
    await masking.getByLabel('member_name', { exact: true }).selectOption('drop');
    await masking.getByLabel('metering_point', { exact: true }).selectOption('hash');
    await masking.getByLabel('interval_start', { exact: true }).selectOption('hourly');
    await masking.getByLabel('Name of the rule set').fill('Regulator 2026');
    await masking.getByRole('button', { name: 'Save rules' }).click();
    await masking.getByRole('status').filter({ hasText: 'Rules saved.' }).waitFor();
    // The editor keeps showing what was saved.
    expect(await masking.getByLabel('address', { exact: true }).inputValue()).toBe('drop');
    expect(await masking.getByLabel('interval_start', { exact: true }).inputValue()).toBe('hourly');
    await expect.poll(async () => (await tp.call('GET', `/api/v1/communities/${w.communityA}/masking-rules`, { token: w.managerA.token })).body.sets[0].ruleSet)
      // The e-mail's drop came from the default the editor showed; the manager changed the rest.
      .toEqual({ name: 'Regulator 2026', otherFields: 'keep', fields: { address: 'drop', member_name: 'drop', member_email: 'drop', metering_point: 'hash', interval_start: 'hourly' } });

    await masking.getByLabel('From', { exact: true }).fill('01/01/2026');
    await masking.getByLabel('Until', { exact: true }).fill('02/01/2026');
    await masking.getByRole('button', { name: 'Preview' }).click();
    const preview = masking.getByRole('region', { name: 'Preview of the masked export' });
    await preview.waitFor();
    const header = await preview.locator('thead th').allTextContents();
    expect(header).toEqual(expect.arrayContaining(['metering_point', 'interval_start', 'consumption_wh', 'quality']));
    expect(header).not.toContain('address');
    expect(header).not.toContain('member_name');
    const rows = await preview.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const column = (name: string) => header.indexOf(name);
    // memberA2's quarter hours summed into two hours, under a hash of the metering point's number, never the number itself.
    const mine = rows.filter((r) => r[column('consumption_wh')] === '10' || r[column('consumption_wh')] === '26');
    expect(mine.map((r) => r[column('consumption_wh')])).toEqual(['10', '26']);
    expect(mine.every((r) => /^[0-9a-f]{32}$/.test(r[column('metering_point')]!))).toBe(true);
    const shown = (await preview.textContent())!;
    expect(shown).not.toContain(point.gridConnectionId);
    expect(shown).not.toContain(point.address);
    // The preview is the export: the member's log has the manager's read.
    const log = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/access-log`, { token: w.memberA2.token })).body;
    expect(log[0]).toMatchObject({ accessorKind: 'manager', accessor: w.managerA.email, resolution: '1h' });
    expect(await rawKeysShown(page)).toEqual([]);
    await screenshot(page, 'privacy-masking-preview');
    await context.close();
    expect(errors).toEqual([]);
  });
});
