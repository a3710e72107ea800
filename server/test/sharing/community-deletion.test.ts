import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';

/**
 * member_energy_days has no foreign key to members (its check cost every row the sharing job writes):
 * a deleted community's member energy goes after it through the durable `community.deleted`
 * subscriber; another community's stays, and a refused deletion deletes nothing.
 */
describe.each(platformStoreKinds)('member energy of a deleted community on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  }, 120_000);
  afterAll(async () => tp?.close());

  async function store(communityId: string, memberId: string): Promise<void> {
    // Two days with every quarter hour stored as 100 Wh from the grid.
    const slots = (value: string) => `array_fill(${value}, ARRAY[96])`;
    await tp.platform.db.query(
      `INSERT INTO member_energy_days (community_id, day, member_id, consumption_wh, self_consumed_wh, from_community_wh, from_grid_wh, production_wh,
         to_community_wh, to_grid_wh, allocated_from_community_wh, community_grid_origin_wh, quality, provisional)
       SELECT $2, d, $1, ${slots('100')}, ${slots('0')}, ${slots('0')}, ${slots('100')}, ${slots('0')}, ${slots('0')}, ${slots('0')}, ${slots('0')},
         ${slots('0')}, ${slots('0::int2')}, ${slots('false')}
       FROM unnest(ARRAY['2026-10-05', '2026-10-06']::date[]) AS u(d)`,
      [memberId, communityId]);
  }
  const rowsOf = async (communityId: string) =>
    (await tp.platform.db.query<{ n: number }>('SELECT count(*)::int AS n FROM member_energy_days WHERE community_id = $1', [communityId]))[0]!.n;

  it('deletes them once the deletion committed, and leaves another community\'s', async () => {
    await store(w.communityA, w.memberIdA);
    await store(w.communityB, w.memberIdB);
    expect(await rowsOf(w.communityB)).toBe(2);

    // Refused: not an admin. Nothing is deleted, now or by the outbox.
    expect((await tp.call('DELETE', `/api/v1/communities/${w.communityB}`, { token: w.managerB.token })).status).toBe(403);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    expect(await rowsOf(w.communityB)).toBe(2);

    expect((await tp.call('DELETE', `/api/v1/communities/${w.communityB}`, { token: tp.admin.token })).status).toBe(204);
    await tp.platform.jobs.flush(OUTBOX_JOB);
    expect(await rowsOf(w.communityB)).toBe(0);
    expect(await rowsOf(w.communityA)).toBe(2);
  });
});
