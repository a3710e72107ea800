/**
 * A wallet movement's proof checked in the member's browser: the proof as the server serves it for
 * download, checked against the record's published keys (lib/browser-check.ts) with WebCrypto by
 * the same code the server and `gridshare verify --movement` run (the contract's proof/). The
 * server's own verdict is not asked for: a member who distrusts the server checks the proof here or
 * offline, not its word.
 */
import { verifyMovementProofWithKey, type MovementProofDocument, type VerifiedMovement } from '@gridshare/contract/proof/movement-proof';
import { ApiError, call } from '../api/client.js';
import { checkHere, publishedKeys, type CheckOutcome, type PublishedKeys } from './browser-check.js';

export type MovementCheck =
  | { readonly state: 'not-recorded' }
  | ({ readonly proof: MovementProofDocument; readonly keys: PublishedKeys } & CheckOutcome<VerifiedMovement>);

/** Fetches the proof and the published keys, and checks the proof here; a refusal names the check that failed. */
export async function checkMovementInBrowser(memberId: string, communityId: string, sequence: number): Promise<MovementCheck> {
  let proof: MovementProofDocument;
  try {
    proof = await call('walletMovementProof', { params: { id: memberId, sequence } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return { state: 'not-recorded' };
    throw error;
  }
  const keys = await publishedKeys(communityId);
  return { proof, keys, ...await checkHere(verifyMovementProofWithKey(proof, keys, sequence, keys.communityDid ?? undefined)) };
}
