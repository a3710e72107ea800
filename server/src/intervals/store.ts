import type { Queryable } from '../platform/store/db.js';
import type { Quality } from '../kernel/energy.js';

/**
 * Interval reads other capabilities ask for, each one set-based query (they join in memory).
 * The intervals' own job keeps its SQL in service.ts until the intervals' store is gathered.
 */

/** One stored quarter hour of a metering point (Wh; null where that register is not measured). */
export interface StoredInterval {
  meteringPointId: string;
  startMs: number;
  importWh: number | null;
  exportWh: number | null;
  pvWh: number | null;
  batteryChargeWh: number | null;
  batteryDischargeWh: number | null;
  quality: Quality;
}

interface IntervalRow {
  metering_point_id: string;
  start: Date;
  import_wh: number | null;
  export_wh: number | null;
  pv_wh: number | null;
  battery_charge_wh: number | null;
  battery_discharge_wh: number | null;
  quality: Quality;
}

const INTERVAL_COLUMNS = 'metering_point_id, start, import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh, quality';

const toInterval = (r: IntervalRow): StoredInterval => ({
  meteringPointId: r.metering_point_id, startMs: r.start.getTime(), importWh: r.import_wh, exportWh: r.export_wh,
  pvWh: r.pv_wh, batteryChargeWh: r.battery_charge_wh, batteryDischargeWh: r.battery_discharge_wh, quality: r.quality,
});

/** The quarter hours `startsMs` of the metering points `pointIds` that have an interval. */
export async function intervalsAt(db: Queryable, pointIds: readonly string[], startsMs: readonly number[]): Promise<StoredInterval[]> {
  const rows = await db.query<IntervalRow>(
    `SELECT ${INTERVAL_COLUMNS} FROM intervals WHERE metering_point_id = ANY($1::uuid[]) AND start = ANY($2::timestamptz[])`,
    [pointIds, startsMs.map((ms) => new Date(ms))],
  );
  return rows.map(toInterval);
}

/** Every interval of the community's metering points in [fromMs, toMs). */
export async function communityIntervals(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<StoredInterval[]> {
  const rows = await db.query<IntervalRow>(
    `SELECT ${INTERVAL_COLUMNS} FROM intervals WHERE community_id = $1 AND start >= $2 AND start < $3`,
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  return rows.map(toInterval);
}

/** Each point's first quarter hour with an interval (one probe of the primary key per point); absent: none yet. */
export async function firstIntervalStarts(db: Queryable, pointIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await db.query<{ id: string; data_from: Date | null }>(
    `SELECT p.id, (SELECT i.start FROM intervals i WHERE i.metering_point_id = p.id ORDER BY i.start LIMIT 1) AS data_from
     FROM unnest($1::uuid[]) AS p(id)`,
    [pointIds],
  );
  return new Map(rows.flatMap((r) => (r.data_from === null ? [] : [[r.id, r.data_from.getTime()] as const])));
}

/** Which of the quarter hours `startsMs` have an interval of some metering point of the community. */
export async function startsWithIntervals(db: Queryable, communityId: string, startsMs: readonly number[]): Promise<number[]> {
  const rows = await db.query<{ start: Date }>(
    'SELECT DISTINCT start FROM intervals WHERE community_id = $1 AND start = ANY($2::timestamptz[])',
    [communityId, startsMs.map((ms) => new Date(ms))],
  );
  return rows.map((r) => r.start.getTime());
}
