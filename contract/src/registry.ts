/** Communities, members, invitations, sites (metering points), devices and tariffs (server/src/registry). */
import { Type, type Static } from 'typebox';
import { Decimal, errors, IdParams, IsoDateTime, literals, NoContent, nullable, Uuid, DeviceParams } from './common.js';
import { route } from './route.js';

/**
 * The allocation rules a community can choose (see sharing/). Country presets map onto the
 * generic rules with their parameters.
 */
export const ALLOCATION_RULES = [
  'static',
  'dynamic',
  'static-redistributed',
  'at-eeg-static',
  'at-eeg-dynamic',
  'fr-acc-default',
  'fr-acc-static',
  'fr-acc-dynamic-simple',
  'es-coefficients',
  'it-cer',
] as const;
export type AllocationRuleName = (typeof ALLOCATION_RULES)[number];

/** `compute`: Gridshare splits by the allocation rule; `operator`: the grid operator's figures are imported (sharing/). */
export const ALLOCATION_MODES = ['compute', 'operator'] as const;
export type AllocationMode = (typeof ALLOCATION_MODES)[number];

export const DEVICE_KINDS = ['meter-reader', 'inverter', 'battery', 'ev-charger', 'smart-plug', 'heat-pump'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/**
 * What a device measures on the site it is bound to: the billing meter gives the site's import
 * and export (one per site); production (a PV inverter) its PV; storage (a battery) its charge and
 * discharge; a sub-load (a sub-meter, an EV charger, a heat pump) is recorded and feeds neither.
 */
export const DEVICE_ROLES = ['billing-meter', 'production', 'storage', 'sub-load'] as const;
export type DeviceRole = (typeof DEVICE_ROLES)[number];

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
  connectionImportLimitW: Type.Optional(nullable(Type.Integer({
    minimum: 1, maximum: 1_000_000_000,
    description: 'what all sites together may import from the public grid, in W (a shared transformer, a contracted capacity); null: no limit. Community plans keep it (optimise)',
  }))),
  connectionExportLimitW: Type.Optional(nullable(Type.Integer({
    minimum: 0, maximum: 1_000_000_000, description: 'what all sites together may feed into the public grid, in W; null: no limit',
  }))),
  deviceOfflineMinutes: Type.Optional(nullable(Type.Integer({
    minimum: 1, maximum: 43_200,
    description: 'a device that sent nothing for this many minutes is offline: its member is told (in the app and by email), once per outage; null: no one is told',
  }))),
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
  connectionImportLimitW: nullable(Type.Integer()),
  connectionExportLimitW: nullable(Type.Integer()),
  deviceOfflineMinutes: nullable(Type.Integer()),
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
  exportLimitW: Type.Optional(nullable(Type.Integer({
    minimum: 0, maximum: 100_000_000,
    description: 'managers: what the connection may feed in, in W (a grid operator\'s feed-in cap; 0: no export), at most its capacity; '
      + 'null: its capacity. Community plans keep it (optimise)',
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
  exportLimitW: nullable(Type.Integer()),
  createdAt: IsoDateTime,
});

export const DeviceKind = literals(DEVICE_KINDS);
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
const WholeW = (max: number, description: string) => Type.Optional(Type.Integer({ minimum: 1, maximum: max, description }));
export const DeviceSpecs = Type.Object(
  {
    capacityWh: WholeW(100_000_000, 'battery: usable capacity, Wh'),
    maxChargeW: WholeW(10_000_000, 'battery: most charging power, W'),
    maxDischargeW: WholeW(10_000_000, 'battery: most discharging power, W'),
    roundTripEfficiency: Type.Optional(Type.Number({ minimum: 0.5, maximum: 1, description: 'battery: energy out / energy in' })),
    maxPowerW: WholeW(1_000_000, 'EV charger: most charging power, W'),
    minPowerW: WholeW(1_000_000, 'EV charger: least charging power when it charges, W (default: 6 A on each phase)'),
    phases: Type.Optional(Type.Integer({ minimum: 1, maximum: 3, description: 'EV charger: 1 or 3' })),
    cop: Type.Optional(Type.Number({ minimum: 1, maximum: 10, description: 'heat pump: heat out per electricity in' })),
    maxElectricW: WholeW(1_000_000, 'heat pump: most electric power, W'),
    tankLitres: WholeW(100_000, 'heat pump: its hot water tank, litres'),
    tankLossWPerK: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, description: 'heat pump: the tank\'s losses, W per K above the room' })),
    runProfileW: Type.Optional(Type.Array(Type.Integer({ minimum: 0, maximum: 100_000 }), {
      minItems: 1, maxItems: 96, description: 'appliance on a smart plug: the power of one run, W per quarter hour',
    })),
  },
  { additionalProperties: false, description: 'technical data by kind (battery, ev-charger, heat-pump, smart-plug); a field of another kind is a 400' },
);
/** IEC 61851: a charger cannot go below 6 A per phase (230 V). */
export const MIN_CHARGE_W_PER_PHASE = 6 * 230;
/** An EV charger's least power: as recorded, else 6 A on each of its phases; undefined when neither is known. */
export const chargerMinPowerW = (specs: { minPowerW?: number | undefined; phases?: number | undefined }): number | undefined =>
  specs.minPowerW ?? (specs.phases === undefined ? undefined : specs.phases * MIN_CHARGE_W_PER_PHASE);

