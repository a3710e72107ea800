import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds, openTestDb } from '../support/stores.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';
import { ReadingWriter } from '../../src/ingest/writer.js';
import { processDirty } from '../../src/intervals/service.js';
import type { Db } from '../../src/platform/store/db.js';
import type { Reading } from '../../src/kernel/quantities.js';
import { markingEvents } from '../support/events.js';

const minute = (base: string, i: number) => new Date(Date.parse(base) + i * 60_000).toISOString();

describe.each(storeKinds)('the interval job on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => ({ db, close } = await openTestDb(kind)));
  afterAll(() => close?.());

  async function intervals(pointId: string) {
    while ((await processDirty(db)).points > 0) { /* until nothing is dirty */ }
    return (await db.query<{ start: Date; import_wh: number | null; quality: string }>(
      'SELECT start, import_wh, quality FROM intervals WHERE metering_point_id = $1 ORDER BY start', [pointId],
    )).map((r) => [r.start.toISOString().slice(11, 16), r.import_wh, r.quality]);
  }

  it('treats a replaced reader as a meter exchange, from minute readings of both devices', async () => {
    const old = await insertCommunityWithDevice(db);
    const replacement = `${old.deviceId}-new`;
    // The old reader is taken off the site and the new one becomes its billing meter.
    await db.query('UPDATE devices SET metering_point_id = NULL WHERE id = $1', [old.deviceId]);
    await db.query(`INSERT INTO devices (id, community_id, metering_point_id, kind, name) VALUES ($1, $2, $3, 'meter-reader', 'New reader')`,
      [replacement, old.communityId, old.meteringPointId]);
    const writer = new ReadingWriter(db, markingEvents());
    const source = (deviceId: string) => ({ deviceId, communityId: old.communityId, meteringPointId: old.meteringPointId });
    const register = (i: number, value: number): Reading => ({ ts: minute('2026-11-20T10:00:00Z', i), quantity: 'energy.import', value, unit: 'Wh' });
    // The old reader up to 10:07 (1000 → 1070 Wh), the new one from 10:08 with its own register (5 → 225 Wh at 10:30).
    await writer.write(source(old.deviceId), Array.from({ length: 8 }, (_, i) => register(i, 1000 + i * 10)));
    await writer.write(source(replacement), Array.from({ length: 23 }, (_, i) => register(i + 8, 5 + i * 10)));
    await writer.close();
    // 10:00–10:15: 70 Wh on the old register and 70 on the new one (5 at 10:08 → 75 at 10:15), around the change: estimated.
    expect(await intervals(old.meteringPointId)).toEqual([['10:00', 140, 'estimated'], ['10:15', 150, 'measured']]);
  });

  it('gives the same quarter hours from second readings as from the register differences', async () => {
    const site = await insertCommunityWithDevice(db);
    const writer = new ReadingWriter(db, markingEvents());
    const source = { deviceId: site.deviceId, communityId: site.communityId, meteringPointId: site.meteringPointId };
    // 40 minutes of readings every 5 s, 2 Wh each, sent in messages of a minute, some late.
    const messages = Array.from({ length: 40 }, (_, m) => Array.from({ length: 12 }, (_, k): Reading => ({
      ts: new Date(Date.parse('2026-11-20T12:00:00Z') + (m * 12 + k) * 5_000).toISOString(), quantity: 'energy.import', value: 50_000 + (m * 12 + k) * 2, unit: 'Wh',
    })));
    for (const i of [...messages.keys()].sort((a, b) => (a % 7) - (b % 7) || a - b)) await writer.write(source, messages[i]!);
    await writer.close();
    expect(await intervals(site.meteringPointId)).toEqual([['12:00', 360, 'measured'], ['12:15', 360, 'measured'], ['12:30', null, 'missing']]);
  });

  it('tells whether more points are waiting than one pass takes', async () => {
    while ((await processDirty(db)).points > 0) { /* start from nothing dirty */ }
    const writer = new ReadingWriter(db, markingEvents());
    for (let i = 0; i < 2; i++) {
      const site = await insertCommunityWithDevice(db);
      await writer.write({ deviceId: site.deviceId, communityId: site.communityId, meteringPointId: site.meteringPointId },
        [{ ts: '2026-11-20T14:00:00Z', quantity: 'energy.import', value: 10, unit: 'Wh' }]);
    }
    await writer.close();
    expect(await processDirty(db, { maxPoints: 1 })).toMatchObject({ points: 1, more: true });
    expect(await processDirty(db, { maxPoints: 1 })).toMatchObject({ points: 1, more: false });
    expect(await processDirty(db, { maxPoints: 1 })).toMatchObject({ points: 0, more: false });
  });
});
