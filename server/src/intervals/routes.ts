import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, IdParams, IsoDateTime, type Api } from '../platform/http/api.js';
import { getMeteringPoint } from '../registry/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { listIntervalIssues } from './issues.js';
import { pointIntervals } from './store.js';

const MAX_RANGE_MS = 93 * 86_400_000;

const Interval = Type.Object({
  start: IsoDateTime,
  importWh: Type.Union([Type.Integer(), Type.Null()]),
  exportWh: Type.Union([Type.Integer(), Type.Null()]),
  pvWh: Type.Union([Type.Integer(), Type.Null()]),
  batteryChargeWh: Type.Union([Type.Integer(), Type.Null()]),
  batteryDischargeWh: Type.Union([Type.Integer(), Type.Null()]),
  quality: Type.Enum(['measured', 'estimated', 'missing']),
});

const IntervalIssues = Type.Object({
  quarantined: Type.Array(Type.Object({
    meteringPointId: Type.String({ format: 'uuid' }),
    meteringPointName: Type.String(),
    memberId: Type.String({ format: 'uuid' }),
    start: IsoDateTime,
    series: Type.Enum(['import', 'export', 'pv', 'batteryCharge', 'batteryDischarge']),
    energyWh: Type.Number({ description: 'as computed from the readings' }),
    limitWh: Type.Number({ description: 'the site\'s connection capacity × 15 minutes' }),
    deviceIds: Type.Array(Type.String()),
    readings: Type.Array(Type.Object({ deviceId: Type.String(), quantity: Type.String(), ts: IsoDateTime, value: Type.Number() }),
      { description: 'the readings behind it as the computation used them: the last before the quarter hour, the first and last in it per device, the first after it' }),
    detectedAt: IsoDateTime,
  }), { description: 'quarter hours beyond what the site\'s connection can carry, newest first (at most 500): stored as missing, never shared as measured' }),
  quarantinedTotal: Type.Integer(),
  failures: Type.Array(Type.Object({
    meteringPointId: Type.String({ format: 'uuid' }),
    meteringPointName: Type.String(),
    error: Type.String({ description: 'why the computation failed, as the last try saw it' }),
    attempts: Type.Integer({ description: 'failures in a row' }),
    firstFailedAt: IsoDateTime,
    lastFailedAt: IsoDateTime,
    retryAt: IsoDateTime,
  }), { description: 'metering points whose quarter hours are set aside after their computation failed; retried with a growing delay (15 s, doubling, at most an hour)' }),
});

export async function intervalRoutes(app: Api, { db }: { db: Db }): Promise<void> {
  app.get('/api/v1/communities/:id/interval-issues', {
    schema: {
      tags: ['ingestion'],
      summary: 'What keeps quarter hours from being computed as measured: implausible quarter hours (quarantined) and metering points set aside after failures (managers)',
      params: IdParams,
      response: { 200: IntervalIssues, ...errors(401, 403, 404) },
    },
  }, async (request) => listIntervalIssues(db, request.principal, request.params.id));

  app.get('/api/v1/metering-points/:id/intervals', {
    schema: {
      tags: ['ingestion'],
      summary: 'Import, export, PV and battery charge/discharge energy per UTC quarter hour; quarter hours without data are listed as missing (null), never as 0',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: Type.Object({ from: IsoDateTime, to: IsoDateTime }, { additionalProperties: false }),
      response: { 200: Type.Array(Interval), ...errors(400, 401, 404) },
    },
  }, async (request) => {
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
        quality: row?.quality ?? ('missing' as const),
      });
    }
    return out;
  });
}
