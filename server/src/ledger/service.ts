import { createHash, randomBytes } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Db, Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import type { EventPayload } from '../kernel/events.js';
import { BadRequestError, ConflictError, NotFoundError, UnavailableError } from '../kernel/errors.js';
import { QUARTER_HOUR_MS } from '../kernel/time.js';
import { canSeeMember, requireManager, requireUser } from '../accounts/index.js';
import { PERSONAL_STATEMENT_FIELDS, closedSettlement, issuedStatement, type StatementDocument } from '../billing/index.js';
import { commandById, deviceCommand } from '../control/index.js';
import { formatMarketPrice, marketPostings, settlementRun, tradesOfSlot, walletMember, walletPosting, type RecordedPosting } from '../market/index.js';
import { formatNano } from '../kernel/money.js';
import { formatUtcInstant } from '../kernel/time.js';
import { deviceById, loadCommunity, meteringPointById } from '../registry/index.js';
import { sealedPlace, type SecretBox } from '../secrets/index.js';
import {
  LedgerError, LogAuditor, MissingTileError, TILE_WIDTH, acceptedCosignatures, addCheckpointBody, addSignatureLines, appendLeaves, changeRecorded, commandIssued, commitment, consentChanged, consistencyProofFromTiles, decodeEntry,
  checkCommunitySignature, conflictSize, didKeyFromPublicKey, didKeyFromSeed, documentCommitment, erasableFields, fromBase64, signEntry, toBase64, encodeEntry, flexMessage, encodeEntryBundle, formatReceiptJson, formatSignerKey, frontierFromTiles,
  bytesEqual, frontierTiles, inclusionProofFromTiles, leafHash, marketTrade, marketMovements, marketSettlement, encodeMarketRecord, batchRoot, EMPTY_FRONTIER, HASH_SIZE, rootOfFrontier, openCheckpoint, operatorImportAccepted, parseCheckpoint, parseNote, parseReceipt, parseSignerKey, parseTilePath, settlementClosed,
  signCheckpoint, signerKeyFromSeed, statementCorrected, statementIssued, tilesForConsistencyProof, tilesForInclusionProof,
  tilesForTreeHash, toHex, treeHashFromTiles, verifierFromKey, verifierKeyOf, verifyDocument, verifyMovementProofWithKey, verifyReceipt, type Hash,
  witnessKey, MOVEMENT_PROOF_FORMAT, type LedgerEntry, type MarketMovementsEntry, type SignerKey, type TileRef, type TileSource, type MovementRecord, type MovementProofDocument,
} from './domain/index.js';
import * as store from './store.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';

/** The audit trail's kinds of change that alter what members are billed or paid: these reach the log too. */
const MONEY_RELEVANT_CHANGES: ReadonlySet<EventPayload<'change.recorded'>['kind']> = new Set(['tariff', 'sharing-rule', 'share', 'coefficients', 'settlement', 'market', 'wallet', 'agent-limits', 'flex'] as const);

/** The most postings one `market.movements` entry covers: a longer run of postings is split into several batches. */
export const MARKET_BATCH_CAP = 50_000;

/** The members whose wallets a posting debits or credits. */
const walletMembers = (p: { debit: string; credit: string }): string[] => [walletMember(p.debit), walletMember(p.credit)].filter((m): m is string => m !== undefined);

/** The most entries one append takes (one transaction). */
export const APPEND_BATCH = 10_000;

const KEY_PLACE = sealedPlace('ledger_keys', 'signer', 'log');
const communityKeyPlace = (communityId: string) => sealedPlace('ledger_community_keys', 'signer', communityId);
const utf8 = (text: string) => new TextEncoder().encode(text);

/** Lower-case hex SHA-256 of the value's RFC 8785 canonical JSON: how entries commit to what they do not hold. */
const canonicalSha256 = (value: unknown): string => createHash('sha256').update(canonicalize(value)!, 'utf8').digest('hex');

/** A statement's document as committed and served: the RFC 8785 canonical JSON of what billing stores. */
export function statementJson(document: StatementDocument): Uint8Array {
  return utf8(canonicalize(document)!);
}

export interface LogIdentity {
  readonly origin: string;
  readonly verifierKey: string;
  readonly did: string;
}

/** A community's entry-signing key as published: anyone checks the community's entries against it. */
export interface CommunityIdentity {
  readonly community: string;
  readonly did: string;
  readonly createdAt: string;
}

export interface LedgerOptions {
  /** The log's name when its key is created: `<public host>/ledger`. */
  readonly origin: () => string;
  readonly now?: () => number;
  /** How long one add-checkpoint call to a witness may take. */
  readonly witnessTimeoutMs?: number;
  /** The most postings per `market.movements` entry (default MARKET_BATCH_CAP). */
  readonly marketBatchCap?: number;
}

/** A witness's add-checkpoint call gives up after this long (the next checkpoint tries again). */
const WITNESS_TIMEOUT_MS = 10_000;

export interface WitnessInput {
  readonly verifierKey: string;
  readonly url: string;
}

/** A TileSource over stored rows read in one query. */
async function tileSource(db: Queryable, refs: readonly TileRef[]): Promise<TileSource> {
  const rows = await store.readTiles(db, refs);
  return { readTile: (ref) => rows.get(`${ref.level}/${ref.index}`) };
}

/** An audit record as the API shows it. */
function auditView(audit: store.AuditRecord | undefined) {
  return audit
    ? { auditedAt: audit.auditedAt.toISOString(), entries: audit.entries, checkpoints: audit.checkpoints, failures: audit.failures, message: audit.message }
    : null;
}

function proofFromTiles<T>(compute: () => T): T {
  try {
    return compute();
  } catch (error) {
    // A tile the head says exists is missing: the stored log is damaged, not the request.
    if (error instanceof MissingTileError) throw new Error(`the stored ledger lacks ${error.message}`);
    throw error;
  }
}

