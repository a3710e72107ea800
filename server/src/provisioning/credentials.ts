import type { Queryable } from '../platform/store/db.js';
import type { SecretBox } from '../secrets/index.js';
import { keyIdSql, sealedPlace, sealedStore } from '../secrets/index.js';

export type KeySlot = 'primary' | 'secondary';

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
  const rows = await db.query<{ device_id: string; primary_key: string; secondary_key: string }>(
    'SELECT device_id, primary_key, secondary_key FROM device_credentials WHERE device_id = ANY($1::text[])', [deviceIds]);
  return new Map(rows.map((r) => [r.device_id, {
    primary: openDeviceKey(box, r.device_id, 'primary', r.primary_key),
    secondary: openDeviceKey(box, r.device_id, 'secondary', r.secondary_key),
  }]));
}

export const deviceCredentialsStore = sealedStore({
  table: TABLE,
  id: 'device_id',
  columns: ['primary_key', 'secondary_key'],
  summary: `SELECT key_id AS "keyId", count(*)::int AS count FROM (
      SELECT ${keyIdSql('primary_key')} AS key_id FROM device_credentials
      UNION ALL SELECT ${keyIdSql('secondary_key')} FROM device_credentials) k
    GROUP BY key_id`,
  page: `SELECT device_id, primary_key, secondary_key FROM device_credentials
    WHERE $1::text IS NULL OR device_id > $1 ORDER BY device_id LIMIT $2`,
  replace: `UPDATE device_credentials c SET primary_key = v.primary_after, secondary_key = v.secondary_after
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(device_id, primary_before, secondary_before, primary_after, secondary_after)
    WHERE c.device_id = v.device_id AND c.primary_key = v.primary_before AND c.secondary_key = v.secondary_before
    RETURNING 1`,
});
