/**
 * The RFC 6962 / RFC 9162 Merkle tree: hashing, the shape of inclusion and consistency proofs
 * (which subtree hashes a proof holds, so a store can be asked for exactly those), and their
 * verification. Subtree proofs (C2SP tlog-witness, the Merkle Tree Certificates draft) extend
 * both to any aligned range of the log. Inclusion proofs are checked by the contract's
 * `proof/merkle.ts` (the browser's verifier runs the same code); building a tree hashes here,
 * synchronously and without an allocation per node.
 */
import * as shared from '@gridshare/contract/proof/merkle';
import { HASH_SIZE, EMPTY_ROOT, checkProofLength, checkSize, half, inclusionProofRanges, odd, splitPoint, walkPath, type Hash, type LeafRange } from '@gridshare/contract/proof/merkle';
import { run, sha256, type Bytes } from './crypto.js';
import { bytesEqual, concatBytes } from './bytes.js';
import { LedgerError, isTreeSize } from './errors.js';

export { HASH_SIZE, EMPTY_ROOT, inclusionProofRanges, splitPoint, type Hash, type LeafRange } from '@gridshare/contract/proof/merkle';

// Leaves and interior nodes are hashed millions of times when a log is built; scratch buffers
// avoid an allocation per hash (hashing is synchronous, so nothing else can use them in between).
let leafScratch = new Uint8Array(1024);

/** SHA-256(0x00 ‖ entry). */
export function leafHash(entry: Bytes): Hash {
  if (leafScratch.length < entry.length + 1) leafScratch = new Uint8Array(entry.length + 1);
  leafScratch[0] = 0;
  leafScratch.set(entry, 1);
  return sha256(leafScratch.subarray(0, entry.length + 1));
}

const nodeScratch = new Uint8Array(1 + 2 * HASH_SIZE);
nodeScratch[0] = 1;

/** SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Bytes, right: Bytes): Hash {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) return sha256(concatBytes(nodeScratch.subarray(0, 1), left, right));
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return sha256(nodeScratch);
}

/**
 * The root of a tree over the given leaf hashes, the straightforward way (a stack of complete
 * subtrees). The reference that the tile code and the proofs are checked against.
 */
export function rootFromLeafHashes(leaves: readonly Hash[]): Hash {
  const stack: { size: number; hash: Hash }[] = [];
  for (const leaf of leaves) {
    let top = { size: 1, hash: leaf };
    while (stack.length > 0 && stack[stack.length - 1]!.size === top.size) {
      const left = stack.pop()!;
      top = { size: left.size * 2, hash: nodeHash(left.hash, top.hash) };
    }
    stack.push(top);
  }
  return foldFromRight(stack.map((s) => s.hash)) ?? EMPTY_ROOT;
}

/** h0 ‖ (h1 ‖ (… ‖ hn)): how the complete subtrees of a range combine into its root. */
export function foldFromRight(hashes: readonly Hash[]): Hash | undefined {
  let acc: Hash | undefined;
  for (let i = hashes.length - 1; i >= 0; i--) acc = acc === undefined ? hashes[i]! : nodeHash(hashes[i]!, acc);
  return acc;
}

/**
 * The complete (perfect) subtrees that make up [start, end) of a tree whose RFC 6962 structure
 * has that range as a node: largest first, each as (height, index at that height).
 */
export function perfectSubtrees(range: LeafRange): { height: number; index: number }[] {
  const out: { height: number; index: number }[] = [];
  let start = range.start;
  while (start < range.end) {
    let size = 1;
    // Grow while the doubled subtree stays aligned and inside the range.
    while (start % (size * 2) === 0 && start + size * 2 <= range.end) size *= 2;
    out.push({ height: Math.log2(size), index: start / size });
    start += size;
  }
  return out;
}

/**
 * The ranges of a subtree consistency proof (the Merkle Tree Certificates draft's SUBTREE_PROOF):
 * that the subtree [start, end) is part of the tree of `size` leaves. With start = 0 this is
 * exactly the RFC 9162 §2.1.4.1 consistency proof PROOF(end, D[0:size]).
 */
export function subtreeConsistencyProofRanges(start: number, end: number, size: number): LeafRange[] {
  return subtreeConsistencySteps(start, end, size).ranges;
}

/** RFC 9162 §2.1.4.1 PROOF(oldSize, D[0:newSize]). */
export function consistencyProofRanges(oldSize: number, newSize: number): LeafRange[] {
  checkSize('old tree size', oldSize);
  checkSize('new tree size', newSize);
  if (oldSize === 0) throw new LedgerError('out_of_range', 'a consistency proof from the empty tree proves nothing');
  if (oldSize > newSize) throw new LedgerError('log_shrank', `the new tree (${newSize} entries) is smaller than the old one (${oldSize})`);
  return subtreeConsistencyProofRanges(0, oldSize, newSize);
}

/** Whether [start, end) is a subtree: non-empty, and start a multiple of end − start rounded up to a power of two. */
export function isValidSubtree(start: number, end: number): boolean {
  if (!isTreeSize(start) || !isTreeSize(end) || start >= end) return false;
  let width = 1;
  while (width < end - start) width *= 2;
  return start % width === 0;
}

type Step = 'left' | 'right' | 'straddle';

/**
 * Walks from the root towards the subtree, recording at each level which half the subtree lies in.
 * The proof holds, bottom-up, the sibling of each step (and the subtree itself when the walk
 * ended inside the part the old tree and the new tree do not share).
 */
