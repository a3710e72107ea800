import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/platform/store/db.js';
import { processDirty } from '../../src/intervals/service.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';
import { openTestDb, storeKinds } from '../support/stores.js';

/** Marks carry no foreign key (they are written on the ingest path): the job drops those of deleted points. */
describe.each(storeKinds)('marks of metering points that no longer exist on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => ({ db, close } = await openTestDb(kind)));
  afterAll(async () => close?.());

  const mark = (communityId: string, pointId: string, start: string) =>
    db.query('INSERT INTO interval_dirty (community_id, metering_point_id, start) VALUES ($1, $2, $3)', [communityId, pointId, new Date(start)]);
  const marksOf = async (pointId: string) => (await db.query('SELECT 1 FROM interval_dirty WHERE metering_point_id = $1', [pointId])).length;

  it('are dropped when picked, and the existing points are computed', async () => {
    const site = await insertCommunityWithDevice(db);
    const gone = randomUUID();
    await mark(site.communityId, gone, '2026-11-20T09:00:00Z');
    await mark(site.communityId, gone, '2026-11-20T09:15:00Z');
    await mark(site.communityId, site.meteringPointId, '2026-11-20T10:00:00Z');

    // One point per pass: the gone point was marked first, so the first pass picks only it.
    expect(await processDirty(db, { maxPoints: 1 })).toEqual({ points: 0, intervals: 0, more: true });
    expect(await marksOf(gone)).toBe(0);
    expect(await marksOf(site.meteringPointId)).toBe(1);

    expect(await processDirty(db, { maxPoints: 1 })).toMatchObject({ points: 1, more: false });
    expect(await marksOf(site.meteringPointId)).toBe(0);
  });
});
