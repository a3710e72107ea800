import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { AUDIT_KINDS } from '@gridshare/contract/audit';
import { EVENT_SHAPES } from '../../src/kernel/events.js';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, communityBody, type World } from '../support/world.js';
import { confirmedCloseUrl } from '../support/settlements.js';

/**
 * The audit trail, through the API as people use it: each kind of change leaves one entry with
 * its diff, who made it and from where, in the transaction of the change; managers read their
 * community's trail only, admins everything; CSV export; bad filters.
 */
interface Entry {
  id: string; at: string; communityId: string | null; kind: string; resourceId: string; action: string;
  actor: { userId: string | null; role: string }; subjectMemberId: string | null;
  diff: { path: string; before: string | null; after: string | null }[];
  origin: { clientAddress: string | null; userAgent: string | null; requestId: string | null };
}

const AGENT = 'audit-test-browser/1.0';
const ADDRESS = '198.51.100.7';

describe.each(platformStoreKinds)('the audit trail (%s)', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  }, 120_000);
  afterAll(async () => tp?.close());

  /** A change made from a known address and browser. */
  const change = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await tp.call(method, url, { token, body, headers: { 'user-agent': AGENT }, remoteAddress: ADDRESS });
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const trail = async (communityId: string, query = ''): Promise<Entry[]> => {
    const response = await tp.call('GET', `/api/v1/communities/${communityId}/audit${query}`, { token: tp.admin.token });
    expect(response.status).toBe(200);
    return response.body.entries;
  };
  /** The newest entry of a resource, after checking who and where. */
  const latest = async (communityId: string, resourceId: string, actorId: string, role = 'manager'): Promise<Entry> => {
    const entry = (await trail(communityId)).find((e) => e.resourceId === resourceId)!;
    expect(entry).toBeDefined();
    expect(entry.actor).toEqual({ userId: actorId, role });
    expect(entry.origin.clientAddress).toBe(ADDRESS);
    expect(entry.origin.userAgent).toBe(AGENT);
    expect(entry.origin.requestId).toMatch(/\S/);
    return entry;
  };
  const line = (entry: Entry, path: string) => entry.diff.find((l) => l.path === path);

  it('declares the same kinds in the event and the contract', () => {
    expect([...EVENT_SHAPES['change.recorded'].kind.oneOf]).toEqual([...AUDIT_KINDS]);
  });

  it('records a tariff created, changed and deleted, with the old and new prices', async () => {
    const tariff = await change('POST', `/api/v1/communities/${w.communityA}/tariffs`, w.managerA.token,
      { name: 'Audit tariff', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', validFrom: '2027-01-01' });
    const created = await latest(w.communityA, tariff.id, w.managerA.id);
    expect(created).toMatchObject({ kind: 'tariff', action: 'create', communityId: w.communityA });
    expect(line(created, 'communityPrice')).toEqual({ path: 'communityPrice', before: null, after: JSON.stringify(tariff.communityPrice) });

    await change('PATCH', `/api/v1/tariffs/${tariff.id}`, w.managerA.token, { communityPrice: '0.12' });
    const updated = await latest(w.communityA, tariff.id, w.managerA.id);
    expect(updated.action).toBe('update');
    expect(updated.diff.map((l) => l.path)).toContain('communityPrice');
    expect(JSON.parse(line(updated, 'communityPrice')!.before!)).toBe(tariff.communityPrice);
    expect(Number(JSON.parse(line(updated, 'communityPrice')!.after!))).toBe(0.12);
    // Only what changed is listed.
    expect(line(updated, 'gridPrice')).toBeUndefined();

    await change('DELETE', `/api/v1/tariffs/${tariff.id}`, w.managerA.token);
    const deleted = await latest(w.communityA, tariff.id, w.managerA.id);
    expect(deleted.action).toBe('delete');
    expect(line(deleted, 'name')).toEqual({ path: 'name', before: '"Audit tariff"', after: null });
  });

  it('records a change of the sharing rule apart from other settings', async () => {
    await change('PATCH', `/api/v1/communities/${w.communityA}`, w.managerA.token, { allocationRule: 'static' });
    const entry = await latest(w.communityA, w.communityA, w.managerA.id);
    expect(entry).toMatchObject({ kind: 'sharing-rule', action: 'update' });
    expect(line(entry, 'allocationRule')?.after).toBe('"static"');
    await change('PATCH', `/api/v1/communities/${w.communityA}`, w.managerA.token, { description: 'Audited street' });
    const settings = await latest(w.communityA, w.communityA, w.managerA.id);
    expect(settings.kind).toBe('community');
    expect(line(settings, 'description')?.after).toBe('"Audited street"');
  });

  it('records the static shares by member', async () => {
    const validFrom = '2026-03-01T00:00:00.000Z';
    await change('PUT', `/api/v1/communities/${w.communityA}/allocation-shares`, w.managerA.token,
      { validFrom, shares: [{ memberId: w.memberIdA, share: '0.6' }, { memberId: w.memberIdA2, share: '0.4' }] });
    await change('PUT', `/api/v1/communities/${w.communityA}/allocation-shares`, w.managerA.token,
      { validFrom, shares: [{ memberId: w.memberIdA, share: '0.5' }, { memberId: w.memberIdA2, share: '0.4' }] });
    const entries = (await trail(w.communityA, '?kind=share')).filter((e) => e.resourceId === validFrom);
    expect(entries).toHaveLength(2);
    const [second, first] = entries as [Entry, Entry];
    expect(first.diff.find((l) => l.path === `shares.${w.memberIdA}`)).toEqual({ path: `shares.${w.memberIdA}`, before: null, after: '"0.6"' });
    expect(second.diff).toEqual([{ path: `shares.${w.memberIdA}`, before: '"0.6"', after: '"0.5"' }]);
    expect(second.actor.userId).toBe(w.managerA.id);
  });

  it('records joining, approval, roles and removal, with personal fields masked', async () => {
    const joiner = await tp.call('POST', '/api/v1/auth/signup', { body: { email: `${unique('joiner')}@example.org`, password: 'joiner-password-1', displayName: 'Jo Private' } });
    const joinerToken = (await tp.call('POST', '/api/v1/me/tokens', { cookie: String(joiner.headers['set-cookie']).split(';')[0]!, body: { name: 't' } })).body.token as string;
    const request = await change('POST', `/api/v1/communities/${w.communityA}/join-requests`, joinerToken, { displayName: 'Jo Private' });
    const asked = await latest(w.communityA, request.id, joiner.body.id, 'user');
    expect(asked).toMatchObject({ kind: 'member', action: 'request-to-join' });
    // Names and addresses stay out of the trail; that they were set is kept.
    expect(JSON.stringify(asked)).not.toContain('Jo Private');
    expect(JSON.stringify(asked)).not.toContain('@example.org');
    expect(line(asked, 'displayName')?.after).toBe('"[personal]"');

    await change('POST', `/api/v1/members/${request.id}/approve`, w.managerA.token);
    const approved = await latest(w.communityA, request.id, w.managerA.id);
    expect(approved).toMatchObject({ kind: 'member', action: 'approve', subjectMemberId: request.id });
    expect(line(approved, 'state')).toEqual({ path: 'state', before: '"requested"', after: '"active"' });

    await change('PATCH', `/api/v1/members/${request.id}`, w.managerA.token, { role: 'manager' });
    const promoted = await latest(w.communityA, request.id, w.managerA.id);
    expect(promoted).toMatchObject({ kind: 'role', action: 'make-manager' });
    expect(line(promoted, 'role')).toEqual({ path: 'role', before: '"member"', after: '"manager"' });

    await change('PATCH', `/api/v1/members/${request.id}`, w.managerA.token, { role: 'member' });
    await change('POST', `/api/v1/members/${request.id}/leave`, w.managerA.token);
    const removed = await latest(w.communityA, request.id, w.managerA.id);
    expect(removed).toMatchObject({ kind: 'member', action: 'remove' });
    expect(line(removed, 'state')?.after).toBe('"left"');
  });

  it('records devices added, changed and removed', async () => {
    const device = await change('POST', `/api/v1/communities/${w.communityA}/devices`, w.managerA.token, { kind: 'smart-plug', name: 'Audit plug' });
    expect((await latest(w.communityA, device.id, w.managerA.id))).toMatchObject({ kind: 'device', action: 'create' });
    await change('PATCH', `/api/v1/devices/${device.id}`, w.managerA.token, { status: 'disabled' });
    const disabled = await latest(w.communityA, device.id, w.managerA.id);
    expect(line(disabled, 'status')).toEqual({ path: 'status', before: '"active"', after: '"disabled"' });
    await change('DELETE', `/api/v1/devices/${device.id}`, w.managerA.token);
    expect((await latest(w.communityA, device.id, w.managerA.id)).action).toBe('delete');
  });

  it('records a settlement closed, as an admin acting in a community they do not belong to', async () => {
    const community = await change('POST', '/api/v1/communities', w.managerA.token, communityBody(unique('Settled ')));
    await change('POST', `/api/v1/communities/${community.id}/tariffs`, w.managerA.token,
      { name: 'Old', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', validFrom: '2025-01-01' });
    const settlement = await change('POST', `/api/v1/communities/${community.id}/settlements`, w.managerA.token, { period: '2025-08' });
    await change('POST', await confirmedCloseUrl(tp, tp.admin.token, settlement.id), tp.admin.token);
    const admin = (await tp.call('GET', '/api/v1/me', { token: tp.admin.token })).body.user;
    const closed = await latest(community.id, settlement.id, admin.id, 'admin');
    expect(closed).toMatchObject({ kind: 'settlement', action: 'close' });
    expect(line(closed, 'state')).toEqual({ path: 'state', before: '"draft"', after: '"closed"' });
    expect(line(closed, 'statements')).toBeUndefined();
  });

  it('records quotas set by an admin, for a community and for everyone', async () => {
    await change('PATCH', `/api/v1/communities/${w.communityA}/quotas`, tp.admin.token, { devicesPerCommunity: 77 });
    const admin = (await tp.call('GET', '/api/v1/me', { token: tp.admin.token })).body.user;
    const entry = await latest(w.communityA, w.communityA, admin.id, 'admin');
    expect(entry).toMatchObject({ kind: 'quota', action: 'set-community-grants' });
    expect(entry.diff).toEqual([{ path: 'devicesPerCommunity', before: null, after: '77' }]);

    await change('PATCH', '/api/v1/quotas', tp.admin.token, { batchesPerHour: 999 });
    const all = await tp.call('GET', '/api/v1/audit?kind=quota', { token: tp.admin.token });
    const platform = (all.body.entries as Entry[]).find((e) => e.resourceId === 'platform')!;
    expect(platform.communityId).toBeNull();
    expect(platform.diff).toEqual([{ path: 'batchesPerHour', before: '1000', after: '999' }]);
  });

  it('records a consent given and revoked by its member', async () => {
    const consent = await change('POST', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token, {
      recipient: { kind: 'member', id: w.memberIdA2, label: 'Neighbour' },
      scope: { meteringPoints: [w.meteringPointA], quantities: ['import'], resolution: '1h', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
      purpose: { code: 'peer-comparison', statement: 'Compare our mornings.' },
      validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
    const given = await latest(w.communityA, consent.id, w.memberA.id, 'member');
    expect(given).toMatchObject({ kind: 'consent', action: 'grant', subjectMemberId: w.memberIdA });
    await change('POST', `/api/v1/consents/${consent.id}/revoke`, w.memberA.token);
    const revoked = await latest(w.communityA, consent.id, w.memberA.id, 'member');
    expect(revoked.action).toBe('revoke');
    expect(line(revoked, 'revokedAt')?.before).toBe('null');
  });

  it('rolls the entry back with a change that fails', async () => {
    const before = (await trail(w.communityA, '?kind=tariff')).length;
    const duplicate = await tp.call('POST', `/api/v1/communities/${w.communityA}/tariffs`, {
      token: w.managerA.token, body: { name: 'Twice', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', validFrom: '2026-01-01' },
    });
    expect(duplicate.status).toBe(409);
    expect((await trail(w.communityA, '?kind=tariff')).length).toBe(before);
  });

  it('shows a manager their community only, members nothing, and filters and pages', async () => {
    const own = await tp.call('GET', `/api/v1/communities/${w.communityA}/audit`, { token: w.managerA.token });
    expect(own.status).toBe(200);
    expect((own.body.entries as Entry[]).every((e) => e.communityId === w.communityA)).toBe(true);
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/audit`, { token: w.managerB.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/audit.csv`, { token: w.managerB.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/audit`, { token: w.memberA.token })).status).toBe(403);
    expect((await tp.call('GET', `/api/v1/audit?communityId=${w.communityA}`, { token: w.managerB.token })).status).toBe(403);
    // B's own trail has B's changes and none of A's.
    const b = await tp.call('GET', `/api/v1/communities/${w.communityB}/audit`, { token: w.managerB.token });
    expect((b.body.entries as Entry[]).length).toBeGreaterThan(0);
    expect((b.body.entries as Entry[]).every((e) => e.communityId === w.communityB)).toBe(true);

    const byUser = await trail(w.communityA, `?userId=${w.memberA.id}`);
    expect(byUser.length).toBeGreaterThan(0);
    expect(byUser.every((e) => e.actor.userId === w.memberA.id)).toBe(true);
    expect(await trail(w.communityA, '?from=2000-01-01T00:00:00Z&to=2000-02-01T00:00:00Z')).toEqual([]);

    const all = await trail(w.communityA, '?limit=500');
    const pages: Entry[] = [];
    let next: string | null = null;
    do {
      const page: { body: { entries: Entry[]; next: string | null } } = await tp.call('GET', `/api/v1/communities/${w.communityA}/audit?limit=3${next ? `&before=${next}` : ''}`, { token: w.managerA.token });
      expect(page.body.entries.length).toBeLessThanOrEqual(3);
      pages.push(...page.body.entries);
      next = page.body.next;
    } while (next !== null);
    expect(pages.map((e) => e.id)).toEqual(all.map((e) => e.id));
  });

  it('exports the trail as CSV, one line per changed field', async () => {
    const response = await tp.call('GET', `/api/v1/communities/${w.communityA}/audit.csv?kind=tariff`, { token: w.managerA.token });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parse(response.raw.body, { columns: true }) as Record<string, string>[];
    const page = await trail(w.communityA, '?kind=tariff&limit=500');
    expect(rows.length).toBe(page.reduce((sum, e) => sum + e.diff.length, 0));
    const price = rows.find((r) => r.action === 'update' && r.path === 'communityPrice')!;
    expect(price).toMatchObject({ kind: 'tariff', community_id: w.communityA, actor_user_id: w.managerA.id, actor_role: 'manager', client_address: ADDRESS, user_agent: AGENT });
    expect(Number(JSON.parse(price.after!))).toBe(0.12);
    const admin = await tp.call('GET', '/api/v1/audit.csv?kind=quota', { token: tp.admin.token });
    expect(admin.status).toBe(200);
    expect(admin.raw.body.split('\n')[0]).toBe('id,at,community_id,kind,resource_id,action,actor_user_id,actor_role,subject_member_id,path,before,after,client_address,user_agent,request_id');
    expect((await tp.call('GET', '/api/v1/audit.csv', { token: w.managerA.token })).status).toBe(403);
  });

  it('refuses bad filters and huge pages, naming the field', async () => {
    const bad = async (query: string, field: string) => {
      const response = await tp.call('GET', `/api/v1/communities/${w.communityA}/audit${query}`, { token: w.managerA.token });
      expect(response.status, query).toBe(400);
      expect(response.body.error).toBe('bad_request');
      expect(`${response.body.field ?? ''} ${response.body.message}`, query).toContain(field);
    };
    await bad('?limit=100000', 'limit');
    await bad('?limit=0', 'limit');
    await bad('?limit=NaN', 'limit');
    await bad('?kind=password', 'kind');
    await bad('?userId=not-a-uuid', 'userId');
    await bad('?from=1999-12-31T00:00:00Z', 'from');
    await bad('?to=2150-01-01T00:00:00Z', 'to');
    await bad('?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from');
    await bad('?before=-1', 'before');
    await bad('?before=99999999999999999999999', 'before');
    await bad('?sort=id', 'sort');
    const csv = await tp.call('GET', `/api/v1/communities/${w.communityA}/audit.csv?limit=5`, { token: w.managerA.token });
    expect(csv.status).toBe(400);
  });
});
