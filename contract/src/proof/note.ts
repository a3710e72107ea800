/**
 * C2SP signed-note, as a verifier reads it: a text signed by one or more keys, each signature line
 * `— <key name> base64(key ID ‖ signature)`; verifier keys `<name>+<key ID hex>+base64(type ‖ public key)`
 * (what a member or auditor is given). Signing lives with the keys, on the server.
 */
import { ED25519_PUBLIC_KEY_SIZE, ed25519Verify, sha256, type Bytes, type Computation } from './computation.js';
import { concatBytes, decodeUtf8, fromBase64, utf8 } from './bytes.js';
import { ProofError } from './errors.js';

/** Signature types (c2sp.org/signed-note "Signature types"). */
export const SIGNATURE_TYPE = { ed25519: 0x01, cosignatureV1: 0x04 } as const;

/** Go's sumdb/note refuses notes with more; C2SP asks verifiers to take at least 16. */
export const MAX_SIGNATURES = 100;

export const KEY_ID_BYTES = 4;

/** Non-empty, no Unicode white space, no `+`. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name);
}

/** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4] as a uint32. */
export function* keyId(name: string, type: number, publicKey: Bytes): Computation<number> {
  const digest = yield* sha256(concatBytes(utf8(`${name}\n`), new Uint8Array([type]), publicKey));
  return new DataView(digest.buffer, digest.byteOffset).getUint32(0);
}

export const formatKeyId = (id: number): string => id.toString(16).padStart(8, '0');

export interface ParsedVerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly publicKey: Bytes;
}

const KEY_TEXT = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/;

/**
 * A verifier key, checked: valid name, a key ID that matches the key, a known type (Ed25519 or
 * the Ed25519 witness cosignature) and a 32-byte key.
 */
export function* parseVerifierKey(text: string): Computation<ParsedVerifierKey> {
  const m = KEY_TEXT.exec(text.trim());
  const refuse = (why: string): never => {
    throw new ProofError('malformed', `not a verifier key (${why}): "${text}"`);
  };
  if (!m || !isValidKeyName(m[1]!)) return refuse('expected <name>+<8 hex digits>+<base64 key>');
  const material = fromBase64(m[3]!);
  if (material === undefined || material.length === 0) return refuse('the key is not base64');
  const type = material[0]!;
  const publicKey = material.subarray(1);
  if (type !== SIGNATURE_TYPE.ed25519 && type !== SIGNATURE_TYPE.cosignatureV1) return refuse(`unknown signature type 0x${type.toString(16).padStart(2, '0')}`);
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) return refuse(`an Ed25519 key is ${ED25519_PUBLIC_KEY_SIZE} bytes, not ${publicKey.length}`);
  const id = Number.parseInt(m[2]!, 16);
  if ((yield* keyId(m[1]!, type, publicKey)) !== id) return refuse('the key ID does not match the key');
  return { name: m[1]!, keyId: id, type, publicKey };
}

/** Whoever can check one kind of note signature: an Ed25519 log key, a witness's cosignature key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** `message` is the note text (with its final newline); `signature` follows the 4-byte key ID. */
  verify(message: Bytes, signature: Bytes): Computation<boolean>;
}

export function* ed25519Verifier(name: string, publicKey: Bytes): Computation<NoteVerifier> {
  return {
    name,
    keyId: yield* keyId(name, SIGNATURE_TYPE.ed25519, publicKey),
    verify: (message, signature) => ed25519Verify(publicKey, message, signature),
  };
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature after the key ID. */
  readonly signature: Bytes;
}

export interface ParsedNote {
  /** The signed text, with its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function malformed(why: string): never {
  throw new ProofError('malformed', `malformed note: ${why}`);
}

/**
 * Splits a note into text and signature lines without checking any signature. The note must be
 * valid UTF-8 without control characters other than newline; the text ends at the last blank line.
 */
export function parseNote(note: string | Bytes): ParsedNote {
  const text = typeof note === 'string' ? note : decodeUtf8(note);
  if (text === undefined) malformed('not valid UTF-8');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) malformed('it contains control characters');
  if (LONE_SURROGATE.test(text)) malformed('not valid Unicode');
  const split = text.lastIndexOf('\n\n');
  if (split < 0) malformed('no blank line before the signatures');
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (block === '') malformed('no signatures');
  if (!block.endsWith('\n')) malformed('the last signature line does not end in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) malformed(`more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    const m = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!m || !isValidKeyName(m[1]!)) malformed(`"${line.slice(0, 80)}" is not a signature line`);
    const bytes = fromBase64(m[2]!);
    if (bytes === undefined || bytes.length <= KEY_ID_BYTES) malformed(`the signature of ${m[1]} is not base64 of a key ID and a signature`);
    return { name: m[1]!, keyId: new DataView(bytes.buffer, bytes.byteOffset).getUint32(0), signature: bytes.subarray(KEY_ID_BYTES) };
  });
  return { text: body, signatures };
}

export type SignatureStatus = 'verified' | 'unknown' | 'bad';

export interface CheckedSignature extends NoteSignature {
  readonly status: SignatureStatus;
}

/**
 * Every signature of a note checked against the verifiers (matched by name and key ID: a
 * signature from an unknown key is ignored, even if it shares one of the two).
 */
export function* checkNote(note: string | Bytes, verifiers: readonly NoteVerifier[]): Computation<{ text: string; signatures: CheckedSignature[] }> {
  const parsed = parseNote(note);
  const message = utf8(parsed.text);
  const signatures: CheckedSignature[] = [];
  for (const sig of parsed.signatures) {
    const verifier = verifiers.find((v) => v.name === sig.name && v.keyId === sig.keyId);
    const status: SignatureStatus = verifier === undefined ? 'unknown' : (yield* verifier.verify(message, sig.signature)) ? 'verified' : 'bad';
    signatures.push({ ...sig, status });
  }
  return { text: parsed.text, signatures };
}

/**
 * The text of a note that at least one of the verifiers signed. Refused: a malformed note, any
 * signature by a known key that does not verify (the text was altered), and a note without a
 * signature by any known key.
 */
export function* openNote(note: string | Bytes, verifiers: readonly NoteVerifier[]): Computation<{ text: string; signatures: CheckedSignature[] }> {
  const checked = yield* checkNote(note, verifiers);
  const bad = checked.signatures.find((s) => s.status === 'bad');
  if (bad) throw new ProofError('bad_signature', `invalid signature for key ${bad.name}+${formatKeyId(bad.keyId)}: the signed text was changed or the signature damaged`);
  if (!checked.signatures.some((s) => s.status === 'verified')) {
    const signedBy = checked.signatures.map((s) => `${s.name}+${formatKeyId(s.keyId)}`).join(', ');
    const trusted = verifiers.map((v) => `${v.name}+${formatKeyId(v.keyId)}`).join(', ') || 'none';
    throw new ProofError('wrong_key', `note has no verifiable signatures: it is signed by ${signedBy}, not by the trusted key (${trusted})`);
  }
  return checked;
}
