/** Flexibility for the grid operator over UFTP 3.1 (server/src/flex): the transport endpoint, the community's identity, its address book and message store. */
import { Type, type Static } from 'typebox';
import { defaulted, DeviceId, errors, IdParams, IsoDateTime, NoContent, nullable, Uuid } from './common.js';
import { DeviceKind } from './registry.js';
import { route } from './route.js';

export const UFTP_ROLES = ['AGR', 'CRO', 'DSO'] as const;
/** The largest SignedMessage the endpoint takes (bytes). */
export const UFTP_MESSAGE_MAX_BYTES = 1024 * 1024;

const UftpRole = Type.Enum(UFTP_ROLES);
const Domain = Type.String({ pattern: '^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$', description: 'an internet domain, e.g. dso.example.org' });
const PublicKey = Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: 'Ed25519 public key, base64 of 32 bytes (libsodium)' });
const Endpoint = Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048, description: 'where its UFTP messages are POSTed, e.g. https://dso.example.org/shapeshifter/api/v3/message' });

export const FlexIdentity = Type.Object({
  communityId: Uuid,
  domain: Domain,
  role: Type.Literal('AGR'),
  publicKey: Type.String({ description: 'the community\'s Ed25519 public key (base64): give it to the DSO' }),
  timeZone: Type.String(),
  ispDurationMinutes: Type.Integer(),
  endpoint: Type.String({ description: 'where participants send their messages' }),
});

const IdentityInput = Type.Object({
  domain: Domain,
  timeZone: defaulted(Type.String({ minLength: 1, maxLength: 64, default: 'Europe/Amsterdam', description: 'IANA zone of the market\'s Periods' })),
  ispDurationMinutes: defaulted(Type.Integer({ enum: [5, 15, 30, 60], default: 15 })),
}, { additionalProperties: false });

export const FlexParticipant = Type.Object({
  id: Uuid,
  communityId: Uuid,
  domain: Type.String(),
  role: UftpRole,
  endpoint: Type.String(),
  publicKeys: Type.Array(Type.String()),
  barred: Type.Boolean(),
  congestionPoints: Type.Array(Type.String()),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});

const ParticipantInput = Type.Object({
  domain: Domain,
  role: UftpRole,
  endpoint: Endpoint,
  publicKeys: Type.Array(PublicKey, { minItems: 1, maxItems: 2, description: 'one key, or two while the participant rotates its key' }),
  barred: defaulted(Type.Boolean({ default: false, description: 'refuse its messages (HTTP 403)' })),
  congestionPoints: defaulted(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 1000, default: [], description: 'EANs of the congestion points traded at with it' })),
}, { additionalProperties: false });

export const FlexMessage = Type.Object({
  id: Uuid,
  direction: Type.Enum(['in', 'out']),
  type: Type.String(),
  messageId: Type.String(),
  conversationId: Type.String(),
  senderDomain: Type.String(),
  senderRole: UftpRole,
  recipientDomain: Type.String(),
  state: Type.Enum(['accepted', 'rejected', 'duplicate', 'queued', 'sent', 'failed', 'revoked', 'ordered', 'settled']),
  rejectionReason: nullable(Type.String()),
  inReplyTo: nullable(Uuid),
  duplicateOf: nullable(Uuid),
  fingerprint: Type.String(),
  at: IsoDateTime,
  payloadXml: Type.String(),
  delivery: nullable(Type.Object({
    state: Type.Enum(['pending', 'delivered', 'failed']),
    attempts: Type.Integer(),
    lastError: nullable(Type.String()),
    nextAttemptAt: nullable(IsoDateTime),
  })),
});

