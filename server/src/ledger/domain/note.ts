/**
 * C2SP signed-note: a text signed by one or more keys, each signature line
 * `— <key name> base64(key ID ‖ signature)`. Keys are written as verifier keys
 * `<name>+<key ID hex>+base64(type ‖ public key)` (what a member or auditor is given) and signer
 * keys `PRIVATE+KEY+<name>+<key ID hex>+base64(type ‖ seed)` (kept secret by the platform).
 */
import { ED25519_PUBLIC_KEY_SIZE, ED25519_SEED_SIZE, ed25519PublicKey, ed25519Sign, ed25519Verify, sha256, type Bytes } from './crypto.js';
import { concatBytes, decodeUtf8, fromBase64, toBase64, utf8 } from './bytes.js';
import { LedgerError } from './errors.js';

/** Signature types (c2sp.org/signed-note "Signature types"). */
export const SIGNATURE_TYPE = { ed25519: 0x01, cosignatureV1: 0x04 } as const;

/** Go's sumdb/note refuses notes with more; C2SP asks verifiers to take at least 16. */
export const MAX_SIGNATURES = 100;

const KEY_ID_BYTES = 4;

/** Non-empty, no Unicode white space, no `+`. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name);
}

/** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4] as a uint32. */
export function keyId(name: string, type: number, publicKey: Bytes): number {
  const digest = sha256(concatBytes(utf8(`${name}\n`), new Uint8Array([type]), publicKey));
  return new DataView(digest.buffer, digest.byteOffset).getUint32(0);
}

export const formatKeyId = (id: number): string => id.toString(16).padStart(8, '0');

/** The verifier key text `<name>+<key ID>+base64(type ‖ public key)`. */
export function formatVerifierKey(name: string, type: number, publicKey: Bytes): string {
  if (!isValidKeyName(name)) throw new LedgerError('malformed', `"${name}" is not a valid key name`);
  return `${name}+${formatKeyId(keyId(name, type, publicKey))}+${toBase64(concatBytes(new Uint8Array([type]), publicKey))}`;
}

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
export function parseVerifierKey(text: string): ParsedVerifierKey {
  const m = KEY_TEXT.exec(text.trim());
  const refuse = (why: string): never => {
    throw new LedgerError('malformed', `not a verifier key (${why}): "${text}"`);
  };
  if (!m || !isValidKeyName(m[1]!)) return refuse('expected <name>+<8 hex digits>+<base64 key>');
  const material = fromBase64(m[3]!);
  if (material === undefined || material.length === 0) return refuse('the key is not base64');
  const type = material[0]!;
  const publicKey = material.subarray(1);
  if (type !== SIGNATURE_TYPE.ed25519 && type !== SIGNATURE_TYPE.cosignatureV1) return refuse(`unknown signature type 0x${type.toString(16).padStart(2, '0')}`);
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) return refuse(`an Ed25519 key is ${ED25519_PUBLIC_KEY_SIZE} bytes, not ${publicKey.length}`);
  const id = Number.parseInt(m[2]!, 16);
  if (keyId(m[1]!, type, publicKey) !== id) return refuse('the key ID does not match the key');
  return { name: m[1]!, keyId: id, type, publicKey };
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

/** Whoever can check one kind of note signature: an Ed25519 log key, a witness's cosignature key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** `message` is the note text (with its final newline); `signature` follows the 4-byte key ID. */
  verify(message: Bytes, signature: Bytes): boolean;
}

export function ed25519Verifier(name: string, publicKey: Bytes): NoteVerifier {
  return {
    name,
    keyId: keyId(name, SIGNATURE_TYPE.ed25519, publicKey),
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
  throw new LedgerError('malformed', `malformed note: ${why}`);
}

/** The signature line `— <name> base64(key ID ‖ signature)\n`. */
export function signatureLine(name: string, id: number, signature: Bytes): string {
  const prefix = new Uint8Array(KEY_ID_BYTES);
  new DataView(prefix.buffer).setUint32(0, id);
  return `\u2014 ${name} ${toBase64(concatBytes(prefix, signature))}\n`;
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

export type SignatureStatus = 'verified' | 'unknown' | 'bad';

export interface CheckedSignature extends NoteSignature {
  readonly status: SignatureStatus;
}

/**
 * Every signature of a note checked against the verifiers (matched by name and key ID: a
 * signature from an unknown key is ignored, even if it shares one of the two).
 */
export function checkNote(note: string | Bytes, verifiers: readonly NoteVerifier[]): { text: string; signatures: CheckedSignature[] } {
  const parsed = parseNote(note);
  const message = utf8(parsed.text);
  return {
    text: parsed.text,
    signatures: parsed.signatures.map((sig) => {
      const verifier = verifiers.find((v) => v.name === sig.name && v.keyId === sig.keyId);
      const status: SignatureStatus = verifier === undefined ? 'unknown' : verifier.verify(message, sig.signature) ? 'verified' : 'bad';
      return { ...sig, status };
    }),
  };
}

/**
 * The text of a note that at least one of the verifiers signed. Refused: a malformed note, any
 * signature by a known key that does not verify (the text was altered), and a note without a
 * signature by any known key.
 */
export function openNote(note: string | Bytes, verifiers: readonly NoteVerifier[]): { text: string; signatures: CheckedSignature[] } {
  const checked = checkNote(note, verifiers);
  const bad = checked.signatures.find((s) => s.status === 'bad');
  if (bad) throw new LedgerError('bad_signature', `invalid signature for key ${bad.name}+${formatKeyId(bad.keyId)}: the signed text was changed or the signature damaged`);
  if (!checked.signatures.some((s) => s.status === 'verified')) {
    const signedBy = checked.signatures.map((s) => `${s.name}+${formatKeyId(s.keyId)}`).join(', ');
    const trusted = verifiers.map((v) => `${v.name}+${formatKeyId(v.keyId)}`).join(', ') || 'none';
    throw new LedgerError('wrong_key', `note has no verifiable signatures: it is signed by ${signedBy}, not by the trusted key (${trusted})`);
  }
  return checked;
}
