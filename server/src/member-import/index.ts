/** member-import: the public surface other capabilities and the composition root use. */
export { registerMemberImportCommands } from './commands.js';
