import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strFromU8, unzipSync } from 'fflate';
import { decodeQrModules } from '../support/qr.js';
import { contentText, pdfContentStreams, pdfPageCount, pdfText, qrMatricesIn } from '../support/pdf.js';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, communityBody, type World } from '../support/world.js';

interface BatchBody {
  id: string;
  communityId: string;
  name: string;
  size: number;
  status: string;
  deviceIds: string[];
}

describe.each(platformStoreKinds)('batch names and sticker sheets on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  });
  afterAll(() => tp?.close());

  const newCommunity = async (extra: Record<string, unknown> = {}) =>
    (await tp.call('POST', '/api/v1/communities', { token: w.managerA.token, body: communityBody(unique('Stickers '), extra) })).body.id as string;
  const provision = async (communityId: string, body: Record<string, unknown>) => {
    const response = await tp.call('POST', `/api/v1/communities/${communityId}/device-batches`, { token: w.managerA.token, body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body as BatchBody;
  };
  const batchesOf = async (communityId: string) =>
    (await tp.call('GET', `/api/v1/communities/${communityId}/device-batches`, { token: w.managerA.token })).body as BatchBody[];
  const stickers = (batchId: string, query = '', token = w.managerA.token) => tp.call('GET', `/api/v1/device-batches/${batchId}/stickers.pdf${query}`, { token });
  /** Device id → claim code, from the batch ZIP's manifest (the only place the codes are in the clear). */
  const claimCodes = async (batchId: string) => {
    const zip = await tp.call('GET', `/api/v1/device-batches/${batchId}/artefacts.zip`, { token: w.managerA.token });
    const lines = strFromU8(unzipSync(zip.raw.rawPayload)['manifest.csv']!).trim().split('\r\n').slice(1);
    return new Map(lines.map((line) => [line.split(',')[0]!, line.split('code=')[1]!]));
  };

  it('numbers unnamed batches per community, in its language, counting rolled back ones; a given name is kept', async () => {
    const community = await newCommunity();
    const first = await provision(community, { count: 1 });
    expect(first.name).toBe('Batch 1');
    await tp.call('POST', `/api/v1/device-batches/${first.id}/rollback`, { token: w.managerA.token, body: {} });
    expect((await provision(community, { count: 1 })).name).toBe('Batch 2');
    const named = await provision(community, { count: 1, name: '  Hofstraße – Keller  ' });
    expect(named.name).toBe('Hofstraße – Keller');
    expect((await provision(community, { count: 1 })).name).toBe('Batch 4');
    // Names are in the list (newest first) and in the batch itself.
    expect((await batchesOf(community)).map((b) => b.name)).toEqual(['Batch 4', 'Hofstraße – Keller', 'Batch 2', 'Batch 1']);
    expect((await tp.call('GET', `/api/v1/device-batches/${named.id}`, { token: w.managerA.token })).body.name).toBe('Hofstraße – Keller');

    // Another community counts its own; a German one says "Charge".
    const german = await newCommunity({ locale: 'de-AT' });
    expect((await provision(german, { count: 1 })).name).toBe('Charge 1');
  });

  it('refuses bad names with a 400 that says what is wrong, and creates nothing', async () => {
    const community = await newCommunity();
    const bad: [string, RegExp][] = [
      ['', /body\/name/],
      ['   ', /1 to 80 characters/],
      ['x'.repeat(81), /80/],
      ['🔌'.repeat(81), /80/],
      ['Bell\u0007', /control characters.*U\+0007 at character 5/],
      ['two\nlines', /control characters or line breaks.*U\+000A/],
      ['tab\there', /U\+0009/],
      ['del\u007f', /U\+007F/],
      ['sep\u2028arator', /line breaks.*U\+2028/],
      ['invoice\u202Efdp.exe', /bidi controls.*U\+202E at character 8/],
      ['isolate\u2066x\u2069', /bidi controls.*U\+2066/],
      ['mark\u200F', /bidi controls.*U\+200F/],
      ['broken \uD800', /unpaired surrogate/],
    ];
    for (const [name, message] of bad) {
      const response = await tp.call('POST', `/api/v1/communities/${community}/device-batches`, { token: w.managerA.token, body: { count: 1, name } });
      expect(response.status, JSON.stringify(name)).toBe(400);
      expect(response.body.field, JSON.stringify(name)).toBe('body/name');
      expect(response.body.message, JSON.stringify(name)).toMatch(message);
    }
    for (const name of [123, null, ['a']]) {
      expect((await tp.call('POST', `/api/v1/communities/${community}/device-batches`, { token: w.managerA.token, body: { count: 1, name } })).status).toBe(400);
    }
    expect(await batchesOf(community)).toEqual([]);
    // The longest name counts characters, not UTF-16 units or bytes: 80 plugs are fine.
    expect((await provision(community, { count: 1, name: '🔌'.repeat(80) })).name).toBe('🔌'.repeat(80));
  });

  it('renames a batch for its managers only; bad names are refused and change nothing', async () => {
    const batch = await provision(w.communityA, { count: 1 });
    const rename = (name: unknown, token = w.managerA.token) => tp.call('PATCH', `/api/v1/device-batches/${batch.id}`, { token, body: { name } });
    const nameNow = async () => (await batchesOf(w.communityA)).find((b) => b.id === batch.id)!.name;

    const renamed = await rename(' Street lamps ');
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: batch.id, name: 'Street lamps', size: 1, status: 'active' });
    expect(await nameNow()).toBe('Street lamps');

    for (const name of ['', 'x'.repeat(81), 'a\u202Eb', 'a\rb', 42]) {
      const response = await rename(name);
      expect(response.status, JSON.stringify(name)).toBe(400);
      expect(response.body.field).toBe('body/name');
    }
    expect((await tp.call('PATCH', `/api/v1/device-batches/${batch.id}`, { token: w.managerA.token, body: { name: 'ok', size: 5 } })).status).toBe(400);
    // A member of the community is refused, someone from elsewhere does not learn the batch exists.
    expect((await rename('Mine now', w.memberA.token)).status).toBe(403);
    expect((await rename('Mine now', w.managerB.token)).status).toBe(404);
    expect((await tp.call('PATCH', `/api/v1/device-batches/${batch.id}`, { body: { name: 'Mine now' } })).status).toBe(401);
    expect((await rename('Mine now', w.memberB.token)).status).toBe(404);
    expect((await tp.call('PATCH', `/api/v1/device-batches/${crypto.randomUUID()}`, { token: w.managerA.token, body: { name: 'x' } })).status).toBe(404);
    expect(await nameNow()).toBe('Street lamps');
    // A rolled back batch keeps its place in the list, and can still be renamed.
    await tp.call('POST', `/api/v1/device-batches/${batch.id}/rollback`, { token: w.managerA.token, body: {} });
    expect((await rename('Old lamps')).body).toMatchObject({ name: 'Old lamps', status: 'rolled-back' });
  });

  it('draws a sticker per device, 24 to an A4 page: QR code of the claim URL, claim code, device id', async () => {
    const batch = await provision(w.communityA, { count: 30, name: 'Thirty readers' });
    const codes = await claimCodes(batch.id);
    const response = await stickers(batch.id);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="gridshare-stickers-${batch.id}.pdf"`);
    const pdf = response.raw.rawPayload;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toMatch(/%%EOF\s*$/);
    expect(pdfPageCount(pdf)).toBe(2);
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 595\.28 841\.89\]/);

    const pages = pdfContentStreams(pdf);
    expect(pages).toHaveLength(2);
    const text = pdfText(pdf);
    for (const [deviceId, code] of codes) {
      expect(text).toContain(deviceId);
      expect(text).toContain(code);
    }
    expect(text).toContain('Claim code');
    expect(text).toContain('Thirty readers');
    // 24 stickers on the first page, 6 on the second; each QR code scans to its device's claim URL.
    const claimUrls = [...codes.values()].map((code) => `${tp.platform.endpoints.publicUrl}/claim?code=${code}`);
    const scanned = pages.flatMap((page) => qrMatricesIn(page).map((matrix) => decodeQrModules(matrix)));
    expect(pages.map((page) => qrMatricesIn(page).length)).toEqual([24, 6]);
    expect(scanned).toEqual(claimUrls);
    // Each page carries its own devices, in the order they were made.
    const ids = [...codes.keys()];
    for (const [page, onIt] of [[0, ids.slice(0, 24)], [1, ids.slice(24)]] as const) {
      const pageText = contentText(pages[page]!);
      for (const id of ids) expect(pageText.includes(id), `${id} on page ${page + 1}`).toBe(onIt.includes(id));
    }
  });

  it('draws large sheets off the event loop too, in the language asked for, else the community\'s', async () => {
    const batch = await provision(w.communityA, { count: 60, name: 'Sixty plugs' });
    const response = await stickers(batch.id, '?lang=de');
    expect(response.status).toBe(200);
    const pdf = response.raw.rawPayload;
    expect(pdfPageCount(pdf)).toBe(3);
    const text = pdfText(pdf);
    expect(text).toContain('Übernahmecode');
    expect(text).not.toContain('Claim code');
    for (const id of batch.deviceIds) expect(text).toContain(id);
    expect(pdfContentStreams(pdf).map((page) => qrMatricesIn(page).length)).toEqual([24, 24, 12]);

    const german = await newCommunity({ locale: 'de-AT' });
    const small = await provision(german, { count: 1, name: 'Ü-Wägen €' });
    const germanText = pdfText((await stickers(small.id)).raw.rawPayload);
    expect(germanText).toContain('Übernahmecode');
    expect(germanText).toContain('Ü-Wägen €');
    expect(pdfText((await stickers(small.id, '?lang=en')).raw.rawPayload)).toContain('Claim code');
    expect((await stickers(small.id, '?lang=fr')).status).toBe(400);
  });

  it('is drawn from the batch as it is now: a partial rollback leaves the kept devices, a full one a 404', async () => {
    const batch = await provision(w.communityA, { count: 3 });
    const codes = await claimCodes(batch.id);
    const [kept] = batch.deviceIds as [string];
    const claim = await tp.call('POST', '/api/v1/claims', { token: w.memberA.token, body: { code: codes.get(kept), meteringPointId: w.meteringPointA, role: 'sub-load' } });
    expect(claim.status).toBe(200);
    const partial = await tp.call('POST', `/api/v1/device-batches/${batch.id}/rollback`, { token: w.managerA.token, body: {} });
    expect(partial.body).toMatchObject({ status: 'active', kept: [{ deviceId: kept }] });

    const afterPartial = await stickers(batch.id);
    expect(afterPartial.status).toBe(200);
    const text = pdfText(afterPartial.raw.rawPayload);
    expect(text).toContain(kept);
    for (const removed of partial.body.removed as string[]) {
      expect(text).not.toContain(removed);
      expect(text).not.toContain(codes.get(removed));
    }
    expect(pdfPageCount(afterPartial.raw.rawPayload)).toBe(1);

    // Renamed after it was made: the sheet says the new name.
    await tp.call('PATCH', `/api/v1/device-batches/${batch.id}`, { token: w.managerA.token, body: { name: 'Kept one' } });
    expect(pdfText((await stickers(batch.id)).raw.rawPayload)).toContain('Kept one');

    await tp.call('POST', `/api/v1/device-batches/${batch.id}/rollback`, { token: w.managerA.token, body: { force: true } });
    const gone = await stickers(batch.id);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: 'not_found', message: expect.stringContaining('sticker sheet') });
  });

  it('is for the community\'s managers only', async () => {
    const batch = await provision(w.communityA, { count: 1 });
    expect((await stickers(batch.id, '', w.memberA.token)).status).toBe(403);
    expect((await stickers(batch.id, '', w.managerB.token)).status).toBe(404);
    expect((await stickers(batch.id, '', w.memberB.token)).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/device-batches/${batch.id}/stickers.pdf`)).status).toBe(401);
    expect((await stickers(crypto.randomUUID())).status).toBe(404);
    expect((await stickers('not-a-uuid')).status).toBe(400);
  });
});
