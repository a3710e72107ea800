/** billing: the public surface other capabilities and the composition root use. */
export { billingRoutes } from './routes.js';
export { registerSepaCommands } from './sepa/commands.js';
export { memberSavings } from './settlements.js';
