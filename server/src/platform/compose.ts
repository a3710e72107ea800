import type { Credentials } from '../kernel/principal.js';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { openDb, type Db, type StoreConfig } from './store/db.js';
import { migrate } from './store/migrate.js';
import { DEFAULT_SESSION_IDLE_MS, ensureAdmin, resolvePrincipal, accountRoutes, type RateLimit } from '../accounts/index.js';
import { createHttp } from './http/app.js';
import type { Api } from './http/api.js';
import { membershipsOfUser, registryRoutes, requireCommunityManager } from '../registry/index.js';
import { discoveryRoutes } from '../discovery/index.js';
import { opsRoutes, type BrokerStatus, createMetrics } from '../ops/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/embedded.js';
import { checkChosenPort, listen } from './net/listen.js';
import { lockDataFolder, makePrivate, type DataFolderLock } from './store/data-folder.js';
import { webRoutes } from '../web/index.js';
import { ensureDemoCommunity, startDemoConnectorSource, type DemoCommunity } from '../demo/index.js';
import { ReadingWriter, DeviceDirectory, IngestService, embeddedIngestHandlers, startExternalIngest, type ExternalIngest, ingestRoutes, ConnectionGuard, type ConnectLimit, recordDeviceEvent } from '../ingest/index.js';
import { LiveHub, liveRoutes } from '../live/index.js';
import { ArtefactStore, deviceAuthenticator, readDeviceKeys, provisioningRoutes, type Endpoints, deviceCredentialsStore, ArtefactBuilder } from '../provisioning/index.js';
import { frameDecoder, meterRoutes, meterKeysStore } from '../meters/index.js';
import { intervalJob, subscribeIntervals, intervalRoutes, countFailingPoints, countQuarantined } from '../intervals/index.js';
import { sharingJob, subscribeSharing, sharingRoutes } from '../sharing/index.js';
import { EventBus, outboxJob, OUTBOX_JOB } from './events/index.js';
import { JobRunner, type Job } from './jobs/index.js';
import { operatorRoutes, provisionalFigures } from '../operator/index.js';
import { billingRoutes, memberSavings } from '../billing/index.js';
import { forecastJob, forecastRoutes, registerForecastMetrics, subscribeForecast, type ForecastJobOptions } from '../forecast/index.js';
import { memoryKeys, Secrets, secretsRoutes, type KeyStore } from '../secrets/index.js';
import { DEFAULT_QUOTAS, Quotas, type QuotaLimits, quotaRoutes } from '../quotas/index.js';
import { ConnectorService, CONNECTORS_JOB, connectorJob, connectorRoutes, connectorSecretsStore } from '../connectors/index.js';

export interface PlatformOptions {
  store: StoreConfig;
  http: { port: number; host: string; explicit: boolean };
  /** The embedded broker's port, unless `externalMqtt` names a broker to consume from. */
  mqtt: { port: number; host: string; explicit: boolean };
  externalMqtt?: { url: string; group?: string; instanceId?: string; connections?: number; inflightPerConnection?: number; sessionExpirySeconds?: number };
  /** Where provisioning artefacts (batch ZIPs) are kept. */
  artefactsDir: string;
  /** How devices and browsers reach this installation; defaults to the local listening address. */
  publicUrl?: string;
  publicMqttUrl?: string;
  logger?: boolean;
  /** Mark session cookies Secure; default: when `publicUrl` is https. */
  secureCookies?: boolean;
  /** Failed log-ins per account and address, failed log-ins per address, and sign-ups per address, per window. */
  loginRateLimit?: RateLimit;
  loginAddressRateLimit?: RateLimit;
  signupRateLimit?: RateLimit;
  /** A browser session unused this long ends (default 14 days). */
  sessionIdleMs?: number;
  /** How long after ingestion quarter-hour energy is recomputed. */
  intervalDelayMs?: number;
  /** How often open live streams check their caller again (default 15 s). */
  liveRecheckMs?: number;
  /** Create the demo community before the platform starts answering. */
  demo?: boolean;
  /** Where the master keys that seal secrets at rest live (default: in memory, for tests). */
  secretKeys?: KeyStore;
  /** The installation's default quotas (a platform admin changes them through the API). */
  quotas?: Partial<QuotaLimits>;
  /** How often one device may connect to the embedded broker (default 20 times a minute). */
  deviceConnectLimit?: ConnectLimit;
  /** The forecast job: its clock (tests), the day-ahead run's local time (default 12:00), its delay after new intervals. */
  forecast?: Pick<ForecastJobOptions, 'now' | 'dayAheadLocalTime' | 'delayMs'>;
}

