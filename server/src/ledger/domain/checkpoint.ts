/**
 * C2SP tlog-checkpoint (the signed tree head: origin, size, root hash, optional extension lines)
 * and C2SP tlog-cosignature (a witness's timestamped Ed25519 statement that it saw this
 * checkpoint and that it is consistent with everything the witness saw before).
 */
import { ED25519_SEED_SIZE, ed25519PublicKey, ed25519Sign, ed25519Verify, type Bytes } from './crypto.js';
import { concatBytes, fromBase64, readUint64, toBase64, uint64, utf8 } from './bytes.js';
import { LedgerError, isTreeSize } from './errors.js';
import { SIGNATURE_TYPE, checkNote, ed25519Verifier, isValidKeyName, keyId, openNote, parseVerifierKey, signNote, signatureLine, type CheckedSignature, type NoteVerifier, type SignerKey } from './note.js';
import type { Hash } from './merkle.js';

export interface Checkpoint {
  /** Names the log; Gridshare uses its key name, e.g. `gridshare.example.org/ledger`. */
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Hash;
  /** Anything after the root hash line, verbatim (extension lines; '' when there are none). */
  readonly rest: string;
}

const UINT64_MAX = 18446744073709551615n;

/** The checkpoint body. Extension lines must be non-empty and without newlines. */
export function formatCheckpoint(checkpoint: { origin: string; size: number; rootHash: Hash; extensions?: readonly string[] }): string {
  if (checkpoint.origin === '' || checkpoint.origin.includes('\n')) throw new LedgerError('malformed', 'a checkpoint origin is one non-empty line');
  if (!isTreeSize(checkpoint.size)) throw new LedgerError('out_of_range', `checkpoint size ${checkpoint.size} is not a tree size`);
  const extensions = checkpoint.extensions ?? [];
  if (extensions.some((line) => line === '' || line.includes('\n'))) throw new LedgerError('malformed', 'checkpoint extension lines are non-empty single lines');
  return `${checkpoint.origin}\n${checkpoint.size}\n${toBase64(checkpoint.rootHash)}\n${extensions.map((line) => `${line}\n`).join('')}`;
}

/**
 * Parses a checkpoint body: at least three newline-terminated lines, a non-empty origin, the
 * size in decimal without sign or leading zeros, the root hash in base64. The hash length is
 * not checked here (proof verification compares it with a real root).
 */
export function parseCheckpoint(body: string): Checkpoint {
  const refuse = (why: string): never => {
    throw new LedgerError('malformed', `malformed checkpoint: ${why}`);
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
  if (!isTreeSize(size)) throw new LedgerError('out_of_range', `checkpoint size ${sizeText} is beyond what this verifier handles (2^53 − 1)`);
  const rootHash = fromBase64(hashText);
  if (rootHash === undefined) refuse('the root hash is not base64');
  return { origin, size, rootHash: rootHash!, rest: body.slice(third + 1) };
}

export function signCheckpoint(checkpoint: { origin: string; size: number; rootHash: Hash; extensions?: readonly string[] }, signer: SignerKey): string {
  return signNote(formatCheckpoint(checkpoint), [signer]);
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
export function openCheckpoint(note: string, log: NoteVerifier, origin: string = log.name): OpenedCheckpoint {
  const { text, signatures } = openNote(note, [log]);
  const checkpoint = parseCheckpoint(text);
  if (checkpoint.origin !== origin) {
    throw new LedgerError('origin_mismatch', `the checkpoint is of the log "${checkpoint.origin}", not of "${origin}"`);
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

/** A witness key: its name and Ed25519 key; the key ID uses signature type 0x04. */
export interface CosignerKey {
  readonly name: string;
  readonly seed: Bytes;
}

/** A cosignature line for a checkpoint body, made at `timestamp` (POSIX seconds). */
export function cosign(body: string, witness: CosignerKey, timestamp: number): string {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new LedgerError('out_of_range', `cosignature time ${timestamp} is not POSIX seconds`);
  if (!isValidKeyName(witness.name) || witness.seed.length !== ED25519_SEED_SIZE) throw new LedgerError('malformed', 'a witness key is a valid name and a 32-byte seed');
  const publicKey = ed25519PublicKey(witness.seed);
  const signature = ed25519Sign(witness.seed, cosignatureMessage(body, timestamp));
  return signatureLine(witness.name, keyId(witness.name, SIGNATURE_TYPE.cosignatureV1, publicKey), concatBytes(uint64(timestamp), signature));
}

/** The POSIX time a cosignature claims, or undefined when the signature is not one. */
export function cosignatureTime(signature: Bytes): number | undefined {
  if (signature.length !== 8 + 64) return undefined;
  const time = readUint64(signature, 0);
  return time !== undefined && time <= MAX_TIMESTAMP ? time : undefined;
}

/** Checks `timestamp ‖ Ed25519(cosignature/v1 message)` signatures of one witness. */
export function cosignatureVerifier(name: string, publicKey: Bytes): NoteVerifier {
  return {
    name,
    keyId: keyId(name, SIGNATURE_TYPE.cosignatureV1, publicKey),
    verify(message, signature) {
      const time = cosignatureTime(signature);
      if (time === undefined) return false;
      return ed25519Verify(publicKey, cosignatureMessage(message, time), signature.subarray(8));
    },
  };
}

/** A verifier from a verifier key text: type 0x01 checks log signatures, 0x04 witness cosignatures. */
export function verifierFromKey(text: string): NoteVerifier {
  const key = parseVerifierKey(text);
  return key.type === SIGNATURE_TYPE.cosignatureV1 ? cosignatureVerifier(key.name, key.publicKey) : ed25519Verifier(key.name, key.publicKey);
}

export interface CosignatureCheck {
  readonly witness: string;
  readonly status: 'verified' | 'bad' | 'future' | 'absent';
  /** The POSIX time the witness signed at, when it did. */
  readonly time?: number;
}

/**
 * Which of the given witnesses cosigned the checkpoint note. A cosignature dated after `now`
 * (POSIX seconds, passed in) plus a minute of clock skew counts as `future`, not as verified.
 */
export function checkCosignatures(note: string, witnesses: readonly NoteVerifier[], now: number): CosignatureCheck[] {
  const { signatures } = checkNote(note, witnesses);
  return witnesses.map((witness) => {
    const sig = signatures.find((s) => s.name === witness.name && s.keyId === witness.keyId);
    if (sig === undefined) return { witness: witness.name, status: 'absent' };
    const time = cosignatureTime(sig.signature);
    if (sig.status !== 'verified' || time === undefined) return { witness: witness.name, status: 'bad' };
    return { witness: witness.name, status: time > now + 60 ? 'future' : 'verified', time };
  });
}

