/**
 * The whole API: every route by name. The server registers each of them (a test holds the two
 * sets equal); the web app calls them by name (RequestInput and Result give the types).
 */
import { accountRoutes } from './accounts.js';
import { auditRoutes } from './audit.js';
import { adminRoutes } from './admin.js';
import { billingRoutes } from './billing.js';
import { brokerSecurityRoutes } from './broker-security.js';
import { connectorRoutes } from './connectors.js';
import { controlRoutes } from './control.js';
import { discoveryRoutes } from './discovery.js';
import { flexRoutes } from './flex.js';
import { forecastRoutes } from './forecast.js';
import { ingestRoutes } from './ingest.js';
import { intervalRoutes } from './intervals.js';
import { ledgerRoutes } from './ledger.js';
import { liveRoutes } from './live.js';
import { marketRoutes } from './market.js';
import { meterRoutes } from './meters.js';
import { notificationRoutes } from './notifications.js';
import { operatorRoutes } from './operator.js';
import { optimiseRoutes } from './optimise.js';
import { opsRoutes } from './ops.js';
import { privacyRoutes } from './privacy.js';
import { provisioningRoutes } from './provisioning.js';
import { quotaRoutes } from './quotas.js';
import { registryRoutes } from './registry.js';
import { secretsRoutes } from './secrets.js';
import { sharingRoutes } from './sharing.js';

export const api = {
  ...opsRoutes,
  ...accountRoutes,
  ...registryRoutes,
  ...quotaRoutes,
  ...discoveryRoutes,
  ...provisioningRoutes,
  ...ingestRoutes,
  ...liveRoutes,
  ...intervalRoutes,
  ...sharingRoutes,
  ...operatorRoutes,
  ...billingRoutes,
  ...forecastRoutes,
  ...meterRoutes,
  ...secretsRoutes,
  ...connectorRoutes,
  ...privacyRoutes,
  ...marketRoutes,
  ...optimiseRoutes,
  ...ledgerRoutes,
  ...controlRoutes,
  ...flexRoutes,
  ...auditRoutes,
  ...brokerSecurityRoutes,
  ...adminRoutes,
  ...notificationRoutes,
};

export type Api = typeof api;
export type RouteName = keyof Api;

export { fillPath, queryString, type Input, type Method, type RawBody, type RequestInput, type Result, type Route, type RouteSchema } from './route.js';
