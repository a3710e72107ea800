/** ops: the public surface other capabilities and the composition root use. */
export { createMetrics } from './metrics.js';
export { type BrokerStatus, opsRoutes } from './routes.js';
