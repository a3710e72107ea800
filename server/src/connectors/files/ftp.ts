import { Writable, Readable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { ConnectorError, networkFailure } from '../kind.js';
import { isPlainName, remoteFolder, type FileSource } from './source.js';

/**
 * Files on an FTP server (basic-ftp: maintained, promise-based, FTPS, and it parses both MLSD
 * and the many LIST formats servers send).
 */
export interface FtpSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly secure: 'none' | 'explicit' | 'implicit';
  readonly folder: string;
  readonly timeoutMs: number;
}

export async function openFtp(settings: FtpSettings, signal: AbortSignal): Promise<FileSource> {
  const client = new Client(settings.timeoutMs);
  const close = (): void => client.close();
  signal.addEventListener('abort', close, { once: true });
  const location = `ftp://${settings.host}:${settings.port}${settings.folder}`;
  try {
    await client.access({
      host: settings.host,
      port: settings.port,
      user: settings.user,
      password: settings.password,
      secure: settings.secure === 'none' ? false : settings.secure === 'implicit' ? 'implicit' : true,
    });
  } catch (error) {
    close();
    throw ftpError(error, `cannot log in to ${location}`, signal);
  }
  const remote = remoteFolder(settings.folder, location, (error, what) => ftpError(error, what, signal));
  return {
    location,
    details: {},
    list: () => remote.operation('listing the folder', async () => (await client.list(settings.folder))
      .filter((f) => f.isFile && isPlainName(f.name))
      .map((f) => ({ name: f.name, size: f.size, modifiedMs: f.modifiedAt?.getTime() ?? 0 }))),
    read: (name, maxBytes) => remote.operation(`reading ${name}`, async () => {
      const chunks: Buffer[] = [];
      let total = 0;
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          total += chunk.length;
          if (total > maxBytes) callback(new ConnectorError('source', `${name} has more than the ${maxBytes} bytes allowed`));
          else {
            chunks.push(chunk);
            callback();
          }
        },
      });
      await client.downloadTo(sink, remote.path(name));
      return Buffer.concat(chunks);
    }),
    rename: (name, newName) => remote.operation(`renaming ${name}`, async () => {
      await client.rename(remote.path(name), remote.path(newName));
    }),
    move: (name, folder) => remote.operation(`moving ${name} to ${folder}`, async () => {
      await client.rename(remote.path(name), remote.movedPath(name, folder));
    }),
    write: (name, content) => remote.operation(`writing ${name}`, async () => {
      await client.uploadFrom(Readable.from([Buffer.from(content)]), remote.path(name));
    }),
    async close() {
      signal.removeEventListener('abort', close);
      close();
    },
  };
}

function ftpError(error: unknown, what: string, signal: AbortSignal): Error {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  if (error instanceof ConnectorError) return error;
  if (error instanceof FTPError) {
    if (error.code === 530) return new ConnectorError('auth', `${what}: the server refused the login (${error.message})`);
    return new ConnectorError('source', `${what}: the server said ${error.message}`);
  }
  const message = (error as Error).message ?? String(error);
  if (/timeout/i.test(message)) return new ConnectorError('timeout', `${what}: ${message}`);
  return networkFailure(error, what) ?? new ConnectorError('source', `${what}: ${message}`);
}
