/**
 * Forecasts in a real Chromium (PGlite only: the API test runs both stores): a member reads the
 * best-hours sentence on the dashboard, the manager the accuracy table on the Forecast page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { DAY, HOUR, issueTime, siteHistory } from '../../server/test/forecast/support/history.js';
import { collectPageErrors, launchBrowser, logIn, openContext, screenshot } from './browser.js';

describe('web app: forecasts', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;
  // The forecast job's clock: a forecast issued at least 14 hours ago, scored once its outcomes came in.
  const issued = issueTime();
  let nowMs = issued;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite', { forecast: { now: () => nowMs, delayMs: 600_000 } }), launchBrowser()]);
    w = await buildWorld(tp);
    const sendBetween = await siteHistory(tp, w);
    await sendBetween(issued - 2 * DAY, issued);
    await tp.platform.forecast.flush();
    await sendBetween(issued, issued + 13 * HOUR);
    nowMs = issued + 13 * HOUR;
    await tp.platform.forecast.flush();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  it('shows a member the best hours and the forecast chart, and the manager the accuracy table', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.memberA2.email, w.memberA2.password);
    await page.goto(`/members/${w.memberIdA2}`);
    const sentence = page.getByTestId('best-hours');
    await expect.poll(() => sentence.textContent()).toMatch(/^Best hours: run the washing machine, the dishwasher or the car charger between \d\d:\d\d and \d\d:\d\d (today|tomorrow): the community expects [\d.,]+ k?Wh of surplus then\.$/);
    const section = page.getByRole('region', { name: 'Tomorrow and the rest of today' });
    await expect.poll(() => section.locator('[data-chart-state]').getAttribute('data-chart-state')).toBe('drawn');
    await screenshot(page, 'forecast-member');
    await context.close();

    const manager = await openContext(browser, tp.platform.httpUrl);
    const managerPage = await manager.newPage();
    errors.push(...collectPageErrors(managerPage));
    await logIn(managerPage, w.managerA.email, w.managerA.password);
    await managerPage.goto(`/manage/${w.communityA}/forecast`);
    const table = managerPage.getByTestId('forecast-accuracy');
    await expect.poll(() => table.locator('tbody tr').count()).toBeGreaterThan(3);
    const first = await table.locator('tbody tr').first().locator('td').allTextContents();
    expect(first.slice(0, 3)).toEqual(['Whole community', 'Consumption', 'Intraday']);
    expect(first[9]).toBe('48');
    await screenshot(managerPage, 'forecast-manager');
    await manager.close();
    expect(errors).toEqual([]);
  });
});
