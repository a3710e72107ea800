/** sharing: the public surface other capabilities and the composition root use. */
export { registerAllocateCommand } from './commands.js';
export { escapeField } from '../kernel/csv.js';
export { QUARTER_HOUR_MS } from '../kernel/time.js';
export { MAX_INTERVAL_WH } from '../kernel/energy.js';
export { memberQuarters, toMemberInterval } from './energy.js';
export { writeOperatorAllocations } from './operator.js';
export { sharingRoutes } from './routes.js';
export { loadCo2Intensity } from './settings.js';

export { SHARING_JOB, sharingJob, subscribeSharing } from './job.js';

export { markSharingDirtyFrom } from './service.js';
export { writeCo2 } from './store.js';
