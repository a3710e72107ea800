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
import { previousPeriod, shiftDay, today } from '../src/lib/time.js';
import { defaultSpan, EARLIEST_DAY, periodQuery } from '../src/lib/periods.js';
import type { CommunityEnergy, EnergyFigures, MemberEnergy } from '@gridshare/contract/sharing';
import type { MemberStatement, Settlement } from '@gridshare/contract/billing';
import { BROWSER_LOCALE, collectPageErrors, launchBrowser, logIn, openContext, PHONE, screenshot, typed } from './browser.js';

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
    // A community battery the manager holds (not installed yet): a row of its own, not the manager's.
    const battery = await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, {
      token: w.managerA.token, body: { name: 'Shared storage', gridConnectionId: `ATBAT${Date.now()}`, role: 'prosumer', batteryCapacityWh: 50_000, communityBattery: true },
    });
    expect(battery.status, JSON.stringify(battery.body)).toBe(201);
    const answered = page.waitForResponse(isEnergy);
    await logIn(page, w.managerA.email, w.managerA.password);
    const community = (await (await answered).json()) as CommunityEnergy;
    expect(community.members?.length).toBeGreaterThanOrEqual(2);
    expect(community.members!.map((m) => m.memberId)).not.toContain(battery.body.memberId);
    expect(community.batteries?.map((b) => b.meteringPointId)).toEqual([battery.body.id]);
    const batteryRow = page.getByTestId('member-energy').locator(`tr[data-battery-id="${battery.body.id}"]`);
    expect(await batteryRow.locator('th').textContent()).toBe('Community battery: Shared storage');
    expect(Number(await batteryRow.locator('td[data-field="productionWh"] data').getAttribute('value'))).toBe(community.batteries![0]!.totals.productionWh);
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

  it('lets the member see a year of months, choose days, compare with the period before and download the figures as CSV', async () => {
    const zone = 'Europe/Vienna';
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.memberA.email, w.memberA.password);
    await page.getByTestId('energy-totals').waitFor();
    const periods = page.getByRole('group', { name: 'Period' });
    // Node's and Chromium's ICU differ in the spaces around a range's dash (thin or plain): compared as plain spaces.
    const plain = (text: string | null) => text?.replace(/\s/g, ' ');
    const heading = async () => plain(await page.locator('#energy-heading').textContent());
    const asking = (from: string, resolution: string) => (r: Response) =>
      isEnergy(r) && new URL(r.url()).searchParams.get('from') === from && new URL(r.url()).searchParams.get('resolution') === resolution;

    // This year: twelve local months, the figures as the API answers them.
    const thisYear = periodQuery('year', new Date(), zone)!;
    const yearly = page.waitForResponse(asking(thisYear.range.from, '1mo'));
    await periods.getByRole('button', { name: 'This year' }).click();
    const year = (await (await yearly).json()) as MemberEnergy;
    expect(year.series).toHaveLength(12);
    await expect.poll(heading).toBe('This year');
    await expectEnergyShown(page, year.totals);
    expect(await page.getByRole('heading', { level: 3, name: 'By source, per month' }).count()).toBe(1);

    // Choosing days starts with the last seven up to today in the community, one bar a day.
    const week = defaultSpan(new Date(), zone);
    const weekQuery = periodQuery('custom', new Date(), zone, week)!;
    const weekly = page.waitForResponse(asking(weekQuery.range.from, '1d'));
    await periods.getByRole('button', { name: 'Choose days' }).click();
    const form = page.getByRole('form', { name: 'Days to show' });
    expect([await form.getByLabel('First day').inputValue(), await form.getByLabel('Last day').inputValue()]).toEqual([typed(week.from), typed(week.to)]);
    const days = (await (await weekly).json()) as MemberEnergy;
    expect(days.series).toHaveLength(7);
    await expect.poll(heading).toBe(plain(fmt.span(weekQuery.range.from, weekQuery.range.to, false)));
    await expectEnergyShown(page, days.totals);

    // Days that cannot be shown are refused with the reason, before anything is asked: a day
    // outside what the fields take (before 2 January 2000, after today) under its field, a span
    // the two days cannot make under the form.
    const refusals: [string, string, string, string][] = [
      [week.from, shiftDay(today(new Date(), zone), 1), 'span-to-error', `No later than ${typed(today(new Date(), zone))}.`],
      [week.to, week.from, 'span-error', 'The last day cannot be before the first.'],
      ['1999-12-31', week.to, 'span-from-error', `No earlier than ${typed(EARLIEST_DAY)}.`],
      [shiftDay(week.to, -1100), week.to, 'span-error', 'At most 1,100 days at a time.'],
    ];
    let asked = 0;
    page.on('request', (r) => {
      if (/\/energy\?/.test(r.url()) && new URL(r.url()).searchParams.get('from') !== weekQuery.range.from) asked += 1;
    });
    for (const [from, to, where, message] of refusals) {
      await form.getByLabel('First day').fill(typed(from));
      await form.getByLabel('Last day').fill(typed(to));
      await form.getByRole('button', { name: 'Show' }).click();
      await expect.poll(() => form.getByRole('alert').evaluateAll((alerts) => alerts.map((alert) => [alert.id, alert.textContent]))).toEqual([[where, message]]);
    }
    expect(asked).toBe(0);
    // The week's heading, figures and chart stay.
    expect(await heading()).toBe(plain(fmt.span(weekQuery.range.from, weekQuery.range.to, false)));
    await expectEnergyShown(page, days.totals);

    // The last three days up to now: one bar an hour.
    const threeDays = { from: shiftDay(week.to, -2), to: week.to };
    const shown = periodQuery('custom', new Date(), zone, threeDays)!;
    const hourly = page.waitForResponse(asking(shown.range.from, '1h'));
    await form.getByLabel('First day').fill(typed(threeDays.from));
    await form.getByLabel('Last day').fill(typed(threeDays.to));
    await form.getByRole('button', { name: 'Show' }).click();
    const current = (await (await hourly).json()) as MemberEnergy;
    const hours = (Date.parse(shown.range.to) - Date.parse(shown.range.from)) / 3_600_000;
    expect(current.series).toHaveLength(hours);
    expect(await form.getByRole('alert').count()).toBe(0);
    await expectEnergyShown(page, current.totals);
    expect(current.totals.consumptionWh).toBeGreaterThan(0);

    // Beside the three days before, up to the same hour: exact Wh and their difference.
    const before = page.waitForResponse(asking(shown.previous.range.from, '1h'));
    await page.getByLabel('Compare with the period before').check();
    const previousResponse = await before;
    const previous = (await previousResponse.json()) as MemberEnergy;
    expect(Date.parse(new URL(previousResponse.url()).searchParams.get('to')!)).toBeLessThanOrEqual(Date.parse(shown.range.from));
    expect((await tp.call('GET', new URL(previousResponse.url()).pathname + new URL(previousResponse.url()).search, { token: w.memberA.token })).body).toEqual(previous);
    const comparison = page.getByTestId('energy-comparison');
    await comparison.waitFor();
    for (const field of ['consumptionWh', 'fromCommunityWh', 'fromGridWh', 'productionWh', 'toCommunityWh'] as const) {
      const row = comparison.locator(`tr[data-field="${field}"]`);
      const cell = async (column: string) => Number(await row.locator(`td[data-column="${column}"] data`).getAttribute('value'));
      expect([await cell('current'), await cell('previous'), await cell('difference')], field)
        .toEqual([current.totals[field], previous.totals[field], current.totals[field] - previous.totals[field]]);
      expect(await row.locator('td[data-column="difference"]').textContent()).toBe(fmt.energyDifference(current.totals[field] - previous.totals[field]));
    }
    await screenshot(page, 'member-energy-compare');

    // The same three days as a CSV file: the hours that have begun, adding up to the totals shown.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV (per hour)' }).click()]);
    expect(download.suggestedFilename()).toBe(`energy-${threeDays.from}-to-${threeDays.to}-1h.csv`);
    const rows = readFileSync((await download.path())!, 'utf8').trim().split('\r\n').map((line) => line.split(','));
    expect(rows[0]).toEqual(['start', 'end', 'consumption_wh', 'self_consumed_wh', 'from_community_wh', 'from_grid_wh', 'production_wh', 'to_community_wh', 'to_grid_wh', 'quality', 'provisional']);
    expect(rows[1]![0]).toMatch(new RegExp(`^${threeDays.from}T00:00:00\\+0[12]:00$`));
    expect(rows.length - 1).toBeGreaterThan(48);
    expect(rows.length - 1).toBeLessThanOrEqual(hours);
    const sum = (column: number) => rows.slice(1).reduce((total, row) => total + Number(row[column]), 0);
    expect([sum(2), sum(4), sum(5), sum(6), sum(7)]).toEqual([current.totals.consumptionWh, current.totals.fromCommunityWh, current.totals.fromGridWh, current.totals.productionWh, current.totals.toCommunityWh]);
    expect(await page.getByRole('link', { name: 'Download CSV (per quarter hour)' }).count()).toBe(1);

    // On a phone the buttons, days and the comparison fit the screen (once the charts have followed the new width).
    await page.setViewportSize(PHONE);
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await screenshot(page, 'phone-member-energy-compare');
    expect(errors).toEqual([]);
    await context.close();
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
    expect(await manager.getByLabel('Month to settle').inputValue()).toBe(typed(period));
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
    expect(written).toContain(`Total: ${fmt.money(statement.total)}`);
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
