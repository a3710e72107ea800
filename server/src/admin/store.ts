import type { Queryable } from '../platform/store/db.js';

/** The admin console owns no table; it only asks the database how large it is. */
export async function databaseBytes(db: Queryable): Promise<number> {
  return (await db.query<{ bytes: number }>('SELECT pg_database_size(current_database()) AS bytes'))[0]!.bytes;
}
