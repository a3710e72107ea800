import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { signUp, startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';

/**
 * The kinds of change the trail gained for managers' and operators' "who did this?": metering
 * points, invitations, device batches, connectors, the market's settings and wallet top-ups,
 * retention and erasure. Each is recorded with who, the action and a masked diff, in the
 * transaction of the change: a refused change leaves nothing.
 */
interface Entry {
  id: string; communityId: string | null; kind: string; resourceId: string; action: string;
  actor: { userId: string | null; role: string }; subjectMemberId: string | null;
  diff: { path: string; before: string | null; after: string | null }[];
  origin: { clientAddress: string | null; userAgent: string | null; requestId: string | null };
}

const AGENT = 'audit-coverage-test/1.0';
const ADDRESS = '198.51.100.9';
const SECRET_TOKEN = 'coverage-secret-token-123';

const connectorConfig = (url = 'http://127.0.0.1:9/readings') => ({
  auth: { type: 'bearer', token: SECRET_TOKEN },
  steps: [{ url }],
  mapping: { timestamp: '$.t', values: [{ field: '$.v', target: 'meter', quantity: 'power.import', unit: 'W' }] },
});
const marketSettings = { mechanism: 'uniform', gateLeadMinutes: 5, gridFee: '0.0000', floor: null, ceiling: null, surplusPrice: '0.0500', shortfallPrice: '0.3000' };
const retention = { rawReadingsDays: 90, intervalsDays: 1100, forecastsDays: 90, accessLogDays: 732, operationalLogsDays: 90, exportFilesDays: 7, billingRecordsYears: 10 };

describe.each(platformStoreKinds)('the audit trail of sites, invitations, batches, connectors, market and privacy (%s)', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  }, 120_000);
  afterAll(async () => tp?.close());

  const call = (method: string, url: string, token: string, body?: unknown) =>
    tp.call(method, url, { token, body, headers: { 'user-agent': AGENT }, remoteAddress: ADDRESS });
  /** A change that must succeed. */
  const change = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await call(method, url, token, body);
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const trail = async (query = ''): Promise<Entry[]> => {
    const response = await tp.call('GET', `/api/v1/communities/${w.communityA}/audit${query}`, { token: w.managerA.token });
    expect(response.status).toBe(200);
    return response.body.entries;
  };
  /** The entries of one resource of a kind, newest first. */
  const entriesOf = async (auditKind: string, resourceId: string) => (await trail(`?kind=${auditKind}&limit=500`)).filter((e) => e.resourceId === resourceId);
  /** The newest entry of a resource, checked for who, where and what. */
  const latest = async (auditKind: string, resourceId: string, action: string, actor: { userId: string | null; role: string }): Promise<Entry> => {
    const entry = (await entriesOf(auditKind, resourceId))[0];
    expect(entry, `${auditKind} ${resourceId}`).toBeDefined();
    expect(entry!).toMatchObject({ kind: auditKind, action, communityId: w.communityA, actor });
    if (actor.role !== 'system') {
      expect(entry!.origin.clientAddress).toBe(ADDRESS);
      expect(entry!.origin.userAgent).toBe(AGENT);
    }
    expect(entry!.diff.length).toBeGreaterThan(0);
    return entry!;
  };
  const line = (entry: Entry, path: string) => entry.diff.find((l) => l.path === path);
  const manager = () => ({ userId: w.managerA.id, role: 'manager' });
  /** A refused change adds nothing to the kind's trail. */
  const refusedLeavesNothing = async (auditKind: string, method: string, url: string, body: unknown, status: number) => {
    const before = (await trail(`?kind=${auditKind}&limit=500`)).length;
    expect((await call(method, url, w.managerA.token, body)).status).toBe(status);
    expect((await trail(`?kind=${auditKind}&limit=500`)).length).toBe(before);
  };

  it('records metering points created, changed and removed, with the address masked', async () => {
    const address = 'Hidden Lane 5, 1100 Wien';
    const gridConnectionId = unique('AT00AUDITMP');
    const point = await change('POST', `/api/v1/communities/${w.communityA}/metering-points`, w.managerA.token,
      { memberId: w.memberIdA, name: 'Audit shed', address, gridConnectionId, role: 'consumer' });
    const created = await latest('metering-point', point.id, 'create', manager());
    expect(created.subjectMemberId).toBe(w.memberIdA);
    expect(line(created, 'address')).toEqual({ path: 'address', before: null, after: '"[personal]"' });
    expect(line(created, 'gridConnectionId')?.after).toBe(JSON.stringify(gridConnectionId));

    await change('PATCH', `/api/v1/metering-points/${point.id}`, w.managerA.token, { name: 'Audit barn', address: 'Other Road 9' });
    const updated = await latest('metering-point', point.id, 'update', manager());
    expect(line(updated, 'name')).toEqual({ path: 'name', before: '"Audit shed"', after: '"Audit barn"' });
    expect(line(updated, 'address')).toEqual({ path: 'address', before: '"[personal]"', after: '"[personal]"' });
    expect(JSON.stringify(updated)).not.toContain('Other Road');

    // A second point with the same grid connection id is refused (409): no entry.
    await refusedLeavesNothing('metering-point', 'POST', `/api/v1/communities/${w.communityA}/metering-points`,
      { memberId: w.memberIdA, name: 'Twin', gridConnectionId, role: 'consumer' }, 409);
    await refusedLeavesNothing('metering-point', 'PATCH', `/api/v1/metering-points/${point.id}`, { role: 'consumer', generationGridConnectionId: unique('AT00GEN') }, 400);

    await change('DELETE', `/api/v1/metering-points/${point.id}`, w.managerA.token);
    const removed = await latest('metering-point', point.id, 'delete', manager());
    expect(line(removed, 'name')).toEqual({ path: 'name', before: '"Audit barn"', after: null });
    expect(JSON.stringify(await trail('?kind=metering-point'))).not.toContain('Hidden Lane');
  });

  it('records invitations sent, re-sent, revoked and declined, without the address', async () => {
    const email = `${unique('invitee')}@example.org`;
    const invitation = await change('POST', `/api/v1/communities/${w.communityA}/invitations`, w.managerA.token, { email });
    const sent = await latest('invitation', invitation.id, 'send', manager());
    expect(line(sent, 'email')).toEqual({ path: 'email', before: null, after: '"[personal]"' });
    expect(line(sent, 'state')?.after).toBe('"pending"');
    await change('POST', `/api/v1/communities/${w.communityA}/invitations`, w.managerA.token, { email, role: 'manager' });
    const resent = await latest('invitation', invitation.id, 'update', manager());
    expect(resent.diff).toEqual([{ path: 'role', before: '"member"', after: '"manager"' }]);
    await change('DELETE', `/api/v1/invitations/${invitation.id}`, w.managerA.token);
    const revoked = await latest('invitation', invitation.id, 'revoke', manager());
    expect(line(revoked, 'state')).toEqual({ path: 'state', before: '"pending"', after: '"revoked"' });
    // Revoking twice is refused: no second entry.
    expect((await call('DELETE', `/api/v1/invitations/${invitation.id}`, w.managerA.token)).status).toBe(409);
    expect(await entriesOf('invitation', invitation.id)).toHaveLength(3);
    // An active member's address is refused: nothing recorded.
    await refusedLeavesNothing('invitation', 'POST', `/api/v1/communities/${w.communityA}/invitations`, { email: w.memberA.email }, 409);

    const invitee = await signUp(tp, 'declining');
    const declinable = await change('POST', `/api/v1/communities/${w.communityA}/invitations`, w.managerA.token, { email: invitee.email });
    await change('POST', `/api/v1/invitations/${declinable.id}/decline`, invitee.token);
    const declined = await latest('invitation', declinable.id, 'decline', { userId: invitee.id, role: 'user' });
    expect(line(declined, 'state')?.after).toBe('"declined"');
    expect(JSON.stringify(await trail('?kind=invitation&limit=500'))).not.toContain('@example.org');
  });

  it('records device batches provisioned, renamed and rolled back', async () => {
    const batch = await change('POST', `/api/v1/communities/${w.communityA}/device-batches`, w.managerA.token, { count: 2, kind: 'smart-plug', name: 'Audit batch' });
    const provisioned = await latest('device-batch', batch.id, 'provision', manager());
    expect(line(provisioned, 'devices')).toEqual({ path: 'devices', before: null, after: '2' });
    expect(line(provisioned, 'deviceIds')).toBeUndefined();
    await change('PATCH', `/api/v1/device-batches/${batch.id}`, w.managerA.token, { name: 'Audit batch, renamed' });
    const renamed = await latest('device-batch', batch.id, 'rename', manager());
    expect(renamed.diff).toEqual([{ path: 'name', before: '"Audit batch"', after: '"Audit batch, renamed"' }]);
    await refusedLeavesNothing('device-batch', 'PATCH', `/api/v1/device-batches/${batch.id}`, { name: '   ' }, 400);
    await change('POST', `/api/v1/device-batches/${batch.id}/rollback`, w.managerA.token, {});
    const rolledBack = await latest('device-batch', batch.id, 'rollback', manager());
    expect(line(rolledBack, 'status')).toEqual({ path: 'status', before: '"active"', after: '"rolled-back"' });
    expect(line(rolledBack, 'devices')).toEqual({ path: 'devices', before: '2', after: '0' });
    await refusedLeavesNothing('device-batch', 'POST', `/api/v1/device-batches/${batch.id}/rollback`, {}, 409);
  });

  it('records connectors created, changed, switched and deleted, never with their secrets', async () => {
    const connector = await change('POST', `/api/v1/communities/${w.communityA}/connectors`, w.managerA.token,
      { kind: 'http-json', name: unique('Audit connector '), config: connectorConfig(), enabled: false, intervalS: 3_600 });
    const created = await latest('connector', connector.id, 'create', manager());
    expect(line(created, 'enabled')?.after).toBe('false');
    expect(line(created, 'status.lastRunAt')).toBeUndefined();
    await change('PATCH', `/api/v1/connectors/${connector.id}`, w.managerA.token, { intervalS: 1_800 });
    const updated = await latest('connector', connector.id, 'update', manager());
    expect(updated.diff).toEqual([{ path: 'intervalS', before: '3600', after: '1800' }]);
    await change('PATCH', `/api/v1/connectors/${connector.id}`, w.managerA.token, { enabled: true });
    const enabled = await latest('connector', connector.id, 'enable', manager());
    expect(line(enabled, 'enabled')).toEqual({ path: 'enabled', before: 'false', after: 'true' });
    await change('PATCH', `/api/v1/connectors/${connector.id}`, w.managerA.token, { enabled: false });
    await latest('connector', connector.id, 'disable', manager());
    await refusedLeavesNothing('connector', 'PATCH', `/api/v1/connectors/${connector.id}`, { intervalS: -5 }, 400);
    await change('DELETE', `/api/v1/connectors/${connector.id}`, w.managerA.token);
    await latest('connector', connector.id, 'delete', manager());
    expect(JSON.stringify(await trail('?kind=connector&limit=500'))).not.toContain(SECRET_TOKEN);
  });

  it('records the market settings and wallet top-ups', async () => {
    await change('PUT', `/api/v1/communities/${w.communityA}/market/settings`, w.managerA.token, marketSettings);
    await change('PUT', `/api/v1/communities/${w.communityA}/market/settings`, w.managerA.token, { ...marketSettings, gateLeadMinutes: 10 });
    const settings = await latest('market', w.communityA, 'set-settings', manager());
    expect(settings.diff).toEqual([{ path: 'gateLeadMinutes', before: '5', after: '10' }]);
    await refusedLeavesNothing('market', 'PUT', `/api/v1/communities/${w.communityA}/market/settings`, { ...marketSettings, mechanism: 'lottery' }, 400);

    const posting = await change('POST', `/api/v1/communities/${w.communityA}/market/top-ups`, w.managerA.token, { memberId: w.memberIdA, amount: '12.50', reference: 'audit' });
    const topUp = await latest('wallet', String(posting.sequence), 'top-up', manager());
    expect(topUp.subjectMemberId).toBe(w.memberIdA);
    expect(JSON.parse(line(topUp, 'amount')!.after!)).toBe(posting.amount);
    await refusedLeavesNothing('wallet', 'POST', `/api/v1/communities/${w.communityA}/market/top-ups`, { memberId: w.memberIdA, amount: '-1.00', reference: 'audit' }, 400);
    await refusedLeavesNothing('wallet', 'POST', `/api/v1/communities/${w.communityA}/market/top-ups`, { memberId: w.memberIdB, amount: '1.00', reference: 'audit' }, 400);
  });

  it('records retention changes, and erasure asked by the member and carried out by the system, with nothing personal', async () => {
    await change('PUT', `/api/v1/communities/${w.communityA}/retention`, w.managerA.token, retention);
    await change('PUT', `/api/v1/communities/${w.communityA}/retention`, w.managerA.token, { ...retention, accessLogDays: 800 });
    const policy = await latest('retention', w.communityA, 'set', manager());
    expect(policy.diff).toEqual([{ path: 'accessLogDays', before: '732', after: '800' }]);
    // Below the legal minimum: refused, nothing recorded.
    await refusedLeavesNothing('retention', 'PUT', `/api/v1/communities/${w.communityA}/retention`, { ...retention, billingRecordsYears: 1 }, 400);

    const name = unique('erasable').toLowerCase();
    const leaving = await signUp(tp, name);
    const memberId = (await change('POST', `/api/v1/communities/${w.communityA}/join-requests`, leaving.token, { message: `hi from ${name}` })).id;
    await change('POST', `/api/v1/members/${memberId}/approve`, w.managerA.token);
    const request = await change('POST', `/api/v1/members/${memberId}/erasure`, leaving.token);
    const asked = await latest('erasure', request.id, 'request', { userId: leaving.id, role: 'member' });
    expect(asked.subjectMemberId).toBe(memberId);
    expect(line(asked, 'state')).toEqual({ path: 'state', before: null, after: '"requested"' });
    expect((await call('POST', `/api/v1/members/${memberId}/erasure`, leaving.token)).status).toBe(409);
    expect(await entriesOf('erasure', request.id)).toHaveLength(1);

    await tp.platform.privacy.flush();
    const done = await latest('erasure', request.id, 'execute', { userId: null, role: 'system' });
    expect(done.subjectMemberId).toBe(memberId);
    expect(line(done, 'state')).toEqual({ path: 'state', before: '"requested"', after: '"done"' });
    const erasures = JSON.stringify(await trail('?kind=erasure&limit=500'));
    expect(erasures).not.toContain(name);
    expect(erasures).not.toContain('erased-');
    expect(erasures).not.toContain('@example.org');
  });
});
