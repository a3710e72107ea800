import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * The embedded database's data folder: private to the user running Gridshare and used by one
 * process at a time. PGlite is a single-process PostgreSQL; two processes opening the same files
 * corrupt them, so the lock is taken before anything opens the folder.
 */
const LOCK_FILE = 'gridshare.lock';
/** Only one process takes over a stale lock at a time; a takeover marker older than this was left by a crash. */
const TAKEOVER_STALE_MS = 10_000;

/** Who holds the lock: enough to tell a live holder from a dead one, and to tell the user. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
  /** Linux: the holder's start time in clock ticks since boot, so a recycled pid is not taken for it. */
  readonly processStart?: string;
}

export class DataFolderInUseError extends Error {
  constructor(readonly dir: string, readonly holder: LockHolder) {
    super(`the data folder ${dir} is in use by Gridshare process ${holder.pid} on ${holder.hostname} (started ${holder.startedAt}). `
      + 'Stop that process first, or choose another folder with --data <dir>.');
  }
}

export interface DataFolderLock {
  /** Set when a lock left by a process that no longer runs (kill -9, power loss) was taken over. */
  readonly recoveredFrom: LockHolder | undefined;
  release(): void;
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may itself hold spaces and parentheses). */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isRunning(holder: LockHolder): boolean {
  // Another machine's process (a folder on a network share) cannot be checked: assume it runs.
  if (holder.hostname !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: a process of another user has that pid, so it runs.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // The pid runs; is it still the holder, or was the pid given to another process since?
  const now = processStart(holder.pid);
  return holder.processStart === undefined || now === undefined || now === holder.processStart;
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return Number.isInteger(holder.pid) && typeof holder.hostname === 'string' ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Creates `path` only if it does not exist, with `text` written and flushed before anyone can read it half. */
function createExclusive(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

const unlinkIfPresent = (path: string) => {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the folder's lock file (created exclusively, so of two starts exactly one wins) or says
 * who holds it. A lock whose holder no longer runs is taken over, by one process only: the
 * takeover itself is guarded by a second exclusive file.
 */
export async function lockDataFolder(dir: string): Promise<DataFolderLock> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  const takeover = `${path}.takeover`;
  const me: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), ...withStart(processStart(process.pid)) };
  let recoveredFrom: LockHolder | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createExclusive(path, JSON.stringify(me))) {
      return {
        recoveredFrom,
        release() {
          if (readHolder(path)?.pid === me.pid) unlinkIfPresent(path);
        },
      };
    }
    const holder = readHolder(path);
    if (holder && isRunning(holder)) throw new DataFolderInUseError(dir, holder);
    if (!holder && Date.now() - mtimeOf(path) < TAKEOVER_STALE_MS) {
      // Being written by a process that is taking it right now.
      await sleep(100);
      continue;
    }
    if (Date.now() - mtimeOf(takeover) > TAKEOVER_STALE_MS) unlinkIfPresent(takeover);
    if (!createExclusive(takeover, String(process.pid))) {
      await sleep(100);
      continue;
    }
    try {
      // Still the same dead holder (nobody took over between our read and the marker)?
      const again = readHolder(path);
      if (sameHolder(again, holder)) {
        unlinkIfPresent(path);
        recoveredFrom = holder;
      }
    } finally {
      unlinkIfPresent(takeover);
    }
  }
  throw new Error(`could not take the lock of the data folder ${dir}: ${path} keeps changing`);
}

const withStart = (start: string | undefined) => (start === undefined ? {} : { processStart: start });

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

const sameHolder = (a: LockHolder | undefined, b: LockHolder | undefined) =>
  a === b || (!!a && !!b && a.pid === b.pid && a.hostname === b.hostname && a.startedAt === b.startedAt);

/**
 * Makes the folder private to the user (0700) and takes group and other permissions off
 * everything in it. PGlite sets modes of its own (its initial database 0666, its relation cache
 * files 0644) whatever the umask, so this runs once it is open; what PostgreSQL writes later is
 * private through the process umask (`gridshare start` sets 077), artefacts through explicit modes.
 */
export function makePrivate(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) chmodSync(path, stat.mode & 0o700);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
}
