import type { Queryable } from '../../platform/store/db.js';
import { trimDecimal } from '../../kernel/decimal.js';

/** The only SQL on the tariffs table. */

/** A time-of-use window overriding the grid price, in the community's local time. */
export interface TimeOfUseWindow {
  /** ISO weekdays 1 (Monday) … 7 (Sunday). */
  days: number[];
  from: string;
  to: string;
  gridPrice: string;
}

export interface Tariff {
  id: string;
  communityId: string;
  name: string;
  gridPrice: string;
  communityPrice: string;
  feedInPrice: string;
  gridFeeReduction: string;
  timeOfUse: TimeOfUseWindow[] | null;
  validFrom: string;
  createdAt: string;
}

export type TariffInput = Omit<Tariff, 'id' | 'communityId' | 'createdAt' | 'gridFeeReduction' | 'timeOfUse'> & {
  gridFeeReduction?: string | undefined;
  timeOfUse?: TimeOfUseWindow[] | null | undefined;
};

interface TariffRow {
  id: string;
  community_id: string;
  name: string;
  grid_price: string;
  community_price: string;
  feed_in_price: string;
  grid_fee_reduction: string;
  time_of_use: TimeOfUseWindow[] | null;
  valid_from: string;
  created_at: Date;
}

const COLUMNS = `id, community_id, name, grid_price, community_price, feed_in_price, grid_fee_reduction, time_of_use,
  to_char(valid_from, 'YYYY-MM-DD') AS valid_from, created_at`;

/** numeric(12,6) comes back as "0.245000". */
function toTariff(row: TariffRow): Tariff {
  return {
    id: row.id,
    communityId: row.community_id,
    name: row.name,
    gridPrice: trimDecimal(row.grid_price),
    communityPrice: trimDecimal(row.community_price),
    feedInPrice: trimDecimal(row.feed_in_price),
    gridFeeReduction: trimDecimal(row.grid_fee_reduction),
    timeOfUse: row.time_of_use,
    validFrom: row.valid_from,
    createdAt: row.created_at.toISOString(),
  };
}

/** Every tariff version of a community, oldest first. */
export async function tariffsOfCommunity(db: Queryable, communityId: string): Promise<Tariff[]> {
  const rows = await db.query<TariffRow>(`SELECT ${COLUMNS} FROM tariffs WHERE community_id = $1 ORDER BY valid_from`, [communityId]);
  return rows.map(toTariff);
}

export async function tariffById(db: Queryable, id: string): Promise<Tariff | undefined> {
  const rows = await db.query<TariffRow>(`SELECT ${COLUMNS} FROM tariffs WHERE id = $1`, [id]);
  return rows[0] && toTariff(rows[0]);
}

export async function insertTariff(db: Queryable, communityId: string, input: TariffInput): Promise<Tariff> {
  const rows = await db.query<TariffRow>(
    `INSERT INTO tariffs (community_id, name, grid_price, community_price, feed_in_price, grid_fee_reduction, time_of_use, valid_from)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [communityId, input.name, input.gridPrice, input.communityPrice, input.feedInPrice, input.gridFeeReduction ?? '0',
      input.timeOfUse ? JSON.stringify(input.timeOfUse) : null, input.validFrom],
  );
  return toTariff(rows[0]!);
}

/** Changes the fields the patch gives (a null timeOfUse clears it). */
export async function patchTariff(db: Queryable, id: string, patch: Partial<TariffInput>): Promise<Tariff> {
  const rows = await db.query<TariffRow>(
    `UPDATE tariffs SET name = COALESCE($2, name), grid_price = COALESCE($3, grid_price),
       community_price = COALESCE($4, community_price), feed_in_price = COALESCE($5, feed_in_price),
       grid_fee_reduction = COALESCE($6, grid_fee_reduction), valid_from = COALESCE($7::date, valid_from),
       time_of_use = CASE WHEN $8::boolean THEN $9::jsonb ELSE time_of_use END
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, patch.name ?? null, patch.gridPrice ?? null, patch.communityPrice ?? null, patch.feedInPrice ?? null,
      patch.gridFeeReduction ?? null, patch.validFrom ?? null, patch.timeOfUse !== undefined,
      patch.timeOfUse ? JSON.stringify(patch.timeOfUse) : null],
  );
  return toTariff(rows[0]!);
}

export async function deleteTariffRow(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM tariffs WHERE id = $1', [id]);
}
