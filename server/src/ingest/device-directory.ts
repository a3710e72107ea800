import type { Queryable } from '../platform/store/db.js';
import type { AuthenticatedDevice } from './service.js';
import { SealedValueError, type SecretBox } from '../secrets/index.js';
import { openDeviceKey } from '../provisioning/index.js';

export interface DeviceRecord extends AuthenticatedDevice {
  readonly status: 'active' | 'disabled';
  readonly keys: readonly string[];
}

const TTL_MS = 10_000;

/**
 * Device identity and binding for the ingest hot path, cached briefly so that a reading does not
 * cost a query; changes made through this process (disable, rotate, rebind) invalidate at once.
 * The device keys are opened (they are stored sealed) when an entry is loaded and kept opened in
 * the cache, so checking a token costs no more than before.
 */
export class DeviceDirectory {
  private readonly cache = new Map<string, { record: DeviceRecord | undefined; expires: number }>();
  /** Lookups under way: the many messages in flight of one device share one query when its entry expires. */
  private readonly loading = new Map<string, Promise<DeviceRecord | undefined>>();

  constructor(private readonly db: Queryable, private readonly secrets: SecretBox) {}

  async get(deviceId: string): Promise<DeviceRecord | undefined> {
    const hit = this.cache.get(deviceId);
    if (hit && hit.expires > Date.now()) return hit.record;
    const under = this.loading.get(deviceId);
    if (under) return under;
    const loading: Promise<DeviceRecord | undefined> = this.load(deviceId).then((record) => {
      // A change invalidated the entry while it was read: answer this caller, keep nothing.
      if (this.loading.get(deviceId) === loading) this.cache.set(deviceId, { record, expires: Date.now() + TTL_MS });
      return record;
    }).finally(() => {
      if (this.loading.get(deviceId) === loading) this.loading.delete(deviceId);
    });
    this.loading.set(deviceId, loading);
    return loading;
  }

  private async load(deviceId: string): Promise<DeviceRecord | undefined> {
    const rows = await this.db.query<{
      id: string; community_id: string; metering_point_id: string | null; status: 'active' | 'disabled';
      primary_key: string | null; secondary_key: string | null; bound_from: Date | null;
    }>(
      `SELECT d.id, d.community_id, d.metering_point_id, d.status, c.primary_key, c.secondary_key, b.bound_from
       FROM devices d LEFT JOIN device_credentials c ON c.device_id = d.id
       LEFT JOIN device_bindings b ON b.device_id = d.id AND b.bound_until IS NULL
       WHERE d.id = $1`,
      [deviceId],
    );
    const row = rows[0];
    const record: DeviceRecord | undefined = row && {
      id: row.id,
      communityId: row.community_id,
      meteringPointId: row.metering_point_id,
      boundFrom: row.bound_from?.getTime() ?? null,
      status: row.status,
      keys: row.primary_key && row.secondary_key ? this.openKeys(row.id, row.primary_key, row.secondary_key) : [],
    };
    return record;
  }

  /** Keys that do not open (copied from another row, altered) authenticate nobody. */
  private openKeys(deviceId: string, primary: string, secondary: string): string[] {
    try {
      return [openDeviceKey(this.secrets, deviceId, 'primary', primary), openDeviceKey(this.secrets, deviceId, 'secondary', secondary)];
    } catch (error) {
      if (error instanceof SealedValueError) return [];
      throw error;
    }
  }

  invalidate(deviceId?: string): void {
    if (deviceId === undefined) {
      this.cache.clear();
      this.loading.clear();
    } else {
      this.cache.delete(deviceId);
      this.loading.delete(deviceId);
    }
  }
}
