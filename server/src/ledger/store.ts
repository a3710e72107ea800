import type { Db, Queryable } from '../platform/store/db.js';
import { parseInt8 } from '../platform/store/port.js';
import { keyIdSql, sealedStore } from '../secrets/index.js';
import type { Tile, TileRef } from './domain/index.js';

/**
 * The only SQL on the ledger's tables: ledger_keys (the sealed signing key), ledger_community_keys
 * (each community's sealed entry-signing key), ledger_head (the
 * size; its row lock is the one writer's lock), ledger_queue (entries waiting to be appended),
 * ledger_entries, ledger_tiles, ledger_checkpoints, ledger_salts, ledger_audits.
 */

export interface StoredKey {
  readonly origin: string;
  /** Sealed signer key text. */
  readonly signer: string;
  readonly verifierKey: string;
  readonly did: string;
  readonly createdAt: Date;
}

export async function loadKey(db: Queryable): Promise<StoredKey | undefined> {
  const [row] = await db.query<{ origin: string; signer: string; verifier_key: string; did: string; created_at: Date }>(
    `SELECT origin, signer, verifier_key, did, created_at FROM ledger_keys WHERE id = 'log'`,
  );
  return row && { origin: row.origin, signer: row.signer, verifierKey: row.verifier_key, did: row.did, createdAt: row.created_at };
}

/** Stores the key unless one exists (two processes starting at once keep the first). */
export async function insertKey(db: Queryable, key: Omit<StoredKey, 'createdAt'>): Promise<void> {
  await db.query(
    `INSERT INTO ledger_keys (id, origin, signer, verifier_key, did) VALUES ('log', $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
    [key.origin, key.signer, key.verifierKey, key.did],
  );
}

/**
 * A ledger key table's sealed `signer` column, for the secrets capability (key checks at start,
 * rotation): the log's key (ledger_keys, by id) and the communities' keys (ledger_community_keys,
 * by community).
 */
function sealedSignerStore(table: 'ledger_keys' | 'ledger_community_keys', id: 'id' | 'community_id', idType: 'text' | 'uuid') {
  return sealedStore({
    table,
    id,
    columns: ['signer'],
    summary: `SELECT ${keyIdSql('signer')} AS "keyId", count(*)::int AS count FROM ${table} GROUP BY 1`,
    page: `SELECT ${id}::text AS ${id}, signer FROM ${table} WHERE ($1::${idType} IS NULL OR ${id} > $1::${idType}) ORDER BY ${id} LIMIT $2`,
    replace: `UPDATE ${table} k SET signer = v.after FROM unnest($1::${idType}[], $2::text[], $3::text[]) AS v(id, before, after)
      WHERE k.${id} = v.id AND k.signer = v.before RETURNING 1`,
  });
}

export const ledgerKeyStore = sealedSignerStore('ledger_keys', 'id', 'text');

// ---- community keys ----

export interface StoredCommunityKey {
  readonly communityId: string;
  /** Sealed base64 Ed25519 seed. */
  readonly signer: string;
  readonly did: string;
  readonly createdAt: Date;
}

interface CommunityKeyRow { community_id: string; signer: string; did: string; created_at: Date }
const communityKeyOf = (r: CommunityKeyRow): StoredCommunityKey => ({ communityId: r.community_id, signer: r.signer, did: r.did, createdAt: r.created_at });

export async function loadCommunityKey(db: Queryable, communityId: string): Promise<StoredCommunityKey | undefined> {
  const [row] = await db.query<CommunityKeyRow>('SELECT community_id::text AS community_id, signer, did, created_at FROM ledger_community_keys WHERE community_id = $1', [communityId]);
  return row && communityKeyOf(row);
}

/** Stores the community's key unless it has one (two transactions creating it at once: the first stays). */
export async function insertCommunityKey(db: Queryable, key: Omit<StoredCommunityKey, 'createdAt'>): Promise<void> {
  await db.query('INSERT INTO ledger_community_keys (community_id, signer, did) VALUES ($1, $2, $3) ON CONFLICT (community_id) DO NOTHING', [key.communityId, key.signer, key.did]);
}

/** Every community's did:key, by community id (the auditor checks each entry's signature against it). */
export async function communityDids(db: Queryable): Promise<Map<string, string>> {
  const rows = await db.query<{ community_id: string; did: string }>('SELECT community_id::text AS community_id, did FROM ledger_community_keys');
  return new Map(rows.map((r) => [r.community_id, r.did]));
}

export const ledgerCommunityKeyStore = sealedSignerStore('ledger_community_keys', 'community_id', 'uuid');

/** Bytes as a Buffer: both drivers (PGlite, node-postgres) take Buffers, alone and in arrays, as bytea. */
const bytea = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

// ---- the queue ----

export interface QueuedEntry {
  readonly communityId: string;
  readonly kind: string;
  readonly subject: string;
  readonly body: Uint8Array;
}

/** Queues an entry; false when the same (kind, subject) is queued or logged already. */
export async function enqueue(db: Queryable, entry: QueuedEntry): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO ledger_queue (community_id, kind, subject, body)
     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM ledger_entries WHERE kind = $2 AND subject = $3)
     ON CONFLICT (kind, subject) DO NOTHING RETURNING id`,
    [entry.communityId, entry.kind, entry.subject, bytea(entry.body)],
  );
  return rows.length > 0;
}

