/**
 * Ledger pure-core benchmark (`npm run bench:ledger`, add `-- --record` to update bench/RESULTS.md).
 *
 *   append      1 M realistic entries (canonical JSON of statements, settlements, trades, …) in
 *               batches of 1,000: leaf hashes, tiles, the new root after every batch — what a
 *               batched append does before it writes its rows. Also with the entries' RFC 8785
 *               encoding included.
 *   10 M log    a tile set of 10 million leaves in memory (leaf hashes from a fast PRNG, every
 *               tile hashed for real), then inclusion proofs for 2,000 random entries and
 *               consistency proofs from random old sizes: plan, compute from tiles, verify.
 *   PostgreSQL  the same through the ledger's real service and store on a PostgreSQL server
 *               (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; a scratch
 *               database created and dropped for each part — nothing existing is touched):
 *               - append: 50,000 signed entries queued (store.enqueue, 1,000 per transaction),
 *                 then `LedgerService.append()` in its batches of 10,000 (head lock, frontier
 *                 tiles, entries, tiles, head), then a signed checkpoint;
 *               - 10 M log: the tiles built in memory above bulk-loaded into ledger_tiles exactly
 *                 as the store lays them out (one row per tile at its widest, multi-row INSERTs
 *                 of `unnest` arrays, 1,000 tiles each), the head set to 10 M (the entries
 *                 themselves are not loaded: proofs read only tiles), a checkpoint signed by
 *                 `LedgerService.checkpoint()` (its root, read from PostgreSQL, must equal the
 *                 in-memory root), then `LedgerService.inclusionProof()` for 2,000 random entries,
 *                 each verified against the signed root.
 * Targets: ≥ 10,000 entries/s batched on PostgreSQL; an inclusion proof at 10 M entries in < 5 ms.
 * `--core-only` skips the PostgreSQL part.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import {
  EMPTY_FRONTIER, TILE_WIDTH, TileMap, openCheckpoint, signEntry, toHex, verifierFromKey, appendLeaves, consistencyProofFromTiles, encodeEntry, inclusionProofFromTiles,
  leafHash, marketTrade, rootOfFrontier, settlementClosed, statementIssued, tilesForConsistencyProof,
  tilesForInclusionProof, treeHashFromTiles, verifyConsistency, verifyInclusion, type Frontier, type LedgerEntry,
} from '../server/src/ledger/domain/index.js';
import { LedgerService, APPEND_BATCH } from '../server/src/ledger/service.js';
import * as ledgerStore from '../server/src/ledger/store.js';
import { openDb, type Db } from '../server/src/platform/store/db.js';
import { migrate } from '../server/src/platform/store/migrate.js';
import { SecretBox, generateMasterKey } from '../server/src/secrets/index.js';
import { createScratchDatabase } from '../server/test/support/stores.js';
import { machine, peakRssMb, percentile, recordSection } from './lib/report.js';

const LOAD_AT_START = loadavg()[0]!;
const APPEND_ENTRIES = 1_000_000;
const BATCH = 1_000;
const BIG_LOG = 10_000_000;
const PROOFS = 2_000;

/** A deterministic xorshift generator: the benchmark draws the same indices every run. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const HEX = '0123456789abcdef';
const random = xorshift(2026);
const hex64 = () => Array.from({ length: 64 }, () => HEX[random() & 15]).join('');
const november = { start: Date.UTC(2026, 9, 31, 23), end: Date.UTC(2026, 10, 30, 23) };

/** Entry number i, cycling through three kinds of realistic size (~300–450 bytes of JSON). */
function entry(i: number): LedgerEntry {
  const base = { at: november.end + i * 1000, community: `community-${i % 97}` };
  switch (i % 3) {
    case 0:
      return statementIssued(base, { statement: `st-2026-11-${i}`, member: hex64(), period: november, document: { mediaType: 'application/pdf', sha256: hex64(), size: 40_000 + (i % 9000) } });
    case 1:
      return marketTrade(base, { trade: `tr-${i}`, slot: { start: november.start + (i % 2880) * 900_000, end: november.start + ((i % 2880) + 1) * 900_000 }, buyer: hex64(), seller: hex64(), energyWh: String(100 + (i % 5000)), price: '0.1425', currency: 'EUR' });
    default:
      return settlementClosed(base, { settlement: `set-${i}`, period: november, currency: 'EUR', statements: 30, totals: { consumptionWh: String(812_345 + i), sharedWh: '301234', communityAmount: '1234.56', gridFeeReduction: '-12.30' } });
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

// ---- append 1 M entries ----

process.stderr.write(`append: encoding ${APPEND_ENTRIES.toLocaleString('en')} entries…\n`);
let encodeMs = 0;
let appendMs = 0;
let appendCpuMs = 0;
let encodeCpuMs = 0;
let bytesTotal = 0;
let frontier: Frontier = EMPTY_FRONTIER;
let tilesWritten = 0;
for (let start = 0; start < APPEND_ENTRIES; start += BATCH) {
  const made = Array.from({ length: BATCH }, (_, k) => entry(start + k));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const encoded = made.map(encodeEntry);
  const encodeCpu = process.cpuUsage(cpu0);
  encodeCpuMs += (encodeCpu.user + encodeCpu.system) / 1000;
  const t1 = performance.now();
  const cpu1 = process.cpuUsage();
  const appended = appendLeaves(frontier, encoded.map(leafHash));
  frontier = appended.frontier;
  rootOfFrontier(frontier);
  const t2 = performance.now();
  const cpu2 = process.cpuUsage(cpu1);
  appendCpuMs += (cpu2.user + cpu2.system) / 1000;
  encodeMs += t1 - t0;
  appendMs += t2 - t1;
  tilesWritten += appended.tiles.length;
  for (const e of encoded) bytesTotal += e.length;
  if ((start / BATCH) % 100 === 99) process.stderr.write(`  ${(start + BATCH).toLocaleString('en')} entries\n`);
}
const appendRate = APPEND_ENTRIES / (appendMs / 1000);
const withEncodingRate = APPEND_ENTRIES / ((appendMs + encodeMs) / 1000);

// ---- a 10 M-entry log in memory ----

process.stderr.write(`10 M log: building the tiles of ${BIG_LOG.toLocaleString('en')} leaves…\n`);
const tiles = new TileMap();
let bigFrontier: Frontier = EMPTY_FRONTIER;
const CHUNK = 65_536;
const leafBytes = new Uint8Array(CHUNK * 32);
const words = new Uint32Array(leafBytes.buffer);
const buildStart = performance.now();
for (let start = 0; start < BIG_LOG; start += CHUNK) {
  const count = Math.min(CHUNK, BIG_LOG - start);
  for (let w = 0; w < count * 8; w++) words[w] = random();
  const leaves = Array.from({ length: count }, (_, k) => leafBytes.subarray(k * 32, (k + 1) * 32));
  const appended = appendLeaves(bigFrontier, leaves);
  for (const tile of appended.tiles) tiles.put(tile);
  bigFrontier = appended.frontier;
  if ((start / CHUNK) % 20 === 19) process.stderr.write(`  ${(start + count).toLocaleString('en')} leaves\n`);
}
const buildMs = performance.now() - buildStart;

const rootStart = performance.now();
const root = treeHashFromTiles(BIG_LOG, tiles);
const rootMs = performance.now() - rootStart;

/** CPU time of this process (user + system) in ms: unlike wall time, not inflated by other processes' load. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const inclusionTimes: number[] = [];
const verifyTimes: number[] = [];
let maxTiles = 0;
const inclusionCpuStart = cpuMs();
for (let k = 0; k < PROOFS; k++) {
  const index = random() % BIG_LOG;
  const t0 = performance.now();
  const plan = tilesForInclusionProof(index, BIG_LOG);
  const proof = inclusionProofFromTiles(index, BIG_LOG, tiles);
  const t1 = performance.now();
  maxTiles = Math.max(maxTiles, plan.length);
  // The leaf hash is in its level-0 tile.
  const tile = tiles.readTile({ level: 0, index: Math.floor(index / 256), width: 256 })!;
  verifyInclusion(index, BIG_LOG, tile.subarray((index % 256) * 32, (index % 256) * 32 + 32), proof, root);
  inclusionTimes.push(t1 - t0);
  verifyTimes.push(performance.now() - t1);
}
const inclusionCpuMs = (cpuMs() - inclusionCpuStart) / PROOFS;
inclusionTimes.sort((a, b) => a - b);
verifyTimes.sort((a, b) => a - b);

const consistencyTimes: number[] = [];
let maxConsistencyTiles = 0;
for (let k = 0; k < 200; k++) {
  const oldSize = 1 + (random() % (BIG_LOG - 1));
  const oldRoot = treeHashFromTiles(oldSize, tiles);
  const t0 = performance.now();
  maxConsistencyTiles = Math.max(maxConsistencyTiles, tilesForConsistencyProof(oldSize, BIG_LOG).length);
  const proof = consistencyProofFromTiles(oldSize, BIG_LOG, tiles);
  consistencyTimes.push(performance.now() - t0);
  verifyConsistency(oldSize, BIG_LOG, proof, oldRoot, root);
}
consistencyTimes.sort((a, b) => a - b);

const ms = (sorted: number[], p: number) => percentile(sorted, p).toFixed(3);
const cpuRate = APPEND_ENTRIES / (appendCpuMs / 1000);
const withEncodingCpuRate = APPEND_ENTRIES / ((appendCpuMs + encodeCpuMs) / 1000);
const body = [
  `Measured ${machine()} with \`npm run bench:ledger\`: first the pure core in memory, then on PostgreSQL (below). 1-minute load average at the start: ${LOAD_AT_START.toFixed(1)} (the machine is shared with other sessions; above 2 on 2 CPUs everything is slower).`,
  '',
  `Append: ${APPEND_ENTRIES.toLocaleString('en')} entries (statements, trades, settlements as RFC 8785 JSON, ${Math.round(bytesTotal / APPEND_ENTRIES)} bytes on average) in batches of ${BATCH.toLocaleString('en')}: leaf hashes, C2SP tiles (${tilesWritten.toLocaleString('en')} tile writes), the new root after every batch.`,
  '',
  '| Append | Time (s) | Entries/s | Entries per CPU second | Target (on PostgreSQL) |',
  '|---|---:|---:|---:|---|',
  `| hashes and tiles | ${seconds(appendMs)} | ${Math.round(appendRate).toLocaleString('en')} | ${Math.round(cpuRate).toLocaleString('en')} | ≥ 10,000/s batched |`,
  `| with RFC 8785 encoding (and checking) of the entries | ${seconds(appendMs + encodeMs)} | ${Math.round(withEncodingRate).toLocaleString('en')} | ${Math.round(withEncodingCpuRate).toLocaleString('en')} | |`,
  '',
  `Log of ${BIG_LOG.toLocaleString('en')} entries in memory (${tiles.size.toLocaleString('en')} tiles; leaf hashes from a PRNG, every tile hashed): built in ${seconds(buildMs)} s (${Math.round(BIG_LOG / (buildMs / 1000)).toLocaleString('en')} leaves/s), tree head from its tiles in ${rootMs.toFixed(2)} ms.`,
  '',
  '| At 10 M entries | p50 (ms) | p99 (ms) | max (ms) | Tiles read (max) | Target (on PostgreSQL) |',
  '|---|---:|---:|---:|---:|---|',
  `| inclusion proof (plan + compute from tiles), ${PROOFS.toLocaleString('en')} random entries | ${ms(inclusionTimes, 50)} | ${ms(inclusionTimes, 99)} | ${inclusionTimes[inclusionTimes.length - 1]!.toFixed(3)} | ${maxTiles} | < 5 ms |`,
  `| verify that proof (RFC 9162) | ${ms(verifyTimes, 50)} | ${ms(verifyTimes, 99)} | ${verifyTimes[verifyTimes.length - 1]!.toFixed(3)} | – | |`,
  `| consistency proof from a random older size | ${ms(consistencyTimes, 50)} | ${ms(consistencyTimes, 99)} | ${consistencyTimes[consistencyTimes.length - 1]!.toFixed(3)} | ${maxConsistencyTiles} | |`,
  '',
  `CPU time per inclusion proof (plan + compute + verify, mean of ${PROOFS.toLocaleString('en')}): ${inclusionCpuMs.toFixed(3)} ms. Wall-clock p99 and max follow the machine's load (other processes take the CPU mid-proof); the CPU figures do not.`,
  '',
  `Peak RSS ${peakRssMb()} MB (the 10 M tile set is 320 MB of hashes).`,
].join('\n');

// ---- PostgreSQL: the ledger's service and store ----

const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_APPEND_ENTRIES = 50_000;
const QUEUE_TRANSACTION = 1_000;
const TILE_INSERT = 1_000;
const COMMUNITIES = Array.from({ length: 97 }, () => randomUUID());
/** One community key signs every entry of the PostgreSQL part, as each community's key signs its entries. */
const COMMUNITY_SEED = new Uint8Array(32).map(() => random() & 255);

/** A migrated scratch database on the server and a ledger service over it; dropped after `work`. */
async function withLedger<T>(work: (db: Db, ledger: LedgerService) => Promise<T>): Promise<T> {
  const scratch = await createScratchDatabase(POSTGRES_URL, 'gridshare_bench_ledger');
  const db = await openDb({ kind: 'postgres', url: scratch.url });
  try {
    await migrate(db);
    const ledger = new LedgerService(db, new SecretBox([generateMasterKey()]), { origin: () => 'bench.gridshare.example/ledger' });
    await ledger.ensureKey();
    return await work(db, ledger);
  } finally {
    await db.close();
    await scratch.drop();
  }
}

async function postgresAppend() {
  return withLedger(async (db, ledger) => {
    process.stderr.write(`PostgreSQL append: queueing ${PG_APPEND_ENTRIES.toLocaleString('en')} signed entries…\n`);
    let bytes = 0;
    const queueStart = performance.now();
    for (let start = 0; start < PG_APPEND_ENTRIES; start += QUEUE_TRANSACTION) {
      await db.transaction(async (tx) => {
        for (let i = start; i < start + QUEUE_TRANSACTION; i++) {
          const made = signEntry({ ...entry(i), community: COMMUNITIES[i % COMMUNITIES.length]! }, COMMUNITY_SEED);
          const body = encodeEntry(made);
          bytes += body.length;
          await ledgerStore.enqueue(tx, { communityId: made.community, kind: made.kind, subject: `bench-${i}`, body });
        }
      });
    }
    const queueMs = performance.now() - queueStart;
    process.stderr.write('PostgreSQL append: appending…\n');
    const batchTimes: number[] = [];
    const appendStart = performance.now();
    for (;;) {
      const t0 = performance.now();
      const { appended, more } = await ledger.append();
      if (appended > 0) batchTimes.push(performance.now() - t0);
      if (!more) break;
    }
    const appendMs = performance.now() - appendStart;
    const checkpointStart = performance.now();
    const checkpoint = await ledger.checkpoint();
    const checkpointMs = performance.now() - checkpointStart;
    if (checkpoint.size !== PG_APPEND_ENTRIES) throw new Error(`the log holds ${checkpoint.size} entries, not ${PG_APPEND_ENTRIES}`);
    batchTimes.sort((a, b) => a - b);
    return { queueMs, appendMs, checkpointMs, batchTimes, meanBytes: Math.round(bytes / PG_APPEND_ENTRIES) };
  });
}

/** Every tile of the in-memory 10 M log, one per (level, index) at its widest: how ledger_tiles holds them. */
function* storedTiles(size: number): Generator<{ level: number; index: number; hashes: Uint8Array }> {
  for (let level = 0, count = size; count > 0; level++, count = Math.floor(count / TILE_WIDTH)) {
    for (let index = 0; index * TILE_WIDTH < count; index++) {
      const width = Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
      const hashes = tiles.readTile({ level, index, width });
      if (!hashes || hashes.length !== width * 32) throw new Error(`tile ${level}/${index} is not ${width} wide in memory`);
      yield { level, index, hashes };
    }
  }
}

async function postgresProofs() {
  return withLedger(async (db, ledger) => {
    process.stderr.write(`PostgreSQL 10 M log: loading ${tiles.size.toLocaleString('en')} tiles…\n`);
    const loadStart = performance.now();
    let rows = 0;
    let chunk: { level: number; index: number; hashes: Uint8Array }[] = [];
    const flush = async () => {
      await db.query(
        `INSERT INTO ledger_tiles (level, idx, width, hashes) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::smallint[], $4::bytea[])`,
        [chunk.map((t) => t.level), chunk.map((t) => t.index), chunk.map((t) => t.hashes.length / 32), chunk.map((t) => Buffer.from(t.hashes.buffer, t.hashes.byteOffset, t.hashes.byteLength))],
      );
      rows += chunk.length;
      chunk = [];
    };
    for (const tile of storedTiles(BIG_LOG)) {
      chunk.push(tile);
      if (chunk.length === TILE_INSERT) await flush();
    }
    if (chunk.length > 0) await flush();
    await db.query('UPDATE ledger_head SET size = $1, appended_at = now()', [BIG_LOG]);
    await db.query('ANALYZE ledger_tiles');
    const loadMs = performance.now() - loadStart;
    const [size] = await db.query<{ bytes: string }>(`SELECT pg_total_relation_size('ledger_tiles')::text AS bytes`);

    const checkpointStart = performance.now();
    const { note } = await ledger.checkpoint();
    const checkpointMs = performance.now() - checkpointStart;
    const signed = openCheckpoint(note, verifierFromKey((await ledger.identity()).verifierKey)).checkpoint;
    if (signed.size !== BIG_LOG || toHex(signed.rootHash) !== toHex(root)) throw new Error('the checkpoint signed from PostgreSQL is not the in-memory root');

    process.stderr.write(`PostgreSQL 10 M log: ${PROOFS.toLocaleString('en')} inclusion proofs…\n`);
    const times: number[] = [];
    for (let k = 0; k < PROOFS; k++) {
      const index = random() % BIG_LOG;
      const t0 = performance.now();
      const proof = await ledger.inclusionProof(index, BIG_LOG);
      times.push(performance.now() - t0);
      const tile = tiles.readTile({ level: 0, index: Math.floor(index / TILE_WIDTH), width: TILE_WIDTH })!;
      const leaf = tile.subarray((index % TILE_WIDTH) * 32, (index % TILE_WIDTH) * 32 + 32);
      verifyInclusion(index, BIG_LOG, leaf, proof.hashes, signed.rootHash);
    }
    times.sort((a, b) => a - b);
    return { rows, loadMs, tableMb: Math.round(Number(size!.bytes) / 2 ** 20), checkpointMs, times };
  });
}

const sections = [body];
if (!process.argv.includes('--core-only')) {
  const loadAtPostgres = loadavg()[0]!;
  const append = await postgresAppend();
  const proofs = await postgresProofs();
  const perSecond = (count: number, ms: number) => Math.round(count / (ms / 1000)).toLocaleString('en');
  sections.push([
    `### On PostgreSQL (the ledger's service and store)`,
    '',
    `The same machine, a PostgreSQL server (${POSTGRES_URL.replace(/\/\/[^@/]*@/, '//')} — a scratch database per part, created and dropped by the bench), through \`LedgerService\` and \`store.ts\`. 1-minute load average when this part started: ${loadAtPostgres.toFixed(1)}.`,
    '',
    `Append: ${PG_APPEND_ENTRIES.toLocaleString('en')} entries (the kinds above, each signed by its community's Ed25519 key, ${append.meanBytes} bytes on average) queued with \`store.enqueue\` (${QUEUE_TRANSACTION.toLocaleString('en')} per transaction), then \`LedgerService.append()\` in its batches of ${APPEND_BATCH.toLocaleString('en')} (one transaction each: head row lock, frontier tiles, entries, tiles, head, queue rows removed).`,
    '',
    '| On PostgreSQL | Time (s) | Entries/s | Target |',
    '|---|---:|---:|---|',
    `| append, batches of ${APPEND_BATCH.toLocaleString('en')} (p50 batch ${(percentile(append.batchTimes, 50) / 1000).toFixed(2)} s, max ${(append.batchTimes[append.batchTimes.length - 1]! / 1000).toFixed(2)} s) | ${seconds(append.appendMs)} | ${perSecond(PG_APPEND_ENTRIES, append.appendMs)} | ≥ 10,000/s batched |`,
    `| queueing (event subscribers' inserts, one row each) | ${seconds(append.queueMs)} | ${perSecond(PG_APPEND_ENTRIES, append.queueMs)} | |`,
    `| checkpoint of the ${PG_APPEND_ENTRIES.toLocaleString('en')} entries (tree head from stored tiles, signed) | ${seconds(append.checkpointMs)} | – | |`,
    '',
    `Log of ${BIG_LOG.toLocaleString('en')} entries: the in-memory tiles above loaded into \`ledger_tiles\` as the store lays them out (${proofs.rows.toLocaleString('en')} rows, one per tile at its widest, multi-row INSERTs of ${TILE_INSERT.toLocaleString('en')}; ${proofs.tableMb} MB with indexes) in ${seconds(proofs.loadMs)} s; the head set to ${BIG_LOG.toLocaleString('en')} (entries not loaded: proofs read only tiles). \`LedgerService.checkpoint()\` read the tree head from PostgreSQL and signed it in ${proofs.checkpointMs.toFixed(1)} ms (the same root as in memory).`,
    '',
    '| At 10 M entries on PostgreSQL | p50 (ms) | p99 (ms) | max (ms) | Target |',
    '|---|---:|---:|---:|---|',
    `| \`LedgerService.inclusionProof()\` (latest checkpoint, tiles in one query, proof), ${PROOFS.toLocaleString('en')} random entries, each verified | ${ms(proofs.times, 50)} | ${ms(proofs.times, 99)} | ${proofs.times[proofs.times.length - 1]!.toFixed(3)} | < 5 ms |`,
    '',
    `Peak RSS of the whole run ${peakRssMb()} MB.`,
  ].join('\n'));
}
const report = sections.join('\n\n');
process.stdout.write(`${report}\n`);
if (process.argv.includes('--record')) {
  recordSection('Ledger', report);
  process.stderr.write('recorded in bench/RESULTS.md\n');
}
