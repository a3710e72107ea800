/**
 * Notifications in a real Chromium (PGlite only: the API tests run both stores): a member whose
 * request to join was approved sees the bell's unread count, reads the notification and marks it
 * read; on the account page they switch an email off (kept after a reload, the same in the API),
 * and cannot switch off a message about their membership.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { OUTBOX_JOB } from '../../server/src/platform/events/index.js';
import { collectPageErrors, launchBrowser, logIn, openContext, rawKeysShown, screenshot } from './browser.js';

describe('web app: notifications', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    w = await buildWorld(tp);
    // The world's members were approved: the outbox hands those events to notifications.
    await tp.platform.jobs.flush(OUTBOX_JOB);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  it('shows the bell\'s unread count and list, marks read, and keeps the choices of the account page', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.memberA.email, w.memberA.password);

    const bell = page.getByRole('button', { name: 'Notifications: 1 unread' });
    await expect.poll(() => bell.count()).toBe(1);
    await bell.click();
    const list = page.getByRole('region', { name: 'Your notifications' });
    await expect.poll(() => list.textContent()).toContain('was approved.');
    await screenshot(page, 'notifications-bell');
    await list.getByRole('button', { name: 'Mark read' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Notifications: none unread' }).count()).toBe(1);
    expect((await tp.call('GET', '/api/v1/me/notifications', { token: w.memberA.token })).body.unread).toBe(0);

    await page.goto('/account');
    const statementEmail = page.getByRole('checkbox', { name: 'Email: Statement ready' });
    await expect.poll(() => statementEmail.isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: 'Email: Request to join approved' }).isDisabled()).toBe(true);
    await statementEmail.uncheck();
    await expect.poll(() => page.getByText('Your choice is saved.').count()).toBe(1);
    await page.reload();
    await expect.poll(() => page.getByRole('checkbox', { name: 'Email: Statement ready' }).isChecked()).toBe(false);
    expect(await page.getByRole('checkbox', { name: 'In the app: Statement ready' }).isChecked()).toBe(true);
    const preferences = (await tp.call('GET', '/api/v1/me/notification-preferences', { token: w.memberA.token })).body as { event: string; email: boolean }[];
    expect(preferences.find((p) => p.event === 'statement-ready')?.email).toBe(false);
    await screenshot(page, 'notifications-preferences');
    expect(await rawKeysShown(page)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