/** When the oldest entry still waiting was queued (null: none waits). */
export async function oldestQueued(db: Queryable): Promise<Date | null> {
  const [row] = await db.query<{ oldest: Date | null }>(`SELECT min(queued_at) AS oldest FROM ledger_queue`);
  return row!.oldest;
}

/** Locks the head (the one writer's lock, held until the transaction ends) and returns the log's size. */
export async function lockHead(tx: Queryable): Promise<number> {
  const [head] = await tx.query<{ size: string }>(`SELECT size::text AS size FROM ledger_head WHERE id FOR UPDATE`);
  return parseInt8(head!.size);
}

/**
 * Locks the head (the one writer's lock: a second writer waits here until this transaction
 * ends, then sees the new size) and returns the size and the next queued entries in order.
 */
export async function lockHeadAndTakeQueue(tx: Queryable, limit: number): Promise<{ size: number; queued: (QueuedEntry & { id: string })[] }> {
  const size = await lockHead(tx);
  const queued = await tx.query<{ id: string; community_id: string; kind: string; subject: string; body: Uint8Array }>(
    `SELECT id::text AS id, community_id, kind, subject, body FROM ledger_queue q ORDER BY q.id LIMIT $1`, [limit],
  );
  return {
    size,
    queued: queued.map((q) => ({ id: q.id, communityId: q.community_id, kind: q.kind, subject: q.subject, body: q.body })),
  };
}

/**
 * Writes a batch at `fromSize` (held under the head lock): the entries at seq fromSize…, the
 * tiles that are new or grew, the new size; removes them from the queue. The primary key on seq
 * refuses a second entry at any index, whatever a caller does.
 */
export async function writeBatch(
  tx: Queryable, fromSize: number, entries: readonly QueuedEntry[], tiles: readonly Tile[], queueIds: readonly string[], atMs: number,
): Promise<void> {
  if (entries.length > 0) {
    await tx.query(
      `INSERT INTO ledger_entries (seq, community_id, kind, subject, body, appended_at)
       SELECT $1::bigint + o - 1, c, k, s, b, $6 FROM unnest($2::uuid[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS e(c, k, s, b, o)`,
      [fromSize, entries.map((e) => e.communityId), entries.map((e) => e.kind), entries.map((e) => e.subject), entries.map((e) => bytea(e.body)), new Date(atMs)],
    );
  }
  if (tiles.length > 0) {
    await tx.query(
      `INSERT INTO ledger_tiles (level, idx, width, hashes)
       SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::smallint[], $4::bytea[])
       ON CONFLICT (level, idx) DO UPDATE SET width = EXCLUDED.width, hashes = EXCLUDED.hashes WHERE ledger_tiles.width < EXCLUDED.width`,
      [tiles.map((t) => t.level), tiles.map((t) => t.index), tiles.map((t) => t.width), tiles.map((t) => bytea(t.hashes))],
    );
  }
  if (queueIds.length > 0) await tx.query(`DELETE FROM ledger_queue WHERE id = ANY($1::bigint[])`, [queueIds]);
  const updated = await tx.query(
    `UPDATE ledger_head SET size = $2, appended_at = $3 WHERE id AND size = $1 RETURNING 1`, [fromSize, fromSize + entries.length, new Date(atMs)],
  );
  if (updated.length !== 1) throw new Error(`the ledger head moved from ${fromSize} under a held lock`);
}

