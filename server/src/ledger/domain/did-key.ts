/** did:key identities for Ed25519 keys: the contract's (shared with the browser), and the did:key of a seed the server holds. */
import { didKeyFromPublicKey } from '@gridshare/contract/proof/did-key';
import { ed25519PublicKey, type Bytes } from './crypto.js';

export { didKeyFromPublicKey, publicKeyFromDidKey } from '@gridshare/contract/proof/did-key';

/** The did:key of the Ed25519 key with this 32-byte seed. */
export function didKeyFromSeed(seed: Bytes): string {
  return didKeyFromPublicKey(ed25519PublicKey(seed));
}
