import { Command } from 'commander';
import { registerStartCommand } from './start-command.js';
import { registerSimulateCommand } from '../simulator/index.js';
import { registerProvisioningCommands } from '../provisioning/index.js';
import { registerAllocateCommand } from '../sharing/index.js';
import { registerDecodeCommand } from '../meters/index.js';
import { registerEdaCommand } from '../operator/index.js';
import { registerMarketCommands } from '../market/index.js';
import { registerUftpCommands } from '../flex/index.js';
import { registerSecretsCommands } from '../secrets/index.js';
import { registerVerifyCommand } from '../ledger/index.js';
import { registerForecastCommand } from '../forecast/index.js';
import { registerOptimiseCommand } from '../optimise/index.js';
import { registerSepaCommands } from '../billing/index.js';
import { registerMemberImportCommands } from '../member-import/index.js';
import { registerMaskCommand } from '../privacy/index.js';
import { registerConnectorCommands } from '../connectors/index.js';
import { registerAgentCommand } from '../agent/index.js';

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
