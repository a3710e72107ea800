/** privacy: the public surface other capabilities and the composition root use — its pure core (domain/) and its CLI command. */
export * from './domain/index.js';
export { writeMemberExport, type ExportOptions, type ExportProgress, type ExportResult, type ExportSources } from './export-zip.js';

export { registerMaskCommand } from './commands.js';