const MessageQuery = Type.Object({
  conversationId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  limit: defaulted(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

export const FLEX_SERVICE_TYPES = ['capacity-management', 'congestion-management'] as const;
export const FLEX_CONTRACT_STATES = ['draft', 'active', 'ended'] as const;

const LocalDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'a date yyyy-mm-dd' });
const LocalTime = Type.String({ pattern: '^\\d{2}:\\d{2}$', description: 'a local time HH:MM in the contract\'s time zone ("24:00" ends the day)' });
/** Amounts travel as exact decimal strings; the server refuses negatives and more than 6 places, naming the field. */
const Amount = (description: string) => Type.String({ minLength: 1, maxLength: 40, description: `${description}: exact decimal in the community's currency, at most 6 places` });

const AvailabilityWindow = Type.Object({
  weekdays: Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, description: 'ISO weekdays: 1 Monday … 7 Sunday' }),
  from: LocalTime,
  to: LocalTime,
}, { additionalProperties: false });

const ContractInput = Type.Object({
  participantId: Uuid,
  congestionPoints: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 1000, description: 'EANs of the DSO\'s congestion points (from its address-book entry)' }),
  serviceType: Type.Enum(FLEX_SERVICE_TYPES),
  validFrom: LocalDate,
  validTo: LocalDate,
  windows: Type.Array(AvailabilityWindow, { minItems: 1, maxItems: 50, description: 'when flexibility is available; windows must not overlap' }),
  capacityRemuneration: Amount('per kW made available and month'),
  volumeRemuneration: Amount('per kWh delivered'),
  penaltyRate: Amount('per kWh not delivered'),
  communityFeePercent: Type.Optional(Type.String({ minLength: 1, maxLength: 10, description: 'the community\'s fee on positive net settlements before members share the rest: percent 0–100, at most 2 places (default 0)' })),
  directOrders: Type.Optional(Type.Boolean({ description: 'the DSO may send FlexOrders without a FlexOffer (UFTP 3.1 direct orders), measured against the D-Prognosis it accepted (default false)' })),
}, { additionalProperties: false });

export const FlexContract = Type.Object({
  id: Uuid,
  communityId: Uuid,
  participantId: Uuid,
  congestionPoints: Type.Array(Type.String()),
  serviceType: Type.Enum(FLEX_SERVICE_TYPES),
  validFrom: Type.String(),
  validTo: Type.String(),
  timeZone: Type.String({ description: 'the zone of the windows: the UFTP identity\'s when the contract was last written' }),
  windows: Type.Array(AvailabilityWindow),
  currency: Type.String(),
  capacityRemuneration: Type.String(),
  volumeRemuneration: Type.String(),
  penaltyRate: Type.String(),
  communityFeePercent: Type.String({ description: 'percent of a positive net settlement the community keeps' }),
  directOrders: Type.Boolean({ description: 'whether the DSO may order without an offer (direct FlexOrders)' }),
  state: Type.Enum(FLEX_CONTRACT_STATES),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
  activatedAt: nullable(IsoDateTime),
  endedAt: nullable(IsoDateTime),
  participation: Type.Object({
    devices: Type.Integer({ description: 'members\' devices opted in' }),
    devicesWithoutLimit: Type.Integer({ description: 'of those, how many set no maximum power' }),
    allowedPowerW: Type.Integer({ description: 'the sum of the maximum powers members set (W)' }),
  }),
});

/** What a member sees of a contract they may opt in to: its service and when, not its prices or who else takes part. */
const OfferedContract = Type.Object({
  id: Uuid,
  serviceType: Type.Enum(FLEX_SERVICE_TYPES),
  state: Type.Enum(FLEX_CONTRACT_STATES),
  validFrom: Type.String(),
  validTo: Type.String(),
  timeZone: Type.String(),
  windows: Type.Array(AvailabilityWindow),
});

export const FlexMyDevices = Type.Object({
  contracts: Type.Array(OfferedContract, { description: 'the community\'s contracts not ended' }),
  devices: Type.Array(Type.Object({
    id: Type.String(),
    name: Type.String(),
    kind: DeviceKind,
    optIns: Type.Array(Type.Object({ contractId: Uuid, maxPowerW: nullable(Type.Integer()), optedInAt: IsoDateTime })),
  }), { description: 'the caller\'s own controllable devices in the community' }),
});

const OptInParams = Type.Object({ id: Uuid, deviceId: DeviceId });
const OptInBody = Type.Object({
  maxPowerW: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'the most power (W) the device may shift for flexibility; none or null: no limit beyond the device\'s own' }))),
}, { additionalProperties: false });

