/** simulator: the public surface other capabilities and the composition root use. */
export { type SimulationStats, readingsAt, runSimulation, sunnyStreetDevices } from './run.js';
export { registerSimulateCommand } from './commands.js';
export { GARDEN_HOUSE, SITE_WITH_INVERTER } from './sites.js';
export { DEMO_MODELS, MODEL_KINDS, newDevice, receive, step, type ControlledDevice, type DeviceModel, type ReceivedCommand } from './domain/controllable.js';
export { runControlledDevices, type ControlledDeviceSpec, type ControlledRun } from './controlled.js';
