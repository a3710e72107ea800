/**
 * Many devices at once (issue 22): N devices provisioned in batches through the HTTP API, each
 * registered with a Mosquitto that runs the repository's recommended configuration (dynamic
 * security: every device authenticates with its own key), connected from a separate process, and
 * each publishing one message of 5 readings (QoS 1) per period for a window, through the real
 * ingest path (shared subscription → group commit) into PostgreSQL. Prints readings stored per
 * second, publish → stored latency, memory.
 *
 *   npm run bench:scale [-- --devices 10000] [-- --batch 1000] [-- --seconds 60] [-- --period 5] [-- --anonymous]
 *                       [-- --processes 2] [-- --restart-after 10] [-- --record] [-- --memory-log]
 *
 * --processes 2: two `gridshare start` processes (the real command, as an operator runs them) on the
 * one PostgreSQL database and broker, sharing the devices' messages and the jobs; half-way through
 * the publishing window the first is killed with SIGKILL and, --restart-after seconds later,
 * started again under the same name (as a service manager would), so it resumes its MQTT sessions.
 * Nothing acknowledged may be lost and nothing stored twice.
 *
 * Memory: each process's RSS sampled every 250 ms; every 5 s its own account of it from `/metrics`
 * (JavaScript heap, external, ArrayBuffers) and glibc's main heap from smaps, printed where the RSS
 * peaked; --memory-log prints that every 5 s from the start, to see when and where it grows.
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
import { DynsecClient } from '../server/src/broker-security/dynsec-client.js';
import { startPlatform, type Platform } from '../server/src/platform/compose.js';
import { openDb, type Db } from '../server/src/platform/store/db.js';
import { migrate } from '../server/src/platform/store/migrate.js';
import { environmentKeys, SecretBox } from '../server/src/secrets/index.js';
import { adminToken, callJson, freePort, runGridshare, waitForHealth, type RunningGridshare } from '../server/test/support/process.js';
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
const processCount = Number(arg('--processes') ?? 1);
const restartAfter = Number(arg('--restart-after') ?? 10);
/** Every 5 s from the start, each process's memory breakdown on stderr: when and where it grows. */
const memoryLog = process.argv.includes('--memory-log');

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

