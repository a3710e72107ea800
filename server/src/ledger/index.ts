/** ledger: the public surface other capabilities and the composition root use. */
export { registerVerifyCommand } from './commands.js';
