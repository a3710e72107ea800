/** market: the public surface other capabilities and the composition root use — its pure core (domain/) and its CLI command. */
export * from './domain/index.js';

export { registerMarketCommands } from './commands.js';
