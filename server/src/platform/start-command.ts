import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { PortInUseError } from './net/listen.js';
import { claimStart } from './claim.js';
import { DEFAULT_HEAP_GROWTH_PERCENT, HEAP_GROWTH_EXPECTED, isHeapGrowth, setHeapGrowth } from './heap-growth.js';
import { DEFAULT_POOL_SIZE, type StoreConfig } from './store/db.js';
import { LOG_LEVELS, type LogLevel } from './http/logging.js';
import { DataFolderInUseError } from './store/data-folder.js';
import { DAY_MS } from '../kernel/time.js';
import { DEFAULT_CONCURRENT_PASSES, DEFAULT_LEASE_MS, type RunnerOptions } from './jobs/index.js';
import { smtpConfigFromEnv, SmtpSettingError } from '../notifications/index.js';
import { environmentKeys, KEY_FILE_NAME, keyFile, MissingMasterKeyError, SECRET_KEY_VARIABLE } from '../secrets/index.js';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return port;
}

function parseLeaseMs(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 300 || ms > 3_600_000) throw new InvalidArgumentError('a whole number of milliseconds from 300 to 3600000');
  return ms;
}

/** Tests only: the process stops in the named job once it holds units, leases renewed, to be killed mid-job. */
const STALL_JOB_VARIABLE = 'GRIDSHARE_TEST_STALL_JOB';

function stallForTests(job: string | undefined): Pick<RunnerOptions, 'afterLease'> {
  if (!job) return {};
  return {
    afterLease: (name, units) => {
      if (name !== job) return Promise.resolve();
      process.stderr.write(`gridshare: ${STALL_JOB_VARIABLE}: ${name} stopped holding ${units.length} units\n`);
      return new Promise<void>(() => undefined);
    },
  };
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!(days > 0) || days > 3_650) throw new InvalidArgumentError('a number of days above 0 (fractions allowed), at most 3650');
  return days;
}

function parsePositive(value: string): number {
  const number = Number(value);
  if (!(number > 0) || number > 1e7) throw new InvalidArgumentError('a number above 0');
  return number;
}

/** A whole number from 1 to `max`. */
const parseCount = (max: number) => (value: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
  return number;
};

function parseHeapGrowth(value: string): number {
  const percent = Number(value);
  if (value.trim() === '' || !isHeapGrowth(percent)) throw new InvalidArgumentError(HEAP_GROWTH_EXPECTED);
  return percent;
}

/** Links in emails, devices' configuration files and the UFTP endpoint are built on it: checked before anything starts. */
function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('an http or https URL, e.g. https://energy.example.org');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError(`an http or https URL, not ${url.protocol}`);
  if (url.username || url.password || url.search || url.hash) throw new InvalidArgumentError('the URL browsers open: no credentials, query or fragment');
  return value;
}