/** A posting as the record holds it: wallets as `wallet:<member commitment>`, the amount an exact decimal, what it pays by reference. */
function movementRecord(p: RecordedPosting, community: string, currency: string, account: (id: string) => string): MovementRecord {
  return {
    v: 1, type: 'movement', community, sequence: p.sequence, at: formatUtcInstant(p.atMs), kind: p.kind,
    debit: account(p.debit), credit: account(p.credit), amount: formatNano(p.amount), currency,
    ...(p.slotStartMs === undefined ? {} : { slot: formatUtcInstant(p.slotStartMs) }),
    // Only on postings that carry them (since market's migration 0230): older ones hash exactly as they were recorded.
    ...(p.slotEndMs === undefined ? {} : { slotEnd: formatUtcInstant(p.slotEndMs) }),
    ...(p.lines === undefined ? {} : { lines: p.lines }),
    ...(p.line === undefined ? {} : { line: p.line }),
    ...(p.tradeId === undefined ? {} : { trade: p.tradeId }),
    ...(p.corrects === undefined ? {} : { corrects: p.corrects }),
    ...(p.disputeId === undefined ? {} : { dispute: p.disputeId }),
    ...(p.externalReference === undefined ? {} : { referenceSha256: createHash('sha256').update(p.externalReference, 'utf8').digest('hex') }),
  };
}

/** A witness as the audit trail shows it: who and where (its key is masked like any key). */
const trailedWitness = (w: store.StoredWitness) => ({ name: w.name, verifierKey: w.verifierKey, url: w.url });

/**
 * The verifiable record's service: entries queued from events, appended in batches by the one
 * writer holding the head's row lock, checkpoints signed with the log's key (sealed at rest),
 * proofs and tiles served from the stored tiles, receipts for members.
 */
export class LedgerService {
  private readonly now: () => number;
  private signer: SignerKey | undefined;
  /** Opened community seeds, by community, with the sealed text they came from (rotation re-seals: opened again). */
  private readonly communitySeeds = new Map<string, { sealed: string; seed: Uint8Array }>();

  constructor(private readonly db: Db, private readonly box: SecretBox, private readonly options: LedgerOptions) {
    this.now = options.now ?? Date.now;
  }

  // ---- the key ----

  /** The log's key, created (and stored sealed) on the first call of the installation. */
  async ensureKey(): Promise<LogIdentity> {
    const existing = await store.loadKey(this.db);
    if (existing) return { origin: existing.origin, verifierKey: existing.verifierKey, did: existing.did };
    const key = signerKeyFromSeed(this.options.origin(), new Uint8Array(randomBytes(32)));
    await store.insertKey(this.db, {
      origin: key.name, signer: this.box.seal(formatSignerKey(key), KEY_PLACE), verifierKey: verifierKeyOf(key), did: didKeyFromPublicKey(key.publicKey),
    });
    return this.identity();
  }

  async hasKey(): Promise<boolean> {
    return (await store.loadKey(this.db)) !== undefined;
  }

  async identity(): Promise<LogIdentity> {
    const stored = await store.loadKey(this.db);
    if (!stored) throw new UnavailableError('the ledger has no key yet');
    return { origin: stored.origin, verifierKey: stored.verifierKey, did: stored.did };
  }

  private async signerKey(): Promise<SignerKey> {
    if (!this.signer) {
      const stored = await store.loadKey(this.db);
      if (!stored) throw new UnavailableError('the ledger has no key yet');
      this.signer = parseSignerKey(this.box.open(stored.signer, KEY_PLACE));
    }
    return this.signer;
  }

  // ---- community keys ----

  /**
   * The community's entry-signing key, created (its seed sealed) with the community's first entry,
   * in the caller's transaction: a key whose transaction rolls back was never used.
   */
  private async communityKey(db: Queryable, communityId: string): Promise<{ did: string; seed: Uint8Array }> {
    let stored = await store.loadCommunityKey(db, communityId);
    if (!stored) {
      const seed = new Uint8Array(randomBytes(32));
      await store.insertCommunityKey(db, { communityId, signer: this.box.seal(toBase64(seed), communityKeyPlace(communityId.toLowerCase())), did: didKeyFromSeed(seed) });
      // Another transaction may have stored one first: its key is the community's.
      stored = (await store.loadCommunityKey(db, communityId))!;
    }
    const cached = this.communitySeeds.get(communityId);
    if (cached?.sealed === stored.signer) return { did: stored.did, seed: cached.seed };
    const seed = fromBase64(this.box.open(stored.signer, communityKeyPlace(stored.communityId)));
    if (!seed || didKeyFromSeed(seed) !== stored.did) throw new Error(`the stored key of community ${communityId} is not the key of ${stored.did}`);
    this.communitySeeds.set(communityId, { sealed: stored.signer, seed });
    return { did: stored.did, seed };
  }

  /** The community's published did:key (public: anyone checks its entries' signatures); 404 before its first entry. */
  async communityIdentity(communityId: string): Promise<CommunityIdentity> {
    const stored = await store.loadCommunityKey(this.db, communityId);
    if (!stored) throw new NotFoundError('community key (the community has no entries yet)');
    return { community: stored.communityId, did: stored.did, createdAt: stored.createdAt.toISOString() };
  }

  // ---- entries from events (durable subscribers, in the outbox's transaction) ----

  async onSettlementClosed(tx: Queryable, event: EventPayload<'settlement.closed'>): Promise<void> {
    const settlement = await closedSettlement(tx, event.settlementId);
    if (!settlement) throw new Error(`settlement ${event.settlementId} is not closed`);
    const entry = settlementClosed({ at: settlement.closedAtMs, community: settlement.communityId }, {
      settlement: settlement.id,
      period: { start: Date.parse(settlement.periodStart), end: Date.parse(settlement.periodEnd) },
      currency: settlement.totals.currency,
      totals: {
        amount: settlement.totals.amount,
        fromCommunityWh: String(settlement.totals.fromCommunityWh),
        toCommunityWh: String(settlement.totals.toCommunityWh),
      },
      statements: settlement.statements.length,
    });
    await this.enqueue(tx, entry, settlement.id);
  }

  async onStatementIssued(tx: Queryable, event: EventPayload<'statement.issued'>): Promise<void> {
    const statement = await issuedStatement(tx, event.statementId);
    if (!statement) throw new Error(`statement ${event.statementId} is not issued`);
    const base = { at: statement.issuedAtMs, community: statement.communityId };
    const member = await this.commit(tx, statement.memberId, statement.memberId);
    const json = statementJson(statement.document);
    const fields = {
      statement: statement.id, member, period: { start: statement.periodStartMs, end: statement.periodEndMs },
      document: documentCommitment(json, 'application/json'),
      erasable: erasableFields(json, PERSONAL_STATEMENT_FIELDS),
    };
    const entry = statement.follows === null
      ? statementIssued(base, fields)
      : statementCorrected(base, {
        ...fields, reason: 'recomputed',
        corrects: { statement: statement.follows.id, sha256: documentCommitment(statementJson(statement.follows.document), 'application/json').sha256 },
      });
    await this.enqueue(tx, entry, statement.id);
  }

