/** Commands to controllable devices and their delivery, for devices (poll, acknowledge) and people (server/src/control). */
import { Type, type Static } from 'typebox';
import { defaulted, DeviceId, DeviceParams, errors, IdParams, IsoDateTime, nullable, Uuid } from './common.js';
import { route } from './route.js';

export const COMMAND_KINDS = ['battery-power', 'ev-charge-power', 'heat-pump-power', 'heat-pump-block', 'appliance-start', 'pv-limit'] as const;
export const COMMAND_STATES = ['queued', 'sent', 'acknowledged', 'rejected', 'expired', 'superseded'] as const;
export const CommandKind = Type.Enum(COMMAND_KINDS, {
  description: 'battery-power W (+ charge, − discharge), ev-charge-power W, heat-pump-power W at most, pv-limit W of feed-in at most; heat-pump-block and appliance-start take null (the appliance starts at validFrom)',
});
export const CommandState = Type.Enum(COMMAND_STATES);

/** What a device is given, over MQTT (`devices/{id}/commands`, QoS 1) and HTTP polling alike. */
export const DeviceCommand = Type.Object({
  id: Uuid,
  kind: CommandKind,
  value: nullable(Type.Integer()),
  validFrom: IsoDateTime,
  expiresAt: Type.String({ format: 'date-time', description: 'never apply it from then on' }),
  issuedAt: Type.String({ format: 'date-time', description: 'a command of the same kind issued later replaces this one; never apply an older one after a newer one' }),
});

/** A command as its member and the community's managers see it, with its delivery. */
export const CommandView = Type.Object({
  id: Uuid,
  communityId: Uuid,
  deviceId: Type.String(),
  kind: CommandKind,
  value: nullable(Type.Integer()),
  validFrom: IsoDateTime,
  expiresAt: IsoDateTime,
  issuedAt: IsoDateTime,
  source: Type.Enum(['plan', 'manual']),
  planId: nullable(Type.String()),
  state: CommandState,
  attempts: Type.Integer({ description: 'deliveries so far (MQTT publishes and HTTP polls)' }),
  createdAt: IsoDateTime,
  sentAt: nullable(IsoDateTime),
  closedAt: nullable(IsoDateTime),
  reason: nullable(Type.String({ description: 'why the device rejected it' })),
  supersededBy: nullable(Uuid),
});

export const CommandPage = Type.Object({ items: Type.Array(CommandView), total: Type.Integer() });

const ManualCommand = Type.Object({
  kind: CommandKind,
  value: defaulted(Type.Union([Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 }), Type.Null()], { default: null, description: 'W; null for heat-pump-block and appliance-start' })),
  validFrom: Type.Optional(IsoDateTime),
  durationMinutes: defaulted(Type.Integer({ minimum: 1, maximum: 24 * 60, default: 60, description: 'how long it stays valid from validFrom (default now)' })),
}, { additionalProperties: false });

const AckAnswer = Type.Object({
  commandId: nullable(Uuid),
  state: nullable(CommandState),
  override: Type.Boolean({ description: 'an override was reported' }),
});

export type CommandKind = Static<typeof CommandKind>;
export type CommandState = Static<typeof CommandState>;
export type DeviceCommand = Static<typeof DeviceCommand>;
export type CommandView = Static<typeof CommandView>;
export type CommandPage = Static<typeof CommandPage>;

export const controlRoutes = {
  pollCommands: route('GET', '/api/v1/devices/:id/commands', {
    tags: ['control'],
    summary: 'A device\'s commands that are still valid, oldest first (Authorization: SharedAccessSignature …): for devices that poll instead of holding an MQTT connection',
    security: [{ sas: [] }],
    params: DeviceParams,
    response: { 200: Type.Object({ commands: Type.Array(DeviceCommand) }), ...errors(401) },
  }),
  acknowledgeCommand: route('POST', '/api/v1/devices/:id/commands/ack', {
    tags: ['control'],
    summary: 'Answer a command as the device: {"commandId", "result": "acknowledged" | "rejected", "reason"?, "override"?: {"until": ISO | null}}; repeating an answer changes nothing',
    security: [{ sas: [] }],
    params: DeviceParams,
    // Validated by the same code as MQTT acknowledgements, so both paths give the same answers.
    body: Type.Unknown({ description: 'the acknowledgement, as on devices/{id}/commands/ack' }),
    response: { 200: AckAnswer, ...errors(400, 401, 403, 404) },
  }),
  communityCommands: route('GET', '/api/v1/communities/:id/commands', {
    tags: ['control'],
    summary: 'Commands to the community\'s devices with their delivery states, newest first: every device\'s for managers, their own devices\' for members',
    params: IdParams,
    querystring: Type.Object({
      state: Type.Optional(CommandState),
      deviceId: Type.Optional(DeviceId),
      limit: defaulted(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
      offset: defaulted(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
    }, { additionalProperties: false }),
    response: { 200: CommandPage, ...errors(400, 401, 404) },
  }),
  issueCommand: route('POST', '/api/v1/devices/:id/manual-commands', {
    tags: ['control'],
    summary: 'Send a device a command now (its member or the community\'s managers), e.g. start the washing machine; it replaces the plan\'s command of the same kind, and the next plan respects it',
    params: DeviceParams,
    body: ManualCommand,
    response: { 201: CommandView, ...errors(400, 401, 404) },
  }),
};
