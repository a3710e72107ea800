/** demo: the public surface other capabilities and the composition root use. */
export { type DemoCommunity, ensureDemoCommunity } from './seed.js';
export { startDemoSimulation } from './simulation.js';
