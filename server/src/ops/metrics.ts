import { statfs } from 'node:fs/promises';
import type { Aedes } from 'aedes';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventSubscriber } from '../platform/events/index.js';
import type { Db } from '../platform/store/db.js';

/** A run of a connector instance, as connectors reports it. */
export interface ConnectorRunObserved {
  readonly kind: string;
  readonly outcome: 'ok' | 'partial' | 'failed';
  readonly durationMs: number;
}

/** A plan of a community, as optimise reports it. */
export interface PlanObserved {
  readonly status: string;
  readonly timeS: number;
}

/**
 * One registry per running platform, so several instances (tests) never share counters. Names
 * follow Prometheus' conventions: `gridshare_` prefix, base units in the name (`_seconds`,
 * `_bytes`), `_total` on counters, histograms for durations. Capabilities never see prom-client:
 * the composition root hands them the observer functions below.
 */
export interface Metrics {
  readonly registry: Registry;
  /**
   * The text of one scrape, and the metrics left out of it. The database is pinged first
   * (`gridshare_database_up`); while it does not answer, the gauges read from it are skipped
   * rather than tried, and any collector that fails is left out rather than failing the scrape,
   * so Prometheus still gets what is known and its alerts can fire.
   */
  scrape(): Promise<{ text: string; skipped: readonly string[] }>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  /** A gauge read from a capability's tables at every scrape (skipped while the database is down). */
  gauge(name: string, help: string, read: () => Promise<number>): void;
  /** A gauge with one label, each value read from a capability's tables at every scrape (skipped while the database is down). */
  labelledGauge(name: string, help: string, label: string, read: () => Promise<ReadonlyMap<string, number>>): void;
  /** Ingest refused a device's message (validation, decoding or a register going backwards), by code. */
  readingsRefused(code: string): void;
  connectorRun(run: ConnectorRunObserved): void;
  planned(plan: PlanObserved): void;
  /** Counts committed readings, forecasts issued and plans decided from their events. */
  observeEvents(events: EventSubscriber): void;
  /** Connections, refusals and dropped clients of the embedded broker. */
  observeEmbeddedBroker(aedes: Aedes): void;
  /** Whether the broker (embedded or external) is up, at every scrape. */
  observeBrokerUp(up: () => boolean): void;
  /** Whether the database answers, and the bytes it takes. */
  observeDatabase(db: Db): void;
  /** Free and total bytes of the file system holding each folder (`data`: the embedded database, `artefacts`). */
  observeDisk(folders: Readonly<Record<string, string>>): void;
}

/** Request durations from 5 ms to 10 s: an API answer, a report, an export. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A solve takes from a few milliseconds to its time limit (20 s by default). */
const SOLVE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60];
/** A connector run: a Modbus read in milliseconds to a large file over SFTP in minutes. */
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];
/** Readings per group commit: one message to the writer's largest batches. */
const COMMIT_BUCKETS = [1, 10, 100, 1_000, 5_000, 10_000, 50_000];

/** A ping slower than this counts as the database being down: a scrape must answer within Prometheus' timeout (10 s by default). */
const PING_TIMEOUT_MS = 2_000;

