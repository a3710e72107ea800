/** billing: the public surface other capabilities and the composition root use. */
export { billingRoutes } from './routes.js';
export { registerSepaCommands } from './commands.js';
export { memberSavings } from './settlements.js';
