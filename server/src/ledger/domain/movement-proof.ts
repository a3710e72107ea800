/** A wallet movement's proof (the format and its checks are the contract's `proof/movement-proof.ts`, shared with the browser), checked with Node's crypto. */
import * as proof from '@gridshare/contract/proof/movement-proof';
import type { NoteVerifier } from '@gridshare/contract/proof/note';
import { run } from './crypto.js';

export {
  MOVEMENT_PROOF_FORMAT, parseMovementProof, type MovementProofDocument, type VerifiedMovement,
} from '@gridshare/contract/proof/movement-proof';

export const verifyMovementProof = (document: proof.MovementProofDocument, log: NoteVerifier, origin: string = log.name, communityDid?: string) =>
  run(proof.verifyMovementProof(document, log, origin, communityDid));

export const verifyMovementProofWithKey = (...args: Parameters<typeof proof.verifyMovementProofWithKey>) => run(proof.verifyMovementProofWithKey(...args));
