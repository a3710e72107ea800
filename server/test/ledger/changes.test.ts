import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { decodeEntry, type ChangeRecordedEntry } from '../../src/ledger/domain/index.js';

interface TrailEntry {
  id: string; kind: string; resourceId: string; action: string; actor: { userId: string | null; role: string };
  diff: { path: string; before: string | null; after: string | null }[];
}

/**
 * Money-relevant changes people make (issue 24): the audit trail records them in full, the
 * verifiable record logs each with the hash of its diff — never the diff or the person.
 */
describe.each(platformStoreKinds)('money-relevant changes in the verifiable record on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  }, 120_000);
  afterAll(async () => tp?.close());

  const ok = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await tp.call(method, url, { token, body });
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const logged = async (resourceId: string) => {
    await tp.platform.jobs.flush(OUTBOX_JOB);
    await tp.platform.ledger.job.flush();
    const rows = await tp.platform.db.query<{ body: Uint8Array }>("SELECT body FROM ledger_entries WHERE kind = 'change.recorded' ORDER BY seq");
    return rows.map((r) => ({ text: new TextDecoder().decode(r.body), entry: decodeEntry(r.body) as ChangeRecordedEntry }))
      .filter((e) => e.entry.resource === resourceId);
  };
  const trail = async (resourceId: string): Promise<TrailEntry[]> =>
    (await ok('GET', `/api/v1/communities/${w.communityA}/audit?kind=tariff&limit=500`, tp.admin.token)).entries
      .filter((e: TrailEntry) => e.resourceId === resourceId).reverse();

  it('logs a tariff created and changed with the hash of the trail\'s diff, once each', async () => {
    const tariff = await ok('POST', `/api/v1/communities/${w.communityA}/tariffs`, w.managerA.token,
      { name: 'Logged tariff', gridPrice: '0.30', communityPrice: '0.15', feedInPrice: '0.07', validFrom: '2027-02-01' });
    await ok('PATCH', `/api/v1/tariffs/${tariff.id}`, w.managerA.token, { communityPrice: '0.12' });
    const entries = await logged(tariff.id);
    const recorded = await trail(tariff.id);
    expect(recorded.map((e) => e.action)).toEqual(['create', 'update']);
    expect(entries.map((e) => e.entry)).toMatchObject(recorded.map((r) => ({
      kind: 'change.recorded', community: w.communityA, change: 'tariff', resource: tariff.id, action: r.action, role: 'manager',
      diffSha256: createHash('sha256').update(canonicalize(r.diff)!).digest('hex'),
    })));
    // The diff's figures and the person stay in the trail; the log holds neither.
    for (const { text } of entries) {
      expect(text).not.toContain('0.12');
      expect(text).not.toContain(w.managerA.id);
    }
    // Delivered again by the outbox, it is not logged twice.
    expect(await logged(tariff.id)).toHaveLength(2);
  });

  it('leaves changes that do not touch money out of the log', async () => {
    const device = await tp.call('GET', `/api/v1/communities/${w.communityA}/audit?limit=500`, { token: tp.admin.token });
    const otherKinds = (device.body.entries as TrailEntry[]).filter((e) => !['tariff', 'sharing-rule', 'share', 'settlement', 'market', 'wallet'].includes(e.kind));
    expect(otherKinds.length).toBeGreaterThan(0);
    for (const entry of otherKinds) expect(await logged(entry.resourceId)).toEqual([]);
  });
});
