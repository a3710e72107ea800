/**
 * Reading only new rows from a SQL source: the manager's query is wrapped so the database
 * filters and orders by a watermark column (`> $1`, the last value read, bound as a parameter)
 * and returns at most a batch. Rows sharing the batch's last watermark value could be cut by the
 * limit, and `>` would then skip the rest next time; so such a trailing group is left for the next
 * run, and a batch that is one group only is completed by a second query for `= value`.
 */
export type SqlDialect = 'postgres' | 'mysql';

export const MAX_QUERY_LENGTH = 20_000;

export function quoteIdentifier(dialect: SqlDialect, name: string): string {
  return dialect === 'postgres' ? `"${name.replaceAll('"', '""')}"` : `\`${name.replaceAll('`', '``')}\``;
}

/** The query without a trailing semicolon, or a problem: it must be one SELECT (or WITH … SELECT). */
export function normaliseUserQuery(query: string): { query: string } | { problem: string } {
  const trimmed = query.trim().replace(/;\s*$/, '');
  if (trimmed.length === 0) return { problem: 'query is empty' };
  if (trimmed.length > MAX_QUERY_LENGTH) return { problem: `query is longer than ${MAX_QUERY_LENGTH} characters` };
  if (!/^(select|with)\b/i.test(trimmed)) return { problem: 'query must be a SELECT (or WITH … SELECT)' };
  return { query: trimmed };
}

const placeholder = (dialect: SqlDialect): string => (dialect === 'postgres' ? '$1' : '?');

/** The batch query: rows after the watermark (all rows when `hasWatermark` is false), in watermark order, at most `limit`. */
export function batchQuery(dialect: SqlDialect, query: string, watermarkColumn: string, hasWatermark: boolean, limit: number): string {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  const column = `gridshare_source.${quoteIdentifier(dialect, watermarkColumn)}`;
  const filter = hasWatermark ? `${column} > ${placeholder(dialect)}` : `${column} IS NOT NULL`;
  return `SELECT * FROM (${query}) AS gridshare_source WHERE ${filter} ORDER BY ${column} LIMIT ${limit}`;
}

/** All rows at exactly one watermark value (at most `limit`). */
export function tieQuery(dialect: SqlDialect, query: string, watermarkColumn: string, limit: number): string {
  const column = `gridshare_source.${quoteIdentifier(dialect, watermarkColumn)}`;
  return `SELECT * FROM (${query}) AS gridshare_source WHERE ${column} = ${placeholder(dialect)} LIMIT ${limit}`;
}

/**
 * A watermark as text, kept in the connector's state and bound back as the parameter: the
 * database's own text for timestamps (microseconds survive, where a JavaScript Date would cut
 * them), decimal text for numbers.
 */
export function watermarkText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  return undefined;
}

export type BatchCut<R> =
  | { readonly kind: 'rows'; readonly rows: readonly R[]; readonly watermark: string | undefined; readonly more: boolean }
  | { readonly kind: 'tie'; readonly value: string };

/**
 * Which rows of a batch to take and the new watermark (see the module comment). The batch
 * query asks for `limit + 1` rows: the extra row says whether the last value's group goes on.
 */
export function cutBatch<R>(rows: readonly R[], limit: number, watermarkOf: (row: R) => string | undefined): BatchCut<R> {
  if (rows.length <= limit) return { kind: 'rows', rows, watermark: rows.length === 0 ? undefined : watermarkOf(rows[rows.length - 1]!), more: false };
  const last = watermarkOf(rows[limit - 1]!);
  if (watermarkOf(rows[limit]!) !== last) return { kind: 'rows', rows: rows.slice(0, limit), watermark: last, more: true };
  let end = limit - 1;
  while (end > 0 && watermarkOf(rows[end - 1]!) === last) end--;
  if (end === 0) return { kind: 'tie', value: last! };
  return { kind: 'rows', rows: rows.slice(0, end), watermark: watermarkOf(rows[end - 1]!), more: true };
}
