import { createConnection, type FieldPacket, type RowDataPacket } from 'mysql2/promise';
import pg from 'pg';
import { Type, type Static } from 'typebox';
import type { Problem, TargetReading } from '../domain/readings.js';
import { recordMapper, recordMappingProblems, type RecordMapping } from '../domain/records.js';
import { batchQuery, cutBatch, normaliseUserQuery, tieQuery, watermarkText, type SqlDialect } from '../domain/sql.js';
import { timeZoneProblem, timestampFormatProblem } from '../domain/timestamps.js';
import { ConnectorError, networkFailure, type ConnectorKind, type RunContext } from '../kind.js';
import { registerKind } from '../registry.js';
import { Host, Secret, TimeZone, TimestampFormatSchema, ValueMappingSchema } from '../schema.js';

/**
 * `sql`: rows of a building-automation or metering database, PostgreSQL (pg) or MariaDB/MySQL
 * (mysql2: maintained, promise-based, prepared statements). The manager's SELECT is wrapped so
 * the database returns only rows after the watermark, a batch at a time, in a read-only
 * transaction with a statement timeout (see domain/sql.ts). The watermark is the database's own
 * text of the last row's value, bound back as a parameter.
 *
 * Timestamps keep their zone: PostgreSQL `timestamptz` arrives with its offset (the session is
 * UTC), MySQL `TIMESTAMP` is read in a UTC session and marked so; `timestamp without time zone`
 * and `DATETIME` are wall-clock time in the configured zone.
 */
const Config = Type.Object({
  dialect: Type.Enum(['postgres', 'mysql'], { description: 'postgres, or mysql for MariaDB and MySQL' }),
  host: Host,
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'Default 5432 (postgres) or 3306 (mysql)' })),
  database: Type.String({ minLength: 1, maxLength: 128 }),
  user: Type.String({ minLength: 1, maxLength: 128 }),
  password: Type.Optional(Secret('Database password')),
  ssl: Type.Boolean({ default: false, description: 'TLS with the server\'s certificate checked' }),
  query: Type.String({ minLength: 1, maxLength: 20_000, description: 'One SELECT; Gridshare adds the watermark filter, order and limit' }),
  watermarkColumn: Type.String({ minLength: 1, maxLength: 128, description: 'A column that grows with new rows (a timestamp or an id)' }),
  startAfter: Type.Optional(Type.String({ maxLength: 64, description: 'Watermark to start after on the first run' })),
  mapping: Type.Object({
    timestampColumn: Type.String({ minLength: 1, maxLength: 128 }),
    timestampFormat: TimestampFormatSchema,
    timeZone: TimeZone,
    values: Type.Array(ValueMappingSchema('Column name'), { minItems: 1, maxItems: 200 }),
  }, { additionalProperties: false }),
  batchSize: Type.Integer({ minimum: 1, maximum: 100_000, default: 5_000, description: 'Rows per run; more wait for the next run' }),
  statementTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
  connectTimeoutMs: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000 }),
}, { additionalProperties: false });
type Config = Static<typeof Config>;

const State = Type.Object({ watermark: Type.Optional(Type.String({ maxLength: 256 })) });

/** Rows of one batch as plain records, and the columns whose text is UTC without saying so. */
interface Rows {
  readonly rows: Record<string, unknown>[];
  readonly utcColumns: ReadonlySet<string>;
}

interface Database {
  readonly details: Record<string, string>;
  query(text: string, params: readonly string[]): Promise<Rows>;
  close(): Promise<void>;
}

/** The tie query's cap: a watermark value shared by more rows than this is not a watermark. */
const TIE_FACTOR = 10;

