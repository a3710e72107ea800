import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { signUp, startTestPlatform, unique, type TestPlatform, type TestUser } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { enforceRetention, findTraces, PRIVACY_EXPORTS_JOB } from '../../src/privacy/index.js';
import { ensureDemoCommunity } from '../../src/demo/index.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { decodeEntry, type ConsentChangedEntry } from '../../src/ledger/domain/index.js';
import { confirmedCloseUrl } from '../support/settlements.js';

const DAY = 86_400_000;
/** The privacy clock: a fixed instant, moved by the tests (never the wall clock's time of day). */
const NOW = Date.UTC(2026, 2, 10, 12);
const T0 = Date.UTC(2026, 2, 1);

describe.each(platformStoreKinds)('privacy API on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  const clock = { now: NOW };

  async function ok(method: string, url: string, token: string, body?: unknown) {
    const response = await tp.call(method, url, { token, body });
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** memberA's home: 8 quarter hours of import from T0 (1, 2, … 8 Wh). */
  async function storeIntervals(pointId: string, communityId: string): Promise<void> {
    for (let i = 0; i < 8; i++) {
      await tp.platform.db.query(
        `INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, pv_wh, quality) VALUES ($1, $2, $3, $4, 0, 0, 'measured')`,
        [pointId, new Date(T0 + i * 900_000), communityId, i + 1],
      );
    }
  }

  const grantBody = (w: World, overrides: Record<string, unknown> = {}) => ({
    recipient: { kind: 'member', id: w.memberIdA2, label: 'Neighbour A2' },
    scope: { meteringPoints: [w.meteringPointA], quantities: ['import'], resolution: '1h', from: new Date(T0).toISOString(), to: new Date(T0 + DAY).toISOString() },
    purpose: { code: 'peer-comparison', statement: 'Compare our mornings.' },
    validUntil: new Date(NOW + 30 * DAY).toISOString(),
    ...overrides,
  });
  const seriesUrl = (grantId: string, resolution = '1h') =>
    `/api/v1/consents/${grantId}/series?meteringPoint=${w.meteringPointA}&quantity=import&resolution=${resolution}&from=${new Date(T0).toISOString()}&to=${new Date(T0 + DAY).toISOString()}`;

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { privacy: { now: () => clock.now } });
    w = await buildWorld(tp);
    await storeIntervals(w.meteringPointA, w.communityA);
  });
  afterAll(() => tp?.close());

  it('a consent takes effect at once and its revocation too; nobody else reads through it', async () => {
    const grant = await ok('POST', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token, grantBody(w));
    expect(grant).toMatchObject({ state: 'active', grantor: w.memberIdA, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });

    const read = await tp.call('GET', seriesUrl(grant.id), { token: w.memberA2.token });
    expect(read.status).toBe(200);
    // Hourly sums of the two complete hours; the rest of the day has no data (missing, never 0).
    expect(read.body.values.slice(0, 3).map((v: { wh: number | null }) => v.wh)).toEqual([1 + 2 + 3 + 4, 5 + 6 + 7 + 8, null]);
    // Finer than granted, another member, a manager: nothing there for them.
    expect((await tp.call('GET', seriesUrl(grant.id, '15m'), { token: w.memberA2.token })).status).toBe(404);
    expect((await tp.call('GET', seriesUrl(grant.id), { token: w.memberB.token })).status).toBe(404);
    expect((await tp.call('GET', seriesUrl(grant.id), { token: w.managerA.token })).status).toBe(404);

    const listed = await ok('GET', `/api/v1/members/${w.memberIdA2}/consents`, w.memberA2.token);
    expect(listed.received.map((g: { id: string }) => g.id)).toContain(grant.id);
    expect((await tp.call('POST', `/api/v1/consents/${grant.id}/revoke`, { token: w.memberA2.token })).status).toBe(403);

    clock.now += 60_000;
    const revoked = await ok('POST', `/api/v1/consents/${grant.id}/revoke`, w.memberA.token);
    expect(revoked).toMatchObject({ state: 'revoked', revokedAt: new Date(clock.now).toISOString().replace('.000Z', 'Z') });
    const refused = await tp.call('GET', seriesUrl(grant.id), { token: w.memberA2.token });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/revoked/);
    // Revoking again keeps the first revocation.
    clock.now += 60_000;
    expect((await ok('POST', `/api/v1/consents/${grant.id}/revoke`, w.memberA.token)).revokedAt).toBe(revoked.revokedAt);

    // The recipient's read is in memberA's access log.
    const log = await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token);
    expect(log).toContainEqual(expect.objectContaining({ accessorKind: 'recipient', accessor: 'Neighbour A2', grantId: grant.id, purpose: 'consented-sharing' }));

    // The grant and its revocation are in the verifiable record once each, the members only as commitments.
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const rows = await tp.platform.db.query<{ subject: string; body: Uint8Array }>(
      "SELECT subject, body FROM ledger_entries WHERE kind = 'consent.changed' AND subject LIKE $1 ORDER BY seq", [`${grant.id}:%`]);
    expect(rows.map((r) => r.subject)).toEqual([`${grant.id}:granted`, `${grant.id}:revoked`]);
    const [granted, revokedEntry] = rows.map((r) => decodeEntry(r.body) as ConsentChangedEntry) as [ConsentChangedEntry, ConsentChangedEntry];
    expect(granted).toMatchObject({ community: w.communityA, purpose: 'peer-comparison', state: 'granted', validUntil: new Date(NOW + 30 * DAY).toISOString().replace('.000Z', 'Z') });
    expect(revokedEntry).toMatchObject({ state: 'revoked', subject: granted.subject, grantee: granted.grantee, at: revoked.revokedAt });
    expect(revokedEntry.validUntil).toBeUndefined();
    // Both carry the digest of the grant's terms, so the member holding the terms can show which consent each is about.
    expect(granted.termsSha256).toBe(grant.digest);
    expect(revokedEntry.termsSha256).toBe(grant.digest);
    expect(granted.subject).toMatch(/^[0-9a-f]{64}$/);
    expect(granted.grantee).toMatch(/^[0-9a-f]{64}$/);
    expect(granted.subject).not.toBe(granted.grantee);
    for (const row of rows) {
      const text = new TextDecoder().decode(row.body);
      for (const personal of [w.memberIdA, w.memberIdA2, 'Neighbour A2', 'Compare our mornings']) expect(text).not.toContain(personal);
    }
  });

  it('a researcher reads with the grant\'s own token, shown once and kept hashed: its scope only, never once revoked or expired, never another grant', async () => {
    const researcher = { kind: 'researcher', id: 'energy-lab-tu-wien', label: 'Energy Lab, TU Wien' };
    const grant = await ok('POST', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token, grantBody(w, { recipient: researcher, purpose: { code: 'research', statement: 'Load shapes.' } }));
    expect(grant.recipientToken).toMatch(/^gsc_[A-Za-z0-9_-]{43}$/);
    const other = await ok('POST', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token,
      grantBody(w, { recipient: { ...researcher, id: 'grid-planning-dso' }, purpose: { code: 'grid-planning', statement: 'Feeder loads.' } }));
    // A member recipient reads with their own login: no token for them.
    expect((await ok('POST', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token, grantBody(w))).recipientToken).toBeUndefined();
    // Shown once: the list does not repeat it, and the database holds only its SHA-256.
    expect(JSON.stringify(await ok('GET', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token))).not.toContain(grant.recipientToken);
    const stored = await tp.platform.db.query<{ token_sha256: string }>('SELECT token_sha256 FROM consent_recipient_tokens WHERE grant_id = $1', [grant.id]);
    expect(stored.map((r) => r.token_sha256)).toEqual([createHash('sha256').update(grant.recipientToken).digest('hex')]);

    const read = (grantId: string, token: string | undefined, query: string = seriesUrl(grantId).split('?')[1]!) =>
      tp.call('GET', `/api/v1/consents/${grantId}/series?${query}`, { token });
    const inScope = await read(grant.id, grant.recipientToken);
    expect(inScope.status).toBe(200);
    expect(inScope.body.values.slice(0, 2).map((v: { wh: number | null }) => v.wh)).toEqual([1 + 2 + 3 + 4, 5 + 6 + 7 + 8]);
    const log = await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token);
    expect(log[0]).toMatchObject({ accessorKind: 'recipient', accessor: 'Energy Lab, TU Wien', grantId: grant.id, purpose: 'consented-sharing' });

    const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + DAY).toISOString()}`;
    const outOfScope = [
      `meteringPoint=${w.meteringPointA}&quantity=import&resolution=15m&${range}`, // finer than granted
      `meteringPoint=${w.meteringPointA}&quantity=export&resolution=1h&${range}`, // another quantity
      `meteringPoint=${w.meteringPointA2}&quantity=import&resolution=1h&${range}`, // another member's point
      `meteringPoint=${w.meteringPointA}&quantity=import&resolution=1h&from=${new Date(T0 + 2 * DAY).toISOString()}&to=${new Date(T0 + 3 * DAY).toISOString()}`, // outside the period
    ];
    for (const query of outOfScope) expect((await read(grant.id, grant.recipientToken, query)).status, query).toBe(404);
    // Another grant's token, a token nobody issued, a member's API token, nobody at all.
    expect((await read(grant.id, other.recipientToken)).status).toBe(404);
    expect((await read(other.id, grant.recipientToken)).status).toBe(404);
    expect((await read(grant.id, `gsc_${'A'.repeat(43)}`)).status).toBe(404);
    for (const token of [w.memberA.token, w.memberA2.token, w.managerA.token, tp.admin.token]) expect((await read(grant.id, token)).status).toBe(404);
    expect((await read(grant.id, undefined)).status).toBe(401);
    const reads = (await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token)).length;

    // Expired: the other grant's token opens nothing once its time is up (and says nothing of why).
    const expiring = await ok('POST', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token,
      grantBody(w, { recipient: { kind: 'app', id: 'heat-pump-app', label: 'Heat pump app' }, validUntil: new Date(clock.now + DAY).toISOString() }));
    expect((await read(expiring.id, expiring.recipientToken)).status).toBe(200);
    clock.now += DAY;
    const expired = await read(expiring.id, expiring.recipientToken);
    expect(expired.status).toBe(404);
    expect(expired.body.message).not.toMatch(/expired/);
    clock.now -= DAY;

    // Revoked: at once.
    await ok('POST', `/api/v1/consents/${grant.id}/revoke`, w.memberA.token);
    expect((await read(grant.id, grant.recipientToken)).status).toBe(404);
    // Every refusal left the log as it was; only the one read of the expiring grant was added.
    expect((await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token)).length).toBe(reads + 1);
  });

  it('re-issues a recipient token: the old one stops at once, the new one reads, on the audit trail without the token; only its member, only while the grant lasts', async () => {
    const researcher = { kind: 'researcher', id: 'lost-token-lab', label: 'Lost Token Lab' };
    const grant = await ok('POST', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token, grantBody(w, { recipient: researcher, purpose: { code: 'research', statement: 'Load shapes.' } }));
    const read = (token: string) => tp.call('GET', seriesUrl(grant.id), { token });
    expect((await read(grant.recipientToken)).status).toBe(200);

    // Nobody but its member: the recipient's manager and the recipient token itself get nothing, and nothing changes.
    expect((await tp.call('POST', `/api/v1/consents/${grant.id}/recipient-token`, { token: w.managerA.token })).status).toBe(403);
    expect((await tp.call('POST', `/api/v1/consents/${grant.id}/recipient-token`, { token: w.memberB.token })).status).toBe(404);
    expect((await tp.call('POST', `/api/v1/consents/${grant.id}/recipient-token`, { token: grant.recipientToken })).status).toBe(401);
    expect((await read(grant.recipientToken)).status).toBe(200);

    clock.now += 60_000;
    const reissued = await ok('POST', `/api/v1/consents/${grant.id}/recipient-token`, w.memberA.token);
    expect(reissued).toMatchObject({ id: grant.id, state: 'active', digest: grant.digest, recipientToken: expect.stringMatching(/^gsc_[A-Za-z0-9_-]{43}$/) });
    expect(reissued.recipientToken).not.toBe(grant.recipientToken);
    expect((await read(grant.recipientToken)).status).toBe(404);
    const fresh = await read(reissued.recipientToken);
    expect(fresh.status).toBe(200);
    expect(fresh.body.values.slice(0, 2).map((v: { wh: number | null }) => v.wh)).toEqual([1 + 2 + 3 + 4, 5 + 6 + 7 + 8]);
    const stored = await tp.platform.db.query<{ token_sha256: string; generation: number }>('SELECT token_sha256, generation FROM consent_recipient_tokens WHERE grant_id = $1', [grant.id]);
    expect(stored).toEqual([{ token_sha256: createHash('sha256').update(reissued.recipientToken).digest('hex'), generation: 2 }]);

    // The trail names the generation and the time ("token" would mark the field a secret), never the token nor its hash.
    const trail = await ok('GET', `/api/v1/communities/${w.communityA}/audit?kind=consent&limit=500`, tp.admin.token);
    const entry = trail.entries.find((e: { resourceId: string; action: string }) => e.resourceId === grant.id && e.action === 'reissue-token');
    expect(entry).toMatchObject({ kind: 'consent', subjectMemberId: w.memberIdA });
    expect(entry.diff).toContainEqual({ path: 'recipientAccess.generation', before: '1', after: '2' });
    for (const secret of [grant.recipientToken, reissued.recipientToken, stored[0]!.token_sha256]) expect(JSON.stringify(trail)).not.toContain(secret);

    // A member recipient has no token; an ended grant gets none (it is granted anew): 409, nothing changed.
    const toMember = await ok('POST', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token, grantBody(w));
    expect((await tp.call('POST', `/api/v1/consents/${toMember.id}/recipient-token`, { token: w.memberA.token })).status).toBe(409);
    await ok('POST', `/api/v1/consents/${grant.id}/revoke`, w.memberA.token);
    const refused = await tp.call('POST', `/api/v1/consents/${grant.id}/recipient-token`, { token: w.memberA.token });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/revoked/);
    expect(await tp.platform.db.query('SELECT generation FROM consent_recipient_tokens WHERE grant_id = $1', [grant.id])).toEqual([{ generation: 2 }]);
  });

  it('masks the regulator export by the community\'s rule set: the cautious default, then the managers\' own; bad rules change nothing', async () => {
    const exportUrl = (from: number, to: number) => `/api/v1/communities/${w.communityA}/exports/regulator-intervals.csv?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    const rulesUrl = `/api/v1/communities/${w.communityA}/masking-rules`;
    await ok('PATCH', `/api/v1/communities/${w.communityA}`, w.managerA.token, { country: 'AT' });
    await ok('PATCH', `/api/v1/metering-points/${w.meteringPointA}`, w.memberA.token, { address: 'Hauptstraße 12, 1010 Wien' });
    const point = await ok('GET', `/api/v1/metering-points/${w.meteringPointA}`, w.memberA.token);
    const member = await ok('GET', `/api/v1/members/${w.memberIdA}`, w.memberA.token);
    const csv = async (url: string) => {
      const response = await tp.call('GET', url, { token: w.managerA.token });
      if (response.status !== 200) throw new Error(`${url}: ${response.status} ${JSON.stringify(response.body)}`);
      expect(response.headers['content-type']).toMatch(/^text\/csv/);
      const [header, ...rows] = String(response.body).trimEnd().split('\r\n').map((line) => line.split(','));
      return { text: String(response.body), header: header!, rows: rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]]))) };
    };

    const rules = await ok('GET', rulesUrl, w.managerA.token);
    expect(rules.rules.map((r: { name: string }) => r.name)).toEqual(expect.arrayContaining(['keep', 'drop', 'hash', 'postcode', 'hourly']));
    expect(rules.sets).toEqual([expect.objectContaining({
      isDefault: true, updatedAt: null,
      ruleSet: { name: 'default', otherFields: 'keep', fields: { metering_point: 'hash', member_name: 'drop', member_email: 'drop', address: 'postcode' } },
    })]);

    // The default: no name, the point's number hashed under the community's salt, the address cut to its postcode, the quarter hours as they are.
    const first = await csv(exportUrl(T0, T0 + DAY));
    expect(first.header).toEqual(['metering_point', 'address', 'interval_start', 'consumption_wh', 'from_community_wh', 'production_wh', 'to_community_wh', 'quality']);
    const mine = first.rows.filter((r) => r.address === '1010');
    expect(mine.map((r) => Number(r.consumption_wh))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const hashed = mine[0]!.metering_point!;
    expect(hashed).toMatch(/^[0-9a-f]{32}$/);
    for (const personal of [point.gridConnectionId, member.displayName, 'Hauptstraße', w.memberIdA]) expect(first.text).not.toContain(personal);
    // The salt is sealed at rest, made once: the same point hashes the same in every export.
    const [salt] = await tp.platform.db.query<{ salt: string }>('SELECT salt FROM masking_salts WHERE community_id = $1', [w.communityA]);
    expect(salt!.salt).toMatch(/^gs1:/);

    // The managers' own: hourly, the address dropped.
    const own = { name: 'Regulator 2026', fields: { interval_start: 'hourly', address: 'drop', metering_point: 'hash', member_name: 'drop' }, otherFields: 'keep' };
    const saved = await ok('PUT', rulesUrl, w.managerA.token, { export: 'regulator-intervals', ...own });
    expect(saved).toMatchObject({ isDefault: false, ruleSet: own });
    const hourly = await csv(exportUrl(T0, T0 + DAY));
    expect(hourly.header).not.toContain('address');
    const mineHourly = hourly.rows.filter((r) => r.metering_point === hashed);
    expect(mineHourly.map((r) => [r.interval_start, Number(r.consumption_wh), r.quality])).toEqual([
      [new Date(T0).toISOString().replace('.000Z', 'Z'), 1 + 2 + 3 + 4, 'measured'], [new Date(T0 + 3_600_000).toISOString().replace('.000Z', 'Z'), 5 + 6 + 7 + 8, 'measured'],
    ]);

    // Every problem at once, and nothing changed; members cannot set or download.
    const bad = await tp.call('PUT', rulesUrl, { token: w.managerA.token, body: { export: 'regulator-intervals', name: 'Bad', fields: { member_name: 'postcode', shoe_size: 'drop', address: 'scramble' }, otherFields: 'keep' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/postcode.*member_name|member_name.*postcode/);
    expect(bad.body.message).toContain('shoe_size');
    expect(bad.body.message).toContain('scramble');
    expect((await ok('GET', rulesUrl, w.managerA.token)).sets[0].ruleSet).toEqual(own);
    expect((await tp.call('PUT', rulesUrl, { token: w.memberA.token, body: { export: 'regulator-intervals', ...own } })).status).toBe(403);
    expect((await tp.call('GET', exportUrl(T0, T0 + DAY), { token: w.memberA.token })).status).toBe(403);
    expect((await tp.call('GET', exportUrl(T0, T0 + DAY), { token: w.managerB.token })).status).toBe(404);
    // Too long, backwards, in the future.
    for (const [from, to] of [[T0, T0 + 40 * DAY], [T0 + DAY, T0], [NOW, NOW + 3 * DAY]] as const) {
      expect((await tp.call('GET', exportUrl(from, to), { token: w.managerA.token })).status).toBe(400);
    }

    // Each member in it sees the manager's export in their access log.
    const log = await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token);
    expect(log[0]).toMatchObject({ accessorKind: 'manager', accessor: w.managerA.email, route: 'GET /api/v1/communities/:id/exports/regulator-intervals.csv', resolution: '1h' });
    await ok('PATCH', `/api/v1/communities/${w.communityA}`, w.managerA.token, { country: null });
  });

  it('logs a manager\'s read of a member\'s data; the member sees it, nobody else does, own reads are not logged', async () => {
    const before = (await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token)).length;
    const range = `from=${new Date(T0).toISOString()}&to=${new Date(T0 + 2 * 3_600_000).toISOString()}`;
    await ok('GET', `/api/v1/metering-points/${w.meteringPointA}/intervals?${range}`, w.memberA.token);
    await ok('GET', `/api/v1/metering-points/${w.meteringPointA}/intervals?${range}`, w.managerA.token);
    const log = await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token);
    expect(log).toHaveLength(before + 1);
    expect(log[0]).toMatchObject({
      accessorKind: 'manager', accessor: w.managerA.email, category: 'intervals', purpose: 'settlement', meteringPoints: [w.meteringPointA],
      route: 'GET /api/v1/metering-points/:id/intervals', periodFrom: new Date(T0).toISOString().replace('.000Z', 'Z'),
    });
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA}/access-log`, { token: w.memberA2.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA}/access-log`, { token: w.managerA.token })).status).toBe(403);
    // memberA2's log does not show memberA's reads.
    const other = await ok('GET', `/api/v1/members/${w.memberIdA2}/access-log`, w.memberA2.token);
    expect(other.filter((e: { route: string }) => e.route.includes('intervals'))).toEqual([]);
  });

  it('exports the member\'s own data only, as a ZIP of JSON and CSV with a README', async () => {
    const response = await tp.call('GET', `/api/v1/members/${w.memberIdA}/export.zip`, { token: w.memberA.token });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    const files = unzipSync(new Uint8Array(response.raw.rawPayload));
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['README.md', 'account.json', 'account.csv', 'sites.json', 'intervals.json', 'consents.json', 'access-log.json', 'statements.json']));
    const json = (name: string) => JSON.parse(strFromU8(files[name]!)) as Record<string, unknown>[];
    expect(json('account.json')).toEqual([expect.objectContaining({ email: w.memberA.email })]);
    expect(json('sites.json').map((s) => s.metering_point_id)).toEqual([w.meteringPointA]);
    // memberA's two devices on their site, with what they sent there (nothing yet in this world).
    expect(json('devices.json').map((d) => d.device_id).sort()).toEqual([w.deviceA, w.provisionedA].sort());
    expect(json('devices.json').every((d) => d.metering_point_id === w.meteringPointA)).toBe(true);
    expect(json('readings.json')).toEqual([]);
    expect(json('intervals.json')).toHaveLength(8);
    expect(json('intervals.json').every((i) => i.metering_point_id === w.meteringPointA)).toBe(true);
    expect(json('consents.json').length).toBeGreaterThan(0);
    expect(json('access-log.json').length).toBeGreaterThan(0);
    const everything = Object.values(files).map((f) => strFromU8(f)).join('\n');
    for (const foreign of [w.memberA2.email, w.memberB.email, w.memberIdA2, w.meteringPointA2, w.memberIdB]) expect(everything).not.toContain(foreign);
    // The export is in the member's own log, and another member cannot export it.
    const log = await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token);
    expect(log[0]).toMatchObject({ accessorKind: 'export', purpose: 'data-subject-rights' });
    expect((await tp.call('GET', `/api/v1/members/${w.memberIdA}/export.zip`, { token: w.memberA2.token })).status).toBe(404);
  });

  it('makes a member\'s export as a job: answered at once, its progress counted, the ZIP fetched when done; one at a time; nobody else sees it', async () => {
    const jobsUrl = `/api/v1/members/${w.memberIdA}/export-jobs`;
    await tp.platform.jobs.pause(PRIVACY_EXPORTS_JOB);
    const requested = await tp.call('POST', jobsUrl, { token: w.memberA.token });
    expect(requested.status).toBe(202);
    const job = requested.body;
    expect(job).toMatchObject({ export: 'member', memberId: w.memberIdA, communityId: w.communityA, state: 'queued', itemsDone: 0, itemsTotal: null, fileName: null });
    // Asked again while it waits: the same job.
    expect((await ok('POST', jobsUrl, w.memberA.token)).id).toBe(job.id);
    expect((await ok('GET', jobsUrl, w.memberA.token)).map((j: { id: string }) => j.id)).toContain(job.id);
    const file = await tp.call('GET', `/api/v1/export-jobs/${job.id}/file`, { token: w.memberA.token });
    expect(file.status).toBe(409);
    expect(file.body.message).toMatch(/queued/);
    // Nobody else learns it exists: another member, the member's own manager, an admin.
    for (const token of [w.memberA2.token, w.memberB.token, w.managerA.token, tp.admin.token]) {
      expect((await tp.call('GET', `/api/v1/export-jobs/${job.id}`, { token })).status).toBe(404);
      expect((await tp.call('GET', `/api/v1/export-jobs/${job.id}/file`, { token })).status).toBe(404);
    }
    expect((await tp.call('GET', jobsUrl, { token: w.memberA2.token })).status).toBe(404);

    tp.platform.jobs.resume(PRIVACY_EXPORTS_JOB);
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
    const done = await ok('GET', `/api/v1/export-jobs/${job.id}`, w.memberA.token);
    // The seven small kinds, memberA's two devices, and a year at a time since 2000 of the site's quarter hours and of energy by source.
    const years = Math.ceil((Date.parse(done.startedAt) - Date.UTC(2000, 0, 1)) / (366 * DAY));
    expect(done).toMatchObject({ state: 'done', itemsTotal: 7 + 2 + years + years, error: null, fileName: expect.stringMatching(/^gridshare-export-\w+\.zip$/) });
    expect(done.itemsDone).toBe(done.itemsTotal);
    expect(Date.parse(done.expiresAt) - Date.parse(done.finishedAt)).toBe(7 * DAY);
    const zip = await tp.call('GET', `/api/v1/export-jobs/${job.id}/file`, { token: w.memberA.token });
    expect(zip.status).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-disposition']).toBe(`attachment; filename="${done.fileName}"`);
    expect(Number(done.bytes)).toBe(zip.raw.rawPayload.length);
    const files = unzipSync(new Uint8Array(zip.raw.rawPayload));
    const json = (name: string) => JSON.parse(strFromU8(files[name]!)) as Record<string, unknown>[];
    expect(json('account.json')).toEqual([expect.objectContaining({ email: w.memberA.email })]);
    expect(json('intervals.json').map((i) => i.import_wh)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(json('devices.json').map((d) => d.device_id).sort()).toEqual([w.deviceA, w.provisionedA].sort());
    expect(strFromU8(files['README.md']!)).toContain('intervals.csv');
    const everything = Object.values(files).map((f) => strFromU8(f)).join('\n');
    for (const foreign of [w.memberA2.email, w.memberB.email, w.memberIdA2, w.meteringPointA2, w.memberIdB]) expect(everything).not.toContain(foreign);
    const log = await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token);
    expect(log[0]).toMatchObject({ accessorKind: 'export', purpose: 'data-subject-rights', route: 'POST /api/v1/members/:id/export-jobs' });
    // Done: a new request is a new job.
    const next = await ok('POST', jobsUrl, w.memberA.token);
    expect(next.id).not.toBe(job.id);
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);

    // Past the community's retention of export files the job and its file are gone.
    const path = join(tp.artefactsDir, 'privacy-exports', `${job.id}.export`);
    expect(existsSync(path)).toBe(true);
    clock.now += 8 * DAY;
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
    clock.now -= 8 * DAY;
    expect((await tp.call('GET', `/api/v1/export-jobs/${job.id}`, { token: w.memberA.token })).status).toBe(404);
    expect(existsSync(path)).toBe(false);
  });

  it('shows the managers every export job of the community, members\' too: whose, who asked, state, progress, when — never a member\'s file', async () => {
    const overviewUrl = `/api/v1/communities/${w.communityA}/export-jobs/overview`;
    await tp.platform.jobs.pause(PRIVACY_EXPORTS_JOB);
    const memberJob = await ok('POST', `/api/v1/members/${w.memberIdA2}/export-jobs`, w.memberA2.token);
    const rowOf = async () => (await ok('GET', overviewUrl, w.managerA.token)).find((j: { id: string }) => j.id === memberJob.id);
    expect(await rowOf()).toEqual({
      id: memberJob.id, export: 'member', memberId: w.memberIdA2, requestedBy: 'memberA2', requesterKind: 'member', from: null, to: null,
      state: 'queued', itemsDone: 0, itemsTotal: null, requestedAt: memberJob.requestedAt, startedAt: null, finishedAt: null, expiresAt: null, bytes: null, error: null,
    });
    // That the member asked for their data is about them: each look at the overview is in their access log (who, what, when, why).
    const overviewReads = async () => (await ok('GET', `/api/v1/members/${w.memberIdA2}/access-log`, w.memberA2.token))
      .filter((e: { route: string }) => e.route === 'GET /api/v1/communities/:id/export-jobs/overview');
    const seen = await overviewReads();
    expect(seen.at(0)).toMatchObject({ accessorKind: 'manager', accessor: w.managerA.email, category: 'identity', purpose: 'data-subject-rights' });
    expect(Date.parse(seen.at(0).at)).toBe(clock.now);
    await rowOf();
    expect(await overviewReads()).toHaveLength(seen.length + 1);
    expect((await tp.call('GET', overviewUrl, { token: w.managerB.token })).status).toBe(404);
    expect(await overviewReads()).toHaveLength(seen.length + 1);
    tp.platform.jobs.resume(PRIVACY_EXPORTS_JOB);
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
    const done = await ok('GET', `/api/v1/export-jobs/${memberJob.id}`, w.memberA2.token);
    const row = await rowOf();
    expect(row).toMatchObject({ state: 'done', itemsDone: done.itemsTotal, itemsTotal: done.itemsTotal, finishedAt: done.finishedAt, expiresAt: done.expiresAt, bytes: done.bytes });
    // Never the file: not its name in the overview, not the job's page nor the file for the manager.
    expect(row).not.toHaveProperty('fileName');
    expect(JSON.stringify(await ok('GET', overviewUrl, w.managerA.token))).not.toContain(done.fileName);
    expect((await tp.call('GET', `/api/v1/export-jobs/${memberJob.id}/file`, { token: w.managerA.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/export-jobs/${memberJob.id}`, { token: w.managerA.token })).status).toBe(404);
    // A manager export is listed too, with who asked as manager; members and other communities are refused.
    const managerJob = await ok('POST', `/api/v1/communities/${w.communityA}/export-jobs`, w.managerA.token,
      { export: 'regulator-intervals', from: new Date(T0).toISOString(), to: new Date(T0 + DAY).toISOString() });
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
    expect((await ok('GET', overviewUrl, w.managerA.token)).find((j: { id: string }) => j.id === managerJob.id))
      .toMatchObject({ export: 'regulator-intervals', memberId: null, requestedBy: 'managerA', requesterKind: 'manager', state: 'done' });
    expect((await tp.call('GET', overviewUrl, { token: w.memberA.token })).status).toBe(403);
    expect((await tp.call('GET', overviewUrl, { token: w.managerB.token })).status).toBe(404);
  });

  it('an export job whose process died is done again from the start once its lease has run out', async () => {
    await tp.platform.jobs.pause(PRIVACY_EXPORTS_JOB);
    const job = await ok('POST', `/api/v1/members/${w.memberIdA2}/export-jobs`, w.memberA2.token);
    // A process took it, counted 3 of 40, wrote half a file and died holding its lease.
    await tp.platform.db.query(`UPDATE privacy_export_jobs SET state = 'running', started_at = now(), items_done = 3, items_total = 40 WHERE id = $1`, [job.id]);
    await tp.platform.db.query(`INSERT INTO job_leases (job, unit, holder, expires_at) VALUES ($1, $2, 'dead-process', now() + interval '1 second')`,
      [PRIVACY_EXPORTS_JOB, `export:${job.id}`]);
    const partial = join(tp.artefactsDir, 'privacy-exports', `${job.id}.export.partial`);
    mkdirSync(dirname(partial), { recursive: true });
    writeFileSync(partial, 'PK half an archive');
    expect(await ok('GET', `/api/v1/export-jobs/${job.id}`, w.memberA2.token)).toMatchObject({ state: 'running', itemsDone: 3, itemsTotal: 40 });

    tp.platform.jobs.resume(PRIVACY_EXPORTS_JOB);
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
    // Its lease still runs: nobody else touches it.
    expect(await ok('GET', `/api/v1/export-jobs/${job.id}`, w.memberA2.token)).toMatchObject({ state: 'running', itemsDone: 3 });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
    const done = await ok('GET', `/api/v1/export-jobs/${job.id}`, w.memberA2.token);
    expect(done.state).toBe('done');
    expect(done.itemsDone).toBe(done.itemsTotal);
    expect(done.itemsTotal).not.toBe(40);
    const zip = await tp.call('GET', `/api/v1/export-jobs/${job.id}/file`, { token: w.memberA2.token });
    const files = unzipSync(new Uint8Array(zip.raw.rawPayload));
    expect(JSON.parse(strFromU8(files['account.json']!))).toEqual([expect.objectContaining({ email: w.memberA2.email })]);
    expect(existsSync(partial)).toBe(false);
  });

  it('makes a manager\'s masked regulator export of a longer period as a job: the same CSV as the direct one, each member\'s access log told; one at a time', async () => {
    const jobsUrl = `/api/v1/communities/${w.communityA}/export-jobs`;
    const period = (from: number, to: number) => ({ export: 'regulator-intervals', from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    await tp.platform.jobs.pause(PRIVACY_EXPORTS_JOB);
    // Longer than the direct export's 32 days, shorter than a year and a day.
    const requested = await tp.call('POST', jobsUrl, { token: w.managerA.token, body: period(T0 - 60 * DAY, T0 + DAY) });
    expect(requested.status).toBe(202);
    const job = requested.body;
    expect(job).toMatchObject({ export: 'regulator-intervals', memberId: null, state: 'queued', from: new Date(T0 - 60 * DAY).toISOString().replace('.000Z', 'Z') });
    // One at a time per community; bad periods refused; nothing queued by them.
    const busy = await tp.call('POST', jobsUrl, { token: w.managerA.token, body: period(T0, T0 + DAY) });
    expect(busy.status).toBe(409);
    for (const [from, to] of [[T0 - 400 * DAY, T0], [T0 + DAY, T0], [NOW, NOW + 3 * DAY]] as const) {
      expect((await tp.call('POST', jobsUrl, { token: w.managerA.token, body: period(from, to) })).status).toBe(400);
    }
    expect((await tp.call('POST', jobsUrl, { token: w.managerA.token, body: { ...period(T0, T0 + DAY), export: 'member' } })).status).toBe(400);
    expect((await ok('GET', jobsUrl, w.managerA.token)).filter((j: { state: string }) => j.state === 'queued').map((j: { id: string }) => j.id)).toEqual([job.id]);
    // The community's managers see it; its members and other communities' managers do not.
    expect((await tp.call('GET', `/api/v1/export-jobs/${job.id}`, { token: w.memberA.token })).status).toBe(404);
    expect((await tp.call('GET', `/api/v1/export-jobs/${job.id}`, { token: w.managerB.token })).status).toBe(404);
    expect((await tp.call('GET', jobsUrl, { token: w.memberA.token })).status).toBe(403);

    tp.platform.jobs.resume(PRIVACY_EXPORTS_JOB);
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
    const done = await ok('GET', `/api/v1/export-jobs/${job.id}`, w.managerA.token);
    const points = await tp.platform.db.query('SELECT id FROM metering_points WHERE community_id = $1', [w.communityA]);
    expect(done).toMatchObject({ state: 'done', itemsDone: points.length, itemsTotal: points.length, fileName: `regulator-intervals-${new Date(T0 - 60 * DAY).toISOString().slice(0, 10)}-${new Date(T0 + DAY).toISOString().slice(0, 10)}.csv` });
    const csv = await tp.call('GET', `/api/v1/export-jobs/${job.id}/file`, { token: w.managerA.token });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const direct = await tp.call('GET', `/api/v1/communities/${w.communityA}/exports/regulator-intervals.csv?from=${new Date(T0 - 30 * DAY).toISOString()}&to=${new Date(T0 + DAY).toISOString()}`, { token: w.managerA.token });
    expect(direct.status).toBe(200);
    // memberA's eight quarter hours lie in both periods: the files are the same, masked alike.
    expect(csv.body).toBe(direct.body);
    expect(String(csv.body).split('\r\n').length).toBeGreaterThan(2);
    const member = await ok('GET', `/api/v1/members/${w.memberIdA}`, w.memberA.token);
    expect(csv.body).not.toContain(member.displayName);
    const log = await ok('GET', `/api/v1/members/${w.memberIdA}/access-log`, w.memberA.token);
    expect(log).toContainEqual(expect.objectContaining({ accessorKind: 'manager', accessor: w.managerA.email, route: 'POST /api/v1/communities/:id/export-jobs', purpose: 'settlement' }));
  });

  it('erasure pseudonymises the person everywhere and keeps the statements billing law requires', async () => {
    const name = unique('zeldaerasable').toLowerCase();
    const zelda: TestUser = await signUp(tp, name);
    const memberId = (await ok('POST', `/api/v1/communities/${w.communityA}/join-requests`, zelda.token, { message: `hi from ${name}` })).id;
    await ok('POST', `/api/v1/members/${memberId}/approve`, w.managerA.token);
    await ok('PATCH', `/api/v1/members/${memberId}`, w.managerA.token, { activeFrom: '2020-01-01T00:00:00.000Z' });
    const address = `${unique('Erasablestrasse ')} 7, 1100 Wien`;
    const gridConnectionId = unique('AT0099ERASE').replace(/[^A-Z0-9]/gi, '').toUpperCase();
    const pointId = (await ok('POST', `/api/v1/communities/${w.communityA}/metering-points`, zelda.token,
      { name: `Home of ${name}`, address, gridConnectionId, role: 'consumer' })).id;
    await ok('POST', `/api/v1/members/${memberId}/consents`, zelda.token, {
      ...grantBody(w), scope: { ...grantBody(w).scope, meteringPoints: [pointId] },
    });
    // Billing's master data: the address invoices would be made out to (with a payout account) and a direct-debit mandate.
    const street = unique('Rechnungsgasse ');
    const payoutIban = 'AT483200000012345864';
    const mandateIban = 'DE89370400440532013000';
    await ok('PUT', `/api/v1/members/${memberId}/billing-details`, zelda.token, {
      fullName: `Zelda ${name}`, address: { street, postalCode: '1100', city: 'Wien', country: 'AT' }, vat: { regime: 'private' }, payoutAccount: { iban: payoutIban },
    });
    await ok('PUT', `/api/v1/members/${memberId}/sepa-mandate`, w.managerA.token, { mandateId: unique('ZELDA-M-'), signedOn: '2026-01-15', iban: mandateIban, accountHolder: `Zelda ${name}` });
    const settlement = await ok('POST', `/api/v1/communities/${w.communityA}/settlements`, w.managerA.token, { period: '2026-01' });
    await ok('POST', await confirmedCloseUrl(tp, w.managerA.token, settlement.id), w.managerA.token);
    const statementId = settlement.statements.find((s: { memberId: string }) => s.memberId === memberId).id;
    const total = (await ok('GET', `/api/v1/statements/${statementId}`, w.managerA.token)).total;

    // An export the member made is there until the erasure; its file goes with it.
    const exportJob = await ok('POST', `/api/v1/members/${memberId}/export-jobs`, zelda.token);
    await tp.platform.jobs.flush(PRIVACY_EXPORTS_JOB);
    expect((await ok('GET', `/api/v1/export-jobs/${exportJob.id}`, zelda.token)).state).toBe('done');
    const exportFile = join(tp.artefactsDir, 'privacy-exports', `${exportJob.id}.export`);
    expect(existsSync(exportFile)).toBe(true);

    // Another member cannot ask for it; the member can, once.
    expect((await tp.call('POST', `/api/v1/members/${memberId}/erasure`, { token: w.memberA.token })).status).toBe(404);
    const requested = await tp.call('POST', `/api/v1/members/${memberId}/erasure`, { token: zelda.token });
    expect(requested.status).toBe(201);
    expect(requested.body.state).toBe('requested');
    expect((await tp.call('POST', `/api/v1/members/${memberId}/erasure`, { token: zelda.token })).status).toBe(409);
    await tp.platform.privacy.flush();

    const requests = await ok('GET', `/api/v1/communities/${w.communityA}/erasure-requests`, w.managerA.token);
    const done = requests.find((r: { memberId: string }) => r.memberId === memberId);
    expect(done).toMatchObject({ error: null, state: 'done', pseudonym: expect.stringMatching(/^erased-/) });
    expect(done.steps).toContainEqual(expect.objectContaining({ kind: 'statements', action: 'keep-pseudonymised' }));
    expect(done.steps).toContainEqual(expect.objectContaining({ kind: 'email', action: 'delete' }));
    expect(await tp.platform.db.query('SELECT id FROM privacy_export_jobs WHERE member_id = $1', [memberId])).toEqual([]);
    expect(existsSync(exportFile)).toBe(false);

    // Nothing of the person's name, email, address, grid number or bank account is left in any table of the database.
    // (The community issues no invoices — no billing profile —, so nothing was ever collected under the mandate: it went at once.)
    const traces = { name, email: zelda.email, addresses: [address, gridConnectionId, street, payoutIban, mandateIban], ids: [] };
    const tables = await tp.platform.db.query<{ name: string }>(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`);
    expect(tables.length).toBeGreaterThan(50);
    const found: Record<string, string[]> = {};
    for (const { name: table } of tables) {
      const hits = findTraces(JSON.stringify(await tp.platform.db.query(`SELECT * FROM ${table}`)), traces);
      if (hits.length > 0) found[table] = hits;
    }
    expect(found).toEqual({});
    // The audit trail still says what changed and when; the free text and grid number in the entries about the member read "[erased]".
    const [joined] = await tp.platform.db.query<{ diff: { path: string; after: string | null }[] }>(
      `SELECT diff FROM audit_entries WHERE kind = 'member' AND action = 'request-to-join' AND resource_id = $1`, [memberId]);
    expect(joined!.diff.find((l) => l.path === 'joinMessage')?.after).toBe('"[erased]"');
    const [site] = await tp.platform.db.query<{ diff: { path: string; after: string | null }[] }>(
      `SELECT diff FROM audit_entries WHERE kind = 'metering-point' AND action = 'create' AND resource_id = $1`, [pointId]);
    expect(site!.diff.filter((l) => ['name', 'gridConnectionId', 'generationGridConnectionId'].includes(l.path)).map((l) => [l.path, l.after]))
      .toEqual([['generationGridConnectionId', 'null'], ['gridConnectionId', '"[erased]"'], ['name', '"[erased]"']]);
    expect(site!.diff.find((l) => l.path === 'role')?.after).toBe('"consumer"');
    // Anything else is refused: the trail stays append-only.
    await expect(tp.platform.db.query(`UPDATE audit_entries SET action = 'x' WHERE kind = 'metering-point' AND resource_id = $1`, [pointId])).rejects.toThrow(/append-only/);
    await expect(tp.platform.db.query(`UPDATE audit_entries SET diff = '[]' WHERE kind = 'metering-point' AND resource_id = $1`, [pointId])).rejects.toThrow(/append-only/);
    await expect(tp.platform.db.query(
      `UPDATE audit_entries SET diff = jsonb_set(diff, '{0,after}', '"\\"x\\""') WHERE kind = 'metering-point' AND resource_id = $1`, [pointId])).rejects.toThrow(/append-only/);
    const billing = await ok('GET', `/api/v1/communities/${w.communityA}/billing-details`, w.managerA.token);
    expect(billing.find((b: { memberId: string }) => b.memberId === memberId)).toMatchObject({
      displayName: done.pseudonym, mandate: null,
      details: { fullName: done.pseudonym, address: { street: '[erased]', postalCode: '[erased]', city: '[erased]', country: 'AT' }, vat: { regime: 'private' } },
    });
    // The statement is kept, under the pseudonym, with its figures, for the legal period (its step says until when); the login is gone.
    const kept = await ok('GET', `/api/v1/statements/${statementId}`, w.managerA.token);
    expect(kept).toMatchObject({ total, displayName: done.pseudonym });
    const statementStep = done.steps.find((s: { kind: string }) => s.kind === 'statements');
    expect(Date.parse(statementStep.until)).toBeGreaterThanOrEqual(Date.parse(kept.periodEnd) + 6 * 365 * DAY);
    // Within that period it still adds up: the total is exactly the sum of its lines (exact decimals, never floats) …
    const exact = (amount: string) => {
      const [whole, fraction = ''] = amount.replace('-', '').split('.');
      const units = BigInt(`${whole}${fraction.padEnd(9, '0')}`);
      return amount.startsWith('-') ? -units : units;
    };
    expect(kept.lines.reduce((sum: bigint, line: { amount: string }) => sum + exact(line.amount), 0n)).toBe(exact(kept.total));
    // … and carries no name, email or address, as served and as stored.
    expect(findTraces(JSON.stringify(kept), { name, email: zelda.email, addresses: [address, gridConnectionId], ids: [] })).toEqual([]);
    const [stored] = await tp.platform.db.query<{ display_name: string; document: unknown }>('SELECT display_name, document FROM statements WHERE id = $1', [statementId]);
    expect(stored!.display_name).toBe(done.pseudonym);
    expect(findTraces(JSON.stringify(stored), { name, email: zelda.email, addresses: [address, gridConnectionId], ids: [] })).toEqual([]);
    expect((await tp.call('GET', '/api/v1/me', { token: zelda.token })).status).toBe(401);
  });

  it('the retention job removes what is past the access-log period, and a second run removes nothing', async () => {
    // Reads three years ago, then today.
    clock.now = NOW - 3 * 366 * DAY;
    await ok('GET', `/api/v1/members/${w.memberIdA2}/statements`, w.managerA.token);
    clock.now = NOW;
    await ok('GET', `/api/v1/members/${w.memberIdA2}/statements`, w.managerA.token);
    const before = await ok('GET', `/api/v1/members/${w.memberIdA2}/access-log`, w.memberA2.token);
    expect(before.filter((e: { category: string }) => e.category === 'statements')).toHaveLength(2);

    const ctx = { db: tp.platform.db, now: () => NOW, events: tp.platform.events, deviceChanged: () => undefined, box: tp.platform.secrets.box, exportsDir: join(tp.artefactsDir, 'privacy-exports') };
    const first = await enforceRetention(ctx);
    expect(first.find((r) => r.communityId === w.communityA)?.accessLogEntries).toBe(1);
    const second = await enforceRetention(ctx);
    expect(second.every((r) => r.accessLogEntries === 0 && r.endedConsents === 0 && r.rawReadings === 0)).toBe(true);
    const after = await ok('GET', `/api/v1/members/${w.memberIdA2}/access-log`, w.memberA2.token);
    expect(after.filter((e: { category: string }) => e.category === 'statements')).toHaveLength(1);
  });

  it('thins raw readings over a simulated year: each daily run deletes what passed the period, keeps each series\' baseline and every quarter hour, and says how many', async () => {
    // A register every 6 hours through 2025 (two series of deviceA), and one quarter hour made from them.
    const YEAR = Date.UTC(2025, 0, 1);
    const SERIES = ['retention.import', 'retention.export'];
    const stamps = Array.from({ length: 365 * 4 }, (_, i) => YEAR + i * 6 * 3_600_000);
    for (const quantity of SERIES) {
      await tp.platform.db.query(
        `INSERT INTO readings (device_id, quantity, ts, value, community_id, metering_point_id) SELECT $1, $2, t, 1, $3, $4 FROM unnest($5::timestamptz[]) AS t`,
        [w.deviceA, quantity, w.communityA, w.meteringPointA, stamps.map((ms) => new Date(ms))]);
    }
    await tp.platform.db.query(`INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, pv_wh, quality) VALUES ($1, $2, $3, 5, 0, 0, 'measured')`,
      [w.meteringPointA, new Date(YEAR), w.communityA]);
    const kept = async () => (await tp.platform.db.query<{ quantity: string; ts: Date }>(
      'SELECT quantity, ts FROM readings WHERE device_id = $1 AND quantity = ANY($2::text[]) ORDER BY quantity, ts', [w.deviceA, SERIES]));

    let now = YEAR + 90 * DAY;
    const ctx = { db: tp.platform.db, now: () => now, events: tp.platform.events, deviceChanged: () => undefined, box: tp.platform.secrets.box, exportsDir: join(tp.artefactsDir, 'privacy-exports') };
    let removed = 0;
    for (; now <= YEAR + 460 * DAY; now += DAY) {
      const [report] = await enforceRetention(ctx, [w.communityA]);
      removed += report!.rawReadings;
      if ((now - YEAR) % (30 * DAY) !== 0) continue;
      // Past the 90 days only each series' newest reading before the cut-off is left, the baseline of the next (looked at monthly).
      const cutoff = now - 90 * DAY;
      const rows = await kept();
      for (const quantity of SERIES) {
        const old = rows.filter((r) => r.quantity === quantity && r.ts.getTime() < cutoff);
        expect(old.length, new Date(now).toISOString()).toBe(stamps.some((ms) => ms < cutoff) ? 1 : 0);
        if (old[0]) expect(old[0].ts.getTime()).toBe(Math.max(...stamps.filter((ms) => ms < cutoff)));
        expect(rows.filter((r) => r.quantity === quantity && r.ts.getTime() >= cutoff)).toHaveLength(stamps.filter((ms) => ms >= cutoff).length);
      }
    }
    // Over the year everything but each series' last reading went, each counted once; a second run at the same instant removes none.
    expect(removed).toBe(2 * (stamps.length - 1));
    expect((await kept()).map((r) => r.ts.getTime())).toEqual([stamps.at(-1), stamps.at(-1)]);
    now -= DAY;
    expect((await enforceRetention(ctx, [w.communityA]))[0]!.rawReadings).toBe(0);
    // The quarter hours made from them stay.
    expect(await tp.platform.db.query('SELECT 1 FROM intervals WHERE metering_point_id = $1 AND start = $2', [w.meteringPointA, new Date(YEAR)])).toHaveLength(1);
  }, 120_000);

  it('refuses bad input and changes nothing', async () => {
    const count = async () => (await ok('GET', `/api/v1/members/${w.memberIdA}/consents`, w.memberA.token)).given.length;
    const before = await count();
    const bad = [
      grantBody(w, { scope: { ...grantBody(w).scope, meteringPoints: [w.meteringPointA2] } }),
      grantBody(w, { validUntil: new Date(NOW - DAY).toISOString() }),
      grantBody(w, { recipient: { kind: 'member', id: w.memberIdA, label: 'me' } }),
      grantBody(w, { purpose: { code: 'research', statement: '   ' } }),
      { ...grantBody(w), extra: true },
    ];
    for (const body of bad) {
      const response = await tp.call('POST', `/api/v1/members/${w.memberIdA}/consents`, { token: w.memberA.token, body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    }
    expect(await count()).toBe(before);

    const register = await ok('GET', `/api/v1/communities/${w.communityA}/processing-register`, w.memberA.token);
    const low = await tp.call('PUT', `/api/v1/communities/${w.communityA}/retention`, {
      token: w.managerA.token, body: { ...register.retention.policy, billingRecordsYears: 1, accessLogDays: 30 },
    });
    expect(low.status).toBe(400);
    expect(low.body.message).toMatch(/billingRecordsYears.*legal minimum/);
    expect(low.body.message).toMatch(/accessLogDays/);
    expect((await ok('GET', `/api/v1/communities/${w.communityA}/processing-register`, w.memberA.token)).retention).toEqual(register.retention);
    const fine = await ok('PUT', `/api/v1/communities/${w.communityA}/retention`, w.managerA.token, { ...register.retention.policy, accessLogDays: 800 });
    expect(fine.policy.accessLogDays).toBe(800);
  });

  it('shows the demo member a consent and a manager\'s read in the access log', async () => {
    const demo = await ensureDemoCommunity(tp.platform.db, tp.platform.secrets.box);
    const member = demo.logins.find((l) => l.role === 'member')!;
    const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: member.email, password: member.password } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const me = await tp.call('GET', '/api/v1/me', { cookie });
    const memberId = me.body.memberships.find((m: { communityId: string }) => m.communityId === demo.communityId).memberId;
    const consents = await tp.call('GET', `/api/v1/members/${memberId}/consents`, { cookie });
    expect(consents.body.given).toEqual([expect.objectContaining({ recipient: expect.objectContaining({ label: 'Household 2' }) })]);
    const log = await tp.call('GET', `/api/v1/members/${memberId}/access-log`, { cookie });
    expect(log.body).toEqual([expect.objectContaining({ accessorKind: 'manager', category: 'intervals', purpose: 'settlement' })]);
  });
});
