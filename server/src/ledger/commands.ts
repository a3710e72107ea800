import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  EMPTY_ROOT, LedgerError, publicKeyFromDidKey, consistencyProofFromTiles, formatKeyId, openCheckpoint, parseMovementProof, parseReceipt, tilesForConsistencyProof, tilesForTreeHash, toHex,
  treeHashFromTiles, verifierFromKey, verifyConsistency, verifyDocument, verifyMovementProof, verifyReceipt, type Checkpoint, type CommunitySignature, type LedgerEntry, type TileRef,
} from './domain/index.js';
import { LogFetchError, fetchTiles, type TileClientOptions } from './tile-client.js';

/**
 * `gridshare verify`: checks, with no Gridshare server involved, that
 *   --receipt      an entry (e.g. a member's statement) is in the log whose key is given, that
 *                  --statement is the very document the entry commits to, and that the entry's
 *                  community signature verifies (by --community-key when given; reported as
 *                  valid or absent, an invalid one is a failure);
 *   --movement     a wallet movement (a posting of a community's market) is recorded: its record
 *                  is in the batch whose `market.movements` entry is in the log, and the proof's
 *                  opening (when it has one) shows whose wallet it moved;
 *   --consistency  a newer checkpoint of the log extends an older one (the log only grew),
 *                  fetching the few tiles that prove it from the log's tlog-tiles URL.
 * Exit status: 0 verified, 1 not verified (the reason is printed), 2 the check could not be made
 * (unreadable file, unreachable log, bad arguments).
 */

/** Files a verifier reads whole; a receipt, checkpoint or movement proof is a few kilobytes. */
const MAX_RECEIPT_BYTES = 1 << 20;
const MAX_STATEMENT_BYTES = 256 << 20;

export class VerifyInputError extends Error {}

