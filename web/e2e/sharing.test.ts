/**
 * The pages built on energy sharing and settlement, in a real Chromium against a real platform:
 * readings go in through the device API, the platform's own jobs compute intervals and shares,
 * and every figure the pages show is checked against the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Browser, Page, Response } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { deviceCredentials, sasFor } from '../../server/test/support/devices.js';
import { pdfText } from '../../server/test/support/pdf.js';
import { parseFixed } from '../../server/src/kernel/money.js';
import { formatter, type Formatter } from '../src/lib/format.js';
import { previousPeriod } from '../src/lib/time.js';
import type { CommunityEnergy, EnergyFigures, MemberEnergy } from '@gridshare/contract/sharing';
import type { MemberStatement, Settlement } from '@gridshare/contract/billing';
import { BROWSER_LOCALE, collectPageErrors, launchBrowser, logIn, openContext, PHONE, screenshot } from './browser.js';

const QUARTER_HOUR = 15 * 60_000;

describe('web app: energy by source and settlement', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;
  /** The second device of A's batch, bound to memberA2's site. */
  let deviceA2: string;
  let fmt: Formatter;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    w = await buildWorld(tp);
    deviceA2 = (await tp.call('GET', `/api/v1/device-batches/${w.batchA}`, { token: w.managerA.token })).body.deviceIds[1];
    await tp.call('PATCH', `/api/v1/devices/${deviceA2}`, { token: w.managerA.token, body: { meteringPointId: w.meteringPointA2 } });
    const community = (await tp.call('GET', `/api/v1/communities/${w.communityA}`, { token: w.managerA.token })).body;
    // The reader's locale (the browser's), the community's currency and zone.
    fmt = formatter({ locale: BROWSER_LOCALE, currency: community.currency, timeZone: community.timeZone });
  });
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  /**
   * Register readings of a device at every quarter hour in [fromMs, toMs], starting at `start`
   * and growing by `perQuarter` Wh, sent as the device over HTTP.
   */
  async function sendRegisters(deviceId: string, fromMs: number, toMs: number, start: Record<string, number>, perQuarter: Record<string, number>) {
    const credentials = await deviceCredentials(tp, w.managerA.token, deviceId);
    const readings = [];
    for (let t = Math.ceil(fromMs / QUARTER_HOUR) * QUARTER_HOUR, n = 0; t <= toMs; t += QUARTER_HOUR, n++) {
      const ts = new Date(t).toISOString();
      for (const [quantity, value] of Object.entries(start)) readings.push({ ts, quantity, value: value + n * perQuarter[quantity]!, unit: 'Wh' });
    }
    for (let i = 0; i < readings.length; i += 900) {
      const sent = await tp.call('POST', `/api/v1/devices/${deviceId}/readings`, { headers: { authorization: sasFor(credentials) }, body: { readings: readings.slice(i, i + 900) } });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    }
  }

  /** Polls `url` until two answers in a row are equal (the platform's jobs are done) and `ready` holds. */
  async function settled<T>(url: string, token: string, ready: (body: T) => boolean): Promise<T> {
    let previous = '';
    let body: T | undefined;
    await expect.poll(async () => {
      body = (await tp.call('GET', url, { token })).body as T;
      const now = JSON.stringify(body);
      const stable = now === previous && ready(body);
      previous = now;
      return stable;
    }, { timeout: 30_000, interval: 1_000 }).toBe(true);
    return body!;
  }

  /** The energy table's exact Wh, as the page carries them. */
  const tableFigures = async (page: Page) => {
    const table = page.getByTestId('energy-totals');
    const figures: Record<string, number> = {};
    for (const row of await table.locator('td[data-field]').all()) {
      figures[(await row.getAttribute('data-field'))!] = Number(await row.locator('data').getAttribute('value'));
    }
    return figures;
  };
  const isEnergy = (r: Response) => /\/api\/v1\/(members|communities)\/[^/]+\/energy\?/.test(r.url());

  it('shows the stacked chart, the flow and the totals exactly as the energy API reports them', async () => {
    // The last three hours: A's PV feeds A's home and the community, A2 draws from both.
    const now = Date.now();
    await sendRegisters(w.provisionedA, now - 3 * 3_600_000, now, { 'energy.import': 1_000_000, 'energy.export': 500_000, 'pv.energy': 2_000_000 },
      { 'energy.import': 20, 'energy.export': 200, 'pv.energy': 300 });
    await sendRegisters(deviceA2, now - 3 * 3_600_000, now, { 'energy.import': 3_000_000, 'energy.export': 0 }, { 'energy.import': 150, 'energy.export': 0 });
    const window = new URLSearchParams({ from: new Date(now - 86_400_000).toISOString(), to: new Date(now + 3_600_000).toISOString(), resolution: '1h' });
    await settled<MemberEnergy>(`/api/v1/members/${w.memberIdA}/energy?${window}`, w.memberA.token, (e) => e.totals.toCommunityWh > 0);

    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const answered = page.waitForResponse(isEnergy);
    await logIn(page, w.memberA.email, w.memberA.password);
    const response = await answered;
    const shown = (await response.json()) as MemberEnergy;
    await page.getByTestId('energy-totals').waitFor();
    // What the page got is what the API answers anyone asking the same (session cookie and token alike).
    const again = await tp.call('GET', new URL(response.url()).pathname + new URL(response.url()).search, { token: w.memberA.token });
    expect(again.body).toEqual(shown);
    expect(new URL(response.url()).searchParams.get('resolution')).toBe('1h');
    expect(shown.totals.fromCommunityWh + shown.totals.toCommunityWh).toBeGreaterThan(0);

    await expectEnergyShown(page, shown.totals);
    expect(await page.getByTestId('energy-summary').textContent()).toContain(fmt.money(shown.savings.amount));
    expect(await page.getByTestId('energy-summary').textContent()).toContain(fmt.co2(shown.savings.co2AvoidedKg));
    await page.waitForSelector('.chart[data-chart-state="drawn"]');
    await screenshot(page, 'member-energy-by-source');

    // This month: local days, the same checks.
    const month = page.waitForResponse((r) => isEnergy(r) && r.url().includes('resolution=1d'));
    await page.getByRole('button', { name: 'This month' }).click();
    const monthly = (await (await month).json()) as MemberEnergy;
    await expect.poll(() => page.getByRole('heading', { level: 2, name: 'This month' }).count()).toBe(1);
    await expectEnergyShown(page, monthly.totals);
    expect(errors).toEqual([]);
    await context.close();

    const phone = await openContext(browser, tp.platform.httpUrl, PHONE);
    const small = await phone.newPage();
    await logIn(small, w.memberA.email, w.memberA.password);
    await small.getByTestId('energy-totals').waitFor();
    await expect.poll(() => small.locator('.chart[data-chart-state="drawn"]').count()).toBe(2);
    expect(await small.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(small, 'phone-member-energy-by-source');
    await phone.close();
  });

  /** The table's exact figures, and the stacked chart's summary (added up from its bars), equal `totals`. */
  async function expectEnergyShown(page: Page, totals: EnergyFigures) {
    await expect.poll(() => tableFigures(page)).toEqual(totals);
    const summary = (await page.locator('.chart').first().getAttribute('aria-label'))!;
    for (const [wh, what] of [[totals.selfConsumedWh, 'own PV'], [totals.fromCommunityWh, 'from the community'], [totals.fromGridWh, 'from the grid'],
      [totals.toCommunityWh, 'to the community'], [totals.toGridWh, 'to the grid']] as const) {
      expect(summary).toContain(`${fmt.energy(wh)} ${what}`);
    }
  }

  it('shows the manager the community\'s energy and each member\'s figures from the API', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const answered = page.waitForResponse(isEnergy);
    await logIn(page, w.managerA.email, w.managerA.password);
    const community = (await (await answered).json()) as CommunityEnergy;
    expect(community.members?.length).toBeGreaterThanOrEqual(2);
    const stats = page.getByTestId('community-energy');
    await stats.waitFor();
    expect(await stats.textContent()).toContain(fmt.energy(community.totals.productionWh));
    expect(await stats.textContent()).toContain(fmt.percent(community.totals.selfSufficiency));
    expect(await stats.textContent()).toContain(fmt.percent(community.totals.selfConsumptionRate));
    for (const member of community.members!) {
      const row = page.getByTestId('member-energy').locator(`tr[data-member-id="${member.memberId}"]`);
      for (const field of ['consumptionWh', 'fromCommunityWh', 'productionWh', 'toCommunityWh'] as const) {
        expect(Number(await row.locator(`td[data-field="${field}"] data`).getAttribute('value')), `${member.displayName} ${field}`).toBe(member.totals[field]);
      }
    }
    await page.waitForSelector('.chart[data-chart-state="drawn"]');
    await screenshot(page, 'manager-overview');
    expect(errors).toEqual([]);
    await context.close();

    const phone = await openContext(browser, tp.platform.httpUrl, PHONE);
    const small = await phone.newPage();
    await logIn(small, w.managerA.email, w.managerA.password);
    await small.waitForSelector('.chart[data-chart-state="drawn"]');
    expect(await small.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(small, 'phone-manager-overview');
    await phone.close();
  });

  it('lets the manager run and close a settlement, and the member download the statement as PDF and CSV', async () => {
    // Last month, two hours on the 10th: A's export reaches A2 through the community.
    const period = previousPeriod(new Date(), 'Europe/Vienna');
    const day = Date.parse(`${period}-10T08:00:00Z`);
    await sendRegisters(w.provisionedA, day, day + 2 * 3_600_000, { 'energy.import': 100_000, 'energy.export': 100_000, 'pv.energy': 100_000 },
      { 'energy.import': 0, 'energy.export': 400, 'pv.energy': 500 });
    await sendRegisters(deviceA2, day, day + 2 * 3_600_000, { 'energy.import': 100_000, 'energy.export': 0 }, { 'energy.import': 250, 'energy.export': 0 });
    const lastMonth = new URLSearchParams({ from: new Date(day - 86_400_000).toISOString(), to: new Date(day + 86_400_000).toISOString(), resolution: '1d' });
    const energyA2 = await settled<MemberEnergy>(`/api/v1/members/${w.memberIdA2}/energy?${lastMonth}`, w.memberA2.token, (e) => e.totals.fromCommunityWh === 8 * 250);

    const context = await openContext(browser, tp.platform.httpUrl);
    const manager = await context.newPage();
    const errors = collectPageErrors(manager);
    manager.on('dialog', (dialog) => void dialog.accept());
    await logIn(manager, w.managerA.email, w.managerA.password);
    await manager.goto(`/manage/${w.communityA}/settlements`);
    expect(await manager.getByLabel('Month to settle').inputValue()).toBe(period);
    await manager.getByRole('button', { name: 'Run settlement' }).click();
    await manager.waitForURL(new RegExp(`/manage/${w.communityA}/settlements/[0-9a-f-]{36}$`));
    const settlementId = manager.url().split('/').at(-1)!;
    await expect.poll(() => manager.getByRole('table').textContent()).toContain('memberA2');
    await manager.getByRole('button', { name: 'Close settlement' }).click();
    await expect.poll(async () => ((await tp.call('GET', `/api/v1/settlements/${settlementId}`, { token: w.managerA.token })).body as Settlement).state).toBe('closed');
    const settlement = (await tp.call('GET', `/api/v1/settlements/${settlementId}`, { token: w.managerA.token })).body as Settlement;
    await expect.poll(() => manager.getByTestId('settlement-totals').textContent()).toContain(fmt.money(settlement.totals.amount));
    await screenshot(manager, 'manager-settlement');
    await manager.setViewportSize(PHONE);
    await screenshot(manager, 'phone-manager-settlement');
    expect(errors).toEqual([]);
    await context.close();

    const memberContext = await openContext(browser, tp.platform.httpUrl);
    const member = await memberContext.newPage();
    await logIn(member, w.memberA2.email, w.memberA2.password);
    await member.goto(`/members/${w.memberIdA2}/statements`);
    const statements = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/statements`, { token: w.memberA2.token })).body as MemberStatement[];
    const statement = statements.find((s) => s.settlementId === settlementId)!;
    // 8 quarter hours × 250 Wh from the community at 0.15 a kWh.
    expect(statement.total).toBe('0.30');
    const row = member.getByRole('row').filter({ hasText: fmt.month(period) });
    expect(await row.textContent()).toContain(fmt.money(statement.total));

    const [pdf] = await Promise.all([member.waitForEvent('download'), row.getByRole('link', { name: /^PDF/ }).click()]);
    const pdfBytes = readFileSync((await pdf.path())!);
    expect(pdfBytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfBytes.subarray(-6).toString()).toContain('%%EOF');
    const written = pdfText(pdfBytes);
    expect(written).toContain(`Total: € ${statement.total}`);
    expect(written).toContain('memberA2');

    const [csv] = await Promise.all([member.waitForEvent('download'), row.getByRole('link', { name: /^CSV/ }).click()]);
    const rows = readFileSync((await csv.path())!, 'utf8').trim().split('\r\n').map((line) => line.split(','));
    const header = rows[0]!;
    const column = (name: string) => header.indexOf(name);
    const lines = rows.slice(1).filter((r) => ['community-energy', 'community-sales', 'grid-fee-reduction'].includes(r[column('code')]!));
    const totalRow = rows.find((r) => r[column('code')] === 'total')!;
    expect(totalRow[column('amount')]).toBe(statement.total);
    // The lines add up to the total exactly (decimal strings, no floats).
    const cents = (amount: string) => parseFixed(amount, 2);
    expect(lines.reduce((sum, r) => sum + cents(r[column('amount')]!), 0n)).toBe(cents(statement.total));
    expect(lines.find((r) => r[column('code')] === 'community-energy')![column('energy_wh')]).toBe(String(energyA2.totals.fromCommunityWh));
    await screenshot(member, 'member-statements');
    await member.setViewportSize(PHONE);
    expect(await member.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(member, 'phone-member-statements');
    await memberContext.close();
  });
});
