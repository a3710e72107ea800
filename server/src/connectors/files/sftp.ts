import { createHash } from 'node:crypto';
import SftpClient from 'ssh2-sftp-client';
import { ConnectorError, networkFailure } from '../kind.js';
import { isPlainName, remoteFolder, type FileSource } from './source.js';

/**
 * Files on an SFTP server (ssh2-sftp-client over ssh2, the pure-JavaScript SSH that Node
 * projects use). The server's host key is checked against the pinned fingerprint when one is
 * configured; without one the connection proceeds and the fingerprint is reported, so the
 * manager can pin it after the first test.
 */
export interface SftpSettings {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password?: string | undefined;
  readonly privateKey?: string | undefined;
  readonly passphrase?: string | undefined;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly hostKeySha256?: string | undefined;
  readonly folder: string;
  readonly timeoutMs: number;
}

export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export async function openSftp(settings: SftpSettings, signal: AbortSignal): Promise<FileSource> {
  const client = new SftpClient();
  const location = `sftp://${settings.host}:${settings.port}${settings.folder}`;
  const close = (): void => {
    client.end().catch(() => undefined);
  };
  signal.addEventListener('abort', close, { once: true });
  let seenKey: string | undefined;
  try {
    await client.connect({
      host: settings.host,
      port: settings.port,
      username: settings.username,
      password: settings.password,
      privateKey: settings.privateKey,
      passphrase: settings.passphrase,
      readyTimeout: settings.timeoutMs,
      hostVerifier: (key: Buffer) => {
        seenKey = hostKeyFingerprint(key);
        return settings.hostKeySha256 === undefined || settings.hostKeySha256 === seenKey;
      },
    });
  } catch (error) {
    close();
    if (settings.hostKeySha256 !== undefined && seenKey !== undefined && seenKey !== settings.hostKeySha256) {
      throw new ConnectorError('auth', `${location} presented host key ${seenKey}, not the pinned ${settings.hostKeySha256}: refusing to log in (a different server, or its key changed)`);
    }
    throw sftpError(error, `cannot log in to ${location}`, signal);
  }
  const remote = remoteFolder(settings.folder, location, (error, what) => sftpError(error, what, signal));
  return {
    location,
    details: seenKey ? { hostKey: seenKey } : {},
    list: () => remote.operation('listing the folder', async () => (await client.list(settings.folder))
      .filter((f) => f.type === '-' && isPlainName(f.name))
      .map((f) => ({ name: f.name, size: f.size, modifiedMs: f.modifyTime }))),
    read: (name, maxBytes) => remote.operation(`reading ${name}`, async () => {
      const { size } = await client.stat(remote.path(name));
      if (size > maxBytes) throw new ConnectorError('source', `${name} has ${size} bytes, more than the ${maxBytes} allowed`);
      const content = await client.get(remote.path(name));
      if (!Buffer.isBuffer(content)) throw new ConnectorError('protocol', `reading ${name} gave no data`);
      return content;
    }),
    rename: (name, newName) => remote.operation(`renaming ${name}`, async () => {
      await client.rename(remote.path(name), remote.path(newName));
    }),
    move: (name, folder) => remote.operation(`moving ${name} to ${folder}`, async () => {
      await client.rename(remote.path(name), remote.movedPath(name, folder));
    }),
    write: (name, content) => remote.operation(`writing ${name}`, async () => {
      await client.put(Buffer.from(content), remote.path(name));
    }),
    async close() {
      signal.removeEventListener('abort', close);
      await client.end().catch(() => undefined);
    },
  };
}

function sftpError(error: unknown, what: string, signal: AbortSignal): Error {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  if (error instanceof ConnectorError) return error;
  const e = error as Error & { level?: string };
  const message = e.message ?? String(error);
  if (e.level === 'client-authentication' || /authentication/i.test(message)) return new ConnectorError('auth', `${what}: the server refused the credentials`);
  if (/timed out|timeout/i.test(message)) return new ConnectorError('timeout', `${what}: ${message}`);
  // ssh2-sftp-client wraps socket errors, keeping the code only in the message.
  const code = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT)\b/.exec(message)?.[1];
  return networkFailure(code ? { code } : error, what) ?? new ConnectorError('source', `${what}: ${message}`);
}
