import type { Queryable } from '../platform/store/db.js';
import { type SecretBox, sealedPlace } from '../secrets/index.js';
import { sealedKeysOf } from './store.js';

export type KeySlot = 'primary' | 'secondary';

/** The sealed keys' table, named in each value's associated data. */
const TABLE = 'device_credentials';
const place = (deviceId: string, slot: KeySlot) => sealedPlace(TABLE, `${slot}_key`, deviceId);

export interface DeviceKeys {
  primary: string;
  secondary: string;
}

/**
 * Device keys are stored sealed with the installation's master key (see secrets/): they must be
 * readable to check HMAC signatures, as in any SAS scheme, but a copy of the database alone must
 * not hand them out.
 */
export function sealDeviceKeys(box: SecretBox, deviceId: string, keys: DeviceKeys): DeviceKeys {
  return { primary: box.seal(keys.primary, place(deviceId, 'primary')), secondary: box.seal(keys.secondary, place(deviceId, 'secondary')) };
}

export function openDeviceKey(box: SecretBox, deviceId: string, slot: KeySlot, sealed: string): string {
  return box.open(sealed, place(deviceId, slot));
}

/** The keys of some devices, opened (devices without credentials are absent). */
export async function readDeviceKeys(db: Queryable, box: SecretBox, deviceIds: readonly string[]): Promise<Map<string, DeviceKeys>> {
  const sealed = await sealedKeysOf(db, deviceIds);
  return new Map(sealed.map((k) => [k.deviceId, {
    primary: openDeviceKey(box, k.deviceId, 'primary', k.primary),
    secondary: openDeviceKey(box, k.deviceId, 'secondary', k.secondary),
  }]));
}
