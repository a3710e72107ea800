/** market: the public surface other capabilities and the composition root use. */
export { registerMarketCommands } from './commands.js';
