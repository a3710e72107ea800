import type { Db } from '../../src/platform/store/db.js';

const TABLES = ['users', 'communities', 'members', 'metering_points', 'devices', 'tariffs'] as const;

/** A fingerprint of every registry row, to prove that a refused request changed nothing. */
export async function snapshot(db: Db): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of TABLES) {
    const rows = await db.query<{ digest: string | null; n: number }>(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest, count(*)::int AS n FROM ${table} t`,
    );
    result[table] = `${rows[0]!.n}:${rows[0]!.digest}`;
  }
  return result;
}
