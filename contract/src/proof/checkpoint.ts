/**
 * C2SP tlog-checkpoint (the signed tree head: origin, size, root hash, optional extension lines)
 * and C2SP tlog-cosignature (a witness's timestamped Ed25519 statement that it saw this
 * checkpoint), as a verifier reads them. Making and cosigning checkpoints is the server's.
 */
import { ed25519Verify, type Bytes, type Computation } from './computation.js';
import { concatBytes, fromBase64, readUint64, utf8 } from './bytes.js';
import { ProofError, isTreeSize } from './errors.js';
import { SIGNATURE_TYPE, ed25519Verifier, keyId, openNote, parseVerifierKey, type CheckedSignature, type NoteVerifier } from './note.js';
import type { Hash } from './merkle.js';

export interface Checkpoint {
  /** Names the log; Gridshare uses its key name, e.g. `gridshare.example.org/ledger`. */
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Hash;
  /** Anything after the root hash line, verbatim (extension lines; '' when there are none). */
  readonly rest: string;
}

export const UINT64_MAX = 18446744073709551615n;

/**
 * Parses a checkpoint body: at least three newline-terminated lines, a non-empty origin, the
 * size in decimal without sign or leading zeros, the root hash in base64. The hash length is
 * not checked here (proof verification compares it with a real root).
 */
export function parseCheckpoint(body: string): Checkpoint {
  const refuse = (why: string): never => {
    throw new ProofError('malformed', `malformed checkpoint: ${why}`);
  };
  const first = body.indexOf('\n');
  const second = first < 0 ? -1 : body.indexOf('\n', first + 1);
  const third = second < 0 ? -1 : body.indexOf('\n', second + 1);
  if (third < 0) refuse('it needs an origin, a size and a root hash line, each ending in a newline');
  const origin = body.slice(0, first);
  const sizeText = body.slice(first + 1, second);
  const hashText = body.slice(second + 1, third);
  if (origin === '') refuse('the origin line is empty');
  if (!/^(0|[1-9]\d*)$/.test(sizeText) || BigInt(sizeText) > UINT64_MAX) refuse(`the size "${sizeText.slice(0, 40)}" is not a uint64 in decimal`);
  const size = Number(sizeText);
  if (!isTreeSize(size)) throw new ProofError('out_of_range', `checkpoint size ${sizeText} is beyond what this verifier handles (2^53 − 1)`);
  const rootHash = fromBase64(hashText);
  if (rootHash === undefined) refuse('the root hash is not base64');
  return { origin, size, rootHash: rootHash!, rest: body.slice(third + 1) };
}

export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  /** The signed note, verbatim. */
  readonly note: string;
  readonly signatures: readonly CheckedSignature[];
}

/**
 * A checkpoint signed by the log's key, of the expected origin (by default the key's name, as
 * C2SP recommends and Gridshare does). Other signatures (witnesses, rotated keys) are ignored.
 */
export function* openCheckpoint(note: string, log: NoteVerifier, origin: string = log.name): Computation<OpenedCheckpoint> {
  const { text, signatures } = yield* openNote(note, [log]);
  const checkpoint = parseCheckpoint(text);
  if (checkpoint.origin !== origin) {
    throw new ProofError('origin_mismatch', `the checkpoint is of the log "${checkpoint.origin}", not of "${origin}"`);
  }
  return { checkpoint, note, signatures };
}

// ---- cosignatures ----

const COSIGNATURE_HEADER = 'cosignature/v1\n';
const MAX_TIMESTAMP = 2 ** 63 - 1;

/** The message a witness signs: `cosignature/v1`, `time <t>`, then the checkpoint body. */
export function cosignatureMessage(body: string | Bytes, timestamp: number): Bytes {
  return concatBytes(utf8(`${COSIGNATURE_HEADER}time ${timestamp}\n`), typeof body === 'string' ? utf8(body) : body);
}

/** The POSIX time a cosignature claims, or undefined when the signature is not one. */
export function cosignatureTime(signature: Bytes): number | undefined {
  if (signature.length !== 8 + 64) return undefined;
  const time = readUint64(signature, 0);
  return time !== undefined && time <= MAX_TIMESTAMP ? time : undefined;
}

/** Checks `timestamp ‖ Ed25519(cosignature/v1 message)` signatures of one witness. */
export function* cosignatureVerifier(name: string, publicKey: Bytes): Computation<NoteVerifier> {
  return {
    name,
    keyId: yield* keyId(name, SIGNATURE_TYPE.cosignatureV1, publicKey),
    *verify(message, signature) {
      const time = cosignatureTime(signature);
      if (time === undefined) return false;
      return yield* ed25519Verify(publicKey, cosignatureMessage(message, time), signature.subarray(8));
    },
  };
}

/** A verifier from a verifier key text: type 0x01 checks log signatures, 0x04 witness cosignatures. */
export function* verifierFromKey(text: string): Computation<NoteVerifier> {
  const key = yield* parseVerifierKey(text);
  return key.type === SIGNATURE_TYPE.cosignatureV1 ? yield* cosignatureVerifier(key.name, key.publicKey) : yield* ed25519Verifier(key.name, key.publicKey);
}
