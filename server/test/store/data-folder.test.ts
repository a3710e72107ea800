import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync, chmodSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFolderInUseError, lockDataFolder, makePrivate } from '../../src/platform/store/data-folder.js';

const root = mkdtempSync(join(tmpdir(), 'gridshare-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const folder = () => join(root, `d${++n}`);
const holderFile = (dir: string, holder: object) => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'gridshare.lock'), JSON.stringify(holder));
};
/** The pid of a process that has ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('the data folder lock', () => {
  it('is held by one taker at a time and says who holds it', async () => {
    const dir = folder();
    const lock = await lockDataFolder(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'gridshare.lock')).mode & 0o777).toBe(0o600);
    const refused = await lockDataFolder(dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DataFolderInUseError);
    expect((refused as DataFolderInUseError).holder.pid).toBe(process.pid);
    expect((refused as Error).message).toMatch(new RegExp(`in use by Gridshare process ${process.pid}`));
    // Of several takers at once exactly one wins.
    lock.release();
    const attempts = await Promise.allSettled(Array.from({ length: 5 }, () => lockDataFolder(dir)));
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    expect(existsSync(join(dir, 'gridshare.lock'))).toBe(true);
  });

  it('takes over the lock of a process that no longer runs, or whose pid now belongs to another process', async () => {
    const dead = folder();
    const pid = deadPid();
    holderFile(dead, { pid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' });
    const taken = await lockDataFolder(dead);
    expect(taken.recoveredFrom?.pid).toBe(pid);
    const recycled = folder();
    holderFile(recycled, { pid: process.pid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z', processStart: '1' });
    expect((await lockDataFolder(recycled)).recoveredFrom?.pid).toBe(process.pid);
  });

  it('leaves a lock of another machine alone (a folder on a network share)', async () => {
    const dir = folder();
    holderFile(dir, { pid: deadPid(), hostname: `not-${hostname()}`, startedAt: '2026-01-01T00:00:00.000Z' });
    await expect(lockDataFolder(dir)).rejects.toBeInstanceOf(DataFolderInUseError);
  });

  it('makes what is in the folder private to the user', () => {
    const dir = folder();
    mkdirSync(join(dir, 'base'), { recursive: true });
    writeFileSync(join(dir, 'base', 'f'), 'x');
    chmodSync(join(dir, 'base', 'f'), 0o666);
    chmodSync(join(dir, 'base'), 0o755);
    chmodSync(dir, 0o777);
    makePrivate(dir);
    expect([dir, join(dir, 'base'), join(dir, 'base', 'f')].map((p) => (statSync(p).mode & 0o777).toString(8))).toEqual(['700', '700', '600']);
  });
});
