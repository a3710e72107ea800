import { Command } from 'commander';
import { registerStartCommand } from './start-command.js';
import { registerSimulateCommand } from '../simulator/run.js';
import { registerProvisioningCommands } from '../provisioning/commands.js';
import { registerAllocateCommand } from '../sharing/commands.js';
import { registerDecodeCommand } from '../meters/commands.js';
import { registerEdaCommand } from '../operator/commands.js';
import { registerMarketCommands } from '../market/commands.js';
import { registerUftpCommands } from '../flex/commands.js';
import { registerSecretsCommands } from '../secrets/index.js';
import { registerVerifyCommand } from '../ledger/commands.js';
import { registerForecastCommand } from '../forecast/commands.js';
import { registerOptimiseCommand } from '../optimise/commands.js';
import { registerSepaCommands } from '../billing/sepa/commands.js';
import { registerMemberImportCommands } from '../member-import/commands.js';
import { registerMaskCommand } from '../privacy/commands.js';
import { registerConnectorCommands } from '../connectors/commands.js';
import { registerAgentCommand } from '../agent/commands.js';

const program = new Command('gridshare')
  .description('Gridshare: the open-source platform for local energy communities')
  .version('0.1.0');

registerStartCommand(program);
registerProvisioningCommands(program);
registerSimulateCommand(program);
registerAllocateCommand(program);
registerDecodeCommand(program);
registerEdaCommand(program);
registerMarketCommands(program);
registerUftpCommands(program);
registerSecretsCommands(program);
registerVerifyCommand(program);
registerForecastCommand(program);
registerOptimiseCommand(program);
registerSepaCommands(program);
registerMemberImportCommands(program);
registerMaskCommand(program);
registerConnectorCommands(program);
registerAgentCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`gridshare: ${(error as Error).message}\n`);
  process.exit(1);
}
