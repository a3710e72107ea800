/**
 * did:key identities for Ed25519 keys (W3C CCG did:key method): `did:key:z` + base58btc of the
 * multicodec ed25519-pub prefix (0xed 0x01) and the 32-byte public key. The platform, each
 * community and (optionally) each device signing key is named this way, so an entry's
 * signature can be checked from the entry alone.
 */
import { base58 } from '@scure/base';
import { ED25519_PUBLIC_KEY_SIZE, type Bytes } from './computation.js';
import { concatBytes } from './bytes.js';
import { ProofError } from './errors.js';

const ED25519_PUB_MULTICODEC = new Uint8Array([0xed, 0x01]);
const PREFIX = 'did:key:z';

export function didKeyFromPublicKey(publicKey: Bytes): string {
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) throw new ProofError('malformed', `an Ed25519 public key is ${ED25519_PUBLIC_KEY_SIZE} bytes, not ${publicKey.length}`);
  return PREFIX + base58.encode(concatBytes(ED25519_PUB_MULTICODEC, publicKey));
}

/** The Ed25519 public key a did:key names; any other key type (P-256, X25519, …) is refused. */
export function publicKeyFromDidKey(did: string): Bytes {
  if (!did.startsWith(PREFIX)) throw new ProofError('malformed', `"${did.slice(0, 60)}" is not a base58btc did:key`);
  let decoded: Uint8Array;
  try {
    decoded = base58.decode(did.slice(PREFIX.length));
  } catch {
    throw new ProofError('malformed', `"${did.slice(0, 60)}" is not valid base58btc`);
  }
  if (decoded[0] !== ED25519_PUB_MULTICODEC[0] || decoded[1] !== ED25519_PUB_MULTICODEC[1]) {
    throw new ProofError('malformed', `${did.slice(0, 60)} is not an Ed25519 key (multicodec 0xed01)`);
  }
  if (decoded.length !== ED25519_PUB_MULTICODEC.length + ED25519_PUBLIC_KEY_SIZE) {
    throw new ProofError('malformed', `${did.slice(0, 60)} holds ${decoded.length - 2} key bytes, not ${ED25519_PUBLIC_KEY_SIZE}`);
  }
  return decoded.subarray(ED25519_PUB_MULTICODEC.length);
}
