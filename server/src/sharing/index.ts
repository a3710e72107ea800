/** sharing: the public surface other capabilities and the composition root use. */
export { registerAllocateCommand } from './commands.js';
export { type MemberSavings, type SavingsInput, toMemberInterval } from './energy.js';
export { writeOperatorAllocations } from './operator.js';
export { sharingRoutes } from './routes.js';
export { type ProvisionalFigures, SharingScheduler, markSharingDirty, markSharingDirtyFrom } from './service.js';
export { type OperatorAllocation, type StoredQuarter, loadCo2Intensity, memberQuarters, membersWithEnergy } from './store.js';