/** MQTT CONNACK return codes (3.1.1) a device may be refused with, by name. */
const CONNACK_REASONS: Readonly<Record<number, string>> = {
  1: 'unacceptable_protocol_version', 2: 'identifier_rejected', 3: 'server_unavailable', 4: 'bad_username_or_password', 5: 'not_authorized',
};

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gridshare_' });
  // prom-client names these gauges `_total`, a suffix Prometheus keeps for counters; the
  // same numbers by type (`gridshare_nodejs_active_handles{type}`, ...) stay.
  for (const name of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`gridshare_nodejs_active_${name}_total`);
  const registers = [registry];
  /** The gauges read from the database, skipped in a scrape while it does not answer. */
  const databaseReaders = new Set<string>();
  let pingDatabase: () => Promise<boolean> = async () => true;
  let databaseUp = true;
  /** A gauge without labels, read at every scrape. */
  const readGauge = (name: string, help: string, read: () => number | Promise<number>) => new Gauge({
    name, help, registers,
    async collect() {
      this.set(await read());
    },
  });

  // prom-client reports external memory but not the part of it in ArrayBuffers (Buffers: sockets,
  // database answers), which tells a process's native growth from the JavaScript heap's.
  readGauge('gridshare_nodejs_array_buffers_bytes', 'Bytes of ArrayBuffers and Buffers (part of gridshare_nodejs_external_memory_bytes)', () => process.memoryUsage().arrayBuffers);
  const readingsStored = new Counter({ name: 'gridshare_ingest_readings_stored_total', help: 'Readings committed to the store (duplicates included: storing is idempotent)', registers });
  const commits = new Counter({ name: 'gridshare_ingest_commits_total', help: 'Group commits of readings', registers });
  const commitSize = new Histogram({ name: 'gridshare_ingest_commit_readings', help: 'Readings per group commit', buckets: COMMIT_BUCKETS, registers });
  const refused = new Counter({ name: 'gridshare_ingest_messages_refused_total', help: 'Device messages refused, by reason', labelNames: ['reason'], registers });
  const forecasts = new Counter({ name: 'gridshare_forecasts_issued_total', help: 'Forecast runs stored for a community', registers });
  const plansDecided = new Counter({ name: 'gridshare_plans_decided_total', help: 'Plans that sent commands to devices', registers });
  const plans = new Counter({ name: 'gridshare_plans_total', help: 'Plans computed, by outcome', labelNames: ['status'], registers });
  const solveTime = new Histogram({ name: 'gridshare_plan_solve_duration_seconds', help: 'Time the MILP solver took per plan', buckets: SOLVE_BUCKETS, registers });
  const connectorRuns = new Counter({ name: 'gridshare_connector_runs_total', help: 'Connector runs, by kind and outcome (failed, partial, ok)', labelNames: ['kind', 'outcome'], registers });
  const connectorDuration = new Histogram({ name: 'gridshare_connector_run_duration_seconds', help: 'Duration of connector runs, by kind', labelNames: ['kind'], buckets: RUN_BUCKETS, registers });

  return {
    registry,
    async scrape() {
      databaseUp = await pingDatabase();
      const skipped: string[] = [];
      const texts = await Promise.all(registry.getMetricsAsArray().map(async ({ name }) => {
        if (!databaseUp && databaseReaders.has(name)) {
          skipped.push(name);
          return undefined;
        }
        // Some collectors read the database outside the gauges above (the jobs' lag, forecast
        // accuracy): one that fails costs its own metric, never the scrape.
        return registry.getSingleMetricAsString(name).catch(() => {
          skipped.push(name);
          return undefined;
        });
      }));
      return { text: `${texts.filter((text) => text !== undefined).join('\n\n')}\n`, skipped: skipped.sort() };
    },
    httpRequests: new Counter({
      name: 'gridshare_http_requests_total',
      help: 'HTTP requests by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'gridshare_http_request_duration_seconds',
      help: 'HTTP request duration by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: HTTP_BUCKETS,
      registers,
    }),
    gauge(name, help, read) {
      databaseReaders.add(name);
      readGauge(name, help, read);
    },
    labelledGauge(name, help, label, read) {
      databaseReaders.add(name);
      new Gauge({
        name, help, labelNames: [label], registers,
        async collect() {
          this.reset();
          for (const [value, count] of await read()) this.set({ [label]: value }, count);
        },
      });
    },
    readingsRefused: (code) => refused.inc({ reason: code }),
    connectorRun(run) {
      connectorRuns.inc({ kind: run.kind, outcome: run.outcome });
      connectorDuration.observe({ kind: run.kind }, run.durationMs / 1_000);
    },
    planned(plan) {
      plans.inc({ status: plan.status });
      // A plan refused before solving (infeasible scenario) took no solver time.
      if (plan.timeS > 0) solveTime.observe(plan.timeS);
    },
    observeEvents(events) {
      events.afterCommit('readings.committed', ({ messages }) => {
        const count = messages.reduce((sum, message) => sum + message.readings.length, 0);
        commits.inc();
        commitSize.observe(count);
        readingsStored.inc(count);
      });
      events.afterCommit('forecast.issued', () => forecasts.inc());
      events.afterCommit('plan.decided', () => plansDecided.inc());
    },
    observeEmbeddedBroker(aedes) {
      readGauge('gridshare_mqtt_connections', 'Clients connected to the embedded MQTT broker', () => aedes.connectedClients);
      const connectionsRefused = new Counter({ name: 'gridshare_mqtt_connections_refused_total', help: 'MQTT connections refused by the embedded broker, by CONNACK reason', labelNames: ['reason'], registers });
      const connections = new Counter({ name: 'gridshare_mqtt_connections_accepted_total', help: 'MQTT connections accepted by the embedded broker', registers });
      const clientErrors = new Counter({ name: 'gridshare_mqtt_client_errors_total', help: 'MQTT connections the embedded broker dropped on an error (protocol, socket, keep-alive)', registers });
      aedes.on('connackSent', (packet) => {
        const code = packet.returnCode ?? 0;
        if (code === 0) connections.inc();
        else connectionsRefused.inc({ reason: CONNACK_REASONS[code] ?? 'other' });
      });
      aedes.on('clientError', () => clientErrors.inc());
      aedes.on('connectionError', () => clientErrors.inc());
    },
    observeBrokerUp(up) {
      readGauge('gridshare_mqtt_broker_up', 'Whether the MQTT broker (embedded, or the external one consumed) is up: 1 yes, 0 no', () => (up() ? 1 : 0));
    },
    observeDatabase(db) {
      pingDatabase = () => databaseAnswers(db);
      readGauge('gridshare_database_up', 'Whether the database answers a ping (within 2 s) at this scrape: 1 yes, 0 no', () => (databaseUp ? 1 : 0));
      databaseReaders.add('gridshare_database_size_bytes');
      readGauge('gridshare_database_size_bytes', 'Bytes the database takes on disk (pg_database_size)', async () => {
        const rows = await db.query<{ bytes: string }>('SELECT pg_database_size(current_database())::text AS bytes');
        return Number(rows[0]!.bytes);
      });
    },
    observeDisk(folders) {
      const read = async (folder: string) => {
        const stats = await statfs(folder);
        return { free: stats.bavail * stats.bsize, size: stats.blocks * stats.bsize };
      };
      const gauge = (name: string, help: string, pick: (stats: { free: number; size: number }) => number) => new Gauge({
        name, help, labelNames: ['folder'], registers,
        async collect() {
          for (const [label, folder] of Object.entries(folders)) this.set({ folder: label }, pick(await read(folder)));
        },
      });
      gauge('gridshare_disk_free_bytes', 'Bytes free (for this user) on the file system of each folder', (stats) => stats.free);
      gauge('gridshare_disk_size_bytes', 'Size in bytes of the file system of each folder', (stats) => stats.size);
    },
  };
}

/** Whether the database answers a ping in time (an unreachable server may leave it waiting much longer). */
export async function databaseAnswers(db: Db): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
  });
  try {
    return await Promise.race([db.ping().catch(() => false), late]);
  } finally {
    clearTimeout(timer);
  }
}
