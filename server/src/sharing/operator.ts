import type { Db, Queryable } from '../platform/store/db.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { markSharingDirty } from './service.js';

/** One quarter hour of the grid operator's allocation for one metering point (Austria: from EDA). */
export interface OperatorAllocation {
  meteringPointId: string;
  startMs: number;
  consumptionWh: number | null;
  fromCommunityWh: number | null;
  productionWh: number | null;
  toCommunityWh: number | null;
  /** Where the figures came from, e.g. the EDA message id. */
  source: string;
}

/**
 * Stores the operator's figures and marks the quarter hours for sharing, in one transaction. Every
 * row must name a metering point of the community and a UTC quarter hour with whole Wh ≥ 0,
 * or nothing is stored. A newer message for the same metering point and quarter hour replaces
 * the values it carries; a null leaves the stored value (an EDA message may carry only some
 * energy codes). The seam for the EDA import (sharing/eda/). Wake the sharing job afterwards
 * (`jobs.wake(SHARING_JOB)`, `platform.sharing.wake()`) to have the split redone at once.
 */
export async function storeOperatorAllocations(db: Db, communityId: string, rows: readonly OperatorAllocation[]): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction((tx) => writeOperatorAllocations(tx, communityId, rows));
}

/**
 * `storeOperatorAllocations` inside the caller's transaction, so that an import can store the
 * operator's codes, these rows and its own record all or nothing (operator-imports.ts).
 */
export async function writeOperatorAllocations(tx: Queryable, communityId: string, rows: readonly OperatorAllocation[]): Promise<void> {
  if (rows.length === 0) return;
  checkRows(rows);
  const pointIds = [...new Set(rows.map((r) => r.meteringPointId))];
  const known = await tx.query<{ id: string }>('SELECT id FROM metering_points WHERE community_id = $1 AND id = ANY($2::uuid[])', [communityId, pointIds]);
  if (known.length !== pointIds.length) throw new NotFoundError('metering point');
  await tx.query(
    `INSERT INTO operator_allocations (community_id, metering_point_id, start, consumption_wh, from_community_wh, production_wh, to_community_wh, source)
     SELECT $1, p, s, c, f, pr, t, src FROM unnest($2::uuid[], $3::timestamptz[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::text[])
       AS u(p, s, c, f, pr, t, src)
     ON CONFLICT (metering_point_id, start) DO UPDATE SET
       consumption_wh = COALESCE(EXCLUDED.consumption_wh, operator_allocations.consumption_wh),
       from_community_wh = COALESCE(EXCLUDED.from_community_wh, operator_allocations.from_community_wh),
       production_wh = COALESCE(EXCLUDED.production_wh, operator_allocations.production_wh),
       to_community_wh = COALESCE(EXCLUDED.to_community_wh, operator_allocations.to_community_wh),
       source = EXCLUDED.source, imported_at = now()`,
    [communityId, rows.map((r) => r.meteringPointId), rows.map((r) => new Date(r.startMs)), rows.map((r) => r.consumptionWh),
      rows.map((r) => r.fromCommunityWh), rows.map((r) => r.productionWh), rows.map((r) => r.toCommunityWh), rows.map((r) => r.source)],
  );
  await markSharingDirty(tx, communityId, rows.map((r) => r.startMs));
}

function checkRows(rows: readonly OperatorAllocation[]): void {
  const seen = new Set<string>();
  rows.forEach((row, index) => {
    if (!Number.isInteger(row.startMs) || row.startMs % QUARTER_HOUR_MS !== 0) throw new BadRequestError(`row ${index}: start must be a UTC quarter hour`);
    for (const field of ['consumptionWh', 'fromCommunityWh', 'productionWh', 'toCommunityWh'] as const) {
      const value = row[field];
      if (value !== null && (!Number.isSafeInteger(value) || value < 0)) throw new BadRequestError(`row ${index}: ${field} must be whole Wh ≥ 0 or null`);
    }
    if (row.source.trim() === '') throw new BadRequestError(`row ${index}: source is empty`);
    const key = `${row.meteringPointId}|${row.startMs}`;
    if (seen.has(key)) throw new BadRequestError(`row ${index}: the same metering point and quarter hour appear twice`);
    seen.add(key);
  });
}
