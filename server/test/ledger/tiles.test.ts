import { describe, expect, it } from 'vitest';
import {
  EMPTY_FRONTIER, LedgerError, MissingTileError, TileMap, appendLeaves, changedTiles, consistencyProofFromTiles,
  consistencyProofRanges, decodeEntryBundle, encodeEntryBundle, entryBundlePath, frontierFromTiles, frontierTiles,
  inclusionProofFromTiles, inclusionProofRanges, leafHash, nodeHash, parseTilePath, rootFromLeafHashes, rootOfFrontier,
  subtreeConsistencyProofFromTiles, tilePath, tilesForConsistencyProof, tilesForInclusionProof, tilesForTreeHash,
  treeHashFromTiles, verifyConsistency, verifyInclusion, verifySubtreeConsistency, type Hash, type TileRef, type TileSource,
} from '../../src/ledger/domain/index.js';

const leaves = (count: number, seed = 0): Hash[] => Array.from({ length: count }, (_, i) => leafHash(new TextEncoder().encode(`entry ${seed}-${i}`)));

/** A deterministic pseudo-random sequence (tests must not depend on Math.random). */
function* numbers(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2147483648;
    yield x;
  }
}

/** A source that only has the tiles of a plan: proves the plan names everything the proof reads. */
function only(plan: readonly TileRef[], from: TileSource): TileSource {
  const allowed = new Set(plan.map((r) => `${r.level}/${r.index}/${r.width}`));
  return { readTile: (ref) => (allowed.has(`${ref.level}/${ref.index}/${ref.width}`) ? from.readTile(ref) : undefined) };
}

describe('tlog-tiles paths', () => {
  it('writes indices in 3-digit groups, partial tiles with their width', () => {
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(tilePath({ level: 2, index: 0, width: 1 })).toBe('tile/2/000.p/1');
    expect(tilePath({ level: 1, index: 1000, width: 17 })).toBe('tile/1/x001/000.p/17');
    expect(entryBundlePath(273, 112)).toBe('tile/entries/273.p/112');
    expect(parseTilePath('tile/0/x001/x234/067')).toEqual({ kind: 'hashes', level: 0, index: 1234067, width: 256 });
    expect(parseTilePath('tile/entries/x001/000.p/5')).toEqual({ kind: 'entries', index: 1000, width: 5 });
    expect(parseTilePath('tile/63/000')).toEqual({ kind: 'hashes', level: 63, index: 0, width: 256 });
  });

  it('refuses every other spelling', () => {
    for (const bad of [
      'tile/0/67', 'tile/0/0067', 'tile/0/x000/067', 'tile/0/x1/067', 'tile/00/000', 'tile/64/000', 'tile/0/000.p/0',
      'tile/0/000.p/256', 'tile/0/000.p/012', 'tile/0/000/', '/tile/0/000', 'tile/-1/000', 'tile/entries/000.p/',
      'tile/0/x001/x002/x003/x004/x005/x006/007', 'checkpoint', 'tile/0/000.p/1/../../etc/passwd',
    ]) expect(parseTilePath(bad), bad).toBeUndefined();
  });
});

describe('tile arithmetic', () => {
  it('a tree of 70,000 entries has the tiles C2SP lists for it', () => {
    const tiles = changedTiles(0, 70_000);
    const at = (level: number) => tiles.filter((t) => t.level === level);
    expect(at(0).filter((t) => t.width === 256)).toHaveLength(273);
    expect(at(0).filter((t) => t.width < 256).map((t) => t.width)).toEqual([112]);
    expect(at(1).map((t) => t.width)).toEqual([256, 17]);
    expect(at(2).map((t) => t.width)).toEqual([1]);
    expect(tiles).toHaveLength(273 + 1 + 2 + 1);
    expect(changedTiles(0, 256)).toEqual([{ level: 0, index: 0, width: 256 }, { level: 1, index: 0, width: 1 }]);
    expect(frontierTiles(70_000)).toEqual([{ level: 0, index: 273, width: 112 }, { level: 1, index: 1, width: 17 }, { level: 2, index: 0, width: 1 }]);
    // Growing from 70,000 to 70,001 rewrites only the level-0 partial tile.
    expect(changedTiles(70_000, 70_001)).toEqual([{ level: 0, index: 273, width: 113 }]);
  });
});

