/**
 * C2SP tlog-proof: an offline-verifiable proof that an entry is in a log — the entry's index,
 * its inclusion proof and the signed checkpoint the proof leads to, plus optional unauthenticated
 * extra data (Gridshare puts the entry itself there, so one file is a whole receipt).
 */
import { decodeUtf8, fromBase64, toBase64 } from './bytes.js';
import type { Bytes } from './computation.js';
import { ProofError, isTreeSize } from './errors.js';
import { UINT64_MAX } from './checkpoint.js';
import { HASH_SIZE, type Hash } from './merkle.js';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  readonly index: number;
  /** The inclusion proof, the leaf's sibling first. */
  readonly hashes: readonly Hash[];
  /** The signed checkpoint note, verbatim. */
  readonly checkpoint: string;
  readonly extra?: Bytes | undefined;
}

export function formatTlogProof(proof: TlogProof): string {
  if (!isTreeSize(proof.index)) throw new ProofError('out_of_range', `entry index ${proof.index} is not a tree index`);
  if (proof.hashes.some((h) => h.length !== HASH_SIZE)) throw new ProofError('malformed', `inclusion proof hashes are ${HASH_SIZE} bytes`);
  const extra = proof.extra === undefined ? '' : `extra ${toBase64(proof.extra)}\n`;
  return `${TLOG_PROOF_HEADER}\n${extra}index ${proof.index}\n${proof.hashes.map((h) => `${toBase64(h)}\n`).join('')}\n${proof.checkpoint}`;
}


/** Parses the proof text; the checkpoint is kept verbatim and checked when the proof is verified. */
export function parseTlogProof(input: string | Bytes): TlogProof {
  const refuse = (why: string): never => {
    throw new ProofError('malformed', `malformed tlog-proof: ${why}`);
  };
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  if (text === undefined) return refuse('not valid UTF-8');
  const lines = text.split('\n');
  let at = 0;
  if (lines[at++] !== TLOG_PROOF_HEADER) refuse(`missing expected header ${TLOG_PROOF_HEADER}`);
  let extra: Bytes | undefined;
  if (lines[at]?.startsWith('extra ')) {
    extra = fromBase64(lines[at++]!.slice('extra '.length));
    if (extra === undefined) refuse('extra data not base64 encoded');
  }
  const indexLine = lines[at++] ?? '';
  if (!indexLine.startsWith('index ')) refuse('missing required index line');
  const indexText = indexLine.slice('index '.length);
  if (!/^(0|[1-9]\d*)$/.test(indexText) || BigInt(indexText) > UINT64_MAX) refuse(`index "${indexText.slice(0, 40)}" is not a valid uint64`);
  const index = Number(indexText);
  if (!isTreeSize(index)) throw new ProofError('out_of_range', `index ${indexText} is beyond what this verifier handles (2^53 − 1)`);
  const hashes: Hash[] = [];
  for (; at < lines.length && lines[at] !== ''; at++) {
    const hash = fromBase64(lines[at]!);
    if (hash === undefined) refuse(`inclusion proof hash not base64 encoded (proof line ${hashes.length + 1})`);
    if (hash!.length !== HASH_SIZE) refuse(`inclusion proof hash length ${hash!.length} is not ${HASH_SIZE} (proof line ${hashes.length + 1})`);
    hashes.push(hash!);
  }
  if (at >= lines.length - 1) refuse('no checkpoint after the inclusion proof and a blank line');
  const checkpoint = lines.slice(at + 1).join('\n');
  if (checkpoint === '') refuse('the checkpoint after the blank line is empty');
  return { index, hashes, checkpoint, extra };
}
