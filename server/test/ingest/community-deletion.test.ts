import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteReadingsBefore } from '../../src/ingest/index.js';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';

/**
 * A community leaving the platform (issue 22): its raw readings, which have no foreign key to it,
 * are deleted from every partition they are in once the deletion committed; another community's
 * stay, and a refused deletion deletes nothing. Its retention works across the partitions too.
 */
describe.each(platformStoreKinds)('raw readings of a deleted community on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  }, 120_000);
  afterAll(async () => tp?.close());

  const now = new Date();
  const thisMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 2, 10));
  const nextMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 3, 11));
  // Before the partitions the job made: the default partition holds it.
  const longAgo = new Date(Date.UTC(now.getUTCFullYear() - 2, 4, 5, 12));

  async function store(communityId: string, deviceId: string): Promise<void> {
    await tp.platform.db.query(
      `INSERT INTO readings (device_id, quantity, ts, value, community_id)
       SELECT $1, 'energy.import', s, 1, $2 FROM unnest($3::timestamptz[]) AS s`,
      [deviceId, communityId, [thisMonth, nextMonth, longAgo]]);
  }
  const where = async (communityId: string) => (await tp.platform.db.query<{ part: string; n: number }>(
    `SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM readings WHERE community_id = $1 GROUP BY 1 ORDER BY 1`, [communityId]))
    .map((r) => `${r.part}:${r.n}`);

  it('deletes them from each month\'s partition and the default one, and leaves another community\'s', async () => {
    await store(w.communityA, 'gs-deletion-a');
    await store(w.communityB, 'gs-deletion-b');
    const partitionsOfA = await where(w.communityA);
    const partitionsOfB = await where(w.communityB);
    expect(partitionsOfB).toHaveLength(3);
    expect(partitionsOfB).toContain('readings_default:1');

    // Refused: not an admin, or no such community. Nothing is deleted, now or by the outbox.
    expect((await tp.call('DELETE', `/api/v1/communities/${w.communityB}`, { token: w.managerB.token })).status).toBe(403);
    expect((await tp.call('DELETE', '/api/v1/communities/00000000-0000-4000-8000-000000000000', { token: tp.admin.token })).status).toBe(404);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    expect(await where(w.communityB)).toEqual(partitionsOfB);

    expect((await tp.call('DELETE', `/api/v1/communities/${w.communityB}`, { token: tp.admin.token })).status).toBe(204);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    expect(await where(w.communityB)).toEqual([]);
    expect(await where(w.communityA)).toEqual(partitionsOfA);
    const [waiting] = await tp.platform.db.query<{ n: number }>("SELECT count(*)::int AS n FROM event_outbox WHERE event = 'community.deleted'");
    expect(waiting!.n).toBe(0);
  });

  it('retention deletes a community\'s readings before the cut-off across partitions, keeping each series\' newest one before it', async () => {
    const stamps = async (deviceId: string) => (await tp.platform.db.query<{ ts: Date }>(
      'SELECT ts FROM readings WHERE device_id = $1 ORDER BY ts', [deviceId])).map((r) => r.ts.toISOString());
    const dayAfter = new Date(longAgo.getTime() + 86_400_000);
    // Communities of their own: the readings of the test above stay out of the counts.
    const [retained, other] = [randomUUID(), randomUUID()];
    await tp.platform.db.query(
      `INSERT INTO readings (device_id, quantity, ts, value, community_id)
       VALUES ('gs-retention-a', 'energy.import', $1, 1, $4), ('gs-retention-a', 'energy.import', $2, 2, $4),
              ('gs-retention-a', 'energy.import', $3, 3, $4), ('gs-retention-other', 'energy.import', $1, 1, $5)`,
      [longAgo, dayAfter, thisMonth, retained, other]);
    const monthStart = Date.UTC(thisMonth.getUTCFullYear(), thisMonth.getUTCMonth(), 1);

    // Both before the cut-off are in the default partition: the newer one stays as the baseline.
    expect(await deleteReadingsBefore(tp.platform.db, retained, monthStart)).toBe(1);
    expect(await stamps('gs-retention-a')).toEqual([dayAfter.toISOString(), thisMonth.toISOString()]);
    expect(await deleteReadingsBefore(tp.platform.db, retained, monthStart)).toBe(0);
    // The newest before a later cut-off is in this month's partition: the default one's goes.
    expect(await deleteReadingsBefore(tp.platform.db, retained, thisMonth.getTime() + 3_600_000)).toBe(1);
    expect(await stamps('gs-retention-a')).toEqual([thisMonth.toISOString()]);
    expect(await stamps('gs-retention-other')).toEqual([longAgo.toISOString()]);
  });
});
