import type { Queryable } from '../platform/store/db.js';
import type { AuthenticatedDevice } from './service.js';
import { SealedValueError } from '../secrets/index.js';
import { ingestDevice } from '../registry/index.js';

export interface DeviceRecord extends AuthenticatedDevice {
  readonly status: 'active' | 'disabled';
  readonly communitySuspended: boolean;
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
  /** Lookups under way: the many messages in flight of one device share one lookup when its entry expires. */
  private readonly loading = new Map<string, Promise<DeviceRecord | undefined>>();

  /** `keysOf` opens a device's two keys (provisioning keeps them; ingest only asks). */
  constructor(
    private readonly db: Queryable,
    private readonly keysOf: (deviceId: string) => Promise<{ primary: string; secondary: string } | undefined>,
  ) {}

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
    const [device, keys] = await Promise.all([ingestDevice(this.db, deviceId), this.openKeys(deviceId)]);
    return device && { ...device, keys };
  }

  /** Keys that do not open (copied from another row, altered) authenticate nobody; a device without credentials has none. */
  private async openKeys(deviceId: string): Promise<string[]> {
    try {
      const keys = await this.keysOf(deviceId);
      return keys ? [keys.primary, keys.secondary] : [];
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
