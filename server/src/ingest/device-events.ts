import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { requireCommunityManager } from '../registry/index.js';
import { deviceEventsOf, type StoredDeviceEvent } from './store.js';

/** The newest connection events of a community's devices, or of one of them (managers). */
export async function listDeviceEvents(
  db: Queryable,
  principal: Principal,
  communityId: string,
  filter: { deviceId?: string | undefined; limit: number },
): Promise<StoredDeviceEvent[]> {
  await requireCommunityManager(db, principal, communityId);
  return deviceEventsOf(db, communityId, filter);
}
