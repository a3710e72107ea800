import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { deviceCredentials, sasFor } from '../support/devices.js';

describe.each(platformStoreKinds)('device states of a community in one request on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    // provisionedA reports once and once sends a refused reading; deviceA is never heard from.
    const credentials = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
    const send = (value: number) => tp.call('POST', `/api/v1/devices/${w.provisionedA}/readings`, {
      headers: { authorization: sasFor(credentials) },
      body: { readings: [{ ts: new Date(Date.now() - 60_000).toISOString(), quantity: 'energy.import', value, unit: 'Wh' }] },
    });
    expect((await send(5_000)).status).toBe(200);
    expect((await send(4_000)).status).toBe(400);
  });
  afterAll(() => tp?.close());

  const states = (token: string, communityId = w.communityA) => tp.call('GET', `/api/v1/communities/${communityId}/device-states`, { token });

  it('gives managers every device of the community, each the same as its own state route', async () => {
    const answer = await states(w.managerA.token);
    expect(answer.status).toBe(200);
    const devices = (await tp.call('GET', `/api/v1/communities/${w.communityA}/devices`, { token: w.managerA.token })).body as { id: string }[];
    expect(answer.body.map((s: { deviceId: string }) => s.deviceId)).toEqual(devices.map((d) => d.id));
    for (const deviceId of [w.provisionedA, w.deviceA]) {
      const single = await tp.call('GET', `/api/v1/devices/${deviceId}/state`, { token: w.managerA.token });
      expect(answer.body.find((s: { deviceId: string }) => s.deviceId === deviceId)).toEqual(single.body);
    }
    expect(answer.body.find((s: { deviceId: string }) => s.deviceId === w.provisionedA)).toMatchObject({
      online: true, messagesTotal: 2, readingsTotal: 1, rejectedTotal: 1, lastError: expect.stringMatching(/^register-backwards/),
    });
    expect(answer.body.find((s: { deviceId: string }) => s.deviceId === w.deviceA)).toEqual({
      deviceId: w.deviceA, online: false, lastSeenAt: null, messagesTotal: 0, readingsTotal: 0, duplicatesTotal: 0,
      rejectedTotal: 0, lastError: null, lastErrorAt: null,
    });
    // Another community's devices never appear, even for an admin asking about A.
    const ofB = (await tp.call('POST', `/api/v1/communities/${w.communityB}/devices`, { token: w.managerB.token, body: { kind: 'meter-reader', name: 'B' } })).body.id;
    expect((await states(tp.admin.token)).body.map((s: { deviceId: string }) => s.deviceId)).not.toContain(ofB);
    expect((await states(w.managerB.token, w.communityB)).body.map((s: { deviceId: string }) => s.deviceId)).toEqual([ofB]);
  });

  it('gives members their own devices only, and outsiders nothing', async () => {
    expect((await states(w.memberA.token)).body.map((s: { deviceId: string }) => s.deviceId).sort()).toEqual([w.deviceA, w.provisionedA].sort());
    expect((await states(w.memberA2.token)).body).toEqual([]);
    for (const token of [w.memberB.token, w.managerB.token, w.outsider.token]) {
      const refused = await states(token);
      expect(refused.status).toBe(404);
      expect(refused.body.error).toBe('not_found');
    }
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/device-states`)).status).toBe(401);
  });

  it('refuses a malformed or unknown community id', async () => {
    const bad = await states(w.managerA.token, 'not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('bad_request');
    expect((await states(tp.admin.token, crypto.randomUUID())).status).toBe(404);
  });
});
