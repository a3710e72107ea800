/** agent: the public surface other capabilities and the composition root use. */
export { registerAgentCommand } from './commands.js';
// The demo runs its simulated households as agents in its own process.
export { startAgent, type RunningAgent } from './agent.js';
export { readConfigFile } from './config-file.js';
