/**
 * The ledger's only door to cryptography: SHA-256 and Ed25519 from Node's crypto module.
 * These are deterministic computations, not I/O, so the domain stays pure. The checks shared with
 * the browser (the contract's `proof/`) yield their operations; `run` answers them from here, the
 * browser from WebCrypto.
 */
import { createPrivateKey, createPublicKey, hash, sign, verify, type KeyObject } from 'node:crypto';
import { ED25519_PUBLIC_KEY_SIZE, ED25519_SIGNATURE_SIZE, runSync, type Bytes, type Computation } from '@gridshare/contract/proof/computation';

export { ED25519_PUBLIC_KEY_SIZE, ED25519_SIGNATURE_SIZE, type Bytes, type Computation };

export function sha256(data: Bytes): Bytes {
  return hash('sha256', data, 'buffer');
}

// DER prefixes that turn raw RFC 8032 keys into the PKCS #8 / SPKI structures Node reads.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const ED25519_SEED_SIZE = 32;

// Reading a DER key costs ~15 times a signature; the same few keys (the log's, the witnesses')
// sign and verify over and over, so their key objects are kept.
const keyObjects = new Map<string, KeyObject>();
const MAX_CACHED_KEYS = 256;

function cached(id: string, make: () => KeyObject): KeyObject {
  let key = keyObjects.get(id);
  if (key === undefined) {
    if (keyObjects.size >= MAX_CACHED_KEYS) keyObjects.clear();
    key = make();
    keyObjects.set(id, key);
  }
  return key;
}

function privateKey(seed: Bytes): KeyObject {
  if (seed.length !== ED25519_SEED_SIZE) throw new RangeError(`an Ed25519 seed is ${ED25519_SEED_SIZE} bytes, not ${seed.length}`);
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  return cached(`private:${der.toString('base64')}`, () => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

function publicKeyObject(publicKey: Bytes): KeyObject | undefined {
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) return undefined;
  const der = Buffer.concat([SPKI_ED25519_PREFIX, publicKey]);
  try {
    return cached(`public:${der.toString('base64')}`, () => createPublicKey({ key: der, format: 'der', type: 'spki' }));
  } catch {
    return undefined;
  }
}

/** The RFC 8032 public key of a 32-byte seed. */
export function ed25519PublicKey(seed: Bytes): Bytes {
  const spki = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX.length));
}

export function ed25519Sign(seed: Bytes, message: Bytes): Bytes {
  return new Uint8Array(sign(null, message, privateKey(seed)));
}

/** False for a wrong signature and for anything that is not an Ed25519 key or signature. */
export function ed25519Verify(publicKey: Bytes, message: Bytes, signature: Bytes): boolean {
  if (signature.length !== ED25519_SIGNATURE_SIZE) return false;
  const key = publicKeyObject(publicKey);
  return key !== undefined && verify(null, message, key, signature);
}

// Node answers a digest as a Buffer; a plain view of it gives the checks the very values WebCrypto gives the browser.
const digest = (data: Bytes): Bytes => {
  const buffer = sha256(data);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
};

/** Runs one of the contract's proof checks with Node's crypto, synchronously. */
export function run<T>(computation: Computation<T>): T {
  return runSync(computation, { sha256: digest, ed25519Verify });
}
