import { Type, type TSchema } from 'typebox';
import { Decimal, IsoDateTime, Uuid } from '../platform/http/api.js';
import { ALLOCATION_RULES } from './allocation-rules.js';
import { DEVICE_KINDS } from './devices.js';
import { ALLOCATION_MODES } from './communities.js';

import { DEVICE_ROLES } from '../kernel/energy.js';
const literals = <const T extends string[]>(values: readonly [...T]) => Type.Enum(values);
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Name = Type.String({ minLength: 1, maxLength: 120 });
const Location = Type.Object(
  { latitude: Type.Number({ minimum: -90, maximum: 90 }), longitude: Type.Number({ minimum: -180, maximum: 180 }) },
  { additionalProperties: false },
);

const communityFields = {
  name: Name,
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Vienna' }),
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' }),
  locale: Type.Optional(Type.String({ pattern: '^[a-z]{2}(-[A-Z]{2})?$' })),
  location: Type.Optional(nullable(Location)),
  postcode: Type.Optional(nullable(Type.String({ maxLength: 16 }))),
  gridArea: Type.Optional(nullable(Type.String({ maxLength: 64 }))),
  country: Type.Optional(nullable(Type.String({ pattern: '^[A-Z]{2}$' }))),
  allocationRule: Type.Optional(literals(ALLOCATION_RULES)),
  allocationMode: Type.Optional(literals(ALLOCATION_MODES)),
  isPublic: Type.Optional(Type.Boolean()),
};

export const CommunityCreate = Type.Object(communityFields, { additionalProperties: false });
export const CommunityPatch = Type.Partial(Type.Object(communityFields), { additionalProperties: false });

export const Community = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Type.String(),
  timeZone: Type.String(),
  currency: Type.String(),
  locale: Type.String(),
  location: nullable(Type.Object({ latitude: Type.Number(), longitude: Type.Number() })),
  postcode: nullable(Type.String()),
  gridArea: nullable(Type.String()),
  country: nullable(Type.String()),
  allocationRule: Type.String(),
  allocationMode: literals(ALLOCATION_MODES),
  isPublic: Type.Boolean(),
  createdAt: IsoDateTime,
});

export const MemberState = literals(['requested', 'active', 'rejected', 'left'] as const);
export const MemberRole = literals(['member', 'manager'] as const);

export const Member = Type.Object({
  id: Uuid,
  communityId: Uuid,
  userId: Uuid,
  email: Type.String(),
  displayName: Type.String(),
  role: MemberRole,
  state: MemberState,
  joinMessage: Type.String(),
  requestedAt: IsoDateTime,
  decidedAt: nullable(IsoDateTime),
  activeFrom: nullable(IsoDateTime),
  leftAt: nullable(IsoDateTime),
});

export const JoinRequest = Type.Object(
  { displayName: Type.Optional(Name), message: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);

export const InvitationCreate = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254 }), role: Type.Optional(MemberRole) },
  { additionalProperties: false },
);

export const InvitationState = literals(['pending', 'accepted', 'declined', 'revoked'] as const);

export const Invitation = Type.Object({
  id: Uuid,
  communityId: Uuid,
  email: Type.String(),
  role: MemberRole,
  state: InvitationState,
  createdAt: IsoDateTime,
  decidedAt: nullable(IsoDateTime),
}, { description: 'An invitation as its community\'s managers see it: the address, never whose it is' });

export const ReceivedInvitation = Type.Object({
  id: Uuid,
  community: Type.Object({ id: Uuid, name: Type.String(), description: Type.String() }),
  role: MemberRole,
  createdAt: IsoDateTime,
});

export const MemberPatch = Type.Object(
  {
    displayName: Type.Optional(Name),
    role: Type.Optional(MemberRole),
    activeFrom: Type.Optional({ ...IsoDateTime, description: 'managers: the member takes part in the sharing from this UTC quarter hour (e.g. when the grid operator activated the metering point)' }),
  },
  { additionalProperties: false },
);

