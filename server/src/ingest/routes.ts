import type { Db } from '../platform/store/db.js';
import { type Api } from '../platform/http/api.js';
import { getDevice, listDevices } from '../registry/index.js';
import { getMeteringPoint } from '../registry/index.js';
import { requireManager } from '../accounts/index.js';
import { deviceDataScope, deviceDataScopes } from '../registry/index.js';
import type { DeviceDataScope, TimeWindow } from '../registry/index.js';
import { BadRequestError } from '../kernel/errors.js';
import { isQuantity } from '../kernel/quantities.js';
import { MESSAGE_LIMITS } from '../readings/index.js';
import { ingestRoutes as contract } from '@gridshare/contract/ingest';
import type { AuthenticatedDevice, IngestOutcome, IngestService } from './service.js';
import type { ReadingWriter } from './writer.js';
import { listDeviceEvents } from './device-events.js';

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
    return (await deviceStates(db, [device.id], await deviceDataScopes(db, request.principal, [device])))[0]!;
  });

  app.get(contract.deviceStates.path, { schema: contract.deviceStates.schema }, async (request) => {
    // The device list decides who sees what, as for GET /communities/{id}/devices.
    const devices = await listDevices(db, request.principal, request.params.id);
    return deviceStates(db, devices.map((d) => d.id), await deviceDataScopes(db, request.principal, devices));
  });

  app.post(contract.recordMeterExchange.path, { schema: contract.recordMeterExchange.schema }, async (request, reply) => {
    const device = await getDevice(db, request.principal, request.params.id);
    const manager = requireManager(request.principal, device.communityId, 'device');
    const ts = new Date(request.body.ts);
    await db.query(
      `INSERT INTO meter_exchanges (device_id, ts, community_id, note, recorded_by) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [device.id, ts, device.communityId, request.body.note ?? '', manager.userId],
    );
    options.writer.exchangeRecorded(device.id);
    return reply.status(201).send({ deviceId: device.id, ts: ts.toISOString() });
  });

  app.get(contract.deviceEvents.path, { schema: contract.deviceEvents.schema }, async (request) => listDeviceEvents(db, request.principal, request.params.id, request.query));

  app.get(contract.deviceReadings.path, { schema: contract.deviceReadings.schema }, async (request) => {
    const device = await getDevice(db, request.principal, request.params.id);
    return readingsIn(db, 'device_id', device.id, request.query, await deviceDataScope(db, request.principal, device));
  });

  app.get(contract.meteringPointReadings.path, { schema: contract.meteringPointReadings.schema }, async (request) => {
    const point = await getMeteringPoint(db, request.principal, request.params.id);
    // Readings belong to the site the device measured when they were taken (see the writer).
    return readingsIn(db, 'metering_point_id', point.id, request.query, { kind: 'all' });
  });
}

interface DeviceStateRow {
  device_id: string; last_seen_at: Date | null; messages_total: number; readings_total: number; duplicates_total: number;
  rejected_total: number; last_error: string | null; last_error_at: Date | null;
}

/**
 * A member sees a device's state only since it was bound to their site: counters from there on,
 * and when it was last seen or last failed only if that was since.
 */
function scopeState(row: DeviceStateRow | undefined, scope: DeviceDataScope): DeviceStateRow | undefined {
  if (!row || scope.kind === 'all') return row;
  if (!scope.current) return undefined;
  const { from, countersAtStart: start } = scope.current;
  const since = (at: Date | null) => (at && (from === null || at.getTime() >= from) ? at : null);
  const lastErrorAt = since(row.last_error_at);
  return {
    device_id: row.device_id,
    last_seen_at: since(row.last_seen_at),
    messages_total: Math.max(0, row.messages_total - start.messages),
    readings_total: Math.max(0, row.readings_total - start.readings),
    duplicates_total: Math.max(0, row.duplicates_total - start.duplicates),
    rejected_total: Math.max(0, row.rejected_total - start.rejected),
    last_error: lastErrorAt ? row.last_error : null,
    last_error_at: lastErrorAt,
  };
}

/** The states of `ids`, in that order, as the caller may see them; a device never heard from has zero counters. */
async function deviceStates(db: Db, ids: string[], scopes: ReadonlyMap<string, DeviceDataScope>) {
  const rows = await db.query<DeviceStateRow>('SELECT * FROM device_state WHERE device_id = ANY($1::text[])', [ids]);
  const byId = new Map(rows.map((r) => [r.device_id, r]));
  const now = Date.now();
  return ids.map((deviceId) => {
    const s = scopeState(byId.get(deviceId), scopes.get(deviceId) ?? { kind: 'member', windows: [], current: undefined });
    return {
      deviceId,
      online: !!s?.last_seen_at && now - s.last_seen_at.getTime() < ONLINE_WINDOW_MS,
      lastSeenAt: s?.last_seen_at?.toISOString() ?? null,
      messagesTotal: s?.messages_total ?? 0,
      readingsTotal: s?.readings_total ?? 0,
      duplicatesTotal: s?.duplicates_total ?? 0,
      rejectedTotal: s?.rejected_total ?? 0,
      lastError: s?.last_error ?? null,
      lastErrorAt: s?.last_error_at?.toISOString() ?? null,
    };
  });
}

const instant = (ms: number | null) => (ms === null ? null : new Date(ms));

async function readingsIn(
  db: Db,
  column: 'device_id' | 'metering_point_id',
  id: string,
  query: { from: string; to: string; quantity?: string | undefined },
  scope: DeviceDataScope,
) {
  const { from, to, quantity } = query;
  if (quantity !== undefined && !isQuantity(quantity)) throw new BadRequestError('querystring/quantity: unknown quantity', 'querystring/quantity');
  if (Date.parse(to) <= Date.parse(from)) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
  const windows: readonly TimeWindow[] = scope.kind === 'all' ? [{ from: null, until: null }] : scope.windows;
  if (windows.length === 0) return [];
  const rows = await db.query<{ device_id: string; ts: Date; quantity: string; value: number }>(
    `SELECT device_id, ts, quantity, value FROM readings
     WHERE ${column} = $1 AND ts >= $2 AND ts < $3 AND ($4::text IS NULL OR quantity = $4)
       AND EXISTS (SELECT 1 FROM unnest($5::timestamptz[], $6::timestamptz[]) AS w(f, u)
                   WHERE (w.f IS NULL OR ts >= w.f) AND (w.u IS NULL OR ts < w.u))
     ORDER BY ts, quantity LIMIT 10000`,
    [id, new Date(from), new Date(to), quantity ?? null, windows.map((w) => instant(w.from)), windows.map((w) => instant(w.until))],
  );
  return rows.map((r) => ({ deviceId: r.device_id, ts: r.ts.toISOString(), quantity: r.quantity, value: r.value }));
}

