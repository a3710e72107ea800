/**
 * Sharing benchmark: the sharing job over stored intervals. A community of N members (every
 * tenth a producer) with D days of quarter-hour intervals marked dirty, as the interval job
 * leaves them; measured: the job working off every mark into member_energy_days (wall and CPU time
 * of this process, memory above the store's baseline), then one month's settlement. On PGlite
 * and on a scratch database of the PostgreSQL server DATABASE_URL names.
 * Run: npm run bench:share [-- --members N] [-- --days D] [-- --store pglite|postgres|both] [-- --no-settlement | --settlement-only] [-- --record]
 * `--settlement-only` seeds and shares once (untimed) and reports the settlement alone: wall, client and server CPU, memory;
 * `--cpu-prof FILE` writes a V8 CPU profile of the settlement alone, or with `--no-settlement` of the sharing job alone (open it
 * in Chrome DevTools or `npx speedscope`).
 * `--heap-snapshot FILE` writes a V8 heap snapshot of the sharing job when its RSS first exceeds `--heap-snapshot-above MB`
 * (above the baseline, default 150); the job's peak memory is also printed split into V8 heap, external and array buffers.
 * `--heap-growth PERCENT`: the process's heap growth (default: `gridshare start`'s, server/src/platform/heap-growth.ts; 0: V8's own).
 * The 1,000-member month on PostgreSQL: -- --members 1000 --days 31 --store postgres
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { writeHeapSnapshot } from 'node:v8';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type Db, type StoreConfig } from '../server/src/platform/store/db.js';
import { migrate } from '../server/src/platform/store/migrate.js';
import { markSharingDirty, processSharingDirty } from '../server/src/sharing/service.js';
import { provisionalFigures } from '../server/src/operator/index.js';
import { runSettlement } from '../server/src/billing/settlements.js';
import { monthRange } from '../server/src/kernel/calendar.js';
import { benchCommunity } from './lib/community.js';
import { machine, peakRssMb, recordSection } from './lib/report.js';
import { createScratchDatabase } from '../server/test/support/stores.js';
import { DEFAULT_HEAP_GROWTH_PERCENT, setHeapGrowth } from '../server/src/platform/heap-growth.js';

const arg = (name: string, fallback: number) => Number(process.argv[process.argv.indexOf(name) + 1]) || fallback;
const members = arg('--members', 200);
const days = arg('--days', 32);
const storeArg = process.argv.includes('--store') ? process.argv[process.argv.indexOf('--store') + 1] : 'both';
const settlementOnly = process.argv.includes('--settlement-only');
const settle = settlementOnly || !process.argv.includes('--no-settlement');
// The heap growth `gridshare start` runs with, so that the job's memory is measured as it runs there (`--heap-growth 0`: V8's own policy).
const heapGrowth = process.argv.includes('--heap-growth') ? Number(process.argv[process.argv.indexOf('--heap-growth') + 1]) : DEFAULT_HEAP_GROWTH_PERCENT;
setHeapGrowth(heapGrowth);
const Q = 900_000;
const PERIOD = '2026-10';

async function seed(db: Db, communityId: string): Promise<number> {
  const range = monthRange(PERIOD, 'Europe/Vienna')!;
  const quarters = Math.min(days * 96, (range.endMs - range.startMs) / Q);
  const starts = Array.from({ length: quarters }, (_, t) => new Date(range.startMs + t * Q));
  for (let m = 0; m < members; m++) {
    const user = await db.query<{ id: string }>(`INSERT INTO users (email, display_name, password_hash) VALUES ($1, $2, 'x') RETURNING id`, [`share-bench-${m}@example.org`, `Member ${m}`]);
    const member = await db.query<{ id: string }>(
      `INSERT INTO members (community_id, user_id, role, state, display_name) VALUES ($1, $2, 'member', 'active', $3) RETURNING id`, [communityId, user[0]!.id, `Member ${m}`]);
    const point = await db.query<{ id: string }>(
      `INSERT INTO metering_points (community_id, member_id, name, grid_connection_id, role) VALUES ($1, $2, $3, $4, 'prosumer') RETURNING id`,
      [communityId, member[0]!.id, `Site ${m}`, `BENCH${String(m).padStart(8, '0')}`]);
    const producer = m % 10 === 0;
    // Daytime production for producers, a load with a daily shape for everyone else.
    const hourOf = (t: number) => Math.floor((t % 96) / 4);
    const imports = starts.map((_, t) => (producer ? 0 : 50 + ((t * 7 + m * 13) % 200)));
    const exports = starts.map((_, t) => (producer && hourOf(t) >= 7 && hourOf(t) < 17 ? 500 + ((t * 11 + m) % 900) : 0));
    await db.query(
      `INSERT INTO intervals (metering_point_id, start, community_id, import_wh, export_wh, quality)
       SELECT $1, s, $2, i, e, 'measured' FROM unnest($3::timestamptz[], $4::int8[], $5::int8[]) AS u(s, i, e)`,
      [point[0]!.id, communityId, starts, imports, exports],
    );
  }
  await markSharingDirty(db, communityId, starts.map((d) => d.getTime()));
  return quarters;
}

const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const heapSnapshotFile = process.argv.includes('--heap-snapshot') ? process.argv[process.argv.indexOf('--heap-snapshot') + 1] : undefined;
const heapSnapshotAboveMb = arg('--heap-snapshot-above', 150);

/**
 * CPU seconds (user + system) the PostgreSQL backends of this database have used so far, where the
 * server runs on this machine (its processes in /proc); undefined for PGlite, which runs in this process.
 */
