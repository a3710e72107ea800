export { type Co2Intensity, ENERGY_KEYS, type EnergyBySource, type MemberInterval } from '../kernel/energy.js';
/** billing: the public surface other capabilities and the composition root use. */
export { buildStatement } from './domain/statement.js';
export { billingRoutes } from './routes.js';
export { registerSepaCommands } from './sepa/commands.js';
