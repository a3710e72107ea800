/**
 * A wallet movement's proof checked in the member's browser: the proof as the server serves it for
 * download, the log's public key (the ledgerKey route, what `gridshare verify --key` is given)
 * and the community's published did:key, checked with WebCrypto by the same code the server and
 * `gridshare verify --movement` run (the contract's proof/). The server's own verdict is not asked
 * for: a member who distrusts the server checks the proof here or offline, not its word.
 */
import { CryptoUnavailableError, runWithWebCrypto } from '@gridshare/contract/proof/computation';
import { ProofError } from '@gridshare/contract/proof/errors';
import { verifyMovementProofWithKey, type MovementProofDocument, type VerifiedMovement } from '@gridshare/contract/proof/movement-proof';
import { ApiError, call } from '../api/client.js';

export interface MovementKeys {
  /** The log's verifier key and origin, as the record publishes them. */
  readonly verifierKey: string;
  readonly origin: string;
  /** The community's did:key; null before it had one (its entries are then unsigned). */
  readonly communityDid: string | null;
}

export type MovementCheck =
  | { readonly state: 'not-recorded' }
  | { readonly state: 'verified'; readonly proof: MovementProofDocument; readonly keys: MovementKeys; readonly movement: VerifiedMovement }
  | { readonly state: 'refused'; readonly proof: MovementProofDocument; readonly keys: MovementKeys; readonly reason: string; readonly message: string }
  /** This browser could not run the check (no WebCrypto on this page, or no Ed25519 in it): nothing was checked. */
  | { readonly state: 'unchecked'; readonly proof: MovementProofDocument; readonly keys: MovementKeys; readonly lacking: CryptoUnavailableError['lacking'] };

/** Fetches the proof and the published keys, and checks the proof here; a refusal names the check that failed. */
export async function checkMovementInBrowser(memberId: string, communityId: string, sequence: number): Promise<MovementCheck> {
  let proof: MovementProofDocument;
  try {
    proof = await call('walletMovementProof', { params: { id: memberId, sequence } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return { state: 'not-recorded' };
    throw error;
  }
  const [log, community] = await Promise.all([
    call('ledgerKey', {}),
    call('ledgerCommunityKey', { params: { id: communityId } }).catch((error: unknown) => {
      // 404: the community has no key yet, so its entries carry no signature to check.
      if (error instanceof ApiError && error.notFound) return null;
      throw error;
    }),
  ]);
  const keys: MovementKeys = { verifierKey: log.verifierKey, origin: log.origin, communityDid: community?.did ?? null };
  try {
    const movement = await runWithWebCrypto(verifyMovementProofWithKey(proof, keys, sequence, keys.communityDid ?? undefined));
    return { state: 'verified', proof, keys, movement };
  } catch (error) {
    if (error instanceof CryptoUnavailableError) return { state: 'unchecked', proof, keys, lacking: error.lacking };
    if (!(error instanceof ProofError)) throw error;
    return { state: 'refused', proof, keys, reason: error.reason, message: error.message };
  }
}
