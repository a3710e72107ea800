import type { Credentials } from '../kernel/principal.js';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { openDb, type Db, type Queryable, type StoreConfig } from './store/db.js';
import { ConflictError } from '../kernel/errors.js';
import { migrate } from './store/migrate.js';
import { DEFAULT_SESSION_IDLE_MS, ensureAdmin, findUserByEmail, resolvePrincipal, accountRoutes, requireAdmin, requireUser, usersByIds, type RateLimit } from '../accounts/index.js';
import { createHttp } from './http/app.js';
import { componentLog, type LogOptions } from './http/logging.js';
import type { Api } from './http/api.js';
import { deviceById, invitationById, invitedAddressOfSignupToken, loadCommunity, memberById, membersOfCommunity, membershipsOfUser, meteringPointById, registryRoutes, requireCommunityManager } from '../registry/index.js';
import { discoveryRoutes } from '../discovery/index.js';
import { opsRoutes, type BrokerStatus, createMetrics } from '../ops/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './mqtt/embedded.js';
import { listen, MovedPortMemory } from './net/listen.js';
import { makePrivate, type DataFolderLock } from './store/data-folder.js';
import { claimStart, type StartClaim } from './claim.js';
import { webRoutes } from '../web/index.js';
import { type Contact, createMailer, type Directory, NOTIFICATIONS_SENDER_JOB, notificationRoutes, notificationSenderJob, Notifications, type SmtpConfig } from '../notifications/index.js';
import { ensureDemoCommunity, settleDemoMonth, startDemoConnectorSource, startDemoFlex, type DemoCommunity, type DemoFlex } from '../demo/index.js';
import { ReadingWriter, DeviceDirectory, DeviceChanges, IngestService, embeddedIngestHandlers, startExternalIngest, type ExternalIngest, ingestRoutes, RefusalLog, ConnectionGuard, type ConnectLimit, recordDeviceEvent, recordHeartbeat, readingPartitionsJob, subscribeIngest, deviceOfflineJob } from '../ingest/index.js';
import { LiveHub, liveRoutes } from '../live/index.js';
import { ArtefactStore, deviceAuthenticator, readDeviceKeys, provisioningRoutes, type Endpoints, deviceCredentialsStore, ArtefactBuilder } from '../provisioning/index.js';
import { frameDecoder, meterRoutes, meterKeysStore } from '../meters/index.js';
import { intervalJob, subscribeIntervals, intervalRoutes, countFailingPoints, countQuarantined } from '../intervals/index.js';
import { sharingJob, subscribeSharing, sharingRoutes } from '../sharing/index.js';
import { EventBus, outboxJob, OUTBOX_JOB } from './events/index.js';
import { JobRunner, type Job, type RunnerOptions } from './jobs/index.js';
import { openBroadcast } from './store/broadcast.js';
import { operatorRoutes, provisionalFigures } from '../operator/index.js';
import { billingRoutes, memberSavings, paymentReminderJob, settlementStatementIds, statementEmail } from '../billing/index.js';
import { forecastJob, forecastRoutes, registerForecastMetrics, subscribeForecast, type ForecastJobOptions } from '../forecast/index.js';
import { memoryKeys, Secrets, secretsRoutes, type KeyStore } from '../secrets/index.js';
import { DEFAULT_QUOTAS, Quotas, type QuotaLimits, quotaRoutes } from '../quotas/index.js';
import { LedgerService, ledgerAuditJob, ledgerCommunityKeyStore, ledgerJob, ledgerKeyStore, ledgerRoutes, subscribeLedger } from '../ledger/index.js';
import { ConnectorService, CONNECTORS_JOB, connectorJob, connectorRoutes, connectorSecretsStore } from '../connectors/index.js';
import { exportJob, longestRawReadingsRetentionDays, maskingSaltStore, privacyJob, privacyRoutes, registerAccessLogging, type PrivacyContext } from '../privacy/index.js';
import { MARKET_JOB, marketJob, marketRoutes, subscribeMarket, type MarketJobOptions } from '../market/index.js';
import { OPTIMISE_JOB, optimiseJob, optimiseRoutes, PlanService, Solver, subscribeOptimise } from '../optimise/index.js';
import { auditRoutes, subscribeAudit } from '../audit/index.js';
import { BrokerAuthHook, brokerSecurityRoutes, checkBroker, MosquittoSync, type OutageSizing } from '../broker-security/index.js';
import { adminRoutes, InstallationView } from '../admin/index.js';
import { readFileSync } from 'node:fs';
import { CONTROL_JOB, ControlService, controlJob, controlRoutes, embeddedCommandTransport, startExternalCommands, subscribeControl } from '../control/index.js';
import {
  defaultSchemaDirectory, FLEX_OUTBOX_JOB, FLEX_VALIDATE_JOB, FlexAdmin, FlexContracts, flexKeyStore, flexOutboxJob, FlexPortfolio, FlexPortfolioQueries, flexPortfolioQueryJob,
  FlexPrognoses, flexPrognosisJob, flexRoutes,
  FlexActivations, FlexOperation, FlexReports, FlexValidation, flexValidateJob, loadUftpSchemas, UFTP_ENDPOINT_PATH, UftpTransport, type LoadedSchemas,
} from '../flex/index.js';

