/**
 * C2SP tlog-checkpoint (the signed tree head) and tlog-cosignature, as the server makes them:
 * formatting and signing checkpoints, cosigning as a witness, and which witnesses cosigned.
 * Reading and checking a checkpoint is the contract's `proof/checkpoint.ts`, shared with the browser.
 */
import * as shared from '@gridshare/contract/proof/checkpoint';
import { cosignatureMessage, cosignatureTime } from '@gridshare/contract/proof/checkpoint';
import { SIGNATURE_TYPE, isValidKeyName, type NoteVerifier } from '@gridshare/contract/proof/note';
import { ED25519_SEED_SIZE, ed25519PublicKey, ed25519Sign, run, type Bytes } from './crypto.js';
import { concatBytes, toBase64, uint64 } from './bytes.js';
import { LedgerError, isTreeSize } from './errors.js';
import { checkNote, keyId, signNote, signatureLine, type SignerKey } from './note.js';
import type { Hash } from './merkle.js';

export {
  parseCheckpoint, cosignatureMessage, cosignatureTime, type Checkpoint, type OpenedCheckpoint,
} from '@gridshare/contract/proof/checkpoint';

/** The checkpoint body. Extension lines must be non-empty and without newlines. */
export function formatCheckpoint(checkpoint: { origin: string; size: number; rootHash: Hash; extensions?: readonly string[] }): string {
  if (checkpoint.origin === '' || checkpoint.origin.includes('\n')) throw new LedgerError('malformed', 'a checkpoint origin is one non-empty line');
  if (!isTreeSize(checkpoint.size)) throw new LedgerError('out_of_range', `checkpoint size ${checkpoint.size} is not a tree size`);
  const extensions = checkpoint.extensions ?? [];
  if (extensions.some((line) => line === '' || line.includes('\n'))) throw new LedgerError('malformed', 'checkpoint extension lines are non-empty single lines');
  return `${checkpoint.origin}\n${checkpoint.size}\n${toBase64(checkpoint.rootHash)}\n${extensions.map((line) => `${line}\n`).join('')}`;
}

export function signCheckpoint(checkpoint: { origin: string; size: number; rootHash: Hash; extensions?: readonly string[] }, signer: SignerKey): string {
  return signNote(formatCheckpoint(checkpoint), [signer]);
}

/** A checkpoint signed by the log's key, of the expected origin (see the contract's `openCheckpoint`). */
export const openCheckpoint = (note: string, log: NoteVerifier, origin: string = log.name) => run(shared.openCheckpoint(note, log, origin));

/** Checks `timestamp ‖ Ed25519(cosignature/v1 message)` signatures of one witness. */
export const cosignatureVerifier = (name: string, publicKey: Bytes): NoteVerifier => run(shared.cosignatureVerifier(name, publicKey));

/** A verifier from a verifier key text: type 0x01 checks log signatures, 0x04 witness cosignatures. */
export const verifierFromKey = (text: string): NoteVerifier => run(shared.verifierFromKey(text));

// ---- cosignatures ----

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

