/**
 * Many devices at once (issue 22): N devices provisioned in batches through the HTTP API, each
 * registered with a Mosquitto that runs the repository's recommended configuration (dynamic
 * security: every device authenticates with its own key), connected from a separate process, and
 * each publishing one message of 5 readings (QoS 1) per period for a window, through the real
 * ingest path (shared subscription → group commit) into PostgreSQL. Prints readings stored per
 * second, publish → stored latency, memory.
 *
 *   npm run bench:scale [-- --devices 10000] [-- --batch 1000] [-- --seconds 60] [-- --period 5] [-- --anonymous] [-- --record]
 *
 * --anonymous: a Mosquitto of the bench's own without the dynamic-security plugin (devices connect
 * without a password and nothing is registered with the broker). With the plugin, registering
 * thousands of devices takes long on Mosquitto 2.0 (`npm run bench:dynsec`, bench/RESULTS.md).
 *
 * Needs Mosquitto installed and PostgreSQL (TEST_DATABASE_URL or DATABASE_URL; a scratch database
 * is made and dropped). Publish → stored: from the device's publish to the `received_at` the
 * storing transaction gives its readings (its start, a little before its commit).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlatform, type Platform } from '../server/src/platform/compose.js';
import { brokerPassword, readDeviceKeys } from '../server/src/provisioning/index.js';
import { memoryKeys } from '../server/src/secrets/index.js';
import { createScratchDatabase, postgresUrl } from '../server/test/support/stores.js';
import { mosquittoMissing, startMosquitto, type TestMosquitto } from '../server/test/support/mosquitto.js';
import { benchCommunity } from './lib/community.js';
import { machine, percentile, recordSection } from './lib/report.js';
import { READINGS_PER_MESSAGE, type ScaleLoadCommand, type ScaleLoadConfig, type ScaleLoadReport } from './lib/scale-load.js';

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const devices = Number(arg('--devices') ?? 10_000);
const batchSize = Number(arg('--batch') ?? 1_000);
const seconds = Number(arg('--seconds') ?? 60);
const periodSeconds = Number(arg('--period') ?? 5);
const connections = Number(arg('--connections') ?? 4);
const anonymous = process.argv.includes('--anonymous');

if (mosquittoMissing) throw new Error(`this benchmark needs Mosquitto: ${mosquittoMissing}`);
const serverUrl = postgresUrl ?? 'postgres://postgres@127.0.0.1:5432/test';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const rssMb = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

/** Peak resident memory (VmHWM) of the Mosquitto this process started (Linux /proc). */
function childBrokerPeakMb(): number | undefined {
  for (const entry of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'mosquitto') continue;
      const parent = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (parent !== process.pid) continue;
      const peak = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      return peak ? Math.round(Number(peak) / 1024) : undefined;
    } catch {
      // a process that went away meanwhile
    }
  }
  return undefined;
}

async function storedReadings(platform: Platform, communityId: string): Promise<number> {
  const [row] = await platform.db.query<{ n: string | null }>(
    'SELECT sum(s.readings_total)::int8 AS n FROM device_state s JOIN devices d ON d.id = s.device_id WHERE d.community_id = $1', [communityId]);
  return Number(row?.n ?? 0);
}

/**
 * A Mosquitto with the recommended queue limits and no authentication, on a loopback port, for
 * --anonymous: only what the ingest path needs.
 */
