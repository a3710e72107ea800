/**
 * What the member's browser checks the record's proofs with (wallet movements, statements): the
 * keys the record publishes, and a check run with WebCrypto by the contract's proof/ code, whose
 * outcome tells a proof refused by a check from a browser that could not check at all.
 */
import { CryptoUnavailableError, runWithWebCrypto, type Computation } from '@gridshare/contract/proof/computation';
import { ProofError } from '@gridshare/contract/proof/errors';
import { ApiError, call } from '../api/client.js';
import type { Translate } from './i18n/index.js';

export interface PublishedKeys {
  /** The log's verifier key, origin and did:key (the ledgerKey route, what `gridshare verify --key` is given). */
  readonly verifierKey: string;
  readonly origin: string;
  readonly did: string;
  /** The community's did:key; null before it had one (its entries are then unsigned). */
  readonly communityDid: string | null;
}

/** The log's and the community's published keys. */
export async function publishedKeys(communityId: string): Promise<PublishedKeys> {
  const [log, community] = await Promise.all([
    call('ledgerKey', {}),
    call('ledgerCommunityKey', { params: { id: communityId } }).catch((error: unknown) => {
      // 404: the community has no key yet, so its entries carry no signature to check.
      if (error instanceof ApiError && error.notFound) return null;
      throw error;
    }),
  ]);
  return { verifierKey: log.verifierKey, origin: log.origin, did: log.did, communityDid: community?.did ?? null };
}

/** A check's outcome here: what it verified, the check that refused the proof, or what this browser lacks to run it. */
export type CheckOutcome<T> =
  | { readonly state: 'verified'; readonly verified: T }
  | { readonly state: 'refused'; readonly reason: string; readonly message: string }
  /** Nothing was checked: no WebCrypto on this page (not served over HTTPS), or no Ed25519 in it. */
  | { readonly state: 'unchecked'; readonly lacking: CryptoUnavailableError['lacking'] };

export async function checkHere<T>(check: Computation<T>): Promise<CheckOutcome<T>> {
  try {
    return { state: 'verified', verified: await runWithWebCrypto(check) };
  } catch (error) {
    if (error instanceof CryptoUnavailableError) return { state: 'unchecked', lacking: error.lacking };
    if (!(error instanceof ProofError)) throw error;
    return { state: 'refused', reason: error.reason, message: error.message };
  }
}

/** Why nothing was checked, as the pages say it. */
export const uncheckedReason = (t: Translate, lacking: CryptoUnavailableError['lacking']): string =>
  (lacking === 'webcrypto' ? t('verify.uncheckedNoWebCrypto') : t('verify.uncheckedNoEd25519'));
