/**
 * The pages built on the energy-sharing and settlement API (SHARING-API.md, issue 5). Each test
 * skips itself while the server has no such route, and runs as soon as it does: nothing else
 * needs wiring when that branch lands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { deviceCredentials, sasFor } from '../../server/test/support/devices.js';
import { formatter } from '../src/lib/format.js';
import { dayRange, previousPeriod } from '../src/lib/time.js';
import type { MemberEnergy, MemberStatement, Settlement } from '../src/api/sharing.js';
import { collectPageErrors, launchBrowser, logIn, openContext, screenshot } from './browser.js';

const QUARTER_HOUR = 15 * 60_000;

describe('web app: energy by source and settlement', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;
  let sharing = false;

  beforeAll(async () => {
    tp = await startTestPlatform('pglite');
    // An unknown member is "member not found" where the route exists, "no route" where it does not.
    const probe = await tp.call('GET', `/api/v1/members/${crypto.randomUUID()}/energy?${new URLSearchParams({ ...dayRange(new Date(), 'Europe/Vienna'), resolution: '1h' })}`, { token: tp.admin.token });
    sharing = !(probe.status === 404 && String(probe.body.message).startsWith('no route'));
    if (!sharing) return;
    w = await buildWorld(tp);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  /** Register readings of memberA's reader at every quarter hour from `from` to now. */
  async function sendRegisters(from: number) {
    const credentials = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    const readings = [];
    let importWh = 1_000_000;
    let exportWh = 500_000;
    let pvWh = 2_000_000;
    for (let t = Math.ceil(from / QUARTER_HOUR) * QUARTER_HOUR; t <= Date.now(); t += QUARTER_HOUR) {
      const ts = new Date(t).toISOString();
      readings.push({ ts, quantity: 'energy.import', value: importWh, unit: 'Wh' }, { ts, quantity: 'energy.export', value: exportWh, unit: 'Wh' },
        { ts, quantity: 'pv.energy', value: pvWh, unit: 'Wh' });
      importWh += 120;
      exportWh += 45;
      pvWh += 300;
    }
    for (let i = 0; i < readings.length; i += 900) {
      const sent = await tp.call('POST', `/api/v1/devices/${w.provisionedA}/readings`, {
        headers: { authorization: sasFor(credentials) }, body: { readings: readings.slice(i, i + 900) },
      });
      expect(sent.status).toBe(200);
    }
  }

  it('shows the stacked chart\'s totals exactly as the API reports them', async (ctx) => {
    if (!sharing) ctx.skip();
    const community = (await tp.call('GET', `/api/v1/communities/${w.communityA}`, { token: w.memberA.token })).body;
    const today = dayRange(new Date(), community.timeZone);
    await sendRegisters(Math.max(Date.parse(today.from), Date.now() - 3 * 3_600_000));
    const url = `/api/v1/members/${w.memberIdA}/energy?${new URLSearchParams({ ...today, resolution: '1h' })}`;
    await expect.poll(async () => (await tp.call('GET', url, { token: w.memberA.token })).body.totals.consumptionWh, { timeout: 20_000 }).toBeGreaterThan(0);
    const energy = (await tp.call('GET', url, { token: w.memberA.token })).body as MemberEnergy;

    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.memberA.email, w.memberA.password);
    const totals = page.getByTestId('energy-totals');
    await totals.waitFor();
    const fmt = formatter({ locale: community.locale, currency: community.currency, timeZone: community.timeZone });
    for (const [field, wh] of Object.entries(energy.totals)) {
      expect(await totals.locator(`td[data-field="${field}"]`).textContent(), field).toBe(fmt.energy(wh));
    }
    expect(await page.getByTestId('savings').textContent()).toContain(fmt.money(energy.savings.amount));
    await page.waitForSelector('.chart[data-chart-state="drawn"]');
    await screenshot(page, 'member-energy-by-source');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('lets the manager run and close a settlement, and the member download the statement', async (ctx) => {
    if (!sharing) ctx.skip();
    const context = await openContext(browser, tp.platform.httpUrl);
    const manager = await context.newPage();
    const errors = collectPageErrors(manager);
    manager.on('dialog', (dialog) => void dialog.accept());
    await logIn(manager, w.managerA.email, w.managerA.password);
    await manager.goto(`/manage/${w.communityA}/settlements`);
    const period = previousPeriod(new Date(), 'Europe/Vienna');
    expect(await manager.getByLabel('Month').inputValue()).toBe(period);
    await manager.getByRole('button', { name: 'Run settlement' }).click();
    await manager.waitForURL(new RegExp(`/manage/${w.communityA}/settlements/[0-9a-f-]{36}$`));
    const settlementId = manager.url().split('/').at(-1)!;
    await expect.poll(() => manager.getByRole('table').textContent()).toContain('memberA');
    await manager.getByRole('button', { name: 'Close settlement' }).click();
    await expect.poll(async () => ((await tp.call('GET', `/api/v1/settlements/${settlementId}`, { token: w.managerA.token })).body as Settlement).state).toBe('closed');
    await screenshot(manager, 'manager-settlement');

    const memberContext = await openContext(browser, tp.platform.httpUrl);
    const member = await memberContext.newPage();
    await logIn(member, w.memberA.email, w.memberA.password);
    await member.goto(`/members/${w.memberIdA}/statements`);
    const statements = (await tp.call('GET', `/api/v1/members/${w.memberIdA}/statements`, { token: w.memberA.token })).body as MemberStatement[];
    const statement = statements.find((s) => s.settlementId === settlementId)!;
    const fmt = formatter({ locale: 'en', currency: statement.currency, timeZone: 'Europe/Vienna' });
    const row = member.getByRole('row').filter({ hasText: fmt.month(period) });
    expect(await row.textContent()).toContain(fmt.money(statement.total));
    const [pdf] = await Promise.all([member.waitForEvent('download'), row.getByRole('link', { name: /^PDF/ }).click()]);
    expect(readFileSync((await pdf.path())!).subarray(0, 5).toString()).toBe('%PDF-');
    const [csv] = await Promise.all([member.waitForEvent('download'), row.getByRole('link', { name: /^CSV/ }).click()]);
    expect(readFileSync((await csv.path())!, 'utf8').length).toBeGreaterThan(0);
    await screenshot(member, 'member-statements');
    expect(errors).toEqual([]);
    await memberContext.close();
    await context.close();
  });
});
