import { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Each command's capability, by the top-level names it registers. A run loads only the capability
 * of the command it names (a process start costs about a second per thousand modules); help, and
 * a name nobody registers, load them all so commander can list every command.
 */
const commands: { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['start'], load: async () => (await import('./start-command.js')).registerStartCommand },
  { names: ['provision', 'rollback', 'token'], load: async () => (await import('../provisioning/index.js')).registerProvisioningCommands },
  { names: ['simulate'], load: async () => (await import('../simulator/index.js')).registerSimulateCommand },
  { names: ['allocate'], load: async () => (await import('../sharing/index.js')).registerAllocateCommand },
  { names: ['decode'], load: async () => (await import('../meters/index.js')).registerDecodeCommand },
  { names: ['eda'], load: async () => (await import('../operator/index.js')).registerEdaCommand },
  { names: ['market'], load: async () => (await import('../market/index.js')).registerMarketCommands },
  { names: ['uftp'], load: async () => (await import('../flex/index.js')).registerUftpCommands },
  { names: ['dso-sim'], load: async () => (await import('../flex/index.js')).registerDsoSimCommand },
  { names: ['secrets'], load: async () => (await import('../secrets/index.js')).registerSecretsCommands },
  { names: ['verify'], load: async () => (await import('../ledger/index.js')).registerVerifyCommand },
  { names: ['forecast'], load: async () => (await import('../forecast/index.js')).registerForecastCommand },
  { names: ['optimise'], load: async () => (await import('../optimise/index.js')).registerOptimiseCommand },
  { names: ['sepa'], load: async () => (await import('../billing/index.js')).registerSepaCommands },
  { names: ['members'], load: async () => (await import('../member-import/index.js')).registerMemberImportCommands },
  { names: ['mask'], load: async () => (await import('../privacy/index.js')).registerMaskCommand },
  { names: ['connector'], load: async () => (await import('../connectors/index.js')).registerConnectorCommands },
  { names: ['agent'], load: async () => (await import('../agent/index.js')).registerAgentCommand },
];

const program = new Command('gridshare')
  .description('Gridshare: the open-source platform for local energy communities')
  .version('0.1.0');

const named = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const chosen = commands.filter(({ names }) => named !== undefined && names.includes(named));
for (const { load } of chosen.length > 0 ? chosen : commands) (await load())(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`gridshare: ${(error as Error).message}\n`);
  process.exit(1);
}