/** Queued rows whose (kind, subject) is in the log already (a replayed event): dropped. */
export async function dropQueued(tx: Queryable, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await tx.query(`DELETE FROM ledger_queue WHERE id = ANY($1::bigint[])`, [ids]);
}

export async function loggedSubjects(tx: Queryable, keys: readonly { kind: string; subject: string }[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await tx.query<{ kind: string; subject: string }>(
    `SELECT e.kind, e.subject FROM ledger_entries e JOIN unnest($1::text[], $2::text[]) AS k(kind, subject) ON e.kind = k.kind AND e.subject = k.subject`,
    [keys.map((k) => k.kind), keys.map((k) => k.subject)],
  );
  return new Set(rows.map((r) => `${r.kind}\n${r.subject}`));
}

export async function head(db: Queryable): Promise<{ size: number; appendedAt: Date | null }> {
  const [row] = await db.query<{ size: string; appended_at: Date | null }>(`SELECT size::text AS size, appended_at FROM ledger_head WHERE id`);
  return { size: parseInt8(row!.size), appendedAt: row!.appended_at };
}

// ---- tiles and entries ----

/** The stored rows of these tiles (each at its widest; callers slice to the width they need). */
export async function readTiles(db: Queryable, refs: readonly Pick<TileRef, 'level' | 'index'>[]): Promise<Map<string, Uint8Array>> {
  if (refs.length === 0) return new Map();
  const rows = await db.query<{ level: number; idx: string; hashes: Uint8Array }>(
    `SELECT t.level, t.idx::text AS idx, t.hashes FROM ledger_tiles t
     JOIN unnest($1::smallint[], $2::bigint[]) AS r(level, idx) ON t.level = r.level AND t.idx = r.idx`,
    [refs.map((r) => r.level), refs.map((r) => r.index)],
  );
  return new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hashes]));
}

/** Entries [from, to) in order, as stored. */
export async function readEntries(db: Queryable, from: number, to: number): Promise<{ seq: number; body: Uint8Array }[]> {
  const rows = await db.query<{ seq: string; body: Uint8Array }>(
    `SELECT seq::text AS seq, body FROM ledger_entries e WHERE e.seq >= $1 AND e.seq < $2 ORDER BY e.seq`, [from, to],
  );
  return rows.map((r) => ({ seq: parseInt8(r.seq), body: r.body }));
}

export async function findEntry(db: Queryable, kind: string, subject: string): Promise<{ seq: number; body: Uint8Array } | undefined> {
  const [row] = await db.query<{ seq: string; body: Uint8Array }>(`SELECT seq::text AS seq, body FROM ledger_entries WHERE kind = $1 AND subject = $2`, [kind, subject]);
  return row && { seq: parseInt8(row.seq), body: row.body };
}

export async function isQueued(db: Queryable, kind: string, subject: string): Promise<boolean> {
  return (await db.query(`SELECT 1 FROM ledger_queue WHERE kind = $1 AND subject = $2`, [kind, subject])).length > 0;
}

export async function communityEntries(db: Queryable, communityId: string): Promise<{ count: number; lastSeq: number | null; lastAppendedAt: Date | null }> {
  const [row] = await db.query<{ count: number; last_seq: string | null; last_at: Date | null }>(
    `SELECT count(*)::int AS count, max(seq)::text AS last_seq, max(appended_at) AS last_at FROM ledger_entries WHERE community_id = $1`, [communityId],
  );
  return { count: row!.count, lastSeq: row!.last_seq === null ? null : parseInt8(row!.last_seq), lastAppendedAt: row!.last_at };
}

// ---- checkpoints ----

export interface StoredCheckpoint {
  readonly size: number;
  readonly note: string;
  readonly publishedAt: Date;
}

const checkpointOf = (r: { size: string; note: string; published_at: Date }): StoredCheckpoint => ({ size: parseInt8(r.size), note: r.note, publishedAt: r.published_at });

export async function insertCheckpoint(db: Queryable, size: number, note: string, atMs: number): Promise<void> {
  await db.query(`INSERT INTO ledger_checkpoints (size, note, published_at) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING`, [size, note, new Date(atMs)]);
}