function subtreeConsistencySteps(start: number, end: number, size: number): { steps: Step[]; includesSubtree: boolean; ranges: LeafRange[] } {
  checkSize('tree size', size);
  if (!isValidSubtree(start, end)) throw new LedgerError('out_of_range', `[${start}, ${end}) is not a subtree`);
  if (end > size) throw new LedgerError('out_of_range', `subtree [${start}, ${end}) ends after the tree of ${size} entries`);
  const steps: Step[] = [];
  const ranges: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  let from = start;
  let known = true;
  while (!(from === lo && end === hi)) {
    const mid = lo + splitPoint(hi - lo);
    if (end <= mid) {
      steps.push('left');
      ranges.push({ start: mid, end: hi });
      hi = mid;
    } else if (from >= mid) {
      steps.push('right');
      ranges.push({ start: lo, end: mid });
      lo = mid;
    } else {
      // Only a subtree starting at `lo` can straddle the split; its left half is shared with
      // the bigger tree, its right part continues as a new, not-yet-known subtree.
      steps.push('straddle');
      ranges.push({ start: lo, end: mid });
      lo = mid;
      from = mid;
      known = false;
    }
  }
  if (!known) ranges.push({ start: lo, end: hi });
  return { steps, includesSubtree: !known, ranges: ranges.reverse() };
}

/**
 * RFC 9162 §2.1.4.2: that the tree of size1 with root1 is a prefix of the tree of size2 with
 * root2. A proof from the empty tree is refused (it proves nothing); equal sizes need an empty
 * proof and equal roots.
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Hash[], root1: Hash, root2: Hash): void {
  checkSize('old tree size', size1);
  checkSize('new tree size', size2);
  if (size2 < size1) throw new LedgerError('log_shrank', `the log shrank from ${size1} to ${size2} entries`);
  if (size1 === 0) throw new LedgerError('out_of_range', 'a consistency proof from the empty tree proves nothing');
  if (size1 === size2) {
    if (proof.length !== 0) throw new LedgerError('malformed', 'trees of equal size need an empty consistency proof');
    if (!bytesEqual(root1, root2)) throw new LedgerError('log_forked', `two different roots for the same size ${size1}: the log forked`);
    return;
  }
  checkProofLength(proof, consistencyProofRanges(size1, size2).length, `the consistency proof from ${size1} to ${size2}`);
  const path = [...proof];
  // A power-of-two old tree is itself a node of the new one, and the proof omits it.
  if (Number.isInteger(Math.log2(size1))) path.unshift(root1);
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const { hash: c, isLeft } of walkPath(fn, sn, path.slice(1), 'consistency proof')) {
    if (isLeft) fr = nodeHash(c, fr);
    sr = isLeft ? nodeHash(c, sr) : nodeHash(sr, c);
  }
  if (!bytesEqual(fr, root1) || !bytesEqual(sr, root2)) {
    throw new LedgerError('log_forked', `the tree of ${size1} entries is not a prefix of the tree of ${size2}: the log was rewritten or forked`);
  }
}

/** RFC 9162 §2.1.3.2: the root an inclusion proof leads to from a leaf hash (the contract's check, with Node's crypto). */
export const rootFromInclusionProof = (index: number, size: number, leaf: Hash, path: readonly Hash[]): Hash => run(shared.rootFromInclusionProof(index, size, leaf, path));

/** That the inclusion proof leads from the leaf to the root; a LedgerError (`proof_mismatch`, `malformed`, …) otherwise. */
export const verifyInclusion = (index: number, size: number, leaf: Hash, path: readonly Hash[], root: Hash): void => run(shared.verifyInclusion(index, size, leaf, path, root));

/** That the leaf at `index` is in the subtree [start, end) whose hash is `subtreeHash`. */
export function verifySubtreeInclusion(start: number, end: number, index: number, leaf: Hash, proof: readonly Hash[], subtreeHash: Hash): void {
  if (!isValidSubtree(start, end)) throw new LedgerError('out_of_range', `[${start}, ${end}) is not a subtree`);
  if (!isTreeSize(index) || index < start || index >= end) throw new LedgerError('out_of_range', `leaf index ${index} is not in the subtree [${start}, ${end})`);
  verifyInclusion(index - start, end - start, leaf, proof, subtreeHash);
}

/**
 * That the subtree [start, end) with hash `subtreeHash` is part of the tree of `size` leaves with
 * root `root`. Follows the proof's construction level by level rather than bit tricks, so it is
 * the same walk that builds the proof. The empty subtree is part of every tree: it needs an
 * empty proof and the empty hash.
 */
export function verifySubtreeConsistency(start: number, end: number, size: number, proof: readonly Hash[], subtreeHash: Hash, root: Hash): void {
  if (start === end && isTreeSize(start)) {
    checkSize('tree size', size);
    if (end > size) throw new LedgerError('out_of_range', `the empty subtree at ${start} is past the tree of ${size}`);
    if (proof.length !== 0) throw new LedgerError('malformed', 'the empty subtree needs an empty proof');
    if (!bytesEqual(subtreeHash, EMPTY_ROOT)) throw new LedgerError('proof_mismatch', 'the empty subtree has the empty hash');
    return;
  }
  const { steps, includesSubtree, ranges } = subtreeConsistencySteps(start, end, size);
  checkProofLength(proof, ranges.length, `the consistency proof for [${start}, ${end}) in ${size}`);
  let next = 0;
  let fr = includesSubtree ? proof[next++]! : subtreeHash;
  let sr = fr;
  for (let i = steps.length - 1; i >= 0; i--) {
    const sibling = proof[next++]!;
    if (steps[i] === 'left') {
      sr = nodeHash(sr, sibling);
    } else {
      if (steps[i] === 'straddle') fr = nodeHash(sibling, fr);
      sr = nodeHash(sibling, sr);
    }
  }
  if (!bytesEqual(fr, subtreeHash) || !bytesEqual(sr, root)) {
    throw new LedgerError('log_forked', `subtree [${start}, ${end}) is not part of the tree of ${size} entries with that root`);
  }
}
