import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { getMeteringPoint } from '../registry/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { intervalRoutes as contract } from '@gridshare/contract/intervals';
import { listIntervalIssues } from './issues.js';
import { pointIntervals } from './store.js';

const MAX_RANGE_MS = 93 * 86_400_000;

export async function intervalRoutes(app: Api, { db }: { db: Db }): Promise<void> {
  app.get(contract.intervalIssues.path, { schema: contract.intervalIssues.schema }, async (request) => listIntervalIssues(db, request.principal, request.params.id));

  app.get(contract.meteringPointIntervals.path, { schema: contract.meteringPointIntervals.schema }, async (request) => {
    const point = await getMeteringPoint(db, request.principal, request.params.id);
    const from = Math.floor(Date.parse(request.query.from) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    const to = Math.ceil(Date.parse(request.query.to) / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
    if (to <= from) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
    if (to - from > MAX_RANGE_MS) throw new BadRequestError('querystring/to: at most 93 days of quarter hours per request', 'querystring/to');
    const byStart = new Map((await pointIntervals(db, point.id, from, to)).map((r) => [r.startMs, r]));
    const out = [];
    for (let t = from; t < to; t += QUARTER_HOUR_MS) {
      const row = byStart.get(t);
      out.push({
        start: new Date(t).toISOString(),
        importWh: row?.importWh ?? null,
        exportWh: row?.exportWh ?? null,
        pvWh: row?.pvWh ?? null,
        batteryChargeWh: row?.batteryChargeWh ?? null,
        batteryDischargeWh: row?.batteryDischargeWh ?? null,
        heatPumpWh: row?.heatPumpWh ?? null,
        quality: row?.quality ?? ('missing' as const),
      });
    }
    return out;
  });
}
