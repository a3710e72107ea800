/**
 * Plans in a real Chromium (PGlite only): a member lets the community control their battery on
 * "My plan", the manager plans again on the Plan page and sees the status, the saving and the
 * schedules and where the battery starts; the member then sees the battery in their plan and their saving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { collectPageErrors, launchBrowser, logIn, openContext, screenshot } from './browser.js';

describe('web app: plans', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;
  let battery: string;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite', { optimise: { delayMs: 600_000, steps: 16, timeLimitS: 10 } }), launchBrowser()]);
    w = await buildWorld(tp);
    const created = await tp.call('POST', `/api/v1/communities/${w.communityA}/devices`, {
      token: w.managerA.token, body: { kind: 'battery', name: 'Home battery', meteringPointId: w.meteringPointA, role: 'storage' },
    });
    battery = created.body.id;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  it('lets a member allow control, the manager plan again, and both see the plan', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.memberA.email, w.memberA.password);
    await page.goto(`/members/${w.memberIdA}/plan`);
    const card = page.getByTestId(`control-${battery}`);
    await card.locator('summary').click();
    // The box shows what the server holds: it turns checked once the change is saved, not on the click.
    const allow = card.getByLabel('The community’s plan may control this device');
    await allow.click();
    await expect.poll(async () => (await tp.call('GET', `/api/v1/devices/${battery}/control`, { token: w.memberA.token })).body.controllable).toBe(true);
    await expect.poll(() => allow.isChecked()).toBe(true);

    const manager = await openContext(browser, tp.platform.httpUrl);
    const managerPage = await manager.newPage();
    errors.push(...collectPageErrors(managerPage));
    await logIn(managerPage, w.managerA.email, w.managerA.password);
    await managerPage.goto(`/manage/${w.communityA}/plan`);
    await managerPage.getByRole('button', { name: 'Plan again now' }).click();
    await expect.poll(() => managerPage.getByText('Optimal within the gap').count(), { timeout: 30_000 }).toBe(1);
    const section = managerPage.getByRole('region', { name: 'Community plan' });
    await expect.poll(() => section.locator('[data-chart-state="drawn"]').count()).toBe(2);
    await expect.poll(() => section.getByRole('table').locator('tbody tr').count()).toBe(4);
    // Where the battery's plan starts (no report from it here: assumed, or where a plan left it).
    await expect.poll(() => section.getByRole('list', { name: 'Where the devices start' }).textContent()).toMatch(/^Home battery starts at \d+\s?%, (assumed|where the last plan left it)/);
    await screenshot(managerPage, 'plan-manager');
    await manager.close();

    await page.reload();
    await expect.poll(() => page.getByTestId('my-saving').textContent()).toMatch(/^You save /);
    // How the member's part of the community's saving was found: the community's rule (dynamic), or baseline import without shared energy.
    await expect.poll(() => page.getByTestId('my-share-rule').textContent())
      .toMatch(/^(Your share of the community’s saving follows its sharing rule \(.+\): under the plan .+ of community energy comes to you\.|No community energy is shared under the plan)/);
    await expect.poll(() => page.locator('[data-chart-state="drawn"]').count()).toBe(1);
    await expect.poll(() => page.getByRole('list', { name: 'Where the devices start' }).textContent()).toMatch(/^Home battery starts at \d+\s?%/);
    await screenshot(page, 'plan-member');
    await context.close();
    expect(errors).toEqual([]);
  });
});
