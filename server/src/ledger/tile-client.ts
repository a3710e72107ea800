/**
 * A client of the C2SP tlog-tiles read API: fetches the tiles a proof needs from a log's URL
 * prefix. What it fetches is not trusted: every hash is checked against signed checkpoints by
 * the domain code; this file only makes sure a hostile or broken server cannot make it hang or
 * read without bound.
 */
import { FULL_TILE_BYTES, HASH_SIZE, TILE_WIDTH, TileMap, tilePath, type TileRef } from './domain/index.js';

export class LogFetchError extends Error {}

export interface TileClientOptions {
  readonly fetch?: typeof fetch;
  /** Per request (default 10 s). */
  readonly timeoutMs?: number;
}

const joinUrl = (prefix: string, path: string) => `${prefix.replace(/\/+$/, '')}/${path}`;

async function readAtMost(response: Response, limit: number, url: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw new LogFetchError(`${url} answered ${declared} bytes, more than the ${limit} expected`);
  const reader = response.body?.getReader();
  if (reader === undefined) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new LogFetchError(`${url} answered more than the ${limit} bytes expected`);
    }
    chunks.push(value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

async function get(url: string, limit: number, options: TileClientOptions): Promise<Uint8Array | 'not-found'> {
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 10_000), headers: { 'accept-encoding': 'gzip, identity' } });
  } catch (error) {
    throw new LogFetchError(`cannot fetch ${url}: ${(error as Error).message}`);
  }
  if (response.status === 404) {
    await response.body?.cancel();
    return 'not-found';
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new LogFetchError(`${url} answered HTTP ${response.status}`);
  }
  return readAtMost(response, limit, url);
}

/**
 * Fetches the tiles (in parallel). A partial tile the log no longer serves is taken from the full
 * tile that replaced it, as tlog-tiles allows; a tile of the wrong length is refused.
 */
export async function fetchTiles(prefix: string, refs: readonly TileRef[], options: TileClientOptions = {}): Promise<TileMap> {
  const tiles = new TileMap();
  await Promise.all(refs.map(async (ref) => {
    const url = joinUrl(prefix, tilePath(ref));
    let body = await get(url, ref.width * HASH_SIZE, options);
    if (body === 'not-found' && ref.width < TILE_WIDTH) body = await get(joinUrl(prefix, tilePath({ ...ref, width: TILE_WIDTH })), FULL_TILE_BYTES, options);
    if (body === 'not-found') throw new LogFetchError(`the log does not serve ${url}`);
    if (body.length < ref.width * HASH_SIZE) throw new LogFetchError(`${url} is ${body.length} bytes, not ${ref.width * HASH_SIZE}`);
    tiles.put({ ...ref, hashes: body.subarray(0, ref.width * HASH_SIZE) });
  }));
  return tiles;
}