export interface Platform {
  readonly db: Db;
  readonly app: Api;
  readonly broker: EmbeddedBroker | undefined;
  readonly writer: ReadingWriter;
  readonly live: LiveHub;
  /** The interval job: quarter-hour energy from the readings marked dirty. */
  readonly intervals: Job;
  /** The sharing job: splits stored quarter hours by source per member after they changed. */
  readonly sharing: Job;
  /** The forecast job (intraday every 15 min, day-ahead daily, accuracy, retention); `refreshAll` forecasts every community again now. */
  readonly forecast: Job & { refreshAll(): void };
  /** The connectors job: runs the due connector instances and stores their readings through ingest. */
  readonly connectors: Job;
  /** The one event bus: capabilities publish, others subscribe (in the transaction, after commit, or durably). */
  readonly events: EventBus;
  /** The one runner of background jobs. */
  readonly jobs: JobRunner;
  readonly endpoints: Endpoints;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  /** The embedded database's folder lock, and whether a stale one (kill -9) was taken over. */
  readonly dataFolder: DataFolderLock | undefined;
  /** Set on the very first start: the admin account and its one-time password. */
  readonly bootstrapAdmin: { email: string; password: string } | undefined;
  /** Ports that were taken and replaced by free ones. */
  readonly movedPorts: { what: string; from: number; to: number }[];
  readonly demo: DemoCommunity | undefined;
  /** The master keys and the box that seals and opens stored secrets. */
  readonly secrets: Secrets;
  close(): Promise<void>;
}

const displayHost = (host: string) => (host === '0.0.0.0' || host === '::' ? 'localhost' : host);

