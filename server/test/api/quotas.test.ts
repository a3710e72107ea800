import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { communityBody } from '../support/world.js';

describe.each(platformStoreKinds)('quotas on %s', (kind) => {
  let tp: TestPlatform;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
  });
  afterAll(() => tp?.close());

  const admin = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: tp.admin.token, body });
  const createCommunity = (user: TestUser) => tp.call('POST', '/api/v1/communities', { token: user.token, body: communityBody(unique('Quota ')) });
  const provision = (user: TestUser, communityId: string, count: number, headers: Record<string, string> = {}) =>
    tp.call('POST', `/api/v1/communities/${communityId}/device-batches`, { token: user.token, body: { count }, headers });
  // A full count is forbidden until an admin raises it; a limit per hour passes by itself.
  const CODE_OF: Record<number, string> = { 403: 'forbidden', 429: 'too_many_requests' };
  const expectRefusal = (response: { status: number; body: any }, status: 403 | 429, limit: string) => {
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: CODE_OF[status], reason: 'quota_exceeded', quota: limit, message: expect.stringContaining(limit) });
  };

  it('limits the communities an account manages; an admin raises it for one account and is never limited', async () => {
    expect((await admin('PATCH', '/api/v1/quotas', { communitiesPerUser: 2 })).body.communitiesPerUser).toBe(2);
    const user = await signUp(tp, 'founder');
    expect((await createCommunity(user)).status).toBe(201);
    expect((await createCommunity(user)).status).toBe(201);
    const refused = await createCommunity(user);
    expectRefusal(refused, 403, 'communitiesPerUser');
    expect(refused.body.message).toMatch(/2 communities managed by this account, 1 more would pass the limit of 2/);
    expect((await tp.call('GET', '/api/v1/me', { token: user.token })).body.memberships).toHaveLength(2);

    const raised = await admin('PATCH', `/api/v1/users/${user.id}/quotas`, { communitiesPerUser: 3 });
    expect(raised.body).toEqual({ limits: { communitiesPerUser: 3, batchesPerHour: 1_000 }, grants: { communitiesPerUser: 3 } });
    expect((await createCommunity(user)).status).toBe(201);
    expectRefusal(await createCommunity(user), 403, 'communitiesPerUser');
    // The account sees its own limits; nobody else does.
    expect((await tp.call('GET', `/api/v1/users/${user.id}/quotas`, { token: user.token })).body.limits.communitiesPerUser).toBe(3);
    const other = await signUp(tp, 'other');
    expect((await tp.call('GET', `/api/v1/users/${user.id}/quotas`, { token: other.token })).status).toBe(404);
    expect((await tp.call('PATCH', `/api/v1/users/${user.id}/quotas`, { token: user.token, body: { communitiesPerUser: 99 } })).status).toBe(403);
    // Back to everyone's limit.
    expect((await admin('PATCH', `/api/v1/users/${user.id}/quotas`, { communitiesPerUser: null })).body.grants).toEqual({});
    for (let i = 0; i < 3; i++) expect((await admin('POST', '/api/v1/communities', communityBody(unique('Admin ')))).status).toBe(201);
  });

  it('counts concurrent requests in turn: two at once for the last place give one community', async () => {
    await admin('PATCH', '/api/v1/quotas', { communitiesPerUser: 1 });
    const user = await signUp(tp, 'racer');
    const answers = await Promise.all([createCommunity(user), createCommunity(user), createCommunity(user)]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 403, 403]);
    await admin('PATCH', '/api/v1/quotas', { communitiesPerUser: null });
  });

  it('limits devices per community, for batches and single devices, and refuses before any work is done', async () => {
    await admin('PATCH', '/api/v1/quotas', { devicesPerCommunity: 5 });
    const manager = await signUp(tp, 'fleet');
    const communityId = (await createCommunity(manager)).body.id;
    expect((await provision(manager, communityId, 3)).status).toBe(201);
    const zipsBefore = readdirSync(tp.artefactsDir).length;
    const refused = await provision(manager, communityId, 3);
    expectRefusal(refused, 403, 'devicesPerCommunity');
    expect(refused.body.message).toContain('3 devices in this community, 3 more would pass the limit of 5');
    // Streaming clients get the refusal as an HTTP status too, not as a line after a 201.
    expectRefusal(await provision(manager, communityId, 3, { accept: 'application/x-ndjson' }), 403, 'devicesPerCommunity');
    expect(readdirSync(tp.artefactsDir)).toHaveLength(zipsBefore);
    expect((await tp.call('POST', `/api/v1/communities/${communityId}/devices`, { token: manager.token, body: { kind: 'smart-plug', name: 'P1' } })).status).toBe(201);
    expect((await tp.call('POST', `/api/v1/communities/${communityId}/devices`, { token: manager.token, body: { kind: 'smart-plug', name: 'P2' } })).status).toBe(201);
    expectRefusal(await tp.call('POST', `/api/v1/communities/${communityId}/devices`, { token: manager.token, body: { kind: 'smart-plug', name: 'P3' } }), 403, 'devicesPerCommunity');
    const devices = await tp.call('GET', `/api/v1/communities/${communityId}/devices`, { token: manager.token });
    expect(devices.body).toHaveLength(5);

    expect((await admin('PATCH', `/api/v1/communities/${communityId}/quotas`, { devicesPerCommunity: 8 })).status).toBe(200);
    expect((await tp.call('GET', `/api/v1/communities/${communityId}/quotas`, { token: manager.token })).body)
      .toEqual({ limits: { devicesPerCommunity: 8 }, grants: { devicesPerCommunity: 8 } });
    expect((await provision(manager, communityId, 3)).status).toBe(201);
    expect((await tp.call('PATCH', `/api/v1/communities/${communityId}/quotas`, { token: manager.token, body: { devicesPerCommunity: 100 } })).status).toBe(403);
    await admin('PATCH', '/api/v1/quotas', { devicesPerCommunity: null });
  });

  it('limits batches per hour with 429 and Retry-After; rolling a batch back does not give it back', async () => {
    await admin('PATCH', '/api/v1/quotas', { batchesPerHour: 2 });
    const manager = await signUp(tp, 'hourly');
    const communityId = (await createCommunity(manager)).body.id;
    const first = await provision(manager, communityId, 1);
    expect((await provision(manager, communityId, 1)).status).toBe(201);
    expect((await tp.call('POST', `/api/v1/device-batches/${first.body.id}/rollback`, { token: manager.token, body: {} })).status).toBe(200);
    const refused = await provision(manager, communityId, 1);
    expectRefusal(refused, 429, 'batchesPerHour');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(3_000);
    expect(retryAfter).toBeLessThanOrEqual(3_600);
    // The limit is the account's: the admin can still provision in the same community.
    expect((await admin('POST', `/api/v1/communities/${communityId}/device-batches`, { count: 1 })).status).toBe(201);
    await admin('PATCH', '/api/v1/quotas', { batchesPerHour: null });
  });

  it('takes changes from platform admins only, and refuses malformed ones', async () => {
    const user = await signUp(tp, 'curious');
    expect((await tp.call('GET', '/api/v1/quotas', { token: user.token })).status).toBe(403);
    expect((await tp.call('PATCH', '/api/v1/quotas', { token: user.token, body: { communitiesPerUser: 100 } })).status).toBe(403);
    for (const body of [{ communitiesPerUser: -1 }, { communitiesPerUser: 1.5 }, { devicesPerCommunity: 'many' }, { unknownLimit: 3 }, {}]) {
      const response = await admin('PATCH', '/api/v1/quotas', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error).toBe('bad_request');
    }
    expect((await admin('PATCH', `/api/v1/users/${user.id}/quotas`, { devicesPerCommunity: 3 })).status).toBe(400);
    expect((await admin('PATCH', `/api/v1/users/${crypto.randomUUID()}/quotas`, { communitiesPerUser: 3 })).status).toBe(404);
    expect((await admin('GET', '/api/v1/quotas')).body).toEqual({ communitiesPerUser: 1_000, devicesPerCommunity: 1_000_000, batchesPerHour: 1_000 });
  });
});
