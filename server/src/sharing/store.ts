import type { Queryable } from '../platform/store/db.js';

/** Sets the constant intensity and adds (or replaces) hourly values. */
export async function writeCo2(tx: Queryable, communityId: string, gramsPerKWh: number, hourly: readonly { hourMs: number; gramsPerKWh: number }[]): Promise<void> {
  await tx.query(
    `INSERT INTO co2_intensity (community_id, grams_per_kwh) VALUES ($1, $2)
     ON CONFLICT (community_id) DO UPDATE SET grams_per_kwh = EXCLUDED.grams_per_kwh, updated_at = now()`,
    [communityId, gramsPerKWh],
  );
  if (hourly.length === 0) return;
  await tx.query(
    `INSERT INTO co2_intensity_hours (community_id, hour, grams_per_kwh)
     SELECT $1, h, g FROM unnest($2::timestamptz[], $3::numeric[]) AS u(h, g)
     ON CONFLICT (community_id, hour) DO UPDATE SET grams_per_kwh = EXCLUDED.grams_per_kwh`,
    [communityId, hourly.map((h) => new Date(h.hourMs)), hourly.map((h) => h.gramsPerKWh)],
  );
}