export async function latestCheckpoint(db: Queryable): Promise<StoredCheckpoint | undefined> {
  const [row] = await db.query<{ size: string; note: string; published_at: Date }>(
    `SELECT size::text AS size, note, published_at FROM ledger_checkpoints c ORDER BY c.size DESC LIMIT 1`,
  );
  return row && checkpointOf(row);
}

export async function allCheckpoints(db: Queryable): Promise<StoredCheckpoint[]> {
  const rows = await db.query<{ size: string; note: string; published_at: Date }>(`SELECT size::text AS size, note, published_at FROM ledger_checkpoints c ORDER BY c.size`);
  return rows.map(checkpointOf);
}

// ---- witnesses ----

export interface StoredWitness {
  readonly name: string;
  readonly verifierKey: string;
  readonly url: string;
  /** The tree size the witness last recorded for this log (the old size of the next request). */
  readonly cosignedSize: number;
  /** The largest checkpoint it gave a cosignature for that verified, if any. */
  readonly verifiedSize: number | null;
  readonly lastAttemptAt: Date | null;
  readonly lastError: string | null;
  readonly addedAt: Date;
}

interface WitnessRow {
  name: string; verifier_key: string; url: string; cosigned_size: string; verified_size: string | null; last_attempt_at: Date | null; last_error: string | null; added_at: Date;
}
const WITNESS_COLUMNS = `name, verifier_key, url, cosigned_size::text AS cosigned_size, last_attempt_at, last_error, added_at,
  (SELECT max(c.size)::text FROM ledger_cosignatures c WHERE c.witness = w.name) AS verified_size`;
const witnessOf = (r: WitnessRow): StoredWitness => ({
  name: r.name, verifierKey: r.verifier_key, url: r.url, cosignedSize: parseInt8(r.cosigned_size),
  verifiedSize: r.verified_size === null ? null : parseInt8(r.verified_size), lastAttemptAt: r.last_attempt_at,
  lastError: r.last_error, addedAt: r.added_at,
});

/** Adds a witness, or replaces its key and URL (its cosigned size starts again from 0: a new key is a new witness). */
export async function putWitness(db: Queryable, witness: { name: string; verifierKey: string; url: string }): Promise<StoredWitness> {
  const [row] = await db.query<WitnessRow>(
    `INSERT INTO ledger_witnesses AS w (name, verifier_key, url) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET verifier_key = excluded.verifier_key, url = excluded.url, cosigned_size = 0, last_error = NULL, last_attempt_at = NULL
     RETURNING ${WITNESS_COLUMNS}`,
    [witness.name, witness.verifierKey, witness.url],
  );
  return witnessOf(row!);
}

export async function deleteWitness(db: Queryable, name: string): Promise<boolean> {
  return (await db.query('DELETE FROM ledger_witnesses WHERE name = $1 RETURNING name', [name])).length > 0;
}

export async function listWitnesses(db: Queryable): Promise<StoredWitness[]> {
  return (await db.query<WitnessRow>(`SELECT ${WITNESS_COLUMNS} FROM ledger_witnesses w ORDER BY name`)).map(witnessOf);
}

/** What one add-checkpoint call came to: the witness's size now, and why it failed (null: it cosigned). */
export async function recordWitnessAttempt(db: Queryable, name: string, outcome: { cosignedSize: number; error: string | null }, atMs: number): Promise<void> {
  await db.query('UPDATE ledger_witnesses SET cosigned_size = $2, last_error = $3, last_attempt_at = $4 WHERE name = $1',
    [name, outcome.cosignedSize, outcome.error, new Date(atMs)]);
}

