import pg from 'pg';
import { OID, parseInt8, type Db, type Queryable } from './port.js';
import { UnavailableError } from '../../kernel/errors.js';

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === OID.int8) return parseInt8;
    if (oid === OID.numeric) return (text: string) => text;
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * The server went away under a statement (restart, failover, pg_terminate_backend): SQLSTATE
 * class 08 (connection exception) or 57P01–57P03 (shutdown), or the socket failed before the
 * server could say anything.
 */
export function isConnectionLoss(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code))) return true;
  if (typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  return typeof message === 'string' && /^Connection terminated|^Client has encountered a connection error|^Client was closed/.test(message);
}

/** A lost connection is the database being unavailable (503 to an HTTP caller, no acknowledgement to a device), not a bug. */
function unavailable(error: unknown): unknown {
  return isConnectionLoss(error)
    ? new UnavailableError(`the database is unavailable (${(error as Error).message}); nothing was acknowledged, try again`)
    : error;
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      try {
        const result = await client.query({ text: sql, values: [...params], types });
        return result.rows as Row[];
      } catch (error) {
        throw unavailable(error);
      }
    },
    async exec(sql: string) {
      try {
        await client.query(sql);
      } catch (error) {
        throw unavailable(error);
      }
    },
  };
}

const report = (error: Error) => process.stderr.write(`gridshare: PostgreSQL connection lost: ${error.message}\n`);

export const CONNECT_TIMEOUT_MS = 10_000;

export async function openPostgres(url: string): Promise<Db> {
  // A server that does not answer (down, a dropped route, a full connection table) fails a request
  // after CONNECT_TIMEOUT_MS with "database unavailable" instead of holding it open for ever.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle connection dropped by the server (restart, failover) must not take the process down;
  // the pool replaces it and /health reports the database while it is unreachable.
  pool.on('error', report);
  // Fail at start, with the server's own message, rather than on the first request.
  const probe = await pool.connect();
  probe.release();
  return {
    kind: 'postgres',
    ...wrap(pool),
    async transaction(work) {
      const client = await pool.connect().catch((error: unknown) => { throw unavailable(error); });
      // A checked-out client has no pool listener: a connection lost mid-transaction emits 'error'
      // on it, which would otherwise end the process. The statement under way fails as well, so the
      // transaction is rolled back (or its COMMIT fails) and the caller reports it.
      let lost: Error | undefined;
      const onError = (error: Error) => {
        lost = error;
        report(error);
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await work(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (isConnectionLoss(error)) lost ??= error as Error;
        else if (!lost) await client.query('ROLLBACK').catch(() => undefined);
        throw unavailable(error);
      } finally {
        client.off('error', onError);
        // A broken connection is destroyed, never handed to the next caller.
        client.release(lost ?? false);
      }
    },
    async ping() {
      await pool.query('SELECT 1');
      return true;
    },
    close: () => pool.end(),
  };
}
