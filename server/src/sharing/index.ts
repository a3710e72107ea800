/** sharing: the public surface other capabilities and the composition root use. */
export { registerAllocateCommand } from './commands.js';
export { type MemberSavings, type SavingsInput, toMemberInterval } from './energy.js';
export { writeOperatorAllocations } from './operator.js';
export { sharingRoutes } from './routes.js';

export { SHARING_JOB, sharingJob, subscribeSharing } from './job.js';

export { type ProvisionalFigures, markSharingDirty, markSharingDirtyFrom } from './service.js';
export { writeCo2 } from './store.js';
// The optimiser shares a plan's saving the way the community shares energy: the pure split and the keys it needs.
export { getRule } from './domain/allocation/index.js';
export { type CoefficientPeriod, type ShareVersion, splitCommunity } from './domain/community-split.js';
export { loadCoefficientPeriods, loadShareVersions } from './store.js';
export { type MemberEnergyColumns, type OperatorAllocation, type StoredQuarter, communityQuarters, loadCo2Intensity, memberEnergyColumns, memberQuarters, membersWithEnergy } from './store.js';