describe('a tiled log', () => {
  const SIZE = 70_000; // three tile levels
  const hashes = leaves(SIZE);
  const tiles = new TileMap();
  // Appended in uneven batches, as a store would (a batch may fill and spill several tiles).
  let frontier = EMPTY_FRONTIER;
  const random = numbers(7);
  for (let at = 0; at < SIZE;) {
    const batch = Math.min(SIZE - at, 1 + (random.next().value % 3000));
    const appended = appendLeaves(frontier, hashes.slice(at, at + batch));
    for (const tile of appended.tiles) tiles.put(tile);
    frontier = appended.frontier;
    at += batch;
  }

  // Reference roots at sampled sizes, straight from the leaf hashes in one pass (the stack of
  // complete subtrees that rootFromLeafHashes uses, checked against the RFC vectors).
  const sizes = [1, 2, 3, 255, 256, 257, 511, 512, 513, 65_535, 65_536, 65_537, 69_999, SIZE, ...Array.from({ length: 20 }, () => 1 + (random.next().value % SIZE))].sort((a, b) => a - b);
  const referenceRoots = new Map<number, Hash>();
  {
    const stack: { size: number; hash: Hash }[] = [];
    let next = 0;
    hashes.forEach((leaf, i) => {
      let top = { size: 1, hash: leaf };
      while (stack.length > 0 && stack[stack.length - 1]!.size === top.size) {
        const left = stack.pop()!;
        top = { size: left.size * 2, hash: nodeHash(left.hash, top.hash) };
      }
      stack.push(top);
      for (; sizes[next] === i + 1; next++) referenceRoots.set(i + 1, stack.map((s) => s.hash).reduceRight((acc, h) => nodeHash(h, acc)));
    });
  }

  it('stores exactly the tiles of the tree, whichever way it was batched', () => {
    expect(tiles.size).toBe(changedTiles(0, SIZE).length);
    const oneBatch = appendLeaves(EMPTY_FRONTIER, hashes);
    expect(oneBatch.frontier.size).toBe(SIZE);
    for (const tile of oneBatch.tiles) expect(Buffer.from(tiles.readTile(tile)!.subarray(0, tile.width * 32)).equals(Buffer.from(tile.hashes))).toBe(true);
    expect(frontierFromTiles(SIZE, tiles)).toEqual(frontier);
  });

  it('gives the RFC 6962 root at every size, from its frontier and from any wider tiles', () => {
    for (const size of sizes) {
      const reference = referenceRoots.get(size)!;
      expect(Buffer.from(treeHashFromTiles(size, only(tilesForTreeHash(size), tiles))).equals(Buffer.from(reference)), `size ${size}`).toBe(true);
    }
    expect(Buffer.from(rootOfFrontier(frontier)).equals(Buffer.from(referenceRoots.get(SIZE)!))).toBe(true);
    expect(Buffer.from(rootFromLeafHashes(hashes.slice(0, 777))).equals(Buffer.from(treeHashFromTiles(777, tiles)))).toBe(true);
  });

  it('proves inclusion of any entry in any later tree from at most two tiles per level', () => {
    for (const size of sizes) {
      for (const index of [0, size - 1, Math.floor(size / 2), random.next().value % size]) {
        const plan = tilesForInclusionProof(index, size);
        expect(plan.length).toBeLessThanOrEqual(2 * 3);
        const proof = inclusionProofFromTiles(index, size, only(plan, tiles));
        expect(proof).toHaveLength(inclusionProofRanges(index, size).length);
        verifyInclusion(index, size, hashes[index]!, proof, referenceRoots.get(size)!);
        expect(() => verifyInclusion(index, size, hashes[(index + 1) % SIZE]!, proof, referenceRoots.get(size)!)).toThrow(LedgerError);
      }
    }
  });

  it('proves that every sampled tree is a prefix of every later one', () => {
    for (const [i, oldSize] of sizes.entries()) {
      for (const newSize of sizes.slice(i + 1)) {
        if (newSize === oldSize) continue;
        const plan = tilesForConsistencyProof(oldSize, newSize);
        expect(plan.length).toBeLessThanOrEqual(2 * 3 + 1);
        const proof = consistencyProofFromTiles(oldSize, newSize, only(plan, tiles));
        expect(proof).toHaveLength(consistencyProofRanges(oldSize, newSize).length);
        verifyConsistency(oldSize, newSize, proof, referenceRoots.get(oldSize)!, referenceRoots.get(newSize)!);
        verifySubtreeConsistency(0, oldSize, newSize, subtreeConsistencyProofFromTiles(0, oldSize, newSize, tiles), referenceRoots.get(oldSize)!, referenceRoots.get(newSize)!);
      }
    }
  });

  it('proves an aligned subtree inside a bigger tree', () => {
    const subtreeRoot = rootFromLeafHashes(hashes.slice(65_536 - 256, 65_536));
    verifySubtreeConsistency(65_536 - 256, 65_536, SIZE, subtreeConsistencyProofFromTiles(65_536 - 256, 65_536, SIZE, tiles), subtreeRoot, referenceRoots.get(SIZE)!);
    const odd = rootFromLeafHashes(hashes.slice(69_632, 69_999));
    verifySubtreeConsistency(69_632, 69_999, SIZE, subtreeConsistencyProofFromTiles(69_632, 69_999, SIZE, tiles), odd, referenceRoots.get(SIZE)!);
  });

  it('says which tile is missing instead of computing something else', () => {
    const partialOnly: TileSource = { readTile: (ref) => (ref.level === 0 ? undefined : tiles.readTile(ref)) };
    expect(() => inclusionProofFromTiles(5, SIZE, partialOnly)).toThrow(MissingTileError);
    expect(() => inclusionProofFromTiles(5, SIZE, partialOnly)).toThrow(/tile\/0\/000 is not available/);
    const short: TileSource = { readTile: (ref) => tiles.readTile(ref)?.subarray(0, 32) };
    expect(() => treeHashFromTiles(SIZE, short)).toThrow(MissingTileError);
    expect(() => inclusionProofFromTiles(SIZE, SIZE, tiles)).toThrow(/not in a tree of 70000/);
    expect(() => tilesForTreeHash(Number.MAX_SAFE_INTEGER + 2)).toThrow(LedgerError);
  });

  it('refuses leaf hashes of the wrong size', () => {
    expect(() => appendLeaves(EMPTY_FRONTIER, [new Uint8Array(31)])).toThrow(/a leaf hash is 32 bytes/);
  });
});

describe('entry bundles', () => {
  it('round-trip length-prefixed entries, empty ones included', () => {
    const entries = [new Uint8Array(0), new TextEncoder().encode('{"a":1}'), new Uint8Array(65_535).fill(7)];
    const bundle = encodeEntryBundle(entries);
    expect(bundle.length).toBe(2 + 2 + 7 + 2 + 65_535);
    expect(decodeEntryBundle(bundle).map((e) => e.length)).toEqual([0, 7, 65_535]);
  });

  it('refuses oversized entries and truncated bundles', () => {
    expect(() => encodeEntryBundle([new Uint8Array(65_536)])).toThrow(/does not fit an entry bundle/);
    const bundle = encodeEntryBundle([new TextEncoder().encode('hello')]);
    expect(() => decodeEntryBundle(bundle.subarray(0, 1))).toThrow(/inside a length prefix/);
    expect(() => decodeEntryBundle(bundle.subarray(0, 5))).toThrow(/inside entry 0/);
    expect(() => decodeEntryBundle(encodeEntryBundle(Array.from({ length: 257 }, () => new Uint8Array(1))))).toThrow(/at most 256 entries/);
  });
});