  /** A UFTP message flex stored (issue 18): its type, ids, parties, payload hash and the did:key of its signer. */
  async onFlexMessageStored(tx: Queryable, event: EventPayload<'flex.message.stored'>): Promise<void> {
    const entry = flexMessage({ at: event.atMs, community: event.communityId }, {
      message: { type: event.type, id: event.messageId, conversation: event.conversationId }, direction: event.direction,
      sender: event.sender, recipient: event.recipient, sha256: event.sha256,
      signer: didKeyFromPublicKey(new Uint8Array(Buffer.from(event.signerKey, 'base64'))),
    });
    await this.enqueue(tx, entry, event.id);
  }

  /**
   * Commands stored for devices: each logged with a commitment to its device (under the salt of
   * the device's member, so erasing the member unlinks it) and the SHA-256 of the RFC 8785
   * canonical JSON of the command exactly as the device receives it.
   */
  async onCommandIssued(tx: Queryable, event: EventPayload<'command.issued'>): Promise<void> {
    for (const id of event.commandIds) {
      const command = await commandById(tx, id);
      if (!command) throw new Error(`command ${id} is not stored`);
      const device = await deviceById(tx, command.deviceId);
      const site = device?.meteringPointId ? await meteringPointById(tx, device.meteringPointId) : undefined;
      const entry = commandIssued({ at: command.issuedAtMs, community: command.communityId }, {
        command: command.id,
        device: await this.commit(tx, site?.memberId ?? command.communityId, command.deviceId),
        action: command.kind,
        payloadSha256: canonicalSha256(deviceCommand(command)),
      });
      await this.enqueue(tx, entry, command.id);
    }
  }

  /** A grid operator's message imported: who sent it, what it covers and the hash of the exact bytes (anyone holding the file can check it). */
  async onOperatorImportAccepted(tx: Queryable, event: EventPayload<'operator-import.accepted'>): Promise<void> {
    const entry = operatorImportAccepted({ at: event.atMs, community: event.communityId }, {
      import: event.importId, operator: event.operator, format: event.format,
      period: { start: event.periodFromMs, end: event.periodToMs },
      document: { mediaType: 'application/xml', sha256: event.sha256, size: event.size }, meteringPoints: 1,
    });
    await this.enqueue(tx, entry, event.importId);
  }

  /** A cleared market slot: one entry per trade, buyer and seller as commitments, the price per kWh the seller receives. */
  async onMarketCleared(tx: Queryable, event: EventPayload<'market.cleared'>): Promise<void> {
    const community = await loadCommunity(tx, event.communityId);
    if (!community) throw new Error(`community ${event.communityId} is not stored`);
    const trades = await tradesOfSlot(tx, event.communityId, event.slotStartMs);
    for (const trade of trades) {
      const id = `${event.slotStartMs}-${trade.position}`;
      const entry = marketTrade({ at: event.clearedAtMs, community: event.communityId }, {
        trade: id, slot: { start: event.slotStartMs, end: event.slotStartMs + QUARTER_HOUR_MS },
        buyer: await this.commit(tx, trade.buyerId, trade.buyerId), seller: await this.commit(tx, trade.sellerId, trade.sellerId),
        energyWh: String(trade.energyWh), price: formatMarketPrice(trade.price), currency: community.currency,
      });
      await this.enqueue(tx, entry, `${event.communityId}:${id}`);
    }
  }

  /**
   * The market entered postings: every posting after the last one recorded, up to the event's, is
   * logged in batches of at most `marketBatchCap` postings — each a `market.movements` entry with
   * the root of the tree over their records (`movementRecords`), so a settlement run of 30,000
   * postings adds one entry and a few queries. Each batch keeps its tree as tiles and the wallet
   * commitments it names (a movement's proof then reads O(log n) hashes). Under the community's
   * batch lock, so each posting lands in exactly one batch, in order.
   */
  async onMarketPosted(tx: Queryable, event: EventPayload<'market.posted'>): Promise<void> {
    const recorded = await store.lockMarketBatches(tx, event.communityId);
    const cap = this.options.marketBatchCap ?? MARKET_BATCH_CAP;
    for (let first = recorded + 1; first <= event.throughSequence; first += cap) {
      const last = Math.min(event.throughSequence, first + cap - 1);
      const { records, postings, currency, wallets } = await this.movementRecords(tx, event.communityId, first, last);
      const total = postings.reduce((sum, p) => sum + p.amount, 0n);
      const { frontier, tiles } = appendLeaves(EMPTY_FRONTIER, records.map(leafHash));
      const entry = marketMovements({ at: event.atMs, community: event.communityId }, {
        first, last, currency, total: formatNano(total), root: toHex(rootOfFrontier(frontier)),
      });
      const subject = `${event.communityId}:postings:${first}-${last}`;
      await this.enqueue(tx, entry, subject);
      await store.insertMarketBatch(tx, { communityId: event.communityId, first, last, subject, wallets }, tiles);
    }
  }

  /**
   * The records of postings first … last of a community, as logged (members as their commitments,
   * so the same bytes every time), and the wallet commitments they name. Salts are made for members
   * new to the record while `recording`; otherwise (a proof) a member without a salt was erased and
   * the records can no longer be rebuilt (409).
   */
  private async movementRecords(db: Queryable, communityId: string, first: number, last: number, recording = true) {
    const community = await loadCommunity(db, communityId);
    if (!community) throw new Error(`community ${communityId} is not stored`);
    const postings = await marketPostings(db, communityId, first, last);
    if (postings.length !== last - first + 1 || postings[0]?.sequence !== first) throw new Error(`postings ${first}–${last} of community ${communityId} are not all stored`);
    const members = postings.flatMap(walletMembers);
    const committed = recording ? await this.commitments(db, members) : await this.keptCommitments(db, members);
    const records = postings.map((p) => encodeMarketRecord(movementRecord(p, communityId, community.currency, (id) => {
      const member = walletMember(id);
      return member === undefined ? id : `wallet:${committed.get(member)!}`;
    })));
    return { records, postings, currency: community.currency, wallets: [...committed.values()] };
  }

