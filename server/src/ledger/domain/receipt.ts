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
import { RECEIPT_FORMAT, type Receipt } from '@gridshare/contract/proof/receipt';
import type { NoteVerifier } from '@gridshare/contract/proof/note';
import { run, type Bytes } from './crypto.js';
import { LedgerError } from './errors.js';
import { decodeEntry, documentCommitment, documentWithoutFields, type LedgerEntry } from './entries.js';
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

/**
 * How a file matched the document its entry commits to: byte for byte, or — a statement kept under
 * a pseudonym after an erasure — in every field except the named personal ones, which the
 * record then no longer covers.
 */
export type DocumentMatch =
  | { readonly match: 'exact' }
  | { readonly match: 'without-erased-fields'; readonly fields: readonly string[] };

/** That `bytes` are the document the entry commits to (a statement, an operator's file), and how. */
export function verifyDocument(entry: LedgerEntry, bytes: Bytes): DocumentMatch {
  if (!('document' in entry)) throw new LedgerError('entry_mismatch', `a ${entry.kind} entry commits to no document`);
  const given = documentCommitment(bytes, entry.document.mediaType);
  if (given.sha256 === entry.document.sha256 && given.size === entry.document.size) return { match: 'exact' };
  const erasable = 'erasable' in entry ? entry.erasable : undefined;
  if (erasable) {
    const rest = documentWithoutFields(bytes, erasable.fields);
    const kept = rest && documentCommitment(rest, erasable.document.mediaType);
    if (kept && kept.sha256 === erasable.document.sha256 && kept.size === erasable.document.size) {
      return { match: 'without-erased-fields', fields: erasable.fields };
    }
  }
  throw new LedgerError('entry_mismatch', `the file is not the document the entry commits to: its SHA-256 is ${given.sha256} (${given.size} bytes), the entry's is ${entry.document.sha256} (${entry.document.size} bytes)${erasable ? `, and without its fields ${erasable.fields.join(', ')} it differs from the entry's erasable form too` : ''}`);
}
