import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The shared Merkle-log vectors (`../shared/vectors/merkle` next to the work tree, or under
 * GRIDSHARE_VECTORS when a second work tree sits elsewhere).
 */
export const MERKLE_VECTORS = process.env.GRIDSHARE_VECTORS
  ? `${process.env.GRIDSHARE_VECTORS.replace(/\/$/, '')}/merkle/`
  : fileURLToPath(new URL('../../../../../shared/vectors/merkle/', import.meta.url));
export const merkleVectorsPresent = existsSync(`${MERKLE_VECTORS}README.md`);
if (!merkleVectorsPresent) process.stderr.write(`ledger tests: ${MERKLE_VECTORS} not found: the known-answer tests are skipped\n`);

export function merkleVector<T>(file: string): T {
  return JSON.parse(readFileSync(`${MERKLE_VECTORS}${file}`, 'utf8')) as T;
}

export const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
