import { Type } from 'typebox';
import type { Db } from '../platform/store/db.js';
import { errors, IdParams, IsoDateTime, type Api } from '../platform/http/api.js';
import { getDevice, listDevices } from '../registry/index.js';
import { getMeteringPoint } from '../registry/index.js';
import { requireManager } from '../accounts/index.js';
import { deviceDataScope, deviceDataScopes } from '../registry/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { QUANTITY_UNITS } from '../kernel/quantities.js';
import { MESSAGE_LIMITS } from '../readings/index.js';
import type { AuthenticatedDevice, IngestOutcome, IngestService } from './service.js';
import type { ReadingWriter } from './writer.js';
import { listDeviceEvents } from './device-events.js';
import { deviceStateViews, readingsIn } from './device-data.js';
import { recordMeterExchange } from './store.js';

/** Checks a device's `Authorization: SharedAccessSignature …` header for the device in the path. */
export type DeviceAuthenticator = (deviceId: string, authorization: string | undefined) => Promise<AuthenticatedDevice>;

const DeviceParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) });

const ReadingSchema = Type.Object({
  ts: Type.String({ description: 'ISO 8601 instant with Z or an offset; at most 5 minutes in the future' }),
  quantity: Type.String({ enum: Object.keys(QUANTITY_UNITS), description: 'one of the measurement vocabulary (see README)' }),
  value: Type.Number({ description: 'finite; registers and power are non-negative' }),
  unit: Type.String({ description: "the quantity's unit exactly, e.g. Wh for energy.import" }),
}, { additionalProperties: false });

export const ReadingsMessage = Type.Object(
  { readings: Type.Array(ReadingSchema, { minItems: 1, maxItems: MESSAGE_LIMITS.maxReadings }) },
  { additionalProperties: false, $id: 'ReadingsMessage', description: 'The message a device sends over MQTT or HTTP' },
);

const StoredResult = Type.Object({ stored: Type.Integer(), duplicates: Type.Integer() });

const DeviceStateSchema = Type.Object({
  deviceId: Type.String(),
  online: Type.Boolean(),
  lastSeenAt: Type.Union([IsoDateTime, Type.Null()]),
  messagesTotal: Type.Integer(),
  readingsTotal: Type.Integer(),
  duplicatesTotal: Type.Integer(),
  rejectedTotal: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastErrorAt: Type.Union([IsoDateTime, Type.Null()]),
});

function answer(outcome: IngestOutcome) {
  if (outcome.status === 'refused') {
    throw new BadRequestError(`${outcome.rejection.code}: ${outcome.rejection.message}`);
  }
  return outcome.result;
}