// PostgreSQL date and time types as the server writes them (with the session in UTC).
const TEXT_TYPES = new Set([1082, 1114, 1184]);
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (TEXT_TYPES.has(oid) ? (value: string) => value : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

async function openPostgres(config: Config, signal: AbortSignal): Promise<Database> {
  const client = new pg.Client({
    host: config.host, port: config.port ?? 5432, database: config.database, user: config.user, password: config.password,
    ssl: config.ssl ? { rejectUnauthorized: true } : false,
    connectionTimeoutMillis: config.connectTimeoutMs,
    application_name: 'gridshare-connector',
    types: pgTypes,
  });
  client.on('error', () => undefined);
  const close = (): void => {
    client.end().catch(() => undefined);
  };
  signal.addEventListener('abort', close, { once: true });
  try {
    await client.connect();
  } catch (error) {
    signal.removeEventListener('abort', close);
    throw databaseError(error, config, signal);
  }
  const version = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '';
  return {
    details: { server: `PostgreSQL ${version}` },
    async query(text, params) {
      try {
        await client.query('BEGIN TRANSACTION READ ONLY');
        await client.query(`SET LOCAL statement_timeout = ${config.statementTimeoutMs}`);
        await client.query(`SET LOCAL TimeZone = 'UTC'`);
        const result = await client.query({ text, values: [...params] });
        await client.query('COMMIT');
        return { rows: result.rows as Record<string, unknown>[], utcColumns: new Set() };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw databaseError(error, config, signal);
      }
    },
    async close() {
      signal.removeEventListener('abort', close);
      await client.end().catch(() => undefined);
    },
  };
}

// MySQL's TIMESTAMP column types (TIMESTAMP, TIMESTAMP2): stored in UTC, shown in the session zone.
const MYSQL_TIMESTAMP_TYPES = new Set([7, 17]);

async function openMysql(config: Config, signal: AbortSignal): Promise<Database> {
  let connection: Awaited<ReturnType<typeof createConnection>>;
  try {
    connection = await createConnection({
      host: config.host, port: config.port ?? 3306, database: config.database, user: config.user, password: config.password,
      ssl: config.ssl ? { rejectUnauthorized: true } : undefined,
      connectTimeout: config.connectTimeoutMs,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      timezone: 'Z',
    });
  } catch (error) {
    throw databaseError(error, config, signal);
  }
  const close = (): void => connection.destroy();
  signal.addEventListener('abort', close, { once: true });
  connection.on('error', () => undefined);
  const [versionRows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
  const version = String(versionRows[0]?.['version'] ?? '');
  const mariadb = /mariadb/i.test(version);
  // MariaDB limits statements in seconds, MySQL (SELECT only) in milliseconds.
  await connection.query(mariadb ? `SET SESSION max_statement_time = ${config.statementTimeoutMs / 1000}` : `SET SESSION max_execution_time = ${config.statementTimeoutMs}`);
  await connection.query(`SET SESSION time_zone = '+00:00'`);
  return {
    details: { server: `${mariadb ? 'MariaDB' : 'MySQL'} ${version}` },
    async query(text, params) {
      try {
        await connection.query('START TRANSACTION READ ONLY');
        const [rows, fields] = await connection.execute<RowDataPacket[]>(text, [...params]);
        await connection.query('COMMIT');
        const utcColumns = new Set((fields as FieldPacket[]).filter((f) => MYSQL_TIMESTAMP_TYPES.has(f.columnType ?? f.type ?? -1)).map((f) => f.name));
        return { rows: rows as Record<string, unknown>[], utcColumns };
      } catch (error) {
        await connection.query('ROLLBACK').catch(() => undefined);
        throw databaseError(error, config, signal);
      }
    },
    async close() {
      signal.removeEventListener('abort', close);
      await connection.end().catch(() => undefined);
    },
  };
}

function databaseError(error: unknown, config: Config, signal: AbortSignal): Error {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  if (error instanceof ConnectorError) return error;
  const e = error as Error & { code?: string; errno?: number };
  const at = `${config.dialect === 'postgres' ? 'PostgreSQL' : 'MySQL'} at ${config.host}:${config.port ?? (config.dialect === 'postgres' ? 5432 : 3306)}`;
  const unreachable = networkFailure(error, at);
  if (unreachable) return unreachable;
  if (/timeout/i.test(e.message) && !/statement/i.test(e.message)) return new ConnectorError('timeout', `${at}: ${e.message}`);
  if (e.code === '28P01' || e.code === '28000' || e.code === 'ER_ACCESS_DENIED_ERROR' || e.code === 'ER_DBACCESS_DENIED_ERROR') {
    return new ConnectorError('auth', `${at} refused user ${config.user}: ${e.message}`);
  }
  return new ConnectorError('source', `${at}: ${e.message}`);
}

const open = (config: Config, signal: AbortSignal): Promise<Database> => (config.dialect === 'postgres' ? openPostgres(config, signal) : openMysql(config, signal));

function mappingOf(config: Config): RecordMapping {
  const m = config.mapping;
  return { timestampField: m.timestampColumn, timestampFormat: m.timestampFormat, timeZone: m.timeZone, values: m.values };
}

interface Batch {
  readonly readings: TargetReading[];
  readonly problems: Problem[];
  readonly watermark: string | undefined;
  readonly rows: number;
  readonly more: boolean;
  readonly details: Record<string, string>;
}

async function readBatch(config: Config, after: string | undefined, limit: number, context: RunContext): Promise<Batch> {
  const dialect = config.dialect as SqlDialect;
  const normal = normaliseUserQuery(config.query);
  if ('problem' in normal) throw new ConnectorError('config', `query: ${normal.problem}`);
  const db = await open(config, context.signal);
  try {
    const column = config.watermarkColumn;
    const batch = await db.query(batchQuery(dialect, normal.query, column, after !== undefined, limit + 1), after === undefined ? [] : [after]);
    let cut = cutBatch(batch.rows, limit, (row) => watermarkText(row[column]));
    let result = batch;
    if (cut.kind === 'tie') {
      result = await db.query(tieQuery(dialect, normal.query, column, limit * TIE_FACTOR), [cut.value]);
      if (result.rows.length >= limit * TIE_FACTOR) throw new ConnectorError('source', `more than ${limit * TIE_FACTOR} rows share ${column} = ${cut.value}: ${column} cannot serve as a watermark`);
      cut = { kind: 'rows', rows: result.rows, watermark: cut.value, more: true };
    }
    const mapRecord = recordMapper(mappingOf(config));
    const readings: TargetReading[] = [];
    const problems: Problem[] = [];
    const timestampColumn = config.mapping.timestampColumn;
    const utc = result.utcColumns.has(timestampColumn);
    cut.rows.forEach((row) => {
      const get = (field: string): unknown => {
        const value = row[field];
        return utc && field === timestampColumn && typeof value === 'string' ? `${value}Z` : value;
      };
      const mapped = mapRecord(get, `${column} ${watermarkText(row[column]) ?? '?'}`);
      readings.push(...mapped.readings);
      problems.push(...mapped.problems);
    });
    return { readings, problems, watermark: cut.watermark ?? after, rows: cut.rows.length, more: cut.more, details: db.details };
  } finally {
    await db.close();
  }
}

const kind: ConnectorKind<typeof Config, typeof State> = {
  name: 'sql',
  summary: 'Rows of a PostgreSQL or MariaDB/MySQL query, only the new ones each run (watermark column)',
  configSchema: Config,
  stateSchema: State,
  initialState: {},
  defaultTimeoutMs: 60_000,
  configProblems(config) {
    const problems = recordMappingProblems(mappingOf(config)).map((p) => `mapping/${p}`);
    const normal = normaliseUserQuery(config.query);
    if ('problem' in normal) problems.push(`query: ${normal.problem}`);
    const zone = timeZoneProblem(config.mapping.timeZone);
    if (zone) problems.push(`mapping/timeZone: ${zone}`);
    const format = timestampFormatProblem(config.mapping.timestampFormat);
    if (format) problems.push(`mapping/timestampFormat: ${format}`);
    return problems;
  },
  async test(config, context, limit) {
    const batch = await readBatch(config, config.startAfter, Math.max(1, Math.ceil(limit / config.mapping.values.length)), context);
    if (batch.rows === 0) throw new ConnectorError('source', `the query returned no rows${config.startAfter ? ` after ${config.startAfter}` : ''}`);
    return { readings: batch.readings.slice(0, limit), problems: batch.problems, details: { ...batch.details, rows: String(batch.rows) } };
  },
  async run(config, state, context) {
    const batch = await readBatch(config, state.watermark ?? config.startAfter, config.batchSize, context);
    return {
      readings: batch.readings,
      problems: batch.problems,
      more: batch.more,
      state: batch.watermark === undefined ? {} : { watermark: batch.watermark },
      details: { ...batch.details, rows: String(batch.rows) },
    };
  },
};

registerKind(kind);
