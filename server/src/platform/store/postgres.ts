import pg from 'pg';
import { DEFAULT_POOL_SIZE, OID, parseInt8, type Db, type Queryable } from './port.js';
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

/** pg-pool's words when a caller waited connectionTimeoutMillis for one of the pool's connections to come free. */
const POOL_WAIT_TIMED_OUT = 'timeout exceeded when trying to connect';

/**
 * A lost connection is the database being unavailable, and every pooled connection busy for as
 * long as a connection may take is the database being busy: 503 to an HTTP caller, no
 * acknowledgement to a device, not a bug.
 */
export function unavailable(error: unknown, pool?: pg.Pool): unknown {
  if (isConnectionLoss(error)) return new UnavailableError(`the database is unavailable (${(error as Error).message}); nothing was acknowledged, try again`);
  if (pool && (error as Error).message === POOL_WAIT_TIMED_OUT) {
    return new UnavailableError(`the database is busy: all ${pool.options.max} connections of this process were in use for ${CONNECT_TIMEOUT_MS / 1000} s (${pool.waitingCount} more waiting); nothing was acknowledged, try again`);
  }
  return error;
}

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  const pool = client instanceof pg.Pool ? client : undefined;
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      try {
        const result = await client.query({ text: sql, values: [...params], types });
        return result.rows as Row[];
      } catch (error) {
        throw unavailable(error, pool);
      }
    },
    async exec(sql: string) {
      try {
        await client.query(sql);
      } catch (error) {
        throw unavailable(error, pool);
      }
    },
  };
}

const report = (error: Error) => process.stderr.write(`gridshare: PostgreSQL connection lost: ${error.message}\n`);

export const CONNECT_TIMEOUT_MS = 10_000;

export async function openPostgres(url: string, poolSize = DEFAULT_POOL_SIZE): Promise<Db> {
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new Error(`the database pool size must be a positive whole number, not ${poolSize}`);
  // A server that does not answer (down, a dropped route, a full connection table) fails a request
  // after CONNECT_TIMEOUT_MS with "database unavailable" instead of holding it open for ever.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
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
      const client = await pool.connect().catch((error: unknown) => { throw unavailable(error, pool); });
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
