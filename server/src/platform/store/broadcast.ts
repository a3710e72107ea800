import pg from 'pg';
import type { Queryable } from './port.js';

/**
 * Messages to every Gridshare process on one PostgreSQL database (PostgreSQL's LISTEN/NOTIFY):
 * what one process learns that the others must show too (a reading it ingested, for the live
 * views their browsers hold open). Not durable: a process that is not listening at that moment
 * misses it, so only what may be missed goes this way (work goes through tables and leases).
 */
export interface Broadcast {
  /** Sends `payload` to every listener of `channel`, this process's own included. */
  publish(channel: string, payload: string): Promise<void>;
  /** Calls `onMessage` with every payload sent to `channel` from now on. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more. */
export const MAX_BROADCAST_BYTES = 7_900;

const RECONNECT_FIRST_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/**
 * A broadcast over the server at `url`: one connection of its own holds the LISTENs (a pooled one
 * would be handed to others), sent notifications go through `db`. A lost listening connection is
 * opened again (waiting longer after each failure) and listens to its channels again; what was
 * sent in between is missed.
 */
export async function openBroadcast(url: string, db: Queryable, log: (line: string) => void): Promise<Broadcast> {
  const handlers = new Map<string, ((payload: string) => void)[]>();
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  const quote = (channel: string) => `"${channel.replace(/"/g, '""')}"`;
  const dispatch = (message: pg.Notification) => {
    for (const handler of handlers.get(message.channel) ?? []) {
      try {
        handler(message.payload ?? '');
      } catch (error) {
        log(`gridshare: broadcast on ${message.channel} not handled: ${(error as Error).message}`);
      }
    }
  };

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url });
    next.on('notification', dispatch);
    // A lost connection must not end the process: it is replaced.
    next.on('error', (error) => lost(next, error));
    next.on('end', () => lost(next, new Error('connection ended')));
    await next.connect();
    for (const channel of handlers.keys()) await next.query(`LISTEN ${quote(channel)}`);
    client = next;
    failures = 0;
  };

  const lost = (which: pg.Client, error: Error) => {
    if (closed || client !== which) return;
    client = undefined;
    which.end().catch(() => undefined);
    log(`gridshare: the broadcast connection to PostgreSQL was lost (${error.message}); listening again`);
    reconnectLater();
  };

  const reconnectLater = () => {
    if (closed || retry) return;
    const wait = Math.min(RECONNECT_FIRST_MS * 2 ** failures, RECONNECT_MAX_MS);
    failures += 1;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch((error: Error) => {
        log(`gridshare: the broadcast connection to PostgreSQL failed: ${error.message}`);
        reconnectLater();
      });
    }, wait);
    retry.unref();
  };

  await connect();
  return {
    async publish(channel, payload) {
      await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async listen(channel, onMessage) {
      const known = handlers.get(channel);
      if (known) {
        known.push(onMessage);
        return;
      }
      handlers.set(channel, [onMessage]);
      // Without a connection now, the next one listens to it.
      await client?.query(`LISTEN ${quote(channel)}`);
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