async function serverCpuSeconds(db: Db): Promise<Map<number, number> | undefined> {
  if (db.kind !== 'postgres') return undefined;
  const backends = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  const ticks = new Map<number, number>();
  for (const { pid } of backends) {
    const path = `/proc/${pid}/stat`;
    if (!existsSync(path)) return undefined;
    // Fields 14 and 15 (after the command in parentheses) are utime and stime in clock ticks (100/s).
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
  }
  return ticks;
}

/** The backends' CPU between two samples (a backend that came meanwhile counts from zero). */
function serverCpuBetween(before: Map<number, number> | undefined, after: Map<number, number> | undefined): number | undefined {
  if (!before || !after) return undefined;
  let seconds = 0;
  for (const [pid, cpu] of after) seconds += cpu - (before.get(pid) ?? 0);
  return seconds;
}

/** What one phase cost: wall and this process's CPU, the server backends' CPU, the peak RSS above the RSS when it began. */
interface Cost { seconds: number; cpuSeconds: number; serverCpu: number | undefined; aboveBaselineMb: number; peak: string }

async function measure(db: Db, phase: () => Promise<unknown>, snapshot?: string): Promise<Cost> {
  // The baseline: this process once the store is open and seeded (PGlite runs in it).
  const baseline = process.memoryUsage();
  const baselineMb = mb(baseline.rss);
  let peakMb = baselineMb;
  let peak = baseline;
  let snapshotFile = snapshot;
  const sample = () => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
    peakMb = Math.max(peakMb, mb(now.rss));
    if (snapshotFile && mb(now.rss) - baselineMb > heapSnapshotAboveMb) {
      process.stderr.write(`heap snapshot at ${mb(now.rss) - baselineMb} MB above baseline: ${writeHeapSnapshot(snapshotFile)}\n`);
      snapshotFile = undefined;
    }
  };
  const sampler = setInterval(sample, 50);
  const serverBefore = await serverCpuSeconds(db);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  try {
    await phase();
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const serverCpu = serverCpuBetween(serverBefore, await serverCpuSeconds(db));
  sample();
  const above = (key: 'heapUsed' | 'heapTotal' | 'external' | 'arrayBuffers') => mb(peak[key] - baseline[key]);
  const breakdown = `RSS +${peakMb - baselineMb} MB at the peak: V8 heap total +${above('heapTotal')} (used +${above('heapUsed')}), external +${above('external')} (array buffers +${above('arrayBuffers')})`;
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, serverCpu, aboveBaselineMb: peakMb - baselineMb, peak: breakdown };
}

