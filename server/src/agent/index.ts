/** agent: the public surface other capabilities and the composition root use. */
export { registerAgentCommand } from './commands.js';
