/**
 * The local market in a real Chromium (PGlite only: the API tests run both stores): a member sees
 * their wallet and a movement's proof, verified in the browser (and a tampered proof refused), the settled slot's movements
 * with their period, places an order and sets their agent's limits; the manager reads the depth of the latest slot with
 * trades and the market's statistics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { OUTBOX_JOB } from '../../server/src/platform/events/index.js';
import { settleDueSlots } from '../../server/src/market/service.js';
import { storeIntervals } from '../../server/test/sharing/support/stored.js';
import { fundWallet } from '../../server/src/market/index.js';
import { collectPageErrors, launchBrowser, logIn, openContext, screenshot } from './browser.js';

const Q = 900_000;
const MIN = 60_000;

describe('web app: the local market', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;
  // A slot two hours ago (inside the statistics' last 24 hours), cleared on the market's own clock.
  const slot = Math.floor((Date.now() - 2 * 60 * MIN) / Q) * Q;
  let clock = slot - 60 * MIN;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([
      startTestPlatform('pglite', { market: { now: () => clock, lookbackMs: 60 * MIN, finalDelayMs: 30 * MIN, everyMs: 3_600_000 } }),
      launchBrowser(),
    ]);
    w = await buildWorld(tp);
    const settings = { mechanism: 'uniform', gateLeadMinutes: 5, gridFee: '0.0100', floor: '0.0500', ceiling: '0.3000', surplusPrice: '0.0600', shortfallPrice: '0.2800' };
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: settings })).status).toBe(200);
    expect((await tp.call('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, {
      token: w.managerA.token, body: { memberId: w.memberIdA2, amount: '20.00', reference: 'bank transfer' },
    })).status).toBe(201);
    // The top-up's batch enters the record (the proof the member opens below).
    await tp.platform.jobs.flush(OUTBOX_JOB);
    // A offers 800 Wh at 0.0800, A2 bids for 600 Wh at 0.2000 (0.1900 less the fee): 600 Wh clear at the midpoint 0.1350.
    const order = async (token: string, memberId: string, side: 'buy' | 'sell', energyWh: number, price: string) =>
      expect((await tp.call('POST', `/api/v1/members/${memberId}/market/orders`, { token, body: { slotStart: new Date(slot).toISOString(), side, energyWh, price } })).status).toBe(201);
    await order(w.memberA.token, w.memberIdA, 'sell', 800, '0.0800');
    await order(w.memberA2.token, w.memberIdA2, 'buy', 600, '0.2000');
    clock = slot - 4 * MIN;
    await tp.platform.market.flush();
    // From here the market's clock is the browser's: the order form offers slots from half an hour ahead.
    clock = Date.now();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  it('shows a member their wallet, takes an order and saves the agent\'s limits', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    // What the page asks the server: the proof and the published keys, never the server's verdict.
    const asked: string[] = [];
    page.on('request', (r) => asked.push(new URL(r.url()).pathname));
    await logIn(page, w.memberA2.email, w.memberA2.password);
    await page.goto(`/members/${w.memberIdA2}/market`);
    const wallet = page.getByRole('region', { name: 'Wallet' });
    await expect.poll(() => wallet.locator('dl').textContent()).toMatch(/Balance.*20\.00/);
    await expect.poll(() => wallet.locator('tbody tr').count()).toBe(1);
    // The top-up's proof, checked in the browser (WebCrypto) as `gridshare verify --movement` checks it, with the file and the command.
    await wallet.locator('tbody tr').first().getByRole('button', { name: 'Proof' }).click();
    const proof = wallet.getByRole('region', { name: /^Proof of movement \d+$/ });
    await expect.poll(() => proof.textContent(), { timeout: 30_000 }).toMatch(/Verified in your browser.*This movement of .*20\.00 is record 1 of \d+ in its batch\. The batch is entry \d+ of the community's public record/);
    const sequence = Number((await proof.getByRole('heading').textContent())!.replace(/\D/g, ''));
    const { verifierKey } = (await tp.call('GET', '/api/v1/ledger/key')).body as { verifierKey: string };
    const { did } = (await tp.call('GET', `/api/v1/ledger/communities/${w.communityA}/key`)).body as { did: string };
    expect(await proof.textContent()).toContain(`against the record's published key ${verifierKey} and your community's published key ${did}`);
    expect(await proof.locator('code').textContent()).toBe(`gridshare verify --movement movement-proof-${sequence}.json --key "${verifierKey}" --community-key "${did}"`);
    expect(asked).toContain(`/api/v1/members/${w.memberIdA2}/market/postings/${sequence}/proof`);
    expect(asked).toContain('/api/v1/ledger/key');
    expect(asked.filter((path) => path.endsWith('/verification'))).toEqual([]);
    const download = proof.getByRole('link', { name: `Proof (movement-proof-${sequence}.json)` });
    expect(await download.getAttribute('download')).toBe(`movement-proof-${sequence}.json`);
    const file = JSON.parse(decodeURIComponent((await download.getAttribute('href'))!.replace(/^data:application\/json;charset=utf-8,/, ''))) as { format: string; record: string };
    expect(file.format).toBe('gridshare-movement-proof/v1');
    expect(JSON.parse(file.record)).toMatchObject({ sequence, kind: 'top-up', amount: '20' });

    // A proof altered on its way (the amount made 2000): the browser refuses it, naming the check that failed.
    await page.route('**/market/postings/*/proof', async (route) => {
      const response = await route.fetch();
      const served = await response.json() as { record: string };
      await route.fulfill({ response, json: { ...served, record: served.record.replace('"amount":"20"', '"amount":"2000"') } });
    });
    await page.reload();
    await wallet.locator('tbody tr').first().getByRole('button', { name: 'Proof' }).click();
    await expect.poll(() => proof.textContent(), { timeout: 30_000 }).toMatch(/Not verified in your browser.*The check that failed \(proof_mismatch\): the inclusion proof for entry 0 leads to root [0-9a-f]{64}, not to the signed root/);
    expect(await proof.textContent()).not.toContain('Verified in your browser');
    await page.unroute('**/market/postings/*/proof');

    // The slot settles against the meters (A2 used 650 Wh, 50 beyond the 600 bought): one movement per kind, each with its
    // delivery period (the slot, in the community's zone) and how many settlement lines it pays.
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, { [slot]: { importWh: 0, exportWh: 800 } });
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, { [slot]: { importWh: 650, exportWh: 0 } });
    await settleDueSlots(tp.platform.db, tp.platform.events, w.communityA, Date.now(), slot + Q);
    await page.reload();
    await expect.poll(() => wallet.locator('tbody tr').count(), { timeout: 30_000 }).toBe(4);
    for (const what of ['Energy bought', 'Grid fee', 'Used beyond your trades']) {
      const row = wallet.locator('tbody tr', { hasText: what });
      await expect.poll(() => row.locator('td').nth(2).textContent()).toMatch(/^\S.*\d:\d{2}.*–.*\d:\d{2}.* · 1 settlement line$/);
    }
    await expect.poll(() => wallet.locator('tbody tr', { hasText: 'Top-up' }).locator('td').nth(2).textContent()).toBe('');

    // A posting entered without an event (as the demo's opening top-ups) waits for the next batch: no proof offered yet.
    await tp.platform.db.transaction((tx) => fundWallet(tx, w.communityA, { memberId: w.memberIdA2, amountMinor: 100n, digits: 2, reference: 'seed' }, Date.now()));
    await page.reload();
    await expect.poll(() => wallet.locator('tbody tr').count()).toBe(5);
    expect(await wallet.locator('tbody tr').first().textContent()).toContain('not yet in the record');
    expect(await wallet.locator('tbody tr').first().getByRole('button', { name: 'Proof' }).count()).toBe(0);
    expect(await wallet.locator('tbody tr').last().getByRole('button', { name: 'Proof' }).count()).toBe(1);

    const orders = page.getByRole('region', { name: 'Orders' });
    // The cleared bid is listed, closed.
    await expect.poll(() => orders.locator('tbody tr').count()).toBe(1);
    expect(await orders.locator('tbody tr').first().textContent()).toMatch(/Buy.*600.*Wh.*You.*Gate closed/);
    await orders.getByLabel('Side').selectOption('sell');
    await orders.getByLabel('Energy (Wh)').fill('250');
    await orders.getByLabel('Price per kWh').fill('0.0900');
    await orders.getByRole('button', { name: 'Place order' }).click();
    await expect.poll(() => orders.locator('tbody tr').count()).toBe(2);
    const placed = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/orders`, { token: w.memberA2.token })).body as { side: string; energyWh: number; price: string; state: string }[];
    expect(placed.filter((o) => o.state === 'open').map((o) => [o.side, o.energyWh, o.price])).toEqual([['sell', 250, '0.0900']]);
    expect(await orders.locator('tbody').textContent()).toMatch(/Sell.*250.*Wh.*You.*Open/);

    const agent = page.getByRole('region', { name: 'Automatic agent' });
    await agent.getByLabel('Let the agent trade for me').check();
    await agent.getByLabel('Sell at least at (per kWh)').fill('0.0900');
    await agent.getByLabel('Buy at most at (per kWh, grid fee included)').fill('0.2200');
    await agent.getByLabel('Share of the surplus to offer (0–1)').fill('1');
    await agent.getByLabel('Share of the need to bid for (0–1)').fill('0.5');
    await agent.getByRole('button', { name: 'Save limits' }).click();
    await expect.poll(async () => (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/market/agent-limits`, { token: w.memberA2.token })).body)
      .toMatchObject({ enabled: true, minSellPrice: '0.0900', maxBuyPrice: '0.2200', sellShare: '1', buyShare: '0.5' });
    await screenshot(page, 'market-member');
    await context.close();
    expect(errors).toEqual([]);
  });

  it('shows the manager the depth of the latest slot with trades and the market\'s statistics', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.managerA.email, w.managerA.password);
    await page.goto(`/manage/${w.communityA}/market`);
    const depth = page.getByTestId('market-depth');
    await expect.poll(() => depth.locator('tbody tr').count(), { timeout: 30_000 }).toBe(2);
    await expect.poll(() => depth.locator('[data-chart-state]').getAttribute('data-chart-state'), { timeout: 30_000 }).toBe('drawn');
    expect(await depth.locator('p').first().textContent()).toMatch(/^Cleared 600 Wh at .*0\.135.* · grid fee .*0\.01/);
    const rows = await depth.locator('tbody tr').allTextContents();
    expect(rows[0]).toMatch(/^Bids \(less the grid fee\).*0\.19.*600 Wh.*600 Wh$/);
    expect(rows[1]).toMatch(/^Offers.*0\.08.*800 Wh.*800 Wh$/);
    const statistics = page.getByTestId('market-statistics');
    await expect.poll(() => statistics.textContent()).toMatch(/Volume600 Wh1 trade in 1 slot/);
    await screenshot(page, 'market-manager');
    await context.close();
    expect(errors).toEqual([]);
  });
});
