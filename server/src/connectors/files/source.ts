import type { ListedFile } from '../domain/files.js';
import { ConnectorError } from '../kind.js';

/**
 * A folder of files somewhere: on this server's disk, an FTP server or an SFTP server. Names
 * are plain file names in the folder; `moveTo` is a folder relative to it (or absolute).
 */
export interface FileSource {
  /** `sftp://host:22/export`: for messages. */
  readonly location: string;
  /** Facts worth showing (an SFTP server's host key, so the manager can pin it). */
  readonly details: Readonly<Record<string, string>>;
  list(): Promise<ListedFile[]>;
  /** The file's bytes; a ConnectorError when it is larger than `maxBytes`. */
  read(name: string, maxBytes: number): Promise<Buffer>;
  rename(name: string, newName: string): Promise<void>;
  move(name: string, folder: string): Promise<void>;
  write(name: string, content: string): Promise<void>;
  close(): Promise<void>;
}

/** A listed name that could step out of the folder is never used. */
export function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/** The name, or a ConnectorError when it is not a plain name. */
export function plainName(name: string): string {
  if (!isPlainName(name)) throw new ConnectorError('config', `"${name}" is not a plain file name`);
  return name;
}

/** Joins remote (POSIX) paths. */
export function joinRemote(folder: string, name: string): string {
  if (name.startsWith('/')) return name;
  return `${folder.replace(/\/+$/, '')}/${name}`;
}

/**
 * What FTP and SFTP sources share: a file's path in the folder (refusing a name that could step
 * out of it), where a moved file goes, and running an operation so that its failure says where
 * and what.
 */
export interface RemoteFolder {
  path(name: string): string;
  movedPath(name: string, folder: string): string;
  operation<T>(what: string, work: () => Promise<T>): Promise<T>;
}

export function remoteFolder(folder: string, location: string, toError: (error: unknown, what: string) => Error): RemoteFolder {
  return {
    path: (name) => joinRemote(folder, plainName(name)),
    movedPath: (name, target) => joinRemote(joinRemote(folder, target), plainName(name)),
    async operation(what, work) {
      try {
        return await work();
      } catch (error) {
        throw toError(error, `${what} on ${location}`);
      }
    },
  };
}
