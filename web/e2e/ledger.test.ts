/**
 * The verifiable record in a real Chromium (on PGlite): a member's browser verifies a statement of a
 * closed month (signed by the community's key) and refuses one altered on its way; the manager
 * reads the ledger page and the community's published did:key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, type World } from '../../server/test/support/world.js';
import { confirmedCloseUrl } from '../../server/test/support/settlements.js';
import { OUTBOX_JOB } from '../../server/src/platform/events/index.js';
import { collectPageErrors, launchBrowser, logIn, openContext, screenshot } from './browser.js';

describe('web app: the verifiable record', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    w = await buildWorld(tp);
    const draft = await tp.call('POST', `/api/v1/communities/${w.communityA}/settlements`, { token: w.managerA.token, body: { period: '2025-11' } });
    await tp.call('POST', await confirmedCloseUrl(tp, w.managerA.token, draft.body.id), { token: w.managerA.token });
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  it('shows a member their statement as verified, and the manager the record\'s size and checkpoint', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, w.memberA.email, w.memberA.password);
    await page.goto(`/members/${w.memberIdA}/statements`);
    await page.getByRole('link', { name: /^Verify/ }).first().click();
    const result = page.getByTestId('verify-result');
    await expect.poll(() => result.textContent()).toMatch(/^Verified.*This statement is entry \d+ of the community's public record of \d+ entries/);
    await expect.poll(() => page.getByRole('link', { name: 'Receipt (receipt.json)' }).count()).toBe(1);
    await expect.poll(() => page.getByTestId('verify-community-signature').textContent()).toBe('Valid: the entry is signed with the community\'s key');
    await screenshot(page, 'ledger-member');
    await context.close();

    const manager = await openContext(browser, tp.platform.httpUrl);
    const managerPage = await manager.newPage();
    errors.push(...collectPageErrors(managerPage));
    await logIn(managerPage, w.managerA.email, w.managerA.password);
    await managerPage.goto(`/manage/${w.communityA}/ledger`);
    const stats = managerPage.getByTestId('ledger-stats');
    await expect.poll(() => stats.textContent()).toMatch(/Entries \(all communities\)\d+/);
    const published = (await tp.call('GET', `/api/v1/ledger/communities/${w.communityA}/key`)).body.did as string;
    await expect.poll(() => managerPage.getByTestId('ledger-community-key').textContent()).toContain(published);
    await screenshot(managerPage, 'ledger-manager');
    await manager.close();
    expect(errors).toEqual([]);
  });

  it('checks the statement in the browser: a statement altered on its way is refused, and the server\'s verdict is never asked for', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    const asked: string[] = [];
    page.on('request', (request) => asked.push(new URL(request.url()).pathname));
    await page.route('**/statement.json', async (route) => {
      const response = await route.fetch();
      // One figure changed by one: what a server or proxy that altered the statement would send.
      const altered = (await response.text()).replace(/"(\w*[Ww]h)":(\d+)/, (_, key: string, value: string) => `"${key}":${Number(value) + 1}`);
      await route.fulfill({ response, body: altered });
    });
    await logIn(page, w.memberA.email, w.memberA.password);
    await page.goto(`/members/${w.memberIdA}/statements`);
    await page.getByRole('link', { name: /^Verify/ }).first().click();
    const result = page.getByTestId('verify-result');
    await expect.poll(() => result.textContent()).toMatch(/^Not verified in your browser.*\(entry_mismatch\).*not the document the entry commits to/);
    expect(asked.some((path) => path.endsWith('/statement.json'))).toBe(true);
    expect(asked.some((path) => path.endsWith('/verification'))).toBe(false);
    await context.close();
  });

  it('says "not checked", not "not verified", in a browser whose WebCrypto has no Ed25519', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const page = await context.newPage();
    // What an older browser answers for Ed25519 (Chrome before 137, Safari before 17, Firefox before 129).
    await page.addInitScript(() => {
      const importKey = crypto.subtle.importKey.bind(crypto.subtle);
      crypto.subtle.importKey = ((...args: Parameters<SubtleCrypto['importKey']>) => {
        const algorithm = args[2];
        if ((typeof algorithm === 'string' ? algorithm : algorithm.name) === 'Ed25519') return Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'));
        return importKey(...args);
      }) as SubtleCrypto['importKey'];
    });
    await logIn(page, w.memberA.email, w.memberA.password);
    await page.goto(`/members/${w.memberIdA}/statements`);
    await page.getByRole('link', { name: /^Verify/ }).first().click();
    const result = page.getByTestId('verify-result');
    await expect.poll(() => result.textContent()).toMatch(/^Not checked in this browserNothing was checked, and nothing was found wrong: this browser cannot verify Ed25519 signatures/);
    await expect.poll(() => page.getByRole('link', { name: 'Receipt (receipt.json)' }).count()).toBe(1);
    await context.close();
  });
});