async function readLimited(path: string, limit: number, what: string): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new VerifyInputError(`cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (size > limit) throw new VerifyInputError(`the ${what} ${path} is ${size} bytes; a ${what} is at most ${limit}`);
  return new Uint8Array(await readFile(path));
}

function logVerifier(key: string) {
  try {
    return verifierFromKey(key);
  } catch (error) {
    throw new VerifyInputError(`--key: ${(error as Error).message}`);
  }
}

const checkpointSummary = (c: Checkpoint) => ({ origin: c.origin, size: c.size, rootHash: toHex(c.rootHash) });

export interface ReceiptVerification {
  readonly verified: true;
  readonly log: string;
  readonly key: string;
  readonly index: number;
  readonly checkpoint: { origin: string; size: number; rootHash: string };
  readonly proofHashes: number;
  readonly entry: LedgerEntry;
  readonly communitySignature: CommunitySignature;
  /** `erasedFields`: empty when the file is byte for byte the committed document, else the personal fields an erasure replaced. */
  readonly statement?: { readonly file: string; readonly sha256: string; readonly size: number; readonly erasedFields: readonly string[] };
}

function communityDid(did: string | undefined): string | undefined {
  if (did === undefined) return undefined;
  try {
    publicKeyFromDidKey(did);
  } catch (error) {
    throw new VerifyInputError(`--community-key: ${(error as Error).message}`);
  }
  return did;
}

export async function verifyReceiptFile(options: {
  receipt: string; key: string; statement?: string | undefined; origin?: string | undefined; communityKey?: string | undefined;
}): Promise<ReceiptVerification> {
  const log = logVerifier(options.key);
  const community = communityDid(options.communityKey);
  const receipt = parseReceipt(await readLimited(options.receipt, MAX_RECEIPT_BYTES, 'receipt'));
  const verified = verifyReceipt(receipt, log, options.origin ?? log.name, community);
  let statement: ReceiptVerification['statement'];
  if (options.statement !== undefined) {
    const matched = verifyDocument(verified.entry, await readLimited(options.statement, MAX_STATEMENT_BYTES, 'statement'));
    const { sha256, size } = (verified.entry as { document: { sha256: string; size: number } }).document;
    statement = { file: options.statement, sha256, size, erasedFields: matched.match === 'exact' ? [] : matched.fields };
  }
  return {
    verified: true, log: verified.checkpoint.origin, key: `${log.name}+${formatKeyId(log.keyId)}`, index: verified.index,
    checkpoint: checkpointSummary(verified.checkpoint), proofHashes: receipt.proof.hashes.length, entry: verified.entry,
    communitySignature: verified.communitySignature,
    ...(statement ? { statement } : {}),
  };
}

export interface MovementVerification {
  readonly verified: true;
  readonly log: string;
  readonly key: string;
  readonly community: string;
  /** The opened member; null when the proof has no opening (the member was erased). */
  readonly member: string | null;
  /** The opened member's wallet account (`wallet:<commitment>`), or without an opening the record's wallet accounts. */
  readonly wallets: readonly string[];
  readonly side: 'debit' | 'credit' | null;
  readonly sequence: number;
  readonly kind: string;
  readonly at: string;
  readonly amount: string;
  readonly currency: string;
  /**
   * What a settlement movement (or a dispute's correction of one) pays, as its record says: the line
   * kind, the first slot, and — on postings entered since the market pays per member and kind — the
   * end of the last slot and how many lines; the trade when it pays exactly one. Null for others.
   */
  readonly pays: {
    readonly line: string | null; readonly slot: string; readonly slotEnd: string | null; readonly lines: number | null; readonly trade: string | null;
  } | null;
  readonly batch: { readonly first: number; readonly last: number; readonly index: number; readonly size: number; readonly root: string };
  readonly logIndex: number;
  readonly checkpoint: { origin: string; size: number; rootHash: string };
  readonly communitySignature: CommunitySignature;
}

export async function verifyMovementFile(options: { movement: string; key: string; origin?: string | undefined; communityKey?: string | undefined }): Promise<MovementVerification> {
  const log = logVerifier(options.key);
  const community = communityDid(options.communityKey);
  const proof = parseMovementProof(await readLimited(options.movement, MAX_RECEIPT_BYTES, 'movement proof'));
  const { record, entry, receipt, side } = verifyMovementProof(proof, log, options.origin ?? log.name, community);
  return {
    verified: true, log: receipt.checkpoint.origin, key: `${log.name}+${formatKeyId(log.keyId)}`, community: entry.community,
    member: proof.opening?.member ?? null,
    wallets: side ? [record[side]] : [record.debit, record.credit].filter((account) => account.startsWith('wallet:')),
    side: side ?? null, sequence: record.sequence, kind: record.kind, at: record.at, amount: record.amount, currency: record.currency,
    pays: record.slot === undefined ? null : {
      line: record.line ?? null, slot: record.slot, slotEnd: record.slotEnd ?? null, lines: record.lines ?? null, trade: record.trade ?? null,
    },
    batch: { first: entry.postings.first, last: entry.postings.last, index: proof.batch.index, size: proof.batch.size, root: entry.root },
    logIndex: receipt.index, checkpoint: checkpointSummary(receipt.checkpoint), communitySignature: receipt.communitySignature,
  };
}

export interface ConsistencyVerification {
  readonly verified: true;
  readonly log: string;
  readonly old: { origin: string; size: number; rootHash: string };
  readonly new: { origin: string; size: number; rootHash: string };
  readonly proofHashes: number;
  readonly tilesFetched: number;
}

export async function verifyConsistencyFiles(
  options: { oldCheckpoint: string; newCheckpoint: string; url: string; key: string; origin?: string | undefined },
  client: TileClientOptions = {},
): Promise<ConsistencyVerification> {
  const log = logVerifier(options.key);
  const origin = options.origin ?? log.name;
  const open = async (path: string) => openCheckpoint(new TextDecoder().decode(await readLimited(path, MAX_RECEIPT_BYTES, 'checkpoint')), log, origin).checkpoint;
  const older = await open(options.oldCheckpoint);
  const newer = await open(options.newCheckpoint);
  const result = (proofHashes: number, tilesFetched: number): ConsistencyVerification => ({
    verified: true, log: origin, old: checkpointSummary(older), new: checkpointSummary(newer), proofHashes, tilesFetched,
  });
  if (newer.size < older.size) {
    throw new LedgerError('log_shrank', `the new checkpoint has ${newer.size} entries, the old one ${older.size}: the log shrank (or the two files are in the wrong order)`);
  }
  if (older.size === 0) {
    if (toHex(older.rootHash) !== toHex(EMPTY_ROOT)) throw new LedgerError('log_forked', 'the old checkpoint claims an empty log with a non-empty root');
    return result(0, 0);
  }
  if (newer.size === older.size) {
    verifyConsistency(older.size, newer.size, [], older.rootHash, newer.rootHash);
    return result(0, 0);
  }
  const plan = new Map<string, TileRef>();
  for (const ref of [...tilesForConsistencyProof(older.size, newer.size), ...tilesForTreeHash(newer.size)]) plan.set(`${ref.level}/${ref.index}`, ref);
  const tiles = await fetchTiles(options.url, [...plan.values()], client);
  // Tiles that do not even give the new root are not this log's: say so rather than "forked".
  if (toHex(treeHashFromTiles(newer.size, tiles)) !== toHex(newer.rootHash)) {
    throw new LedgerError('proof_mismatch', `the tiles served at ${options.url} do not hash to the new checkpoint's root: that URL does not serve this log, or serves damaged tiles`);
  }
  const proof = consistencyProofFromTiles(older.size, newer.size, tiles);
  try {
    verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash);
  } catch (error) {
    if (error instanceof LedgerError && error.reason === 'log_forked') {
      throw new LedgerError('log_forked', `the old checkpoint (${older.size} entries, root ${toHex(older.rootHash)}) is not a prefix of the log the new checkpoint signs: the log forked or rewrote its history, and both checkpoints carry its signature`);
    }
    throw error;
  }
  return result(proof.length, plan.size);
}

