/** The manager console in a real Chromium against a real platform (PGlite, see member.test.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { strFromU8, unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { signUp, startTestPlatform, type TestPlatform } from '../../server/test/support/platform.js';
import { buildWorld, PARTICIPATION_START, type World } from '../../server/test/support/world.js';
import { pdfPageCount, pdfText } from '../../server/test/support/pdf.js';
import { connectDevice, deviceCredentials, sasFor } from '../../server/test/support/devices.js';
import { collectPageErrors, launchBrowser, logIn, openContext, PHONE, screenshot, typed, visitByKeyboard } from './browser.js';

describe('web app: manager', () => {
  let tp: TestPlatform;
  let w: World;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    [tp, browser] = await Promise.all([startTestPlatform('pglite'), launchBrowser()]);
    w = await buildWorld(tp);
    const context = await openContext(browser, tp.platform.httpUrl);
    page = await context.newPage();
    errors = collectPageErrors(page);
    // Rollback, disable and key rotation ask first; the manager says yes.
    page.on('dialog', (dialog) => void dialog.accept());
    await logIn(page, w.managerA.email, w.managerA.password);
  });
  afterAll(async () => {
    await browser?.close();
    await tp?.close();
  });

  const api = (path: string) => tp.call('GET', path, { token: w.managerA.token });

  it('opens on the community overview', async () => {
    await page.waitForURL(`**/manage/${w.communityA}`);
    const members = page.getByRole('region', { name: 'Members' });
    await expect.poll(() => members.textContent()).toContain('Members online');
    // Two active members; the manager, without a site, is not counted; nothing has sent a reading, so nobody is online.
    expect(await members.locator('.stat', { hasText: 'Members online' }).locator('.stat-value').textContent()).toBe('0 of 2');
    await screenshot(page, 'manager-overview-no-data');
    expect(errors).toEqual([]);
  });

  it('provisions a named batch with streamed progress, downloads its ZIP and sticker sheet, renames it and rolls it back', async () => {
    await page.goto(`/manage/${w.communityA}/devices`);
    await page.getByLabel('Batch name').fill('Bench 40 plugs');
    await page.getByLabel('Number of devices').fill('40');
    await page.getByLabel('Kind').selectOption('smart-plug');
    // Every progress label the page shows while the batch is made.
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { progressSeen: string[] }).progressSeen = []);
      new MutationObserver(() => {
        const label = document.querySelector('.progress label')?.textContent;
        if (label && seen.at(-1) !== label) seen.push(label);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const streamed = page.waitForResponse((r) => r.url().endsWith(`/communities/${w.communityA}/device-batches`) && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Provision' }).click();
    const response = await streamed;
    expect(response.request().headers().accept).toBe('application/x-ndjson');
    expect(response.headers()['content-type']).toBe('application/x-ndjson');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Provisioned' }).textContent()).toContain('Provisioned 40 devices as “Bench 40 plugs”');
    const progress = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((label) => / of 40$/.test(label))).toBe(true);
    const batches = (await api(`/api/v1/communities/${w.communityA}/device-batches`)).body as { id: string; size: number }[];
    const batch = (await api(`/api/v1/device-batches/${batches.find((b) => b.size === 40)!.id}`)).body as { id: string; deviceIds: string[] };

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the ZIP' }).click()]);
    expect(download.suggestedFilename()).toBe(`gridshare-batch-${batch.id}.zip`);
    const files = unzipSync(readFileSync((await download.path())!));
    const manifest = strFromU8(files['manifest.csv']!).trim().split('\n');
    expect(manifest).toHaveLength(41);
    for (const id of batch.deviceIds) {
      expect(manifest.some((line) => line.startsWith(`${id},smart-plug,`))).toBe(true);
      const config = JSON.parse(strFromU8(files[`devices/${id}/config.json`]!));
      expect(config.deviceId).toBe(id);
      expect([...files[`devices/${id}/qr.png`]!.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
      expect(strFromU8(files[`devices/${id}/qr.svg`]!)).toContain('<svg');
    }
    await screenshot(page, 'manager-devices');

    // The sticker sheet: 40 stickers, 24 to a page, each with its device id and claim code.
    const [sheet] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'the sticker sheet' }).click()]);
    expect(sheet.suggestedFilename()).toBe(`gridshare-stickers-${batch.id}.pdf`);
    const pdf = readFileSync((await sheet.path())!);
    expect(pdfPageCount(pdf)).toBe(2);
    const stickerText = pdfText(pdf);
    for (const line of manifest.slice(1)) {
      expect(stickerText).toContain(line.split(',')[0]);
      expect(stickerText).toContain(line.trim().split('code=')[1]);
    }
    expect(stickerText).toContain('Bench 40 plugs');

    // Renamed in its row; a name that would read backwards is refused with the API's message.
    const row = page.getByRole('list', { name: 'Batches' }).getByRole('listitem').filter({ hasText: batch.id });
    expect(await row.textContent()).toContain('Bench 40 plugs');
    await row.getByRole('button', { name: 'Rename Bench 40 plugs' }).click();
    const newName = row.getByLabel('New name of Bench 40 plugs');
    await newName.fill('plugs\u202Egnp.exe');
    await row.getByRole('button', { name: 'Save name' }).click();
    await expect.poll(() => row.getByRole('alert').textContent()).toMatch(/bidi controls/);
    await newName.fill('Street plugs');
    await row.getByRole('button', { name: 'Save name' }).click();
    await expect.poll(async () => (await api(`/api/v1/device-batches/${batch.id}`)).body.name).toBe('Street plugs');
    await expect.poll(() => row.locator('strong').first().textContent()).toBe('Street plugs');
    const [renamedSheet] = await Promise.all([page.waitForEvent('download'), row.getByRole('link', { name: 'Sticker sheet (PDF) of Street plugs' }).click()]);
    expect(pdfText(readFileSync((await renamedSheet.path())!))).toContain('Street plugs');

    await row.getByRole('button', { name: /Roll back/ }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Batches' }).getByRole('listitem').filter({ hasText: batch.id }).textContent()).toContain('rolled back');
    // The offer to download the rolled-back batch's ZIP is gone with it (its link would be a 404).
    await expect.poll(() => page.getByRole('link', { name: 'Download the ZIP' }).count()).toBe(0);
    await expect.poll(() => page.getByRole('link', { name: 'the sticker sheet' }).count()).toBe(0);
    expect(await row.getByRole('link', { name: /Sticker sheet/ }).count()).toBe(0);
    expect((await api(`/api/v1/device-batches/${batch.id}/stickers.pdf`)).status).toBe(404);
    const after = await api(`/api/v1/device-batches/${batch.id}`);
    expect(after.body.status).toBe('rolled-back');
    for (const id of batch.deviceIds) expect((await api(`/api/v1/devices/${id}`)).status).toBe(404);
    expect(errors).toEqual([]);
  });

  it('shows the API\'s message when provisioning is refused', async () => {
    await page.goto(`/manage/${w.communityA}/devices`);
    await page.getByLabel('Number of devices').evaluate((input: HTMLInputElement) => input.removeAttribute('max'));
    await page.getByLabel('Number of devices').fill('20000');
    await page.getByRole('button', { name: 'Provision' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/count/);
    expect((await api(`/api/v1/communities/${w.communityA}/device-batches`)).body.every((b: { size: number }) => b.size < 20000)).toBe(true);
  });

  it('disables a device and rotates its key', async () => {
    await page.goto(`/manage/${w.communityA}/devices`);
    const before = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    const row = page.locator(`tr[data-device-id="${w.provisionedA}"]`);
    await row.getByRole('button', { name: `Disable ${w.provisionedA}` }).click();
    await expect.poll(async () => (await api(`/api/v1/devices/${w.provisionedA}`)).body.status).toBe('disabled');
    await expect.poll(() => row.textContent()).toContain('disabled');
    await row.getByRole('button', { name: `Enable ${w.provisionedA}` }).click();
    await expect.poll(async () => (await api(`/api/v1/devices/${w.provisionedA}`)).body.status).toBe('active');

    await row.getByRole('button', { name: `Rotate primary key of ${w.provisionedA}` }).click();
    const shown = await row.locator('output code').textContent();
    const after = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    expect(after.primaryKey).not.toBe(before.primaryKey);
    expect(after.secondaryKey).toBe(before.secondaryKey);
    expect(shown).toContain(`SharedAccessKey=${after.primaryKey}`);
    expect(errors).toEqual([]);
  });

  it('shows a device whose session a second connection took over', async () => {
    const credentials = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    const original = await connectDevice(tp, w.provisionedA, sasFor(credentials));
    const clone = await connectDevice(tp, w.provisionedA, sasFor(credentials));
    await expect.poll(async () => (await api(`/api/v1/communities/${w.communityA}/device-events`)).body.length).toBe(1);
    await page.goto(`/manage/${w.communityA}/devices`);
    const events = page.getByRole('list', { name: 'Connection events' });
    await expect.poll(() => events.textContent()).toContain(`session taken over ${w.provisionedA}`);
    expect(await events.textContent()).toContain('possibly a cloned device');
    await Promise.all([original.endAsync(true), clone.endAsync()]);
    expect(errors).toEqual([]);
  });

  it('approves and rejects join requests', async () => {
    const [alice, bob] = await Promise.all([signUp(tp, 'Alice'), signUp(tp, 'Bob')]);
    const ask = (cookie: string) => tp.call('POST', `/api/v1/communities/${w.communityA}/join-requests`, { cookie, body: { message: 'please' } });
    const [aliceRequest, bobRequest] = [await ask(alice.cookie), await ask(bob.cookie)];
    await page.goto(`/manage/${w.communityA}/members`);
    const requests = page.getByRole('list', { name: 'Join requests' });
    await requests.getByRole('button', { name: /^Approve Alice/ }).click();
    await requests.getByRole('button', { name: /^Reject Bob/ }).click();
    await expect.poll(async () => (await api(`/api/v1/members/${bobRequest.body.id}`)).body.state).toBe('rejected');
    expect((await api(`/api/v1/members/${aliceRequest.body.id}`)).body.state).toBe('active');
    await expect.poll(() => page.getByRole('region', { name: 'Join requests' }).textContent()).toContain('No one is waiting');
    await screenshot(page, 'manager-members');
    expect(errors).toEqual([]);
  });

  it('invites by email and revokes the invitation', async () => {
    await page.goto(`/manage/${w.communityA}/members`);
    const section = page.getByRole('region', { name: 'Invitations' });
    await section.getByText('Invite someone').click();
    const email = `guest-${Date.now()}@example.org`;
    await section.getByLabel('Email').fill(email);
    await section.getByRole('button', { name: 'Invite' }).click();
    await expect.poll(() => section.getByRole('status').textContent()).toBe(`Invitation to ${email} recorded.`);
    const open = section.getByRole('list', { name: 'Open invitations' });
    await expect.poll(() => open.textContent()).toContain(email);
    await open.getByRole('button', { name: `Revoke the invitation to ${email}` }).click();
    await expect.poll(async () => (await api(`/api/v1/communities/${w.communityA}/invitations?state=revoked`)).body
      .map((i: { email: string }) => i.email)).toContain(email);
    await expect.poll(() => open.count()).toBe(0);
    expect(await section.textContent()).toContain('No open invitation.');
    expect(errors).toEqual([]);
  });

  it('moves the start of a member\'s part in the sharing to a local day', async () => {
    await page.goto(`/manage/${w.communityA}/members`);
    // The row's name starts with the display name; memberA's email can contain "memberA2" (it ends in the process id).
    const row = page.getByRole('region', { name: 'Members' }).getByRole('row', { name: /^memberA2 / });
    await row.locator('summary', { hasText: /change when memberA2 takes part/ }).click();
    await row.getByLabel('Takes part from').fill('01/03/2026');
    await row.getByRole('button', { name: 'Save' }).click();
    // Midnight in Vienna (UTC+1 in March) is 23:00 UTC the day before.
    await expect.poll(async () => (await api(`/api/v1/members/${w.memberIdA2}`)).body.activeFrom).toBe('2026-02-28T23:00:00.000Z');
    await expect.poll(() => row.textContent()).toMatch(/since .*2026/);
    await tp.call('PATCH', `/api/v1/members/${w.memberIdA2}`, { token: w.managerA.token, body: { activeFrom: PARTICIPATION_START } });
    expect(errors).toEqual([]);
  });

  it('adds a tariff; a refused one shows the API\'s message', async () => {
    await page.goto(`/manage/${w.communityA}/tariffs`);
    const section = page.getByRole('region', { name: 'Tariffs' });
    await section.getByText('Add a tariff').click();
    const addTariff = async (name: string, validFrom: string, [grid, community, feedIn]: string[]) => {
      await section.getByLabel('Name', { exact: true }).fill(name);
      await section.getByLabel('Valid from').fill(typed(validFrom));
      await section.getByLabel(/^Grid price/).fill(grid!);
      await section.getByLabel(/^Community price/).fill(community!);
      await section.getByLabel(/^Feed-in price/).fill(feedIn!);
      await section.getByRole('button', { name: 'Add tariff' }).click();
    };
    await addTariff('Winter 2027', '2027-01-01', ['0.3120', '0.15', '0.065']);
    await expect.poll(() => section.getByRole('table').textContent()).toContain('Winter 2027');
    const tariffs = (await api(`/api/v1/communities/${w.communityA}/tariffs`)).body as { name: string; gridPrice: string }[];
    expect(tariffs.find((t) => t.name === 'Winter 2027')?.gridPrice).toBe('0.312');

    // A tariff for a date that already has one: the API's message, nothing added.
    await addTariff('Duplicate', '2027-01-01', ['0.3', '0.1', '0.05']);
    await expect.poll(() => section.getByRole('alert').textContent()).toBeTruthy();
    expect((await api(`/api/v1/communities/${w.communityA}/tariffs`)).body).toHaveLength(tariffs.length);

    await screenshot(page, 'manager-tariffs');
    expect(errors).toEqual([]);
  });

  it('sets the allocation rule and mode, exact static shares (showing the API\'s refusal) and the CO2 intensity', async () => {
    await page.goto(`/manage/${w.communityA}/tariffs`);
    const shares = page.getByRole('region', { name: 'Static shares' });
    await expect.poll(() => shares.textContent()).toContain('does not use shares');
    await page.getByLabel('Rule', { exact: true }).selectOption('at-eeg-static');
    await page.getByRole('button', { name: 'Save allocation' }).click();
    await expect.poll(async () => (await api(`/api/v1/communities/${w.communityA}`)).body.allocationRule).toBe('at-eeg-static');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).first().textContent()).toBe('Saved: Austria EEG, static.');
    // The shares card follows the rule just saved.
    await expect.poll(() => shares.textContent()).toContain('gives each member this share');

    // Σ > 1: the page says so, the API refuses with its message, nothing is stored.
    const share = (name: string) => shares.getByLabel(name, { exact: true });
    // The manager, who has no site, is given no share.
    await expect.poll(() => share('memberA').count()).toBe(1);
    expect(await share('managerA').count()).toBe(0);
    await share('memberA').fill('0.6');
    await share('memberA2').fill('0.5');
    await expect.poll(() => shares.getByTestId('shares-sum').textContent()).toContain('1.1 — more than 1');
    await shares.getByRole('button', { name: 'Save shares' }).click();
    const refused = await tp.call('PUT', `/api/v1/communities/${w.communityA}/allocation-shares`, {
      token: w.managerA.token, body: { shares: [{ memberId: w.memberIdA, share: '0.6' }, { memberId: w.memberIdA2, share: '0.5' }] },
    });
    expect(refused.status).toBe(400);
    await expect.poll(() => shares.getByRole('alert').textContent()).toBe(refused.body.message);
    expect((await api(`/api/v1/communities/${w.communityA}/allocation-shares`)).body).toEqual([]);

    // Exact decimals, from a chosen day (local midnight in the community's zone).
    await share('memberA').fill('0.333333333');
    await share('memberA2').fill('0.5');
    await expect.poll(() => shares.getByTestId('shares-sum').textContent()).toContain('0.833333333 — 0.166666667 not shared');
    await shares.getByLabel('From (optional)').fill('01/01/2026');
    await shares.getByRole('button', { name: 'Save shares' }).click();
    await expect.poll(() => shares.getByRole('status').textContent()).toContain('Saved: shares of 2 members');
    const versions = (await api(`/api/v1/communities/${w.communityA}/allocation-shares`)).body as { validFrom: string; shares: { memberId: string; share: string }[] }[];
    expect(versions).toHaveLength(1);
    expect(versions[0]!.validFrom).toBe('2025-12-31T23:00:00.000Z');
    expect(versions[0]!.shares.map((s) => [s.memberId, s.share]).sort()).toEqual([[w.memberIdA, '0.333333333'], [w.memberIdA2, '0.5']].sort());
    await screenshot(page, 'manager-sharing');

    // The grid operator's figures instead of a rule.
    await page.getByLabel(/grid operator's figures/).check();
    await page.getByRole('button', { name: 'Save allocation' }).click();
    await expect.poll(async () => (await api(`/api/v1/communities/${w.communityA}`)).body.allocationMode).toBe('operator');
    await expect.poll(() => shares.textContent()).toContain('does not use shares');

    // CO2 intensity: a bad value gets the API's message and changes nothing; a good one is stored.
    const co2 = page.getByRole('region', { name: /CO₂ intensity/ });
    const before = (await api(`/api/v1/communities/${w.communityA}/co2-intensity`)).body;
    await co2.getByLabel('Grams of CO₂ per kWh').evaluate((input: HTMLInputElement) => input.removeAttribute('min'));
    await co2.getByLabel('Grams of CO₂ per kWh').fill('-5');
    await co2.getByRole('button', { name: 'Save intensity' }).click();
    await expect.poll(() => co2.getByRole('alert').textContent()).toMatch(/gramsPerKWh/);
    expect((await api(`/api/v1/communities/${w.communityA}/co2-intensity`)).body).toEqual(before);
    await co2.getByLabel('Grams of CO₂ per kWh').fill('215.5');
    await co2.getByRole('button', { name: 'Save intensity' }).click();
    await expect.poll(async () => (await api(`/api/v1/communities/${w.communityA}/co2-intensity`)).body.gramsPerKWh).toBe(215.5);
    expect(errors).toEqual([]);
  });

  it('uploads a Spanish coefficient file; a broken one shows the API\'s message and changes nothing', async () => {
    await page.goto(`/manage/${w.communityA}/tariffs`);
    const card = page.getByRole('region', { name: 'Coefficient files' });
    await expect.poll(() => card.getByTestId('coefficient-coverage').textContent()).toBe('No coefficients uploaded.');
    const cupsA2 = (await api(`/api/v1/metering-points/${w.meteringPointA2}`)).body.gridConnectionId as string;
    const file = (text: string) => ({ name: 'ES0031405000000001AB0F_2026.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });

    await card.getByLabel('File', { exact: true }).setInputFiles(file(`${cupsA2};1;0,6\n${cupsA2};1;0,5\n`));
    await card.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => card.getByRole('alert').textContent()).toMatch(/line 2: .* two coefficients/);
    expect((await api(`/api/v1/communities/${w.communityA}/allocation-coefficients`)).body.periods).toBe(0);

    await card.getByLabel('File', { exact: true }).setInputFiles(file(`${cupsA2};1;0,5\n${cupsA2};2;0,5\nES0031999999999999ZZ0F;2;0,5\n`));
    await card.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => card.getByRole('status').textContent()).toContain('Stored 2 coefficients for 2 periods of 60 minutes. Not in this community (their part goes to the grid): ES0031999999999999ZZ0F.');
    // Hour 1 of 2026 in Spain starts at local midnight, 23:00 UTC the day before.
    expect((await api(`/api/v1/communities/${w.communityA}/allocation-coefficients`)).body)
      .toEqual({ periods: 2, from: '2025-12-31T23:00:00.000Z', to: '2026-01-01T01:00:00.000Z', periodMinutes: [60] });
    await expect.poll(() => card.getByTestId('coefficient-coverage').textContent()).toMatch(/^2 periods from/);
    expect(errors).toEqual([]);
  });

  it('marks a site as the community battery', async () => {
    await page.goto(`/manage/${w.communityA}/members`);
    const battery = page.getByRole('checkbox', { name: 'Home A2 is the community battery' });
    expect(await battery.isChecked()).toBe(false);
    await battery.check();
    await expect.poll(async () => (await api(`/api/v1/metering-points/${w.meteringPointA2}`)).body.communityBattery).toBe(true);
    await battery.uncheck();
    await expect.poll(async () => (await api(`/api/v1/metering-points/${w.meteringPointA2}`)).body.communityBattery).toBe(false);
    expect(errors).toEqual([]);
  });

  it('changes a device\'s role on its site, showing the API\'s refusal of a second billing meter', async () => {
    await page.goto(`/manage/${w.communityA}/devices`);
    const sub = page.getByLabel(`Role of ${w.deviceA} on its site`);
    expect(await sub.inputValue()).toBe('sub-load');
    await sub.selectOption('billing-meter');
    await expect.poll(() => page.locator(`tr[data-device-id="${w.deviceA}"]`).getByRole('alert').textContent()).toMatch(new RegExp(`already has a billing meter, device ${w.provisionedA}`));
    expect((await api(`/api/v1/devices/${w.deviceA}`)).body.role).toBe('sub-load');
    await page.getByLabel(`Role of ${w.deviceA} on its site`).selectOption('production');
    await expect.poll(async () => (await api(`/api/v1/devices/${w.deviceA}`)).body.role).toBe('production');
    expect(errors).toEqual([]);
  });

  it('shows implausible quarter hours with the device and readings behind them', async () => {
    // 30 kWh in a quarter hour on a household connection (at most 10.9 kWh).
    const credentials = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    const start = Math.floor(Date.now() / 900_000) * 900_000 - 4 * 900_000;
    const readings = [0, 1, 2].map((q) => ({ ts: new Date(start + q * 900_000).toISOString(), quantity: 'energy.import', value: 3_000_000 + q * 30_000, unit: 'Wh' }));
    expect((await tp.call('POST', `/api/v1/devices/${w.provisionedA}/readings`, { headers: { authorization: sasFor(credentials) }, body: { readings } })).status).toBe(200);
    await tp.platform.intervals.flush();
    await page.goto(`/manage/${w.communityA}`);
    const panel = page.getByRole('region', { name: 'Data quality' });
    await expect.poll(() => panel.textContent(), { timeout: 10_000 }).toContain('Home A');
    const text = await panel.textContent();
    expect(text).toContain(w.provisionedA);
    expect(text).toContain('energy.import');
    await screenshot(page, 'manager-data-quality');
    expect(errors).toEqual([]);
  });

  it('reaches every manager page by keyboard at 375 px', async () => {
    const context = await openContext(browser, tp.platform.httpUrl, PHONE);
    const phone = await context.newPage();
    await logIn(phone, w.managerA.email, w.managerA.password);
    await phone.waitForURL(`**/manage/${w.communityA}`);
    await visitByKeyboard(phone, [['Members', 'Members'], ['Devices', 'Devices'], ['Sharing & tariffs', 'Sharing and tariffs'], ['Settlement', 'Settlement'], ['Overview', 'Overview']]);
    await screenshot(phone, 'phone-manager-overview-no-data');
    await context.close();
  });
});
