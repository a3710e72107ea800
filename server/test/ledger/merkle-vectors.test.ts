import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT, leafHash, nodeHash, rootFromLeafHashes, verifyConsistency, verifyInclusion,
  verifySubtreeConsistency, verifySubtreeInclusion,
} from '../../src/ledger/domain/merkle.js';
import { LedgerError } from '../../src/ledger/domain/errors.js';
import { hex, merkleVector, merkleVectorsPresent } from './support/vectors.js';

interface Roots {
  leaves: { index: number; dataHex: string }[];
  rootsBySize: { treeSize: number; rootHash: string }[];
  nodeHashesByLevel: { level: number; hashes: string[] }[];
  hasherKnownAnswers: { desc: string; input: { emptyTree?: boolean; leafDataHex?: string; leftHex?: string; rightHex?: string }; expected: string }[];
}
interface InclusionCase { desc: string; source: string; treeSize: number; leafIndex: number; leafHash: string; proof: string[]; rootHash: string; wantErr: boolean }
interface ConsistencyCase { desc: string; source: string; size1: number; size2: number; root1: string; root2: string; proof: string[]; wantErr: boolean }
interface SubtreeInclusionCase { desc: string; source: string; start: number; end: number; leafIndex: number; leafHash: string; proof: string[]; rootHash: string; wantErr: boolean }
interface SubtreeConsistencyCase { desc: string; source: string; start: number; end: number; size: number; root1: string; root2: string; proof: string[]; wantErr: boolean }

/** Runs a verification and reports whether it refused, insisting that refusals are LedgerErrors. */
function refused(verify: () => void): boolean {
  try {
    verify();
    return false;
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerError);
    return true;
  }
}

describe.skipIf(!merkleVectorsPresent)('RFC 6962 / 9162 known answers (transparency-dev/merkle)', () => {
  const roots = merkleVectorsPresent ? merkleVector<Roots>('roots.json') : undefined;

  it('hashes leaves, nodes and the empty tree as RFC 6962 says', () => {
    for (const kat of roots!.hasherKnownAnswers) {
      const { input } = kat;
      const got = input.emptyTree ? EMPTY_ROOT : input.leafDataHex !== undefined ? leafHash(hex(input.leafDataHex)) : nodeHash(hex(input.leftHex!), hex(input.rightHex!));
      expect(Buffer.from(got).toString('hex'), kat.desc).toBe(kat.expected);
    }
  });

  it('computes the root of every prefix of the 8-leaf reference tree, and every complete subtree', () => {
    const leaves = roots!.leaves.map((l) => leafHash(hex(l.dataHex)));
    for (const { treeSize, rootHash } of roots!.rootsBySize) {
      expect(Buffer.from(rootFromLeafHashes(leaves.slice(0, treeSize))).toString('hex'), `size ${treeSize}`).toBe(rootHash);
    }
    for (const { level, hashes } of roots!.nodeHashesByLevel) {
      hashes.forEach((h, i) => {
        const width = 2 ** level;
        expect(Buffer.from(rootFromLeafHashes(leaves.slice(i * width, (i + 1) * width))).toString('hex'), `level ${level} node ${i}`).toBe(h);
      });
    }
  });

  it('accepts every valid inclusion proof and refuses every mutated one', () => {
    const cases = merkleVector<InclusionCase[]>('inclusion.json');
    expect(cases).toHaveLength(98);
    for (const c of cases) {
      const outcome = refused(() => verifyInclusion(c.leafIndex, c.treeSize, hex(c.leafHash), c.proof.map(hex), hex(c.rootHash)));
      expect(outcome, `${c.source}: ${c.desc}`).toBe(c.wantErr);
    }
  });

  it('accepts every valid consistency proof and refuses every mutated one', () => {
    const cases = merkleVector<ConsistencyCase[]>('consistency.json');
    expect(cases).toHaveLength(98);
    for (const c of cases) {
      const outcome = refused(() => verifyConsistency(c.size1, c.size2, c.proof.map(hex), hex(c.root1), hex(c.root2)));
      expect(outcome, `${c.source}: ${c.desc}`).toBe(c.wantErr);
    }
  });

  it('subtree inclusion proofs (C2SP tlog-witness)', () => {
    const cases = merkleVector<SubtreeInclusionCase[]>('subtree_inclusion.json');
    expect(cases.length).toBeGreaterThan(200);
    for (const c of cases) {
      const outcome = refused(() => verifySubtreeInclusion(c.start, c.end, c.leafIndex, hex(c.leafHash), c.proof.map(hex), hex(c.rootHash)));
      expect(outcome, `${c.source}: ${c.desc}`).toBe(c.wantErr);
    }
  });

  it('subtree consistency proofs (C2SP tlog-witness)', () => {
    const cases = merkleVector<SubtreeConsistencyCase[]>('subtree_consistency.json');
    expect(cases.length).toBeGreaterThan(100);
    for (const c of cases) {
      const outcome = refused(() => verifySubtreeConsistency(c.start, c.end, c.size, c.proof.map(hex), hex(c.root1), hex(c.root2)));
      expect(outcome, `${c.source}: ${c.desc}`).toBe(c.wantErr);
    }
  });
});
