/**
 * What one wallet movement's proof costs (`npm run bench:market-proof [-- --postings N]`): a day's
 * settlement batch of N postings (default 30,000: 200 members × 96 slots × ≈ 1.6 lines) between
 * 200 wallets and the clearing account, posted in one transaction and recorded as one
 * `market.movements` entry (`LedgerService.onMarketPosted`, as the outbox delivers `market.posted`);
 * then `LedgerService.marketMovementProof` for postings spread over the batch, each verified.
 * On a scratch database of the PostgreSQL server (`DATABASE_URL`, default
 * postgres://postgres@127.0.0.1:5432/test), dropped at the end. CPU: this process (user + system)
 * and the server's backends of the scratch database (/proc), so a loaded machine does not inflate it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { openDb, type Db } from '../server/src/platform/store/db.js';
import { migrate } from '../server/src/platform/store/migrate.js';
import { postToLedger } from '../server/src/market/service.js';
import { COMMUNITY_ACCOUNTS, walletAccount, type PostingDraft } from '../server/src/market/index.js';
import { LedgerService } from '../server/src/ledger/index.js';
import { decodeEntry, fromHex, verifyBatchInclusion, type MarketMovementsEntry } from '../server/src/ledger/domain/index.js';
import { SecretBox, generateMasterKey } from '../server/src/secrets/index.js';
import { createScratchDatabase } from '../server/test/support/stores.js';
import { benchCommunity } from './lib/community.js';
import { machine, peakRssMb } from './lib/report.js';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const POSTINGS = arg('postings', 30_000);
const PROOFS = arg('proofs', 10);
const MEMBERS = 200;
const SLOT_MS = 15 * 60_000;
const T0 = Date.UTC(2026, 5, 21);

/** CPU seconds of these PostgreSQL backends (Linux /proc, 100 ticks a second). */
function backendSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return sum;
    }
  }, 0);
}

async function measure<T>(db: Db, work: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number; serverMs: number }> {
  const pids = (await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).map((r) => r.pid);
  const server0 = backendSeconds(pids);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, serverMs: (backendSeconds(pids) - server0) * 1000 };
}

const scratch = await createScratchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', 'gridshare_bench_market_proof');
const db = await openDb({ kind: 'postgres', url: scratch.url });
try {
  await migrate(db);
  const { communityId } = await benchCommunity(db);
  const ledger = new LedgerService(db, new SecretBox([generateMasterKey()]), { origin: () => 'bench.gridshare.example/ledger' });
  await ledger.ensureKey();
  const members = Array.from({ length: MEMBERS }, () => randomUUID());
  // A day of settlement postings: each member's sale or purchase line of each slot, both ways through the clearing account.
  const drafts: PostingDraft[] = Array.from({ length: POSTINGS }, (_, i) => {
    const wallet = walletAccount(members[i % MEMBERS]!);
    const selling = i % 2 === 0;
    return {
      debit: selling ? COMMUNITY_ACCOUNTS.clearing : wallet, credit: selling ? wallet : COMMUNITY_ACCOUNTS.clearing,
      amount: BigInt(1_000_000 + (i % 997) * 1_000), kind: 'settlement', memo: 'bench', slotStartMs: T0 + Math.floor(i / (POSTINGS / 96)) * SLOT_MS,
      line: selling ? 'sale' : 'purchase',
    };
  });
  const atMs = T0 + 86_400_000;
  await db.transaction((tx) => postToLedger(tx, communityId, drafts, atMs));
  const recorded = await measure(db, () => db.transaction((tx) => ledger.onMarketPosted(tx, { communityId, throughSequence: POSTINGS, atMs })));
  while ((await ledger.append()).more);
  await ledger.checkpoint();

  const sequences = Array.from({ length: PROOFS }, (_, k) => 1 + Math.floor((k * (POSTINGS - 1)) / Math.max(1, PROOFS - 1)));
  const proofs = [];
  for (const sequence of sequences) {
    const proof = await measure(db, () => ledger.marketMovementProof(communityId, sequence));
    const p = proof.value!;
    verifyBatchInclusion(p.record, p.batch.index, p.batch.size, p.batch.hashes, fromHex((decodeEntry(p.entry) as MarketMovementsEntry).root)!);
    proofs.push(proof);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const f = (n: number) => n.toFixed(1);
  console.log([
    `${machine()}; 1-minute load average ${loadavg()[0]!.toFixed(1)}; peak RSS ${peakRssMb()} MB.`,
    `Batch of ${POSTINGS.toLocaleString('en')} postings (${MEMBERS} wallets), one market.movements entry; ${PROOFS} proofs spread over it, each verified.`,
    '',
    '| What | Wall (ms) | CPU, this process (ms) | CPU, PostgreSQL backends (ms) |',
    '|---|---:|---:|---:|',
    `| record the batch (onMarketPosted) | ${f(recorded.wallMs)} | ${f(recorded.cpuMs)} | ${f(recorded.serverMs)} |`,
    `| one proof, median of ${PROOFS} | ${f(median(proofs.map((p) => p.wallMs)))} | ${f(median(proofs.map((p) => p.cpuMs)))} | ${f(median(proofs.map((p) => p.serverMs)))} |`,
    `| one proof, first (cold) | ${f(proofs[0]!.wallMs)} | ${f(proofs[0]!.cpuMs)} | ${f(proofs[0]!.serverMs)} |`,
  ].join('\n'));
} finally {
  await db.close();
  await scratch.drop();
}
