import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { signUp, startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, communityBody, type World } from '../support/world.js';
import { connectDevice, deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';

describe.each(platformStoreKinds)('the admin console on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  /** How far the job runner's and the health page's clocks are ahead of the real one. */
  let jobsAhead = 0;
  let healthAhead = 0;
  /** Readings of this file lie from here on, one millisecond per Wh of their value (or where a test puts them). */
  const base = Date.now() - 5 * 60_000;

  let credentials: DeviceCredentials;

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { jobs: { now: () => Date.now() + jobsAhead }, admin: { now: () => Date.now() + healthAhead } });
    w = await buildWorld(tp);
    credentials = await deviceCredentials(tp, w.managerA.token, w.provisionedA);
  }, 180_000);
  afterAll(() => tp?.close());

  const admin = (method: string, url: string, body?: unknown) => tp.call(method, url, { token: tp.admin.token, body });
  const installation = async () => {
    const response = await admin('GET', '/api/v1/admin/installation');
    expect(response.status).toBe(200);
    return response.body;
  };
  /** A register reading of provisionedA (A's billing meter); a value below the last one is refused. */
  const send = (value: number, atMs = value) => tp.call('POST', `/api/v1/devices/${w.provisionedA}/readings`, {
    headers: { authorization: sasFor(credentials) },
    body: { readings: [{ ts: new Date(base + atMs).toISOString(), quantity: 'energy.import', value, unit: 'Wh' }] },
  });

  describe('communities', () => {
    it('creates a community managed by an existing account, lists it with its figures, and refuses bad input changing nothing', async () => {
      const manager = await signUp(tp, 'founder');
      const name = unique('Admin Street ');
      const created = await admin('POST', '/api/v1/admin/communities', { ...communityBody(name), managerEmail: manager.email });
      expect(created.status).toBe(201);
      const listed = await admin('GET', `/api/v1/admin/communities?q=${encodeURIComponent(name.toUpperCase())}`);
      // Its manager has no site yet, so nobody takes part: no member is counted.
      expect(listed.body).toEqual([expect.objectContaining({ id: created.body.id, name, memberCount: 0, deviceCount: 0, suspension: null })]);
      // The named account manages it; the admin does not become a member.
      const me = await tp.call('GET', '/api/v1/me', { token: manager.token });
      expect(me.body.memberships).toEqual([expect.objectContaining({ communityId: created.body.id, role: 'manager', state: 'active' })]);

      const refused = [
        await admin('POST', '/api/v1/admin/communities', { ...communityBody(unique('Nobody ')), managerEmail: 'nobody-here@example.org' }),
        await admin('POST', '/api/v1/admin/communities', { ...communityBody(unique('Zone ')), timeZone: 'Mars/Olympus', managerEmail: manager.email }),
        await admin('POST', '/api/v1/admin/communities', { ...communityBody(unique('Extra ')), managerEmail: manager.email, owner: 'x' }),
        await admin('GET', `/api/v1/admin/communities?q=${'x'.repeat(121)}`),
      ];
      expect(refused.map((r) => r.status)).toEqual([400, 400, 400, 400]);
      expect(refused[0]!.body.field).toBe('body/managerEmail');
      const all = await admin('GET', '/api/v1/admin/communities');
      expect(all.body.filter((c: { name: string }) => /^(Nobody|Zone|Extra) /.test(c.name))).toEqual([]);
    });

    it('suspends a community: members, managers and devices are refused saying so, nobody joins, discovery hides it; resuming restores all', async () => {
      expect((await send(1_000)).status).toBe(200);
      expect((await admin('POST', `/api/v1/admin/communities/${w.communityA}/suspend`, { reason: '  ' })).status).toBe(400);
      expect((await admin('POST', `/api/v1/admin/communities/${crypto.randomUUID()}/suspend`, { reason: 'unpaid' })).status).toBe(404);
      expect((await admin('POST', `/api/v1/admin/communities/${w.communityA}/suspend`, { reason: 'unpaid hosting' })).status).toBe(204);

      const listed = (await admin('GET', '/api/v1/admin/communities')).body.find((c: { id: string }) => c.id === w.communityA);
      expect(listed.suspension).toEqual({ at: expect.any(String), reason: 'unpaid hosting' });
      const managers = await tp.call('GET', `/api/v1/communities/${w.communityA}/members`, { token: w.managerA.token });
      expect(managers.status).toBe(403);
      expect(managers.body.message).toMatch(/suspended/);
      const ownRecord = await tp.call('GET', `/api/v1/members/${w.memberIdA}`, { token: w.memberA.token });
      expect(ownRecord.status).toBe(403);
      expect(ownRecord.body.message).toMatch(/suspended/);
      const me = await tp.call('GET', '/api/v1/me', { token: w.memberA.token });
      expect(me.body.memberships).toEqual([expect.objectContaining({ communityId: w.communityA, communitySuspended: true })]);
      const reading = await send(2_000);
      expect(reading.status).toBe(403);
      expect(reading.body.message).toMatch(/suspended/);
      await expect(connectDevice(tp, w.provisionedA, sasFor(credentials))).rejects.toThrow(/suspended|authori[sz]ed/i);
      const join = await tp.call('POST', `/api/v1/communities/${w.communityA}/join-requests`, { token: w.outsider.token, body: {} });
      expect(join.status).toBe(403);
      const search = await tp.call('GET', '/api/v1/communities', { token: w.outsider.token });
      expect(search.body.map((c: { id: string }) => c.id)).not.toContain(w.communityA);
      // Its data stays; the admins keep their access; another community goes on.
      expect((await admin('GET', `/api/v1/communities/${w.communityA}/members`)).status).toBe(200);
      expect((await tp.call('GET', `/api/v1/communities/${w.communityB}/members`, { token: w.managerB.token })).status).toBe(200);

      expect((await admin('POST', `/api/v1/admin/communities/${w.communityA}/resume`)).status).toBe(204);
      expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/members`, { token: w.managerA.token })).status).toBe(200);
      expect((await send(3_000)).status).toBe(200);
      const client = await connectDevice(tp, w.provisionedA, sasFor(credentials));
      await client.endAsync();
      expect((await tp.call('GET', '/api/v1/me', { token: w.memberA.token })).body.memberships[0].communitySuspended).toBeUndefined();
    });
  });

  describe('users', () => {
    it('finds accounts by part of their email or name, any case, with a limit', async () => {
      const found = await admin('GET', `/api/v1/admin/users?q=${encodeURIComponent(w.memberA2.email.toUpperCase())}`);
      expect(found.body).toEqual({ accounts: [expect.objectContaining({ id: w.memberA2.id, lockedAt: null, isAdmin: false })], total: 1 });
      const limited = await admin('GET', '/api/v1/admin/users?q=example&limit=2');
      expect(limited.body.accounts).toHaveLength(2);
      expect(limited.body.total).toBeGreaterThan(2);
      expect(JSON.stringify(limited.body)).not.toMatch(/passwordHash|scrypt/);
      for (const query of ['limit=0', 'limit=201', 'limit=NaN', 'other=1']) expect((await admin('GET', `/api/v1/admin/users?${query}`)).status).toBe(400);
    });

    it('locks an account: its session and tokens end, it cannot log in; unlocking lets it in again', async () => {
      const user = await signUp(tp, 'lockable');
      const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      expect((await tp.call('GET', '/api/v1/me', { cookie })).status).toBe(200);

      expect((await admin('POST', `/api/v1/admin/users/${user.id}/lock`)).status).toBe(204);
      expect((await tp.call('GET', '/api/v1/me', { cookie })).status).toBe(401);
      expect((await tp.call('GET', '/api/v1/me', { token: user.token })).status).toBe(401);
      const refused = await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
      expect(refused.status).toBe(403);
      expect(refused.body.message).toMatch(/locked/);
      // A wrong password learns nothing about the lock.
      expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'not-the-password' } })).status).toBe(401);
      const listed = await admin('GET', `/api/v1/admin/users?q=${encodeURIComponent(user.email)}`);
      expect(listed.body.accounts[0].lockedAt).toEqual(expect.any(String));

      expect((await admin('POST', `/api/v1/admin/users/${user.id}/unlock`)).status).toBe(204);
      expect((await tp.call('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(200);
      // The tokens it had stay revoked.
      expect((await tp.call('GET', '/api/v1/me', { token: user.token })).status).toBe(401);
    });

    it('grants and revokes platform administration; an admin never locks or demotes themself', async () => {
      const user = await signUp(tp, 'promoted');
      expect((await tp.call('GET', '/api/v1/admin/installation', { token: user.token })).status).toBe(403);
      expect((await admin('PUT', `/api/v1/admin/users/${user.id}/admin`, { isAdmin: true })).status).toBe(204);
      expect((await tp.call('GET', '/api/v1/admin/installation', { token: user.token })).status).toBe(200);
      // The new admin cannot lock or demote themself, and neither can the first.
      expect((await tp.call('POST', `/api/v1/admin/users/${user.id}/lock`, { token: user.token })).status).toBe(409);
      expect((await tp.call('PUT', `/api/v1/admin/users/${user.id}/admin`, { token: user.token, body: { isAdmin: false } })).status).toBe(409);
      expect((await admin('PUT', `/api/v1/admin/users/${user.id}/admin`, { isAdmin: false })).status).toBe(204);
      expect((await tp.call('GET', '/api/v1/admin/installation', { token: user.token })).status).toBe(403);

      const adminId = (await admin('GET', '/api/v1/me')).body.user.id;
      expect((await admin('POST', `/api/v1/admin/users/${adminId}/lock`)).status).toBe(409);
      expect((await admin('PUT', `/api/v1/admin/users/${crypto.randomUUID()}/admin`, { isAdmin: true })).status).toBe(404);
      expect((await admin('POST', `/api/v1/admin/users/${crypto.randomUUID()}/lock`)).status).toBe(404);
      expect((await admin('PUT', `/api/v1/admin/users/${user.id}/admin`, { isAdmin: 'yes' })).status).toBe(400);
    });
  });

  describe('installation health', () => {
    it('tells the database, broker, version and data folder', async () => {
      const health = await installation();
      expect(health.database).toEqual({ status: 'ok', kind, sizeBytes: expect.any(Number) });
      expect(health.database.sizeBytes).toBeGreaterThan(0);
      expect(health.broker).toEqual({ status: 'ok', mode: 'embedded' });
      expect(health.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(health.dataFolder.usedBytes).toBeGreaterThanOrEqual(0);
      expect(health.dataFolder.freeBytes).toBeGreaterThan(0);
    });

    it('shows a paused job lagging, and its lag gone once it is resumed and has run', async () => {
      expect((await admin('POST', '/api/v1/admin/jobs/privacy/pause')).status).toBe(204);
      tp.platform.jobs.wake('privacy');
      jobsAhead += 10 * 60_000;
      const paused = (await installation()).jobs.find((j: { name: string }) => j.name === 'privacy');
      expect(paused).toMatchObject({ paused: true });
      expect(paused.lagSeconds).toBeGreaterThanOrEqual(600);

      expect((await admin('POST', '/api/v1/admin/jobs/privacy/resume')).status).toBe(204);
      await tp.platform.privacy.flush();
      const resumed = (await installation()).jobs.find((j: { name: string }) => j.name === 'privacy');
      expect(resumed).toMatchObject({ paused: false, lagSeconds: 0, failuresInRow: 0, lastSuccessAt: expect.any(String) });

      expect((await admin('POST', '/api/v1/admin/jobs/no%20such%20job/pause')).status).toBe(404);
      expect((await admin('POST', '/api/v1/admin/jobs/DROP;TABLE/pause')).status).toBe(400);
    });

    it('counts each community\'s readings, refusals and devices online as they come in', async () => {
      const before = (await installation()).ingest.find((c: { communityId: string }) => c.communityId === w.communityA);
      expect((await send(50_000)).status).toBe(200);
      expect((await send(10, 60_000)).status).toBe(400);
      healthAhead += 60_000;
      const after = (await installation()).ingest.find((c: { communityId: string }) => c.communityId === w.communityA);
      expect(after.readingsTotal).toBe(before.readingsTotal + 1);
      expect(after.refusedTotal).toBe(before.refusedTotal + 1);
      expect(after.messagesTotal).toBe(before.messagesTotal + 2);
      expect(after.lastRefusal).toEqual({ at: expect.any(String), message: expect.stringMatching(/register-backwards/) });
      expect(after.devicesOnline).toBeGreaterThanOrEqual(1);
      expect(after.readingsPerMinute).toBeGreaterThan(0);
      const ofB = (await installation()).ingest.find((c: { communityId: string }) => c.communityId === w.communityB);
      expect(ofB).toMatchObject({ refusedTotal: 0, readingsTotal: 0 });
    });

    it('lists a failing connector as in trouble, and the verifiable record\'s last checkpoint', async () => {
      const connector = await tp.call('POST', `/api/v1/communities/${w.communityA}/connectors`, {
        token: w.managerA.token,
        body: {
          kind: 'http-json', name: unique('Broken '), enabled: true, intervalS: 3_600,
          config: { steps: [{ url: 'http://127.0.0.1:9/readings' }], mapping: { timestamp: '$.t', values: [{ field: '$.v', target: 'meter', quantity: 'power.import', unit: 'W' }] } },
        },
      });
      expect(connector.status).toBe(201);
      await tp.call('POST', `/api/v1/connectors/${connector.body.id}/run`, { token: w.managerA.token });
      await tp.platform.connectors.flush();
      const health = await installation();
      expect(health.connectorsInTrouble).toContainEqual(expect.objectContaining({
        id: connector.body.id, communityId: w.communityA, kind: 'http-json', failuresInRow: expect.any(Number), lastError: expect.objectContaining({ code: expect.any(String) }),
      }));
      await tp.platform.ledger.job.flush();
      const { ledger } = await installation();
      expect(ledger.lastCheckpoint).toEqual({ size: ledger.entries, publishedAt: expect.any(String) });
      await tp.platform.ledger.service.audit();
      const audited = (await installation()).ledger;
      expect(audited.audit).toEqual({ auditedAt: expect.any(String), entries: ledger.entries, checkpoints: expect.any(Number), failures: 0, message: null });
    });
  });
});
