/** privacy: the public surface other capabilities and the composition root use — its pure core (domain/), its routes, job and access-log hook, its CLI command. */
export * from './domain/index.js';
export { writeMemberExport, type ExportOptions, type ExportProgress, type ExportResult, type ExportSources } from './export-zip.js';

export { registerMaskCommand } from './commands.js';
export { registerAccessLogging } from './access-hook.js';
export { longestRawReadingsRetentionDays, type PrivacyContext } from './service.js';
export { PRIVACY_JOB, enforceRetention, privacyJob, type RetentionReport } from './job.js';
export { PRIVACY_EXPORTS_JOB, exportJob } from './export-jobs.js';
export { privacyRoutes } from './routes.js';
export { maskingSaltStore } from './store.js';
export { seedDemoPrivacy } from './demo.js';
