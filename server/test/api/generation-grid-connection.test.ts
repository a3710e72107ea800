import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';

/**
 * A metering point's second id for what it feeds in (an Austrian prosumer's generation
 * Zählpunkt): accepted and returned by the registry API, only on points that feed in, and never
 * an id that another point of the community (or the point itself) already uses.
 */
describe.each(platformStoreKinds)('generation grid connection ids on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  const create = (token: string, body: Record<string, unknown>, communityId = w.communityA) =>
    tp.call('POST', `/api/v1/communities/${communityId}/metering-points`, { token, body });
  const patch = (token: string, id: string, body: Record<string, unknown>) => tp.call('PATCH', `/api/v1/metering-points/${id}`, { token, body });

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  });
  afterAll(() => tp?.close());

  it('creates, reads, lists, changes and removes a prosumer\'s generation id', async () => {
    const [consumption, generation, other] = [unique('ATC'), unique('ATG'), unique('ATH')];
    const created = await create(w.memberA.token, { name: 'Home with PV', gridConnectionId: consumption, generationGridConnectionId: generation, role: 'prosumer' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ gridConnectionId: consumption, generationGridConnectionId: generation, role: 'prosumer' });
    const read = await tp.call('GET', `/api/v1/metering-points/${created.body.id}`, { token: w.memberA.token });
    expect(read.body.generationGridConnectionId).toBe(generation);
    const listed = await tp.call('GET', `/api/v1/communities/${w.communityA}/metering-points`, { token: w.managerA.token });
    expect(listed.body.find((p: { id: string }) => p.id === created.body.id)).toMatchObject({ generationGridConnectionId: generation });

    // A patch without the field keeps it; a new value replaces it; null removes it.
    expect((await patch(w.memberA.token, created.body.id, { name: 'Home' })).body).toMatchObject({ name: 'Home', generationGridConnectionId: generation });
    expect((await patch(w.memberA.token, created.body.id, { generationGridConnectionId: other })).body.generationGridConnectionId).toBe(other);
    // The two ids swapped in one patch: each stays one point's.
    const swapped = await patch(w.memberA.token, created.body.id, { gridConnectionId: other, generationGridConnectionId: consumption });
    expect(swapped.status, JSON.stringify(swapped.body)).toBe(200);
    expect(swapped.body).toMatchObject({ gridConnectionId: other, generationGridConnectionId: consumption });
    expect((await patch(w.memberA.token, created.body.id, { generationGridConnectionId: null })).body.generationGridConnectionId).toBeNull();
    // Given up, the id is free for another point.
    expect((await create(w.memberA2.token, { name: 'Neighbour', gridConnectionId: consumption, role: 'consumer' })).status).toBe(201);
  });

  it('returns null for a point without one', async () => {
    const created = await create(w.memberA.token, { name: 'Flat', gridConnectionId: unique('ATF'), role: 'consumer' });
    expect(created.status).toBe(201);
    expect(created.body.generationGridConnectionId).toBeNull();
  });

  it('refuses an id that another point of the community has, as either id (409), and allows it in another community', async () => {
    const [consumption, generation] = [unique('ATC'), unique('ATG')];
    const first = await create(w.memberA.token, { name: 'First', gridConnectionId: consumption, generationGridConnectionId: generation, role: 'prosumer' });
    expect(first.status).toBe(201);
    const clashes = [
      { gridConnectionId: generation, role: 'consumer' },
      { gridConnectionId: unique('ATX'), generationGridConnectionId: consumption, role: 'prosumer' },
      { gridConnectionId: unique('ATX'), generationGridConnectionId: generation, role: 'producer' },
    ];
    for (const body of clashes) {
      const response = await create(w.memberA2.token, { name: 'Clash', ...body });
      expect(response.status, JSON.stringify(body)).toBe(409);
      expect(response.body).toMatchObject({ error: 'conflict', message: expect.stringMatching(/already registered in the community/) });
    }
    const second = await create(w.memberA2.token, { name: 'Second', gridConnectionId: unique('ATS'), role: 'prosumer' });
    expect((await patch(w.memberA2.token, second.body.id, { generationGridConnectionId: consumption })).status).toBe(409);
    expect((await patch(w.memberA2.token, second.body.id, { gridConnectionId: generation })).status).toBe(409);
    expect((await tp.call('GET', `/api/v1/metering-points/${second.body.id}`, { token: w.memberA2.token })).body.generationGridConnectionId).toBeNull();

    // The database refuses it too, whatever the service checked (e.g. two writes at once).
    await expect(tp.platform.db.query('UPDATE metering_points SET generation_grid_connection_id = $1 WHERE id = $2', [consumption, second.body.id]))
      .rejects.toMatchObject({ code: '23505' });
    expect((await create(w.memberB.token, { name: 'Elsewhere', gridConnectionId: generation, generationGridConnectionId: consumption, role: 'prosumer' }, w.communityB)).status)
      .toBe(201);
  });

  it('refuses a generation id on a consumer point and the consumption id again (400)', async () => {
    const id = unique('ATC');
    const consumer = await create(w.memberA.token, { name: 'Consumer', gridConnectionId: id, generationGridConnectionId: unique('ATG'), role: 'consumer' });
    expect(consumer.status).toBe(400);
    expect(consumer.body).toMatchObject({ error: 'bad_request', field: 'body/generationGridConnectionId' });
    const same = await create(w.memberA.token, { name: 'Same', gridConnectionId: id, generationGridConnectionId: id, role: 'prosumer' });
    expect(same.status).toBe(400);
    expect(same.body.field).toBe('body/generationGridConnectionId');

    const prosumer = await create(w.memberA.token, { name: 'Prosumer', gridConnectionId: id, generationGridConnectionId: unique('ATG'), role: 'prosumer' });
    expect(prosumer.status).toBe(201);
    // Becoming a consumer means giving the generation id up first.
    const demoted = await patch(w.memberA.token, prosumer.body.id, { role: 'consumer' });
    expect(demoted.status).toBe(400);
    expect(demoted.body.field).toBe('body/generationGridConnectionId');
    expect((await patch(w.memberA.token, prosumer.body.id, { role: 'consumer', generationGridConnectionId: null })).body).toMatchObject({ role: 'consumer', generationGridConnectionId: null });
    expect((await patch(w.memberA.token, prosumer.body.id, { generationGridConnectionId: unique('ATG') })).status).toBe(400);
  });

  it('validates the id like the grid connection id', async () => {
    for (const generationGridConnectionId of ['at001', 'AT-001-0000', 'A'.repeat(41), '', 42]) {
      const response = await create(w.memberA.token, { name: 'Bad', gridConnectionId: unique('ATB'), generationGridConnectionId, role: 'prosumer' });
      expect(response.status, String(generationGridConnectionId)).toBe(400);
      expect(response.body).toMatchObject({ error: 'bad_request', message: expect.stringContaining('generationGridConnectionId') });
    }
  });
});