  /**
   * A settlement run of market slots (or a slot's correction): one `market.settlement` entry with
   * the root of the tree over each trading member's position after the run and each line of it.
   */
  async onMarketSettled(tx: Queryable, event: EventPayload<'market.settled'>): Promise<void> {
    if (event.slotsMs.length === 0) return;
    const community = await loadCommunity(tx, event.communityId);
    if (!community) throw new Error(`community ${event.communityId} is not stored`);
    const run = await settlementRun(tx, event.communityId, event.slotsMs, event.run);
    const committed = await this.commitments(tx, [...run.positions.map((p) => p.memberId), ...run.lines.map((l) => l.memberId)]);
    const base = { v: 1, community: event.communityId, run: event.run } as const;
    const records = [
      ...run.positions.map((p) => encodeMarketRecord({
        ...base, type: 'position', slot: formatUtcInstant(p.slotStartMs), member: committed.get(p.memberId)!,
        meteredNetWh: String(p.meteredNetWh), tradedNetWh: String(p.tradedNetWh),
      })),
      ...run.lines.map((l) => encodeMarketRecord({
        ...base, type: 'line', slot: formatUtcInstant(l.slotStartMs), member: committed.get(l.memberId)!, kind: l.kind,
        energyWh: String(l.energyWh), price: formatMarketPrice(l.price), amount: formatNano(l.amount), currency: community.currency,
        ...(l.tradeId === undefined ? {} : { trade: l.tradeId }),
      })),
    ];
    if (records.length === 0) return;
    const firstSlot = Math.min(...event.slotsMs);
    const entry = marketSettlement({ at: event.atMs, community: event.communityId }, {
      run: event.run, slots: { start: firstSlot, end: Math.max(...event.slotsMs) + QUARTER_HOUR_MS }, slotCount: event.slotsMs.length,
      positions: run.positions.length, lines: run.lines.length, currency: community.currency, root: toHex(batchRoot(records)),
    });
    await this.enqueue(tx, entry, `${event.communityId}:settlement:${firstSlot}:${event.run}`);
  }

  /**
   * The proof that one posting of a community's market is in the record: its record (the bytes
   * its batch's tree has as that leaf), its place and proof in the batch, and the batch's entry
   * with its inclusion proof in the log under a signed checkpoint — appending and checkpointing
   * now when the entry still waits in the queue. Undefined while the posting is not recorded.
   * From the batch's stored tiles (O(log n) hashes, one posting read); a batch recorded before
   * they were kept gets them on its first proof.
   */
  async marketMovementProof(communityId: string, sequence: number) {
    const batch = await store.marketBatchOf(this.db, communityId, sequence);
    if (!batch) return undefined;
    let entry = await store.findEntry(this.db, 'market.movements', batch.subject);
    if (!entry && (await store.isQueued(this.db, 'market.movements', batch.subject))) {
      while ((await this.append()).more);
      entry = await store.findEntry(this.db, 'market.movements', batch.subject);
    }
    if (!entry) return undefined;
    const index = sequence - batch.first;
    const size = batch.last - batch.first + 1;
    const wallets = batch.wallets ?? await this.backfillBatchTree(communityId, batch, decodeEntry(entry.body) as MarketMovementsEntry);
    const { record, hashes } = await this.storedBatchProof(communityId, { ...batch, wallets }, index, size);
    let checkpoint = await store.latestCheckpoint(this.db);
    if (!checkpoint || checkpoint.size <= entry.seq) checkpoint = await this.checkpoint();
    return {
      record, batch: { index, size, hashes },
      entry: entry.body, log: await this.inclusionProof(entry.seq, checkpoint.size), checkpoint: checkpoint.note,
    };
  }

  /**
   * A batch recorded before batches kept their trees (migrations/0226), on its first proof: its
   * records rebuilt from the postings (every member's salt needed, so 409 once one was erased),
   * checked against the entry's root, and its tiles and wallet commitments stored — later proofs
   * read O(log n) hashes, and survive an erasure, like any batch's.
   */
  private async backfillBatchTree(communityId: string, batch: store.StoredMarketBatch, entry: MarketMovementsEntry): Promise<readonly string[]> {
    const { records, wallets } = await this.movementRecords(this.db, communityId, batch.first, batch.last, false);
    const { frontier, tiles } = appendLeaves(EMPTY_FRONTIER, records.map(leafHash));
    if (toHex(rootOfFrontier(frontier)) !== entry.root) {
      throw new Error(`postings ${batch.first}–${batch.last} of community ${communityId} no longer hash to their entry's root: the stored postings were changed`);
    }
    await store.backfillMarketBatch(this.db, { communityId, first: batch.first, wallets }, tiles);
    return wallets;
  }

  /**
   * From the batch's tiles: the audit path, and the posting's record rebuilt alone — its wallets
   * under their members' salts, or, for a member whose salt was erased, the one of the batch's
   * commitments with which the record hashes to the stored leaf (never creating a salt).
   */
  private async storedBatchProof(communityId: string, batch: store.StoredMarketBatch & { wallets: readonly string[] }, index: number, size: number) {
    const leafTile = { level: 0, index: Math.floor(index / TILE_WIDTH), width: Math.min(TILE_WIDTH, size - Math.floor(index / TILE_WIDTH) * TILE_WIDTH) };
    const rows = await store.readMarketBatchTiles(this.db, communityId, batch.first, [...tilesForInclusionProof(index, size), leafTile]);
    const source: TileSource = { readTile: (ref) => rows.get(`${ref.level}/${ref.index}`) };
    const hashes = proofFromTiles(() => inclusionProofFromTiles(index, size, source));
    const offset = (index % TILE_WIDTH) * HASH_SIZE;
    const leaf = rows.get(`0/${leafTile.index}`)?.subarray(offset, offset + HASH_SIZE);
    if (leaf?.length !== HASH_SIZE) throw new Error(`the stored ledger lacks the leaf of posting ${batch.first + index} of community ${communityId}`);
    const community = await loadCommunity(this.db, communityId);
    const [posting] = await marketPostings(this.db, communityId, batch.first + index, batch.first + index);
    if (!community || !posting) throw new Error(`posting ${batch.first + index} of community ${communityId} is not stored`);
    // Each wallet's commitment: the member's own while their salt is kept, else any the batch names.
    const salts = await store.keptSalts(this.db, walletMembers(posting));
    const options = new Map(walletMembers(posting).map((m) => {
      const salt = salts.get(m);
      return [m, salt ? [commitment(salt, m)] : batch.wallets] as const;
    }));
    const members = [...options.keys()];
    const choices = members.reduce<string[][]>((acc, m) => acc.flatMap((picked) => options.get(m)!.map((c) => [...picked, c])), [[]]);
    for (const picked of choices) {
      const record = encodeMarketRecord(movementRecord(posting, communityId, community.currency, (id) => {
        const member = walletMember(id);
        return member === undefined ? id : `wallet:${picked[members.indexOf(member)]!}`;
      }));
      if (bytesEqual(leafHash(record), leaf)) return { record, hashes };
    }
    throw new Error(`posting ${posting.sequence} of community ${communityId} no longer matches its recorded leaf: the stored posting was changed`);
  }