export const DeviceSpecsBody = Type.Object({ specs: nullable(DeviceSpecs) }, { additionalProperties: false });

export const Device = Type.Object({
  id: Type.String(),
  communityId: Uuid,
  meteringPointId: nullable(Uuid),
  kind: DeviceKind,
  role: nullable(DeviceRole),
  name: Type.String(),
  status: DeviceStatus,
  specs: nullable(DeviceSpecs),
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

export type Community = Static<typeof Community>;
export type CommunityCreate = Static<typeof CommunityCreate>;
export type MemberState = Static<typeof MemberState>;
export type MemberRole = Static<typeof MemberRole>;
export type Member = Static<typeof Member>;
export type InvitationState = Static<typeof InvitationState>;
export type Invitation = Static<typeof Invitation>;
export type ReceivedInvitation = Static<typeof ReceivedInvitation>;
export type MeteringPoint = Static<typeof MeteringPoint>;
export type Device = Static<typeof Device>;
export type DeviceSpecs = Static<typeof DeviceSpecs>;
export type TimeOfUseWindow = Static<typeof TimeOfUseWindow>;
export type Tariff = Static<typeof Tariff>;

const decideJoinRequest = (decision: 'approve' | 'reject') => route('POST', `/api/v1/members/:id/${decision}`, {
  tags: ['members'], summary: `${decision === 'approve' ? 'Approve' : 'Reject'} a join request (managers)`, params: IdParams, response: { 200: Member, ...errors(401, 403, 404, 409) },
});

export const registryRoutes = {
  // Communities (listing and search live in discovery)
  createCommunity: route('POST', '/api/v1/communities', {
    tags: ['communities'],
    summary: 'Create a community; the creator becomes its manager (within the quota communitiesPerUser)',
    body: CommunityCreate,
    response: { 201: Community, ...errors(400, 401, 403) },
  }),
  getCommunity: route('GET', '/api/v1/communities/:id', {
    tags: ['communities'], summary: 'One community (public ones for everyone)', params: IdParams, response: { 200: Community, ...errors(404) },
  }),
  updateCommunity: route('PATCH', '/api/v1/communities/:id', {
    tags: ['communities'], summary: 'Change settings (managers)', params: IdParams, body: CommunityPatch, response: { 200: Community, ...errors(400, 401, 403, 404) },
  }),
  deleteCommunity: route('DELETE', '/api/v1/communities/:id', {
    tags: ['communities'], summary: 'Delete a community and all its records (platform admins)', params: IdParams, response: { ...NoContent, ...errors(401, 403, 404) },
  }),

  // Members and joining
  listMembers: route('GET', '/api/v1/communities/:id/members', {
    tags: ['members'],
    summary: 'Members (managers: all; members: only their own record)',
    params: IdParams,
    querystring: Type.Object({ state: Type.Optional(MemberState) }, { additionalProperties: false }),
    response: { 200: Type.Array(Member), ...errors(401, 404) },
  }),
  // Invitations: a person joins only by accepting; the manager never learns whether an address has an account.
  createInvitation: route('POST', '/api/v1/communities/:id/invitations', {
    tags: ['members'],
    summary: 'Invite a person by email (managers); the same answer whether or not the address has an account. Inviting an address '
      + 'with an open invitation emails it again: at most 3 emails of one invitation and 20 re-sent invitations of a community an hour (429)',
    params: IdParams,
    body: InvitationCreate,
    response: { 201: Invitation, ...errors(400, 401, 403, 404, 409, 429) },
  }),
  listInvitations: route('GET', '/api/v1/communities/:id/invitations', {
    tags: ['members'],
    summary: 'Invitations of a community (managers)',
    params: IdParams,
    querystring: Type.Object({ state: Type.Optional(InvitationState) }, { additionalProperties: false }),
    response: { 200: Type.Array(Invitation), ...errors(401, 403, 404) },
  }),
  revokeInvitation: route('DELETE', '/api/v1/invitations/:id', {
    tags: ['members'], summary: 'Revoke an open invitation (managers)', params: IdParams, response: { ...NoContent, ...errors(401, 403, 404, 409) },
  }),
  receivedInvitations: route('GET', '/api/v1/me/invitations', {
    tags: ['members'], summary: 'Open invitations to the logged-in user\'s email, also those made before they signed up', response: { 200: Type.Array(ReceivedInvitation), ...errors(401) },
  }),
  acceptInvitation: route('POST', '/api/v1/invitations/:id/accept', {
    tags: ['members'], summary: 'Accept an invitation to you: you become an active member (403 while your email address is not verified)',
    params: IdParams, response: { 200: Member, ...errors(401, 403, 404) },
  }),
  declineInvitation: route('POST', '/api/v1/invitations/:id/decline', {
    tags: ['members'], summary: 'Decline an invitation to you', params: IdParams, response: { ...NoContent, ...errors(401, 404) },
  }),
  requestToJoin: route('POST', '/api/v1/communities/:id/join-requests', {
    tags: ['members'], summary: 'Ask to join a public community', params: IdParams, body: JoinRequest, response: { 201: Member, ...errors(400, 401, 404, 409) },
  }),
  getMember: route('GET', '/api/v1/members/:id', {
    tags: ['members'], summary: 'One member record', params: IdParams, response: { 200: Member, ...errors(401, 404) },
  }),
  updateMember: route('PATCH', '/api/v1/members/:id', {
    tags: ['members'], summary: 'Change display name (self), role or the start of the member\'s part in the sharing (managers)', params: IdParams, body: MemberPatch, response: { 200: Member, ...errors(400, 401, 403, 404, 409) },
  }),
  approveMember: decideJoinRequest('approve'),
  rejectMember: decideJoinRequest('reject'),
  leaveCommunity: route('POST', '/api/v1/members/:id/leave', {
    tags: ['members'], summary: 'Leave the community (self) or remove a member (managers)', params: IdParams, response: { 200: Member, ...errors(401, 404, 409) },
  }),

  // Metering points
  listMeteringPoints: route('GET', '/api/v1/communities/:id/metering-points', {
    tags: ['metering points'], summary: 'Sites (managers: all; members: their own)', params: IdParams, response: { 200: Type.Array(MeteringPoint), ...errors(401, 404) },
  }),
  createMeteringPoint: route('POST', '/api/v1/communities/:id/metering-points', {
    tags: ['metering points'], summary: 'Register a site (own, or any member\'s for managers)', params: IdParams, body: MeteringPointCreate, response: { 201: MeteringPoint, ...errors(400, 401, 404, 409) },
  }),
  getMeteringPoint: route('GET', '/api/v1/metering-points/:id', {
    tags: ['metering points'], summary: 'One site', params: IdParams, response: { 200: MeteringPoint, ...errors(401, 404) },
  }),
  updateMeteringPoint: route('PATCH', '/api/v1/metering-points/:id', {
    tags: ['metering points'], summary: 'Change a site (owner or managers)', params: IdParams, body: MeteringPointPatch, response: { 200: MeteringPoint, ...errors(400, 401, 404, 409) },
  }),
  deleteMeteringPoint: route('DELETE', '/api/v1/metering-points/:id', {
    tags: ['metering points'], summary: 'Remove a site without recorded energy (its member or managers)', params: IdParams, response: { ...NoContent, ...errors(401, 404, 409) },
  }),

  // Devices
  listDevices: route('GET', '/api/v1/communities/:id/devices', {
    tags: ['devices'], summary: 'Devices (managers: all; members: those on their sites)', params: IdParams, response: { 200: Type.Array(Device), ...errors(401, 404) },
  }),
  createDevice: route('POST', '/api/v1/communities/:id/devices', {
    tags: ['devices'], summary: 'Register one device, bound to a site in a role where given (managers; within the quota devicesPerCommunity)',
    params: IdParams, body: DeviceCreate, response: { 201: Device, ...errors(400, 401, 403, 404, 409) },
  }),
  getDevice: route('GET', '/api/v1/devices/:id', {
    tags: ['devices'], summary: 'One device', params: DeviceParams, response: { 200: Device, ...errors(401, 404) },
  }),
  updateDevice: route('PATCH', '/api/v1/devices/:id', {
    tags: ['devices'],
    summary: 'Rename, rebind (in a role on its site; a second billing meter on a site is a 409), disable or enable a device (managers)',
    params: DeviceParams, body: DevicePatch, response: { 200: Device, ...errors(400, 401, 403, 404, 409) },
  }),
  setDeviceSpecs: route('PUT', '/api/v1/devices/:id/specs', {
    tags: ['devices'], summary: 'Set a device\'s technical data (its member or managers; null clears it); community plans use it before their defaults',
    params: DeviceParams, body: DeviceSpecsBody, response: { 200: Device, ...errors(400, 401, 404) },
  }),
  deleteDevice: route('DELETE', '/api/v1/devices/:id', {
    tags: ['devices'], summary: 'Delete a device (managers)', params: DeviceParams, response: { ...NoContent, ...errors(401, 403, 404) },
  }),

  // Tariffs
  listTariffs: route('GET', '/api/v1/communities/:id/tariffs', {
    tags: ['tariffs'], summary: 'Tariffs of the community (members)', params: IdParams, response: { 200: Type.Array(Tariff), ...errors(401, 404) },
  }),
  createTariff: route('POST', '/api/v1/communities/:id/tariffs', {
    tags: ['tariffs'], summary: 'Add a tariff from a date (managers)', params: IdParams, body: TariffCreate, response: { 201: Tariff, ...errors(400, 401, 403, 404, 409) },
  }),
  getTariff: route('GET', '/api/v1/tariffs/:id', {
    tags: ['tariffs'], summary: 'One tariff (members)', params: IdParams, response: { 200: Tariff, ...errors(401, 404) },
  }),
  updateTariff: route('PATCH', '/api/v1/tariffs/:id', {
    tags: ['tariffs'], summary: 'Change a tariff (managers)', params: IdParams, body: TariffPatch, response: { 200: Tariff, ...errors(400, 401, 403, 404, 409) },
  }),
  deleteTariff: route('DELETE', '/api/v1/tariffs/:id', {
    tags: ['tariffs'], summary: 'Delete a tariff (managers)', params: IdParams, response: { ...NoContent, ...errors(401, 403, 404) },
  }),
};
