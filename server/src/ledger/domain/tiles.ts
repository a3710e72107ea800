/**
 * The log stored and served as C2SP tlog-tiles: the Merkle tree cut into tiles of height 8.
 * A tile at level L holds up to 256 consecutive hashes of complete subtrees of 256^L leaves
 * (level 0: the leaf hashes themselves); the levels in between are recomputed from a tile.
 *
 * Why tiles rather than a table of every node: a log of 10 million entries is ~39,000 level-0
 * tiles and ~150 above them instead of 20 million node rows; any proof or tree head needs at
 * most two tiles per level (three levels at 10 M) fetched in one query or in parallel over HTTP;
 * full tiles never change, so the same bytes are what the tlog-tiles read API serves and what
 * witnesses and mirrors cache. A partial tile is a prefix of the full tile it becomes, so one
 * stored row per tile serves every `.p/<W>` width a checkpoint needs.
 *
 * Proofs are computed in two pure steps around the caller's I/O: `tilesFor…` says which tiles
 * (with their width at the tree size) a proof needs; the caller reads them (SQL, HTTP, memory)
 * into a TileSource; `…FromTiles` computes the proof from them.
 */
import type { Bytes } from './crypto.js';
import { LedgerError, isTreeSize } from './errors.js';
import { HASH_SIZE, EMPTY_ROOT, foldFromRight, nodeHash, perfectSubtrees, inclusionProofRanges, consistencyProofRanges, subtreeConsistencyProofRanges, type Hash, type LeafRange } from './merkle.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 2 ** TILE_HEIGHT;
export const FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE;
/** Tile levels the path format allows (0–63). */
const MAX_LEVEL = 63;

