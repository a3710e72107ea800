/**
 * The closing guard in a real Chromium (issue 21): closing a month with missing quarter hours
 * names them per metering point and closes only when the manager confirms; the running month is
 * never offered for closing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Dialog, Page } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { Q, storeIntervals } from '../../server/test/sharing/support/stored.js';
import { monthRange } from '../../server/src/kernel/calendar.js';
import type { Settlement, SettlementGaps } from '@gridshare/contract/billing';
import { previousPeriod } from '../src/lib/time.js';
import { BROWSER_LOCALE, collectPageErrors, launchBrowser, logIn, openContext, screenshot, typed } from './browser.js';

describe('web app: closing a month', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  const period = previousPeriod(new Date(), 'Europe/Vienna');

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    w = await buildWorld(tp);
    // Last month, only its first day for A2: the rest of the month is missing.
    const { startMs } = monthRange(period, 'Europe/Vienna')!;
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2,
      Object.fromEntries(Array.from({ length: 96 }, (_, t) => [startMs + t * Q, { importWh: 250, exportWh: 0 }])));
    await tp.platform.sharing.flush();
    page = await (await openContext(browser, tp.platform.httpUrl)).newPage();
    errors = collectPageErrors(page);
    await logIn(page, w.managerA.email, w.managerA.password);
  });
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  const settlement = async (id: string) => (await tp.call('GET', `/api/v1/settlements/${id}`, { token: w.managerA.token })).body as Settlement;

  /** Runs the month on the settlements page; the settlement's id. */
  async function run(month: string): Promise<string> {
    await page.goto(`/manage/${w.communityA}/settlements`);
    await page.getByLabel('Month to settle').fill(typed(month));
    await page.getByRole('button', { name: 'Run settlement' }).click();
    await page.waitForURL(new RegExp(`/manage/${w.communityA}/settlements/[0-9a-f-]{36}$`));
    return page.url().split('/').at(-1)!;
  }

  /** Clicks Close settlement and answers the confirmation; what it asked. */
  async function closeAnswering(accept: boolean): Promise<string> {
    // Answered in the handler: the click itself waits until the confirmation is gone.
    const asked = new Promise<string>((resolve) => page.once('dialog', (dialog: Dialog) => {
      resolve(dialog.message());
      void (accept ? dialog.accept() : dialog.dismiss());
    }));
    await page.getByRole('button', { name: 'Close settlement' }).click();
    return asked;
  }

  it('names the missing quarter hours per metering point and closes only when the manager confirms', async () => {
    const id = await run(period);
    const gaps = (await tp.call('GET', `/api/v1/settlements/${id}/gaps`, { token: w.managerA.token })).body as SettlementGaps;
    const a2 = gaps.points.find((p) => p.meteringPointId === w.meteringPointA2)!;
    expect(a2.missingQuarterHours).toBe(a2.expectedQuarterHours - 96);
    const count = new Intl.NumberFormat(BROWSER_LOCALE).format(gaps.missingQuarterHours);

    const declined = await closeAnswering(false);
    expect(declined).toContain(`This month misses ${count} quarter hours`);
    expect(declined).toContain(`Home A2 (${a2.memberName}): ${new Intl.NumberFormat(BROWSER_LOCALE).format(a2.missingQuarterHours)} quarter hours`);
    await page.waitForTimeout(300);
    expect((await settlement(id)).state).toBe('draft');

    await closeAnswering(true);
    await expect.poll(async () => (await settlement(id)).state).toBe('closed');
    await expect.poll(() => page.getByRole('button', { name: 'Close settlement' }).count()).toBe(0);
    await screenshot(page, 'manager-settlement-closed-with-gaps');
  });

  it('offers no close for the running month, whose draft counts only the quarter hours that have passed', async () => {
    const running = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Vienna', year: 'numeric', month: '2-digit' }).format(new Date());
    const id = await run(running);
    await expect.poll(() => page.getByTestId('settlement-running').textContent()).toContain('This month is still running');
    expect(await page.getByRole('button', { name: 'Close settlement' }).count()).toBe(0);
    // The API refuses it too, whatever is confirmed.
    const gaps = (await tp.call('GET', `/api/v1/settlements/${id}/gaps`, { token: w.managerA.token })).body as SettlementGaps;
    expect(Date.parse(gaps.countedUntil)).toBeLessThanOrEqual(Date.now());
    const refused = await tp.call('POST', `/api/v1/settlements/${id}/close?confirmMissing=${gaps.missingQuarterHours}`, { token: w.managerA.token });
    expect(refused.status).toBe(409);
    expect(errors).toEqual([]);
  });
});
