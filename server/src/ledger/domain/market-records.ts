/**
 * The market's money in the verifiable record (issue 19), as the server records it: each record
 * (the formats are the contract's `proof/market-records.ts`) in RFC 8785 canonical JSON, a batch of
 * them logged as one entry holding the root of a Merkle tree over its records.
 */
import canonicalize from 'canonicalize';
import * as proof from '@gridshare/contract/proof/market-records';
import { MARKET_RECORD_VERSION, type MarketRecord } from '@gridshare/contract/proof/market-records';
import { utf8 } from './bytes.js';
import { run } from './crypto.js';
import { inclusionProofRanges, leafHash, rootFromLeafHashes, type Hash } from './merkle.js';
import { LedgerError } from './errors.js';

export { MARKET_RECORD_VERSION, type MarketRecord, type MovementRecord, type LineRecord, type PositionRecord } from '@gridshare/contract/proof/market-records';

/** A record as a leaf of its batch's tree: its RFC 8785 canonical JSON in UTF-8. */
export function encodeMarketRecord(record: MarketRecord): Uint8Array {
  if (record.v !== MARKET_RECORD_VERSION) throw new LedgerError('malformed', `market records are version ${MARKET_RECORD_VERSION}`);
  return utf8(canonicalize(record)!);
}

/** The root of a batch's tree over its records' bytes, in order (RFC 6962 leaf and node hashes). */
export function batchRoot(records: readonly Uint8Array[]): Hash {
  if (records.length === 0) throw new LedgerError('malformed', 'a batch of market records is not empty');
  return rootFromLeafHashes(records.map(leafHash));
}

/** The inclusion proof of record `index` in its batch's tree (each hash a subtree's root, the record's sibling first). */
export function batchInclusionProof(records: readonly Uint8Array[], index: number): Hash[] {
  const leaves = records.map(leafHash);
  return inclusionProofRanges(index, leaves.length).map((range) => rootFromLeafHashes(leaves.slice(range.start, range.end)));
}

/** Checks that `record` is record `index` of a batch of `size` whose entry holds `root`; throws a LedgerError otherwise. */
export const verifyBatchInclusion = (record: Uint8Array, index: number, size: number, hashes: readonly Hash[], root: Hash): void =>
  run(proof.verifyBatchInclusion(record, index, size, hashes, root));
