/** operator: the public surface other capabilities and the composition root use. */
export { registerEdaCommand } from './commands.js';
export { operatorRoutes } from './routes.js';
export { provisionalFigures } from './store.js';
