import type { Db } from '../platform/store/db.js';
import type { Api } from '../platform/http/api.js';
import { getDevice, listDevices, getMeteringPoint, deviceDataScope, deviceDataScopes } from '../registry/index.js';
import { requireManager } from '../accounts/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { isQuantity } from '../kernel/quantities.js';
import { MESSAGE_LIMITS } from '../readings/index.js';
import { ingestRoutes as contract } from '@gridshare/contract/ingest';
import type { AuthenticatedDevice, IngestOutcome, IngestService } from './service.js';
import type { ReadingWriter } from './writer.js';
import { listDeviceEvents } from './device-events.js';
import { deviceStateViews, readingsIn } from './device-data.js';
import { agentHeartbeatsOf, recordMeterExchange } from './store.js';
import { memberUtilities } from './utilities.js';

/** Checks a device's `Authorization: SharedAccessSignature …` header for the device in the path. */
export type DeviceAuthenticator = (deviceId: string, authorization: string | undefined) => Promise<AuthenticatedDevice>;

/** A device that has not been heard from for this long is shown offline. */
export const ONLINE_WINDOW_MS = 5 * 60_000;

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

  app.post(contract.sendReadings.path, {
    schema: contract.sendReadings.schema,
    bodyLimit: MESSAGE_LIMITS.maxBytes,
  }, async (request) => {
    const device = await authenticateDevice(request.params.id, request.headers.authorization);
    return answer(await ingest.ingestJson(device, { parsed: request.body }));
  });

  app.post(contract.sendFrame.path, {
    schema: contract.sendFrame.schema,
    bodyLimit: MESSAGE_LIMITS.maxBytes,
  }, async (request) => {
    const device = await authenticateDevice(request.params.id, request.headers.authorization);
    if (!Buffer.isBuffer(request.body)) throw new BadRequestError('send the frame as application/octet-stream');
    return answer(await ingest.ingestFrame(device, request.params.format, request.body));
  });

  app.get(contract.deviceState.path, { schema: contract.deviceState.schema }, async (request) => {
    const device = await getDevice(db, request.principal, request.params.id);
    return (await deviceStateViews(db, [device.id], await deviceDataScopes(db, request.principal, [device])))[0]!;
  });

  app.get(contract.deviceStates.path, { schema: contract.deviceStates.schema }, async (request) => {
    // The device list decides who sees what, as for GET /communities/{id}/devices.
    const devices = await listDevices(db, request.principal, request.params.id);
    return deviceStateViews(db, devices.map((d) => d.id), await deviceDataScopes(db, request.principal, devices));
  });

  app.get(contract.agentHealth.path, { schema: contract.agentHealth.schema }, async (request) => {
    // The device list decides who sees what, as for the device states.
    const devices = await listDevices(db, request.principal, request.params.id);
    return (await agentHeartbeatsOf(db, devices.map((d) => d.id))).map((beat) => ({
      ...beat, receivedAt: beat.receivedAt.toISOString(), lastFrameAt: beat.lastFrameAt?.toISOString() ?? null,
    }));
  });

  app.post(contract.recordMeterExchange.path, { schema: contract.recordMeterExchange.schema }, async (request, reply) => {
    const device = await getDevice(db, request.principal, request.params.id);
    const manager = requireManager(request.principal, device.communityId, 'device');
    const ts = new Date(request.body.ts);
    await recordMeterExchange(db, { deviceId: device.id, ts, communityId: device.communityId, note: request.body.note ?? '', recordedBy: manager.userId });
    options.writer.exchangeRecorded(device.id);
    return reply.status(201).send({ deviceId: device.id, ts: ts.toISOString() });
  });

  app.get(contract.deviceEvents.path, { schema: contract.deviceEvents.schema }, async (request) => listDeviceEvents(db, request.principal, request.params.id, request.query));

  app.get(contract.deviceReadings.path, { schema: contract.deviceReadings.schema }, async (request) => {
    const device = await getDevice(db, request.principal, request.params.id);
    return readingsIn(db, { deviceId: device.id }, request.query, await deviceDataScope(db, request.principal, device));
  });

  app.get(contract.memberUtilities.path, { schema: contract.memberUtilities.schema }, async (request) => memberUtilities(db, request.principal, request.params.id, request.query));

  app.get(contract.meteringPointReadings.path, { schema: contract.meteringPointReadings.schema }, async (request) => {
    const point = await getMeteringPoint(db, request.principal, request.params.id);
    // Readings belong to the site the device measured when they were taken (see the writer).
    return readingsIn(db, { meteringPointId: point.id }, request.query, { kind: 'all' });
  });
}
