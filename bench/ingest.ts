/**
 * Ingestion benchmark: simulated devices publish JSON readings over real MQTT with QoS 1.
 *   embedded: Aedes in-process + PGlite on disk (what `npm start` runs)
 *   external: Mosquitto (MQTT_URL, default mqtt://127.0.0.1:1883) + PostgreSQL (DATABASE_URL,
 *             default postgres://postgres@127.0.0.1:5432/test; a fresh database is created)
 * Run: npm run bench:ingest [-- --devices 200] [-- --seconds 20] [-- --only embedded|external] [-- --record]
 * External scenario: [-- --connections 4] [-- --inflight 256] override the consumer connections and Receive Maximum.
 * Each scenario runs in its own process (its peak RSS is the server's), the devices in another.
 * BENCH_INTERVAL_DELAY_MS=<ms> changes how soon intervals are recomputed (a huge value turns it
 * off), to see what the interval job costs ingestion.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlatform, type Platform } from '../server/src/platform/compose.js';
import { provisionBatch } from '../server/src/provisioning/service.js';
import { deviceResource, signSasToken } from '../server/src/provisioning/sas.js';
import { readDeviceKeys } from '../server/src/provisioning/credentials.js';
import { createScratchDatabase } from '../server/test/support/stores.js';
import { benchCommunity, benchProvisioning } from './lib/community.js';
import { machine, peakRssMb, percentile, recordSection } from './lib/report.js';
import { cpuBetween, cpuSnapshot, pidsNamed, type CpuUse } from './lib/cpu.js';
import type { LoadCommand, LoadConfig, LoadReport } from './lib/ingest-load.js';

type Scenario = 'embedded' | 'external';
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const devices = Number(arg('--devices')) || 200;
const seconds = Number(arg('--seconds')) || 20;
const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const mqttUrl = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';

interface ScenarioResult {
  scenario: Scenario;
  devices: number;
  readingsPerSecond: number;
  storedReadings: number;
  lostReadings: number;
  saturatedAckP50: number;
  saturatedAckP99: number;
  pacedRate: number;
  storedP50: number | null;
  storedP99: number | null;
  liveP50: number;
  liveP99: number;
  liveMissing: number;
  peakRssMb: number;
  /** The throughput phase: CPU per process group, group commits. */
  cpu: CpuUse;
  commitsPerSecond: number;
  readingsPerCommit: number;
}

async function storedCount(platform: Platform, communityId: string): Promise<number> {
  const [row] = await platform.db.query<{ n: number | null }>(
    'SELECT sum(readings_total)::int8 AS n FROM device_state s JOIN devices d ON d.id = s.device_id WHERE d.community_id = $1', [communityId]);
  return row?.n ?? 0;
}

