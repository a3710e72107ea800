import type { Db, Queryable } from '../store/db.js';
import { BackgroundJob } from '../background-job.js';
import {
  ceilToInterval, energyFromPower, energyFromRegister, floorToInterval, INTERVAL_MS, worst,
  type IntervalEnergy, type Quality, type Sample,
} from './energy.js';

const REACH_MS = 24 * 3_600_000;
const SERIES = {
  import: { register: 'energy.import', power: 'power.import' },
  export: { register: 'energy.export', power: 'power.export' },
  pv: { register: 'pv.energy', power: 'pv.power' },
  batteryCharge: { register: 'battery.energy.charge', power: 'battery.power.charge' },
  batteryDischarge: { register: 'battery.energy.discharge', power: 'battery.power.discharge' },
} as const;
const QUANTITIES = Object.values(SERIES).flatMap((s) => [s.register, s.power]);

interface Row {
  quantity: string;
  device_id: string;
  ts: Date;
  value: number;
}

/**
 * Readings of a metering point that matter for the intervals in [from, to]: those inside, and
 * per quantity the nearest one on each side (within a day) for interpolation at the edges.
 */
async function loadSamples(db: Queryable, pointId: string, from: number, to: number): Promise<Row[]> {
  return db.query<Row>(
    `SELECT quantity, device_id, ts, value FROM readings
       WHERE metering_point_id = $1 AND quantity = ANY($2::text[]) AND ts >= $3 AND ts <= $4
     UNION ALL
     SELECT q.quantity, b.device_id, b.ts, b.value FROM unnest($2::text[]) AS q(quantity) CROSS JOIN LATERAL (
       SELECT device_id, ts, value FROM readings
       WHERE metering_point_id = $1 AND quantity = q.quantity AND ts < $3 AND ts >= $3 - interval '24 hours'
       ORDER BY ts DESC LIMIT 1) b
     UNION ALL
     SELECT q.quantity, a.device_id, a.ts, a.value FROM unnest($2::text[]) AS q(quantity) CROSS JOIN LATERAL (
       SELECT device_id, ts, value FROM readings
       WHERE metering_point_id = $1 AND quantity = q.quantity AND ts > $4 AND ts <= $4 + interval '24 hours'
       ORDER BY ts ASC LIMIT 1) a`,
    [pointId, QUANTITIES, new Date(from), new Date(to)],
  );
}

/** A register series per metering point; a change of device (a replaced reader) counts as a meter exchange. */
function series(rows: readonly Row[], quantity: string, exchanges: readonly number[]): { samples: Sample[]; exchanges: number[] } {
  const own = rows.filter((r) => r.quantity === quantity).sort((a, b) => a.ts.getTime() - b.ts.getTime());
  const breaks = [...exchanges];
  for (let i = 1; i < own.length; i++) if (own[i]!.device_id !== own[i - 1]!.device_id) breaks.push(own[i]!.ts.getTime());
  return { samples: own.map((r) => ({ ts: r.ts.getTime(), value: r.value })), exchanges: breaks };
}

function energyOf(rows: readonly Row[], kind: keyof typeof SERIES, from: number, to: number, exchanges: number[]): IntervalEnergy[] | undefined {
  const register = series(rows, SERIES[kind].register, exchanges);
  if (register.samples.length > 0) return energyFromRegister(register.samples, from, to, { exchanges: register.exchanges });
  const power = series(rows, SERIES[kind].power, []);
  if (power.samples.length > 0) return energyFromPower(power.samples, from, to);
  return undefined;
}

interface ComputedIntervals {
  starts: Date[];
  importWh: (number | null)[];
  exportWh: (number | null)[];
  pvWh: (number | null)[];
  batteryChargeWh: (number | null)[];
  batteryDischargeWh: (number | null)[];
  quality: Quality[];
}

/** The intervals of one metering point in [from, to) from its stored readings (reads only). */
async function computeIntervals(db: Queryable, pointId: string, from: number, to: number): Promise<ComputedIntervals | undefined> {
  const rows = await loadSamples(db, pointId, from, to);
  if (rows.length === 0) return undefined;
  const exchangeRows = await db.query<{ ts: Date }>(
    `SELECT DISTINCT e.ts FROM meter_exchanges e WHERE e.device_id IN (SELECT DISTINCT device_id FROM readings WHERE metering_point_id = $1 AND ts >= $2 AND ts <= $3)`,
    [pointId, new Date(from - REACH_MS), new Date(to + REACH_MS)],
  );
  const exchanges = exchangeRows.map((r) => r.ts.getTime());
  // Intervals after the newest reading are not known yet: they are not written at all.
  const newest = Math.max(...rows.map((r) => r.ts.getTime()));
  const end = Math.min(to, ceilToInterval(newest));
  if (end <= from) return undefined;
  const imports = energyOf(rows, 'import', from, end, exchanges);
  const exports = energyOf(rows, 'export', from, end, exchanges);
  const pv = energyOf(rows, 'pv', from, end, exchanges);
  const charge = energyOf(rows, 'batteryCharge', from, end, exchanges);
  const discharge = energyOf(rows, 'batteryDischarge', from, end, exchanges);
  if (!imports && !exports && !pv && !charge && !discharge) return undefined;
  const computed: ComputedIntervals = { starts: [], importWh: [], exportWh: [], pvWh: [], batteryChargeWh: [], batteryDischargeWh: [], quality: [] };
  for (let i = 0, t = from; t < end; i++, t += INTERVAL_MS) {
    const im = imports?.[i];
    const ex = exports?.[i];
    computed.starts.push(new Date(t));
    computed.importWh.push(im?.wh ?? null);
    computed.exportWh.push(ex?.wh ?? null);
    computed.pvWh.push(pv?.[i]?.wh ?? null);
    computed.batteryChargeWh.push(charge?.[i]?.wh ?? null);
    computed.batteryDischargeWh.push(discharge?.[i]?.wh ?? null);
    computed.quality.push(worst(...[im, ex].filter((x): x is IntervalEnergy => !!x).map((x) => x.quality)));
  }
  return computed;
}