/** One tile as of some tree size: `width` hashes (1–256; 256 is a full tile). */
export interface TileRef {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

export interface Tile extends TileRef {
  /** width × 32 bytes. */
  readonly hashes: Bytes;
}

/** Where tile contents come from: prefetched database rows, files fetched over HTTP, memory. */
export interface TileSource {
  /**
   * At least the first `ref.width` hashes of the tile, or undefined when it is not there. Bytes of
   * a later, wider version of the same tile are fine: only the first width × 32 are read.
   */
  readTile(ref: TileRef): Bytes | undefined;
}

export class MissingTileError extends Error {
  constructor(readonly ref: TileRef) {
    super(`tile ${tilePath(ref)} is not available`);
  }
}

const levelSpan = (level: number): number => TILE_WIDTH ** level;

/** How many hashes tile (level, index) holds in a tree of `size` leaves (0 when it does not exist yet). */
export function tileWidth(level: number, index: number, size: number): number {
  const hashesAtLevel = Math.floor(size / levelSpan(level));
  return Math.max(0, Math.min(TILE_WIDTH, hashesAtLevel - index * TILE_WIDTH));
}

/** Tiles whose content differs between the tree of `oldSize` and of `newSize` (new or grown), bottom level first. */
export function changedTiles(oldSize: number, newSize: number): TileRef[] {
  const out: TileRef[] = [];
  for (let level = 0; level <= MAX_LEVEL && levelSpan(level) <= newSize; level++) {
    const oldHashes = Math.floor(oldSize / levelSpan(level));
    const newHashes = Math.floor(newSize / levelSpan(level));
    for (let index = Math.floor(oldHashes / TILE_WIDTH); index * TILE_WIDTH < newHashes; index++) {
      const width = tileWidth(level, index, newSize);
      if (width > tileWidth(level, index, oldSize)) out.push({ level, index, width });
    }
  }
  return out;
}

/** The rightmost tile of each level, i.e. what appending to a tree of `size` leaves builds on. */
export function frontierTiles(size: number): TileRef[] {
  const out: TileRef[] = [];
  for (let level = 0; level <= MAX_LEVEL && levelSpan(level) <= size; level++) {
    const hashesAtLevel = Math.floor(size / levelSpan(level));
    const index = Math.floor(hashesAtLevel / TILE_WIDTH);
    const width = hashesAtLevel % TILE_WIDTH;
    if (width > 0) out.push({ level, index, width });
  }
  return out;
}

// ---- paths of the tlog-tiles read API ----

/** 1234067 → x001/x234/067. */
function encodeIndex(index: number): string {
  let text = String(index % 1000).padStart(3, '0');
  for (let rest = Math.floor(index / 1000); rest > 0; rest = Math.floor(rest / 1000)) text = `x${String(rest % 1000).padStart(3, '0')}/${text}`;
  return text;
}

const suffix = (width: number) => (width === TILE_WIDTH ? '' : `.p/${width}`);

/** `tile/<L>/<N>[.p/<W>]`. */
export function tilePath(ref: TileRef): string {
  return `tile/${ref.level}/${encodeIndex(ref.index)}${suffix(ref.width)}`;
}

/** `tile/entries/<N>[.p/<W>]`: the entries [256 N, 256 N + W). */
export function entryBundlePath(index: number, width: number): string {
  return `tile/entries/${encodeIndex(index)}${suffix(width)}`;
}

export type TileAddress =
  | { readonly kind: 'hashes'; readonly level: number; readonly index: number; readonly width: number }
  | { readonly kind: 'entries'; readonly index: number; readonly width: number };

const TILE_PATH = /^tile\/(entries|0|[1-9]\d?)\/((?:x\d{3}\/)*)(\d{3})(?:\.p\/([1-9]\d{0,2}))?$/;

/** Parses a tile or entry-bundle path exactly as tilePath writes it; anything else is undefined. */
export function parseTilePath(path: string): TileAddress | undefined {
  const m = TILE_PATH.exec(path);
  if (!m) return undefined;
  const groups = [...m[2]!.split('/').filter((g) => g !== '').map((g) => g.slice(1)), m[3]!];
  // No leading zero groups: index 67 is `067`, never `x000/067`.
  if (groups.length > 1 && groups[0] === '000') return undefined;
  if (groups.length > 6) return undefined;
  const index = groups.reduce((acc, g) => acc * 1000 + Number(g), 0);
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (!Number.isSafeInteger(index) || (m[4] !== undefined && width >= TILE_WIDTH)) return undefined;
  if (m[1] === 'entries') return { kind: 'entries', index, width };
  const level = Number(m[1]);
  return level > MAX_LEVEL ? undefined : { kind: 'hashes', level, index, width };
}

// ---- hashes from tiles ----

function tileBytes(source: TileSource, ref: TileRef): Bytes {
  const bytes = source.readTile(ref);
  if (bytes === undefined || bytes.length < ref.width * HASH_SIZE) throw new MissingTileError(ref);
  return bytes;
}

function hashesOf(bytes: Bytes, from: number, count: number): Hash[] {
  const out: Hash[] = [];
  for (let i = from; i < from + count; i++) out.push(bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return out;
}

/** The hashes of a range of leaves `count` wide, combined pairwise into one (count a power of two). */
function reducePerfect(hashes: Hash[]): Hash {
  let level = hashes;
  while (level.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    level = next;
  }
  return level[0]!;
}

/** Which tile, and where in it, holds the perfect subtree of 2^height leaves number `index`. */
function locate(height: number, index: number, size: number): { ref: TileRef; from: number; count: number } {
  const level = Math.floor(height / TILE_HEIGHT);
  const count = 2 ** (height % TILE_HEIGHT);
  const position = index * count;
  const tileIndex = Math.floor(position / TILE_WIDTH);
  return { ref: { level, index: tileIndex, width: tileWidth(level, tileIndex, size) }, from: position % TILE_WIDTH, count };
}

function checkRange(range: LeafRange, size: number): void {
  if (!isTreeSize(size) || range.start < 0 || range.end > size || range.start >= range.end) {
    throw new LedgerError('out_of_range', `[${range.start}, ${range.end}) is not inside a tree of ${size} entries`);
  }
}

/** The tiles needed to hash the given ranges of the tree of `size` leaves, each once. */
export function tilesForRanges(ranges: readonly LeafRange[], size: number): TileRef[] {
  const seen = new Map<string, TileRef>();
  for (const range of ranges) {
    checkRange(range, size);
    for (const subtree of perfectSubtrees(range)) {
      const { ref } = locate(subtree.height, subtree.index, size);
      seen.set(`${ref.level}/${ref.index}`, ref);
    }
  }
  return [...seen.values()];
}

/** MTH(D[range]) read from tiles; the range must be a node of the RFC 6962 tree (as proof ranges are). */
export function rangeHashFromTiles(range: LeafRange, size: number, source: TileSource): Hash {
  checkRange(range, size);
  const hashes = perfectSubtrees(range).map(({ height, index }) => {
    const { ref, from, count } = locate(height, index, size);
    return reducePerfect(hashesOf(tileBytes(source, ref), from, count));
  });
  return foldFromRight(hashes)!;
}

export const tilesForTreeHash = (size: number): TileRef[] => (size === 0 ? [] : tilesForRanges([{ start: 0, end: size }], size));

export function treeHashFromTiles(size: number, source: TileSource): Hash {
  return size === 0 ? EMPTY_ROOT : rangeHashFromTiles({ start: 0, end: size }, size, source);
}

export const tilesForInclusionProof = (index: number, size: number): TileRef[] => tilesForRanges(inclusionProofRanges(index, size), size);

export function inclusionProofFromTiles(index: number, size: number, source: TileSource): Hash[] {
  return inclusionProofRanges(index, size).map((range) => rangeHashFromTiles(range, size, source));
}

export const tilesForConsistencyProof = (oldSize: number, newSize: number): TileRef[] => tilesForRanges(consistencyProofRanges(oldSize, newSize), newSize);

export function consistencyProofFromTiles(oldSize: number, newSize: number, source: TileSource): Hash[] {
  return consistencyProofRanges(oldSize, newSize).map((range) => rangeHashFromTiles(range, newSize, source));
}

export const tilesForSubtreeConsistencyProof = (start: number, end: number, size: number): TileRef[] =>
  tilesForRanges(subtreeConsistencyProofRanges(start, end, size), size);

export function subtreeConsistencyProofFromTiles(start: number, end: number, size: number, source: TileSource): Hash[] {
  return subtreeConsistencyProofRanges(start, end, size).map((range) => rangeHashFromTiles(range, size, source));
}

/** A TileSource over tiles held in memory (keyed by level and index; the widest version kept). */
export class TileMap implements TileSource {
  private readonly tiles = new Map<string, Bytes>();

  put(tile: Tile): void {
    const key = `${tile.level}/${tile.index}`;
    const existing = this.tiles.get(key);
    if (existing === undefined || existing.length < tile.hashes.length) this.tiles.set(key, tile.hashes);
  }

  readTile(ref: TileRef): Bytes | undefined {
    return this.tiles.get(`${ref.level}/${ref.index}`);
  }

  get size(): number {
    return this.tiles.size;
  }
}

// ---- appending ----

/**
 * The right edge of a tiled log: its size and the hashes of the rightmost tile of every level.
 * That is all appending needs; a store keeps it in the tiles it already has (`frontierTiles`).
 */
export interface Frontier {
  readonly size: number;
  /** Per level, the hashes of its partial tile (width × 32 bytes, possibly empty). */
  readonly partial: readonly Bytes[];
}

export const EMPTY_FRONTIER: Frontier = { size: 0, partial: [] };

/** The frontier of a tree of `size` leaves, from its frontier tiles. */
export function frontierFromTiles(size: number, source: TileSource): Frontier {
  const partial: Bytes[] = [];
  for (const ref of frontierTiles(size)) {
    partial[ref.level] = tileBytes(source, ref).slice(0, ref.width * HASH_SIZE);
  }
  for (let level = 0; level < partial.length; level++) partial[level] ??= new Uint8Array(0);
  return { size, partial };
}

/** The root of the tree a frontier describes: every complete subtree of the root sits in a frontier tile. */
export function rootOfFrontier(frontier: Frontier): Hash {
  return treeHashFromTiles(frontier.size, {
    readTile: (ref) => (ref.index === Math.floor(Math.floor(frontier.size / levelSpan(ref.level)) / TILE_WIDTH) ? frontier.partial[ref.level] : undefined),
  });
}

/**
 * Appends leaf hashes to a tiled log: returns the new frontier and every tile that is new or
 * grew (each once, at its final width), ready to be written (a store upserts them by level and
 * index). Full tiles are hashed into the level above as they fill.
 */
export function appendLeaves(frontier: Frontier, leaves: readonly Hash[]): { frontier: Frontier; tiles: Tile[] } {
  if (!isTreeSize(frontier.size + leaves.length)) throw new LedgerError('out_of_range', 'the log would outgrow 2^53 − 1 entries');
  const buffers: Uint8Array[] = [];
  const widths: number[] = [];
  const start = (level: number) => {
    if (buffers[level] !== undefined) return;
    const existing = frontier.partial[level] ?? new Uint8Array(0);
    buffers[level] = new Uint8Array(FULL_TILE_BYTES);
    buffers[level]!.set(existing);
    widths[level] = existing.length / HASH_SIZE;
  };
  const touched = new Map<string, Tile>();
  let size = frontier.size;
  const push = (level: number, hash: Hash) => {
    start(level);
    const buffer = buffers[level]!;
    buffer.set(hash, widths[level]! * HASH_SIZE);
    widths[level]!++;
    if (widths[level] === TILE_WIDTH) {
      const index = Math.floor(size / levelSpan(level + 1)) - 1;
      touched.set(`${level}/${index}`, { level, index, width: TILE_WIDTH, hashes: buffer.slice() });
      widths[level] = 0;
      push(level + 1, reducePerfect(hashesOf(buffer, 0, TILE_WIDTH)));
    }
  };
  for (const leaf of leaves) {
    if (leaf.length !== HASH_SIZE) throw new LedgerError('malformed', `a leaf hash is ${HASH_SIZE} bytes, not ${leaf.length}`);
    size++;
    push(0, leaf);
  }
  const partial: Bytes[] = [];
  const levels = Math.max(frontier.partial.length, buffers.length);
  for (let level = 0; level < levels; level++) {
    if (buffers[level] === undefined) {
      partial[level] = frontier.partial[level] ?? new Uint8Array(0);
      continue;
    }
    const width = widths[level]!;
    partial[level] = buffers[level]!.slice(0, width * HASH_SIZE);
    if (width > 0) {
      const index = Math.floor(Math.floor(size / levelSpan(level)) / TILE_WIDTH);
      touched.set(`${level}/${index}`, { level, index, width, hashes: partial[level]! });
    }
  }
  return { frontier: { size, partial }, tiles: [...touched.values()] };
}

// ---- entry bundles ----

/** Largest entry an entry bundle can carry (uint16 length prefix). */
export const MAX_ENTRY_BYTES = 0xffff;

/** Entries as a tlog-tiles entry bundle: each prefixed by its length as a big-endian uint16. */
export function encodeEntryBundle(entries: readonly Bytes[]): Bytes {
  const total = entries.reduce((sum, e) => sum + 2 + e.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const entry of entries) {
    if (entry.length > MAX_ENTRY_BYTES) throw new LedgerError('out_of_range', `an entry of ${entry.length} bytes does not fit an entry bundle (at most ${MAX_ENTRY_BYTES})`);
    out[at] = entry.length >> 8;
    out[at + 1] = entry.length & 0xff;
    out.set(entry, at + 2);
    at += 2 + entry.length;
  }
  return out;
}

export function decodeEntryBundle(bundle: Bytes): Bytes[] {
  const entries: Bytes[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) throw new LedgerError('malformed', 'entry bundle ends inside a length prefix');
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length) throw new LedgerError('malformed', `entry bundle ends inside entry ${entries.length}`);
    entries.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  if (entries.length > TILE_WIDTH) throw new LedgerError('malformed', `an entry bundle holds at most ${TILE_WIDTH} entries, not ${entries.length}`);
  return entries;
}