export const FlexOptIn = Type.Object({ contractId: Uuid, deviceId: Type.String(), maxPowerW: nullable(Type.Integer()), optedInAt: IsoDateTime });

export type FlexIdentity = Static<typeof FlexIdentity>;
export type FlexContract = Static<typeof FlexContract>;
export type FlexMyDevices = Static<typeof FlexMyDevices>;
export type FlexOptIn = Static<typeof FlexOptIn>;
export type FlexParticipant = Static<typeof FlexParticipant>;
export type FlexMessage = Static<typeof FlexMessage>;

const EntityAddress = Type.String({ minLength: 1, maxLength: 256, pattern: '^\\S+$', description: 'a UFTP EntityAddress, e.g. ea1.2026-01.org.example.dso:feeder-7 or ean.871685900012636543' });

export const FlexCongestionPoint = Type.Object({
  id: Uuid,
  participantId: Uuid,
  dsoDomain: Type.String(),
  entityAddress: Type.String(),
  mutexOffersSupported: Type.Boolean(),
  prognosisGate: Type.String({ description: 'local time (HH:MM) on the day before a Period by which its D-Prognosis is sent' }),
  source: Type.Enum(['manager', 'cro'] as const),
  connections: Type.Array(Type.String()),
  /** How many of the connections are metering points of the community (matched by grid connection id). */
  matchedMeteringPoints: Type.Integer(),
  updatedAt: IsoDateTime,
});
export type FlexCongestionPoint = Static<typeof FlexCongestionPoint>;