/** The phase under the V8 profiler when `--cpu-prof FILE` is given (only this phase: seeding, and sharing before a settlement, would drown it). */
async function profiled<T>(phase: () => Promise<T>): Promise<T> {
  const file = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : undefined;
  if (!file) return phase();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await phase();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

async function run(store: StoreConfig, label: string) {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-bench-share-'));
  const db = await openDb(store.kind === 'pglite' ? { kind: 'pglite', dataDir: join(dir, 'db') } : store);
  try {
    await migrate(db);
    const { communityId, manager } = await benchCommunity(db);
    await db.query(`INSERT INTO tariffs (community_id, name, grid_price, community_price, feed_in_price, valid_from) VALUES ($1, 'T', 0.3, 0.15, 0.07, '2020-01-01')`, [communityId]);
    const quarters = await seed(db, communityId);
    const shareAll = async () => {
      while ((await processSharingDirty(db, provisionalFigures)) > 0) { /* until nothing is marked */ }
    };
    const share = await measure(db, () => (settle ? shareAll() : profiled(shareAll)), heapSnapshotFile);
    process.stderr.write(`sharing job: ${share.peak}\n`);
    const settlement = settle ? await measure(db, () => profiled(() => runSettlement(db, manager, communityId, PERIOD))) : undefined;
    return { label, quarters, share, settlement, rss: peakRssMb() };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const loadBefore = loadavg()[0]!;
const results = storeArg === 'postgres' ? [] : [await run({ kind: 'pglite', dataDir: undefined }, 'PGlite (embedded, on disk)')];
if (process.env.DATABASE_URL && storeArg !== 'pglite') {
  // A scratch database on that server, so the benchmark never touches an existing one.
  const scratch = await createScratchDatabase(process.env.DATABASE_URL, 'gridshare_bench_share');
  try {
    results.push(await run({ kind: 'postgres', url: scratch.url }, 'PostgreSQL server'));
  } finally {
    await scratch.drop();
  }
}
const loadAfter = loadavg()[0]!;

const cpuText = (seconds: number | undefined) => seconds?.toFixed(1) ?? '–';
const settlementBody = () => {
  const rows = results.map((r) => {
    const s = r.settlement!;
    return `| ${r.label} | ${members.toLocaleString('en')} | ${r.quarters.toLocaleString('en')} | ${s.seconds.toFixed(1)} | ${cpuText(s.cpuSeconds)} | ${cpuText(s.serverCpu)} | ${s.aboveBaselineMb} | ${r.rss} |`;
  });
  return `Measured ${machine()} with \`npm run bench:share -- ${process.argv.slice(2).join(' ')}\`, 1-minute load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after, heap growth ${heapGrowth} % (as \`gridshare start\`; 0: V8's own policy): the settlement of the month alone (statements for every member), after seeding and sharing it (not timed). "Client CPU" is this process's user + system time (PGlite runs inside it); "server CPU" that of the PostgreSQL backends of the scratch database (from /proc); "above baseline" the settlement's peak RSS (sampled every 50 ms) minus the RSS when it began; peak RSS is the whole process.

| Store | Members | Quarter hours | Settlement (s) | Client CPU (s) | Server CPU (s) | Above baseline (MB) | Peak RSS (MB) |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
`;
};
const sharingBody = () => {
  const rows = results.map((r) => {
    const memberQuarters = (members + 1) * r.quarters;
    const { share, settlement } = r;
    return `| ${r.label} | ${members.toLocaleString('en')} | ${r.quarters.toLocaleString('en')} | ${share.seconds.toFixed(1)} | ${share.cpuSeconds.toFixed(1)} | ${cpuText(share.serverCpu)} | ${Math.round(memberQuarters / share.seconds).toLocaleString('en')} | ${Math.round(memberQuarters / (share.cpuSeconds + (share.serverCpu ?? 0))).toLocaleString('en')} | ${share.aboveBaselineMb} | ${settlement?.seconds.toFixed(1) ?? '–'} | ${cpuText(settlement?.cpuSeconds)} | ${r.rss} |`;
  });
  return `Measured ${machine()} with \`npm run bench:share -- ${process.argv.slice(2).join(' ')}\`, 1-minute load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after, heap growth ${heapGrowth} % (as \`gridshare start\`; 0: V8's own policy): the sharing job working off every marked quarter hour of one community (dynamic rule, every tenth member a producer) from stored intervals into member_energy_days (a row per member and UTC day), then the settlement of the month (statements for every member). "Job CPU" is this process's user + system time during the job (PGlite runs inside it); "server CPU" that of the PostgreSQL backends of the scratch database (read from /proc, so only for a server on this machine); "per CPU-second" divides the member-quarter hours by both, which is the figure to compare on a loaded machine. "Above baseline" is the job's peak RSS minus the RSS once the store was open and seeded; peak RSS is the whole process.

| Store | Members | Quarter hours | Sharing job (s) | Job CPU (s) | Server CPU (s) | Member-quarter hours/s | per CPU-second | Above baseline (MB) | Settlement (s) | Settlement CPU (s) | Peak RSS (MB) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
`;
};
const body = settlementOnly ? settlementBody() : sharingBody();
process.stdout.write(`${body}\n`);
if (process.argv.includes('--record')) recordSection(settlementOnly ? 'Settlement' : 'Sharing job and settlement', body);
