/** The manager's connectors page in a real Chromium against a real platform (PGlite) and an API on loopback. */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { signUp, startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { communityBody } from '../../server/test/support/world.js';
import { collectPageErrors, launchBrowser, logIn, openContext, screenshot } from './browser.js';

const TOKEN = 'e2e-vendor-token';
const QUARTER = 900_000;
const base = Math.floor(Date.now() / QUARTER) * QUARTER - 3_600_000;
const POINTS = Array.from({ length: 3 }, (_, i) => ({ t: new Date(base + i * QUARTER).toISOString(), w: 1_000 + i * 500 }));

describe('web app: connectors', () => {
  let tp: TestPlatform;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let server: Server;
  let api: string;
  let communityId: string;
  let deviceId: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(POINTS));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    api = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/power`;
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    const manager = await signUp(tp, 'connector-manager');
    communityId = (await tp.call('POST', '/api/v1/communities', { token: manager.token, body: communityBody('Connector Street') })).body.id;
    deviceId = (await tp.call('POST', `/api/v1/communities/${communityId}/devices`, { token: manager.token, body: { kind: 'heat-pump', name: 'Heat pump' } })).body.id;
    const context = await openContext(browser, tp.platform.httpUrl);
    page = await context.newPage();
    errors = collectPageErrors(page);
    await logIn(page, manager.email, manager.password);
  });
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
    server?.closeAllConnections();
    server?.close();
  });

  it('adds an http-json connector through the form the schema generates, tests it, saves it and shows it working', async () => {
    await page.goto(`/manage/${communityId}/connectors`);
    await page.getByRole('button', { name: 'Add a connector' }).click();
    await page.getByLabel('Kind').selectOption('http-json');
    await page.getByLabel('Name').fill('Vendor cloud');
    await page.locator('#config-auth').selectOption('bearer');
    await page.locator('#config-auth-token').fill(TOKEN);
    expect(await page.locator('#config-auth-token').getAttribute('type')).toBe('password');
    await page.getByRole('button', { name: 'Add to steps' }).click();
    await page.locator('#config-steps-0-url').fill(api);
    await page.locator('#config-mapping-timestamp').fill('$.t');
    await page.getByRole('button', { name: 'Add to values' }).click();
    await page.locator('#config-mapping-values-0-field').fill('$.w');
    await page.locator('#config-mapping-values-0-target').fill('heat-pump');
    await page.locator('#config-mapping-values-0-quantity').selectOption('power.import');
    await page.locator('#config-mapping-values-0-unit').fill('W');

    await page.getByRole('button', { name: 'Test' }).click();
    const result = page.getByTestId('connector-test-result');
    await expect.poll(() => result.textContent()).toContain('Read 3 readings');
    expect(await result.locator('tbody tr').count()).toBe(3);
    expect(await tp.platform.db.query('SELECT 1 FROM connector_instances')).toEqual([]);

    await page.getByRole('button', { name: 'Add a binding' }).click();
    await page.locator('#binding-target-0').fill('heat-pump');
    await page.locator('#binding-device-0').selectOption(deviceId);
    await page.getByRole('button', { name: 'Save' }).click();
    const row = page.getByTestId('connector-row').filter({ hasText: 'Vendor cloud' });

    await row.waitFor();
    await tp.platform.connectors.flush();
    await page.reload();
    await expect.poll(() => row.textContent()).toContain('working');
    expect(await row.textContent()).toContain('3 readings stored');
    await screenshot(page, 'manager-connectors');
    expect(errors).toEqual([]);
  });
});