const MeteringPointRole = literals(['consumer', 'producer', 'prosumer'] as const);
const GRID_CONNECTION_ID_PATTERN = '^[A-Z0-9]{6,40}$';
const meteringPointFields = {
  name: Name,
  address: Type.Optional(Type.String({ maxLength: 300 })),
  gridConnectionId: Type.String({
    pattern: GRID_CONNECTION_ID_PATTERN,
    description: 'grid connection id as the operator writes it: an 18-digit EAN or a 33-character Austrian Zählpunkt (a prosumer\'s: the consumption Zählpunkt)',
  }),
  generationGridConnectionId: Type.Optional(nullable(Type.String({
    pattern: GRID_CONNECTION_ID_PATTERN,
    description: 'producers and prosumers: the point\'s second id for what it feeds in, where the operator keeps one (Austria: the generation Zählpunkt on the same meter); '
      + 'unique in the community together with gridConnectionId; null removes it',
  }))),
  role: MeteringPointRole,
  pvCapacityW: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 100_000_000 }))),
  batteryCapacityWh: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 1_000_000_000 }))),
  communityBattery: Type.Optional(Type.Boolean({ description: 'the community\'s own battery (its stored grid energy is never passed on as community energy); managers only' })),
  connectionCapacityW: Type.Optional(nullable(Type.Integer({
    minimum: 1, maximum: 100_000_000,
    description: 'managers: what the grid connection carries at most, in W (e.g. 3 × 63 A at 230 V = 43470); a quarter hour above it is quarantined as implausible. '
      + 'null: the role\'s default (consumer and prosumer 43470, producer 250000), never below pvCapacityW',
  }))),
};

export const MeteringPointCreate = Type.Object(
  { memberId: Type.Optional(Uuid), ...meteringPointFields },
  { additionalProperties: false },
);
export const MeteringPointPatch = Type.Partial(Type.Object(meteringPointFields), { additionalProperties: false });
export const MeteringPoint = Type.Object({
  id: Uuid,
  communityId: Uuid,
  memberId: Uuid,
  name: Type.String(),
  address: Type.String(),
  gridConnectionId: Type.String(),
  generationGridConnectionId: nullable(Type.String()),
  role: MeteringPointRole,
  pvCapacityW: nullable(Type.Integer()),
  batteryCapacityWh: nullable(Type.Integer()),
  communityBattery: Type.Boolean(),
  connectionCapacityW: nullable(Type.Integer()),
  effectiveConnectionCapacityW: Type.Integer({ description: 'the limit the plausibility check uses, in W' }),
  createdAt: IsoDateTime,
});

const DeviceKind = literals(DEVICE_KINDS);
const DeviceStatus = literals(['active', 'disabled'] as const);
export const DeviceRole = Type.Enum(DEVICE_ROLES, {
  description: 'what the device measures on its site: billing-meter (the site\'s import and export; one per site), production (PV), '
    + 'storage (battery charge and discharge), sub-load (recorded, feeds neither). Default by kind: meter-reader billing-meter, inverter production, battery storage, others sub-load',
});
export const DeviceCreate = Type.Object(
  { kind: DeviceKind, name: Name, meteringPointId: Type.Optional(nullable(Uuid)), role: Type.Optional(DeviceRole) },
  { additionalProperties: false },
);
export const DevicePatch = Type.Object(
  { name: Type.Optional(Name), meteringPointId: Type.Optional(nullable(Uuid)), status: Type.Optional(DeviceStatus), role: Type.Optional(DeviceRole) },
  { additionalProperties: false },
);
export const Device = Type.Object({
  id: Type.String(),
  communityId: Uuid,
  meteringPointId: nullable(Uuid),
  kind: DeviceKind,
  role: nullable(DeviceRole),
  name: Type.String(),
  status: DeviceStatus,
  createdAt: IsoDateTime,
});

const Clock = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' });
const TimeOfUseWindow = Type.Object(
  { days: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7 }), from: Clock, to: Clock, gridPrice: Decimal },
  { additionalProperties: false },
);
const tariffFields = {
  name: Name,
  gridPrice: Decimal,
  communityPrice: Decimal,
  feedInPrice: Decimal,
  gridFeeReduction: Type.Optional(Decimal),
  timeOfUse: Type.Optional(nullable(Type.Array(TimeOfUseWindow, { maxItems: 48 }))),
  validFrom: Type.String({ format: 'date' }),
};
export const TariffCreate = Type.Object(tariffFields, { additionalProperties: false });
export const TariffPatch = Type.Partial(Type.Object(tariffFields), { additionalProperties: false });
export const Tariff = Type.Object({
  id: Uuid,
  communityId: Uuid,
  name: Type.String(),
  gridPrice: Type.String(),
  communityPrice: Type.String(),
  feedInPrice: Type.String(),
  gridFeeReduction: Type.String(),
  timeOfUse: nullable(Type.Array(TimeOfUseWindow)),
  validFrom: Type.String(),
  createdAt: IsoDateTime,
});
