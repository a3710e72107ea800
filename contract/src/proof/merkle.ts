/**
 * The RFC 6962 / RFC 9162 Merkle tree as a verifier needs it: leaf and node hashes, the shape of
 * an inclusion proof and its verification. The server builds trees with its own synchronous hashes
 * (server/src/ledger/domain/merkle.ts, also consistency and subtree proofs) on these same shapes.
 */
import { sha256, type Bytes, type Computation } from './computation.js';
import { bytesEqual, concatBytes, fromHex, toHex } from './bytes.js';
import { ProofError, isTreeSize } from './errors.js';

export type Hash = Uint8Array;
export const HASH_SIZE = 32;

/** Root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Hash = fromHex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')!;

const LEAF_PREFIX = new Uint8Array([0]);
const NODE_PREFIX = new Uint8Array([1]);

/** SHA-256(0x00 ‖ entry). */
export function leafHash(entry: Bytes): Computation<Hash> {
  return sha256(concatBytes(LEAF_PREFIX, entry));
}

/** SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Bytes, right: Bytes): Computation<Hash> {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

/** A half-open range of leaf indices [start, end). */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

/** The largest power of two smaller than n (n ≥ 2): where RFC 6962 splits a tree of n leaves. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function checkSize(what: string, value: number): void {
  if (!isTreeSize(value)) throw new ProofError('out_of_range', `${what} ${value} is not a whole number from 0 to 2^53 − 1`);
}

/**
 * RFC 9162 §2.1.3.1 PATH(index, D[0:size]): the ranges whose hashes form the inclusion proof,
 * the leaf's sibling first.
 */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  checkSize('tree size', size);
  checkSize('leaf index', index);
  if (index >= size) throw new ProofError('out_of_range', `leaf index ${index} is not in a tree of ${size} entries`);
  const path: LeafRange[] = [];
  let start = 0;
  let end = size;
  while (end - start > 1) {
    const mid = start + splitPoint(end - start);
    if (index < mid) {
      path.push({ start: mid, end });
      end = mid;
    } else {
      path.push({ start, end: mid });
      start = mid;
    }
  }
  return path.reverse();
}

export function checkHash(what: string, hash: Bytes): void {
  if (hash.length !== HASH_SIZE) throw new ProofError('malformed', `${what} is ${hash.length} bytes, not ${HASH_SIZE}`);
}

export function checkProofLength(proof: readonly Bytes[], expected: number, what: string): void {
  if (proof.length !== expected) throw new ProofError('malformed', `${what} has ${proof.length} hashes where ${expected} are needed`);
  proof.forEach((p, i) => checkHash(`proof hash ${i}`, p));
}

export const half = (x: number) => Math.floor(x / 2);
export const odd = (x: number) => x % 2 === 1;

/**
 * The walk RFC 9162 §2.1.3.2 and §2.1.4.2 share: fn is the node's index at the current level, sn
 * the last index of the tree; each proof hash is a left sibling (hashed before the running value)
 * or a right one. Refuses a path longer or shorter than the tree is deep.
 */
export function walkPath(fn: number, sn: number, path: readonly Hash[], what: string): { hash: Hash; isLeft: boolean }[] {
  const steps: { hash: Hash; isLeft: boolean }[] = [];
  for (const p of path) {
    if (sn === 0) throw new ProofError('malformed', `the ${what} is too long`);
    if (odd(fn) || fn === sn) {
      steps.push({ hash: p, isLeft: true });
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      steps.push({ hash: p, isLeft: false });
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('malformed', `the ${what} is too short`);
  return steps;
}

/**
 * RFC 9162 §2.1.3.2: the root that an inclusion proof leads to from a leaf hash. Refuses proofs
 * of the wrong length or with hashes of the wrong size; the caller compares the root.
 */
export function* rootFromInclusionProof(index: number, size: number, leaf: Hash, proof: readonly Hash[]): Computation<Hash> {
  checkHash('leaf hash', leaf);
  checkProofLength(proof, inclusionProofRanges(index, size).length, `the inclusion proof for entry ${index} of ${size}`);
  let r = leaf;
  for (const { hash, isLeft } of walkPath(index, size - 1, proof, 'inclusion proof')) r = isLeft ? yield* nodeHash(hash, r) : yield* nodeHash(r, hash);
  return r;
}

export function* verifyInclusion(index: number, size: number, leaf: Hash, proof: readonly Hash[], root: Hash): Computation<void> {
  const computed = yield* rootFromInclusionProof(index, size, leaf, proof);
  if (!bytesEqual(computed, root)) {
    throw new ProofError('proof_mismatch', `the inclusion proof for entry ${index} leads to root ${toHex(computed)}, not to the signed root ${toHex(root)} of the tree of ${size}`);
  }
}
