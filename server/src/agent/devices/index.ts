/** The local device kinds, each registered by name when imported. */
import './modbus-registers.js';
import './modbus-sunspec.js';
import './shelly-gen2.js';
import './simulated.js';

export { openLocalDevice, type Controller, type Outcome } from './registry.js';
