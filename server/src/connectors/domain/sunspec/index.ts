export * from './points.js';
export * from './models.js';
export * from './decode.js';
export * from './discovery.js';
export * from './readings.js';
export * from './controls.js';
