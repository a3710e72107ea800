import {
  EMPTY_FRONTIER, TILE_WIDTH, TileMap, appendLeaves, consistencyProofFromTiles, encodeEntryBundle,
  inclusionProofFromTiles, leafHash, parseTilePath, signCheckpoint, treeHashFromTiles,
  type Frontier, type Hash, type Receipt, type SignerKey,
} from '../../../src/ledger/domain/index.js';

/**
 * A whole log in memory, built only with the domain's functions: what the PostgreSQL store of
 * phase 2 will hold (entries, tiles, checkpoints), for tests and the test HTTP server.
 */
export class MemoryLog {
  readonly entries: Uint8Array[] = [];
  readonly tiles = new TileMap();
  private frontier: Frontier = EMPTY_FRONTIER;
  readonly checkpoints = new Map<number, string>();

  constructor(readonly signer: SignerKey, readonly origin: string = signer.name) {}

  append(entries: readonly Uint8Array[]): void {
    const { frontier, tiles } = appendLeaves(this.frontier, entries.map(leafHash));
    for (const tile of tiles) this.tiles.put(tile);
    this.entries.push(...entries);
    this.frontier = frontier;
  }

  get size(): number {
    return this.frontier.size;
  }

  root(size = this.size): Hash {
    return treeHashFromTiles(size, this.tiles);
  }

  /** The signed checkpoint at `size` (kept: a log serves the tiles of every checkpoint it signed). */
  checkpoint(size = this.size): string {
    const note = signCheckpoint({ origin: this.origin, size, rootHash: this.root(size) }, this.signer);
    this.checkpoints.set(size, note);
    return note;
  }

  receipt(index: number, size = this.size): Receipt {
    return {
      entry: this.entries[index]!,
      proof: { index, hashes: inclusionProofFromTiles(index, size, this.tiles), checkpoint: this.checkpoints.get(size) ?? this.checkpoint(size) },
    };
  }

  consistencyProof(oldSize: number, newSize = this.size): Hash[] {
    return consistencyProofFromTiles(oldSize, newSize, this.tiles);
  }

  /** What the tlog-tiles read API answers for a path under the log's prefix (undefined: 404). */
  serve(path: string): { body: Uint8Array | string; type: string } | undefined {
    if (path === 'checkpoint') {
      const latest = Math.max(...this.checkpoints.keys());
      return Number.isFinite(latest) ? { body: this.checkpoints.get(latest)!, type: 'text/plain; charset=utf-8' } : undefined;
    }
    const address = parseTilePath(path);
    if (address === undefined) return undefined;
    if (address.kind === 'entries') {
      const start = address.index * TILE_WIDTH;
      if (start + address.width > this.size) return undefined;
      return { body: encodeEntryBundle(this.entries.slice(start, start + address.width)), type: 'application/octet-stream' };
    }
    const stored = this.tiles.readTile(address);
    if (stored === undefined || stored.length < address.width * 32) return undefined;
    return { body: stored.subarray(0, address.width * 32), type: 'application/octet-stream' };
  }
}
