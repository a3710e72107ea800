/** Readings from devices, device states and connection events, meter exchanges (server/src/ingest). */
import { Type, type Static } from 'typebox';
import { defaulted, DeviceId, DeviceParams, errors, IdParams, IsoDateTime } from './common.js';
import { route } from './route.js';
import { Resolution } from './sharing.js';

const StoredResult = Type.Object({ stored: Type.Integer(), duplicates: Type.Integer() });

export const DeviceState = Type.Object({
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

/** Something a device's MQTT connections did that its managers should know. */
export const DeviceEvent = Type.Object({
  id: Type.Integer(),
  deviceId: Type.String(),
  kind: Type.Enum(['session-takeover', 'reconnects-limited']),
  address: Type.Union([Type.String(), Type.Null()], { description: 'host:port of the connection that came' }),
  previousAddress: Type.Union([Type.String(), Type.Null()], { description: 'takeover: host:port of the connection it replaced' }),
  at: IsoDateTime,
});

/** The last heartbeat of a device that runs `gridshare agent`: enough to tell a dead reader from a dead meter, a loose cable or a blocked uplink. */
export const AgentHealth = Type.Object({
  deviceId: Type.String(),
  receivedAt: IsoDateTime,
  version: Type.String(),
  uptimeSeconds: Type.Integer(),
  queueMessages: Type.Integer({ description: 'messages waiting in the agent\'s local queue' }),
  queueReadings: Type.Integer(),
  lastFrameAt: Type.Union([IsoDateTime, Type.Null()], { description: 'the last frame the meter sent on the serial line' }),
  framesPerMinute: Type.Integer(),
  checksumErrors: Type.Integer({ description: 'frames refused for a bad CRC or tag since the agent started' }),
  transport: Type.Enum(['mqtt', 'http', 'offline']),
  controlMode: Type.Union([Type.Enum(['following', 'safe']), Type.Null()], { description: 'safe: the agent lost the platform and put its local devices into their safe state' }),
});

const RangeQuery = Type.Object({ from: IsoDateTime, to: IsoDateTime, quantity: Type.Optional(Type.String()) }, { additionalProperties: false });
export const StoredReading = Type.Object({ deviceId: Type.String(), ts: IsoDateTime, quantity: Type.String(), value: Type.Number() });

/** Gas, water and heat per bucket: volumes in whole litres, heat in whole Wh; null where no readings bracket the bucket. */
export const UtilityUsage = Type.Object({
  quantity: Type.Enum(['gas.volume', 'water.volume', 'heat.energy']),
  unit: Type.Enum(['L', 'Wh']),
  total: Type.Integer({ description: 'the sum of the known buckets' }),
  buckets: Type.Array(Type.Object({
    start: IsoDateTime,
    end: IsoDateTime,
    amount: Type.Union([Type.Integer(), Type.Null()]),
    complete: Type.Boolean({ description: 'every meter of the quantity has readings on both sides of the whole bucket' }),
  })),
});
export const MemberUtilities = Type.Object({
  memberId: Type.String(),
  timeZone: Type.String(),
  resolution: Resolution,
  utilities: Type.Array(UtilityUsage, { description: 'only the quantities the member\'s meters report' }),
});

export type DeviceState = Static<typeof DeviceState>;
export type UtilityUsage = Static<typeof UtilityUsage>;
export type MemberUtilities = Static<typeof MemberUtilities>;
export type DeviceEvent = Static<typeof DeviceEvent>;
export type AgentHealth = Static<typeof AgentHealth>;
export type StoredReading = Static<typeof StoredReading>;

export const ingestRoutes = {
  sendReadings: route('POST', '/api/v1/devices/:id/readings', {
    tags: ['ingestion'],
    summary: 'Send readings as a device (Authorization: SharedAccessSignature …); 200 only once stored durably',
    security: [{ sas: [] }],
    params: DeviceParams,
    // Validated by the same code as MQTT messages, so both paths give the same answers.
    body: Type.Unknown({ description: 'ReadingsMessage: {"readings": [{ts, quantity, value, unit}, …]}' }),
    response: { 200: StoredResult, ...errors(400, 401) },
  }),
  sendFrame: route('POST', '/api/v1/devices/:id/frames/:format', {
    tags: ['ingestion'],
    summary: 'Send one raw meter frame (application/octet-stream) as a device; decoded with the device\'s meter keys',
    security: [{ sas: [] }],
    params: Type.Object({ id: DeviceId, format: Type.String({ pattern: '^[a-z0-9-]{1,20}$' }) }),
    response: { 200: StoredResult, ...errors(400, 401, 415) },
  }),
  deviceState: route('GET', '/api/v1/devices/:id/state', {
    tags: ['ingestion'],
    summary: 'Last seen, online state and message counters of a device (members: since it was bound to their site)',
    params: DeviceParams,
    response: { 200: DeviceState, ...errors(401, 404) },
  }),
  deviceStates: route('GET', '/api/v1/communities/:id/device-states', {
    tags: ['ingestion'],
    summary: 'The states of a community\'s devices in one answer: every device for managers and admins, their own for members',
    params: IdParams,
    response: { 200: Type.Array(DeviceState), ...errors(401, 404) },
  }),
  agentHealth: route('GET', '/api/v1/communities/:id/agent-health', {
    tags: ['ingestion'],
    summary: 'The last heartbeat of each of the community\'s devices that runs gridshare agent: every device for managers and admins, their own for members',
    params: IdParams,
    response: { 200: Type.Array(AgentHealth), ...errors(401, 404) },
  }),
  recordMeterExchange: route('POST', '/api/v1/devices/:id/meter-exchanges', {
    tags: ['ingestion'],
    summary: 'Record that the meter behind a device was replaced: registers restart from here (managers)',
    params: DeviceParams,
    body: Type.Object({ ts: IsoDateTime, note: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
    response: { 201: Type.Object({ deviceId: Type.String(), ts: IsoDateTime }), ...errors(400, 401, 403, 404, 409) },
  }),
  deviceEvents: route('GET', '/api/v1/communities/:id/device-events', {
    tags: ['ingestion'],
    summary: 'Connection events of the community\'s devices, newest first (managers): session takeovers (possible cloned device), refused reconnect storms',
    params: IdParams,
    querystring: Type.Object({
      deviceId: Type.Optional(DeviceId),
      limit: defaulted(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
    }, { additionalProperties: false }),
    response: {
      200: Type.Array(DeviceEvent),
      ...errors(400, 401, 403, 404),
    },
  }),
  deviceReadings: route('GET', '/api/v1/devices/:id/readings', {
    tags: ['ingestion'],
    summary: 'Raw readings a device sent in a time range (at most 10,000 rows; members: only while it was bound to their sites)',
    params: DeviceParams,
    querystring: RangeQuery,
    response: { 200: Type.Array(StoredReading), ...errors(400, 401, 404) },
  }),
  memberUtilities: route('GET', '/api/v1/members/:id/utilities', {
    tags: ['ingestion'],
    summary: 'Gas, water and heat a member\'s sites used per 15 minutes, hour, local day or local month, from their meters\' registers interpolated at the bucket boundaries (whole litres, whole Wh; the buckets add up exactly)',
    params: IdParams,
    querystring: Type.Object({ from: IsoDateTime, to: IsoDateTime, resolution: Resolution }, { additionalProperties: false }),
    response: { 200: MemberUtilities, ...errors(400, 401, 404) },
  }),
  meteringPointReadings: route('GET', '/api/v1/metering-points/:id/readings', {
    tags: ['ingestion'],
    summary: 'Raw readings of a metering point\'s devices in a time range (at most 10,000 rows)',
    params: IdParams,
    querystring: RangeQuery,
    response: { 200: Type.Array(StoredReading), ...errors(400, 401, 404) },
  }),
};
