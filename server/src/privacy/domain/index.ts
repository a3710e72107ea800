/**
 * The privacy capability's pure core: consent grants and the read decision, reducing series to
 * a grant, data offers, the processing register and aggregates, the access log, masking rules,
 * retention, erasure plans and pseudonyms, the export's kinds and README. No I/O; time and
 * randomness are passed in.
 */
export * from './scope.js';
export * from './consent.js';
export * from './series.js';
export * from './offers.js';
export * from './register.js';
export * from './access-log.js';
export * from './catalog.js';
export * from './retention.js';
export * from './erasure.js';
export * from './export-kinds.js';
export * from './masking/index.js';