/** One scenario, in this process: the server side. */
async function runScenario(scenario: Scenario): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-bench-ingest-'));
  const database = scenario === 'external' ? await createScratchDatabase(postgresUrl, 'gridshare_bench') : undefined;
  const platform = await startPlatform({
    store: database ? { kind: 'postgres', url: database.url } : { kind: 'pglite', dataDir: join(dir, 'db') },
    http: { port: 0, host: '127.0.0.1', explicit: true },
    mqtt: { port: 0, host: '127.0.0.1', explicit: true },
    ...(scenario === 'external' ? { externalMqtt: { url: mqttUrl, group: `bench${randomBytes(3).toString('hex')}`, sessionExpirySeconds: 60, ...(arg('--connections') ? { connections: Number(arg('--connections')) } : {}), ...(arg('--inflight') ? { inflightPerConnection: Number(arg('--inflight')) } : {}) } } : {}),
    artefactsDir: join(dir, 'artefacts'),
    ...(process.env.BENCH_INTERVAL_DELAY_MS ? { intervalDelayMs: Number(process.env.BENCH_INTERVAL_DELAY_MS) } : {}),
  });
  let load: ChildProcess | undefined;
  try {
    const { communityId, manager, managerMemberId, apiToken } = await benchCommunity(platform.db);
    await provisionBatch(benchProvisioning(platform.db, join(dir, 'artefacts'), platform.endpoints, platform.secrets.box), manager, communityId, { count: devices, kind: 'meter-reader' });
    // One home per reader, so every reading reaches the live stream.
    await platform.db.query(
      `WITH d AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM devices WHERE community_id = $1),
            p AS (INSERT INTO metering_points (community_id, member_id, name, grid_connection_id, role)
                  SELECT $1, $2, 'Home ' || n, 'BENCH' || n, 'consumer' FROM d RETURNING id, grid_connection_id)
       UPDATE devices SET metering_point_id = p.id FROM d, p WHERE devices.id = d.id AND p.grid_connection_id = 'BENCH' || d.n`,
      [communityId, managerMemberId]);
    const ids = (await platform.db.query<{ id: string }>('SELECT id FROM devices WHERE community_id = $1 ORDER BY id', [communityId])).map((d) => d.id);
    const keys = await readDeviceKeys(platform.db, platform.secrets.box, ids);
    const credentials = ids.map((id) => ({ device_id: id, primary_key: keys.get(id)!.primary }));
    const expiresAt = new Date(Date.now() + 86_400_000);
    const config: LoadConfig = {
      mqttUrl: platform.mqttUrl.replace('localhost', '127.0.0.1'),
      protocolVersion: scenario === 'external' ? 5 : 4,
      devices: credentials.map((c) => ({
        id: c.device_id,
        ...(scenario === 'embedded' ? { password: signSasToken({ resource: deviceResource(platform.endpoints.hostName, c.device_id), key: c.primary_key, expiresAt }) } : {}),
      })),
      httpUrl: platform.httpUrl.replace('localhost', '127.0.0.1'),
      communityId,
      apiToken,
      startTs: Date.now() - 3 * 86_400_000,
      throughput: { seconds, readingsPerMessage: 20, inflightPerDevice: 4 },
      paced: { seconds: 15, readingsPerSecond: 1000, readingsPerMessage: 10 },
    };
    load = fork(fileURLToPath(new URL('./lib/ingest-load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
    const child = load;
    const reports: LoadReport[] = [];
    const next = <T extends LoadReport['type']>(type: T) => new Promise<Extract<LoadReport, { type: T }>>((resolve, reject) => {
      const seen = reports.find((r) => r.type === type);
      if (seen) return resolve(seen as Extract<LoadReport, { type: T }>);
      const onMessage = (r: LoadReport) => r.type === type && (child.off('message', onMessage), resolve(r as Extract<LoadReport, { type: T }>));
      child.on('message', onMessage);
      child.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
    });
    child.on('message', (r: LoadReport) => reports.push(r));
    child.send({ type: 'start', config } satisfies LoadCommand);
    await next('connected');
    const baseline = await storedCount(platform, communityId);
    const ticker = setInterval(() => {
      // The callback takes a send that races the generator's exit (EPIPE), which would otherwise end the bench.
      storedCount(platform, communityId).then((n) => child.connected && child.send({ type: 'stored', readings: n - baseline } satisfies LoadCommand, () => undefined), () => undefined);
    }, 100);
    // CPU of the server (PGlite included), the load generator, and for the external scenario
    // the PostgreSQL backends of the bench database and the broker.
    const backends = async () => database
      ? (await platform.db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).map((r) => r.pid)
      : [];
    const processes = async () => ({
      gridshare: [process.pid],
      load: child.pid ? [child.pid] : [],
      ...(database ? { postgres: await backends(), mosquitto: pidsNamed('mosquitto') } : {}),
    });
    const cpuStart = cpuSnapshot(await processes());
    const writerStart = { ...platform.writer.stats };
    const t0 = performance.now();
    const published = await next('published');
    // Sustained rate = everything published in the phase, stored; measured until the last is in.
    let stored = 0;
    while ((stored = (await storedCount(platform, communityId)) - baseline) < published.readings && performance.now() - t0 < (seconds + 120) * 1000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const storeSeconds = (performance.now() - t0) / 1000;
    const cpu = cpuBetween(cpuStart, cpuSnapshot(await processes()));
    const commits = platform.writer.stats.commits - writerStart.commits;
    const committedReadings = platform.writer.stats.readings - writerStart.readings;
    const throughput = await next('throughput');
    const paced = await next('paced');
    clearInterval(ticker);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const ack = sorted(throughput.ackMs);
    const pacedAck = sorted(paced.ackMs);
    const live = sorted(paced.liveMs);
    return {
      scenario,
      devices,
      readingsPerSecond: Math.round(stored / Math.max(storeSeconds, throughput.seconds)),
      storedReadings: stored,
      lostReadings: Math.max(0, published.readings - stored),
      saturatedAckP50: percentile(ack, 50),
      saturatedAckP99: percentile(ack, 99),
      pacedRate: 1000,
      // With an external broker the PUBACK is the broker's, not a proof of storage.
      storedP50: scenario === 'embedded' ? percentile(pacedAck, 50) : null,
      storedP99: scenario === 'embedded' ? percentile(pacedAck, 99) : null,
      liveP50: percentile(live, 50),
      liveP99: percentile(live, 99),
      liveMissing: paced.liveMissing,
      peakRssMb: peakRssMb(),
      cpu,
      commitsPerSecond: Math.round(commits / storeSeconds),
      readingsPerCommit: Math.round(committedReadings / Math.max(commits, 1)),
    };
  } finally {
    load?.kill();
    await platform.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function runInChild(scenario: Scenario): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--scenario', scenario, '--devices', String(devices), '--seconds', String(seconds), ...(['--connections', '--inflight'] as const).flatMap((flag) => (arg(flag) ? [flag, arg(flag)!] : []))], { execArgv: ['--import', 'tsx'] });
    child.once('message', (result: ScenarioResult) => resolve(result));
    child.once('exit', (code) => code !== 0 && reject(new Error(`${scenario} scenario exited with ${code}`)));
  });
}

const ms = (x: number | null) => (x === null ? '–' : x.toFixed(1));
const cores = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(2));
/** CPU time of every process involved per stored reading: what the rate would be on idle cores, load average aside. */
const perReading = (r: ScenarioResult) => ((Object.values(r.cpu.cores).reduce((a, b) => a + b, 0) * 1e6) / r.readingsPerSecond).toFixed(1);
const share = (x: number | undefined) => (x === undefined ? '–' : `${Math.round(x * 100)} %`);
const TARGET: Record<Scenario, string> = { embedded: '≥ 20,000/s', external: '≥ 40,000/s' };
const LABEL: Record<Scenario, string> = { embedded: 'Aedes (in-process) + PGlite', external: 'Mosquitto 2 + PostgreSQL 15' };

const only = arg('--scenario');
if (only) {
  const result = await runScenario(only as Scenario);
  process.send!(result);
  process.exit(0);
} else {
  const scenarios: Scenario[] = arg('--only') ? [arg('--only') as Scenario] : ['embedded', 'external'];
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    process.stderr.write(`bench:ingest ${scenario} (${devices} devices, ${seconds} s)…\n`);
    results.push(await runInChild(scenario));
  }
  const body = `Measured ${machine()} with \`npm run bench:ingest\` (${devices} devices, each its own MQTT connection with its own SAS token on the embedded broker, QoS 1, JSON messages of 20 readings, 4 messages in flight per device, ${seconds} s; the devices run in a separate process). With Mosquitto the devices wait while 2,000 messages are published but not yet stored (the broker acknowledges them at once), and Gridshare consumes through a shared subscription with ${arg('--connections') ?? 4} connections of ${arg('--inflight') ?? 256} messages in flight each. "Stored/s" counts readings committed to the database (read back from the device counters; "lost" compares with what was published). Latency is measured at a steady 1,000 readings/s (100 messages/s of 10 readings): publish → PUBACK, which the embedded broker sends only after the commit, and publish → the event on the manager's live stream (server-sent events over HTTP). Peak RSS is the server process (platform, broker and database; PGlite runs inside it).

| Broker + store | Stored/s | Target | Lost | PUBACK p50/p99 at saturation (ms) | Publish→stored p50/p99 at 1,000/s (ms) | Publish→live p50/p99 at 1,000/s (ms), target p99 < 250 | Live events missing | Peak RSS (MB) |
|---|---:|---|---:|---:|---:|---:|---:|---:|
${results.map((r) => `| ${LABEL[r.scenario]} | ${r.readingsPerSecond.toLocaleString('en')} | ${TARGET[r.scenario]} | ${r.lostReadings} | ${ms(r.saturatedAckP50)} / ${ms(r.saturatedAckP99)} | ${ms(r.storedP50)} / ${ms(r.storedP99)} | ${ms(r.liveP50)} / ${ms(r.liveP99)} | ${r.liveMissing} | ${r.peakRssMb} |`).join('\n')}

Where the time goes in the throughput phase (until the last reading is stored): CPU per process group in cores (1.00 = one whole core of the 2), the whole machine's iowait and idle share, group commits. The load average is the machine's 1-minute figure when the phase started: other work on the machine takes its share.

| Broker + store | Load avg | Gridshare | PostgreSQL backends | Mosquitto | Load generator | CPU µs per reading (all of these) | iowait | idle | Commits/s | Readings/commit |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${results.map((r) => `| ${LABEL[r.scenario]} | ${r.cpu.loadAverage.toFixed(2)} | ${cores(r.cpu.cores.gridshare)} | ${cores(r.cpu.cores.postgres)} | ${cores(r.cpu.cores.mosquitto)} | ${cores(r.cpu.cores.load)} | ${perReading(r)} | ${share(r.cpu.iowait)} | ${share(r.cpu.idle)} | ${r.commitsPerSecond} | ${r.readingsPerCommit.toLocaleString('en')} |`).join('\n')}`;
  console.log(body);
  if (process.argv.includes('--record')) recordSection('Ingestion', body);
}
