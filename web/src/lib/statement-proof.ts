/**
 * A statement checked in the member's browser: its receipt against the log's published key and the
 * community's published did:key, and the statement file against the document its log entry
 * commits to, with WebCrypto, by the same code `gridshare verify --receipt … --statement …` runs
 * (the contract's proof/). The server's own verdict (the statementVerification route, kept for API
 * clients) is not asked for: a member who distrusts the server checks the files, not its word.
 */
import { toHex } from '@gridshare/contract/proof/bytes';
import { CryptoUnavailableError, runWithWebCrypto } from '@gridshare/contract/proof/computation';
import { verifyStatementWithKey } from '@gridshare/contract/proof/document';
import { ProofError } from '@gridshare/contract/proof/errors';
import { ApiError, call, send } from '../api/client.js';

export interface StatementKeys {
  /** The log's verifier key, origin and did:key, as the record publishes them. */
  readonly verifierKey: string;
  readonly origin: string;
  readonly did: string;
  /** The community's did:key; null before it had one (its entries are then unsigned). */
  readonly communityDid: string | null;
}

export type StatementCheck =
  | {
    readonly state: 'verified'; readonly keys: StatementKeys; readonly index: number; readonly treeSize: number; readonly rootHash: string;
    readonly documentSha256: string; readonly erasedFields: readonly string[]; readonly communitySigned: boolean;
  }
  | { readonly state: 'refused'; readonly keys: StatementKeys; readonly reason: string; readonly message: string }
  /** This browser could not run the check (no WebCrypto on this page, or no Ed25519 in it): nothing was checked. */
  | { readonly state: 'unchecked'; readonly keys: StatementKeys; readonly lacking: CryptoUnavailableError['lacking'] };

const bytesOf = async (response: Promise<Response>) => new Uint8Array(await (await response).arrayBuffer());

/** Fetches the receipt, the statement and the published keys, and checks them here; a refusal names the check that failed. */
export async function checkStatementInBrowser(statementId: string, communityId: string): Promise<StatementCheck> {
  const [receipt, statement, log, community] = await Promise.all([
    bytesOf(send('statementReceipt', { params: { id: statementId } })),
    bytesOf(send('statementJson', { params: { id: statementId } })),
    call('ledgerKey', {}),
    call('ledgerCommunityKey', { params: { id: communityId } }).catch((error: unknown) => {
      // 404: the community has no key yet, so its entries carry no signature to check.
      if (error instanceof ApiError && error.notFound) return null;
      throw error;
    }),
  ]);
  const keys: StatementKeys = { verifierKey: log.verifierKey, origin: log.origin, did: log.did, communityDid: community?.did ?? null };
  try {
    const verified = await runWithWebCrypto(verifyStatementWithKey(receipt, statement, keys, keys.communityDid ?? undefined));
    return {
      state: 'verified', keys, index: verified.receipt.index, treeSize: verified.receipt.checkpoint.size, rootHash: toHex(verified.receipt.checkpoint.rootHash),
      documentSha256: verified.documentSha256, erasedFields: verified.document.match === 'exact' ? [] : verified.document.fields,
      communitySigned: verified.receipt.communitySignature.status === 'valid',
    };
  } catch (error) {
    if (error instanceof CryptoUnavailableError) return { state: 'unchecked', keys, lacking: error.lacking };
    if (!(error instanceof ProofError)) throw error;
    return { state: 'refused', keys, reason: error.reason, message: error.message };
  }
}
