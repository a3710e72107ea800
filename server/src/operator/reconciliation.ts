import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError } from '../kernel/errors.js';
import type { Quality } from '../kernel/energy.js';
import { QUARTER_HOUR_MS, DATE_RANGE_TEXT, parseUtcInstant } from '../kernel/time.js';
import { parseStoredCodes, reconcile, storedFigure, type CommunitySummary, type DifferenceKind, type MeteredInterval, type OperatorQuality, type PointRole } from './domain/index.js';
import { communityMeteringPoints, requireCommunityManager, type CommunityMeteringPoint } from '../registry/index.js';
import { communityIntervals } from '../intervals/index.js';
import { figureCodesBetween } from './store.js';
import { DEFAULT_DIFFERENCE_LIMIT } from '@gridshare/contract/operator';

/**
 * Reconciliation of a community's imported operator figures with its own metered quarter hours,
 * computed on request by the pure `reconcile()` (eda/reconcile.ts), with each Zählpunkt named by
 * its metering point and member so a manager can act on it. Nothing is stored.
 */

/** A month, plus the hour of the autumn clock change: one request stays bounded (~3,000 quarter hours per point). */
export const MAX_RECONCILIATION_MS = 31 * 86_400_000 + 3_600_000;
export { DEFAULT_DIFFERENCE_LIMIT };

export interface ReconciliationQuery {
  from: string;
  to: string;
  toleranceWh?: number | undefined;
  tolerancePercent?: number | undefined;
  limit?: number | undefined;
}

export interface ReconciliationDifference {
  kind: DifferenceKind;
  gridConnectionId: string | null;
  meteringPointId: string | null;
  memberId: string | null;
  start: string;
  operatorWh: number | null;
  referenceWh: number | null;
  differenceWh: number | null;
  allowedWh: number;
  operatorQuality: OperatorQuality | null;
  meteredQuality: Quality | null;
}

export interface ReconciliationPoint {
  gridConnectionId: string;
  meteringPointId: string | null;
  memberId: string | null;
  role: PointRole;
  operatorIntervals: number;
  meteredIntervals: number;
  comparedIntervals: number;
  operatorWh: number;
  meteredWh: number;
  differenceWh: number;
  communityWh: number;
  flagged: number;
  flaggedByKind: Partial<Record<DifferenceKind, number>>;
  largestDifferenceWh: number | null;
}

export interface CommunityReconciliation {
  communityId: string;
  from: string;
  to: string;
  tolerance: { wh: number; percent: number };
  /** All flagged differences in the range; `differences` holds the first `limit` of them. */
  differenceCount: number;
  truncated: boolean;
  differences: ReconciliationDifference[];
  points: ReconciliationPoint[];
  community: CommunitySummary;
}

function instant(text: string, field: string): number {
  const ms = parseUtcInstant(text);
  if (ms === undefined) throw new BadRequestError(`${field}: must be a UTC instant such as 2025-06-01T00:00:00Z, ${DATE_RANGE_TEXT}`, field);
  if (ms % QUARTER_HOUR_MS !== 0) throw new BadRequestError(`${field}: must be the start of a UTC quarter hour`, field);
  return ms;
}

/**
 * One metered quarter hour of a point, keyed as reconcile() compares it: under the point's only
 * Zählpunkt with both registers, or, when the point has a generation Zählpunkt (an Austrian
 * prosumer), the import under the consumption Zählpunkt and the export under the generation one,
 * each with the other register null (that Zählpunkt does not measure it).
 */
export function meteredIntervals(
  point: Pick<CommunityMeteringPoint, 'gridConnectionId' | 'generationGridConnectionId'>,
  startMs: number, importWh: number | null, exportWh: number | null, quality: Quality,
): MeteredInterval[] {
  if (point.generationGridConnectionId === null) return [{ gridConnectionId: point.gridConnectionId, startMs, importWh, exportWh, quality }];
  return [
    { gridConnectionId: point.gridConnectionId, startMs, importWh, exportWh: null, quality },
    { gridConnectionId: point.generationGridConnectionId, startMs, importWh: null, exportWh, quality },
  ];
}

export async function communityReconciliation(
  db: Queryable, principal: Principal, communityId: string, query: ReconciliationQuery,
): Promise<CommunityReconciliation> {
  await requireCommunityManager(db, principal, communityId);
  const fromMs = instant(query.from, 'querystring/from');
  const toMs = instant(query.to, 'querystring/to');
  if (!(toMs > fromMs)) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
  if (toMs - fromMs > MAX_RECONCILIATION_MS) throw new BadRequestError('querystring/to: at most 31 days and 1 hour after from', 'querystring/to');
  const tolerance = { wh: query.toleranceWh ?? 0, percent: query.tolerancePercent ?? 0 };
  const limit = query.limit ?? DEFAULT_DIFFERENCE_LIMIT;

  const points = await communityMeteringPoints(db, communityId);
  const pointById = new Map(points.map((p) => [p.id, p]));
  const figureRows = await figureCodesBetween(db, communityId, fromMs, toMs);
  const intervalRows = await communityIntervals(db, communityId, fromMs, toMs);

  // The Zählpunkt → metering point of the import; Zählpunkte only metered are the points' own.
  const pointOfZp = new Map<string, string>();
  for (const p of points) {
    pointOfZp.set(p.gridConnectionId, p.id);
    if (p.generationGridConnectionId !== null) pointOfZp.set(p.generationGridConnectionId, p.id);
  }
  for (const row of figureRows) pointOfZp.set(row.gridConnectionId, row.meteringPointId);
  // Community ids are left out: stored figures of one community never mix ECIDs per quarter
  // hour (the import refuses that), and a Zählpunkt that changed community over the range is
  // still one point here.
  const figures = figureRows.map((row) => storedFigure(row.gridConnectionId, null, row.startMs, row.codes));
  const metered: MeteredInterval[] = [];
  for (const row of intervalRows) {
    const point = pointById.get(row.meteringPointId);
    if (!point) continue;
    metered.push(...meteredIntervals(point, row.startMs, row.importWh, row.exportWh, row.quality));
  }

  const result = reconcile(figures, metered, tolerance);
  const owner = (gridConnectionId: string | null) => {
    const pointId = gridConnectionId === null ? undefined : pointOfZp.get(gridConnectionId);
    return { meteringPointId: pointId ?? null, memberId: (pointId && pointById.get(pointId)?.memberId) ?? null };
  };
  return {
    communityId,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    tolerance,
    differenceCount: result.differences.length,
    truncated: result.differences.length > limit,
    differences: result.differences.slice(0, limit).map((d) => ({
      kind: d.kind,
      gridConnectionId: d.gridConnectionId,
      ...owner(d.gridConnectionId),
      start: new Date(d.startMs).toISOString(),
      operatorWh: d.operatorWh,
      referenceWh: d.referenceWh,
      differenceWh: d.differenceWh,
      allowedWh: d.allowedWh,
      operatorQuality: d.operatorQuality,
      meteredQuality: d.meteredQuality,
    })),
    points: result.points.map((p) => ({ ...p, ...owner(p.gridConnectionId), flaggedByKind: { ...p.flaggedByKind } })),
    community: result.community,
  };
}
