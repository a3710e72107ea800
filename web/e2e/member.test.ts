/**
 * The member's side of the web app in a real Chromium against a real platform (PGlite only:
 * the browser drives the same API the API tests already run on both stores).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { signUp, startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { OUTBOX_JOB } from '../../server/src/platform/events/index.js';
import { NOTIFICATIONS_SENDER_JOB } from '../../server/src/notifications/index.js';
import { mailTo, smtpServer, type SmtpSink } from '../../server/test/support/smtp.js';
import { buildWorld, communityBody, joinA, type World } from '../../server/test/support/world.js';
import { addSite, bindNewDevice } from '../../server/test/support/sites.js';
import { connectDevice, deviceCredentials, readingsMessage, sasFor } from '../../server/test/support/devices.js';
import { formatter } from '../src/lib/format.js';
import en from '../src/lib/i18n/en.json' with { type: 'json' };
import de from '../src/lib/i18n/de.json' with { type: 'json' };
import { pngToY4m } from './qr-video.js';
import { collectPageErrors, launchBrowser, logIn, openContext, PHONE, rawKeysShown, screenshot, shownText, visitByKeyboard } from './browser.js';

const QUARTER = 15 * 60_000;

/** English messages a German page must not show: whole sentences and labels that German words differently. */
const ENGLISH_ONLY = Object.entries(en).filter(([key, text]) => !/[{<]/.test(text) && text.length >= 12 && text !== de[key as keyof typeof de]).map(([, text]) => text);

describe('web app: member', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;
  let base: string;
  /** Where the platform's email goes (password reset links). */
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await smtpServer();
    [tp, browser] = await Promise.all([
      startTestPlatform('pglite', { smtp: { host: '127.0.0.1', port: smtp.port, secure: false, requireTls: false, from: 'Gridshare <noreply@gridshare.test>', timeoutMs: 5_000 } }),
      launchBrowser(),
    ]);
    w = await buildWorld(tp);
    base = tp.platform.httpUrl;
  });
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
    await smtp?.close();
  });

  async function memberPage(user = w.memberA, viewport?: typeof PHONE) {
    const context = await openContext(browser, base, viewport);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await logIn(page, user.email, user.password);
    return { page, errors, close: () => context.close() };
  }

  it('signs up, logs out and logs in again through the forms; a wrong password shows the API message', async () => {
    const context = await openContext(browser, base);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const email = `browser-${Date.now()}@example.org`;
    await page.goto('/');
    await page.waitForURL('**/login?next=%2F');
    await screenshot(page, 'login');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill('Browser Person');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    // The browser's own check stops a too-short password before the API is asked.
    expect(await page.getByLabel('Password').evaluate((input: HTMLInputElement) => input.validity.tooShort)).toBe(true);
    await page.getByLabel('Password').fill('a-long-enough-password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/communities');
    await expect.poll(() => page.locator('header').textContent()).toContain('Browser Person');
    const me = await page.request.get('/api/v1/me');
    expect((await me.json()).user.email).toBe(email);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login(\?|$)/);
    expect((await page.request.get('/api/v1/me')).status()).toBe(401);

    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    const refused = await tp.call('POST', '/api/v1/auth/login', { body: { email, password: 'not-the-password' } });
    await expect.poll(() => page.getByRole('alert').textContent()).toBe(refused.body.message);

    await page.getByLabel('Password').fill('a-long-enough-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/communities');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('signs up through an emailed invitation\'s link, shows the invitation, and accepting it opens the new community', async () => {
    const email = `invited-${Date.now()}@example.org`;
    const invitation = await tp.call('POST', `/api/v1/communities/${w.communityB}/invitations`, { token: w.managerB.token, body: { email } });
    expect(invitation.status).toBe(201);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.jobs.flush(NOTIFICATIONS_SENDER_JOB);
    // The invitation's link signs up; its token proves the address, so the new account may accept at once.
    const link = /\/signup#invitation=[A-Za-z0-9_-]{43}/.exec((await mailTo(smtp, email)).text ?? '');
    expect(link).not.toBeNull();
    const context = await openContext(browser, base);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(link![0]);
    await expect.poll(() => page.getByText('You were invited by email').count()).toBe(1);
    await page.getByLabel('Your name').fill('Invited Person');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('a-long-enough-password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/communities');
    expect(await page.getByTestId('email-unverified').count()).toBe(0);
    const invitations = page.getByRole('list', { name: 'Invitations' });
    const community = (await tp.call('GET', `/api/v1/communities/${w.communityB}`, { token: w.managerB.token })).body;
    await expect.poll(() => invitations.textContent()).toContain(community.name);
    expect(await page.getByRole('navigation', { name: 'Main' }).textContent()).toContain('Communities (1 invitation)');
    await screenshot(page, 'member-invitation');
    await invitations.getByRole('button', { name: `Accept the invitation to ${community.name}` }).click();
    await page.waitForURL(/\/members\/[0-9a-f-]{36}$/);
    const me = await (await page.request.get('/api/v1/me')).json();
    expect(me.memberships).toEqual([expect.objectContaining({ communityId: w.communityB, state: 'active', role: 'member' })]);
    expect(page.url()).toContain(me.memberships[0].memberId);
    await expect.poll(() => page.getByRole('navigation', { name: 'Main' }).textContent()).not.toContain('invitation');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('changes the password and manages API tokens on the account page', async () => {
    const user = await signUp(tp, 'Settings');
    const { page, errors, close } = await memberPage(user);
    await page.goto('/account');
    await page.getByLabel('Current password').fill('not-my-password');
    await page.getByLabel('New password', { exact: true }).fill('a-new-long-password');
    await page.getByLabel('New password again').fill('a-new-long-password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('current password is wrong');
    await page.getByLabel('Current password').fill(user.password);
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Password' }).textContent())
      .toBe('Password changed. Your other sessions have ended and your API tokens were revoked.');
    // The API token the test made for this member went with the old password.
    expect((await tp.call('GET', '/api/v1/me', { token: user.token })).status).toBe(401);
    expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'a-new-long-password' } })).status).toBe(200);
    expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(401);

    await page.getByLabel('New token name').fill('my script');
    await page.getByLabel('Valid for').selectOption({ label: '30 days' });
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.locator('.secret output code').textContent())!;
    expect((await tp.call('GET', '/api/v1/me', { token })).body.user.email).toBe(user.email);
    const [listed] = (await tp.call('GET', '/api/v1/me/tokens', { token })).body as { expiresAt: string }[];
    expect(Date.parse(listed!.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    await expect.poll(() => page.getByRole('list', { name: 'API tokens' }).textContent()).toContain('expires');
    await page.getByRole('button', { name: 'Revoke my script' }).click();
    await expect.poll(async () => (await tp.call('GET', '/api/v1/me', { token })).status).toBe(401);
    await screenshot(page, 'member-account');
    expect(errors).toEqual([]);
    await close();
  });

  it('resets a forgotten password through the emailed link, once, and logs in with the new one', async () => {
    const user = await signUp(tp, 'Forgetful');
    const context = await openContext(browser, base);
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto('/login');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL('**/forgot-password');
    await page.getByLabel('Email').fill(user.email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain(user.email);
    await screenshot(page, 'forgot-password');

    const mail = await mailTo(smtp, user.email);
    const link = /http:\/\/\S+\/reset-password#token=[A-Za-z0-9_-]+/.exec(mail.text ?? '')?.[0];
    expect(link, mail.text).toBeDefined();
    expect(new URL(link!).port).toBe(new URL(base).port);
    await page.goto(link!);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Choose a new password');
    // Read once, the token leaves the address bar and the history.
    await expect.poll(() => page.url()).not.toContain('token');
    await page.getByLabel('New password', { exact: true }).fill('remembered at last');
    await page.getByLabel('New password again').fill('remembered at last');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toBe(en['resetPassword.done']);
    expect((await tp.call('GET', '/api/v1/me', { cookie: user.cookie })).status).toBe(401);

    await logIn(page, user.email, 'remembered at last');
    expect((await (await page.request.get('/api/v1/me')).json()).user.email).toBe(user.email);

    // The same link a second time: the page says it no longer works and offers a new one.
    await page.goto(link!);
    await page.getByLabel('New password', { exact: true }).fill('a second new password');
    await page.getByLabel('New password again').fill('a second new password');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe(en['resetPassword.invalid']);
    await expect.poll(() => page.getByRole('link', { name: 'Ask for a new link' }).count()).toBe(1);
    expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'remembered at last' } })).status).toBe(200);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('shows live power changing as the member\'s reader publishes over MQTT', async () => {
    const { page, errors, close } = await memberPage();
    await page.waitForURL(`**/members/${w.memberIdA}`);
    const live = page.getByRole('region', { name: 'Power now' });
    await expect.poll(() => live.textContent()).toContain('Waiting for the first reading');

    const credentials = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    const device = await connectDevice(tp, w.provisionedA, sasFor(credentials));
    const publish = (values: Record<string, number>) => device.publishAsync(`devices/${w.provisionedA}/messages/events`, readingsMessage(
      ...Object.entries(values).map(([quantity, value]) => ({ ts: new Date().toISOString(), quantity, value, unit: 'W' })),
    ), { qos: 1 });
    try {
      await publish({ 'power.import': 420, 'power.export': 0, 'pv.power': 0 });
      const stat = (label: string) => live.locator('.stat', { hasText: label }).locator('.stat-value');
      await expect.poll(() => stat('From the grid').textContent()).toBe('420 W');
      await publish({ 'power.import': 0, 'power.export': 1830, 'pv.power': 2500 });
      await expect.poll(() => stat('To the grid').textContent()).toBe('1.83 kW');
      expect(await stat('From the grid').textContent()).toBe('0 W');
      expect(await stat('Own PV').textContent()).toBe('2.5 kW');
      await screenshot(page, 'member-dashboard');
    } finally {
      await device.endAsync();
    }
    expect(errors).toEqual([]);
    await close();
  });

  it('never shows another member\'s pages: the UI says not found and the API refused', async () => {
    const { page, errors, close } = await memberPage();
    for (const path of [`/members/${w.memberIdA2}`, `/members/${w.memberIdA2}/statements`, `/members/${w.memberIdA2}/devices`, `/members/${w.memberIdB}`]) {
      const refused = page.waitForResponse((r) => r.url().endsWith(`/api/v1/members/${path.split('/')[2]}`));
      await page.goto(path);
      expect((await refused).status()).toBe(404);
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Not found');
      expect(await page.locator('main').textContent()).not.toContain('Home A2');
    }
    // The manager console of their own community is not a member's either, in the UI and the API.
    await page.goto(`/manage/${w.communityA}/devices`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Not found');
    expect((await page.request.get(`/api/v1/communities/${w.communityA}/device-batches`)).status()).toBe(403);
    await screenshot(page, 'member-not-found');
    expect(errors).toEqual([]);
    await close();
  });

  it('claims a device by opening its sticker\'s claim URL, with the code filled in', async () => {
    const batch = await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 1 } });
    const zip = await tp.call('GET', `/api/v1/device-batches/${batch.body.id}/artefacts.zip`, { token: w.managerA.token });
    const manifest = strFromU8(unzipSync(zip.raw.rawPayload)['manifest.csv']!).trim().split('\n');
    const claimUrl = new URL(manifest[1]!.split(',').at(-1)!);
    const code = claimUrl.searchParams.get('code')!;
    expect(claimUrl.pathname).toBe('/claim');

    const { page, errors, close } = await memberPage();
    await page.goto(claimUrl.pathname + claimUrl.search);
    await expect.poll(() => page.getByLabel('Claim code').inputValue()).toBe(code);
    await page.getByLabel('Site').selectOption({ label: 'Home A' });
    await screenshot(page, 'member-claim');
    // Home A has its billing meter: a second one is refused with the API's reason, and the code still works.
    expect(await page.getByLabel('What it measures there').inputValue()).toBe('billing-meter');
    await page.getByRole('button', { name: 'Claim device' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(new RegExp(`already has a billing meter, device ${w.provisionedA}`));
    await page.getByLabel('What it measures there').selectOption('sub-load');
    await page.getByRole('button', { name: 'Claim device' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Claimed' }).textContent()).toContain(batch.body.deviceIds[0]);
    // Named by its kind and id, the id said once.
    const claimedText = (await page.getByRole('status').filter({ hasText: 'Claimed' }).textContent())!;
    expect(claimedText.split(batch.body.deviceIds[0]).length - 1).toBe(1);
    expect(claimedText).toContain('meter reader');
    const device = await tp.call('GET', `/api/v1/devices/${batch.body.deviceIds[0]}`, { token: w.managerA.token });
    expect(device.body).toMatchObject({ meteringPointId: w.meteringPointA, role: 'sub-load' });

    // The code works once: a second claim shows the API's refusal.
    await page.getByLabel('Claim code').fill(code);
    await page.getByRole('button', { name: 'Claim device' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/claim code .*not found/);

    await page.getByRole('link', { name: 'See your devices' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Devices' }).textContent()).toContain(batch.body.deviceIds[0]);
    await screenshot(page, 'member-devices');
    expect(errors).toEqual([]);
    await close();
  });

  it('registers a site with its feed-in id; a consumer with one gets the API\'s refusal', async () => {
    const { page, errors, close } = await memberPage(w.memberA2);
    await page.goto(`/members/${w.memberIdA2}/devices`);
    await page.getByText('Add a site').click();
    const consumption = `AT00100000000000000010000000${process.pid % 100_000}`.slice(0, 33);
    const generation = `AT00100000000000000010000001${process.pid % 100_000}`.slice(0, 33);
    await page.getByLabel('Name').fill('Garage roof');
    await page.getByLabel('Grid connection id').fill(consumption.toLowerCase());
    await page.getByLabel('Feed-in id (optional)').fill(generation);
    await page.getByRole('button', { name: 'Add site' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/generationGridConnectionId/);
    await page.getByLabel('Role').selectOption('prosumer');
    await page.getByRole('button', { name: 'Add site' }).click();
    const points = async () => (await tp.call('GET', `/api/v1/communities/${w.communityA}/metering-points`, { token: w.managerA.token })).body as
      { name: string; gridConnectionId: string; generationGridConnectionId: string | null; role: string }[];
    await expect.poll(async () => (await points()).find((p) => p.name === 'Garage roof'))
      .toMatchObject({ gridConnectionId: consumption, generationGridConnectionId: generation, role: 'prosumer' });
    expect(errors).toEqual([]);
    await close();
  });

  it('removes a site entered by mistake, shows why a site with recorded energy stays, and leaves the community', async () => {
    const joiner = await joinA(tp, w, 'leaver');
    const mistake = await addSite(tp, w.communityA, joiner.user.token, { name: 'Typo site' });
    const reader = await bindNewDevice(tp, w.communityA, w.managerA.token, joiner.pointId);
    const start = Math.floor(Date.now() / QUARTER) * QUARTER - 2 * QUARTER;
    const readings = [0, 1].map((i) => ({ ts: new Date(start + i * QUARTER).toISOString(), quantity: 'energy.import', value: 500 + 100 * i, unit: 'Wh' }));
    expect((await tp.call('POST', `/api/v1/devices/${reader.deviceId}/readings`, { headers: { authorization: sasFor(reader) }, body: { readings } })).status).toBe(200);
    await tp.platform.intervals.flush();

    const { page, errors, close } = await memberPage(joiner.user);
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`/members/${joiner.memberId}/devices`);
    await page.getByRole('button', { name: 'Remove Typo site' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Remove Typo site' }).count()).toBe(0);
    expect((await tp.call('GET', `/api/v1/metering-points/${mistake}`, { token: w.managerA.token })).status).toBe(404);
    await page.getByRole('button', { name: 'Remove Home leaver' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/energy recorded since/);
    expect((await tp.call('GET', `/api/v1/metering-points/${joiner.pointId}`, { token: w.managerA.token })).status).toBe(200);

    await page.getByRole('button', { name: /^Leave / }).click();
    await page.waitForURL((url) => !url.pathname.startsWith('/members/'));
    expect((await tp.call('GET', `/api/v1/members/${joiner.memberId}`, { token: w.managerA.token })).body.state).toBe('left');
    expect(errors).toEqual([]);
    await close();
  });

  it('claims a device by scanning its QR sticker with the camera', async () => {
    const batch = await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 1 } });
    const deviceId = batch.body.deviceIds[0] as string;
    const qr = await tp.call('GET', `/api/v1/devices/${deviceId}/qr.png`, { token: w.managerA.token });
    const video = join(mkdtempSync(join(tmpdir(), 'gridshare-camera-')), 'sticker.y4m');
    pngToY4m(qr.raw.rawPayload, video);
    // A second browser whose camera films the sticker; the page is allowed to use it.
    const camera = await launchBrowser(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`]);
    try {
      const context = await openContext(camera, base, PHONE);
      const page = await context.newPage();
      const errors = collectPageErrors(page);
      const scripts: string[] = [];
      page.on('request', (r) => r.resourceType() === 'script' && scripts.push(r.url()));
      await logIn(page, w.memberA.email, w.memberA.password);
      await page.goto(`/members/${w.memberIdA}/devices`);
      await page.getByRole('button', { name: 'Scan the QR code' }).click();
      // The scanner stops by itself once it read a claim code, and fills it in.
      await expect.poll(() => page.getByLabel('Claim code').inputValue(), { timeout: 20_000 }).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      expect(await page.locator('video').count()).toBe(0);
      // The browser's own detector where it reads QR codes (not Chromium on Linux), else jsQR, loaded only then.
      const native = await page.evaluate(async () => {
        const detector = (window as unknown as { BarcodeDetector?: { getSupportedFormats(): Promise<string[]> } }).BarcodeDetector;
        return !!detector && (await detector.getSupportedFormats()).includes('qr_code');
      });
      expect(scripts.some((url) => /\/assets\/jsQR-/.test(url))).toBe(!native);
      await page.getByLabel('What it measures there').selectOption('production');
      await page.getByRole('button', { name: 'Claim device' }).click();
      await expect.poll(() => page.getByRole('list', { name: 'Devices' }).textContent()).toContain(deviceId);
      expect((await tp.call('GET', `/api/v1/devices/${deviceId}`, { token: w.managerA.token })).body.meteringPointId).toBe(w.meteringPointA);
      expect(errors).toEqual([]);
      await context.close();
    } finally {
      await camera.close();
      rmSync(dirname(video), { recursive: true, force: true });
    }
  });

  it('finds, compares and asks to join communities', async () => {
    await tp.call('POST', '/api/v1/communities', { token: w.managerB.token, body: communityBody('Community C', { postcode: '1200' }) });
    const { page, errors, close } = await memberPage(w.outsider);
    await page.waitForURL('**/communities');
    await page.getByLabel('Postcode').fill('1100');
    await page.getByRole('button', { name: 'Search' }).click();
    const results = page.getByRole('list', { name: 'Communities found' });
    await expect.poll(() => results.textContent()).toContain('Community A');
    await page.getByLabel('Name').fill('');
    await page.getByLabel('Postcode').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    const items = results.getByRole('listitem');
    await expect.poll(() => items.count()).toBeGreaterThan(1);
    await items.nth(0).getByRole('checkbox', { name: 'Compare' }).check();
    await items.nth(1).getByRole('checkbox', { name: 'Compare' }).check();
    await page.getByRole('button', { name: /^Compare 2 selected/ }).click();
    await expect.poll(() => page.getByRole('region', { name: 'Side by side' }).textContent()).toContain('Feed-in price');

    const communityA = results.getByRole('listitem').filter({ hasText: 'Community A' });
    await communityA.getByRole('button', { name: /Request to join/ }).click();
    await communityA.getByLabel(/Message to the managers/).fill('We live at number 7.');
    await communityA.getByRole('button', { name: 'Send request' }).click();
    await expect.poll(() => communityA.textContent()).toContain('request sent');
    const requested = await tp.call('GET', `/api/v1/communities/${w.communityA}/members?state=requested`, { token: w.managerA.token });
    expect(requested.body.map((m: { email: string; joinMessage: string }) => [m.email, m.joinMessage])).toContainEqual([w.outsider.email, 'We live at number 7.']);
    await screenshot(page, 'member-communities');
    expect(errors).toEqual([]);
    await close();
  });

  it('switches to German on the account page: every page speaks German and writes numbers and dates the German way', async () => {
    const { page, errors, close } = await memberPage(w.managerA);
    const heading = () => page.getByRole('heading', { level: 1 }).textContent();
    /** The page is German: its language, no catalog key and no English sentence shown. */
    const expectGerman = async (what: string) => {
      expect(await page.evaluate(() => document.documentElement.lang), what).toBe('de');
      expect(await rawKeysShown(page), what).toEqual([]);
      const shown = await shownText(page);
      expect(ENGLISH_ONLY.filter((text) => shown.includes(text)), what).toEqual([]);
    };
    await page.goto('/account');
    await expect.poll(heading).toBe('Account');
    await page.getByLabel('Language of Gridshare').selectOption({ label: 'Deutsch' });
    await expect.poll(heading).toBe('Konto');
    expect(await page.evaluate(() => localStorage.getItem('gridshare.language'))).toBe('de');
    await page.getByLabel('Name des neuen Tokens').fill('Skript');
    await page.getByRole('button', { name: 'Token erstellen' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'API-Tokens' }).textContent()).toMatch(/erstellt am \d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}/);
    await expectGerman('account');
    // The choice is kept in this browser: a reload starts in German.
    await page.reload();
    await expect.poll(heading).toBe('Konto');

    // The community is Austrian, its currency the euro: German prices, dates and counts.
    const fmt = formatter({ locale: 'de', currency: 'EUR', timeZone: 'Europe/Vienna' });
    await page.goto(`/manage/${w.communityA}/tariffs`);
    const tariffs = page.getByRole('region', { name: 'Tarife' });
    await expect.poll(() => tariffs.getByRole('row').filter({ hasText: 'Standard' }).textContent())
      .toBe(['Standard', '01.01.2026', fmt.pricePerKWh('0.30'), fmt.pricePerKWh('0.15'), fmt.pricePerKWh('0.07'), fmt.pricePerKWh('0'), '–'].join(''));
    expect(fmt.pricePerKWh('0.30')).toMatch(/^0,30\s€\/kWh$/);
    await expectGerman('tariffs');
    for (const [path, title] of [['', 'Übersicht'], ['/members', 'Mitglieder'], ['/devices', 'Geräte'], ['/settlements', 'Abrechnung']] as const) {
      await page.goto(`/manage/${w.communityA}${path}`);
      await expect.poll(heading).toMatch(new RegExp(`^${title} · `));
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Wird geladen' }).count()).toBe(0);
      await expectGerman(title);
    }
    await page.goto(`/manage/${w.communityA}`);
    await expect.poll(() => page.getByRole('region', { name: 'Mitglieder' }).locator('.stat', { hasText: 'Mitglieder online' }).locator('.stat-value').textContent()).toMatch(/^\d von 2$/);
    await screenshot(page, 'manager-overview-german');

    // Logged out, the login page stays German; a member's pages are German too.
    await page.getByRole('navigation', { name: 'Hauptmenü' }).getByRole('button', { name: 'Abmelden' }).click();
    await expect.poll(heading).toBe('Anmelden');
    await page.getByLabel('E-Mail').fill(w.memberA.email);
    await page.getByLabel('Passwort').fill(w.memberA.password);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await page.waitForURL((url) => url.pathname !== '/login');
    await page.goto(`/members/${w.memberIdA}`);
    await expect.poll(heading).toBe('Energie von memberA');
    const credentials = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    const device = await connectDevice(tp, w.provisionedA, sasFor(credentials));
    try {
      await device.publishAsync(`devices/${w.provisionedA}/messages/events`, readingsMessage(
        ...Object.entries({ 'power.import': 0, 'power.export': 1830, 'pv.power': 2500 }).map(([quantity, value]) => ({ ts: new Date().toISOString(), quantity, value, unit: 'W' })),
      ), { qos: 1 });
      const live = page.getByRole('region', { name: 'Leistung jetzt' });
      await expect.poll(() => live.locator('.stat', { hasText: 'Ins Netz' }).locator('.stat-value').textContent()).toBe('1,83 kW');
      expect(await live.locator('.stat', { hasText: 'Eigene PV' }).locator('.stat-value').textContent()).toBe('2,5 kW');
      await expect.poll(() => live.textContent()).toMatch(/Aktualisiert vor \d+ Sekunden?/);
    } finally {
      await device.endAsync();
    }
    await expectGerman('dashboard');
    await screenshot(page, 'member-dashboard-german');
    for (const [path, title] of [[`/members/${w.memberIdA}/statements`, 'Abrechnungen von memberA'], [`/members/${w.memberIdA}/devices`, 'Geräte von memberA'], ['/communities', 'Gemeinschaften']]) {
      await page.goto(path!);
      await expect.poll(heading).toBe(title);
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Wird geladen' }).count()).toBe(0);
      await expectGerman(title!);
    }
    // A community's size in German plurals.
    await expect.poll(() => page.getByRole('list', { name: 'Gefundene Gemeinschaften' }).textContent()).toMatch(/\d Mitglieder/);
    expect(errors).toEqual([]);
    await close();
  });

  it('lets a member at 375 px reach every page with the keyboard alone', async () => {
    const { page, errors, close } = await memberPage(w.memberA, PHONE);
    await page.waitForURL(`**/members/${w.memberIdA}`);
    await visitByKeyboard(page, [
      ['Statements', 'Statements of'],
      ['My devices', 'Devices of'],
      ['Communities', 'Communities'],
      ['Account', 'Account'],
      ['My energy', 'Energy of'],
    ], (link) => screenshot(page, `phone-${link.toLowerCase().replace(/\s+/g, '-')}`));
    // Nothing is wider than the phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(errors).toEqual([]);
    await close();
  });
});
