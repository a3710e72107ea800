/** simulator: the public surface other capabilities and the composition root use. */
export { type SimulationStats, registerSimulateCommand, runSimulation, sunnyStreetDevices } from './run.js';
export { GARDEN_HOUSE, SITE_WITH_INVERTER } from './sites.js';
