/**
 * Provisioning benchmark: 10,000 devices with keys, claim codes, config files, QR codes (PNG
 * and SVG) and the batch ZIP, in one call of the service, on PGlite (and on PostgreSQL when
 * DATABASE_URL is set). Run: npm run bench:provision [-- --count N] [-- --record]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, type StoreConfig } from '../server/src/store/db.js';
import { migrate } from '../server/src/store/migrate.js';
import { provisionBatch } from '../server/src/provisioning/service.js';
import { ArtefactStore } from '../server/src/provisioning/artefact-store.js';
import { generateMasterKey, SecretBox } from '../server/src/secrets/index.js';
import { benchCommunity } from './lib/community.js';
import { machine, peakRssMb, recordSection } from './lib/report.js';

const count = Number(process.argv[process.argv.indexOf('--count') + 1]) || 10_000;
const record = process.argv.includes('--record');

async function run(store: StoreConfig, label: string) {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-bench-provision-'));
  const db = await openDb(store.kind === 'pglite' ? { kind: 'pglite', dataDir: join(dir, 'db') } : store);
  try {
    await migrate(db);
    const { communityId, manager } = await benchCommunity(db);
    const store = new ArtefactStore(join(dir, 'artefacts'));
    const phases: Record<string, number> = {};
    const started = performance.now();
    let last = started;
    let lastPhase = '';
    const batch = await provisionBatch(
      {
        db, store, endpoints: { publicUrl: 'https://energy.example.org', mqttUrl: 'mqtts://energy.example.org:8883', hostName: 'energy.example.org' },
        deviceChanged: () => undefined, secrets: new SecretBox([generateMasterKey()]),
      },
      manager, communityId, { count, kind: 'meter-reader' },
      (done, total, phase) => {
        const now = performance.now();
        if (phase !== lastPhase && lastPhase) phases[lastPhase] = (phases[lastPhase] ?? 0) + (now - last) / 1000;
        if (phase !== lastPhase) last = now;
        lastPhase = phase;
        if (process.stderr.isTTY) process.stderr.write(`\r${label}: ${phase} ${done}/${total}   `);
      },
    );
    const seconds = (performance.now() - started) / 1000;
    if (lastPhase) phases[lastPhase] = (phases[lastPhase] ?? 0) + (performance.now() - last) / 1000;
    const zipMb = statSync(join(dir, 'artefacts', `${batch.id}.zip`)).size / 1e6;
    if (process.stderr.isTTY) process.stderr.write('\n');
    return { label, seconds, devices: batch.size, zipMb, rss: peakRssMb(), phases };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [await run({ kind: 'pglite', dataDir: undefined }, 'PGlite (embedded, on disk)')];
if (process.env.DATABASE_URL) results.push(await run({ kind: 'postgres', url: process.env.DATABASE_URL }, 'PostgreSQL 15 server'));

const rows = results.map((r) =>
  `| ${r.label} | ${r.devices.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ${Math.round(r.devices / r.seconds).toLocaleString('en')} | ${r.zipMb.toFixed(1)} | ${r.rss} | ${Object.entries(r.phases).map(([p, s]) => `${p} ${s.toFixed(1)} s`).join(', ')} |`);
const body = `Measured ${machine()} with \`npm run bench:provision\`: one batch of ${count.toLocaleString('en')} devices through the provisioning service (ids, two keys, claim code, config file, QR PNG + SVG, CSV manifest, ZIP on disk, rows in one transaction). Target: < 60 s. Peak RSS is the whole process (cumulative over the runs listed above it).

| Store | Devices | Time (s) | Devices/s | ZIP (MB) | Peak RSS (MB) | Phases |
|---|---:|---:|---:|---:|---:|---|
${rows.join('\n')}`;
console.log(body);
if (record) recordSection('Provisioning', body);
