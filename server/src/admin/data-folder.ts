import { lstat, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes in a folder and everything under it (links are not followed), and what the file system has left. */
export async function folderUse(path: string): Promise<{ usedBytes: number; freeBytes: number | null; totalBytes: number | null }> {
  const [usedBytes, fs] = await Promise.all([bytesUnder(path), statfs(path).catch(() => undefined)]);
  return { usedBytes, freeBytes: fs ? fs.bavail * fs.bsize : null, totalBytes: fs ? fs.blocks * fs.bsize : null };
}

async function bytesUnder(path: string): Promise<number> {
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(child);
    // A file removed meanwhile (PGlite rotates its files) counts nothing.
    else total += (await lstat(child).catch(() => undefined))?.size ?? 0;
  }
  return total;
}
