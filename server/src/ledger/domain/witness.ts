/**
 * The log's side of the C2SP tlog-witness protocol (c2sp.org/tlog-witness): the body of an
 * `add-checkpoint` request (old size, consistency proof, checkpoint) and the reading of a
 * witness's answer — its cosignature lines, kept only when they verify under the witness key
 * the operator configured (c2sp.org/tlog-cosignature), and a 409's size.
 */
import { toBase64 } from './bytes.js';
import { checkCosignatures, verifierFromKey } from './checkpoint.js';
import { LedgerError } from './errors.js';
import type { Hash } from './merkle.js';
import { parseVerifierKey, SIGNATURE_TYPE, type NoteVerifier } from './note.js';

/** The spec's limit on consistency proof lines. */
const MAX_PROOF_LINES = 63;

/** A witness as the operator configured it: its cosignature verifier key (type 0x04). */
export interface WitnessKey {
  readonly name: string;
  readonly verifier: NoteVerifier;
}

/** Reads a witness's verifier key; only cosignature/v1 keys (type 0x04) name a witness. */
export function witnessKey(text: string): WitnessKey {
  const parsed = parseVerifierKey(text);
  if (parsed.type !== SIGNATURE_TYPE.cosignatureV1) {
    throw new LedgerError('malformed', `a witness key is a cosignature/v1 key (type 0x04), this one is of type 0x${parsed.type.toString(16).padStart(2, '0')}`);
  }
  return { name: parsed.name, verifier: verifierFromKey(text) };
}

/** The request body of `POST <submission prefix>/add-checkpoint`. */
export function addCheckpointBody(oldSize: number, proof: readonly Hash[], checkpointNote: string): string {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) throw new LedgerError('out_of_range', `old size ${oldSize} is not a tree size`);
  if (proof.length > MAX_PROOF_LINES) throw new LedgerError('out_of_range', `a consistency proof has at most ${MAX_PROOF_LINES} hashes`);
  if (oldSize === 0 && proof.length > 0) throw new LedgerError('malformed', 'the proof from size 0 is empty');
  return `old ${oldSize}\n${proof.map((hash) => `${toBase64(hash)}\n`).join('')}\n${checkpointNote}`;
}

/** The size a witness answered a 409 with (`text/x.tlog.size`), or undefined when the body is not one. */
export function conflictSize(body: string): number | undefined {
  const match = /^(0|[1-9]\d{0,15})\n$/.exec(body);
  const size = match ? Number(match[1]) : Number.NaN;
  return Number.isSafeInteger(size) ? size : undefined;
}

/**
 * The cosignature lines of the witness's answer that verify, under its configured key, over this
 * checkpoint, and are not dated more than a minute after `nowSeconds`; the others are dropped
 * (the spec: ignore cosignatures from unknown keys). Empty when none verifies.
 */
export function acceptedCosignatures(checkpointNote: string, answer: string, witness: WitnessKey, nowSeconds: number): { lines: string[]; time: number | undefined } {
  const lines = answer.split('\n').filter((line) => line.startsWith('\u2014 ')).map((line) => `${line}\n`);
  const accepted: string[] = [];
  let time: number | undefined;
  for (const line of lines) {
    let check;
    try {
      [check] = checkCosignatures(checkpointNote + line, [witness.verifier], nowSeconds);
    } catch {
      continue;
    }
    if (check?.status !== 'verified') continue;
    accepted.push(line);
    time = Math.max(time ?? 0, check.time!);
  }
  return { lines: accepted, time };
}
