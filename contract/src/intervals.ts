/** Energy per UTC quarter hour and what keeps quarter hours from being measured (server/src/intervals). */
import { Type, type Static } from 'typebox';
import { errors, IdParams, IsoDateTime } from './common.js';
import { route } from './route.js';

export const Interval = Type.Object({
  start: IsoDateTime,
  importWh: Type.Union([Type.Integer(), Type.Null()]),
  exportWh: Type.Union([Type.Integer(), Type.Null()]),
  pvWh: Type.Union([Type.Integer(), Type.Null()]),
  batteryChargeWh: Type.Union([Type.Integer(), Type.Null()]),
  batteryDischargeWh: Type.Union([Type.Integer(), Type.Null()]),
  heatPumpWh: Type.Union([Type.Integer(), Type.Null()], {
    description: 'electric energy of the site\'s heat pumps (devices of kind heat-pump): recorded only, already part of import; null: no heat pump or not measured',
  }),
  quality: Type.Enum(['measured', 'estimated', 'missing']),
});

export const IntervalIssues = Type.Object({
  quarantined: Type.Array(Type.Object({
    meteringPointId: Type.String({ format: 'uuid' }),
    meteringPointName: Type.String(),
    memberId: Type.String({ format: 'uuid' }),
    start: IsoDateTime,
    series: Type.Enum(['import', 'export', 'pv', 'batteryCharge', 'batteryDischarge', 'heatPump']),
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

export type Interval = Static<typeof Interval>;
export type IntervalIssues = Static<typeof IntervalIssues>;

export const intervalRoutes = {
  intervalIssues: route('GET', '/api/v1/communities/:id/interval-issues', {
    tags: ['ingestion'],
    summary: 'What keeps quarter hours from being computed as measured: implausible quarter hours (quarantined) and metering points set aside after failures (managers)',
    params: IdParams,
    response: { 200: IntervalIssues, ...errors(401, 403, 404) },
  }),
  meteringPointIntervals: route('GET', '/api/v1/metering-points/:id/intervals', {
    tags: ['ingestion'],
    summary: 'Import, export, PV, battery charge/discharge and heat-pump energy per UTC quarter hour; quarter hours without data are listed as missing (null), never as 0',
    params: IdParams,
    querystring: Type.Object({ from: IsoDateTime, to: IsoDateTime }, { additionalProperties: false }),
    response: { 200: Type.Array(Interval), ...errors(400, 401, 404) },
  }),
};
