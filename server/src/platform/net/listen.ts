import { createServer, type Server } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A port someone else holds, reported with the flag that moves it. */
export class PortInUseError extends Error {
  constructor(readonly what: string, readonly port: number, readonly flag: string) {
    super(`${what} port ${port} is already in use by another program. Stop that program or choose another port with ${flag} <port>.`);
  }
}

function tryListen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Binds a port. A port the user chose must be free (else PortInUseError). A default port that
 * is taken (a system Mosquitto on 1883, say) is replaced by the one used in its place before
 * (`previous`: devices provisioned then were given it), else by a free one. `movedFrom` says the
 * default was moved, `previousLost` that the earlier replacement was taken too, so the caller can
 * tell the user loudly.
 */
export async function listen(
  server: Server,
  options: { port: number; host: string; explicit: boolean; what: string; flag: string; previous?: number | undefined },
): Promise<{ port: number; movedFrom: number | undefined; previousLost?: number }> {
  try {
    return { port: await tryListen(server, options.port, options.host), movedFrom: undefined };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (options.explicit || options.port === 0) throw new PortInUseError(options.what, options.port, options.flag);
  }
  const previous = options.previous;
  if (previous !== undefined && previous !== options.port) {
    try {
      return { port: await tryListen(server, previous, options.host), movedFrom: options.port };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      return { port: await tryListen(server, 0, options.host), movedFrom: options.port, previousLost: previous };
    }
  }
  return { port: await tryListen(server, 0, options.host), movedFrom: options.port };
}

/**
 * The ports used in place of taken defaults, kept in a folder (the artefacts folder, beside the
 * provisioned device files that name them) so a restart uses the same ones again.
 */
export class MovedPortMemory {
  private readonly file: string;

  constructor(folder: string) {
    this.file = join(folder, 'moved-ports.json');
  }

  /** The port used before in place of `what`'s default, if any. */
  previous(what: string): number | undefined {
    const port = this.read()[what];
    return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65_536 ? port : undefined;
  }

  remember(what: string, port: number): void {
    const ports = { ...this.read(), [what]: port };
    mkdirSync(join(this.file, '..'), { recursive: true });
    writeFileSync(this.file, `${JSON.stringify(ports, null, 2)}\n`, { mode: 0o600 });
  }

  private read(): Record<string, unknown> {
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, unknown> : {};
    } catch {
      // None yet, or unreadable: a new free port is chosen and remembered afresh.
      return {};
    }
  }
}

/**
 * Checks, before anything is opened, that a port the user chose is free (else PortInUseError),
 * so a start that cannot run stops before it touches the database. A default port that is
 * taken is moved later by `listen`, so it is not checked here.
 */
export async function checkChosenPort(options: { port: number; host: string; explicit: boolean; what: string; flag: string }): Promise<void> {
  if (!options.explicit || options.port === 0) return;
  const probe = createServer();
  try {
    await tryListen(probe, options.port, options.host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(options.what, options.port, options.flag);
    throw error;
  } finally {
    await new Promise((resolve) => probe.close(resolve));
  }
}