export interface PlatformOptions {
  store: StoreConfig;
  http: { port: number; host: string; explicit: boolean };
  /** The embedded broker's port, unless `externalMqtt` names a broker to consume from. */
  mqtt: { port: number; host: string; explicit: boolean };
  externalMqtt?: {
    url: string; group?: string; instanceId?: string; connections?: number; inflightPerConnection?: number; sessionExpirySeconds?: number;
    /** The admin of the broker's Mosquitto dynamic-security plugin: Gridshare keeps its device clients and roles. */
    dynsecAdmin?: { username: string; password: string };
    /** The outage the broker must bridge: at start Gridshare probes whether it would (warnings in `brokerWarnings`). */
    outageSizing?: Omit<OutageSizing, 'sessions'>;
  };
  /** Where provisioning artefacts (batch ZIPs) are kept. */
  artefactsDir: string;
  /** How devices and browsers reach this installation; defaults to the local listening address. */
  publicUrl?: string;
  publicMqttUrl?: string;
  /** Log every request and its answer (`--log`); failures are always logged. */
  logger?: boolean;
  /** The log's level and destination (default: info, standard error); see server/src/ops/README.md. */
  log?: Omit<LogOptions, 'requests'>;
  /** Mark session cookies Secure; default: when `publicUrl` is https. */
  secureCookies?: boolean;
  /** Failed log-ins per account and address, failed log-ins per address, and sign-ups per address, per window. */
  loginRateLimit?: RateLimit;
  loginAddressRateLimit?: RateLimit;
  signupRateLimit?: RateLimit;
  /** A browser session unused this long ends (default 14 days). */
  sessionIdleMs?: number;
  /** The mail server email goes out through (`SMTP_URL`); without it email is off. */
  smtp?: SmtpConfig;
  /** Password reset requests per email (default 3 an hour) and per client address (default 20 an hour), and the links' clock (tests). */
  passwordReset?: { perEmail?: RateLimit; perAddress?: RateLimit; now?: () => number };
  /** Notifications: the sender's clock (tests drive retries with it) and how often it looks for due retries (default 30 s). */
  notifications?: { now?: () => number; everyMs?: number };
  /** Billing's payment reminders: their clock (tests). */
  billing?: { now?: () => number };
  /** Ingest's device-offline alerts: their clock (tests). */
  deviceOffline?: { now?: () => number };
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
  /** The privacy capability's clock (consents, the access log, erasure, retention; tests). */
  privacy?: { now?: () => number };
  /** The market job: its clock (tests; the market's routes use it too), how far back it clears, when intervals count as final. */
  market?: Pick<MarketJobOptions, 'now' | 'lookbackMs' | 'finalDelayMs' | 'everyMs'>;
  /** The plans (MPC): their clock (tests), the delay after a trigger, steps per plan (default 96) and the solver's time limit (default 20 s). */
  optimise?: { now?: () => number; delayMs?: number; steps?: number; timeLimitS?: number };
  /** Commands to devices: the clock (tests) and how long after an unanswered MQTT delivery it is sent again (default 60 s). */
  control?: { now?: () => number; retryMs?: number };
  /** UFTP (flex): the clock (tests drive the outbox's retries, gates and expiry with it), where the UFTP XSDs are (default: `$UFTP_XSD_DIR`, else the copy shipped in flex/uftp-xsd), and the solver's limit per plan of a FlexRequest or D-Prognosis (s, default 20). */
  flex?: { now?: () => number; schemaDirectory?: string; replanTimeLimitS?: number };
  /** The background jobs: how long a lease lasts unrenewed (default 1 min), how many passes run at once, a hook once units are leased, and the clock of lags and last passes (tests). */
  jobs?: Pick<RunnerOptions, 'leaseMs' | 'concurrentPasses' | 'afterLease' | 'now'>;
  /** The admin console's clock (the installation's health: devices online, ingest rates; tests). */
  admin?: { now?: () => number };
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
  /** The privacy job: erasure requests, and once a day the retention of privacy's records. */
  readonly privacy: Job;
  /** The market job: clears each slot at its gate closure, settles it once its intervals are final; `catchUpFrom` clears a community's past slots as their data comes in. */
  readonly market: Job & { catchUpFrom(communityId: string, fromMs: number): void };
  /** The plans: the MPC job (every 15 min and on triggers) and the service that plans a community now. */
  readonly optimise: Job & { readonly service: PlanService };
  /** The verifiable record: its service and the job that appends and checkpoints. */
  readonly ledger: { readonly service: LedgerService; readonly job: Job };
  /** Commands to devices (plans' and people's), their delivery and acknowledgements. */
  readonly control: ControlService;
  /** The command delivery job: expiry, MQTT publishing and retries. */
  readonly commands: Job;
  /** UFTP with the grid operator: the transport (receive, send) and its outbox job. */
  readonly flex: { readonly transport: UftpTransport; readonly outbox: Job; readonly validation: FlexValidation; readonly operation: FlexOperation; readonly validate: Job; readonly prognosis: Job; readonly portfolioQuery: Job };
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
  /**
   * Default ports that were taken and replaced: by the replacement used before when it is free
   * (remembered in the artefacts folder), else by a free one — `previous` then names the earlier
   * replacement that devices provisioned before were given.
   */
  readonly movedPorts: { what: string; from: number; to: number; previous?: number }[];
  readonly demo: DemoCommunity | undefined;
  /** The demo's simulated DSO and its first day's trading (demo/flex.ts). */
  readonly demoFlex: DemoFlex | undefined;
  /** The master keys and the box that seals and opens stored secrets. */
  readonly secrets: Secrets;
  /** On an external Mosquitto with dynamic security: the device clients and roles Gridshare keeps there. */
  readonly brokerSync: MosquittoSync | undefined;
  /** What the start found about the external broker that would lose or let in what it should not. */
  readonly brokerWarnings: readonly string[];
  close(): Promise<void>;
}

