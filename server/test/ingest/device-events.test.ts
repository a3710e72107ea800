import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/platform/store/db.js';
import { deviceEventsOf, recordDeviceEvent } from '../../src/ingest/store.js';
import { insertCommunityWithDevice } from '../support/fixtures.js';
import { openTestDb, storeKinds } from '../support/stores.js';

describe.each(storeKinds)('device events in the store on %s', (kind) => {
  let db: Db;
  let close: () => Promise<void>;
  let site: Awaited<ReturnType<typeof insertCommunityWithDevice>>;
  beforeAll(async () => {
    ({ db, close } = await openTestDb(kind));
    site = await insertCommunityWithDevice(db);
  });
  afterAll(async () => close?.());

  const device = () => ({ id: site.deviceId, communityId: site.communityId, meteringPointId: site.meteringPointId, boundFrom: null });

  it('stores an event of a known device', async () => {
    await recordDeviceEvent(db, { device: device(), kind: 'session-takeover', address: '10.0.0.2:1', previousAddress: '10.0.0.1:1' });
    expect(await deviceEventsOf(db, site.communityId, { limit: 10 })).toEqual([expect.objectContaining({
      deviceId: site.deviceId, kind: 'session-takeover', address: '10.0.0.2:1', previousAddress: '10.0.0.1:1',
    })]);
  });

  it('drops an event of a device deleted meanwhile, and still fails on anything else', async () => {
    await recordDeviceEvent(db, { device: { ...device(), id: 'gone-device' }, kind: 'reconnects-limited', address: undefined });
    expect(await deviceEventsOf(db, site.communityId, { limit: 10, deviceId: 'gone-device' })).toEqual([]);
    const unknownKind = { device: device(), kind: 'unknown' as 'reconnects-limited', address: undefined };
    await expect(recordDeviceEvent(db, unknownKind)).rejects.toThrow();
  });
});
