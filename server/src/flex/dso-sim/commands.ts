import { Command, InvalidArgumentError } from 'commander';
import { parsePrice } from '../../kernel/money.js';
import { generateSigningKey, secretKeyBytes, signingKeyFromSecret } from '../domain/uftp/envelope.js';
import { defaultSchemaDirectory, loadUftpSchemas, SCHEMA_DIRECTORY_VARIABLE } from '../uftp-schemas.js';
import { DsoSimulator, type RequestSchedule } from './simulator.js';

/**
 * `gridshare dso-sim`: runs the DSO simulator against a Gridshare community acting as aggregator.
 * It prints what the manager enters in the community's address book (domain, role, public key,
 * endpoint, congestion point), registers its DSOPortfolioUpdate with the CRO it plays, then every minute publishes a
 * FlexRequest for tomorrow when one is due, orders the offers it gets and settles each Period
 * after it is over.
 */

const MINUTE_MS = 60_000;
/** The portfolio must list at least one connection (the schema says so). */
const MADE_UP_CONNECTION = 'ean.000000000000000001';
/** How often the schedule is looked at. */
const TICK_MS = MINUTE_MS;

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return number;
}

/** `-20000:-5000`: the requested power band in W, in one direction (both ≤ 0 or both ≥ 0). */
function powerBand(value: string): { minPower: number; maxPower: number } {
  const match = /^(-?\d+):(-?\d+)$/.exec(value);
  const minPower = Number(match?.[1]);
  const maxPower = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(minPower) || !Number.isSafeInteger(maxPower) || minPower > maxPower || (minPower < 0 && maxPower > 0)) {
    throw new InvalidArgumentError('must be min:max in W, min ≤ max, both on one side of 0 (e.g. -20000:-5000 for less consumption)');
  }
  return { minPower, maxPower };
}

/** `73-76` or `73`: a range of ISP numbers. */
function ispRange(value: string): { start: number; duration: number } {
  const match = /^(\d+)(?:-(\d+))?$/.exec(value);
  const start = Number(match?.[1]);
  const last = Number(match?.[2] ?? match?.[1]);
  if (!match || start < 1 || last < start) throw new InvalidArgumentError('must be an ISP number or a range like 73-76');
  return { start, duration: last - start + 1 };
}

function price(value: string): bigint {
  try {
    return parsePrice(value);
  } catch {
    throw new InvalidArgumentError('must be a decimal amount like 0.30');
  }
}

const collect = (value: string, previous: string[]) => [...previous, value];

interface DsoSimOptions {
  agrUrl: string;
  agrDomain: string;
  agrPublicKey: string;
  domain: string;
  secretKey?: string;
  congestionPoint: string;
  connection: string[];
  host: string;
  port: number;
  timeZone: string;
  ispMinutes: number;
  requestEvery: number;
  requestIsps: { start: number; duration: number };
  requestBand: { minPower: number; maxPower: number };
  expiresBefore: number;
  activation: number;
  penaltyRate: bigint;
  settleAfter: number;
  xsd?: string;
}

