/** intervals: the public surface other capabilities and the composition root use. */
export { countFailingPoints, countQuarantined } from './store.js';
export { intervalRoutes } from './routes.js';
export { recheckDeviceReadings, recheckPlausibility } from './service.js';

export { intervalJob, subscribeIntervals } from './job.js';
export { type StoredInterval, type IntervalSeries, pointIntervals, communityIntervals, firstIntervalStarts, intervalStartsBetween, intervalSeriesAt, knownQuarterHours, startsWithIntervals } from './store.js';
