/**
 * Privacy benchmark (`npm run bench:privacy`, add `-- --record` to update bench/RESULTS.md).
 * The issue sets no speed target; these figures size phase 2's jobs.
 *
 * 1. A member's export ZIP (GDPR Art. 15/20) from async iterators: 90 days of 10-second raw
 *    readings, a year of 15-minute intervals for two metering points, a year of energy by
 *    source, statements, consents, access log. Run at two sizes (a tenth of the readings, then
 *    all) to show memory does not grow with the export: peak RSS sampled during each run.
 * 2. Masking a regulator export: an allocation CSV of 100 members × 30 days (288,000 rows),
 *    member ids hashed and quarter hours summed into hours — in memory, and from file to file
 *    through `gridshare mask`'s runMask (CSV parsing and writing included).
 * 3. The consent decision: mayRead over 1,000 grants; reducing a year of quarter hours to days.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatUtcInstant, QUARTER_HOUR_MS } from '../server/src/kernel/time.js';
import {
  compileRuleSet, createGrant, EXPORT_KINDS, maskCsvRows, mayRead, parseRuleSet, reduceToGrant,
  type ExportKind, type ExportRecord, type Grant, type QuarterPoint, type ReadRequest, type Recipient,
} from '../server/src/privacy/domain/index.js';
import { writeMemberExport, type ExportSources } from '../server/src/privacy/export-zip.js';
import { runMask } from '../server/src/privacy/commands.js';
import { machine, peakRssMb, recordSection } from './lib/report.js';
import { prng } from './allocate.js';

const LOAD_AT_START = loadavg()[0]!;
const T0 = Date.UTC(2025, 0, 1);
const random = prng(20);
const cpuMs = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const dir = await mkdtemp(join(tmpdir(), 'bench-privacy-'));

// ---------- 1. export ZIP ----------

async function* generate<T>(count: number, make: (i: number) => T): AsyncGenerator<T> {
  for (let i = 0; i < count; i++) {
    yield make(i);
    // A database cursor hands rows over in pages: a turn of the event loop every 1,000.
    if (i % 1000 === 999) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function memberSources(readings: number): ExportSources {
  const empty = Object.fromEntries(EXPORT_KINDS.map((k) => [k, []])) as unknown as Record<ExportKind, ExportRecord[]>;
  const year = 365 * 96;
  return {
    ...empty,
    account: [{ user_id: 'u-1', email: 'member01@sunny-street.demo', display_name: 'Member 01', language: 'en', is_admin: false, created_at: '2024-12-01T10:00:00Z' }],
    memberships: [{ member_id: 'm-1', community_id: 'c-1', community_name: 'Sunny Street', role: 'member', state: 'active', display_name: 'Member 01', requested_at: '2024-12-01T10:00:00Z', decided_at: '2024-12-02T09:00:00Z' }],
    sites: [1, 2].map((n) => ({ metering_point_id: `mp-${n}`, community_id: 'c-1', name: n === 1 ? 'Home' : 'Heat pump', address: 'Sonnenweg 1, 1010 Wien', grid_connection_id: `AT00100000000000000010000000000${n}`, role: 'consumer', pv_capacity_w: null, battery_capacity_wh: null, created_at: '2024-12-01T10:00:00Z' })),
    devices: [{ device_id: 'reader-0001', community_id: 'c-1', metering_point_id: 'mp-1', kind: 'meter-reader', name: 'P1 reader', status: 'active', created_at: '2024-12-01T10:00:00Z', last_seen_at: '2025-12-31T23:59:50Z' }],
    readings: generate(readings, (i) => ({
      device_id: 'reader-0001', metering_point_id: 'mp-1', quantity: 'energy_import_wh', ts: formatUtcInstant(T0 + i * 10_000), value: 12_345_678 + Math.floor(i * 1.7), received_at: formatUtcInstant(T0 + i * 10_000 + 420),
    })),
    intervals: generate(2 * year, (i) => ({
      metering_point_id: i < year ? 'mp-1' : 'mp-2', start: formatUtcInstant(T0 + (i % year) * QUARTER_HOUR_MS), import_wh: Math.floor(random() * 400), export_wh: 0, pv_wh: null, quality: i % 97 === 0 ? 'estimated' : 'measured',
    })),
    'energy-by-source': generate(year, (i) => {
      const fromCommunity = Math.floor(random() * 150);
      const fromGrid = Math.floor(random() * 300);
      return { member_id: 'm-1', start: formatUtcInstant(T0 + i * QUARTER_HOUR_MS), consumption_wh: fromCommunity + fromGrid, self_consumed_wh: 0, from_community_wh: fromCommunity, from_grid_wh: fromGrid, production_wh: 0, to_community_wh: 0, to_grid_wh: 0, quality: 'measured' };
    }),
    statements: Array.from({ length: 12 }, (_, m) => ({ statement_id: `s-${m + 1}`, community_id: 'c-1', period_start: formatUtcInstant(Date.UTC(2025, m, 1) - 3_600_000), period_end: formatUtcInstant(Date.UTC(2025, m + 1, 1) - 3_600_000), currency: 'EUR', total: '42.17', lines: [{ label: 'community energy', amount: '12.40' }, { label: 'grid energy', amount: '29.77' }], savings: '3.10', co2_saved_kg: '18.2', issued_at: formatUtcInstant(Date.UTC(2025, m + 1, 2)) })),
    consents: Array.from({ length: 3 }, (_, i) => ({ direction: 'given', type: 'grant', id: `g-${i}`, counterpart: 'Energy Lab', scope: { meteringPoints: ['mp-1'], quantities: ['import'], resolution: '1h' }, purpose: 'research', created_at: '2025-03-01T00:00:00Z', valid_until: '2026-03-01T00:00:00Z', revoked_at: null, price: '0', digest: 'ab'.repeat(32) })),
    'access-log': generate(500, (i) => ({ at: formatUtcInstant(T0 + i * 17 * 3_600_000), accessor_kind: 'manager', accessor: 'Mia Manager', grant_id: null, purpose: 'settlement', category: 'intervals', metering_points: 'mp-1', period_from: '2025-01-01T00:00:00Z', period_to: '2025-02-01T00:00:00Z', resolution: '15m' })),
  };
}

interface ExportRun { readings: number; records: number; wallMs: number; cpuMs: number; zipBytes: number; peakRssMb: number; baseRssMb: number }

async function exportRun(readings: number): Promise<ExportRun> {
  (globalThis as { gc?: () => void }).gc?.();
  const baseRss = process.memoryUsage().rss;
  let peakRss = baseRss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
  const destination = join(dir, `export-${readings}.zip`);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const result = await writeMemberExport(memberSources(readings), destination, {
    readme: { language: 'en', timeZone: 'Europe/Vienna', community: 'Sunny Street', member: 'Member 01', generatedAt: Date.UTC(2026, 0, 2) },
    tmpDir: dir,
    onProgress: () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); },
  });
  const wallMs = performance.now() - t0;
  const used = cpuMs(cpu);
  clearInterval(sampler);
  const zipBytes = (await stat(destination)).size;
  await rm(destination);
  return { readings, records: result.totalRecords, wallMs, cpuMs: used, zipBytes, peakRssMb: Math.round(peakRss / 2 ** 20), baseRssMb: Math.round(baseRss / 2 ** 20) };
}

const readings90Days = 90 * 8640;
const exportRuns = [await exportRun(readings90Days / 10), await exportRun(readings90Days)];
for (const r of exportRuns) process.stderr.write(`export: ${fmt(r.records)} records in ${(r.wallMs / 1000).toFixed(1)} s\n`);

// ---------- 2. masking ----------

const MEMBERS = 100;
const DAYS = 30;
const header = ['interval_start', 'member_id', 'from_community_wh', 'to_community_wh', 'from_grid_wh', 'to_grid_wh'];
const rows: string[][] = [];
for (let q = 0; q < DAYS * 96; q++) {
  const stamp = formatUtcInstant(T0 + q * QUARTER_HOUR_MS);
  for (let m = 0; m < MEMBERS; m++) rows.push([stamp, `member-${String(m).padStart(3, '0')}`, String(Math.floor(random() * 200)), '0', String(Math.floor(random() * 300)), '0']);
}
const salt = new Uint8Array(32).map(() => Math.floor(random() * 256));
const masking = compileRuleSet(parseRuleSet({ name: 'regulator', schema: 'allocation', fields: { member_id: 'hash', interval_start: 'hourly' } }), { salt });
let cpu = process.cpuUsage();
let t0 = performance.now();
let outRows = 0;
for (const _ of maskCsvRows(masking, header, rows)) outRows++;
const maskMemoryMs = performance.now() - t0;
const maskMemoryCpu = cpuMs(cpu);

const csvPath = join(dir, 'allocation.csv');
await writeFile(csvPath, `${[header, ...rows].map((r) => r.join(',')).join('\n')}\n`);
await writeFile(join(dir, 'rules.json'), JSON.stringify({ name: 'regulator', schema: 'allocation', fields: { member_id: 'hash', interval_start: 'hourly' } }));
const csvBytes = (await stat(csvPath)).size;
cpu = process.cpuUsage();
t0 = performance.now();
const summary = await runMask({ rules: join(dir, 'rules.json'), input: csvPath, out: join(dir, 'masked.csv'), salt, progress: false });
const maskFileMs = performance.now() - t0;
const maskFileCpu = cpuMs(cpu);

// ---------- 3. consent decisions, series reduction ----------

const points = Array.from({ length: 20 }, (_, i) => `AT${String(i).padStart(31, '0')}`);
const grants: Grant[] = Array.from({ length: 1000 }, (_, i) => createGrant({
  grantor: `member-${i % 50}`,
  recipient: { kind: i % 3 === 0 ? 'app' : 'member', id: `recipient-${i % 200}`, label: 'x' },
  scope: { meteringPoints: [points[i % 20]!], quantities: ['import', 'pv'], resolution: (['15m', '1h', '1d'] as const)[i % 3]!, period: { fromMs: T0, toMs: null } },
  purpose: { code: 'research', statement: 'bench' },
  validUntil: T0 + 400 * 86_400_000,
}, { id: `grant-${i}`, communityId: 'c-1', now: T0, ownMeteringPoints: new Set(points) }));
// Each request is about one grant's grantor and recipient; every other one asks for a metering point the grant does not cover.
const requests: { recipient: Pick<Recipient, 'kind' | 'id'>; request: ReadRequest }[] = Array.from({ length: 100_000 }, (_, i) => {
  const grant = grants[(i * 7) % grants.length]!;
  return {
    recipient: grant.recipient,
    request: { grantor: grant.grantor, meteringPoint: i % 2 === 0 ? grant.scope.meteringPoints[0]! : points[(i + 1) % 20]!, quantity: 'import', resolution: '1d', fromMs: T0, toMs: T0 + 86_400_000 },
  };
});
cpu = process.cpuUsage();
t0 = performance.now();
let allowed = 0;
for (const { recipient, request } of requests) if (mayRead(grants, recipient, request, T0 + 86_400_000).allowed) allowed++;
const decideMs = performance.now() - t0;
const decideCpu = cpuMs(cpu);

const yearOfQuarters: QuarterPoint[] = Array.from({ length: 365 * 96 }, (_, i) => ({ startMs: T0 + i * QUARTER_HOUR_MS, wh: Math.floor(random() * 400), quality: 'measured' }));
const dailyGrant = grants.find((g) => g.scope.resolution === '1d')!;
const reduceTimes: number[] = [];
for (let k = 0; k < 20; k++) {
  const start = performance.now();
  reduceToGrant(yearOfQuarters, { grant: dailyGrant, resolution: '1d', window: { fromMs: T0, toMs: T0 + 365 * 86_400_000 }, timeZone: 'Europe/Vienna', completeBefore: T0 + 366 * 86_400_000 });
  reduceTimes.push(performance.now() - start);
}
reduceTimes.sort((a, b) => a - b);
await rm(dir, { recursive: true, force: true });

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const body = [
  `Measured ${machine()} with \`npm run bench:privacy\` (phase 1 of issue 20: the pure core, the export writer and \`gridshare mask\`; no target is set for these). 1-minute load average at the start: ${LOAD_AT_START.toFixed(1)} (the machine is shared with other sessions; above 2 on 2 CPUs everything is slower, so CPU time is given next to wall time).`,
  '',
  'A member\'s export ZIP from async iterators (a turn of the event loop every 1,000 records, as a paged query gives them): 10-second raw readings, a year of quarter hours for two metering points (70,080) and of energy by source (35,040), 12 statements, 3 consents, 500 access-log entries; JSON and CSV per kind, README; deflate level 6 on Node\'s zlib (thread pool). Peak RSS is sampled during the run; the base is the process before it.',
  '',
  '| Raw readings | Records | Time (s) | CPU (s) | Records/s | Records per CPU second | ZIP (MB) | Base RSS (MB) | Peak RSS (MB) |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...exportRuns.map((r) => `| ${fmt(r.readings)} | ${fmt(r.records)} | ${seconds(r.wallMs)} | ${seconds(r.cpuMs)} | ${fmt(r.records / (r.wallMs / 1000))} | ${fmt(r.records / (r.cpuMs / 1000))} | ${(r.zipBytes / 1e6).toFixed(1)} | ${r.baseRssMb} | ${r.peakRssMb} |`),
  '',
  `Memory does not follow the export's size: ${(exportRuns[1]!.records / exportRuns[0]!.records).toFixed(1)}× the records, peak RSS above the base ${exportRuns[0]!.peakRssMb - exportRuns[0]!.baseRssMb} MB → ${exportRuns[1]!.peakRssMb - exportRuns[1]!.baseRssMb} MB (the first run also warms the code up).`,
  '',
  `Masking the allocation CSV of ${MEMBERS} members × ${DAYS} days (${fmt(rows.length)} rows, ${(csvBytes / 1e6).toFixed(1)} MB): member ids hashed (HMAC-SHA-256), quarter hours summed into hours (${fmt(outRows - 1)} rows out).`,
  '',
  '| Masking | Time (s) | CPU (s) | Rows/s | Rows per CPU second |',
  '|---|---:|---:|---:|---:|',
  `| in memory (maskCsvRows) | ${seconds(maskMemoryMs)} | ${seconds(maskMemoryCpu)} | ${fmt(rows.length / (maskMemoryMs / 1000))} | ${fmt(rows.length / (maskMemoryCpu / 1000))} |`,
  `| file to file (runMask: csv-parse, mask, csv-stringify) | ${seconds(maskFileMs)} | ${seconds(maskFileCpu)} | ${fmt(summary.rowsIn / (maskFileMs / 1000))} | ${fmt(summary.rowsIn / (maskFileCpu / 1000))} |`,
  '',
  `Consent decisions: mayRead over 1,000 grants (50 grantors, 200 recipients), 100,000 requests (${fmt(allowed)} allowed): ${seconds(decideMs)} s, ${fmt(requests.length / (decideMs / 1000))} decisions/s (${fmt(requests.length / (decideCpu / 1000))} per CPU second). Phase 2 loads only the recipient's grants of one grantor, a handful, so a decision costs far less there. Reducing a year of quarter hours (35,040) to local days in Europe/Vienna: median ${reduceTimes[10]!.toFixed(1)} ms, best ${reduceTimes[0]!.toFixed(1)} ms.`,
  '',
  `Peak RSS of the whole run: ${peakRssMb()} MB (the 288,000 masking rows are held in memory for the in-memory figure).`,
].join('\n');
process.stdout.write(`${body}\n`);
if (process.argv.includes('--record')) {
  recordSection('Privacy (pure core, export ZIP, masking)', body);
  process.stderr.write('recorded in bench/RESULTS.md\n');
}
