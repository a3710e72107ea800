import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateMasterKey, MASTER_KEY_BYTES, masterKey, type MasterKey } from './box.js';

export const SECRET_KEY_VARIABLE = 'GRIDSHARE_SECRET_KEY';
export const KEY_FILE_NAME = 'secret.key';

/**
 * Where an installation's master keys live. The first key seals, every key opens. A key file or
 * memory can take a new key and retire old ones (`gridshare secrets rotate`); the environment is
 * set by the operator, so it is read only.
 */
export interface KeyStore {
  /** For messages: the variable or the file. */
  readonly description: string;
  readonly writable: boolean;
  /** The keys, or undefined when none exist yet (a key file not yet created). */
  load(): MasterKey[] | undefined;
  /** Creates the first key (a new key file, mode 0600). */
  create(): MasterKey[];
  save(keys: readonly MasterKey[]): void;
  /** Problems worth telling the operator, e.g. a key file others may read. */
  warnings(): string[];
}

/** A key as 64 hex digits or base64 of 32 bytes (`openssl rand -base64 32`). */
export function parseMasterKey(text: string, where: string): MasterKey {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
  if (bytes?.length !== MASTER_KEY_BYTES) {
    throw new Error(`${where}: a master key is ${MASTER_KEY_BYTES} random bytes as 64 hex digits or base64 (e.g. openssl rand -base64 32)`);
  }
  return masterKey(bytes);
}

/** `GRIDSHARE_SECRET_KEY=<new>,<old>`: several keys separated by commas, the first seals. */
export function environmentKeys(value: string, variable = SECRET_KEY_VARIABLE): KeyStore {
  const keys = value.split(',').filter((part) => part.trim() !== '').map((part, i) => parseMasterKey(part, `${variable} (key ${i + 1})`));
  if (keys.length === 0) throw new Error(`${variable} is set but holds no key`);
  return {
    description: `the ${variable} environment variable`,
    writable: false,
    load: () => keys,
    create: () => keys,
    save: () => {
      throw new Error(`${variable} is read only: set the new keys in the environment`);
    },
    warnings: () => [],
  };
}

const FILE_HEADER = '# Gridshare master keys: they open the device and meter keys in the database. Keep this file secret\n'
  + '# and back it up apart from the database. One base64 key per line; the first seals, all open.\n';

function writeKeys(path: string, keys: readonly MasterKey[], exclusive: boolean): void {
  mkdirSync(dirname(path), { recursive: true });
  const text = FILE_HEADER + keys.map((k) => `${k.key.toString('base64')}\n`).join('');
  if (exclusive) {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
    return;
  }
  // A rotation replaces the file whole: a crash leaves either the old or the new file, never half of one.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/** A key file, created with mode 0600 (owner only) when the installation first starts. */
export function keyFile(path: string): KeyStore {
  return {
    description: `the key file ${path}`,
    writable: true,
    load() {
      if (!existsSync(path)) return undefined;
      const lines = readFileSync(path, 'utf8').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
      if (lines.length === 0) throw new Error(`${path} holds no key`);
      return lines.map((line, i) => parseMasterKey(line, `${path} (line ${i + 1} of its keys)`));
    },
    create() {
      const keys = [generateMasterKey()];
      writeKeys(path, keys, true);
      return keys;
    },
    save: (keys) => writeKeys(path, keys, false),
    warnings() {
      if (process.platform === 'win32' || !existsSync(path)) return [];
      const mode = statSync(path).mode & 0o777;
      return (mode & 0o077) === 0 ? [] : [`${path} may be read by other users (mode ${mode.toString(8)}): chmod 600 ${path}`];
    },
  };
}

/** Keys that live only as long as the process: tests and throw-away databases. */
export function memoryKeys(): KeyStore {
  let keys: MasterKey[] | undefined;
  return {
    description: 'a key held in memory only (this database cannot be opened again after a restart)',
    writable: true,
    load: () => keys,
    create: () => (keys = [generateMasterKey()]),
    save: (next) => {
      keys = [...next];
    },
    warnings: () => [],
  };
}