  /**
   * How far a community's market postings are in the verifiable record: every posting up to this
   * sequence is in a batch whose `market.movements` entry is logged or queued (a proof of it then
   * appends and checkpoints what waits), none after it. The wallet says per posting whether it is.
   */
  async recordedMarketPostings(communityId: string): Promise<number> {
    return store.recordedMarketPostings(this.db, communityId);
  }

  /**
   * The proof of one movement of a member's wallet (gridshare-movement-proof/v1), for the member,
   * their community's managers and admins (others 404, like the wallet): the record, the member's
   * opening (id and salt; null once erased), the audit path in the batch and the batch entry's
   * receipt. 409 while the posting waits for its batch (the market's event not delivered yet).
   */
  async walletMovementProof(principal: Principal, memberId: string, sequence: number): Promise<MovementProofDocument> {
    return (await this.movementProofOfWallet(principal, memberId, sequence)).document;
  }

  private async movementProofOfWallet(principal: Principal, memberId: string, sequence: number): Promise<{ communityId: string; document: MovementProofDocument }> {
    const { communityId } = await walletPosting(this.db, principal, memberId, sequence);
    const proof = await this.marketMovementProof(communityId, sequence);
    if (!proof) throw new ConflictError(`posting ${sequence} is not recorded yet: its batch enters the record within a minute or so, ask again then`);
    const salt = (await store.keptSalts(this.db, [memberId])).get(memberId);
    return { communityId, document: {
      format: MOVEMENT_PROOF_FORMAT,
      record: new TextDecoder().decode(proof.record),
      opening: salt ? { member: memberId, salt: toBase64(salt) } : null,
      batch: { ...proof.batch, hashes: proof.batch.hashes.map(toBase64) },
      receipt: formatReceiptJson({ entry: proof.entry, proof: { index: proof.log.index, hashes: proof.log.hashes, checkpoint: proof.checkpoint } }),
    } };
  }

  /**
   * The movement's proof checked as `gridshare verify --movement` checks it (the log's key, the
   * community's published key, the batch path, the opening), for the member's wallet page, with
   * the proof to download and check offline.
   */
  async walletMovementVerification(principal: Principal, memberId: string, sequence: number) {
    const { communityId, document: proof } = await this.movementProofOfWallet(principal, memberId, sequence);
    const identity = await this.identity();
    const communityDid = (await store.loadCommunityKey(this.db, communityId))?.did ?? null;
    const base = { sequence, verifierKey: identity.verifierKey, did: identity.did, communityDid, proof };
    try {
      const { record, entry, receipt, side } = verifyMovementProofWithKey(proof, identity, sequence, communityDid ?? undefined);
      return {
        ...base, verified: true, reason: null, message: null,
        movement: { kind: record.kind, at: record.at, amount: record.amount, currency: record.currency, side: side ?? null },
        batch: { first: entry.postings.first, last: entry.postings.last, index: proof.batch.index, size: proof.batch.size },
        logIndex: receipt.index, treeSize: receipt.checkpoint.size,
      };
    } catch (error) {
      if (!(error instanceof LedgerError)) throw error;
      return { ...base, verified: false, reason: error.reason, message: error.message, movement: null, batch: null, logIndex: null, treeSize: null };
    }
  }

  /** Commitments to members under the salts they have; 409 when one has none (erased: its commitments cannot be remade). */
  private async keptCommitments(db: Queryable, memberIds: readonly string[]): Promise<Map<string, string>> {
    const salts = await store.keptSalts(db, memberIds);
    return new Map([...new Set(memberIds)].map((id) => {
      const salt = salts.get(id);
      if (!salt) throw new ConflictError('this batch was recorded before batches kept their trees, and a member in it was erased since: its records can no longer be rebuilt');
      return [id, commitment(salt, id)];
    }));
  }

  /** Commitments to many members at once, each under its own salt, by member. */
  private async commitments(tx: Queryable, memberIds: readonly string[]): Promise<Map<string, string>> {
    const salts = await store.saltsOf(tx, memberIds, () => new Uint8Array(randomBytes(32)));
    return new Map([...new Set(memberIds)].map((id) => [id, commitment(salts.get(id)!, id)]));
  }

  /** A consent granted or revoked: the member as a commitment; a member recipient too, an organisation or app by its id; the digest of the grant's terms. */
  async onConsentChanged(tx: Queryable, event: EventPayload<'consent.changed'>): Promise<void> {
    const entry = consentChanged({ at: event.atMs, community: event.communityId }, {
      subject: await this.commit(tx, event.grantorMemberId, event.grantorMemberId),
      grantee: event.recipientKind === 'member' ? await this.commit(tx, event.recipientId, event.recipientId) : event.recipientId,
      purpose: event.purpose, state: event.state, termsSha256: event.digest,
      ...(event.state === 'granted' ? { validUntil: event.validUntilMs } : {}),
    });
    await this.enqueue(tx, entry, `${event.grantId}:${event.state}`);
  }

