/**
 * The local market's pure core: orders and gate closure, clearing mechanisms by name, agents,
 * settlement against the meters, and the wallets' double-entry ledger. No I/O; time is passed in.
 */
export * from './price.js';
export * from './orders.js';
export * from './clearing/index.js';
export * from './agents.js';
export * from './settlement.js';
export * from './ledger.js';
