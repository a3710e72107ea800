import type { Db, Queryable } from '../platform/store/db.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { communityMeteringPoints } from '../registry/index.js';
import { markSharingDirty } from './service.js';
import { upsertOperatorAllocations, type OperatorAllocation } from './store.js';

/**
 * Stores the operator's figures and marks the quarter hours for sharing, in one transaction. Every
 * row must name a metering point of the community and a UTC quarter hour with whole Wh ≥ 0,
 * or nothing is stored. A newer message for the same metering point and quarter hour replaces
 * the values it carries; a null leaves the stored value (an EDA message may carry only some
 * energy codes). The seam for the operator mode's import (operator/). Wake the sharing job afterwards
 * (`jobs.wake(SHARING_JOB)`, `platform.sharing.wake()`) to have the split redone at once.
 */
export async function storeOperatorAllocations(db: Db, communityId: string, rows: readonly OperatorAllocation[]): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction((tx) => writeOperatorAllocations(tx, communityId, rows));
}

/**
 * `storeOperatorAllocations` inside the caller's transaction, so that an import can store the
 * operator's codes, these rows and its own record all or nothing (operator/imports.ts).
 */
export async function writeOperatorAllocations(tx: Queryable, communityId: string, rows: readonly OperatorAllocation[]): Promise<void> {
  if (rows.length === 0) return;
  checkRows(rows);
  const known = new Set((await communityMeteringPoints(tx, communityId)).map((p) => p.id));
  if (rows.some((r) => !known.has(r.meteringPointId))) throw new NotFoundError('metering point');
  await upsertOperatorAllocations(tx, communityId, rows);
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
