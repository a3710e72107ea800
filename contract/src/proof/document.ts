/**
 * That a file is the document a log entry commits to (a statement, an operator's file): byte for
 * byte, or — a statement kept under a pseudonym after an erasure — in every field except the
 * named personal ones, which the record then no longer covers. Shared by the server, the CLI and
 * the member's browser, like the receipt check it follows.
 */
import canonicalize from 'canonicalize';
import { decodeUtf8, toHex, utf8 } from './bytes.js';
import { sha256, type Bytes, type Computation } from './computation.js';
import type { DocumentCommitment, LedgerEntry } from './entries.js';
import { ProofError } from './errors.js';
import { parseReceipt, verifyReceipt, type VerifiedReceipt } from './receipt.js';
import { verifierFromKey } from './checkpoint.js';

export type DocumentMatch =
  | { readonly match: 'exact' }
  | { readonly match: 'without-erased-fields'; readonly fields: readonly string[] };

/** What an entry commits to for a document: SHA-256 of exactly these bytes, their type and length. */
export function* documentCommitment(bytes: Bytes, mediaType: string): Computation<DocumentCommitment> {
  return { mediaType, sha256: toHex(yield* sha256(bytes)), size: bytes.length };
}

/**
 * The RFC 8785 canonical JSON of a JSON object document without the named top-level fields,
 * whatever they hold: the form `erasable` commits to. Undefined when the bytes are no JSON object.
 */
export function documentWithoutFields(bytes: Bytes, fields: readonly string[]): Bytes | undefined {
  const text = decodeUtf8(bytes);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const kept = Object.fromEntries(Object.entries(parsed).filter(([key]) => !fields.includes(key)));
  return utf8(canonicalize(kept)!);
}

/** That `bytes` are the document the entry commits to, and how; a ProofError `entry_mismatch` if not. */
export function* verifyDocument(entry: LedgerEntry, bytes: Bytes): Computation<DocumentMatch> {
  if (!('document' in entry)) throw new ProofError('entry_mismatch', `a ${entry.kind} entry commits to no document`);
  const given = yield* documentCommitment(bytes, entry.document.mediaType);
  if (given.sha256 === entry.document.sha256 && given.size === entry.document.size) return { match: 'exact' };
  const erasable = 'erasable' in entry ? entry.erasable : undefined;
  if (erasable) {
    const rest = documentWithoutFields(bytes, erasable.fields);
    const kept = rest && (yield* documentCommitment(rest, erasable.document.mediaType));
    if (kept && kept.sha256 === erasable.document.sha256 && kept.size === erasable.document.size) {
      return { match: 'without-erased-fields', fields: erasable.fields };
    }
  }
  throw new ProofError('entry_mismatch', `the file is not the document the entry commits to: its SHA-256 is ${given.sha256} (${given.size} bytes), the entry's is ${entry.document.sha256} (${entry.document.size} bytes)${erasable ? `, and without its fields ${erasable.fields.join(', ')} it differs from the entry's erasable form too` : ''}`);
}

export interface VerifiedStatement {
  readonly receipt: VerifiedReceipt;
  readonly document: DocumentMatch;
  /** SHA-256 (hex) of the statement file as given. */
  readonly documentSha256: string;
}

/**
 * A statement file and its receipt checked against keys as published: the log's verifier key text
 * and origin (`GET /api/v1/ledger/key`) and the community's did:key when it has one. What
 * `gridshare verify --receipt … --statement …` and the member's browser run.
 */
export function* verifyStatementWithKey(
  receipt: Bytes, statement: Bytes, key: { readonly verifierKey: string; readonly origin: string }, communityDid?: string,
): Computation<VerifiedStatement> {
  const verified = yield* verifyReceipt(parseReceipt(receipt), yield* verifierFromKey(key.verifierKey), key.origin, communityDid);
  const document = yield* verifyDocument(verified.entry, statement);
  return { receipt: verified, document, documentSha256: toHex(yield* sha256(statement)) };
}