export async function insertCosignature(db: Queryable, size: number, witness: string, lines: string, signedAtSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO ledger_cosignatures (size, witness, lines, signed_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (size, witness) DO UPDATE SET lines = excluded.lines, signed_at = excluded.signed_at`,
    [size, witness, lines, new Date(signedAtSeconds * 1000)],
  );
}

/** The cosignature lines stored for the checkpoint of this size, by witness name. */
export async function cosignaturesOf(db: Queryable, size: number): Promise<string[]> {
  return (await db.query<{ lines: string }>('SELECT lines FROM ledger_cosignatures WHERE size = $1 ORDER BY witness', [size])).map((r) => r.lines);
}

// ---- salts ----

/**
 * Deletes the commitment salts of these subjects (an erased member's ids): every commitment made
 * under them can no longer be recomputed or linked to the member, while the entries, and every
 * proof over them, stay as they are.
 */
export async function forgetSalts(tx: Queryable, subjects: readonly string[]): Promise<void> {
  await tx.query('DELETE FROM ledger_salts WHERE subject = ANY($1::uuid[])', [subjects]);
}

/** The subject's commitment salt, created (from `fresh`) on first use. */
export async function saltOf(db: Queryable, subject: string, fresh: Uint8Array): Promise<Uint8Array> {
  const [row] = await db.query<{ salt: Uint8Array }>(
    `WITH created AS (INSERT INTO ledger_salts (subject, salt) VALUES ($1, $2) ON CONFLICT (subject) DO NOTHING RETURNING salt)
     SELECT salt FROM created UNION ALL SELECT salt FROM ledger_salts WHERE subject = $1`,
    [subject, bytea(fresh)],
  );
  return row!.salt;
}

/** The commitment salts kept of these subjects, by subject (never created: an erased member's is gone for good). */
export async function keptSalts(db: Queryable, subjects: readonly string[]): Promise<Map<string, Uint8Array>> {
  const rows = await db.query<{ subject: string; salt: Uint8Array }>('SELECT subject::text, salt FROM ledger_salts WHERE subject = ANY($1::uuid[])', [[...new Set(subjects)]]);
  return new Map(rows.map((r) => [r.subject, new Uint8Array(r.salt)]));
}

/** The salts of many subjects at once (created where missing, from `fresh`), by subject. */
export async function saltsOf(db: Queryable, subjects: readonly string[], fresh: () => Uint8Array): Promise<Map<string, Uint8Array>> {
  const distinct = [...new Set(subjects)];
  if (distinct.length === 0) return new Map();
  await db.query(
    "INSERT INTO ledger_salts (subject, salt) SELECT s, decode(f, 'hex') FROM unnest($1::uuid[], $2::text[]) AS u(s, f) ON CONFLICT (subject) DO NOTHING",
    [distinct, distinct.map(() => Buffer.from(fresh()).toString('hex'))],
  );
  const rows = await db.query<{ subject: string; salt: Uint8Array }>('SELECT subject::text, salt FROM ledger_salts WHERE subject = ANY($1::uuid[])', [distinct]);
  return new Map(rows.map((r) => [r.subject, r.salt]));
}

// ---- the market's postings in the record ----

/** Serialises the recording of a community's postings (held until the transaction ends), then how far they are recorded (0: none). */
export async function lockMarketBatches(db: Queryable, communityId: string): Promise<number> {
  await db.query("SELECT pg_advisory_xact_lock(hashtextextended('ledger-market-batches:' || $1::text, 0))", [communityId]);
  return recordedMarketPostings(db, communityId);
}

/** The last of a community's postings in a recorded batch (0: none); batches are gapless from posting 1, so every posting up to it is recorded. */
export async function recordedMarketPostings(db: Queryable, communityId: string): Promise<number> {
  const rows = await db.query<{ last: number | null }>('SELECT max(last_sequence) AS last FROM ledger_market_batches WHERE community_id = $1', [communityId]);
  return rows[0]?.last ?? 0;
}

/**
 * A batch of market postings as recorded: its range, entry subject, the wallet commitments it
 * names and the tiles of its records' tree (a movement's proof reads O(log n) of them).
 */
export async function insertMarketBatch(
  db: Queryable, batch: { communityId: string; first: number; last: number; subject: string; wallets: readonly string[] }, tiles: readonly Tile[],
): Promise<void> {
  await db.query('INSERT INTO ledger_market_batches (community_id, first_sequence, last_sequence, subject, wallets) VALUES ($1, $2, $3, $4, $5)',
    [batch.communityId, batch.first, batch.last, batch.subject, batch.wallets]);
  await db.query(
    `INSERT INTO ledger_market_batch_tiles (community_id, first_sequence, level, idx, hashes)
     SELECT $1, $2, l, i, h FROM unnest($3::smallint[], $4::int[], $5::bytea[]) AS t(l, i, h)`,
    [batch.communityId, batch.first, tiles.map((t) => t.level), tiles.map((t) => t.index), tiles.map((t) => bytea(t.hashes))],
  );
}

/**
 * A batch recorded before batches kept their trees (migrations/0226) given its tree and wallet
 * commitments, computed from its postings. Safe to race: the first writer's rows stand, and they
 * are the same rows (the caller checked them against the entry's root).
 */
export async function backfillMarketBatch(db: Db, batch: { communityId: string; first: number; wallets: readonly string[] }, tiles: readonly Tile[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO ledger_market_batch_tiles (community_id, first_sequence, level, idx, hashes)
       SELECT $1, $2, l, i, h FROM unnest($3::smallint[], $4::int[], $5::bytea[]) AS t(l, i, h)
       ON CONFLICT (community_id, first_sequence, level, idx) DO NOTHING`,
      [batch.communityId, batch.first, tiles.map((t) => t.level), tiles.map((t) => t.index), tiles.map((t) => bytea(t.hashes))],
    );
    await tx.query('UPDATE ledger_market_batches SET wallets = $3 WHERE community_id = $1 AND first_sequence = $2 AND wallets IS NULL',
      [batch.communityId, batch.first, batch.wallets]);
  });
}