  /**
   * A person's change to what money is computed from (tariffs, sharing rules, shares, settlements):
   * logged with the SHA-256 of the trail's diff as RFC 8785 JSON, never the diff or the person.
   * Subject: the hash of the whole event, so the outbox delivering it again adds nothing.
   */
  async onChangeRecorded(tx: Queryable, event: EventPayload<'change.recorded'>): Promise<void> {
    if (event.communityId === null || !MONEY_RELEVANT_CHANGES.has(event.kind)) return;
    const entry = changeRecorded({ at: event.atMs, community: event.communityId }, {
      change: event.kind, resource: event.resourceId, action: event.action, role: event.actorRole, diffSha256: canonicalSha256(event.diff),
    });
    await this.enqueue(tx, entry, canonicalSha256(event));
  }

  /** A commitment to `value` under the salt of `saltSubject` (a member, or the community for what no member owns). */
  private async commit(tx: Queryable, saltSubject: string, value: string): Promise<string> {
    return commitment(await store.saltOf(tx, saltSubject, new Uint8Array(randomBytes(32))), value);
  }

  /** Queues the entry signed by its community's key (over its RFC 8785 bytes without signatures). */
  private async enqueue(tx: Queryable, entry: LedgerEntry, subject: string): Promise<void> {
    const { seed } = await this.communityKey(tx, entry.community);
    await store.enqueue(tx, { communityId: entry.community, kind: entry.kind, subject, body: encodeEntry(signEntry(entry, seed)) });
  }

  // ---- appending and checkpoints ----

  /**
   * Appends up to `limit` queued entries as one batch, holding the head's row lock: a second
   * writer (another pass, another process) waits for it and then appends after it.
   */
  async append(limit = APPEND_BATCH): Promise<{ appended: number; more: boolean }> {
    return this.db.transaction(async (tx) => {
      const { size, queued } = await store.lockHeadAndTakeQueue(tx, limit + 1);
      const batch = queued.slice(0, limit);
      if (batch.length === 0) return { appended: 0, more: false };
      const logged = await store.loggedSubjects(tx, batch);
      const fresh = batch.filter((q) => !logged.has(`${q.kind}\n${q.subject}`));
      await store.dropQueued(tx, batch.filter((q) => logged.has(`${q.kind}\n${q.subject}`)).map((q) => q.id));
      const frontier = frontierFromTiles(size, await tileSource(tx, frontierTiles(size)));
      const { tiles } = appendLeaves(frontier, fresh.map((q) => leafHash(q.body)));
      await store.writeBatch(tx, size, fresh, tiles, fresh.map((q) => q.id), this.now());
      return { appended: fresh.length, more: queued.length > limit };
    });
  }

  /**
   * Signs and publishes a checkpoint of the current size unless the latest one has it already.
   * Under the head's row lock, like an append: whichever process signs, the checkpoints are one
   * sequence, each published after and larger than the one before (a writer whose lease ran out
   * mid-pass cannot publish an older size after a newer one).
   */
  async checkpoint(): Promise<store.StoredCheckpoint> {
    const { size: seen } = await store.head(this.db);
    const published = await store.latestCheckpoint(this.db);
    if (published && published.size >= seen) return published;
    const key = await this.signerKey();
    return this.db.transaction(async (tx) => {
      const size = await store.lockHead(tx);
      const latest = await store.latestCheckpoint(tx);
      if (latest && latest.size >= size) return latest;
      const source = await tileSource(tx, tilesForTreeHash(size));
      const rootHash = proofFromTiles(() => treeHashFromTiles(size, source));
      const note = signCheckpoint({ origin: key.name, size, rootHash }, key);
      await store.insertCheckpoint(tx, size, note, this.now());
      return (await store.latestCheckpoint(tx))!;
    });
  }

  async waitingSince(): Promise<Date | null> {
    return store.oldestQueued(this.db);
  }

  // ---- the public read API ----

  /** The latest checkpoint with the cosignatures its witnesses gave it. */
  async latestCheckpointNote(): Promise<string> {
    const latest = await store.latestCheckpoint(this.db);
    if (!latest) throw new NotFoundError('checkpoint');
    return addSignatureLines(latest.note, await store.cosignaturesOf(this.db, latest.size));
  }

  // ---- witnesses (c2sp.org/tlog-witness) ----

  /** Adds (or replaces) a witness by its cosignature verifier key and submission URL. */
  /** Adds (or replaces) a witness; on the installation's audit trail with its name and URL. */
  async putWitness(events: EventPublisher, input: WitnessInput): Promise<store.StoredWitness> {
    let name: string;
    try {
      name = witnessKey(input.verifierKey).name;
    } catch (error) {
      throw new BadRequestError(`body/verifierKey: ${(error as Error).message}`, 'body/verifierKey');
    }
    let url: URL;
    try {
      url = new URL(input.url);
    } catch {
      throw new BadRequestError('body/url: not a URL', 'body/url');
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
      throw new BadRequestError('body/url: the witness\'s submission prefix, an http(s) URL without credentials, query or fragment', 'body/url');
    }
    return events.transaction(this.db, async (tx, publish) => {
      const before = (await store.listWitnesses(tx)).find((w) => w.name === name);
      const after = await store.putWitness(tx, { name, verifierKey: input.verifierKey.trim(), url: url.href.replace(/\/$/, '') });
      await recordChange(publish, { kind: 'key', communityId: null, resourceId: name, action: 'add-witness', before: before && trailedWitness(before), after: trailedWitness(after) });
      return after;
    });
  }

  async removeWitness(events: EventPublisher, name: string): Promise<void> {
    await events.transaction(this.db, async (tx, publish) => {
      const before = (await store.listWitnesses(tx)).find((w) => w.name === name);
      if (!before || !(await store.deleteWitness(tx, name))) throw new NotFoundError('witness');
      await recordChange(publish, { kind: 'key', communityId: null, resourceId: name, action: 'remove-witness', before: trailedWitness(before), after: null });
    });
  }

  listWitnesses(): Promise<store.StoredWitness[]> {
    return store.listWitnesses(this.db);
  }

  /**
   * Asks every witness that has not given the latest checkpoint a cosignature that verifies, with a consistency
   * proof from the size it cosigned last; keeps the cosignatures that verify under its key. A
   * witness that is down or refuses is recorded (its last error) and asked again with the next
   * checkpoint; it never holds up the log or the other witnesses.
   */
  async requestCosignatures(): Promise<void> {
    const latest = await store.latestCheckpoint(this.db);
    if (!latest) return;
    for (const witness of await store.listWitnesses(this.db)) {
      if (witness.verifiedSize === latest.size) continue;
      await this.askWitness(witness, latest);
    }
  }

