/** The SQL of meters' one table, meter_keys: the grid operator's keys of the meter behind a reader, sealed at rest. */
import type { Queryable } from '../platform/store/db.js';
import { type SecretBox, keyIdSql, sealedPlace, sealedStore } from '../secrets/index.js';

const TABLE = 'meter_keys';
type Column = 'encryption_key' | 'authentication_key';
const place = (deviceId: string, column: Column) => sealedPlace(TABLE, column, deviceId);

/** The grid operator's keys of the meter behind a reader (GUEK, and GAK where the meter uses one), as 32 hex digits. */
export interface MeterKeys {
  encryptionKey: string;
  authenticationKey: string | null;
}

/** Stores a meter's keys sealed with the installation's master key (see secrets/); they are never returned by the API. */
export async function putMeterKeys(db: Queryable, box: SecretBox, device: { id: string; communityId: string }, keys: MeterKeys): Promise<void> {
  const authentication = keys.authenticationKey === null ? null : box.seal(keys.authenticationKey.toUpperCase(), place(device.id, 'authentication_key'));
  await db.query(
    `INSERT INTO meter_keys (device_id, community_id, encryption_key, authentication_key) VALUES ($1, $2, $3, $4)
     ON CONFLICT (device_id, community_id) DO UPDATE SET encryption_key = EXCLUDED.encryption_key,
       authentication_key = EXCLUDED.authentication_key, updated_at = now()`,
    [device.id, device.communityId, box.seal(keys.encryptionKey.toUpperCase(), place(device.id, 'encryption_key')), authentication],
  );
}

export async function readMeterKeys(db: Queryable, box: SecretBox, deviceId: string): Promise<MeterKeys | undefined> {
  const rows = await db.query<{ encryption_key: string; authentication_key: string | null }>(
    'SELECT encryption_key, authentication_key FROM meter_keys WHERE device_id = $1', [deviceId]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    encryptionKey: box.open(row.encryption_key, place(deviceId, 'encryption_key')),
    authenticationKey: row.authentication_key === null ? null : box.open(row.authentication_key, place(deviceId, 'authentication_key')),
  };
}

export const meterKeysStore = sealedStore({
  table: TABLE,
  id: 'device_id',
  columns: ['encryption_key', 'authentication_key'],
  summary: `SELECT key_id AS "keyId", count(*)::int AS count FROM (
      SELECT ${keyIdSql('encryption_key')} AS key_id FROM meter_keys
      UNION ALL SELECT ${keyIdSql('authentication_key')} FROM meter_keys WHERE authentication_key IS NOT NULL) k
    GROUP BY key_id`,
  page: `SELECT device_id, encryption_key, authentication_key FROM meter_keys
    WHERE $1::text IS NULL OR device_id > $1 ORDER BY device_id LIMIT $2`,
  replace: `UPDATE meter_keys m SET encryption_key = v.encryption_after, authentication_key = v.authentication_after
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(device_id, encryption_before, authentication_before, encryption_after, authentication_after)
    WHERE m.device_id = v.device_id AND m.encryption_key = v.encryption_before
      AND m.authentication_key IS NOT DISTINCT FROM v.authentication_before
    RETURNING 1`,
});