/** The composition root: one database, one broker (or an external one), one HTTP server, every capability. */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  // Nothing opens the embedded database's folder before this process holds it, and nothing is
  // opened at all when a port the user chose is taken.
  let dataFolder: DataFolderLock | undefined;
  const privateDirs = [options.artefactsDir];
  if (options.store.kind === 'pglite' && options.store.dataDir) {
    const lock = await lockDataFolder(options.store.dataDir);
    dataFolder = lock;
    closers.push(async () => lock.release());
    privateDirs.unshift(options.store.dataDir);
  }
  try {
    await checkChosenPort({ ...options.http, what: 'HTTP', flag: '--port' });
    if (!options.externalMqtt) await checkChosenPort({ ...options.mqtt, what: 'MQTT', flag: '--mqtt-port' });
  } catch (error) {
    await closeAll();
    throw error;
  }
  const db = await openDb(options.store).catch(async (error: unknown) => {
    await closeAll();
    throw error;
  });
  closers.push(() => db.close());
  try {
    await migrate(db);
    const secrets = await Secrets.open(db, options.secretKeys ?? memoryKeys(), [deviceCredentialsStore, meterKeysStore, connectorSecretsStore]);
    // PGlite's own files and a key file created just now: private to the user.
    for (const dir of privateDirs) makePrivate(dir);
    const bootstrapAdmin = await ensureAdmin(db);
    // The demo's connector reads CSV files the demo itself drops here (next to the artefacts, private to the user).
    const demoConnectorFolder = resolve(options.artefactsDir, 'demo-connector');
    const demo = options.demo ? await ensureDemoCommunity(db, secrets.box, { connectorFolder: demoConnectorFolder }) : undefined;
    if (demo) {
      const source = await startDemoConnectorSource(demoConnectorFolder);
      closers.push(async () => source.close());
    }

    // Filled in once the ports are bound; nothing reads them before the first request.
    const endpoints: { -readonly [K in keyof Endpoints]: Endpoints[K] } = { publicUrl: '', mqttUrl: '', hostName: '' };
    const live = new LiveHub();
    const metrics = createMetrics();
    // Capabilities react to each other only through events; each background job runs on the one runner.
    const events = new EventBus();
    const jobs = new JobRunner(db, { registry: metrics.registry });
    subscribeIntervals(events, jobs);
    subscribeSharing(events, jobs);
    events.afterCommit('readings.committed', ({ messages }) => live.publish(messages));
    const intervals = jobs.register(intervalJob(db, events, options.intervalDelayMs ?? 1_000));
    const sharing = jobs.register(sharingJob(db, provisionalFigures));
    jobs.register(outboxJob(db, events));
    const forecasts = forecastJob(db, options.forecast);
    const forecastRun = jobs.register(forecasts.definition);
    const forecast = {
      name: forecastRun.name,
      wake: () => forecastRun.wake(),
      flush: () => forecastRun.flush(),
      refreshAll: () => {
        forecasts.refreshAll();
        forecastRun.wake();
      },
    };
    subscribeForecast(events, jobs);
    registerForecastMetrics(db, metrics.registry, options.forecast?.now);
    events.onOutboxWritten(() => jobs.wake(OUTBOX_JOB));
    const writer = new ReadingWriter(db, events, {
      // PGlite has one connection; a PostgreSQL server works on a second commit while the first waits for its fsync.
      concurrentCommits: db.kind === 'postgres' ? 2 : 1,
    });
    closers.push(() => jobs.close());
    closers.push(() => writer.close());
    // Whatever was marked or left in the outbox before a stop or a crash is done now.
    intervals.wake();
    sharing.wake();
    forecast.wake();
    jobs.wake(OUTBOX_JOB);
    const directory = new DeviceDirectory(db, async (deviceId) => (await readDeviceKeys(db, secrets.box, [deviceId])).get(deviceId));
    const authenticateDevice = (deviceId: string, token: string | undefined) =>
      deviceAuthenticator(directory, endpoints.hostName)(deviceId, token);
    const ingest = new IngestService(writer, frameDecoder(db, secrets.box));
    const connectorService = new ConnectorService({ db, secrets: secrets.box, ingest, wake: () => jobs.wake(CONNECTORS_JOB) });
    const connectors = jobs.register(connectorJob(connectorService));
    // At shutdown the runs under way stop first (they run again after the restart).
    closers.push(() => connectorService.close());
    connectors.wake();

    let broker: EmbeddedBroker | undefined;
    let external: ExternalIngest | undefined;
    let brokerStatus: BrokerStatus;
    if (options.externalMqtt) {
      external = await startExternalIngest({
        url: options.externalMqtt.url,
        group: options.externalMqtt.group ?? 'gridshare',
        // Without a stable name a restarted process would not resume its sessions, and the messages
        // in flight to them at a crash would wait in the broker until those sessions expire.
        instanceId: options.externalMqtt.instanceId ?? `${hostname()}-${options.http.port || process.pid}`,
        connections: options.externalMqtt.connections ?? 4,
        inflightPerConnection: options.externalMqtt.inflightPerConnection ?? 256,
        sessionExpirySeconds: options.externalMqtt.sessionExpirySeconds ?? 3_600,
        ingest,
        lookupDevice: async (deviceId) => {
          const device = await directory.get(deviceId);
          return device?.status === 'active' ? device : undefined;
        },
      });
      const ext = external;
      closers.push(() => ext.close());
      brokerStatus = { mode: 'external', connected: () => ext.connected() };
    } else {
      const guard = new ConnectionGuard({
        limit: options.deviceConnectLimit ?? { max: 20, windowMs: 60_000 },
        connectedAddress: (clientId) => broker?.connectedAddress(clientId),
        record: (event) => {
          recordDeviceEvent(db, event).catch((error: Error) => process.stderr.write(`gridshare: device event not recorded: ${error.message}\n`));
        },
      });
      const started = await startEmbeddedBroker({
        port: options.mqtt.port,
        host: options.mqtt.host,
        portExplicit: options.mqtt.explicit,
        ...embeddedIngestHandlers({ ingest, authenticate: authenticateDevice, guard }),
      });
      broker = started;
      closers.push(() => started.close());
      brokerStatus = { mode: 'embedded', connected: () => !started.aedes.closed };
    }

    const deviceChanged = (deviceId: string) => {
      directory.invalidate(deviceId);
      writer.forgetDevice(deviceId);
      // A disabled, re-keyed or removed device must authenticate again.
      broker?.disconnect(deviceId);
    };

    const quotas = new Quotas({ ...DEFAULT_QUOTAS, ...options.quotas });
    metrics.gauge('gridshare_interval_points_failing', 'Metering points whose interval computation failed and is set aside for a retry', () => countFailingPoints(db));
    metrics.gauge('gridshare_intervals_quarantined', 'Quarter hours beyond their site\'s connection capacity, kept out of the sharing', () => countQuarantined(db));
    const principalOf = (credentials: Credentials) => resolvePrincipal(db, credentials, membershipsOfUser);
    const app = await createHttp({
      db, logger: options.logger ?? false, publicUrl: () => endpoints.publicUrl || options.publicUrl, resolvePrincipal: principalOf,
    });
    closers.push(() => app.close());
    await opsRoutes(app, { db, metrics, broker: brokerStatus });
    await accountRoutes(app, {
      db,
      // Browsers that reach the installation over https get Secure cookies without being told.
      secureCookies: options.secureCookies ?? options.publicUrl?.startsWith('https:') ?? false,
      loginRateLimit: options.loginRateLimit ?? { max: 5, windowMs: 15 * 60_000 },
      loginAddressRateLimit: options.loginAddressRateLimit ?? { max: 15, windowMs: 15 * 60_000 },
      signupRateLimit: options.signupRateLimit ?? { max: 20, windowMs: 3_600_000 },
      sessionIdleMs: options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS,
    });
    await registryRoutes(app, { db, quotas, deviceChanged, events });
    await quotaRoutes(app, { db, quotas, requireCommunityManager: (principal, communityId) => requireCommunityManager(db, principal, communityId) });
    await discoveryRoutes(app, { db });
    await provisioningRoutes(app, { db, store: new ArtefactStore(options.artefactsDir), endpoints, deviceChanged, quotas, builder: new ArtefactBuilder(), secrets: secrets.box });
    await ingestRoutes(app, { db, ingest, writer, authenticateDevice });
    await liveRoutes(app, { db, hub: live, resolvePrincipal: principalOf, ...(options.liveRecheckMs ? { recheckMs: options.liveRecheckMs } : {}) });
    await intervalRoutes(app, { db });
    await sharingRoutes(app, { db, jobs, memberSavings: (input) => memberSavings(db, input) });
    await operatorRoutes(app, { db, jobs });
    await billingRoutes(app, { db });
    await forecastRoutes(app, { db, jobs, ...(options.forecast?.now ? { now: options.forecast.now } : {}) });
    await meterRoutes(app, { db, secrets: secrets.box });
    await secretsRoutes(app, { db, secrets });
    await connectorRoutes(app, { service: connectorService });
    await webRoutes(app);
    await app.ready();

    const bound = await listen(app.server, { ...options.http, what: 'HTTP', flag: '--port' });
    const httpUrl = `http://${displayHost(options.http.host)}:${bound.port}`;
    const mqttUrl = options.externalMqtt?.url ?? `mqtt://${displayHost(options.mqtt.host)}:${broker!.port}`;
    endpoints.publicUrl = (options.publicUrl ?? httpUrl).replace(/\/$/, '');
    endpoints.mqttUrl = options.publicMqttUrl ?? mqttUrl;
    endpoints.hostName = new URL(endpoints.publicUrl).host;

    const movedPorts = [
      ...(bound.movedFrom ? [{ what: 'HTTP', from: bound.movedFrom, to: bound.port }] : []),
      ...(broker?.movedFrom ? [{ what: 'MQTT', from: broker.movedFrom, to: broker.port }] : []),
    ];
    return { db, app, broker, writer, live, intervals, sharing, forecast, connectors, events, jobs, endpoints, dataFolder, bootstrapAdmin, movedPorts, demo, secrets, httpUrl, mqttUrl, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Default artefact folder next to the embedded database. */
export const artefactsDirFor = (dataDir: string) => join(dataDir, 'artefacts');
