export * from './decode.js';
export * from './map.js';
export * from './templates.js';
