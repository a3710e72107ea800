/**
 * A statement checked in the member's browser: its receipt against the record's published keys
 * (lib/browser-check.ts), and the statement file against the document its log entry commits to,
 * with WebCrypto, by the same code `gridshare verify --receipt … --statement …` runs (the
 * contract's proof/). The server's own verdict (the statementVerification route, kept for API
 * clients) is not asked for: a member who distrusts the server checks the files, not its word.
 */
import { toHex } from '@gridshare/contract/proof/bytes';
import type { Bytes, Computation } from '@gridshare/contract/proof/computation';
import { verifyStatementWithKey } from '@gridshare/contract/proof/document';
import { send } from '../api/client.js';
import { checkHere, publishedKeys, type CheckOutcome, type PublishedKeys } from './browser-check.js';

/** What the page shows of a verified statement. */
export interface VerifiedStatement {
  readonly index: number;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly documentSha256: string;
  readonly erasedFields: readonly string[];
  readonly communitySigned: boolean;
}

export type StatementCheck = { readonly keys: PublishedKeys } & CheckOutcome<VerifiedStatement>;

const bytesOf = async (response: Promise<Response>) => new Uint8Array(await (await response).arrayBuffer());

function* verifiedStatement(receipt: Bytes, statement: Bytes, keys: PublishedKeys): Computation<VerifiedStatement> {
  const verified = yield* verifyStatementWithKey(receipt, statement, keys, keys.communityDid ?? undefined);
  return {
    index: verified.receipt.index, treeSize: verified.receipt.checkpoint.size, rootHash: toHex(verified.receipt.checkpoint.rootHash),
    documentSha256: verified.documentSha256, erasedFields: verified.document.match === 'exact' ? [] : verified.document.fields,
    communitySigned: verified.receipt.communitySignature.status === 'valid',
  };
}

/** Fetches the receipt, the statement and the published keys, and checks them here; a refusal names the check that failed. */
export async function checkStatementInBrowser(statementId: string, communityId: string): Promise<StatementCheck> {
  const [receipt, statement, keys] = await Promise.all([
    bytesOf(send('statementReceipt', { params: { id: statementId } })),
    bytesOf(send('statementJson', { params: { id: statementId } })),
    publishedKeys(communityId),
  ]);
  return { keys, ...await checkHere(verifiedStatement(receipt, statement, keys)) };
}