  private async askWitness(witness: store.StoredWitness, checkpoint: store.StoredCheckpoint, retried = false): Promise<void> {
    const record = (cosignedSize: number, error: string | null) => store.recordWitnessAttempt(this.db, witness.name, { cosignedSize, error }, this.now());
    if (witness.cosignedSize > checkpoint.size) {
      return record(witness.cosignedSize, `the witness cosigned ${witness.cosignedSize} entries, more than the latest checkpoint's ${checkpoint.size}`);
    }
    const proof = witness.cosignedSize === 0 ? [] : (await this.consistencyProof(witness.cosignedSize, checkpoint.size)).hashes;
    let response: Response;
    let body: string;
    try {
      response = await fetch(`${witness.url}/add-checkpoint`, {
        method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: addCheckpointBody(witness.cosignedSize, proof, checkpoint.note),
        signal: AbortSignal.timeout(this.options.witnessTimeoutMs ?? WITNESS_TIMEOUT_MS),
      });
      body = await response.text();
    } catch (error) {
      return record(witness.cosignedSize, `cannot reach ${witness.url}: ${(error as Error).message}`);
    }
    if (response.status === 409 && (response.headers.get('content-type') ?? '').startsWith('text/x.tlog.size')) {
      // The witness knows another size of this log (it lost its state, or another process asked it first): start from its size, once.
      const known = conflictSize(body);
      if (known === undefined) return record(witness.cosignedSize, 'the witness answered 409 without a tree size');
      if (known > checkpoint.size) return record(known, `the witness has cosigned ${known} entries of this log, more than its latest checkpoint's ${checkpoint.size}: a fork?`);
      if (retried) return record(known, `the witness keeps answering 409 (its size ${known})`);
      return this.askWitness({ ...witness, cosignedSize: known }, checkpoint, true);
    }
    if (response.status !== 200) return record(witness.cosignedSize, `HTTP ${response.status}: ${body.slice(0, 200)}`);
    const { lines, time } = acceptedCosignatures(checkpoint.note, body, witnessKey(witness.verifierKey), Math.floor(this.now() / 1000));
    if (lines.length === 0 || time === undefined) return record(witness.cosignedSize, 'the witness answered without a cosignature that verifies under its key');
    await store.insertCosignature(this.db, checkpoint.size, witness.name, lines.join(''), time);
    return record(checkpoint.size, null);
  }

  /** A tile or entry bundle by its tlog-tiles path; undefined (404) when the log has no such tile (yet). */
  async tile(path: string): Promise<{ kind: 'hashes' | 'entries'; bytes: Uint8Array } | undefined> {
    const address = parseTilePath(path);
    if (!address) throw new LedgerError('malformed', `"${path.slice(0, 100)}" is not a tlog-tiles path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])`);
    if (address.kind === 'hashes') {
      const rows = await store.readTiles(this.db, [address]);
      const row = rows.get(`${address.level}/${address.index}`);
      if (!row || row.length < address.width * 32) return undefined;
      return { kind: 'hashes', bytes: row.subarray(0, address.width * 32) };
    }
    const start = address.index * TILE_WIDTH;
    const { size } = await store.head(this.db);
    if (start + address.width > size) return undefined;
    const entries = await store.readEntries(this.db, start, start + address.width);
    return { kind: 'entries', bytes: encodeEntryBundle(entries.map((e) => e.body)) };
  }

  private async publishedSize(size: number | undefined): Promise<number> {
    const latest = await store.latestCheckpoint(this.db);
    const published = latest?.size ?? 0;
    if (size === undefined) return published;
    if (size > published) throw new LedgerError('out_of_range', `tree size ${size} is beyond the latest checkpoint (${published} entries)`);
    return size;
  }

  async inclusionProof(index: number, size?: number): Promise<{ index: number; size: number; hashes: Hash[] }> {
    const treeSize = await this.publishedSize(size);
    const refs = tilesForInclusionProof(index, treeSize);
    const source = await tileSource(this.db, refs);
    return { index, size: treeSize, hashes: proofFromTiles(() => inclusionProofFromTiles(index, treeSize, source)) };
  }

  async consistencyProof(from: number, to?: number): Promise<{ from: number; to: number; hashes: Hash[] }> {
    const treeSize = await this.publishedSize(to);
    if (from === treeSize) return { from, to: treeSize, hashes: [] };
    const refs = tilesForConsistencyProof(from, treeSize);
    const source = await tileSource(this.db, refs);
    return { from, to: treeSize, hashes: proofFromTiles(() => consistencyProofFromTiles(from, treeSize, source)) };
  }

  // ---- receipts ----

  /** The statement, when the caller may see it (its member, the community's managers, admins): others learn nothing. */
  private async visibleStatement(principal: Principal, statementId: string) {
    requireUser(principal);
    const statement = await issuedStatement(this.db, statementId);
    if (!statement || !canSeeMember(principal, { id: statement.memberId, communityId: statement.communityId })) throw new NotFoundError('statement');
    return statement;
  }

  /** The exact bytes the statement's entry commits to (its canonical JSON). */
  async statementDocument(principal: Principal, statementId: string): Promise<Uint8Array> {
    return statementJson((await this.visibleStatement(principal, statementId)).document);
  }

  /**
   * The statement's receipt (gridshare-receipt/v1): its entry, index, inclusion proof and a signed
   * checkpoint that includes it — appending and checkpointing now when the entry waits in the queue.
   */
  async statementReceipt(principal: Principal, statementId: string): Promise<string> {
    const statement = await this.visibleStatement(principal, statementId);
    const kind = statement.follows === null ? 'statement.issued' : 'statement.corrected';
    let entry = await store.findEntry(this.db, kind, statement.id);
    if (!entry && (await store.isQueued(this.db, kind, statement.id))) {
      while ((await this.append()).more);
      entry = await store.findEntry(this.db, kind, statement.id);
    }
    if (!entry) throw new NotFoundError('statement entry in the ledger (not logged yet)');
    let checkpoint = await store.latestCheckpoint(this.db);
    if (!checkpoint || checkpoint.size <= entry.seq) checkpoint = await this.checkpoint();
    const proof = await this.inclusionProof(entry.seq, checkpoint.size);
    return formatReceiptJson({ entry: entry.body, proof: { index: entry.seq, hashes: proof.hashes, checkpoint: checkpoint.note } });
  }

