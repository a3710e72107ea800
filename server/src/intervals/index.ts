/** intervals: the public surface other capabilities and the composition root use. */
export { type Quality, worst } from '../kernel/energy.js';
export { countFailingPoints, countQuarantined } from './issues.js';
export { intervalRoutes } from './routes.js';
export { IntervalScheduler, recheckDeviceReadings, recheckPlausibility } from './service.js';
export { type StoredInterval, communityIntervals, firstIntervalStarts, intervalsAt, startsWithIntervals } from './store.js';
