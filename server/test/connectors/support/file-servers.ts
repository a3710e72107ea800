import { open, readdir, rename, stat, unlink, mkdir, type FileHandle } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { join, posix } from 'node:path';
import { FtpSrv } from 'ftp-srv';
import ssh2 from 'ssh2';

/**
 * Real FTP and SFTP servers on loopback ports, serving a temporary folder: ftp-srv (an FTP
 * server in Node) and the ssh2 package's own SSH server with its SFTP subsystem, answering the
 * requests a client sends with the folder's files.
 */
export interface FileServer {
  readonly port: number;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

/** ftp-srv logs through bunyan; the tests want silence. */
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return quiet; } };

export async function startFtpServer(root: string, user: string, password: string): Promise<FileServer> {
  const port = await freePort();
  const server = new FtpSrv({ url: `ftp://127.0.0.1:${port}`, pasv_url: '127.0.0.1', pasv_min: 40_000, pasv_max: 50_000, anonymous: false, log: quiet, greeting: 'test server' });
  server.on('login', ({ username, password: given }, resolve, reject) => {
    if (username === user && given === password) resolve({ root });
    else reject(new Error('bad login'));
  });
  await server.listen();
  return { port, close: async () => { await server.close(); } };
}

const { Server, utils } = ssh2;
const { STATUS_CODE } = utils.sftp;

export interface SftpServer extends FileServer {
  /** The server's host key fingerprint as clients see it. */
  readonly hostKey: Buffer;
}

export async function startSftpServer(root: string, user: string, password: string): Promise<SftpServer> {
  const keys = utils.generateKeyPairSync('ed25519');
  const parsed = utils.parseKey(keys.public);
  if (parsed instanceof Error) throw parsed;
  const hostKey = (Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH();
  const local = (path: string): string => join(root, posix.normalize(`/${path}`));
  const clients = new Set<ssh2.Connection>();
  const server = new Server({ hostKeys: [keys.private] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === user && ctx.password === password) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        acceptSession().on('sftp', (acceptSftp) => {
          const sftp = acceptSftp();
          const files = new Map<number, FileHandle>();
          const dirs = new Map<number, { path: string; done: boolean }>();
          let next = 0;
          const handleOf = (id: number): Buffer => {
            const buffer = Buffer.alloc(4);
            buffer.writeUInt32BE(id);
            return buffer;
          };
          const fail = (reqid: number, error: unknown) => sftp.status(reqid, (error as NodeJS.ErrnoException).code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE : STATUS_CODE.FAILURE);
          const attrsOf = (s: Awaited<ReturnType<typeof stat>>) => ({ mode: Number(s.mode), uid: 0, gid: 0, size: Number(s.size), atime: Math.floor(Number(s.atimeMs) / 1000), mtime: Math.floor(Number(s.mtimeMs) / 1000) });
          sftp.on('REALPATH', (reqid, path) => {
            const normal = posix.normalize(`/${path}`);
            sftp.name(reqid, [{ filename: normal, longname: normal, attrs: { mode: 0, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 } }]);
          });
          const statPath = (reqid: number, path: string) => stat(local(path)).then((s) => sftp.attrs(reqid, attrsOf(s)), (e: unknown) => fail(reqid, e));
          sftp.on('STAT', statPath);
          sftp.on('LSTAT', statPath);
          sftp.on('OPENDIR', (reqid, path) => {
            stat(local(path)).then((s) => {
              if (!s.isDirectory()) return sftp.status(reqid, STATUS_CODE.FAILURE);
              dirs.set(++next, { path: local(path), done: false });
              return sftp.handle(reqid, handleOf(next));
            }, (e: unknown) => fail(reqid, e));
          });
          sftp.on('READDIR', (reqid, handle) => {
            const dir = dirs.get(handle.readUInt32BE(0));
            if (!dir) return sftp.status(reqid, STATUS_CODE.FAILURE);
            if (dir.done) return sftp.status(reqid, STATUS_CODE.EOF);
            dir.done = true;
            readdir(dir.path).then(async (names) => {
              const entries = await Promise.all(names.map(async (name) => {
                const s = await stat(join(dir.path, name));
                const longname = `${s.isDirectory() ? 'd' : '-'}rw-r--r-- 1 test test ${s.size} Jan 1 00:00 ${name}`;
                return { filename: name, longname, attrs: attrsOf(s) };
              }));
              sftp.name(reqid, entries);
            }, (e: unknown) => fail(reqid, e));
          });
          sftp.on('OPEN', (reqid, filename, flags) => {
            const mode = utils.sftp.flagsToString(flags) ?? 'r';
            open(local(filename), mode).then((file) => {
              files.set(++next, file);
              sftp.handle(reqid, handleOf(next));
            }, (e: unknown) => fail(reqid, e));
          });
          sftp.on('READ', (reqid, handle, offset, length) => {
            const file = files.get(handle.readUInt32BE(0));
            if (!file) return sftp.status(reqid, STATUS_CODE.FAILURE);
            const buffer = Buffer.alloc(length);
            file.read(buffer, 0, length, offset).then(({ bytesRead }) => {
              if (bytesRead === 0) sftp.status(reqid, STATUS_CODE.EOF);
              else sftp.data(reqid, buffer.subarray(0, bytesRead));
            }, (e: unknown) => fail(reqid, e));
          });
          sftp.on('WRITE', (reqid, handle, offset, data) => {
            const file = files.get(handle.readUInt32BE(0));
            if (!file) return sftp.status(reqid, STATUS_CODE.FAILURE);
            file.write(data, 0, data.length, offset).then(() => sftp.status(reqid, STATUS_CODE.OK), (e: unknown) => fail(reqid, e));
          });
          sftp.on('FSTAT', (reqid, handle) => {
            const file = files.get(handle.readUInt32BE(0));
            if (!file) return sftp.status(reqid, STATUS_CODE.FAILURE);
            file.stat().then((s) => sftp.attrs(reqid, attrsOf(s)), (e: unknown) => fail(reqid, e));
          });
          sftp.on('CLOSE', (reqid, handle) => {
            const id = handle.readUInt32BE(0);
            const file = files.get(id);
            files.delete(id);
            dirs.delete(id);
            (file ? file.close() : Promise.resolve()).then(() => sftp.status(reqid, STATUS_CODE.OK), (e: unknown) => fail(reqid, e));
          });
          sftp.on('RENAME', (reqid, from, to) => {
            // SFTP v3 rename fails when the target exists, as POSIX servers report it.
            stat(local(to)).then(() => sftp.status(reqid, STATUS_CODE.FAILURE), () => rename(local(from), local(to)).then(() => sftp.status(reqid, STATUS_CODE.OK), (e: unknown) => fail(reqid, e)));
          });
          sftp.on('REMOVE', (reqid, path) => {
            unlink(local(path)).then(() => sftp.status(reqid, STATUS_CODE.OK), (e: unknown) => fail(reqid, e));
          });
          sftp.on('MKDIR', (reqid, path) => {
            mkdir(local(path)).then(() => sftp.status(reqid, STATUS_CODE.OK), (e: unknown) => fail(reqid, e));
          });
          sftp.on('SETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
          sftp.on('FSETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    hostKey,
    close: () => new Promise<void>((resolve) => {
      for (const client of clients) client.end();
      server.close(() => resolve());
    }),
  };
}
