/** The ledger's pure core: what services, routes, jobs and the CLI build on. See ../README.md. */
export { LedgerError, type LedgerFailure } from './errors.js';
export { bytesEqual, fromBase64, fromHex, toBase64, toHex } from './bytes.js';
export {
  EMPTY_ROOT, HASH_SIZE, leafHash, nodeHash, rootFromLeafHashes, inclusionProofRanges, consistencyProofRanges,
  subtreeConsistencyProofRanges, rootFromInclusionProof, verifyInclusion, verifyConsistency, verifySubtreeInclusion,
  verifySubtreeConsistency, isValidSubtree, type Hash, type LeafRange,
} from './merkle.js';
export {
  TILE_HEIGHT, TILE_WIDTH, FULL_TILE_BYTES, MAX_ENTRY_BYTES, EMPTY_FRONTIER, TileMap, MissingTileError, tileWidth, changedTiles,
  frontierTiles, frontierFromTiles, tilePath, entryBundlePath, parseTilePath, tilesForTreeHash, treeHashFromTiles,
  tilesForInclusionProof, inclusionProofFromTiles, tilesForConsistencyProof, consistencyProofFromTiles,
  tilesForSubtreeConsistencyProof, subtreeConsistencyProofFromTiles, rangeHashFromTiles, appendLeaves, rootOfFrontier,
  encodeEntryBundle, decodeEntryBundle, type Tile, type TileRef, type TileSource, type TileAddress, type Frontier,
} from './tiles.js';
export {
  SIGNATURE_TYPE, keyId, formatKeyId, formatVerifierKey, parseVerifierKey, signerKeyFromSeed, formatSignerKey, parseSignerKey,
  verifierKeyOf, ed25519Verifier, parseNote, signNote, addSignatureLines, checkNote, openNote,
  type NoteVerifier, type SignerKey, type ParsedNote, type CheckedSignature, type SignatureStatus,
} from './note.js';
export {
  formatCheckpoint, parseCheckpoint, signCheckpoint, openCheckpoint, cosign, cosignatureVerifier, cosignatureTime,
  verifierFromKey, checkCosignatures, type Checkpoint, type OpenedCheckpoint, type CosignerKey, type CosignatureCheck,
} from './checkpoint.js';
export { TLOG_PROOF_HEADER, formatTlogProof, parseTlogProof, type TlogProof } from '@gridshare/contract/proof/tlog-proof';
export { didKeyFromPublicKey, didKeyFromSeed, publicKeyFromDidKey } from './did-key.js';
export {
  ENTRY_VERSION, ENTRY_KINDS, validateEntry, encodeEntry, decodeEntry, documentCommitment, documentWithoutFields, erasableFields, commitment,
  statementIssued, statementCorrected, settlementClosed, operatorImportAccepted, commandIssued, marketTrade,
  flexMessage, consentChanged, changeRecorded, marketMovements, marketSettlement, signEntry, checkEntrySignatures, checkCommunitySignature,
  type EntryKind, type LedgerEntry, type EventBase, type Period, type DocumentCommitment, type ErasableFields, type CommunitySignature, type MarketTradeEntry, type ConsentChangedEntry, type ChangeRecordedEntry,
  type MarketMovementsEntry, type MarketSettlementEntry,
} from './entries.js';
export {
  MARKET_RECORD_VERSION, encodeMarketRecord, batchRoot, batchInclusionProof, verifyBatchInclusion,
  type MarketRecord, type MovementRecord, type LineRecord, type PositionRecord,
} from './market-records.js';
export { MOVEMENT_PROOF_FORMAT, parseMovementProof, verifyMovementProof, verifyMovementProofWithKey, type MovementProofDocument, type VerifiedMovement } from './movement-proof.js';
export {
  RECEIPT_FORMAT, formatReceiptJson, formatReceiptTlogProof, parseReceipt, verifyReceipt, verifyDocument,
  type Receipt, type VerifiedReceipt, type DocumentMatch,
} from './receipt.js';
export { LogAuditor, type AuditReport, type AuditMismatch } from './audit.js';
export { witnessKey, addCheckpointBody, conflictSize, acceptedCosignatures, type WitnessKey } from './witness.js';