function describeEntry(entry: LedgerEntry): string {
  const subject = 'statement' in entry ? entry.statement : 'settlement' in entry ? entry.settlement : 'import' in entry ? entry.import
    : 'command' in entry ? entry.command : 'trade' in entry ? entry.trade : 'message' in entry ? entry.message.id
      : 'resource' in entry ? `${entry.change} ${entry.resource}` : 'postings' in entry ? `postings ${entry.postings.first}–${entry.postings.last}`
        : 'run' in entry ? `run ${entry.run} of ${entry.slotCount} slots from ${entry.slots.start}` : entry.purpose;
  const period = 'period' in entry ? `, ${entry.period.start} – ${entry.period.end}` : '';
  return `${entry.kind} ${subject}, community ${entry.community}, at ${entry.at}${period}`;
}

function formatReceiptResult(r: ReceiptVerification): string {
  const lines = [
    `verified: entry ${r.index} is in the log ${r.log}`,
    `  checkpoint  ${r.checkpoint.size} entries, root ${r.checkpoint.rootHash}, signed by ${r.key}`,
    `  inclusion   ${r.proofHashes} hashes lead from the entry to that root`,
    `  entry       ${describeEntry(r.entry)}`,
    r.communitySignature.status === 'valid'
      ? `  community   signature valid, by ${r.communitySignature.did}`
      : '  community   signature absent (an entry logged before its community had a key)',
  ];
  if (r.statement?.erasedFields.length === 0) lines.push(`  statement   ${r.statement.file}: SHA-256 ${r.statement.sha256} (${r.statement.size} bytes), the document the entry commits to`);
  else if (r.statement) {
    lines.push(`  statement   ${r.statement.file}: every field matches the document the entry commits to, except ${r.statement.erasedFields.join(', ')}:`);
    lines.push('              personal data erased on request, which the record no longer covers');
  }
  return lines.join('\n');
}

/** "sale: 37 lines of the slots 2026-06-21T00:00:00Z – 2026-06-22T00:00:00Z", or one slot's line (and trade) as older postings pay. */
function describePays(p: NonNullable<MovementVerification['pays']>): string {
  const what = p.line ?? 'settlement';
  const trade = p.trade === null ? '' : `, trade ${p.trade}`;
  if (p.slotEnd === null) return `${what} of the slot ${p.slot}${trade}`;
  const lines = p.lines === null ? '' : ` ${p.lines} ${p.lines === 1 ? 'line' : 'lines'} of`;
  return `${what}:${lines} the slots ${p.slot} – ${p.slotEnd}${trade}`;
}

function formatMovementResult(r: MovementVerification): string {
  return [
    `verified: posting ${r.sequence} of community ${r.community} is in the log ${r.log}`,
    `  movement    ${r.kind} of ${r.amount} ${r.currency} at ${r.at}`,
    ...(r.pays ? [`  pays        ${describePays(r.pays)}`] : []),
    r.member === null
      ? `  member      erased (no opening): the wallet is named by commitment only, ${r.wallets.join(', ')}`
      : `  member      ${r.member}, the ${r.side} side: wallet ${r.wallets.join(', ')}`,
    `  batch       record ${r.batch.index} of ${r.batch.size} (postings ${r.batch.first}–${r.batch.last}), root ${r.batch.root}`,
    `  log         entry ${r.logIndex} of a tree of ${r.checkpoint.size}, root ${r.checkpoint.rootHash}, signed by ${r.key}`,
    r.communitySignature.status === 'valid'
      ? `  community   signature valid, by ${r.communitySignature.did}`
      : '  community   signature absent (an entry logged before its community had a key)',
  ].join('\n');
}

function formatConsistencyResult(r: ConsistencyVerification): string {
  return [
    `verified: the log ${r.log} only grew, from ${r.old.size} to ${r.new.size} entries`,
    `  old  root ${r.old.rootHash}`,
    `  new  root ${r.new.rootHash}`,
    `  proof  ${r.proofHashes} hashes from ${r.tilesFetched} tiles`,
  ].join('\n');
}

