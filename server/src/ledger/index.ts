/** ledger: the public surface other capabilities and the composition root use — its pure core (domain/), service, job, routes and CLI command. */
export * from './domain/index.js';

export { registerVerifyCommand } from './commands.js';
export { LedgerService, type LedgerOptions, type LogIdentity } from './service.js';
export { LEDGER_JOB, LEDGER_AUDIT_JOB, ledgerJob, ledgerAuditJob, subscribeLedger } from './job.js';
export { ledgerRoutes } from './routes.js';
export { forgetSalts, ledgerCommunityKeyStore, ledgerKeyStore } from './store.js';
