/** registry: the public surface other capabilities and the composition root use. */
export { type DeviceDataScope, type TimeWindow } from './binding-periods.js';
export { deviceDataScope, deviceDataScopes, devicesOfMembers } from './bindings.js';
export { type Community, createCommunity, getCommunity, loadCommunity, requireCommunityManager } from './communities.js';
export { type CommunityInput, type CommunityOverview, createCommunityManagedBy, overseeCommunities, setCommunitySuspension } from './communities.js';
export { DEVICE_KINDS, type DeviceKind, bindDevice, countDevices, getDevice, listDevices, roleForBinding } from './devices.js';
export { getMember } from './members.js';
export { invitationById } from './store/invitations.js';
export { invitedAddressOfSignupToken } from './invitations.js';
export { type DeviceSpecs } from './domain/device-specs.js';
export { type MeteringPointRole, connectionCapacityW, getMeteringPoint } from './metering-points.js';
export { registryRoutes } from './routes.js';
export { createTariff, loadTariffs } from './tariffs.js';
export { type IngestDevice, ingestDevice } from './store/reads.js';
export { type MeteringPointSite, type MeteringPointSummary, meteringPointSites, meteringPointSummaries } from './store/reads.js';
export { meteringPointsAt } from './store/bindings.js';
export { type CommunityFigures, type CommunityFilter, communityFigures, findCommunities } from './store/communities.js';
export { type MemberRecord, memberById, membersOfCommunity, membershipsOfUser } from './store/members.js';
export { type MeteringPoint, meteringPointById, meteringPointIdsOfMember, meteringPointsOfCommunity, meteringPointsOfMember } from './store/metering-points.js';
export {
  batchOfDevice, communityDevices, type Device, deleteDevices, deviceById, devicesOfBatch, deviceStatusesAfter, insertBatchDevices, insertDevice,
  releaseDevicesOfMembers,
} from './store/devices.js';
export { communityIdByName, communitiesWithMeteringPoints, deviceOfflineThresholds } from './store/communities.js';
export { insertActiveMember, memberIdOfUser, patchMember, pseudonymiseMembersOfUser } from './store/members.js';
export { insertMeteringPoint } from './store/metering-points.js';
export { type CommunityMeteringPoint, type MemberListing, type SharingParticipant, allocationSettings, communityMeteringPoints, membersAmong,
  membersByName, sharingParticipants } from './store/reads.js';