/** `user:password` of the broker's dynamic-security admin (the password may hold colons). */
function parseAdmin(value: string): { username: string; password: string } {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) throw new InvalidArgumentError('give the admin as user:password');
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Run the platform: HTTP API and web app, MQTT broker, database')
    .addOption(new Option('--port <port>', 'HTTP port').argParser(parsePort).env('PORT'))
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .addOption(new Option('--mqtt-port <port>', 'port of the embedded MQTT broker').argParser(parsePort).env('MQTT_PORT'))
    .addOption(new Option('--data <dir>', 'directory of the embedded database').default('./data').env('GRIDSHARE_DATA'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL server instead of the embedded database').env('DATABASE_URL'))
    .addOption(new Option('--database-pool-size <n>', 'with --database-url: connections this process keeps to the server').default(DEFAULT_POOL_SIZE).argParser(parseCount(1000)).env('DATABASE_POOL_SIZE'))
    .addOption(new Option('--mqtt-url <url>', 'consume devices from this MQTT broker (MQTT 5 shared subscriptions) instead of the embedded one').env('MQTT_URL'))
    .addOption(new Option('--mqtt-group <name>', 'with --mqtt-url: shared-subscription group, the same for every process of one installation').default('gridshare').env('MQTT_GROUP'))
    .addOption(new Option('--mqtt-instance <id>', 'with --mqtt-url: this process\'s name in the group, stable across restarts so it resumes its MQTT sessions (default: host name and HTTP port)').env('MQTT_INSTANCE'))
    .addOption(new Option('--mqtt-dynsec-admin <user:password>', 'with --mqtt-url: the admin of Mosquitto\'s dynamic-security plugin; Gridshare keeps a client and a role per device there').argParser(parseAdmin).env('MQTT_DYNSEC_ADMIN'))
    .addOption(new Option('--mqtt-outage-seconds <s>', 'with --mqtt-url: the consumer outage the broker must bridge; checked at start').default(60).argParser(parsePositive).env('MQTT_OUTAGE_SECONDS'))
    .addOption(new Option('--mqtt-rate <readings/s>', 'with --mqtt-url: the readings per second all devices send together').default(1000).argParser(parsePositive).env('MQTT_RATE'))
    .addOption(new Option('--public-url <url>', 'how devices and browsers reach this installation (default: the local address)').argParser(parsePublicUrl).env('GRIDSHARE_PUBLIC_URL'))
    .addOption(new Option('--secret-key-file <file>', `the master key file, created (mode 0600) at the first start unless ${SECRET_KEY_VARIABLE} holds the keys (default: <data>/${KEY_FILE_NAME}, also with --database-url)`).env('GRIDSHARE_SECRET_KEY_FILE'))
    .addOption(new Option('--artefacts-dir <dir>', 'where provisioning artefacts are kept (default: <data>/artefacts)').env('GRIDSHARE_ARTEFACTS'))
    .option('--demo', 'create the demo community "Sunny Street" if it is absent and simulate its devices', false)
    .option('--no-simulate', 'with --demo: do not run the simulated devices')
    .addOption(new Option('--simulate-speed <factor>', 'with --demo: replay the last day this many times faster, then run in real time').default(96).argParser(Number))
    .addOption(new Option('--job-lease-ms <ms>', 'how long a background job\'s lease on its work outlives a process that stopped renewing it (every process of one installation alike)').default(DEFAULT_LEASE_MS).argParser(parseLeaseMs).env('GRIDSHARE_JOB_LEASE_MS'))
    .addOption(new Option('--concurrent-jobs <n>', 'background passes this process runs at once (each holds a database connection while it runs)').default(DEFAULT_CONCURRENT_PASSES).argParser(parseCount(100)).env('GRIDSHARE_CONCURRENT_JOBS'))
    .addOption(new Option('--heap-growth <percent>', 'how far, in percent, the JavaScript heap may grow past what the last full garbage collection left live, where V8 would let it grow further (a heap limit of 2 GB or more; 0: V8\'s own policy)').default(DEFAULT_HEAP_GROWTH_PERCENT).argParser(parseHeapGrowth).env('GRIDSHARE_HEAP_GROWTH'))
    .addOption(new Option('--session-idle-days <days>', 'a browser session unused this many days ends').default(14).argParser(parseDays).env('GRIDSHARE_SESSION_IDLE_DAYS'))
    .option('--secure-cookies', 'mark session cookies Secure (default: when --public-url is https)')
    .option('--log', 'log every request', false)
    .addOption(new Option('--log-level <level>', 'the lowest level of the JSON log on standard error').choices(LOG_LEVELS).default('info').env('LOG_LEVEL'))
    .option('--exit-with-parent', 'stop when the process that started this one ends (npm start: a SIGTERM to npm ends its shell, not this process)', false)
    .action(async (options: {
      port?: number; host: string; mqttPort?: number; data: string; databaseUrl?: string; databasePoolSize: number; concurrentJobs: number;
      mqttUrl?: string; mqttGroup: string; mqttInstance?: string; mqttDynsecAdmin?: { username: string; password: string };
      mqttOutageSeconds: number; mqttRate: number; publicUrl?: string; artefactsDir?: string; secretKeyFile?: string;
      demo: boolean; simulate: boolean; simulateSpeed: number; sessionIdleDays: number; jobLeaseMs: number; secureCookies?: boolean; log: boolean; logLevel: LogLevel;
      exitWithParent: boolean; heapGrowth: number;
    }) => {
      const started = Date.now();
      setHeapGrowth(options.heapGrowth);
      const parent = process.ppid;
      // Everything this process writes (the embedded database, artefacts with device keys, the key
      // file) is private to its user, whatever umask it was started with.
      process.umask(0o077);
      const environmentKey = process.env[SECRET_KEY_VARIABLE];
      // With several processes on one PostgreSQL, every one needs the same keys: the environment suits that best.
      const secretKeys = environmentKey
        ? environmentKeys(environmentKey)
        : keyFile(resolve(options.secretKeyFile ?? join(options.data, KEY_FILE_NAME)));
      try {
        const smtp = smtpConfigFromEnv();
        const store: StoreConfig = options.databaseUrl ? { kind: 'postgres', url: options.databaseUrl, poolSize: options.databasePoolSize } : { kind: 'pglite', dataDir: resolve(options.data) };
        const http = { port: options.port ?? 8080, host: options.host, explicit: options.port !== undefined };
        const mqtt = { port: options.mqttPort ?? 1883, host: options.host, explicit: options.mqttPort !== undefined };
        // Taken before the platform's modules load (seconds, many on a loaded machine): a start that a
        // held data folder or a taken port refuses ends at once.
        const claim = await claimStart({ store, http, mqtt, externalMqtt: options.mqttUrl });
        const [{ artefactsDirFor, startPlatform }, { startDemoSimulation, tradeDemoDay }] = await Promise.all([import('./compose.js'), import('../demo/index.js')]);
        const platform = await startPlatform({
          secretKeys,
          store,
          http,
          mqtt,
          logger: options.log,
          log: { level: options.logLevel },
          ...(options.secureCookies ? { secureCookies: true } : {}),
          sessionIdleMs: options.sessionIdleDays * 86_400_000,
          jobs: { leaseMs: options.jobLeaseMs, concurrentPasses: options.concurrentJobs, ...stallForTests(process.env[STALL_JOB_VARIABLE]) },
          demo: options.demo,
          artefactsDir: resolve(options.artefactsDir ?? artefactsDirFor(options.data)),
          ...(options.mqttUrl ? {
            externalMqtt: {
              url: options.mqttUrl,
              group: options.mqttGroup,
              instanceId: options.mqttInstance ?? `${hostname()}-${options.port ?? 8080}`,
              ...(options.mqttDynsecAdmin ? { dynsecAdmin: options.mqttDynsecAdmin } : {}),
              outageSizing: { messagesPerSecond: options.mqttRate, outageSeconds: options.mqttOutageSeconds },
            },
          } : {}),
          ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
          ...(smtp ? { smtp } : {}),
        }, claim);
        const out = (line = '') => process.stdout.write(`${line}\n`);
        out(`Gridshare is running (started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        out(`  Web app and API   ${platform.httpUrl}   (API docs: ${platform.httpUrl}/docs)`);
        out(`  MQTT broker       ${platform.mqttUrl}${platform.broker ? '' : ' (external)'}`);
        out(`  Email             ${smtp ? `through ${smtp.host}:${smtp.port}` : 'off (set SMTP_URL and SMTP_FROM to send password reset links)'}`);
        out(`  Database          ${platform.db.kind === 'pglite' ? `embedded, ${resolve(options.data)}` : 'PostgreSQL server'}`);
        const stale = platform.dataFolder?.recoveredFrom;
        if (stale) out(`  NOTE: the stale lock of Gridshare process ${stale.pid} (started ${stale.startedAt}, no longer running) was taken over.`);
        out(`  Secrets           sealed with master key ${platform.secrets.box.activeKeyId} from ${platform.secrets.source}${platform.secrets.createdKeys ? ' (created now: back it up apart from the database)' : ''}`);
        if (platform.secrets.sealedAtStart > 0) out(`  NOTE: ${platform.secrets.sealedAtStart} rows of keys stored in plain text before were sealed now.`);
        for (const warning of platform.secrets.warnings()) out(`  WARNING: ${warning}`);
        out(`  Background jobs   leases held as ${platform.jobs.holder} (they outlive this process by ${options.jobLeaseMs} ms)`);
        const record = await platform.ledger.service.identity();
        out(`  Verifiable record ${platform.httpUrl}/api/v1/ledger, verifier key ${record.verifierKey}`);
        for (const moved of platform.movedPorts) {
          const flag = moved.what === 'MQTT' ? '--mqtt-port' : '--port';
          out(`  NOTE: ${moved.what} port ${moved.from} is taken by another program, so Gridshare uses ${moved.to} (kept for the next start).`);
          if (moved.previous !== undefined) {
            out(`  WARNING: ${moved.what} port ${moved.previous}, used instead of ${moved.from} before, is taken too. Devices provisioned`);
            out(`        before were given ${moved.previous} and cannot reach this Gridshare: start it with ${flag} ${moved.previous} once that port is free.`);
          }
          out(`        Choose a port with ${flag} <port>.`);
        }
        if (platform.bootstrapAdmin) {
          out();
          out(`  First start: platform admin ${platform.bootstrapAdmin.email}`);
          out(`  one-time password: ${platform.bootstrapAdmin.password}   (you must change it at first login)`);
        }
        const demo = platform.demo;
        if (demo) {
          out();
          out(`  Demo community "Sunny Street" ${demo.created ? 'created' : 'ready'}. Log in at ${platform.httpUrl} as:`);
          for (const login of demo.logins) out(`    ${login.role.padEnd(8)} ${login.email} / ${login.password}`);
          if (platform.demoFlex) {
            out('  Its grid operator, a DSO simulator in this process, trades flexibility with it over UFTP');
            out(`  (${demo.created ? 'yesterday is traded and settled in the next seconds; ' : ''}see the manager's Flexibility page).`);
          }
        }
        const simulation = new AbortController();
        if (demo?.created) {
          // Midsummer day of the street's meters traded and settled, one dispute corrected and one payout
          // confirmed: in the background, so the platform answers and the simulation starts meanwhile.
          out('  Market: midsummer day is traded and settled against the simulated meters in the next seconds.');
          tradeDemoDay(platform, demo.communityId).then((day) => {
            out(`  Market: midsummer day ${new Date(day.toMs - 1).toISOString().slice(0, 10)} traded and settled against the simulated meters,`);
            out(`        ${day.dispute ? 'one dispute corrected' : 'no purchase to dispute'}, ${day.payout ? 'one payout confirmed' : 'no payout due'}.`);
          }, (error: Error) => {
            if (!simulation.signal.aborted) process.stderr.write(`gridshare: demo market day stopped: ${error.message}\n`);
          });
        }
        if (demo && options.simulate && platform.broker) {
          // The market clears the replayed day's slots as their meter data comes in (its agents trade on
          // what the meters showed before each gate closure) and settles them against the replayed meters.
          platform.market.catchUpFrom(demo.communityId, Date.now() - DAY_MS);
          const mqttUrl = platform.mqttUrl.replace('localhost', '127.0.0.1');
          startDemoSimulation({
            db: platform.db,
            secrets: platform.secrets.box,
            // The agents reach this process's own broker and API (the public URL may be a proxy's).
            endpoints: { ...platform.endpoints, publicUrl: platform.httpUrl, mqttUrl },
            agentsDir: join(resolve(options.data), 'demo-agents'),
            speed: options.simulateSpeed,
            signal: simulation.signal,
            // The first forecasts come from the job's first pass (half a minute after the start, on
            // the little history there is); once the replayed day is in, every series is forecast again on it.
            onCaughtUp: () => platform.forecast.refreshAll(),
          }).catch((error: Error) => process.stderr.write(`gridshare: demo simulation stopped: ${error.message}\n`));
          out(`  Simulating its devices as agents over MQTT: the last day replayed ${options.simulateSpeed}× faster, then live.`);
          out('  Household 1\'s battery, EV charger, heat pump and washing machine follow the commands their agents are sent.');
          out('  Forecasts and best hours appear within a minute and are made again once the replayed day is in.');
          out('  The market trades the replayed day as it comes in: trades and wallets appear on the Market pages.');
        }
        const stop = async (signal: string) => {
          out(`\n${signal}: stopping…`);
          simulation.abort();
          await platform.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void stop('SIGINT'));
        process.once('SIGTERM', () => void stop('SIGTERM'));
        // An orphan is adopted by init or a subreaper: a new parent means the one that started us is gone.
        if (options.exitWithParent) {
          const watch = setInterval(() => {
            if (process.ppid === parent) return;
            clearInterval(watch);
            void stop('the parent process ended');
          }, 500);
          watch.unref();
        }
      } catch (error) {
        // What the operator must change before a start can work: one line, exit code 2, no stack.
        if (error instanceof PortInUseError || error instanceof DataFolderInUseError || error instanceof MissingMasterKeyError
          || error instanceof SmtpSettingError) {
          process.stderr.write(`gridshare: ${error.message}\n`);
          process.exit(2);
        }
        throw error;
      }
    });
}
