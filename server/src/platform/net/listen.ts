import { createServer, type Server } from 'node:net';

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
 * is taken (a system Mosquitto on 1883, say) is replaced by a free one, and `movedFrom` says so
 * so the caller can tell the user loudly.
 */
export async function listen(
  server: Server,
  options: { port: number; host: string; explicit: boolean; what: string; flag: string },
): Promise<{ port: number; movedFrom: number | undefined }> {
  try {
    return { port: await tryListen(server, options.port, options.host), movedFrom: undefined };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    if (options.explicit || options.port === 0) throw new PortInUseError(options.what, options.port, options.flag);
    return { port: await tryListen(server, 0, options.host), movedFrom: options.port };
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
