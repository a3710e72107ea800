/**
 * C2SP signed-note, as the server signs them (reading and checking a note is the contract's
 * `proof/note.ts`, shared with the browser's verifier): signer keys
 * `PRIVATE+KEY+<name>+<key ID hex>+base64(type ‖ seed)` (kept secret by the platform), signature
 * lines `— <key name> base64(key ID ‖ signature)`, verifier keys to hand out.
 */
import * as shared from '@gridshare/contract/proof/note';
import { KEY_ID_BYTES, SIGNATURE_TYPE, formatKeyId, isValidKeyName, parseNote, type NoteVerifier } from '@gridshare/contract/proof/note';
import { ED25519_SEED_SIZE, ed25519PublicKey, ed25519Sign, run, type Bytes } from './crypto.js';
import { concatBytes, fromBase64, toBase64, utf8 } from './bytes.js';
import { LedgerError } from './errors.js';

export {
  SIGNATURE_TYPE, MAX_SIGNATURES, isValidKeyName, formatKeyId, parseNote,
  type NoteVerifier, type ParsedVerifierKey, type NoteSignature, type ParsedNote, type SignatureStatus, type CheckedSignature,
} from '@gridshare/contract/proof/note';

/** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4] as a uint32. */
export const keyId = (name: string, type: number, publicKey: Bytes): number => run(shared.keyId(name, type, publicKey));

/** A verifier key, checked (see the contract's `parseVerifierKey`). */
export const parseVerifierKey = (text: string) => run(shared.parseVerifierKey(text));

export const ed25519Verifier = (name: string, publicKey: Bytes): NoteVerifier => run(shared.ed25519Verifier(name, publicKey));

/** Every signature of a note checked against the verifiers (see the contract's `checkNote`). */
export const checkNote = (note: string | Bytes, verifiers: readonly NoteVerifier[]) => run(shared.checkNote(note, verifiers));

/** The text of a note that at least one of the verifiers signed (see the contract's `openNote`). */
export const openNote = (note: string | Bytes, verifiers: readonly NoteVerifier[]) => run(shared.openNote(note, verifiers));

/** The verifier key text `<name>+<key ID>+base64(type ‖ public key)`. */
export function formatVerifierKey(name: string, type: number, publicKey: Bytes): string {
  if (!isValidKeyName(name)) throw new LedgerError('malformed', `"${name}" is not a valid key name`);
  return `${name}+${formatKeyId(keyId(name, type, publicKey))}+${toBase64(concatBytes(new Uint8Array([type]), publicKey))}`;
}

/** A private Ed25519 note key. The seed is secret: phase 2 stores it like the other secrets. */
export interface SignerKey {
  readonly name: string;
  readonly keyId: number;
  readonly seed: Bytes;
  readonly publicKey: Bytes;
}

export function signerKeyFromSeed(name: string, seed: Bytes): SignerKey {
  if (!isValidKeyName(name)) throw new LedgerError('malformed', `"${name}" is not a valid key name`);
  if (seed.length !== ED25519_SEED_SIZE) throw new LedgerError('malformed', `an Ed25519 seed is ${ED25519_SEED_SIZE} bytes, not ${seed.length}`);
  const publicKey = ed25519PublicKey(seed);
  return { name, keyId: keyId(name, SIGNATURE_TYPE.ed25519, publicKey), seed, publicKey };
}

export function formatSignerKey(key: SignerKey): string {
  return `PRIVATE+KEY+${key.name}+${formatKeyId(key.keyId)}+${toBase64(concatBytes(new Uint8Array([SIGNATURE_TYPE.ed25519]), key.seed))}`;
}

export function parseSignerKey(text: string): SignerKey {
  const m = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim());
  const material = m ? fromBase64(m[3]!) : undefined;
  if (!m || material === undefined || material[0] !== SIGNATURE_TYPE.ed25519 || material.length !== 1 + ED25519_SEED_SIZE) {
    throw new LedgerError('malformed', 'not an Ed25519 signer key (PRIVATE+KEY+<name>+<key ID>+<base64 seed>)');
  }
  const key = signerKeyFromSeed(m[1]!, material.subarray(1));
  if (key.keyId !== Number.parseInt(m[2]!, 16)) throw new LedgerError('malformed', 'the signer key ID does not match the key');
  return key;
}

export const verifierKeyOf = (key: SignerKey): string => formatVerifierKey(key.name, SIGNATURE_TYPE.ed25519, key.publicKey);

/** The signature line `— <name> base64(key ID ‖ signature)\n`. */
export function signatureLine(name: string, id: number, signature: Bytes): string {
  const prefix = new Uint8Array(KEY_ID_BYTES);
  new DataView(prefix.buffer).setUint32(0, id);
  return `\u2014 ${name} ${toBase64(concatBytes(prefix, signature))}\n`;
}

/** Signs a text (non-empty, ending in a newline, without blank-line ambiguity) with each key. */
export function signNote(text: string, signers: readonly SignerKey[]): string {
  if (!text.endsWith('\n') || text === '\n') throw new LedgerError('malformed', 'a note text ends in a newline');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new LedgerError('malformed', 'a note text has no control characters other than newline');
  if (signers.length === 0) throw new LedgerError('malformed', 'a note needs at least one signature');
  const message = utf8(text);
  return `${text}\n${signers.map((s) => signatureLine(s.name, s.keyId, ed25519Sign(s.seed, message))).join('')}`;
}

/** Adds signature lines (e.g. witness cosignatures) to a signed note. */
export function addSignatureLines(note: string, lines: readonly string[]): string {
  parseNote(note);
  const combined = note + lines.join('');
  parseNote(combined);
  return combined;
}

