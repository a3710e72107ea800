/**
 * A member's receipt, as the server writes it (reading and checking one is the contract's
 * `proof/receipt.ts`, shared with the browser's verifier). Two spellings of the same content:
 * - `receipt.json`: `{ "format": "gridshare-receipt/v1", "entry": {…}, "proof": "<tlog-proof>" }`
 *   — the entry readable as JSON (its logged bytes are its RFC 8785 canonical form, so
 *   re-indenting the file changes nothing), the proof as C2SP tlog-proof text;
 * - a bare `.tlog-proof` whose `extra` line carries the entry's exact bytes, for tooling that
 *   speaks only C2SP.
 */
import * as proof from '@gridshare/contract/proof/receipt';
import * as document from '@gridshare/contract/proof/document';
import { RECEIPT_FORMAT, type Receipt } from '@gridshare/contract/proof/receipt';
import type { NoteVerifier } from '@gridshare/contract/proof/note';
import { run, type Bytes } from './crypto.js';
import { decodeEntry, type LedgerEntry } from './entries.js';
import { formatTlogProof } from '@gridshare/contract/proof/tlog-proof';

export { RECEIPT_FORMAT, parseReceipt, type Receipt, type VerifiedReceipt } from '@gridshare/contract/proof/receipt';

export function formatReceiptJson(receipt: Receipt): string {
  const entry = decodeEntry(receipt.entry);
  return `${JSON.stringify({ format: RECEIPT_FORMAT, entry, proof: formatTlogProof({ ...receipt.proof, extra: undefined }) }, null, 2)}\n`;
}

export function formatReceiptTlogProof(receipt: Receipt): string {
  return formatTlogProof({ ...receipt.proof, extra: receipt.entry });
}

/** Checks a receipt against the log's verifier key (see the contract's `verifyReceipt`). */
export const verifyReceipt = (receipt: Receipt, log: NoteVerifier, origin: string = log.name, communityDid?: string) => run(proof.verifyReceipt(receipt, log, origin, communityDid));

export type { DocumentMatch } from '@gridshare/contract/proof/document';

/** That `bytes` are the document the entry commits to (a statement, an operator's file), and how (see the contract's `verifyDocument`). */
export const verifyDocument = (entry: LedgerEntry, bytes: Bytes) => run(document.verifyDocument(entry, bytes));
