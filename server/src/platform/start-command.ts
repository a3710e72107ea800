import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { artefactsDirFor, startPlatform } from './compose.js';
import { PortInUseError } from './net/listen.js';
import { DataFolderInUseError } from './store/data-folder.js';
import { startDemoSimulation } from '../demo/index.js';
import { environmentKeys, KEY_FILE_NAME, keyFile, MissingMasterKeyError, SECRET_KEY_VARIABLE } from '../secrets/index.js';

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return port;
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!(days > 0) || days > 3_650) throw new InvalidArgumentError('a number of days above 0 (fractions allowed), at most 3650');
  return days;
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
    .addOption(new Option('--mqtt-url <url>', 'consume devices from this MQTT broker (MQTT 5 shared subscriptions) instead of the embedded one').env('MQTT_URL'))
    .addOption(new Option('--mqtt-group <name>', 'with --mqtt-url: shared-subscription group, the same for every process of one installation').default('gridshare').env('MQTT_GROUP'))
    .addOption(new Option('--mqtt-instance <id>', 'with --mqtt-url: this process\'s name in the group, stable across restarts so it resumes its MQTT sessions (default: host name and HTTP port)').env('MQTT_INSTANCE'))
    .addOption(new Option('--public-url <url>', 'how devices and browsers reach this installation (default: the local address)').env('GRIDSHARE_PUBLIC_URL'))
    .addOption(new Option('--secret-key-file <file>', `the master key file, created (mode 0600) at the first start unless ${SECRET_KEY_VARIABLE} holds the keys (default: <data>/${KEY_FILE_NAME}, also with --database-url)`).env('GRIDSHARE_SECRET_KEY_FILE'))
    .addOption(new Option('--artefacts-dir <dir>', 'where provisioning artefacts are kept (default: <data>/artefacts)').env('GRIDSHARE_ARTEFACTS'))
    .option('--demo', 'create the demo community "Sunny Street" if it is absent and simulate its devices', false)
    .option('--no-simulate', 'with --demo: do not run the simulated devices')
    .addOption(new Option('--simulate-speed <factor>', 'with --demo: replay the last day this many times faster, then run in real time').default(96).argParser(Number))
    .addOption(new Option('--session-idle-days <days>', 'a browser session unused this many days ends').default(14).argParser(parseDays).env('GRIDSHARE_SESSION_IDLE_DAYS'))
    .option('--secure-cookies', 'mark session cookies Secure (default: when --public-url is https)')
    .option('--log', 'log every request', false)
    .action(async (options: {
      port?: number; host: string; mqttPort?: number; data: string; databaseUrl?: string;
      mqttUrl?: string; mqttGroup: string; mqttInstance?: string; publicUrl?: string; artefactsDir?: string; secretKeyFile?: string;
      demo: boolean; simulate: boolean; simulateSpeed: number; sessionIdleDays: number; secureCookies?: boolean; log: boolean;
    }) => {
      const started = Date.now();
      // Everything this process writes (the embedded database, artefacts with device keys, the key
      // file) is private to its user, whatever umask it was started with.
      process.umask(0o077);
      const environmentKey = process.env[SECRET_KEY_VARIABLE];
      // With several processes on one PostgreSQL, every one needs the same keys: the environment suits that best.
      const secretKeys = environmentKey
        ? environmentKeys(environmentKey)
        : keyFile(resolve(options.secretKeyFile ?? join(options.data, KEY_FILE_NAME)));
      try {
        const platform = await startPlatform({
          secretKeys,
          store: options.databaseUrl ? { kind: 'postgres', url: options.databaseUrl } : { kind: 'pglite', dataDir: resolve(options.data) },
          http: { port: options.port ?? 8080, host: options.host, explicit: options.port !== undefined },
          mqtt: { port: options.mqttPort ?? 1883, host: options.host, explicit: options.mqttPort !== undefined },
          logger: options.log,
          ...(options.secureCookies ? { secureCookies: true } : {}),
          sessionIdleMs: options.sessionIdleDays * 86_400_000,
          demo: options.demo,
          artefactsDir: resolve(options.artefactsDir ?? artefactsDirFor(options.data)),
          ...(options.mqttUrl ? {
            externalMqtt: {
              url: options.mqttUrl,
              group: options.mqttGroup,
              instanceId: options.mqttInstance ?? `${hostname()}-${options.port ?? 8080}`,
            },
          } : {}),
          ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
        });
        const out = (line = '') => process.stdout.write(`${line}\n`);
        out(`Gridshare is running (started in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        out(`  Web app and API   ${platform.httpUrl}   (API docs: ${platform.httpUrl}/docs)`);
        out(`  MQTT broker       ${platform.mqttUrl}${platform.broker ? '' : ' (external)'}`);
        out(`  Database          ${platform.db.kind === 'pglite' ? `embedded, ${resolve(options.data)}` : 'PostgreSQL server'}`);
        const stale = platform.dataFolder?.recoveredFrom;
        if (stale) out(`  NOTE: the stale lock of Gridshare process ${stale.pid} (started ${stale.startedAt}, no longer running) was taken over.`);
        out(`  Secrets           sealed with master key ${platform.secrets.box.activeKeyId} from ${platform.secrets.source}${platform.secrets.createdKeys ? ' (created now: back it up apart from the database)' : ''}`);
        if (platform.secrets.sealedAtStart > 0) out(`  NOTE: ${platform.secrets.sealedAtStart} rows of keys stored in plain text before were sealed now.`);
        for (const warning of platform.secrets.warnings()) out(`  WARNING: ${warning}`);
        for (const moved of platform.movedPorts) {
          out(`  NOTE: ${moved.what} port ${moved.from} is taken by another program, so Gridshare uses ${moved.to}.`);
          out(`        Choose a port with ${moved.what === 'MQTT' ? '--mqtt-port' : '--port'} <port>.`);
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
        }
        const simulation = new AbortController();
        if (demo && options.simulate && platform.broker) {
          startDemoSimulation({
            db: platform.db,
            secrets: platform.secrets.box,
            mqttUrl: platform.mqttUrl.replace('localhost', '127.0.0.1'),
            hostName: platform.endpoints.hostName,
            speed: options.simulateSpeed,
            signal: simulation.signal,
            // The first forecasts come from the job's first pass (half a minute after the start, on
            // the little history there is); once the replayed day is in, every series is forecast again on it.
            onCaughtUp: () => platform.forecast.refreshAll(),
          }).catch((error: Error) => process.stderr.write(`gridshare: demo simulation stopped: ${error.message}\n`));
          out(`  Simulating its devices over MQTT: the last day replayed ${options.simulateSpeed}× faster, then live.`);
          out('  Forecasts and best hours appear within a minute and are made again once the replayed day is in.');
        }
        const stop = async (signal: string) => {
          out(`\n${signal}: stopping…`);
          simulation.abort();
          await platform.close();
          process.exit(0);
        };
        process.once('SIGINT', () => void stop('SIGINT'));
        process.once('SIGTERM', () => void stop('SIGTERM'));
      } catch (error) {
        if (error instanceof PortInUseError || error instanceof DataFolderInUseError || error instanceof MissingMasterKeyError) {
          process.stderr.write(`gridshare: ${error.message}\n`);
          process.exit(2);
        }
        throw error;
      }
    });
}
