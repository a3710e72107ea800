import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { isMemberOf, requireManager, requireUser } from '../accounts/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { conflictOnDuplicate } from '../platform/store/errors.js';
import { trimDecimal } from '../kernel/decimal.js';

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

function assertTimeOfUse(windows: TimeOfUseWindow[] | null | undefined): void {
  for (const [index, window] of (windows ?? []).entries()) {
    if (window.from >= window.to && window.to !== '00:00') {
      throw new BadRequestError(`body/timeOfUse/${index}: "from" must be before "to"`, `body/timeOfUse/${index}`);
    }
  }
}

/** Tariffs are visible to the community's active members and its managers. */
function requireMemberOf(principal: Principal, communityId: string): void {
  requireUser(principal);
  if (!isMemberOf(principal, communityId)) throw new NotFoundError('community');
}

export async function listTariffs(db: Queryable, principal: Principal, communityId: string): Promise<Tariff[]> {
  requireMemberOf(principal, communityId);
  return loadTariffs(db, communityId);
}

/** Every tariff version of a community, oldest first (callers have checked access). */
export async function loadTariffs(db: Queryable, communityId: string): Promise<Tariff[]> {
  const rows = await db.query<TariffRow>(`SELECT ${COLUMNS} FROM tariffs WHERE community_id = $1 ORDER BY valid_from`, [communityId]);
  return rows.map(toTariff);
}

async function loadTariff(db: Queryable, id: string): Promise<Tariff | undefined> {
  const rows = await db.query<TariffRow>(`SELECT ${COLUMNS} FROM tariffs WHERE id = $1`, [id]);
  return rows[0] && toTariff(rows[0]);
}

export async function getTariff(db: Queryable, principal: Principal, id: string): Promise<Tariff> {
  requireUser(principal);
  const tariff = await loadTariff(db, id);
  if (!tariff || !isMemberOf(principal, tariff.communityId)) throw new NotFoundError('tariff');
  return tariff;
}

const DUPLICATE_START = 'a tariff already starts on this date';

export async function createTariff(db: Queryable, principal: Principal, communityId: string, input: TariffInput): Promise<Tariff> {
  requireManager(principal, communityId);
  assertTimeOfUse(input.timeOfUse);
  const rows = await conflictOnDuplicate(DUPLICATE_START, () =>
    db.query<TariffRow>(
      `INSERT INTO tariffs (community_id, name, grid_price, community_price, feed_in_price, grid_fee_reduction, time_of_use, valid_from)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [communityId, input.name, input.gridPrice, input.communityPrice, input.feedInPrice, input.gridFeeReduction ?? '0',
        input.timeOfUse ? JSON.stringify(input.timeOfUse) : null, input.validFrom],
    ),
  );
  return toTariff(rows[0]!);
}

export async function updateTariff(db: Queryable, principal: Principal, id: string, patch: Partial<TariffInput>): Promise<Tariff> {
  const tariff = await getTariff(db, principal, id);
  requireManager(principal, tariff.communityId, 'tariff');
  assertTimeOfUse(patch.timeOfUse);
  const rows = await conflictOnDuplicate(DUPLICATE_START, () =>
    db.query<TariffRow>(
      `UPDATE tariffs SET name = COALESCE($2, name), grid_price = COALESCE($3, grid_price),
         community_price = COALESCE($4, community_price), feed_in_price = COALESCE($5, feed_in_price),
         grid_fee_reduction = COALESCE($6, grid_fee_reduction), valid_from = COALESCE($7::date, valid_from),
         time_of_use = CASE WHEN $8::boolean THEN $9::jsonb ELSE time_of_use END
       WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, patch.name ?? null, patch.gridPrice ?? null, patch.communityPrice ?? null, patch.feedInPrice ?? null,
        patch.gridFeeReduction ?? null, patch.validFrom ?? null, patch.timeOfUse !== undefined,
        patch.timeOfUse ? JSON.stringify(patch.timeOfUse) : null],
    ),
  );
  return toTariff(rows[0]!);
}

export async function deleteTariff(db: Queryable, principal: Principal, id: string): Promise<void> {
  const tariff = await getTariff(db, principal, id);
  requireManager(principal, tariff.communityId, 'tariff');
  await db.query('DELETE FROM tariffs WHERE id = $1', [id]);
}
