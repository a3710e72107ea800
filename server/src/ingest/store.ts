import type { Queryable } from '../platform/store/db.js';

/** Those of these devices that have sent readings. */
export async function devicesWithReadings(db: Queryable, deviceIds: readonly string[]): Promise<Set<string>> {
  const rows = await db.query<{ id: string }>(
    'SELECT id FROM unnest($1::text[]) AS id WHERE EXISTS (SELECT 1 FROM readings r WHERE r.device_id = id)', [deviceIds]);
  return new Set(rows.map((r) => r.id));
}

/** Deletes every reading of these devices (readings have no foreign key to devices: they outlive re-binding). */
export async function deleteReadingsOfDevices(tx: Queryable, deviceIds: readonly string[]): Promise<void> {
  await tx.query('DELETE FROM readings WHERE device_id = ANY($1::text[])', [deviceIds]);
}
