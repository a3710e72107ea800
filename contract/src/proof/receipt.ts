/**
 * A member's receipt: proof, checkable without any server, that an entry (e.g. "statement S with
 * document hash H was issued") is at a given index of the log whose signed checkpoint it carries.
 *
 * Two spellings of the same content:
 * - `receipt.json`: `{ "format": "gridshare-receipt/v1", "entry": {…}, "proof": "<tlog-proof>" }`
 *   — the entry readable as JSON (its logged bytes are its RFC 8785 canonical form, so
 *   re-indenting the file changes nothing), the proof as C2SP tlog-proof text;
 * - a bare `.tlog-proof` whose `extra` line carries the entry's exact bytes, for tooling that
 *   speaks only C2SP.
 */
import canonicalize from 'canonicalize';
import type { Bytes, Computation } from './computation.js';
import { bytesEqual, decodeUtf8, toHex, utf8 } from './bytes.js';
import { ProofError } from './errors.js';
import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import { checkCommunitySignature, decodeEntry, type CommunitySignature, type LedgerEntry } from './entries.js';
import { leafHash, rootFromInclusionProof, type Hash } from './merkle.js';
import type { NoteVerifier } from './note.js';
import { TLOG_PROOF_HEADER, parseTlogProof, type TlogProof } from './tlog-proof.js';

export const RECEIPT_FORMAT = 'gridshare-receipt/v1';

export interface Receipt {
  /** The entry's exact logged bytes. */
  readonly entry: Bytes;
  readonly proof: TlogProof;
}

/** Reads either spelling of a receipt. */
export function parseReceipt(input: Bytes): Receipt {
  const text = decodeUtf8(input);
  if (text === undefined) throw new ProofError('malformed', 'the receipt is not UTF-8 text');
  if (text.startsWith(`${TLOG_PROOF_HEADER}\n`)) {
    const proof = parseTlogProof(text);
    if (proof.extra === undefined) throw new ProofError('malformed', 'this tlog-proof carries no entry (no extra line): it cannot be checked on its own');
    return { entry: proof.extra, proof };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ProofError('malformed', `the receipt is neither JSON nor a ${TLOG_PROOF_HEADER} file`);
  }
  const { format, entry, proof } = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (format !== RECEIPT_FORMAT) throw new ProofError('malformed', `the receipt is not a ${RECEIPT_FORMAT} document`);
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ProofError('malformed', 'the receipt has no entry object');
  if (typeof proof !== 'string') throw new ProofError('malformed', 'the receipt has no proof text');
  let canonical: string | undefined;
  try {
    canonical = canonicalize(entry);
  } catch (error) {
    throw new ProofError('malformed', `the receipt's entry cannot be canonicalised: ${(error as Error).message}`);
  }
  return { entry: utf8(canonical!), proof: parseTlogProof(proof) };
}

export interface VerifiedReceipt {
  readonly entry: LedgerEntry;
  readonly index: number;
  readonly leafHash: Hash;
  readonly checkpoint: Checkpoint;
  /** The entry's signature by its community's key: valid, or absent (invalid is refused). */
  readonly communitySignature: CommunitySignature;
}

/**
 * Checks a receipt against the log's verifier key: the checkpoint is signed by that key and is
 * of its log, the entry's index is in the signed tree, the inclusion proof leads from the
 * entry's leaf hash to the signed root, and the entry's community signature (if it has one)
 * verifies — by `communityDid` when given. Each failure is a ProofError naming its reason.
 */
export function* verifyReceipt(receipt: Receipt, log: NoteVerifier, origin: string = log.name, communityDid?: string): Computation<VerifiedReceipt> {
  const { checkpoint } = yield* openCheckpoint(receipt.proof.checkpoint, log, origin);
  const { index, hashes } = receipt.proof;
  if (index >= checkpoint.size) {
    throw new ProofError('out_of_range', `the receipt's entry index ${index} is not in the checkpoint's tree of ${checkpoint.size} entries`);
  }
  const leaf = yield* leafHash(receipt.entry);
  const root = yield* rootFromInclusionProof(index, checkpoint.size, leaf, hashes);
  if (!bytesEqual(root, checkpoint.rootHash)) {
    throw new ProofError('proof_mismatch', `the entry and inclusion proof lead to root ${toHex(root)}, but the signed checkpoint of ${checkpoint.size} entries has root ${toHex(checkpoint.rootHash)}: the entry or the proof was changed`);
  }
  const entry = decodeEntry(receipt.entry);
  return { entry, index, leafHash: leaf, checkpoint, communitySignature: yield* checkCommunitySignature(entry, communityDid) };
}