async function storedReadings(db: Db, communityId: string): Promise<number> {
  const [row] = await db.query<{ n: string | null }>(
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

/** A process's memory (MB): resident, the JavaScript heap in use, V8's external memory and the ArrayBuffers in it, glibc's main heap. */
interface MemoryBreakdown {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** Resident part of the `[heap]` mapping (the main thread's malloc), from /proc/<pid>/smaps. */
  readonly mallocHeap: number;
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Resident MB of a process's `[heap]` mapping (glibc's main arena); 0 once it has gone. */
function mallocHeapMb(pid: number | undefined): number {
  try {
    const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    const kb = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(smaps)?.[1];
    return kb ? Math.round(Number(kb) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** What a process reports of its memory on `/metrics` (prom-client's default metrics and gridshare_nodejs_array_buffers_bytes). */
async function scrapedMemory(base: string, token: string, pid: number | undefined): Promise<MemoryBreakdown | undefined> {
  try {
    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(4_000) });
    if (response.status !== 200) return undefined;
    const text = await response.text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    return {
      rss: mb(value('gridshare_process_resident_memory_bytes')), heapUsed: mb(value('gridshare_nodejs_heap_size_used_bytes')),
      external: mb(value('gridshare_nodejs_external_memory_bytes')), arrayBuffers: mb(value('gridshare_nodejs_array_buffers_bytes')),
      mallocHeap: mallocHeapMb(pid),
    };
  } catch {
    // a process that is down (killed half-way) or too busy to answer in time: no sample
    return undefined;
  }
}

/** The Gridshare side of the run: one in-process platform, or `gridshare start` processes. */
interface Installation {
  readonly db: Db;
  readonly base: string;
  readonly box: SecretBox;
  /** Gridshare's share of the work in words, for the report. */
  readonly described: string;
  /** Resident memory now (MB) per process, by name. */
  memory(): Record<string, number>;
  /** Where each process's memory is now (MB), by name: sampled less often than `memory`, the processes report it. */
  breakdown(): Promise<Record<string, MemoryBreakdown>>;
  /** Resolves once the broker holds a client for each of these devices (secured broker only). */
  brokerHolds(deviceIds: readonly string[]): Promise<void>;
  /** Half-way through the publishing window: what happened, in words (nothing in one process). */
  halfway(): Promise<string | undefined>;
  close(): Promise<void>;
}

async function inProcess(databaseUrl: string, brokerPort: number, secured: TestMosquitto | undefined): Promise<Installation> {
  const serviceAccount = { username: `gridshare-${randomBytes(4).toString('hex')}`, password: randomBytes(16).toString('hex') };
  const platform: Platform = await startPlatform({
    store: { kind: 'postgres', url: databaseUrl },
    secretKeys: memoryKeys(),
    http: { port: 0, host: '127.0.0.1', explicit: true },
    mqtt: { port: 0, host: '127.0.0.1', explicit: true },
    externalMqtt: {
      url: secured ? `mqtt://${serviceAccount.username}:${serviceAccount.password}@127.0.0.1:${brokerPort}` : `mqtt://127.0.0.1:${brokerPort}`,
      group: `scale${randomBytes(3).toString('hex')}`, instanceId: 'scale', connections, sessionExpirySeconds: 600,
      ...(secured ? { dynsecAdmin: secured.admin } : {}),
    },
    artefactsDir: join(dir, 'artefacts'),
    quotas: { devicesPerCommunity: 10_000_000, batchesPerHour: 10_000 },
  });
  return {
    db: platform.db, base: platform.httpUrl.replace('localhost', '127.0.0.1'), box: platform.secrets.box,
    described: `one Gridshare process on PostgreSQL 15 consumes through the shared subscription (${connections} connections)`,
    memory: () => ({ gridshare: rssMb() }),
    breakdown: async () => {
      const usage = process.memoryUsage();
      return { gridshare: { rss: mb(usage.rss), heapUsed: mb(usage.heapUsed), external: mb(usage.external), arrayBuffers: mb(usage.arrayBuffers), mallocHeap: mallocHeapMb(process.pid) } };
    },
    brokerHolds: async () => platform.brokerSync?.idle(),
    halfway: async () => undefined,
    close: () => platform.close(),
  };
}

/** Resident memory (VmRSS) of a process, MB; 0 once it has gone. */
function processRssMb(pid: number | undefined): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function processes(count: number, databaseUrl: string, brokerPort: number, secured: TestMosquitto | undefined): Promise<Installation> {
  const db = await openDb({ kind: 'postgres', url: databaseUrl });
  // Migrated once here, so the processes start together (each would wait for the other's migration lock).
  await migrate(db);
  const masterKey = randomBytes(32).toString('base64');
  const group = `scale${randomBytes(3).toString('hex')}`;
  const names = Array.from({ length: count }, (_, i) => String.fromCharCode(97 + i));
  const ports = new Map<string, number>();
  for (const name of names) ports.set(name, await freePort());
  const publicUrl = `http://127.0.0.1:${ports.get('a')}`;
  const serviceAccount = `gridshare-${randomBytes(4).toString('hex')}:${randomBytes(16).toString('hex')}`;
  const start = (name: string) => runGridshare(['start', '--host', '127.0.0.1', '--port', String(ports.get(name)), '--data', join(dir, name), '--public-url', publicUrl], {
    DATABASE_URL: databaseUrl, MQTT_URL: secured ? `mqtt://${serviceAccount}@127.0.0.1:${brokerPort}` : `mqtt://127.0.0.1:${brokerPort}`,
    MQTT_GROUP: group, MQTT_INSTANCE: `${group}-${name}`, GRIDSHARE_SECRET_KEY: masterKey,
    MQTT_RATE: String(Math.max(1, Math.round((devices * READINGS_PER_MESSAGE) / periodSeconds))),
    GRIDSHARE_ARTEFACTS: join(dir, 'artefacts'),
    ...(secured ? { MQTT_DYNSEC_ADMIN: `${secured.admin.username}:${secured.admin.password}` } : {}),
  });
  const running = new Map<string, RunningGridshare>(names.map((name) => [name, start(name)]));
  let token = '';
  // How each process's memory is reported: the restarted a apart from the a that was killed (which
  // provisioned the devices), so the two peaks are not taken for one.
  const labels = new Map(names.map((name) => [name, name]));
  const all = () => [...running.values()];
  const stopAll = async () => {
    for (const child of all()) if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGTERM');
    await Promise.all(all().map((child) => child.exited));
  };
  try {
    await Promise.all(all().map((child) => waitForHealth(child, 240_000)));
    const first = all().find((child) => /one-time password: \S+/.test(child.output())) ?? running.get('a')!;
    token = await adminToken(first, `scale-admin-${randomBytes(6).toString('hex')}`);
    // The installation's quotas are an admin's to raise, as an operator of a large community would.
    const raised = await callJson(first.baseUrl, 'PATCH', '/api/v1/quotas', { token, body: { devicesPerCommunity: 1_000_000, batchesPerHour: 10_000 } });
    if (raised.status !== 200) throw new Error(`quotas: HTTP ${raised.status} ${JSON.stringify(raised.body)}`);
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    db, base: running.get('a')!.baseUrl, box: new SecretBox(environmentKeys(masterKey).load()!),
    described: `${count} \`gridshare start\` processes (${names.join(', ')}) on PostgreSQL 15 consume through the shared subscription`
      + ` and share the jobs; half-way through the window process a is killed with SIGKILL and started again ${restartAfter} s later`,
    memory: () => Object.fromEntries([...running].map(([name, child]) => [labels.get(name)!, processRssMb(child.child.pid)])),
    async breakdown() {
      const sampled = await Promise.all([...running].map(async ([name, child]) => [labels.get(name)!, await scrapedMemory(child.baseUrl, token, child.child.pid)] as const));
      return Object.fromEntries(sampled.filter((entry): entry is readonly [string, MemoryBreakdown] => entry[1] !== undefined));
    },
    async brokerHolds(deviceIds) {
      if (!secured) return;
      // The processes register the devices in the background: ask the broker until it has them all.
      const dynsec = await DynsecClient.connect(secured.url, secured.admin);
      try {
        for (;;) {
          const held = new Set((await dynsec.clients()).map((client) => client.username));
          if (deviceIds.every((id) => held.has(id))) return;
          await sleep(1000);
        }
      } finally {
        await dynsec.close();
      }
    },
    async halfway() {
      const victim = running.get('a')!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now();
      await sleep(restartAfter * 1000);
      const again = start('a');
      running.set('a', again);
      labels.set('a', 'a restarted');
      await waitForHealth(again, 240_000);
      return `a killed (SIGKILL) and healthy again ${((Date.now() - killedAt) / 1000).toFixed(1)} s later`;
    },
    async close() {
      await stopAll();
      await db.close();
    },
  };
}

const loadBefore = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'gridshare-bench-scale-'));
const secured = anonymous ? undefined : await startMosquitto();
const broker = secured ?? await anonymousMosquitto(dir);
const database = await createScratchDatabase(serverUrl, 'gridshare_bench');
let installation: Installation | undefined;
let load: ChildProcess | undefined;
try {
  installation = processCount > 1
    ? await processes(processCount, database.url, broker.port, secured)
    : await inProcess(database.url, broker.port, secured);
  const { db, base } = installation;
  const logged = installation;
  const began = Date.now();
  const memoryLogger = memoryLog ? setInterval(() => void logged.breakdown().then((all) => {
    for (const [name, m] of Object.entries(all)) {
      process.stderr.write(`bench:scale: memory ${((Date.now() - began) / 1000).toFixed(0)} s ${name}: RSS ${m.rss} heapUsed ${m.heapUsed} external ${m.external} arrayBuffers ${m.arrayBuffers} [heap] ${m.mallocHeap}\n`);
    }
  }), 5_000) : undefined;
  const { communityId, managerMemberId, apiToken } = await benchCommunity(db);

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
  await installation.brokerHolds(ids);
  const syncSeconds = (performance.now() - syncing) / 1000;
  // One home per device, so the interval job has its quarter hours to make, as in a community.
  await db.query(
    `WITH d AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM devices WHERE community_id = $1),
          p AS (INSERT INTO metering_points (community_id, member_id, name, grid_connection_id, role)
                SELECT $1, $2, 'Home ' || n, 'SCALE' || n, 'consumer' FROM d RETURNING id, grid_connection_id)
     UPDATE devices SET metering_point_id = p.id FROM d, p WHERE devices.id = d.id AND p.grid_connection_id = 'SCALE' || d.n`,
    [communityId, managerMemberId]);
  const keys = await readDeviceKeys(db, installation.box, ids);
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
    // Gone without the report (a crash, or a clean exit whose report never arrived): fail instead of waiting forever.
    child.once('exit', (code) => {
      if (reports.some((r) => r.type === type)) return;
      clearInterval(poll);
      reject(new Error(`load generator exited (${code}) before reporting '${type}'`));
    });
  });
  // Counted before the devices connect: they publish as soon as they are connected.
  const baseline = await storedReadings(db, communityId);
  child.send({ type: 'start', config } satisfies ScaleLoadCommand);
  const connected = await next('connected');
  process.stderr.write(`bench:scale: connected in ${connected.seconds.toFixed(1)} s (${connected.failed} failed); publishing for ${seconds} s\n`);

  // Memory of the Gridshare processes while they take the load, sampled.
  const target = installation;
  const peakDuringLoad: Record<string, number> = {};
  const sampleMemory = () => {
    for (const [name, mb] of Object.entries(target.memory())) peakDuringLoad[name] = Math.max(peakDuringLoad[name] ?? 0, mb);
  };
  sampleMemory();
  const sampler = setInterval(sampleMemory, 250);
  // Where the memory is, at each process's largest sample: one scrape per process every 5 s.
  const breakdownAtPeak: Record<string, MemoryBreakdown> = {};
  const sampleBreakdown = async () => {
    for (const [name, sample] of Object.entries(await target.breakdown())) {
      if (sample.rss > (breakdownAtPeak[name]?.rss ?? -1)) breakdownAtPeak[name] = sample;
    }
  };
  const breakdownSampler = setInterval(() => void sampleBreakdown(), 5_000);
  const t0 = Date.now();
  const halfway = sleep((seconds * 1000) / 2).then(() => target.halfway());
  const published = await next('published');
  const event = await halfway;
  let stored = 0;
  let lastChange = Date.now();
  for (let previous = -1; ; previous = stored) {
    stored = (await storedReadings(db, communityId)) - baseline;
    if (stored !== previous) lastChange = Date.now();
    if (stored >= published.readings || Date.now() - lastChange > 30_000) break;
    await sleep(200);
  }
  const storeSeconds = (lastChange - t0) / 1000;
  clearInterval(sampler);
  clearInterval(breakdownSampler);
  clearInterval(memoryLogger);

  // Publish → stored per message, from its energy reading's received_at; each reading stored once.
  const rows = await db.query<{ device_id: string; ts: Date; received_at: Date }>(
    `SELECT device_id, ts, received_at FROM readings WHERE community_id = $1 AND quantity = 'energy.import'`, [communityId]);
  const receivedAt = new Map(rows.map((r) => [`${r.device_id}|${r.ts.getTime()}`, r.received_at.getTime()]));
  const latencies: number[] = [];
  for (let i = 0; i < published.sent.at.length; i++) {
    const at = receivedAt.get(`${ids[published.sent.device[i]!]}|${published.sent.ts[i]}`);
    if (at !== undefined) latencies.push(Math.max(0, at - published.sent.at[i]!));
  }
  latencies.sort((a, b) => a - b);
  const [lag] = await db.query<{ waiting: string }>('SELECT count(*)::int8 AS waiting FROM interval_dirty');
  // The interval job's lag: how long before now the newest quarter hour it made began (the current one is made as it runs).
  const [newest] = await db.query<{ newest: Date | null }>('SELECT max(start) AS newest FROM intervals WHERE community_id = $1', [communityId]);

  const result = {
    offered: Math.round((ids.length * READINGS_PER_MESSAGE) / periodSeconds),
    storedPerSecond: Math.round(stored / Math.max(storeSeconds, published.seconds)),
    stored, published: published.readings, refused: published.refused, lost: Math.max(0, published.readings - stored),
    twice: rows.length - receivedAt.size,
    p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? Number.NaN, measured: latencies.length,
    gridshareRss: Object.entries(peakDuringLoad).map(([name, mb]) => (processCount > 1 ? `${name} ${mb}` : String(mb))).join(', '),
    gridsharePeak: processCount > 1 ? '–' : String(Math.round(process.resourceUsage().maxRSS / 1024)),
    loadRss: published.peakRssMb, brokerRss: childBrokerPeakMb(), intervalMarksWaiting: Number(lag?.waiting ?? 0),
    intervalLagSeconds: newest?.newest ? Math.round((Date.now() - newest.newest.getTime()) / 1000) : undefined,
  };
  const fmt = (x: number) => x.toLocaleString('en');
  const body = `Measured ${machine()} with \`npm run bench:scale${processCount > 1 ? ` -- --processes ${processCount}` : ''}\` (1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after): ${fmt(ids.length)} devices provisioned through the HTTP API in batches of ${fmt(batchSize)} (${provisionSeconds.toFixed(0)} s${secured ? `, then ${syncSeconds.toFixed(1)} s until the broker had every device's client` : ''}), each bound to a home of its own; ${secured
    ? 'Mosquitto 2 with `deploy/mosquitto/mosquitto.conf` (dynamic security: each device authenticates with its own key)'
    : 'Mosquitto 2 with the recommended queue limits but without the dynamic-security plugin (`--anonymous`: devices are not authenticated by the broker)'} on a loopback port; the devices connect from a separate process (${connected.seconds.toFixed(0)} s for all, ${connected.failed} failed) and each publishes one message of 5 readings (QoS 1) every ${periodSeconds} s at its own offset for ${seconds} s; ${installation.described}${event ? ` (${event})` : ''}. Publish → stored is from the publish to the storing transaction's timestamp on the reading, for every message; "stored twice" counts readings of one device and instant stored more than once.

| Devices | Offered readings/s | Stored readings/s | Published | Stored | Lost | Stored twice | Refused by broker | Publish→stored p50 / p99 / max (ms) | Gridshare RSS under load (MB)${processCount > 1 ? ', per process' : ' / peak incl. provisioning'} | Load generator peak (MB) | Mosquitto peak (MB) | Interval marks waiting at the end | Newest quarter hour made began (s before the end) |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| ${fmt(ids.length)} | ${fmt(result.offered)} | ${fmt(result.storedPerSecond)} | ${fmt(result.published)} | ${fmt(result.stored)} | ${fmt(result.lost)} | ${fmt(result.twice)} | ${result.refused} | ${result.p50.toFixed(0)} / ${result.p99.toFixed(0)} / ${result.max.toFixed(0)} | ${result.gridshareRss}${processCount > 1 ? '' : ` / ${result.gridsharePeak}`} | ${result.loadRss} | ${result.brokerRss ?? '–'} | ${fmt(result.intervalMarksWaiting)} | ${result.intervalLagSeconds ?? '–'} |`;
  console.log(body);
  // Not part of the recorded section: where each process's memory was at its largest sample.
  for (const [name, m] of Object.entries(breakdownAtPeak)) {
    console.log(`memory at the largest sample, ${name}: RSS ${m.rss} MB, JS heap used ${m.heapUsed}, external ${m.external} (ArrayBuffers ${m.arrayBuffers}), malloc [heap] ${m.mallocHeap}`);
  }
  if (process.argv.includes('--record')) recordSection(processCount > 1 ? 'Many devices, several processes (bench:scale)' : 'Many devices (bench:scale)', body);
} finally {
  load?.kill();
  await installation?.close();
  await database.drop();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
