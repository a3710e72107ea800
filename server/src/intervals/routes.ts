import type { Db } from '../platform/store/db.js';
import { type Api } from '../platform/http/api.js';
import { getMeteringPoint } from '../registry/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { intervalRoutes as contract } from '@gridshare/contract/intervals';
import { listIntervalIssues } from './issues.js';

const MAX_RANGE_MS = 93 * 86_400_000;

export async function intervalRoutes(app: Api, { db }: { db: Db }): Promise<void> {
  app.get(contract.intervalIssues.path, { schema: contract.intervalIssues.schema }, async (request) => listIntervalIssues(db, request.principal, request.params.id));

  app.get(contract.meteringPointIntervals.path, { schema: contract.meteringPointIntervals.schema }, async (request) => {
    const point = await getMeteringPoint(db, request.principal, request.params.id);
    const from = Math.floor(Date.parse(request.query.from) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    const to = Math.ceil(Date.parse(request.query.to) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    if (to <= from) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
    if (to - from > MAX_RANGE_MS) throw new BadRequestError('querystring/to: at most 93 days of quarter hours per request', 'querystring/to');
    const rows = await db.query<{
      start: Date; import_wh: number | null; export_wh: number | null; pv_wh: number | null;
      battery_charge_wh: number | null; battery_discharge_wh: number | null; quality: 'measured' | 'estimated' | 'missing';
    }>(
      'SELECT start, import_wh, export_wh, pv_wh, battery_charge_wh, battery_discharge_wh, quality FROM intervals WHERE metering_point_id = $1 AND start >= $2 AND start < $3',
      [point.id, new Date(from), new Date(to)],
    );
    const byStart = new Map(rows.map((r) => [r.start.getTime(), r]));
    const out = [];
    for (let t = from; t < to; t += QUARTER_HOUR_MS) {
      const row = byStart.get(t);
      out.push({
        start: new Date(t).toISOString(),
        importWh: row?.import_wh ?? null,
        exportWh: row?.export_wh ?? null,
        pvWh: row?.pv_wh ?? null,
        batteryChargeWh: row?.battery_charge_wh ?? null,
        batteryDischargeWh: row?.battery_discharge_wh ?? null,
        quality: row?.quality ?? ('missing' as const),
      });
    }
    return out;
  });
}