  /**
   * The statement's receipt checked as `gridshare verify` checks it (the log's key, the inclusion
   * proof, the document, the community's signature against its published key), for the member's page.
   */
  async statementVerification(principal: Principal, statementId: string) {
    const statement = await this.visibleStatement(principal, statementId);
    const receipt = await this.statementReceipt(principal, statementId);
    const document = statementJson(statement.document);
    const identity = await this.identity();
    const communityDid = (await store.loadCommunityKey(this.db, statement.communityId))?.did ?? null;
    const base = { statementId, verifierKey: identity.verifierKey, did: identity.did, communityDid, receipt };
    try {
      const verified = verifyReceipt(parseReceipt(utf8(receipt)), verifierFromKey(identity.verifierKey), identity.origin, communityDid ?? undefined);
      const matched = verifyDocument(verified.entry, document);
      return {
        ...base, verified: true, reason: null, message: null, index: verified.index, treeSize: verified.checkpoint.size,
        erasedFields: matched.match === 'exact' ? [] : [...matched.fields],
        rootHash: toHex(verified.checkpoint.rootHash), documentSha256: documentCommitment(document, 'application/json').sha256,
        communitySignature: verified.communitySignature.status,
      };
    } catch (error) {
      if (!(error instanceof LedgerError)) throw error;
      return {
        ...base, verified: false, reason: error.reason, message: error.message, index: null, treeSize: null, rootHash: null, documentSha256: null, erasedFields: [],
        communitySignature: error.reason === 'bad_signature' ? 'invalid' as const : null,
      };
    }
  }

  // ---- status and audit ----

  /** For /metrics: entries in the log, and what the last audit found wrong (0: nothing). */
  async size(): Promise<number> {
    return (await store.head(this.db)).size;
  }

  /** The newest signed checkpoint: how many entries it covers and when it was published. */
  async lastCheckpoint(): Promise<{ size: number; publishedAt: Date } | undefined> {
    const latest = await store.latestCheckpoint(this.db);
    return latest && { size: latest.size, publishedAt: latest.publishedAt };
  }

  async auditFailures(): Promise<number> {
    return (await store.lastAudit(this.db))?.failures ?? 0;
  }

  /** The auditor's last pass, as the admin console and a manager's ledger page show it; null before the first. */
  async lastAudit(): Promise<ReturnType<typeof auditView>> {
    return auditView(await store.lastAudit(this.db));
  }

  /** What a manager's ledger page shows: the log and the community's part in it. */
  async communityStatus(principal: Principal, communityId: string) {
    requireManager(principal, communityId);
    if (!(await loadCommunity(this.db, communityId))) throw new NotFoundError('community');
    const [headNow, latest, ours, identity, audit, communityKey] = await Promise.all([
      store.head(this.db), store.latestCheckpoint(this.db), store.communityEntries(this.db, communityId), store.loadKey(this.db), store.lastAudit(this.db),
      this.communityKey(this.db, communityId),
    ]);
    const checkpoint = latest ? parseCheckpoint(parseNote(latest.note).text) : undefined;
    return {
      origin: identity?.origin ?? null,
      verifierKey: identity?.verifierKey ?? null,
      did: identity?.did ?? null,
      communityDid: communityKey.did,
      size: headNow.size,
      lastAppendAt: headNow.appendedAt?.toISOString() ?? null,
      checkpoint: latest && checkpoint ? { size: latest.size, rootHash: toHex(checkpoint.rootHash), publishedAt: latest.publishedAt.toISOString(), note: latest.note } : null,
      community: { entries: ours.count, lastIndex: ours.lastSeq, lastAppendAt: ours.lastAppendedAt?.toISOString() ?? null },
      audit: auditView(audit),
    };
  }

  /**
   * Recomputes the tree from the stored entries and compares it with every published checkpoint
   * (and checks each checkpoint's signature): any changed, removed or reordered entry shows.
   */
  async audit(batch = APPEND_BATCH): Promise<{ entries: number; checkpoints: number; failures: string[] }> {
    const identity = await store.loadKey(this.db);
    const notes = await store.allCheckpoints(this.db);
    const failures: string[] = [];
    const verifier = identity ? verifierFromKey(identity.verifierKey) : undefined;
    const checkpoints = notes.flatMap((c) => {
      try {
        if (!verifier) throw new LedgerError('wrong_key', 'the ledger has no key');
        return [openCheckpoint(c.note, verifier).checkpoint];
      } catch (error) {
        failures.push(`checkpoint ${c.size}: ${(error as Error).message}`);
        return [];
      }
    });
    const auditor = new LogAuditor(checkpoints);
    const dids = await store.communityDids(this.db);
    const { size } = await store.head(this.db);
    for (let from = 0; from < size; from += batch) {
      const rows = await store.readEntries(this.db, from, Math.min(size, from + batch));
      rows.forEach((row, i) => {
        if (row.seq !== from + i) failures.push(`entry ${from + i} is missing from the stored log`);
        try {
          const entry = decodeEntry(row.body);
          const signature = checkCommunitySignature(entry, dids.get(entry.community));
          if (signature.status === 'valid' && !dids.has(entry.community)) failures.push(`entry ${row.seq}: signed by ${signature.did}, but community ${entry.community} has no key`);
        } catch (error) {
          failures.push(`entry ${row.seq}: ${(error as Error).message}`);
        }
      });
      auditor.add(rows.map((r) => r.body));
    }
    const report = auditor.finish();
    for (const m of report.mismatches) failures.push(m.message);
    for (const c of report.beyondStoredLog) failures.push(`a checkpoint of ${c.size} entries was published, but the stored log has ${report.entries}`);
    const stored = await tileSource(this.db, tilesForTreeHash(size));
    const latest = checkpoints.at(-1);
    if (latest && latest.size === size && size > 0 && toHex(treeHashFromTiles(size, stored)) !== toHex(latest.rootHash)) {
      failures.push('the stored tiles do not hash to the latest checkpoint\'s root: stored tiles were changed');
    }
    await store.saveAudit(this.db, { entries: report.entries, checkpoints: report.checkpointsChecked, failures: failures.length, message: failures[0] ?? null }, this.now());
    return { entries: report.entries, checkpoints: report.checkpointsChecked, failures };
  }
}
