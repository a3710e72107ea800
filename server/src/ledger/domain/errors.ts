/**
 * Why a ledger artefact was refused: the contract's `ProofError` (shared with the browser's
 * verifier), whose `code` the HTTP layer answers as a bad request.
 */
export { ProofError as LedgerError, isTreeSize, type ProofFailure as LedgerFailure } from '@gridshare/contract/proof/errors';