const PortfolioInput = Type.Object({
  congestionPoints: Type.Array(Type.Object({
    entityAddress: EntityAddress,
    connections: Type.Array(EntityAddress, { maxItems: 10_000 }),
    mutexOffersSupported: defaulted(Type.Boolean({ default: false })),
    prognosisGate: defaulted(Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', default: '12:00', description: 'HH:MM local, the day before' })),
  }, { additionalProperties: false }), { maxItems: 1000 }),
}, { additionalProperties: false });

export const FlexOfferView = Type.Object({
  messageId: Uuid,
  requestMessageId: nullable(Type.String({ description: 'the FlexRequest answered; null for an unsolicited offer' })),
  contractId: Uuid,
  congestionPoint: Type.String(),
  period: Type.String(),
  state: Type.String({ description: 'queued, sent, accepted, rejected, ordered, revoked or failed (the stored message\'s state)' }),
  orderMessageId: nullable(Type.String({ description: 'the MessageID of the FlexOrder that took the offer (what the delivery route takes); null until ordered' })),
  payloadXml: Type.String(),
  baseline: Type.Array(Type.Object({ isp: Type.Integer(), powerW: Type.Integer() })),
  devices: Type.Integer({ description: 'how many opted-in devices took part in the re-plan' }),
  planCost: Type.String({ description: 'the plan with the request (exact, currency units)' }),
  baselineCost: Type.String({ description: 'the plan without it' }),
  createdAt: IsoDateTime,
});
export type FlexOfferView = Static<typeof FlexOfferView>;

const OfferParams = Type.Object({ id: Uuid, messageId: Uuid });

const UnsolicitedOfferInput = Type.Object({
  participantId: Uuid,
  congestionPoint: Type.String({ minLength: 1, maxLength: 256, description: 'a congestion point of an active contract with that DSO' }),
  period: LocalDate,
  isps: Type.Array(Type.Object({
    start: Type.Integer({ minimum: 1, maximum: 100 }),
    duration: Type.Integer({ minimum: 1, maximum: 100 }),
    minPower: Type.Integer({ minimum: -100_000_000, maximum: 100_000_000, description: 'W, + = consumption' }),
    maxPower: Type.Integer({ minimum: -100_000_000, maximum: 100_000_000 }),
  }, { additionalProperties: false }), { minItems: 1, maxItems: 100, description: 'the ISPs offered and the deviation range toward which the plan moves in each (one direction)' }),
}, { additionalProperties: false });

export const FlexOrderDelivery = Type.Object({
  messageId: Uuid,
  orderReference: Type.String(),
  congestionPoint: Type.String(),
  period: Type.String(),
  state: Type.String({ description: 'the order\'s state: accepted (being delivered) or settled' }),
  isps: Type.Array(Type.Object({
    isp: Type.Integer(),
    baselineW: Type.Integer({ description: 'the offer\'s baseline (the plan without the request)' }),
    orderedW: Type.Integer({ description: 'the ordered deviation, + = more consumption' }),
    byHandW: Type.Integer({ description: 'of the ordered deviation, what members who accepted manual activation requests are counted for (signed as orderedW)' }),
    automatedW: Type.Integer({ description: 'of the ordered deviation, what the plan binds the automated devices to: orderedW − byHandW' }),
    actualW: nullable(Type.Integer({ description: 'metered average power; null until every metering point measured the ISP' })),
    deliveredW: nullable(Type.Integer()),
    deficiencyW: nullable(Type.Integer()),
  })),
});
export type FlexOrderDelivery = Static<typeof FlexOrderDelivery>;

const Settled = Type.Object({
  price: Type.String({ description: 'exact decimal in the currency' }),
  penalty: Type.String(),
  net: Type.String({ description: 'price − penalty' }),
});

export const FlexOrderSettlementView = Type.Object({
  id: Uuid,
  orderReference: Type.String(),
  period: Type.String(),
  congestionPoint: Type.String(),
  currency: Type.String(),
  dso: Settled,
  /** Our own figures; null when they could not be computed (disputeReason says why). */
  ours: nullable(Settled),
  disposition: Type.Enum(['Accepted', 'Disputed'] as const),
  disputeReason: nullable(Type.String()),
  rewards: Type.Object({
    members: Type.Integer({ description: 'members given a share' }),
    total: Type.String({ description: 'what they were given together (exact decimal in the currency)' }),
  }),
  settledAt: IsoDateTime,
});
export type FlexOrderSettlementView = Static<typeof FlexOrderSettlementView>;

export const FlexPrognosisDay = Type.Object({
  period: Type.String(),
  timeZone: Type.String(),
  ispDurationMinutes: Type.Integer(),
  congestionPoints: Type.Array(Type.Object({
    congestionPoint: Type.String(),
    dsoDomain: Type.String(),
    revision: Type.Integer({ description: 'the latest D-Prognosis revision sent' }),
    sentAt: IsoDateTime,
    isps: Type.Array(Type.Object({
      isp: Type.Integer(),
      start: IsoDateTime,
      prognosisW: Type.Integer({ description: '+ = consumption' }),
      actualW: nullable(Type.Integer({ description: 'the community\'s metered average power; null until every metering point measured the ISP' })),
    })),
  })),
});
export type FlexPrognosisDay = Static<typeof FlexPrognosisDay>;

export const FlexMyRewards = Type.Object({
  rewards: Type.Array(Type.Object({
    period: Type.String(),
    orderReference: Type.String(),
    congestionPoint: Type.String(),
    currency: Type.String(),
    contributionWh: Type.Integer({ description: 'my measured contribution to the order' }),
    amount: Type.String({ description: 'my share (exact decimal in the currency)' }),
  })),
  totals: Type.Array(Type.Object({ currency: Type.String(), amount: Type.String() }), { description: 'per currency: the sum of my shares' }),
});
export type FlexMyRewards = Static<typeof FlexMyRewards>;

const PrognosisQuery = Type.Object({
  period: Type.Optional(LocalDate),
}, { additionalProperties: false });
const ActivationDirection = Type.Union([Type.Literal('decrease'), Type.Literal('increase')], { description: 'what the order asks of the portfolio: less consumption or more' });
export const FlexActivationRequest = Type.Object({
  id: Uuid,
  orderMessageId: Type.String(),
  congestionPoint: Type.String(),
  period: Type.String(),
  deviceId: Type.String(),
  deviceName: Type.String(),
  firstIsp: Type.Integer(),
  lastIsp: Type.Integer(),
  startsAt: IsoDateTime,
  endsAt: IsoDateTime,
  direction: ActivationDirection,
  state: Type.Union([Type.Literal('pending'), Type.Literal('accepted'), Type.Literal('declined')]),
  answeredAt: nullable(IsoDateTime),
  createdAt: IsoDateTime,
});
export type FlexActivationRequest = Static<typeof FlexActivationRequest>;
export const FlexActivationSummary = Type.Object({
  orderMessageId: Type.String(),
  congestionPoint: Type.String(),
  period: Type.String(),
  firstIsp: Type.Integer(),
  lastIsp: Type.Integer(),
  startsAt: IsoDateTime,
  endsAt: IsoDateTime,
  direction: ActivationDirection,
  pending: Type.Integer(),
  accepted: Type.Integer(),
  declined: Type.Integer(),
});
export type FlexActivationSummary = Static<typeof FlexActivationSummary>;

export const flexRoutes = {
  receiveUftpMessage: route('POST', '/shapeshifter/api/v3/message', {
    tags: ['flex'],
    summary: 'UFTP 3.1 (Shapeshifter) endpoint: one SignedMessage (text/xml, Content-Length required, at most 1 MiB) from a participant in an address book',
    description: 'Authenticated by the Ed25519 signature of the sender the envelope names. 200: stored; the answer follows asynchronously as a separate signed message '
      + 'to the sender\'s endpoint, in the same ConversationID. 400: not well-formed, DOCTYPE or entities, not valid against the UFTP 3.0/3.1 schemas, '
      + 'no or an unsupported Version, unknown RecipientDomain; 401: unknown sender or bad signature; 403: barred sender; 411: no Content-Length; 413: too large; 415: not XML.',
    security: [],
    consumes: ['text/xml', 'application/xml'],
    body: Type.Unknown({ description: '<SignedMessage SenderDomain=… SenderRole=… Body=base64(signature ‖ payload)/>' }),
    response: { 200: Type.String({ maxLength: 0, description: 'empty: stored, the answer follows separately' }), ...errors(400, 401, 403, 411, 413, 415, 503) },
  }),
  flexIdentity: route('GET', '/api/v1/communities/:id/flex/identity', {
    tags: ['flex'],
    summary: 'The community\'s UFTP identity as aggregator: domain, public key, market (managers)',
    params: IdParams,
    response: { 200: FlexIdentity, ...errors(401, 403, 404) },
  }),
  setFlexIdentity: route('PUT', '/api/v1/communities/:id/flex/identity', {
    tags: ['flex'],
    summary: 'Set the community\'s UFTP domain and market; the first call creates its signing key (managers)',
    params: IdParams,
    body: IdentityInput,
    response: { 200: FlexIdentity, ...errors(400, 401, 403, 404, 409) },
  }),
  flexParticipants: route('GET', '/api/v1/communities/:id/flex/participants', {
    tags: ['flex'],
    summary: 'The community\'s UFTP address book (managers)',
    params: IdParams,
    response: { 200: Type.Array(FlexParticipant), ...errors(401, 403, 404) },
  }),
  addFlexParticipant: route('POST', '/api/v1/communities/:id/flex/participants', {
    tags: ['flex'],
    summary: 'Add a participant (DSO, CRO) to the address book (managers); 409 when its domain and role are there already',
    params: IdParams,
    body: ParticipantInput,
    response: { 201: FlexParticipant, ...errors(400, 401, 403, 404, 409) },
  }),
  updateFlexParticipant: route('PUT', '/api/v1/flex/participants/:id', {
    tags: ['flex'],
    summary: 'Replace an address-book entry: endpoint, keys (two during a rotation), barred, congestion points (the community\'s managers)',
    params: IdParams,
    body: ParticipantInput,
    response: { 200: FlexParticipant, ...errors(400, 401, 403, 404, 409) },
  }),
  removeFlexParticipant: route('DELETE', '/api/v1/flex/participants/:id', {
    tags: ['flex'],
    summary: 'Remove an address-book entry (the community\'s managers); its messages stay stored',
    params: IdParams,
    response: { ...NoContent, ...errors(401, 403, 404) },
  }),
  flexMessages: route('GET', '/api/v1/communities/:id/flex/messages', {
    tags: ['flex'],
    summary: 'The community\'s UFTP messages in and out, newest first, with their state and delivery (managers)',
    params: IdParams,
    querystring: MessageQuery,
    response: { 200: Type.Array(FlexMessage), ...errors(400, 401, 403, 404) },
  }),
  flexContracts: route('GET', '/api/v1/communities/:id/flex/contracts', {
    tags: ['flex'],
    summary: 'The community\'s flexibility contracts with DSOs, with how many devices take part (managers)',
    params: IdParams,
    response: { 200: Type.Array(FlexContract), ...errors(401, 403, 404) },
  }),
  createFlexContract: route('POST', '/api/v1/communities/:id/flex/contracts', {
    tags: ['flex'],
    summary: 'Draft a flexibility contract with a DSO of the address book for some of its congestion points (managers); 409 without a UFTP identity',
    params: IdParams,
    body: ContractInput,
    response: { 201: FlexContract, ...errors(400, 401, 403, 404, 409) },
  }),
  flexContract: route('GET', '/api/v1/flex/contracts/:id', {
    tags: ['flex'],
    summary: 'A flexibility contract and how many devices take part (the community\'s managers)',
    params: IdParams,
    response: { 200: FlexContract, ...errors(401, 403, 404) },
  }),
  updateFlexContract: route('PUT', '/api/v1/flex/contracts/:id', {
    tags: ['flex'],
    summary: 'Replace a draft contract\'s terms (the community\'s managers); 409 once it is active or ended',
    params: IdParams,
    body: ContractInput,
    response: { 200: FlexContract, ...errors(400, 401, 403, 404, 409) },
  }),
  activateFlexContract: route('POST', '/api/v1/flex/contracts/:id/activate', {
    tags: ['flex'],
    summary: 'Activate a draft contract, its terms checked again against the address book (the community\'s managers)',
    params: IdParams,
    response: { 200: FlexContract, ...errors(400, 401, 403, 404, 409) },
  }),
  endFlexContract: route('POST', '/api/v1/flex/contracts/:id/end', {
    tags: ['flex'],
    summary: 'End a draft or active contract for good (the community\'s managers)',
    params: IdParams,
    response: { 200: FlexContract, ...errors(401, 403, 404, 409) },
  }),
  myFlexDevices: route('GET', '/api/v1/communities/:id/flex/my-devices', {
    tags: ['flex'],
    summary: 'My controllable devices in the community, the contracts I may opt them in to and where they take part (active members)',
    params: IdParams,
    response: { 200: FlexMyDevices, ...errors(401, 403, 404) },
  }),
  optInFlexDevice: route('PUT', '/api/v1/flex/contracts/:id/devices/:deviceId', {
    tags: ['flex'],
    summary: 'Opt my device in to a contract, or change the maximum power I allow (its member only; someone else\'s device: 404; an ended contract: 409)',
    params: OptInParams,
    body: OptInBody,
    response: { 200: FlexOptIn, ...errors(400, 401, 403, 404, 409) },
  }),
  optOutFlexDevice: route('DELETE', '/api/v1/flex/contracts/:id/devices/:deviceId', {
    tags: ['flex'],
    summary: 'Take my device out of a contract (its member only)',
    params: OptInParams,
    response: { ...NoContent, ...errors(401, 403, 404) },
  }),
  flexPortfolio: route('GET', '/api/v1/communities/:id/flex/portfolio', {
    tags: ['flex'],
    summary: 'The congestion points of the community\'s DSOs and the connections behind each (managers)',
    params: IdParams,
    response: { 200: Type.Array(FlexCongestionPoint), ...errors(401, 403, 404) },
  }),
  setFlexPortfolio: route('PUT', '/api/v1/flex/participants/:id/portfolio', {
    tags: ['flex'],
    summary: 'Enter a DSO\'s congestion points and their connections by hand (replaces those entered before; the community\'s managers)',
    params: IdParams,
    body: PortfolioInput,
    response: { 200: Type.Array(FlexCongestionPoint), ...errors(400, 401, 403, 404) },
  }),
  flexOffers: route('GET', '/api/v1/communities/:id/flex/offers', {
    tags: ['flex'],
    summary: 'The FlexOffers made, newest first, with their baseline and state (managers)',
    params: IdParams,
    response: { 200: Type.Array(FlexOfferView), ...errors(401, 403, 404) },
  }),
  offerFlexUnsolicited: route('POST', '/api/v1/communities/:id/flex/offers', {
    tags: ['flex'],
    summary: 'Offer a DSO flexibility unasked (an unsolicited FlexOffer, UFTP 3.1), re-planned and priced like an answer to a request (managers)',
    params: IdParams,
    body: UnsolicitedOfferInput,
    response: { 201: FlexOfferView, ...errors(400, 401, 403, 404, 409) },
  }),
  revokeFlexOffer: route('POST', '/api/v1/communities/:id/flex/offers/:messageId/revoke', {
    tags: ['flex'],
    summary: 'Revoke an offer not ordered yet (FlexOfferRevocation; managers)',
    params: OfferParams,
    response: { 200: FlexOfferView, ...errors(401, 403, 404, 409) },
  }),
  flexOrderDelivery: route('GET', '/api/v1/communities/:id/flex/orders/:messageId/delivery', {
    tags: ['flex'],
    summary: 'How an accepted FlexOrder is delivered, per ISP against its offer\'s baseline (managers)',
    params: OfferParams,
    response: { 200: FlexOrderDelivery, ...errors(401, 403, 404) },
  }),
  flexSettlements: route('GET', '/api/v1/communities/:id/flex/settlements', {
    tags: ['flex'],
    summary: 'The orders the DSOs settled, newest first: their figures and ours, accepted or disputed, and what members were given (managers)',
    params: IdParams,
    response: { 200: Type.Array(FlexOrderSettlementView), ...errors(401, 403, 404) },
  }),
  flexPrognosis: route('GET', '/api/v1/communities/:id/flex/prognosis', {
    tags: ['flex'],
    summary: 'A day\'s D-Prognoses (the latest revision per congestion point) beside what the community\'s meters measured (managers; default: today in the market\'s zone)',
    params: IdParams,
    querystring: PrognosisQuery,
    response: { 200: FlexPrognosisDay, ...errors(400, 401, 403, 404) },
  }),
  myFlexRewards: route('GET', '/api/v1/communities/:id/flex/my-rewards', {
    tags: ['flex'],
    summary: 'What I earned for flexibility my devices delivered, per order (active members)',
    params: IdParams,
    response: { 200: FlexMyRewards, ...errors(401, 403, 404) },
  }),
  myFlexActivationRequests: route('GET', '/api/v1/communities/:id/flex/activation-requests/mine', {
    tags: ['flex'],
    summary: 'My manual activation requests that have not ended: a device of mine opted in that the plan may not control, asked to move by hand for an accepted order (active members)',
    params: IdParams,
    response: { 200: Type.Array(FlexActivationRequest), ...errors(401, 403, 404) },
  }),
  answerFlexActivationRequest: route('POST', '/api/v1/flex/activation-requests/:id/answer', {
    tags: ['flex'],
    summary: 'Accept or decline my activation request, until its first ISP begins (its member only; anyone else: 404; too late: 409)',
    params: Type.Object({ id: Uuid }),
    body: Type.Object({
      answer: Type.Union([Type.Literal('accept'), Type.Literal('decline')]),
      powerW: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, description: 'with accept: the power (W) I will move by hand, at most my opt-in\'s maximum; required when my opt-in sets none' })),
    }, { additionalProperties: false }),
    response: { 200: FlexActivationRequest, ...errors(400, 401, 403, 404, 409) },
  }),
  flexActivationSummary: route('GET', '/api/v1/communities/:id/flex/activation-requests', {
    tags: ['flex'],
    summary: 'Per accepted order not ended: how many activation requests are pending, accepted and declined (managers; never whose)',
    params: IdParams,
    response: { 200: Type.Array(FlexActivationSummary), ...errors(401, 403, 404) },
  }),
};
