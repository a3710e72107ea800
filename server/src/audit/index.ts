/** The audit trail: who changed what, when, from where. Capabilities call `recordChange`; nobody else touches its table. */
export { recordChange, type Change, type ChangeKind } from './record.js';
export type { Json } from './domain/diff.js';
export { subscribeAudit } from './service.js';
export { auditRoutes, type AuditRouteOptions } from './routes.js';
export { redactEntriesAbout } from './store.js';
