/** The platform admins' console in a real Chromium against a real platform (PGlite). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { signUp, startTestPlatform, type TestPlatform, type TestUser } from '../../server/test/support/platform.js';
import { formatVerifierKey, SIGNATURE_TYPE } from '../../server/src/ledger/domain/index.js';
import { ed25519PublicKey } from '../../server/src/ledger/domain/crypto.js';
import { OUTBOX_JOB } from '../../server/src/platform/events/index.js';
import { collectPageErrors, launchBrowser, logIn, openContext, rawKeysShown, screenshot } from './browser.js';

describe('web app: admin console', () => {
  let tp: TestPlatform;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let manager: TestUser;
  /** How far the job runner's clock is ahead of the real one. */
  let jobsAhead = 0;

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite', { jobs: { now: () => Date.now() + jobsAhead } }), launchBrowser()]);
    manager = await signUp(tp, 'future-manager');
    const context = await openContext(browser, tp.platform.httpUrl);
    page = await context.newPage();
    errors = collectPageErrors(page);
    await logIn(page, tp.admin.email, tp.admin.password);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  it('creates a community for an existing account and sets its device quota', async () => {
    await page.getByRole('link', { name: 'All communities' }).click();
    await page.getByLabel('Name', { exact: true }).first().fill('Admin Made Street');
    await page.getByLabel('Manager\'s email').fill(manager.email);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Admin Made Street was created.' }).waitFor();
    const row = page.locator('li[data-community="Admin Made Street"]');
    // A manager without a site of their own is not counted as a member.
    await expect.poll(() => row.textContent()).toContain('0 members');

    await row.getByText('Edit, quota, suspend').click();
    await row.getByLabel('Device limit').fill('5');
    await row.getByRole('button', { name: 'Set limit' }).click();
    await expect.poll(() => row.textContent()).toContain('Now 5, set for this community');
    const communityId = (await tp.call('GET', '/api/v1/admin/communities?q=Admin%20Made', { token: tp.admin.token })).body[0].id;
    const quotas = await tp.call('GET', `/api/v1/communities/${communityId}/quotas`, { token: manager.token });
    expect(quotas.body).toEqual({ limits: { devicesPerCommunity: 5 }, grants: { devicesPerCommunity: 5 } });
    expect(await rawKeysShown(page)).toEqual([]);
    await screenshot(page, 'admin-communities');
  });

  it('shows a job lagging once it was paused and work waited for it', async () => {
    await page.getByRole('link', { name: 'Installation health' }).click();
    const privacy = page.locator('tr[data-job="privacy"]');
    await privacy.getByRole('button', { name: 'Pause privacy' }).click();
    await expect.poll(() => privacy.textContent()).toContain('paused');
    tp.platform.jobs.wake('privacy');
    jobsAhead += 10 * 60_000;
    await page.reload();
    await expect.poll(() => privacy.textContent()).toContain('lagging 10 min');

    await privacy.getByRole('button', { name: 'Resume privacy' }).click();
    await tp.platform.privacy.flush();
    await page.reload();
    await expect.poll(() => privacy.textContent()).not.toContain('lagging');
    expect(await page.getByRole('heading', { name: 'Background jobs' }).count()).toBe(1);
    expect(await rawKeysShown(page)).toEqual([]);
    await screenshot(page, 'admin-health');
  });

  it('shows the record\'s key, and adds, lists and removes a witness', async () => {
    await page.getByRole('link', { name: 'Record and witnesses' }).click();
    const key = (await tp.call('GET', '/api/v1/ledger/key')).body;
    await expect.poll(() => page.getByTestId('verifier-key').textContent()).toBe(key.verifierKey);
    expect(await page.getByTestId('did').textContent()).toBe(key.did);
    expect(await page.getByTestId('ledger-key').textContent()).toContain(key.origin);

    const keyField = page.getByLabel('Witness\'s verifier key');
    const urlField = page.getByLabel('Submission URL');
    const add = page.getByRole('button', { name: 'Add witness' });
    await keyField.fill('not-a-witness-key');
    await urlField.fill('http://127.0.0.1:9');
    await add.click();
    // The API's refusal names the key field, and shows beside it.
    const keyError = page.locator('#witness-verifierKey-error').getByRole('alert');
    await expect.poll(() => keyError.textContent()).toContain('body/verifierKey');
    expect(await keyField.getAttribute('aria-invalid')).toBe('true');
    expect((await tp.call('GET', '/api/v1/ledger/witnesses', { token: tp.admin.token })).body).toEqual([]);

    const name = 'e2e.witness/1';
    await keyField.fill(formatVerifierKey(name, SIGNATURE_TYPE.cosignatureV1, ed25519PublicKey(new Uint8Array(32).fill(9))));
    await add.click();
    await page.getByRole('status').filter({ hasText: `Witness ${name} was added.` }).waitFor();
    expect(await keyError.count()).toBe(0);
    const row = page.locator(`tr[data-witness="${name}"]`);
    await expect.poll(() => row.textContent()).toContain('http://127.0.0.1:9');

    // A tariff is a money-relevant change: the log grows, and the next checkpoint goes to the
    // witness. Nothing listens there: the attempt shows as the witness's last error.
    const communityId = (await tp.call('GET', '/api/v1/admin/communities?q=Admin%20Made', { token: tp.admin.token })).body[0].id;
    const tariff = await tp.call('POST', `/api/v1/communities/${communityId}/tariffs`, {
      token: manager.token, body: { name: 'Witnessed tariff', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', validFrom: '2027-02-01' },
    });
    expect(tariff.status).toBe(201);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    await page.reload();
    await expect.poll(() => row.textContent()).toContain('cannot reach http://127.0.0.1:9');
    expect(await rawKeysShown(page)).toEqual([]);
    await screenshot(page, 'admin-ledger');

    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: `Remove ${name}` }).click();
    await expect.poll(() => row.count()).toBe(0);
    expect((await tp.call('GET', '/api/v1/ledger/witnesses', { token: tp.admin.token })).body).toEqual([]);
  });

  it('is not there for a manager: no link, and its pages are not found', async () => {
    const context = await openContext(browser, tp.platform.httpUrl);
    const other = await context.newPage();
    await logIn(other, manager.email, manager.password);
    expect(await other.getByRole('link', { name: 'Installation health' }).count()).toBe(0);
    await other.goto('/admin/users');
    await other.getByRole('heading', { name: 'Not found' }).waitFor();
    expect(await other.getByRole('button', { name: 'Lock' }).count()).toBe(0);
    await context.close();
    expect(errors).toEqual([]);
  });
});