export function registerDsoSimCommand(program: Command): void {
  program
    .command('dso-sim')
    .description('Run a simulated grid operator (DSO) that trades flexibility with a Gridshare community over UFTP')
    .requiredOption('--agr-url <url>', 'the community\'s UFTP endpoint, e.g. http://localhost:3000/shapeshifter/api/v3/message')
    .requiredOption('--agr-domain <domain>', 'the community\'s UFTP domain (its flex identity)')
    .requiredOption('--agr-public-key <base64>', 'the community\'s Ed25519 public key (shown with its flex identity)')
    .option('--domain <domain>', 'this DSO\'s domain', 'dso-sim.localhost')
    .option('--secret-key <base64>', 'this DSO\'s Ed25519 secret key (libsodium format; default: a new one, printed)')
    .option('--congestion-point <address>', 'the congestion point (entity address)', 'ea1.2026-01.localhost.dso-sim:cp-1')
    .option('--connection <address>', 'a connection at the congestion point, e.g. ean.871687120000000001 (repeatable; default: one made-up connection)', collect, [])
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port of this DSO\'s UFTP endpoint', positiveInteger, 8089)
    .option('--time-zone <zone>', 'the market\'s time zone', 'Europe/Amsterdam')
    .option('--isp-minutes <minutes>', 'ISP length', positiveInteger, 15)
    .option('--request-every <minutes>', 'publish a FlexRequest for tomorrow this often', positiveInteger, 60)
    .option('--request-isps <range>', 'the ISPs of tomorrow to request flexibility in', ispRange, { start: 73, duration: 4 })
    .option('--request-band <min:max>', 'the power band requested in those ISPs (W, + = consumption)', powerBand, { minPower: -20_000, maxPower: -5_000 })
    .option('--expires-before <minutes>', 'a request expires this long before its Period starts', positiveInteger, 120)
    .option('--activation <percent>', 'activation factor offers are ordered at (raised to an option\'s minimum)', positiveInteger, 100)
    .option('--penalty-rate <price>', 'the contract\'s penalty per kWh not delivered', price, parsePrice('0.30'))
    .option('--settle-after <minutes>', 'settle a Period this long after it ends', positiveInteger, 60)
    .option('--xsd <dir>', `directory with 3.0.0/ and 3.1.0/ UFTP-*.xsd files (default: $${SCHEMA_DIRECTORY_VARIABLE}, else the shipped schemas)`)
    .action(async (options: DsoSimOptions) => {
      if (options.activation > 100) throw new InvalidArgumentError('--activation must be at most 100');
      const generated = options.secretKey === undefined;
      const signingKey = options.secretKey === undefined ? generateSigningKey() : signingKeyFromSecret(options.secretKey);
      const schemas = loadUftpSchemas(options.xsd ?? defaultSchemaDirectory());
      const simulator = await DsoSimulator.start({
        domain: options.domain, signingKey, congestionPoint: options.congestionPoint, connections: options.connection.length > 0 ? options.connection : [MADE_UP_CONNECTION],
        timeZone: options.timeZone, ispDurationMinutes: options.ispMinutes, schemas,
        agr: { url: options.agrUrl, domain: options.agrDomain, publicKey: options.agrPublicKey },
        terms: { penaltyPerKwh: options.penaltyRate, remuneration: 'delivered' }, activationFactor: options.activation,
        host: options.host, port: options.port, log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
      });
      const schedule: RequestSchedule = {
        everyMs: options.requestEvery * MINUTE_MS,
        requested: [{ ...options.requestIsps, ...options.requestBand }],
        expiresBeforePeriodMs: options.expiresBefore * MINUTE_MS,
        settleAfterMs: options.settleAfter * MINUTE_MS,
      };
      process.stdout.write([
        'DSO simulator running. Enter it in the community\'s UFTP address book:',
        `  domain            ${options.domain}`,
        '  role              DSO',
        `  public key        ${simulator.publicKey}`,
        `  endpoint          ${simulator.url}`,
        `  congestion point  ${options.congestionPoint}`,
        ...(generated ? [`  secret key        ${Buffer.from(secretKeyBytes(signingKey)).toString('base64')}  (pass --secret-key to keep this identity)`] : []),
        'and once more with role CRO (same domain, key and endpoint): it answers AGRPortfolioQuery with its congestion point.',
        '',
      ].join('\n'));
      simulator.portfolioUpdate();
      const tick = () => simulator.tick(schedule).catch((error: unknown) => process.stderr.write(`dso-sim: ${(error as Error).message}\n`));
      await tick();
      const timer = setInterval(() => void tick(), TICK_MS);
      const stop = () => {
        clearInterval(timer);
        void simulator.close().then(() => {
          schemas.dispose();
          process.exit(0);
        });
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
