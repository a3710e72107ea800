/**
 * Privacy in a real Chromium (PGlite only: the API test runs both stores): a member sees the
 * manager's read of their data, grants and revokes a consent, finds the export and asks for the
 * erasure of their account; the manager sets the retention and sees the request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { CONSENT_PURPOSES, CONSENT_QUANTITIES, DATA_CATEGORIES, PROCESSING_PURPOSES, RECIPIENT_KINDS, RESOLUTIONS } from '../../server/src/privacy/index.js';
import { ConsentPurpose, ConsentQuantity, ConsentResolution, RecipientKind } from '@gridshare/contract/privacy';
import { CATEGORY_NAMES, PURPOSE_DESCRIPTIONS, PURPOSE_TITLES, RESOLUTION_NAMES } from '../src/lib/privacy.js';
import { collectPageErrors, launchBrowser, logIn, openContext, rawKeysShown, screenshot } from './browser.js';

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
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
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
    await consents.getByLabel('Data from').fill('2026-01-01');
    await consents.getByLabel('Valid until').fill(new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10));
    await consents.getByLabel('What the data is for').fill('Compare our mornings.');
    await consents.getByRole('button', { name: 'Grant' }).click();
    const given = consents.getByRole('list', { name: 'Consents you gave' });
    await expect.poll(() => given.textContent()).toContain('My neighbour');
    // Daily values by default, in the member's words.
    expect(await given.textContent()).toMatch(/Active.*Energy drawn · daily values/);
    await given.getByRole('button', { name: 'Revoke My neighbour' }).click();
    await expect.poll(() => given.textContent()).toContain('Revoked');

    expect(await page.getByRole('link', { name: 'Download my data (ZIP)' }).getAttribute('href')).toBe(`/api/v1/members/${w.memberIdA}/export.zip`);
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
    expect(await rawKeysShown(managerPage)).toEqual([]);
    await screenshot(managerPage, 'privacy-manager');
    await manager.close();
    expect(errors).toEqual([]);
  });
});