interface VerifyCliOptions {
  receipt?: string;
  movement?: string;
  statement?: string;
  consistency?: string[];
  url?: string;
  key: string;
  origin?: string;
  communityKey?: string;
  json: boolean;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('Verify a receipt (and the statement it names), a wallet movement\'s proof, or that the log only grew, offline, against the log\'s verifier key')
    .requiredOption('--key <verifier key>', 'the log\'s verifier key, <name>+<key id>+<base64 key> (from the admin console or the README)')
    .option('--receipt <file>', 'a receipt: gridshare-receipt/v1 JSON or a c2sp.org/tlog-proof file carrying the entry')
    .option('--statement <file>', 'with --receipt: the statement (PDF or JSON) as downloaded; it must be byte for byte the document the entry commits to')
    .option('--movement <file>', 'a wallet movement\'s proof: gridshare-movement-proof/v1 JSON (the wallet page\'s "Proof", or /api/v1/members/<id>/market/postings/<sequence>/proof)')
    .option('--consistency <files...>', 'two checkpoint files, older then newer: checks that the newer extends the older')
    .option('--url <log URL>', 'with --consistency: the log\'s tlog-tiles URL prefix, to fetch the tiles of the proof from')
    .option('--community-key <did:key>', 'with --receipt or --movement: the did:key the entry\'s community publishes (/api/v1/ledger/communities/<id>/key); the entry must be signed by it')
    .option('--origin <origin>', 'the log\'s origin line, when it differs from the key name')
    .option('--json', 'print the result as JSON', false)
    .addHelpText('after', `
Examples:
  gridshare verify --receipt receipt.json --statement statement.pdf --key "ledger.example.org+1a2b3c4d+AY…"
  gridshare verify --movement movement-proof.json --key "ledger.example.org+1a2b3c4d+AY…" --community-key "did:key:z6Mk…"
  gridshare verify --consistency old.checkpoint new.checkpoint --url https://example.org/ledger --key "ledger.example.org+1a2b3c4d+AY…"

Exit status: 0 verified, 1 not verified (the reason is printed), 2 the check could not be made.`)
    .action(async (options: VerifyCliOptions) => {
      const out = (text: string) => process.stdout.write(`${text}\n`);
      try {
        if ([options.receipt, options.movement, options.consistency].filter((o) => o !== undefined).length !== 1) {
          throw new VerifyInputError('give exactly one of --receipt, --movement or --consistency');
        }
        if (options.movement !== undefined) {
          if (options.url !== undefined) throw new VerifyInputError('--url goes with --consistency; a movement proof is checked without any server');
          if (options.statement !== undefined) throw new VerifyInputError('--statement goes with --receipt');
          const result = await verifyMovementFile({ movement: options.movement, key: options.key, origin: options.origin, communityKey: options.communityKey });
          out(options.json ? JSON.stringify(result, null, 2) : formatMovementResult(result));
        } else if (options.receipt !== undefined) {
          if (options.url !== undefined) throw new VerifyInputError('--url goes with --consistency; a receipt is checked without any server');
          const result = await verifyReceiptFile({ receipt: options.receipt, key: options.key, statement: options.statement, origin: options.origin, communityKey: options.communityKey });
          out(options.json ? JSON.stringify(result, null, 2) : formatReceiptResult(result));
        } else {
          if (options.consistency!.length !== 2) throw new VerifyInputError('--consistency takes two checkpoint files: the older, then the newer');
          if (options.url === undefined) throw new VerifyInputError('--consistency needs --url, the log\'s tlog-tiles URL prefix');
          if (options.statement !== undefined) throw new VerifyInputError('--statement goes with --receipt');
          if (options.communityKey !== undefined) throw new VerifyInputError('--community-key goes with --receipt or --movement');
          const [oldCheckpoint, newCheckpoint] = options.consistency as [string, string];
          const result = await verifyConsistencyFiles({ oldCheckpoint, newCheckpoint, url: options.url, key: options.key, origin: options.origin });
          out(options.json ? JSON.stringify(result, null, 2) : formatConsistencyResult(result));
        }
      } catch (error) {
        if (error instanceof LedgerError) {
          if (options.json) out(JSON.stringify({ verified: false, reason: error.reason, message: error.message }, null, 2));
          process.stderr.write(`NOT VERIFIED (${error.reason}): ${error.message}\n`);
          process.exitCode = 1;
          return;
        }
        if (error instanceof VerifyInputError || error instanceof LogFetchError) {
          process.stderr.write(`error: ${error.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw error;
      }
    });
}
