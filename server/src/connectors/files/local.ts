import { mkdir, open, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { ConnectorError } from '../kind.js';
import { isPlainName, plainName, type FileSource } from './source.js';

/** Files in a folder of this server. */
export async function openLocalFolder(folder: string): Promise<FileSource> {
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) throw new ConnectorError('unreachable', `folder ${folder} does not exist on this server (or is not a folder)`);
  const path = (name: string): string => join(folder, plainName(name));
  return {
    location: folder,
    details: {},
    async list() {
      const entries = await readdir(folder, { withFileTypes: true });
      const files = await Promise.all(entries.filter((e) => e.isFile() && isPlainName(e.name)).map(async (e) => {
        const s = await stat(join(folder, e.name)).catch(() => undefined);
        return s ? { name: e.name, size: s.size, modifiedMs: s.mtimeMs } : undefined;
      }));
      return files.filter((f) => f !== undefined);
    },
    async read(name, maxBytes) {
      const handle = await open(path(name), 'r');
      try {
        const { size } = await handle.stat();
        if (size > maxBytes) throw new ConnectorError('source', `${name} has ${size} bytes, more than the ${maxBytes} allowed`);
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },
    async rename(name, newName) {
      await rename(path(name), path(newName));
    },
    async move(name, target) {
      const dir = isAbsolute(target) ? target : join(folder, target);
      await mkdir(dir, { recursive: true });
      await rename(path(name), join(dir, name));
    },
    async write(name, content) {
      await writeFile(path(name), content);
    },
    async close() {},
  };
}