async function anonymousMosquitto(dir: string): Promise<Pick<TestMosquitto, 'url' | 'port' | 'close'>> {
  const port = await new Promise<number>((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => done(free));
    });
  });
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 100000',
    'max_queued_bytes 104857600', 'max_inflight_messages 256', 'max_packet_size 135168', ...(userInfo().uid === 0 ? ['user root'] : [])].join('\n'));
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; ; i++) {
    const listening = await new Promise<boolean>((done) => {
      const probe = createServer().listen(port, '127.0.0.1');
      probe.on('listening', () => probe.close(() => done(false)));
      probe.on('error', () => done(true));
    });
    if (listening) break;
    if (i > 200 || child.exitCode !== null) throw new Error('mosquitto did not start');
    await sleep(50);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`, port,
    close: async () => {
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const loadBefore = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'gridshare-bench-scale-'));
const secured = anonymous ? undefined : await startMosquitto();
const broker = secured ?? await anonymousMosquitto(dir);
const database = await createScratchDatabase(serverUrl, 'gridshare_bench');
const serviceAccount = { username: `gridshare-${randomBytes(4).toString('hex')}`, password: randomBytes(16).toString('hex') };
let platform: Platform | undefined;
let load: ChildProcess | undefined;
try {
  platform = await startPlatform({
    store: { kind: 'postgres', url: database.url },
    secretKeys: memoryKeys(),
    http: { port: 0, host: '127.0.0.1', explicit: true },
    mqtt: { port: 0, host: '127.0.0.1', explicit: true },
    externalMqtt: {
      url: secured ? `mqtt://${serviceAccount.username}:${serviceAccount.password}@127.0.0.1:${broker.port}` : broker.url,
      group: `scale${randomBytes(3).toString('hex')}`, instanceId: 'scale', connections, sessionExpirySeconds: 600,
      ...(secured ? { dynsecAdmin: secured.admin } : {}),
    },
    artefactsDir: join(dir, 'artefacts'),
    quotas: { devicesPerCommunity: 10_000_000, batchesPerHour: 10_000 },
  });
  const base = platform.httpUrl.replace('localhost', '127.0.0.1');
  const { communityId, managerMemberId, apiToken } = await benchCommunity(platform.db);

  // Provisioning in batches through the API: keys, artefacts, and (through the platform) the broker's clients.
  const provisioning = performance.now();
  const ids: string[] = [];
  for (let made = 0; made < devices;) {
    const count = Math.min(batchSize, devices - made);
    const response = await fetch(`${base}/api/v1/communities/${communityId}/device-batches`, {
      method: 'POST', headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ count }),
    });
    if (response.status !== 201) throw new Error(`batch: HTTP ${response.status} ${await response.text()}`);
    ids.push(...(await response.json() as { deviceIds: string[] }).deviceIds);
    made += count;
    process.stderr.write(`bench:scale: ${made} devices provisioned\n`);
  }
  const provisionSeconds = (performance.now() - provisioning) / 1000;
  const syncing = performance.now();
  await platform.brokerSync?.idle();
  const syncSeconds = (performance.now() - syncing) / 1000;
  // One home per device, so the interval job has its quarter hours to make, as in a community.
  await platform.db.query(
    `WITH d AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM devices WHERE community_id = $1),
          p AS (INSERT INTO metering_points (community_id, member_id, name, grid_connection_id, role)
                SELECT $1, $2, 'Home ' || n, 'SCALE' || n, 'consumer' FROM d RETURNING id, grid_connection_id)
     UPDATE devices SET metering_point_id = p.id FROM d, p WHERE devices.id = d.id AND p.grid_connection_id = 'SCALE' || d.n`,
    [communityId, managerMemberId]);
  const keys = await readDeviceKeys(platform.db, platform.secrets.box, ids);
  const config: ScaleLoadConfig = {
    brokerUrl: broker.url,
    devices: ids.map((id) => ({ id, ...(secured ? { password: brokerPassword(keys.get(id)!.primary, id) } : {}) })),
    connectConcurrency: 200,
    seconds,
    periodSeconds,
  };
  process.stderr.write(`bench:scale: ${ids.length} devices in ${provisionSeconds.toFixed(1)} s (broker sync ${syncSeconds.toFixed(1)} s more); connecting\n`);

  load = fork(fileURLToPath(new URL('./lib/scale-load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'] });
  const child = load;
  const reports: ScaleLoadReport[] = [];
  child.on('message', (r: ScaleLoadReport) => reports.push(r));
  const next = <T extends ScaleLoadReport['type']>(type: T) => new Promise<Extract<ScaleLoadReport, { type: T }>>((resolve, reject) => {
    const poll = setInterval(() => {
      const seen = reports.find((r) => r.type === type);
      if (seen) { clearInterval(poll); resolve(seen as Extract<ScaleLoadReport, { type: T }>); }
    }, 50);
    child.once('exit', (code) => { if (code !== 0) { clearInterval(poll); reject(new Error(`load generator exited with ${code}`)); } });
  });
  child.send({ type: 'start', config } satisfies ScaleLoadCommand);
  const connected = await next('connected');
  process.stderr.write(`bench:scale: connected in ${connected.seconds.toFixed(1)} s (${connected.failed} failed); publishing for ${seconds} s\n`);

  // Memory of the Gridshare process while it takes the load, sampled.
  let peakDuringLoad = rssMb();
  const sampler = setInterval(() => { peakDuringLoad = Math.max(peakDuringLoad, rssMb()); }, 250);
  const baseline = await storedReadings(platform, communityId);
  const t0 = Date.now();
  const published = await next('published');
  let stored = 0;
  let lastChange = Date.now();
  for (let previous = -1; ; previous = stored) {
    stored = (await storedReadings(platform, communityId)) - baseline;
    if (stored !== previous) lastChange = Date.now();
    if (stored >= published.readings || Date.now() - lastChange > 30_000) break;
    await sleep(200);
  }
  const storeSeconds = (lastChange - t0) / 1000;
  clearInterval(sampler);

  // Publish → stored per message, from its energy reading's received_at.
  const rows = await platform.db.query<{ device_id: string; ts: Date; received_at: Date }>(
    `SELECT device_id, ts, received_at FROM readings WHERE community_id = $1 AND quantity = 'energy.import'`, [communityId]);
  const receivedAt = new Map(rows.map((r) => [`${r.device_id}|${r.ts.getTime()}`, r.received_at.getTime()]));
  const latencies: number[] = [];
  for (let i = 0; i < published.sent.at.length; i++) {
    const at = receivedAt.get(`${ids[published.sent.device[i]!]}|${published.sent.ts[i]}`);
    if (at !== undefined) latencies.push(Math.max(0, at - published.sent.at[i]!));
  }
  latencies.sort((a, b) => a - b);
  const [lag] = await platform.db.query<{ waiting: string }>('SELECT count(*)::int8 AS waiting FROM interval_dirty');

  const result = {
    offered: Math.round((ids.length * READINGS_PER_MESSAGE) / periodSeconds),
    storedPerSecond: Math.round(stored / Math.max(storeSeconds, published.seconds)),
    stored, published: published.readings, refused: published.refused, lost: Math.max(0, published.readings - stored),
    p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN, measured: latencies.length,
    gridshareRss: peakDuringLoad, gridsharePeak: Math.round(process.resourceUsage().maxRSS / 1024),
    loadRss: published.peakRssMb, brokerRss: childBrokerPeakMb(), intervalMarksWaiting: Number(lag?.waiting ?? 0),
  };
  const fmt = (x: number) => x.toLocaleString('en');
  const body = `Measured ${machine()} with \`npm run bench:scale\` (shared machine: other engineers' tests and builds ran meanwhile; 1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after): ${fmt(ids.length)} devices provisioned through the HTTP API in batches of ${fmt(batchSize)} (${provisionSeconds.toFixed(0)} s${secured ? `, then ${syncSeconds.toFixed(1)} s until the broker had every device's client` : ''}), each bound to a home of its own; ${secured
    ? 'Mosquitto 2 with \`deploy/mosquitto/mosquitto.conf\` (dynamic security: each device authenticates with its own key)'
    : 'Mosquitto 2 with the recommended queue limits but without the dynamic-security plugin (\`--anonymous\`: devices are not authenticated by the broker)'} on a loopback port; the devices connect from a separate process (${connected.seconds.toFixed(0)} s for all, ${connected.failed} failed) and each publishes one message of 5 readings (QoS 1) every ${periodSeconds} s at its own offset for ${seconds} s; one Gridshare process on PostgreSQL 15 consumes through the shared subscription (${connections} connections). Publish → stored is from the publish to the storing transaction's timestamp on the reading, for every message. One process only: two processes and one killed half-way (the issue's full scenario) are not part of this run.

| Devices | Offered readings/s | Stored readings/s | Published | Stored | Lost | Refused by broker | Publish→stored p50 / p99 / max (ms) | Gridshare RSS under load / peak incl. provisioning (MB) | Load generator peak (MB) | Mosquitto peak (MB) | Interval marks waiting at the end |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| ${fmt(ids.length)} | ${fmt(result.offered)} | ${fmt(result.storedPerSecond)} | ${fmt(result.published)} | ${fmt(result.stored)} | ${fmt(result.lost)} | ${result.refused} | ${result.p50.toFixed(0)} / ${result.p99.toFixed(0)} / ${result.max.toFixed(0)} | ${result.gridshareRss} / ${result.gridsharePeak} | ${result.loadRss} | ${result.brokerRss ?? '–'} | ${fmt(result.intervalMarksWaiting)} |`;
  console.log(body);
  if (process.argv.includes('--record')) recordSection('Many devices (bench:scale)', body);
} finally {
  load?.kill();
  await platform?.close();
  await database.drop();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
