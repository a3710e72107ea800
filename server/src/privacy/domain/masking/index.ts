/** Masking rules for exports: schemas and rules by name, rule sets checked and applied. */
export * from './schemas.js';
export * from './rules.js';
export * from './postcode.js';
export * from './rule-set.js';
export * from './apply.js';
