/** billing: the public surface other capabilities and the composition root use. */
export { type Co2Intensity, ENERGY_KEYS, type EnergyBySource, type MemberInterval, buildStatement } from './domain/statement.js';
export { billingRoutes } from './routes.js';
export { registerSepaCommands } from './sepa/commands.js';
