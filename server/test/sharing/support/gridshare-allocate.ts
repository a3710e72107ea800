/**
 * A stand-in for `gridshare allocate` until the lead wires the command into cli/main.ts:
 * the same error handling as main.ts, so tests can run it as a real process.
 */
import { Command } from 'commander';
import { registerAllocateCommand } from '../../../src/sharing/commands.js';

const program = new Command('gridshare');
registerAllocateCommand(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`gridshare: ${(error as Error).message}\n`);
  process.exit(1);
}
