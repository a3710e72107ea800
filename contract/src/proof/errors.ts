/**
 * Why a proof artefact was refused. Every refusal names one, so a member, an auditor or the
 * CLI can tell a damaged file from a wrong key from a log that rewrote its history.
 */
export type ProofFailure =
  /** Not the format it claims to be (note, checkpoint, proof, receipt, key, did, entry). */
  | 'malformed'
  /** None of the note's signatures is by the key the verifier trusts. */
  | 'wrong_key'
  /** A signature by a trusted key does not verify: the signed text was changed. */
  | 'bad_signature'
  /** The checkpoint is of another log than the one expected. */
  | 'origin_mismatch'
  /** The proof does not lead from the entry (or old tree) to the signed root. */
  | 'proof_mismatch'
  /** The entry does not commit to the document that was given. */
  | 'entry_mismatch'
  /** A newer checkpoint is smaller than an older one. */
  | 'log_shrank'
  /** Two checkpoints cannot both be prefixes of one append-only log. */
  | 'log_forked'
  /** An index, size or range outside what the tree or this verifier supports. */
  | 'out_of_range';

/**
 * A refused proof: the caller's input, never the checker's fault — the server answers it as a
 * bad request (`code`, as its domain errors carry one), the browser shows the reason.
 */
export class ProofError extends Error {
  readonly code = 'bad_request';
  constructor(readonly reason: ProofFailure, message: string) {
    super(message);
    this.name = 'ProofError';
  }
}

/** Sizes and indices are plain numbers: exact up to 2^53 − 1, far beyond any log here. */
export function isTreeSize(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}
