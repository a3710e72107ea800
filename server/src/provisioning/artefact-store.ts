import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Provisioning artefacts on disk, one ZIP per batch under `<root>/<batch id>.zip`. Writes go
 * to a temporary name and are renamed, so a crash never leaves half a ZIP behind. The ZIPs hold
 * device keys: the folder is 0700 and every file 0600, whatever the umask.
 */
export class ArtefactStore {
  constructor(readonly root: string) {}

  private path(batchId: string): string {
    if (!/^[0-9a-f-]{36}$/.test(batchId)) throw new Error(`not a batch id: ${batchId}`);
    return join(this.root, `${batchId}.zip`);
  }

  async save(batchId: string, zip: Uint8Array): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    const target = this.path(batchId);
    const temporary = `${target}.${process.pid}.tmp`;
    await writeFile(temporary, zip, { mode: 0o600 });
    await rename(temporary, target);
  }

  async load(batchId: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(batchId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async remove(batchId: string): Promise<void> {
    await rm(this.path(batchId), { force: true });
  }
}