export async function ingestRoutes(
  app: Api,
  options: { db: Db; ingest: IngestService; writer: ReadingWriter; authenticateDevice: DeviceAuthenticator },
): Promise<void> {
  const { db, ingest, authenticateDevice } = options;
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: MESSAGE_LIMITS.maxBytes }, (_request, body, done) => done(null, body));

  app.post('/api/v1/devices/:id/readings', {
    schema: {
      tags: ['ingestion'],
      summary: 'Send readings as a device (Authorization: SharedAccessSignature …); 200 only once stored durably',
      security: [{ sas: [] }],
      params: DeviceParams,
      // Validated by the same code as MQTT messages, so both paths give the same answers.
      body: Type.Unknown({ description: 'ReadingsMessage: {"readings": [{ts, quantity, value, unit}, …]}' }),
      response: { 200: StoredResult, ...errors(400, 401) },
    },
    bodyLimit: MESSAGE_LIMITS.maxBytes,
  }, async (request) => {
    const device = await authenticateDevice(request.params.id, request.headers.authorization);
    return answer(await ingest.ingestJson(device, { parsed: request.body }));
  });

  app.post('/api/v1/devices/:id/frames/:format', {
    schema: {
      tags: ['ingestion'],
      summary: 'Send one raw meter frame (application/octet-stream) as a device; decoded with the device\'s meter keys',
      security: [{ sas: [] }],
      params: Type.Object({ id: DeviceParams.properties.id, format: Type.String({ pattern: '^[a-z0-9-]{1,20}$' }) }),
      response: { 200: StoredResult, ...errors(400, 401, 415) },
    },
    bodyLimit: MESSAGE_LIMITS.maxBytes,
  }, async (request) => {
    const device = await authenticateDevice(request.params.id, request.headers.authorization);
    if (!Buffer.isBuffer(request.body)) throw new BadRequestError('send the frame as application/octet-stream');
    return answer(await ingest.ingestFrame(device, request.params.format, request.body));
  });

  app.get('/api/v1/devices/:id/state', {
    schema: {
      tags: ['ingestion'],
      summary: 'Last seen, online state and message counters of a device (members: since it was bound to their site)',
      params: DeviceParams,
      response: { 200: DeviceStateSchema, ...errors(401, 404) },
    },
  }, async (request) => {
    const device = await getDevice(db, request.principal, request.params.id);
    return (await deviceStateViews(db, [device.id], await deviceDataScopes(db, request.principal, [device])))[0]!;
  });

  app.get('/api/v1/communities/:id/device-states', {
    schema: {
      tags: ['ingestion'],
      summary: 'The states of a community\'s devices in one answer: every device for managers and admins, their own for members',
      params: IdParams,
      response: { 200: Type.Array(DeviceStateSchema), ...errors(401, 404) },
    },
  }, async (request) => {
    // The device list decides who sees what, as for GET /communities/{id}/devices.
    const devices = await listDevices(db, request.principal, request.params.id);
    return deviceStateViews(db, devices.map((d) => d.id), await deviceDataScopes(db, request.principal, devices));
  });

  app.post('/api/v1/devices/:id/meter-exchanges', {
    schema: {
      tags: ['ingestion'],
      summary: 'Record that the meter behind a device was replaced: registers restart from here (managers)',
      params: DeviceParams,
      body: Type.Object({ ts: IsoDateTime, note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
      response: { 201: Type.Object({ deviceId: Type.String(), ts: IsoDateTime }), ...errors(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const device = await getDevice(db, request.principal, request.params.id);
    const manager = requireManager(request.principal, device.communityId, 'device');
    const ts = new Date(request.body.ts);
    await recordMeterExchange(db, { deviceId: device.id, ts, communityId: device.communityId, note: request.body.note ?? '', recordedBy: manager.userId });
    options.writer.exchangeRecorded(device.id);
    return reply.status(201).send({ deviceId: device.id, ts: ts.toISOString() });
  });

  app.get('/api/v1/communities/:id/device-events', {
    schema: {
      tags: ['ingestion'],
      summary: 'Connection events of the community\'s devices, newest first (managers): session takeovers (possible cloned device), refused reconnect storms',
      params: IdParams,
      querystring: Type.Object({
        deviceId: Type.Optional(DeviceParams.properties.id),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
      }, { additionalProperties: false }),
      response: {
        200: Type.Array(Type.Object({
          id: Type.Integer(),
          deviceId: Type.String(),
          kind: Type.Enum(['session-takeover', 'reconnects-limited']),
          address: Type.Union([Type.String(), Type.Null()], { description: 'host:port of the connection that came' }),
          previousAddress: Type.Union([Type.String(), Type.Null()], { description: 'takeover: host:port of the connection it replaced' }),
          at: IsoDateTime,
        })),
        ...errors(400, 401, 403, 404),
      },
    },
  }, async (request) => listDeviceEvents(db, request.principal, request.params.id, request.query));

  const RangeQuery = Type.Object({ from: IsoDateTime, to: IsoDateTime, quantity: Type.Optional(Type.String()) }, { additionalProperties: false });
  const ReadingRows = Type.Array(Type.Object({ deviceId: Type.String(), ts: IsoDateTime, quantity: Type.String(), value: Type.Number() }));

  app.get('/api/v1/devices/:id/readings', {
    schema: {
      tags: ['ingestion'],
      summary: 'Raw readings a device sent in a time range (at most 10,000 rows; members: only while it was bound to their sites)',
      params: DeviceParams,
      querystring: RangeQuery,
      response: { 200: ReadingRows, ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const device = await getDevice(db, request.principal, request.params.id);
    return readingsIn(db, { deviceId: device.id }, request.query, await deviceDataScope(db, request.principal, device));
  });

  app.get('/api/v1/metering-points/:id/readings', {
    schema: {
      tags: ['ingestion'],
      summary: 'Raw readings of a metering point\'s devices in a time range (at most 10,000 rows)',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      querystring: RangeQuery,
      response: { 200: ReadingRows, ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const point = await getMeteringPoint(db, request.principal, request.params.id);
    // Readings belong to the site the device measured when they were taken (see the writer).
    return readingsIn(db, { meteringPointId: point.id }, request.query, { kind: 'all' });
  });
}
