/** The shapes of the Gridshare API (see /openapi.json), as the browser reads them. */

export type Role = 'member' | 'manager';
export type MemberState = 'requested' | 'active' | 'rejected' | 'left';

export interface User {
  id: string;
  email: string;
  displayName: string;
  isAdmin: boolean;
  mustChangePassword: boolean;
  createdAt: string;
}

export interface Membership {
  memberId: string;
  communityId: string;
  role: Role;
  state: MemberState;
}

export interface Me {
  user: User;
  memberships: Membership[];
}

export interface ApiToken {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  /** null: valid until revoked. */
  expiresAt: string | null;
}

export interface Community {
  id: string;
  name: string;
  description: string;
  timeZone: string;
  currency: string;
  locale: string;
  location: { latitude: number; longitude: number } | null;
  postcode: string | null;
  gridArea: string | null;
  country: string | null;
  allocationRule: string;
  allocationMode: AllocationMode;
  isPublic: boolean;
  createdAt: string;
}

export interface CommunityListing extends Community {
  distanceKm: number | null;
  memberCount: number;
}

export interface Comparison {
  community: Community;
  memberCount: number;
  producerCount: number;
  productionCapacityW: number;
  batteryCapacityWh: number;
  prices: { grid: string; community: string; feedIn: string } | null;
  renewableShare: number | null;
}

export interface Member {
  id: string;
  communityId: string;
  userId: string;
  email: string;
  displayName: string;
  role: Role;
  state: MemberState;
  joinMessage: string;
  requestedAt: string;
  decidedAt: string | null;
  /** Takes part in the sharing from (null: from the beginning). */
  activeFrom: string | null;
  leftAt: string | null;
}

export type InvitationState = 'pending' | 'accepted' | 'declined' | 'revoked';

/** An invitation as the community's managers see it. */
export interface Invitation {
  id: string;
  communityId: string;
  email: string;
  role: Role;
  state: InvitationState;
  createdAt: string;
  decidedAt: string | null;
}

/** An invitation to the logged-in person. */
export interface ReceivedInvitation {
  id: string;
  community: { id: string; name: string; description: string };
  role: Role;
  createdAt: string;
}

export interface MeteringPoint {
  id: string;
  communityId: string;
  memberId: string;
  name: string;
  address: string;
  gridConnectionId: string;
  /** Producers and prosumers: the second id for what the point feeds in (Austria: the generation Zählpunkt). */
  generationGridConnectionId: string | null;
  role: 'consumer' | 'producer' | 'prosumer';
  pvCapacityW: number | null;
  batteryCapacityWh: number | null;
  /** The community's own battery: its stored grid energy is never passed on as community energy. */
  communityBattery: boolean;
  createdAt: string;
}

export const DEVICE_KINDS = ['meter-reader', 'inverter', 'battery', 'ev-charger', 'smart-plug', 'heat-pump'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export interface Device {
  id: string;
  communityId: string;
  meteringPointId: string | null;
  kind: DeviceKind;
  name: string;
  status: 'active' | 'disabled';
  createdAt: string;
}

export interface DeviceState {
  deviceId: string;
  online: boolean;
  lastSeenAt: string | null;
  messagesTotal: number;
  readingsTotal: number;
  duplicatesTotal: number;
  rejectedTotal: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** Something a device's MQTT connections did that its managers should know. */
export interface DeviceEvent {
  id: number;
  deviceId: string;
  kind: 'session-takeover' | 'reconnects-limited';
  address: string | null;
  previousAddress: string | null;
  at: string;
}

export interface Batch {
  id: string;
  communityId: string;
  kind: string;
  size: number;
  status: 'active' | 'rolled-back';
  createdAt: string;
  rolledBackAt: string | null;
  deviceIds?: string[];
}

export interface Rollback {
  batchId: string;
  removed: string[];
  kept: { deviceId: string; reason: 'claimed' | 'has-readings' }[];
  status: 'active' | 'rolled-back';
}

export interface RotatedKey {
  deviceId: string;
  slot: string;
  connectionString: string;
}

export interface TimeOfUseWindow {
  days: number[];
  from: string;
  to: string;
  gridPrice: string;
}

export interface Tariff {
  id: string;
  communityId: string;
  name: string;
  gridPrice: string;
  communityPrice: string;
  feedInPrice: string;
  gridFeeReduction: string;
  timeOfUse: TimeOfUseWindow[] | null;
  validFrom: string;
  createdAt: string;
}

/** One event of GET /communities/{id}/live: the newest value of each quantity a device sent. */
export interface LiveReading {
  meteringPointId: string;
  deviceId: string;
  ts: string;
  values: Partial<Record<string, number>>;
}

/**
 * How a community's energy is split: `compute` by its allocation rule, `operator` from the grid
 * operator's figures (server/src/registry/communities.ts).
 */
export const ALLOCATION_MODES = ['compute', 'operator'] as const;
export type AllocationMode = (typeof ALLOCATION_MODES)[number];

/** The allocation rules a community can choose (server/src/registry/allocation-rules.ts). */
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
