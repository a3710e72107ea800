/** intervals: the public surface other capabilities and the composition root use. */
export { countFailingPoints, countQuarantined } from './store.js';
export { intervalRoutes } from './routes.js';
export { IntervalScheduler, recheckDeviceReadings, recheckPlausibility } from './service.js';