/** Writes the intervals and returns the starts whose values changed (new or different rows). */
async function writeIntervals(tx: Queryable, pointId: string, communityId: string, c: ComputedIntervals): Promise<number[]> {
  const changed = await tx.query<{ start: Date }>(
    `INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh, quality, computed_at)
     SELECT $1, s, $2, i, e, p, bc, bd, q, now()
     FROM unnest($3::timestamptz[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::text[]) AS u(s, i, e, p, bc, bd, q)
     ON CONFLICT (metering_point_id, start) DO UPDATE SET
       import_wh = EXCLUDED.import_wh, export_wh = EXCLUDED.export_wh, pv_wh = EXCLUDED.pv_wh,
       battery_charge_wh = EXCLUDED.battery_charge_wh, battery_discharge_wh = EXCLUDED.battery_discharge_wh,
       quality = EXCLUDED.quality, computed_at = now()
     WHERE (intervals.import_wh, intervals.export_wh, intervals.pv_wh, intervals.battery_charge_wh, intervals.battery_discharge_wh, intervals.quality)
       IS DISTINCT FROM (EXCLUDED.import_wh, EXCLUDED.export_wh, EXCLUDED.pv_wh, EXCLUDED.battery_charge_wh, EXCLUDED.battery_discharge_wh, EXCLUDED.quality)
     RETURNING start`,
    [pointId, communityId, c.starts, c.importWh, c.exportWh, c.pvWh, c.batteryChargeWh, c.batteryDischargeWh, c.quality],
  );
  return changed.map((r) => r.start.getTime());
}

/**
 * Called in the transaction that wrote a metering point's intervals, with the quarter hours
 * whose values changed, so what is derived from them (sharing) is marked atomically.
 */
export type IntervalsChanged = (tx: Queryable, communityId: string, startsMs: readonly number[]) => Promise<void>;

/**
 * Works off the quarter hours marked dirty by ingestion. Each metering point's dirty range is
 * widened to the readings around it (a new reading changes the interpolation up to its
 * neighbours) and recomputed; the result is written and the marks up to the version that was
 * read are cleared in one short transaction, so a crash only means doing it again and a
 * reading that arrives meanwhile leaves a newer mark behind. The reads run outside any
 * transaction: on the embedded store a transaction holds the only connection, and ingestion's
 * commits must not wait behind a recomputation.
 */
export async function processDirty(db: Db, onChanged?: IntervalsChanged, maxPoints = 200): Promise<number> {
  const dirty = await db.query<{ metering_point_id: string; community_id: string; first: Date; last: Date; version: number }>(
    `WITH picked AS (
       SELECT metering_point_id FROM interval_dirty GROUP BY metering_point_id ORDER BY min(start) LIMIT $1)
     SELECT d.metering_point_id, mp.community_id, min(d.start) AS first, max(d.start) AS last, max(d.version) AS version
     FROM interval_dirty d JOIN picked USING (metering_point_id) JOIN metering_points mp ON mp.id = d.metering_point_id
     GROUP BY d.metering_point_id, mp.community_id`,
    [maxPoints],
  );
  let written = 0;
  for (const point of dirty) {
    const first = point.first.getTime();
    const last = point.last.getTime() + INTERVAL_MS;
    const around = await db.query<{ before: Date | null; after: Date | null }>(
      `SELECT (SELECT max(ts) FROM readings WHERE metering_point_id = $1 AND ts < $2 AND ts >= $2 - interval '24 hours') AS before,
              (SELECT min(ts) FROM readings WHERE metering_point_id = $1 AND ts > $3 AND ts <= $3 + interval '24 hours') AS after`,
      [point.metering_point_id, new Date(first), new Date(last)],
    );
    const from = floorToInterval(Math.min(first, around[0]?.before?.getTime() ?? first));
    const to = ceilToInterval(Math.max(last, around[0]?.after?.getTime() ?? last));
    const computed = await computeIntervals(db, point.metering_point_id, from, to);
    await db.transaction(async (tx) => {
      if (computed) {
        const changed = await writeIntervals(tx, point.metering_point_id, point.community_id, computed);
        if (changed.length > 0 && onChanged) await onChanged(tx, point.community_id, changed);
      }
      await tx.query('DELETE FROM interval_dirty WHERE metering_point_id = $1 AND version <= $2', [point.metering_point_id, point.version]);
    });
    written += computed?.starts.length ?? 0;
    // Let waiting ingestion commits go first: they acknowledge devices, this can wait.
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Points that no longer exist leave nothing to compute.
  await db.query('DELETE FROM interval_dirty d WHERE NOT EXISTS (SELECT 1 FROM metering_points mp WHERE mp.id = d.metering_point_id)');
  return dirty.length === 0 ? 0 : Math.max(written, 1);
}

/** Runs `processDirty` shortly after ingestion and on a timer; `flush` waits until nothing is dirty. */
export class IntervalScheduler extends BackgroundJob {
  constructor(db: Db, delayMs = 1_000, options: { onChanged?: IntervalsChanged; afterRun?: () => void } = {}) {
    super('interval computation', () => processDirty(db, options.onChanged), delayMs, options.afterRun);
  }
}
