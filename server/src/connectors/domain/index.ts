/** The connectors' pure core: decoding, mapping and planning, no I/O. */
export * from './readings.js';
export * from './timestamps.js';
export * from './records.js';
export * from './reads.js';
export * from './csv.js';
export * from './files.js';
export * from './json.js';
export * from './sql.js';
export * as sunspec from './sunspec/index.js';
export * as registers from './registers/index.js';
export * from './instances.js';
