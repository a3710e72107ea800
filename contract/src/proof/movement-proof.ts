/**
 * The proof that one wallet movement (a posting of a community's market ledger) is in the
 * verifiable record, checkable offline: the movement's record (the exact bytes of its leaf), its
 * audit path in its batch's tree, and a receipt of the batch's `market.movements` entry (the entry,
 * its inclusion proof in the log and the signed checkpoint). With the member's opening (their id and
 * salt) it also shows that the wallet named by commitment in the record is theirs; after an erasure
 * the salt is gone and the proof still shows the movement as recorded, its wallet a commitment only.
 */
import type { Bytes, Computation } from './computation.js';
import { decodeUtf8, fromBase64, fromHex, utf8 } from './bytes.js';
import { ProofError } from './errors.js';
import { commitment, type MarketMovementsEntry } from './entries.js';
import { verifyBatchInclusion, type MovementRecord } from './market-records.js';
import { parseReceipt, verifyReceipt, type VerifiedReceipt } from './receipt.js';
import type { NoteVerifier } from './note.js';
import { verifierFromKey } from './checkpoint.js';

export const MOVEMENT_PROOF_FORMAT = 'gridshare-movement-proof/v1';

/** The proof as the API serves it (JSON): hashes and salt base64, the record and the receipt as text. */
export interface MovementProofDocument {
  readonly format: typeof MOVEMENT_PROOF_FORMAT;
  /** The record as logged: its RFC 8785 canonical JSON (the leaf's exact bytes). */
  readonly record: string;
  /** The member whose wallet the record names, and the salt of their commitment; null once erased. */
  readonly opening: { readonly member: string; readonly salt: string } | null;
  /** The record's place in its batch's tree and the audit path (RFC 6962, the sibling first). */
  readonly batch: { readonly index: number; readonly size: number; readonly hashes: readonly string[] };
  /** The batch's entry with its inclusion proof in the log under a signed checkpoint (gridshare-receipt/v1). */
  readonly receipt: string;
}

export interface VerifiedMovement {
  readonly record: MovementRecord;
  readonly entry: MarketMovementsEntry;
  readonly receipt: VerifiedReceipt;
  /** The side of the movement that is the opened member's wallet; undefined without an opening. */
  readonly side: 'debit' | 'credit' | undefined;
}

const malformed = (why: string): never => {
  throw new ProofError('malformed', `movement proof: ${why}`);
};

/** UTF-8 JSON that must be an object; `malformed` (saying which) otherwise. */
function jsonObject(input: Bytes, notJson: string, notObject: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(decodeUtf8(input) ?? '');
  } catch {
    return malformed(notJson);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return malformed(notObject);
  return json as Record<string, unknown>;
}

/**
 * A movement proof as read from a file or the network: the document's shape checked, so the
 * verifier gets strings and integers where it expects them. Anything else is `malformed`.
 */
export function parseMovementProof(input: Bytes): MovementProofDocument {
  const { format, record, opening, batch, receipt } = jsonObject(input, 'not JSON (UTF-8)', 'not a JSON object');
  if (format !== MOVEMENT_PROOF_FORMAT) return malformed(`not a ${MOVEMENT_PROOF_FORMAT} document`);
  if (typeof record !== 'string' || typeof receipt !== 'string') return malformed('the record and the receipt must be text');
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (opening !== null && !(isObject(opening) && typeof opening.member === 'string' && typeof opening.salt === 'string')) {
    return malformed('the opening is neither null nor a member and salt');
  }
  const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!isObject(batch) || !count(batch.index) || !count(batch.size) || !Array.isArray(batch.hashes) || !batch.hashes.every((h) => typeof h === 'string')) {
    return malformed('the batch is not an index, a size and a list of hashes');
  }
  return {
    format, record, receipt, opening: opening === null ? null : { member: opening.member as string, salt: opening.salt as string },
    batch: { index: batch.index, size: batch.size, hashes: batch.hashes as string[] },
  };
}

/**
 * Checks a movement proof against the log's key: the receipt verifies (checkpoint signed by the
 * log, entry included, the community's signature valid when it has one), the entry is the batch
 * of `market.movements` holding the record's sequence at the given place, the record and audit
 * path lead to the entry's root, and the opening (when given) is the commitment of a wallet of the
 * record. Each failure is a ProofError naming its reason.
 */
export function* verifyMovementProof(proof: MovementProofDocument, log: NoteVerifier, origin: string = log.name, communityDid?: string): Computation<VerifiedMovement> {
  if (proof.format !== MOVEMENT_PROOF_FORMAT) malformed(`not a ${MOVEMENT_PROOF_FORMAT} document`);
  const receipt = yield* verifyReceipt(parseReceipt(utf8(proof.receipt)), log, origin, communityDid);
  const entry = receipt.entry;
  if (entry.kind !== 'market.movements') throw new ProofError('entry_mismatch', `the receipt's entry is ${entry.kind}, not market.movements`);
  const bytes: Bytes = utf8(proof.record);
  const record = jsonObject(bytes, 'the record is not JSON', 'the record is not a JSON object') as unknown as MovementRecord;
  if (record.type !== 'movement' || record.community !== entry.community) throw new ProofError('entry_mismatch', 'the record is not a movement of the entry\'s community');
  const { first, last } = entry.postings;
  const { index, size } = proof.batch;
  if (size !== last - first + 1 || record.sequence !== first + index) {
    throw new ProofError('entry_mismatch', `the entry records postings ${first}–${last}; the proof puts posting ${record.sequence} at ${index} of ${size}`);
  }
  const hashes = proof.batch.hashes.map((h) => fromBase64(h) ?? malformed(`audit path hash "${h.slice(0, 60)}" is not base64`));
  yield* verifyBatchInclusion(bytes, index, size, hashes, fromHex(entry.root) ?? malformed('the entry\'s root is not hex'));
  let side: VerifiedMovement['side'];
  if (proof.opening) {
    const salt = fromBase64(proof.opening.salt) ?? malformed('the opening\'s salt is not base64');
    const wallet = `wallet:${yield* commitment(salt, proof.opening.member)}`;
    side = record.debit === wallet ? 'debit' : record.credit === wallet ? 'credit' : undefined;
    if (side === undefined) throw new ProofError('entry_mismatch', `member ${proof.opening.member} with this salt is neither wallet of the record`);
  }
  return { record, entry, receipt, side };
}

/**
 * A wallet movement's proof checked against keys as published: the log's verifier key text and
 * origin (`GET /api/v1/ledger/key`), the community's did:key when it has one, and the posting's
 * sequence the proof was asked for. What the server's verification, `gridshare verify --movement`
 * and the member's browser all run.
 */
export function* verifyMovementProofWithKey(
  proof: MovementProofDocument, key: { readonly verifierKey: string; readonly origin: string }, sequence: number, communityDid?: string,
): Computation<VerifiedMovement> {
  const verified = yield* verifyMovementProof(proof, yield* verifierFromKey(key.verifierKey), key.origin, communityDid);
  if (verified.record.sequence !== sequence) throw new ProofError('entry_mismatch', `the proof is of posting ${verified.record.sequence}, not ${sequence}`);
  return verified;
}
