/** quotas: the public surface other capabilities and the composition root use. */
export { quotaRoutes } from './routes.js';
export { DEFAULT_QUOTAS, type QuotaLimits, Quotas, type Usage } from './service.js';
