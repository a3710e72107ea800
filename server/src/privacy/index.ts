/** privacy: the public surface other capabilities and the composition root use. */
export { registerMaskCommand } from './commands.js';
