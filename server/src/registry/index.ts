/** registry: the public surface other capabilities and the composition root use. */
export { type DeviceDataScope, type TimeWindow } from './binding-periods.js';
export { deviceDataScope, deviceDataScopes, meteringPointsAt } from './bindings.js';
export { COMMUNITY_COLUMNS, type Community, type CommunityRow, createCommunity, getCommunity, loadCommunity, requireCommunityManager, toCommunity } from './communities.js';
export { DEVICE_KINDS, type DeviceKind, bindDevice, countDevices, getDevice, listDevices, roleForBinding } from './devices.js';
export { getMember } from './members.js';
export { type MeteringPointRole, connectionCapacityW, getMeteringPoint } from './metering-points.js';
export { registryRoutes } from './routes.js';
export { Community as CommunitySchema, Device, DeviceRole as DeviceRoleSchema } from './schemas.js';
export { createTariff, loadTariffs } from './tariffs.js';
export { type CommunityMeteringPoint, type MemberListing, type SharingParticipant, allocationSettings, communityMeteringPoints, membersAmong,
  membersByName, sharingParticipants } from './store.js';
