import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { requireCommunityManager } from '../registry/index.js';
import type { DeviceEvent, DeviceEventKind } from './connection-guard.js';

export interface StoredDeviceEvent {
  id: number;
  deviceId: string;
  kind: DeviceEventKind;
  address: string | null;
  previousAddress: string | null;
  at: string;
}

export async function recordDeviceEvent(db: Queryable, event: DeviceEvent): Promise<void> {
  await db.query(
    `INSERT INTO device_events (community_id, device_id, kind, address, previous_address)
     SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM devices WHERE id = $2)`,
    [event.device.communityId, event.device.id, event.kind, event.address ?? null, event.previousAddress ?? null],
  );
}

/** The newest events of a community's devices, or of one of them (managers). */
export async function listDeviceEvents(
  db: Queryable,
  principal: Principal,
  communityId: string,
  filter: { deviceId?: string | undefined; limit: number },
): Promise<StoredDeviceEvent[]> {
  await requireCommunityManager(db, principal, communityId);
  const rows = await db.query<{ id: number; device_id: string; kind: DeviceEventKind; address: string | null; previous_address: string | null; at: Date }>(
    `SELECT id, device_id, kind, address, previous_address, at FROM device_events
     WHERE community_id = $1 AND ($2::text IS NULL OR device_id = $2) ORDER BY at DESC, id DESC LIMIT $3`,
    [communityId, filter.deviceId ?? null, filter.limit],
  );
  return rows.map((r) => ({ id: r.id, deviceId: r.device_id, kind: r.kind, address: r.address, previousAddress: r.previous_address, at: r.at.toISOString() }));
}
