/**
 * Flexibility in a real Chromium (PGlite): the manager sets the community's UFTP identity, adds a
 * grid operator to the address book and drafts and activates a contract through the forms; a
 * member opts their battery in with a power limit and sees it on their devices page; the manager
 * offers flexibility unasked (an unsolicited FlexOffer) through the offers form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestPlatform, unique, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { generateSigningKey } from '../../server/src/flex/index.js';
import { collectPageErrors, launchBrowser, logIn, openContext, screenshot, typed } from './browser.js';

const CP = 'ea1.2026-01.org.example.dso:cp-1';

describe('web app: flexibility for the grid operator', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    w = await buildWorld(tp);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  it('lets the manager set up the identity, a DSO and a contract, and a member opt a device in', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.managerA.email, w.managerA.password);
    await page.goto(`/manage/${w.communityA}/flex`);
    await expect.poll(() => page.getByText('The community has no UFTP identity yet').first().isVisible()).toBe(true);

    const identity = page.getByRole('region', { name: 'Our identity as aggregator' });
    await identity.getByLabel('Domain').fill('community-a.example.org');
    await identity.getByLabel('Time zone of the market').fill('Europe/Vienna');
    await identity.getByRole('button', { name: 'Save identity' }).click();
    await expect.poll(() => identity.locator('code').first().textContent()).toMatch(/^[A-Za-z0-9+/]{43}=$/);

    const book = page.getByRole('region', { name: 'Address book' });
    const dsoKey = Buffer.from(generateSigningKey().publicKey).toString('base64');
    await book.getByLabel('Domain').fill('dso.example.org');
    await book.getByLabel('Endpoint').fill('https://dso.example.org/shapeshifter/api/v3/message');
    await book.getByLabel('Public key').fill(dsoKey);
    await book.getByLabel('Congestion points').fill('ea1.2026-01.org.example.dso:cp-1');
    await book.getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => book.getByRole('list', { name: 'Address book' }).textContent()).toContain('dso.example.org');

    const contracts = page.getByRole('region', { name: 'Contracts' });
    await contracts.getByLabel('Congestion points').fill('ea1.2026-01.org.example.dso:cp-1');
    await contracts.getByLabel('Valid from').fill('01/01/2026');
    await contracts.getByLabel('Valid to').fill('31/12/2030');
    await contracts.getByLabel('Capacity remuneration per kW and month').fill('1.50');
    await contracts.getByLabel('Volume remuneration per kWh delivered').fill('0.10');
    await contracts.getByLabel('Penalty per kWh not delivered').fill('0.30');
    // Every day of the week, so that the second test's offer for tomorrow lies in the window whatever day the suite runs.
    await contracts.getByLabel('Sat', { exact: true }).check();
    await contracts.getByLabel('Sun', { exact: true }).check();
    await contracts.getByRole('button', { name: 'Create draft' }).click();
    const list = contracts.getByRole('list', { name: 'Contracts' });
    await expect.poll(() => list.textContent()).toContain('draft');
    await list.getByRole('button', { name: 'Activate' }).click();
    await expect.poll(() => list.textContent()).toContain('active');
    expect(await list.textContent()).toContain('0 devices take part');
    await screenshot(page, 'flex-manager');
    await context.close();

    // Member A2's battery, controllable: they opt it in with at most 3 kW.
    const device = await tp.call('POST', `/api/v1/communities/${w.communityA}/devices`, { token: w.managerA.token, body: { kind: 'battery', name: unique('Battery '), meteringPointId: w.meteringPointA2, role: 'storage' } });
    expect(device.status, JSON.stringify(device.body)).toBe(201);
    expect((await tp.call('PUT', `/api/v1/devices/${device.body.id}/control`, { token: w.memberA2.token, body: { controllable: true, limits: { capacityWh: 10_000, reserveSoc: 0.1 } } })).status).toBe(200);
    const member = await openContext(browser, tp.platform.httpUrl);
    const memberPage = await member.newPage();
    errors.push(...collectPageErrors(memberPage));
    await logIn(memberPage, w.memberA2.email, w.memberA2.password);
    await memberPage.goto(`/members/${w.memberIdA2}/devices`);
    const flex = memberPage.getByRole('region', { name: 'Flexibility for the grid' });
    await expect.poll(() => flex.getByText('Does not take part').count(), { timeout: 30_000 }).toBe(1);
    await flex.getByLabel('Most power to shift (W, empty: no limit)').fill('3000');
    await flex.getByRole('button', { name: 'Take part' }).click();
    await expect.poll(() => flex.textContent()).toContain('Takes part, up to 3 kW');
    expect(await flex.textContent()).toContain('No rewards yet.');
    await member.close();

    const contractsNow = await tp.call('GET', `/api/v1/communities/${w.communityA}/flex/contracts`, { token: w.managerA.token });
    expect(contractsNow.body[0].participation).toEqual({ devices: 1, devicesWithoutLimit: 0, allowedPowerW: 3000 });
    expect(errors).toEqual([]);
  }, 120_000);

  it('lets the manager offer flexibility unasked through the form; a range with no direction is refused with the reason', async () => {
    // The portfolio (set up in the first test: identity, the DSO, the active contract, member A2's battery opted in):
    // member A2's connection is behind the congestion point.
    const ean = `8716859${String(Math.floor(Math.random() * 1e11)).padStart(11, '0')}`;
    expect((await tp.call('PATCH', `/api/v1/metering-points/${w.meteringPointA2}`, { token: w.managerA.token, body: { gridConnectionId: ean } })).status).toBe(200);
    const dso = (await tp.call('GET', `/api/v1/communities/${w.communityA}/flex/participants`, { token: w.managerA.token })).body.find((p: { role: string }) => p.role === 'DSO');
    const portfolio = await tp.call('PUT', `/api/v1/flex/participants/${dso.id}/portfolio`, { token: w.managerA.token, body: { congestionPoints: [{ entityAddress: CP, connections: [`ean.${ean}`] }] } });
    expect(portfolio.status, JSON.stringify(portfolio.body)).toBe(200);
    // Tomorrow in Vienna (the contract's window is every day, 07:00–21:00; a re-plan looks 48 h ahead): ISPs 73–76 are 18:00–19:00.
    const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Vienna' }).format(Date.now() + 86_400_000);

    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.managerA.email, w.managerA.password);
    await page.goto(`/manage/${w.communityA}/flex`);
    const offers = page.getByRole('region', { name: 'Offers and orders' });
    await expect.poll(() => offers.getByText('No offer yet.').isVisible(), { timeout: 30_000 }).toBe(true);
    const form = offers.getByRole('form', { name: 'Offer flexibility unasked' });
    expect(await form.getByLabel('Congestion point').textContent()).toContain(CP);
    await form.getByLabel('Day').fill(typed(day));
    await form.getByLabel('First ISP').fill('73');
    await form.getByLabel('Number of ISPs').fill('4');
    // Both limits on either side of zero: no direction, refused naming the range; nothing offered.
    await form.getByLabel('Least deviation (W)').fill('-1000');
    await form.getByLabel('Most deviation (W)').fill('1000');
    await form.getByRole('button', { name: 'Make offer' }).click();
    await expect.poll(() => form.textContent(), { timeout: 30_000 }).toContain('has no direction');
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/flex/offers`, { token: w.managerA.token })).body).toEqual([]);

    // Less consumption, 0.5–3 kW: the battery's re-plan is offered, listed as unsolicited.
    await form.getByLabel('Least deviation (W)').fill('-3000');
    await form.getByLabel('Most deviation (W)').fill('-500');
    await form.getByRole('button', { name: 'Make offer' }).click();
    const list = offers.getByRole('list', { name: 'Offers and orders' });
    await expect.poll(() => list.textContent(), { timeout: 60_000 }).toContain('unsolicited');
    expect(await list.textContent()).toContain(CP);
    const made = (await tp.call('GET', `/api/v1/communities/${w.communityA}/flex/offers`, { token: w.managerA.token })).body;
    expect(made).toEqual([expect.objectContaining({ requestMessageId: null, congestionPoint: CP, period: day, devices: 1 })]);
    await screenshot(page, 'flex-unsolicited-offer');
    await context.close();
    expect(errors).toEqual([]);
  }, 120_000);
});
