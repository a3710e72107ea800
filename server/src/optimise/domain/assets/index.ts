// Importing this module registers every asset adapter.
import './load.js';
import './producer.js';
import './storage.js';
import './ev.js';
import './appliance.js';
import './heat-pump.js';

export * from './registry.js';
export { parseConnection, type BuiltConnection, type Connection, type ConnectionTotals, type ConnectionLevel } from './connection.js';