const displayHost = (host: string) => (host === '0.0.0.0' || host === '::' ? 'localhost' : host);

/**
 * The composition root: one database, one broker (or an external one), one HTTP server, every
 * capability. `claim` is the start's claim (claimStart) when the caller took it already, else it is
 * taken first here.
 */
export async function startPlatform(options: PlatformOptions, claim?: StartClaim): Promise<Platform> {
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  const { dataFolder } = claim ?? await claimStart(options);
  const privateDirs = [options.artefactsDir];
  const movedPortMemory = new MovedPortMemory(options.artefactsDir);
  if (dataFolder) closers.push(async () => dataFolder.release());
  if (options.store.kind === 'pglite' && options.store.dataDir) privateDirs.unshift(options.store.dataDir);
  const db = await openDb(options.store).catch(async (error: unknown) => {
    await closeAll();
    throw error;
  });
  closers.push(() => db.close());
  try {
    await migrate(db);
    const secrets = await Secrets.open(db, options.secretKeys ?? memoryKeys(), [deviceCredentialsStore, meterKeysStore, connectorSecretsStore, ledgerKeyStore, ledgerCommunityKeyStore, flexKeyStore, maskingSaltStore]);
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
    // Several processes on one PostgreSQL: each browser sees the readings every process ingests, and
    // each process forgets a device another one changed.
    const broadcast = options.store.kind === 'postgres' ? await openBroadcast(options.store.url, db, (line) => process.stderr.write(`${line}\n`)) : undefined;
    if (broadcast) {
      closers.push(() => broadcast.close());
      await live.connect(broadcast);
    }
    const metrics = createMetrics();
    const principalOf = (credentials: Credentials) => resolvePrincipal(db, credentials, membershipsOfUser);
    // Created first (listening comes last): its logger is the installation's, every component logs through it.
    const app = await createHttp({
      db, log: { ...options.log, requests: options.logger ?? false }, publicUrl: () => endpoints.publicUrl || options.publicUrl, resolvePrincipal: principalOf,
    });
    // Capabilities react to each other only through events; each background job runs on the one runner.
    const events = new EventBus(componentLog(app.log, 'events', 'error'));
    const jobs = new JobRunner(db, { registry: metrics.registry, log: componentLog(app.log, 'jobs', 'error'), ...options.jobs });
    metrics.observeEvents(events);
    // The audit trail is written in the transaction of each change a person makes.
    subscribeAudit(events);
    // Events become in-app notifications and queued emails; the sender job sends them (with a lease each).
    const mailer = options.smtp ? createMailer(options.smtp) : undefined;
    // Closed after the app, which waits for the emails its requests started.
    if (mailer) closers.push(async () => mailer.close());
    const notifications = new Notifications({
      db, directory: notificationDirectory(), mailer, publicUrl: () => endpoints.publicUrl, now: options.notifications?.now ?? Date.now,
      wake: () => jobs.wake(NOTIFICATIONS_SENDER_JOB),
    });
    notifications.subscribe(events);
    const notificationSender = jobs.register(notificationSenderJob(notifications, options.notifications?.everyMs ? { everyMs: options.notifications.everyMs } : {}));
    jobs.register(paymentReminderJob(db, events, options.billing?.now ? { now: options.billing.now } : {}));
    jobs.register(deviceOfflineJob(db, events, options.deviceOffline?.now ? { now: options.deviceOffline.now } : {}));
    subscribeIngest(events);
    subscribeIntervals(events, jobs);
    subscribeSharing(events, jobs);
    events.afterCommit('readings.committed', ({ messages }) => live.publish(messages));
    const intervals = jobs.register(intervalJob(db, events, options.intervalDelayMs ?? 1_000));
    const sharing = jobs.register(sharingJob(db, provisionalFigures));
    jobs.register(outboxJob(db, events));
    const forecasts = forecastJob(db, { ...options.forecast, events, log: componentLog(app.log, 'forecast', 'warn') });
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
    const markets = marketJob(db, events, { ...options.market, log: componentLog(app.log, 'market', 'warn') });
    const marketRun = jobs.register(markets.definition);
    const market = {
      name: marketRun.name,
      wake: () => marketRun.wake(),
      flush: () => marketRun.flush(),
      catchUpFrom: (communityId: string, fromMs: number) => {
        markets.catchUpFrom(communityId, fromMs);
        marketRun.wake();
      },
    };
    subscribeMarket(events, jobs, markets);
    // The log's name is the public host the key is made for, known once the server listens.
    const ledgerService = new LedgerService(db, secrets.box, { origin: () => `${endpoints.hostName}/ledger` });
    subscribeLedger(events, jobs, ledgerService);
    const ledger = { service: ledgerService, job: jobs.register(ledgerJob(ledgerService)) };
    jobs.register(ledgerAuditJob(ledgerService, componentLog(app.log, 'ledger', 'error')));
    // A new demo gets its previous month settled and closed: its statements are in the record from the start.
    if (demo?.created) await settleDemoMonth(db, events, demo.communityId);
    metrics.gauge('gridshare_ledger_entries', 'Entries in the verifiable record', () => ledgerService.size());
    metrics.gauge('gridshare_ledger_audit_failures', 'What the last audit of the verifiable record found wrong (0: the stored log matches every published checkpoint)', () => ledgerService.auditFailures());
    registerForecastMetrics(db, metrics.registry, options.forecast?.now);
    events.onOutboxWritten(() => jobs.wake(OUTBOX_JOB));
    // One solver (a HiGHS worker thread) for every plan of this process.
    const solver = new Solver();
    closers.push(() => solver.close());
    const planService = new PlanService(db, events, solver, {
      now: options.optimise?.now ?? Date.now, steps: options.optimise?.steps ?? 96, timeLimitS: options.optimise?.timeLimitS ?? 20,
      onPlanned: metrics.planned,
    });
    const plans = optimiseJob(db, planService, { wake: () => jobs.wake(OPTIMISE_JOB), ...(options.optimise?.delayMs ? { delayMs: options.optimise.delayMs } : {}) });
    const optimiseRun = jobs.register(plans.definition);
    const optimise = { name: optimiseRun.name, wake: () => optimiseRun.wake(), flush: () => optimiseRun.flush(), service: planService };
    subscribeOptimise(events, planService, plans);
    const log = componentLog(app.log, 'control', 'warn');
    const controlNow = options.control?.now ?? Date.now;
    const control = new ControlService({
      db, events, now: controlNow, retryMs: options.control?.retryMs ?? 60_000, wake: () => jobs.wake(CONTROL_JOB), log,
    });
    subscribeControl(events, jobs, control);
    const commands = jobs.register(controlJob(db, control));
    // The UFTP schemas are compiled when the first message arrives (most installations never trade flexibility).
    let uftpSchemas: LoadedSchemas | undefined;
    const schemaDirectory = options.flex?.schemaDirectory ?? defaultSchemaDirectory();
    closers.push(async () => uftpSchemas?.dispose());
    // The demo sets the flex clock to past instants while it trades its first settled day (demo/flex.ts).
    let flexClockMs: number | undefined;
    const flexNow = options.flex?.now ?? (() => flexClockMs ?? Date.now());
    const uftpSchemasNow = () => (uftpSchemas ??= loadUftpSchemas(schemaDirectory));
    // The validate phase answers FlexRequests under a contract; the transport asks it when it accepts one.
    let validation: FlexValidation | undefined;
    const uftp = new UftpTransport({
      db, events, box: secrets.box, now: flexNow, wake: () => jobs.wake(FLEX_OUTBOX_JOB), schemas: uftpSchemasNow,
      validation: { answersLater: (tx, communityId, participantId, request) => validation!.answersLater(tx, communityId, participantId, request), wake: () => jobs.wake(FLEX_VALIDATE_JOB) },
    });
    const replanTimeLimitS = options.flex?.replanTimeLimitS;
    validation = new FlexValidation({ db, transport: uftp, plans: planService, schemas: uftpSchemasNow, now: flexNow, ...(replanTimeLimitS ? { timeLimitS: replanTimeLimitS } : {}) });
    // Operate: the orders the community accepted bound its plans in operation.
    const operation = new FlexOperation({ db, schemas: uftpSchemasNow });
    planService.useTargets(operation.planTargets);
    const prognoses = new FlexPrognoses({ db, transport: uftp, plans: planService, now: flexNow, schemas: uftpSchemasNow, ...(replanTimeLimitS ? { timeLimitS: replanTimeLimitS } : {}) });
    const flexAdmin = new FlexAdmin({ db, events, box: secrets.box, now: flexNow, publicUrl: () => endpoints.publicUrl });
    const flexContracts = new FlexContracts({ db, events, now: flexNow });
    const flexPortfolio = new FlexPortfolio({ db, events, now: flexNow });
    const flex = {
      transport: uftp, outbox: jobs.register(flexOutboxJob(uftp)), validation, operation, validate: jobs.register(flexValidateJob(validation)), prognosis: jobs.register(flexPrognosisJob(prognoses)),
      portfolioQuery: jobs.register(flexPortfolioQueryJob(new FlexPortfolioQueries({ db, transport: uftp, now: flexNow }))),
    };
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
    market.wake();
    optimise.wake();
    jobs.wake(OUTBOX_JOB);
    const directory = new DeviceDirectory(db, async (deviceId) => (await readDeviceKeys(db, secrets.box, [deviceId])).get(deviceId));
    const authenticateDevice = (deviceId: string, token: string | undefined) =>
      deviceAuthenticator(directory, endpoints.hostName)(deviceId, token);
    const ingest = new IngestService(writer, frameDecoder(db, secrets.box), metrics.readingsRefused);
    const connectorService = new ConnectorService({ db, secrets: secrets.box, ingest, events, wake: () => jobs.wake(CONNECTORS_JOB), onRun: metrics.connectorRun });
    const connectors = jobs.register(connectorJob(connectorService));
    // At shutdown the runs under way stop first (they run again after the restart).
    closers.push(() => connectorService.close());
    connectors.wake();

    let broker: EmbeddedBroker | undefined;
    let external: ExternalIngest | undefined;
    let brokerStatus: BrokerStatus;
    const ingestLog = componentLog(app.log, 'ingest', 'warn');
    const refusals = new RefusalLog({ write: ingestLog });
    let brokerSync: MosquittoSync | undefined;
    const brokerWarnings: string[] = [];
    if (options.externalMqtt) {
      const { url, dynsecAdmin, outageSizing } = options.externalMqtt;
      if (dynsecAdmin) {
        const account = new URL(url);
        const service = account.username ? { username: decodeURIComponent(account.username), password: decodeURIComponent(account.password) } : undefined;
        const sync = await MosquittoSync.start({ db, secrets: secrets.box, url, admin: dynsecAdmin, ...(service ? { service } : {}), log });
        brokerSync = sync;
        closers.push(() => sync.close());
      } else {
        brokerWarnings.push('Gridshare does not manage device authentication on this broker (no dynamic-security admin given): the broker must authenticate devices itself');
      }
      if (outageSizing) {
        const sessions = options.externalMqtt.connections ?? 4;
        brokerWarnings.push(...await checkBroker({ url, sizing: { ...outageSizing, sessions } }));
      }
      for (const warning of brokerWarnings) log(`gridshare: warning: ${warning}`);
      const consumer = {
        url: options.externalMqtt.url,
        group: options.externalMqtt.group ?? 'gridshare',
        // Without a stable name a restarted process would not resume its sessions, and the messages
        // in flight to them at a crash would wait in the broker until those sessions expire.
        instanceId: options.externalMqtt.instanceId ?? `${hostname()}-${options.http.port || process.pid}`,
        lookupDevice: async (deviceId: string) => {
          const device = await directory.get(deviceId);
          return device?.status === 'active' && !device.communitySuspended ? device : undefined;
        },
      };
      external = await startExternalIngest({
        ...consumer,
        connections: options.externalMqtt.connections ?? 4,
        inflightPerConnection: options.externalMqtt.inflightPerConnection ?? 256,
        sessionExpirySeconds: options.externalMqtt.sessionExpirySeconds ?? 3_600,
        ingest,
        heartbeats: (device, payload) => recordHeartbeat(db, device, payload, new Date()),
        onRefused: (deviceId, reason) => refusals.refused(deviceId, reason),
      });
      const ext = external;
      closers.push(() => ext.close());
      const externalCommands = await startExternalCommands({
        ...consumer,
        onAck: (device, payload) => control.mqttAck(device, payload),
        log,
        now: controlNow,
      });
      closers.push(() => externalCommands.close());
      control.attach(externalCommands);
      brokerStatus = { mode: 'external', connected: () => ext.connected() };
    } else {
      const guard = new ConnectionGuard({
        limit: options.deviceConnectLimit ?? { max: 20, windowMs: 60_000 },
        connectedAddress: (clientId) => broker?.connectedAddress(clientId),
        record: (event) => {
          recordDeviceEvent(db, event).catch((error: Error) => ingestLog(`device event not recorded: ${error.message}`, { deviceId: event.device.id }));
        },
      });
      const started = await startEmbeddedBroker({
        port: options.mqtt.port,
        host: options.mqtt.host,
        portExplicit: options.mqtt.explicit,
        previousPort: movedPortMemory.previous('MQTT'),
        ...embeddedIngestHandlers({
          ingest, authenticate: authenticateDevice, guard, onRefused: (device, reason) => refusals.refused(device.id, reason),
          commandAcks: (device, payload) => control.mqttAck(device, payload),
          heartbeats: (device, payload) => recordHeartbeat(db, device, payload, new Date()),
        }),
      });
      broker = started;
      metrics.observeEmbeddedBroker(started.aedes);
      control.attach(embeddedCommandTransport(started, (deviceId) => {
        control.deviceSubscribed(deviceId).catch((error: Error) => log(`gridshare: commands for ${deviceId} not delivered: ${error.message}`));
      }));
      closers.push(() => started.close());
      brokerStatus = { mode: 'embedded', connected: () => !started.aedes.closed };
    }

    const forgetDevice = (deviceId: string) => {
      directory.invalidate(deviceId);
      writer.forgetDevice(deviceId);
      // A disabled, re-keyed or removed device must authenticate again.
      broker?.disconnect(deviceId);
    };
    const deviceChanges = broadcast && await DeviceChanges.connect(broadcast, forgetDevice, ingestLog);
    const deviceChanged = (deviceId: string) => {
      forgetDevice(deviceId);
      deviceChanges?.announce(deviceId);
      // The broker's own records are shared: kept by the process that made the change.
      brokerSync?.deviceChanged(deviceId);
    };
    const privacyContext: PrivacyContext = {
      db, now: options.privacy?.now ?? Date.now, events, deviceChanged, box: secrets.box, exportsDir: join(options.artefactsDir, 'privacy-exports'),
    };
    const privacy = jobs.register(privacyJob(privacyContext, { log: componentLog(app.log, 'privacy', 'info') }));
    privacy.wake();
    // Exports left waiting or half-written by the process before this one are taken up at start.
    jobs.register(exportJob(privacyContext)).wake();
    // Readings are partitioned by month (one table for all communities), kept as long as the longest
    // retention. The first pass runs before the platform takes readings: this month's partition is
    // there, and nothing is removed later under a test or a demo that has just started.
    await jobs.register(readingPartitionsJob(db, {
      retentionDays: () => longestRawReadingsRetentionDays(db), log: componentLog(app.log, 'ingest', 'info'),
    })).flush();

    const quotas = new Quotas({ ...DEFAULT_QUOTAS, ...options.quotas });
    metrics.gauge('gridshare_interval_points_failing', 'Metering points whose interval computation failed and is set aside for a retry', () => countFailingPoints(db));
    metrics.observeBrokerUp(brokerStatus.connected);
    metrics.observeDatabase(db);
    metrics.observeDisk({ artefacts: options.artefactsDir, ...(options.store.kind === 'pglite' && options.store.dataDir ? { data: options.store.dataDir } : {}) });
    metrics.labelledGauge('gridshare_commands', 'Commands to devices not closed yet, by state (queued, sent)', 'state', () => control.countOpenByState());
    metrics.gauge('gridshare_intervals_quarantined', 'Quarter hours beyond their site\'s connection capacity, kept out of the sharing', () => countQuarantined(db));
    closers.push(() => app.close());
    // Before any route: reads of a member's personal data by others go into the member's access log.
    registerAccessLogging(app, privacyContext);
    await opsRoutes(app, { db, metrics, broker: brokerStatus, resolvePrincipal: principalOf, log: componentLog(app.log, 'ops', 'warn') });
    await accountRoutes(app, {
      db,
      events,
      // Browsers that reach the installation over https get Secure cookies without being told.
      secureCookies: options.secureCookies ?? options.publicUrl?.startsWith('https:') ?? false,
      loginRateLimit: options.loginRateLimit ?? { max: 5, windowMs: 15 * 60_000 },
      loginAddressRateLimit: options.loginAddressRateLimit ?? { max: 15, windowMs: 15 * 60_000 },
      signupRateLimit: options.signupRateLimit ?? { max: 20, windowMs: 3_600_000 },
      sessionIdleMs: options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS,
      passwordReset: {
        mailer,
        publicUrl: () => endpoints.publicUrl,
        perEmail: options.passwordReset?.perEmail ?? { max: 3, windowMs: 3_600_000 },
        perAddress: options.passwordReset?.perAddress ?? { max: 20, windowMs: 3_600_000 },
        now: options.passwordReset?.now ?? Date.now,
      },
      verificationEmail: { perAccount: { max: 3, windowMs: 3_600_000 }, perAddress: { max: 20, windowMs: 3_600_000 } },
      invitedAddress: invitedAddressOfSignupToken,
    });
    await registryRoutes(app, { db, quotas, deviceChanged, events });
    await quotaRoutes(app, { db, quotas, events, requireCommunityManager: (principal, communityId) => requireCommunityManager(db, principal, communityId) });
    await discoveryRoutes(app, { db });
    await provisioningRoutes(app, { db, store: new ArtefactStore(options.artefactsDir), endpoints, deviceChanged, quotas, builder: new ArtefactBuilder(), secrets: secrets.box, events });
    await ingestRoutes(app, { db, ingest, writer, authenticateDevice });
    await liveRoutes(app, { db, hub: live, resolvePrincipal: principalOf, ...(options.liveRecheckMs ? { recheckMs: options.liveRecheckMs } : {}) });
    await intervalRoutes(app, { db });
    await sharingRoutes(app, { db, events, jobs, memberSavings: (input) => memberSavings(db, input) });
    await operatorRoutes(app, { db, events, jobs });
    await billingRoutes(app, { db, events });
    await forecastRoutes(app, { db, events, jobs, ...(options.forecast?.now ? { now: options.forecast.now } : {}) });
    await meterRoutes(app, { db, events, secrets: secrets.box });
    await secretsRoutes(app, { db, events, secrets });
    await connectorRoutes(app, { service: connectorService });
    await privacyRoutes(app, { ctx: privacyContext, jobs });
    await marketRoutes(app, {
      db, events, wake: () => jobs.wake(MARKET_JOB), recordedThrough: (communityId) => ledgerService.recordedMarketPostings(communityId),
      ...(options.market?.now ? { now: options.market.now } : {}),
    });
    await optimiseRoutes(app, { db, events, service: planService, job: plans });
    await ledgerRoutes(app, { service: ledgerService, events });
    await controlRoutes(app, { control, authenticateDevice });
    await flexRoutes(app, { transport: uftp, admin: flexAdmin,
      contracts: flexContracts, portfolio: flexPortfolio, validation: flex.validation, operation: flex.operation,
      reports: new FlexReports({ db, now: flexNow }), activations: new FlexActivations({ db, now: flexNow, schemas: uftpSchemasNow }) });
    await auditRoutes(app, { db, requireAdmin, requireCommunityManager: (principal, communityId) => requireCommunityManager(db, principal, communityId) });
    await brokerSecurityRoutes(app, { hook: new BrokerAuthHook({ lookup: (deviceId) => directory.get(deviceId), verifySas: authenticateDevice }) });
    const installation = new InstallationView({
      db, jobs, broker: brokerStatus, connectors: connectorService, ledger: ledgerService, now: options.admin?.now ?? Date.now,
      dataFolder: options.store.kind === 'pglite' && options.store.dataDir ? options.store.dataDir : options.artefactsDir,
      version: (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version,
    });
    await adminRoutes(app, { db, events, jobs, installation, deviceChanged });
    await notificationRoutes(app, {
      db, service: notifications, events, requireUser, requireCommunityManager: (principal, communityId) => requireCommunityManager(db, principal, communityId),
      settlementCommunity: async (settlementId) => (await settlementStatementIds(db, settlementId))?.communityId,
      closedStatements: async (settlementId) => {
        const settlement = await settlementStatementIds(db, settlementId);
        if (!settlement) return undefined;
        if (!settlement.closed) throw new ConflictError('the month is not closed: its statements are not issued yet');
        const directory = notificationDirectory();
        const statements = [];
        for (const { statementId, memberId } of settlement.statements) {
          const contact = await directory.member(db, memberId);
          const mail = contact && await statementEmail(db, statementId, { pdf: false, locale: contact.recipient.communityLocale ?? 'en' });
          if (contact && mail) statements.push({ statementId, contact, mail });
        }
        return { communityId: settlement.communityId, statements };
      },
    });
    await webRoutes(app);
    await app.ready();
    // The OpenAPI document is built once, here, with every route known: built on the first request
    // instead, the API docs page was handed one that ended after the account routes.
    app.swagger();

    const bound = await listen(app.server, { ...options.http, what: 'HTTP', flag: '--port', previous: movedPortMemory.previous('HTTP') });
    const httpUrl = `http://${displayHost(options.http.host)}:${bound.port}`;
    const mqttUrl = options.externalMqtt?.url ?? `mqtt://${displayHost(options.mqtt.host)}:${broker!.port}`;
    endpoints.publicUrl = (options.publicUrl ?? httpUrl).replace(/\/$/, '');
    endpoints.mqttUrl = options.publicMqttUrl ?? mqttUrl;
    endpoints.hostName = new URL(endpoints.publicUrl).host;
    await ledgerService.ensureKey();
    ledger.job.wake();

    const movedPorts = [
      ...(bound.movedFrom ? [{ what: 'HTTP', from: bound.movedFrom, to: bound.port, ...(bound.previousLost ? { previous: bound.previousLost } : {}) }] : []),
      ...(broker?.movedFrom ? [{ what: 'MQTT', from: broker.movedFrom, to: broker.port, ...(broker.previousLost ? { previous: broker.previousLost } : {}) }] : []),
    ];
    for (const moved of movedPorts) movedPortMemory.remember(moved.what, moved.to);
    // Commands stored before a stop are delivered (or expired) now that the broker runs.
    commands.wake();
    // Emails queued before a stop are sent now that the public address is known (their links need it).
    notificationSender.wake();
    flex.outbox.wake();
    let demoFlex: DemoFlex | undefined;
    if (demo) {
      // The demo's grid operator: a DSO simulator in this process, speaking UFTP to this platform's endpoint.
      const started = startDemoFlex({
        db, communityId: demo.communityId, admin: flexAdmin, contracts: flexContracts, portfolio: flexPortfolio, prognose: () => flex.prognosis.flush(),
        schemas: () => uftpSchemasNow(), agrUrl: `${httpUrl.replace('localhost', '127.0.0.1')}${UFTP_ENDPOINT_PATH}`, folder: resolve(options.artefactsDir, 'demo-dso'),
        setClock: (atMs) => {
          flexClockMs = atMs;
        },
        now: flexNow,
        flush: async () => {
          await flex.validate.flush();
          await flex.outbox.flush();
        },
        ingest: async (deviceId, readings) => {
          const device = await directory.get(deviceId);
          if (device) await ingest.ingestJson(device, { parsed: { readings } });
        },
        flushIntervals: () => intervals.flush(),
        log: componentLog(app.log, 'demo', 'info'), warn: componentLog(app.log, 'demo', 'warn'),
      });
      demoFlex = started;
      closers.push(() => started.close());
    }
    return { db, app, broker, writer, live, intervals, sharing, forecast, connectors, privacy, market, optimise, ledger, control, commands, flex, events, jobs, endpoints, dataFolder, bootstrapAdmin, movedPorts, demo, demoFlex, secrets, brokerSync, brokerWarnings, httpUrl, mqttUrl, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * What notifications may know of people, communities and statements, from the capabilities that
 * own them (notifications reads no other capability's tables).
 */
function notificationDirectory(): Directory {
  const contactOf = async (q: Queryable, member: { id: string; userId: string; communityId: string; role: 'member' | 'manager' }): Promise<Contact | undefined> => {
    // One after another, as in `invitation` below: q is the handler's transaction (one connection).
    const community = await loadCommunity(q, member.communityId);
    const user = (await usersByIds(q, [member.userId])).get(member.userId);
    if (!community || !user) return undefined;
    return {
      userId: member.userId, memberId: member.id, communityId: member.communityId, communityName: community.name, emailConfirmed: user.emailVerified,
      recipient: {
        name: user.displayName, email: user.email, ...(user.locale ? { locale: user.locale } : {}), communityLocale: community.locale, timeZone: community.timeZone, role: member.role,
      },
    };
  };
  return {
    async invitation(q, invitationId) {
      const invitation = await invitationById(q, invitationId);
      if (!invitation || invitation.state !== 'pending') return undefined;
      // One after another: q is the handler's transaction (one connection).
      const community = await loadCommunity(q, invitation.communityId);
      if (!community) return undefined;
      const account = await findUserByEmail(q, invitation.email);
      const inviters = await usersByIds(q, invitation.invitedBy ? [invitation.invitedBy] : []);
      return {
        communityId: community.id, communityName: community.name, inviterName: (invitation.invitedBy && inviters.get(invitation.invitedBy)?.displayName) || community.name,
        userId: account?.id,
        recipient: {
          name: account?.displayName ?? invitation.email, email: invitation.email, ...(account?.locale ? { locale: account.locale } : {}),
          communityLocale: community.locale, timeZone: community.timeZone, role: 'member',
        },
      };
    },
    async member(q, memberId) {
      const member = await memberById(q, memberId);
      return member && contactOf(q, member);
    },
    async managers(q, communityId) {
      const managers = (await membersOfCommunity(q, communityId, 'active')).filter((m) => m.role === 'manager');
      const contacts: Contact[] = [];
      for (const manager of managers) {
        const contact = await contactOf(q, manager);
        if (contact) contacts.push(contact);
      }
      return contacts;
    },
    statement: (q, statementId, options) => statementEmail(q, statementId, options),
    meteringPointName: async (q, meteringPointId) => (await meteringPointById(q, meteringPointId))?.name,
    async device(q, deviceId) {
      const device = await deviceById(q, deviceId);
      if (!device || device.status !== 'active') return undefined;
      const point = device.meteringPointId === null ? undefined : await meteringPointById(q, device.meteringPointId);
      return { communityId: device.communityId, name: device.name, memberId: point?.memberId };
    },
    currency: async (q, communityId) => (await loadCommunity(q, communityId))?.currency,
  };
}

/** Default artefact folder next to the embedded database. */
export const artefactsDirFor = (dataDir: string) => join(dataDir, 'artefacts');