export interface StoredMarketBatch {
  readonly first: number;
  readonly last: number;
  readonly subject: string;
  /** The wallet commitments the batch names; null: recorded before its tiles were kept (migrations/0226). */
  readonly wallets: readonly string[] | null;
}

/** The batch of the community's postings that holds this sequence. */
export async function marketBatchOf(db: Queryable, communityId: string, sequence: number): Promise<StoredMarketBatch | undefined> {
  const rows = await db.query<{ first_sequence: number; last_sequence: number; subject: string; wallets: string[] | null }>(
    `SELECT first_sequence, last_sequence, subject, wallets FROM ledger_market_batches
     WHERE community_id = $1 AND first_sequence <= $2 AND last_sequence >= $2`,
    [communityId, sequence],
  );
  const row = rows[0];
  return row && { first: row.first_sequence, last: row.last_sequence, subject: row.subject, wallets: row.wallets };
}

/** These tiles of a batch's tree, by `level/index`. */
export async function readMarketBatchTiles(
  db: Queryable, communityId: string, first: number, refs: readonly Pick<TileRef, 'level' | 'index'>[],
): Promise<Map<string, Uint8Array>> {
  const rows = await db.query<{ level: number; idx: number; hashes: Uint8Array }>(
    `SELECT t.level, t.idx, t.hashes FROM ledger_market_batch_tiles t
     JOIN unnest($3::smallint[], $4::int[]) AS r(level, idx) ON t.level = r.level AND t.idx = r.idx
     WHERE t.community_id = $1 AND t.first_sequence = $2`,
    [communityId, first, refs.map((r) => r.level), refs.map((r) => r.index)],
  );
  return new Map(rows.map((r) => [`${r.level}/${r.idx}`, new Uint8Array(r.hashes)]));
}

// ---- audit ----

export interface AuditRecord {
  readonly auditedAt: Date;
  readonly entries: number;
  readonly checkpoints: number;
  readonly failures: number;
  readonly message: string | null;
}

export async function saveAudit(db: Queryable, audit: Omit<AuditRecord, 'auditedAt'>, atMs: number): Promise<void> {
  await db.query(
    `INSERT INTO ledger_audits (id, audited_at, entries, checkpoints, failures, message) VALUES (true, $1, $2, $3, $4, $5)
     ON CONFLICT (id) DO UPDATE SET audited_at = EXCLUDED.audited_at, entries = EXCLUDED.entries, checkpoints = EXCLUDED.checkpoints,
       failures = EXCLUDED.failures, message = EXCLUDED.message`,
    [new Date(atMs), audit.entries, audit.checkpoints, audit.failures, audit.message],
  );
}

export async function lastAudit(db: Queryable): Promise<AuditRecord | undefined> {
  const [row] = await db.query<{ audited_at: Date; entries: string; checkpoints: number; failures: number; message: string | null }>(
    `SELECT audited_at, entries::text AS entries, checkpoints, failures, message FROM ledger_audits WHERE id`,
  );
  return row && { auditedAt: row.audited_at, entries: parseInt8(row.entries), checkpoints: row.checkpoints, failures: row.failures, message: row.message };
}
