import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnector, testConnector, type RunReport, type TargetReading } from '../../src/connectors/index.js';

/**
 * The sql kind against the machine's MariaDB (127.0.0.1:3306, root, database test) and
 * PostgreSQL (127.0.0.1:5432, postgres, database test): each test file creates its own table
 * and drops it after. A server that is not there is skipped with a message.
 */
const now = () => Date.UTC(2026, 10, 1, 12, 0, 0);
const table = `gridshare_conn_${randomBytes(4).toString('hex')}`;

async function reachable<T>(name: string, connect: () => Promise<T>): Promise<T | undefined> {
  try {
    return await connect();
  } catch (error) {
    process.stderr.write(`sql connector tests: ${name} not reachable (${(error as Error).message}); its tests are skipped\n`);
    return undefined;
  }
}

const mariadb = await reachable('MariaDB at 127.0.0.1:3306', () => createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', connectTimeout: 2000 }));
const postgres = await reachable('PostgreSQL at 127.0.0.1:5432', async () => {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', connectionTimeoutMillis: 2000 });
  await client.connect();
  return client;
});

/** Runs until no more rows wait, as the scheduler would, and returns every reading and the last report. */
async function drain(config: object, state: unknown): Promise<{ readings: TargetReading[]; last: RunReport; runs: number }> {
  const readings: TargetReading[] = [];
  let current = state;
  for (let runs = 1; ; runs++) {
    const report = await runConnector('sql', config, current, { now });
    if (report.error) throw new Error(report.error.message);
    readings.push(...report.readings);
    current = report.state;
    if (!report.more) return { readings, last: report, runs };
  }
}

const MAPPING = {
  timestampColumn: 'ts',
  values: [
    { field: 'energy_kwh', targetField: 'meter', quantity: 'energy.import', unit: 'kWh' },
    { field: 'power_w', targetField: 'meter', quantity: 'power.import', negativeQuantity: 'power.export', unit: 'W' },
  ],
};

describe.skipIf(!mariadb)('sql against MariaDB', () => {
  const db = mariadb as Connection;
  const config = (extra: object = {}) => ({
    dialect: 'mysql', host: '127.0.0.1', port: 3306, database: 'test', user: 'root',
    query: `SELECT id, ts, local_ts, meter, energy_kwh, power_w FROM ${table}`, watermarkColumn: 'id', mapping: MAPPING, batchSize: 3, ...extra,
  });
  beforeAll(async () => {
    await db.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, ts TIMESTAMP(3) NOT NULL, local_ts DATETIME NOT NULL, meter VARCHAR(40) NOT NULL, energy_kwh DECIMAL(14,3), power_w INT)`);
    await db.query(`SET time_zone = '+00:00'`);
    const rows = Array.from({ length: 7 }, (_, i) => [i + 1, `2026-10-25 00:${String(15 * (i % 4)).padStart(2, '0')}:00.000`, `2026-10-25 02:${String(15 * (i % 4)).padStart(2, '0')}:00`, i % 2 === 0 ? 'north' : 'south', `${1000 + i}.125`, i % 3 === 0 ? -250 : 400]);
    await db.query(`INSERT INTO ${table} VALUES ?`, [rows]);
  });
  afterAll(async () => {
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
  });

  it('reads every row once, a batch per run, then only the rows added since', async () => {
    const { readings, last, runs } = await drain(config(), undefined);
    expect(runs).toBe(3);
    const energy = readings.filter((r) => r.quantity === 'energy.import');
    expect(energy.map((r) => r.value)).toEqual([1_000_125, 1_001_125, 1_002_125, 1_003_125, 1_004_125, 1_005_125, 1_006_125]);
    // TIMESTAMP is UTC, whatever the zone configured for wall-clock columns.
    expect(energy[1]).toEqual({ target: 'south', ts: '2026-10-25T00:15:00Z', quantity: 'energy.import', value: 1_001_125, unit: 'Wh' });
    expect(readings.find((r) => r.quantity === 'power.export' && r.ts === '2026-10-25T00:00:00Z' && r.target === 'north')?.value).toBe(250);
    expect(last.state).toEqual({ watermark: '7' });
    expect(last.details['server']).toMatch(/^MariaDB /);
    await db.query(`INSERT INTO ${table} VALUES (8, '2026-10-25 01:00:00', '2026-10-25 02:00:00', 'north', 2000.5, 10)`);
    const next = await runConnector('sql', config(), last.state, { now });
    expect(next.readings.filter((r) => r.quantity === 'energy.import').map((r) => r.value)).toEqual([2_000_500]);
    expect(next.state).toEqual({ watermark: '8' });
  });

  it('reads DATETIME as wall-clock time in the configured zone, the repeated hour in order', async () => {
    const vienna = config({ query: `SELECT id, local_ts, meter, energy_kwh FROM ${table} WHERE id <= 7`, batchSize: 100, mapping: { ...MAPPING, timestampColumn: 'local_ts', timeZone: 'Europe/Vienna', values: [MAPPING.values[0]] } });
    const report = await runConnector('sql', vienna, undefined, { now });
    expect(report.readings.map((r) => r.ts)).toEqual([
      '2026-10-25T00:00:00Z', '2026-10-25T00:15:00Z', '2026-10-25T00:30:00Z', '2026-10-25T00:45:00Z',
      '2026-10-25T01:00:00Z', '2026-10-25T01:15:00Z', '2026-10-25T01:30:00Z',
    ]);
  });

  it('reports a SQL error, leaves the watermark where it was, and refuses what is not a SELECT', async () => {
    const broken = await runConnector('sql', config({ query: `SELECT id, ts, meter, nonsense FROM ${table}` }), { watermark: '3' }, { now });
    expect(broken.outcome).toBe('failed');
    expect(broken.error).toMatchObject({ code: 'source', message: expect.stringMatching(/Unknown column 'nonsense'/) });
    expect(broken.state).toEqual({ watermark: '3' });
    const write = await testConnector('sql', config({ query: `DELETE FROM ${table}` }), { now });
    expect(write.error).toEqual({ code: 'config', message: 'query: query must be a SELECT (or WITH … SELECT)' });
    const stranger = await testConnector('sql', config({ user: 'gridshare_nobody', password: 'x' }), { now });
    expect(stranger.error?.code).toBe('auth');
    const [count] = await db.query(`SELECT COUNT(*) AS n FROM ${table}`);
    expect((count as { n: number }[])[0]!.n).toBe(8);
  });
});

describe.skipIf(!postgres)('sql against PostgreSQL', () => {
  const db = postgres as pg.Client;
  const config = (extra: object = {}) => ({
    dialect: 'postgres', host: '127.0.0.1', database: 'test', user: 'postgres',
    query: `SELECT ts, meter, energy_kwh, power_w FROM ${table}`, watermarkColumn: 'ts', mapping: MAPPING, batchSize: 3, ...extra,
  });
  beforeAll(async () => {
    await db.query(`CREATE TABLE ${table} (ts timestamptz NOT NULL, meter text NOT NULL, energy_kwh numeric, power_w integer)`);
    // Two meters per quarter hour: rows share watermark values, and a batch of 3 cuts a pair.
    await db.query(`INSERT INTO ${table} SELECT '2026-06-01 10:00:00.123456+00'::timestamptz + (i / 2) * interval '15 minutes', CASE WHEN i % 2 = 0 THEN 'north' ELSE 'south' END, 100 + i, 50 * i FROM generate_series(0, 6) AS i`);
  });
  afterAll(async () => {
    await db.query(`DROP TABLE IF EXISTS ${table}`);
    await db.end();
  });

  it('reads rows that share a watermark value whole, never skipping one, keeping microseconds', async () => {
    const { readings, last } = await drain(config(), undefined);
    // Rows with the same timestamp come in no particular order.
    const energy = readings.filter((r) => r.quantity === 'energy.import').sort((a, b) => a.value - b.value);
    expect(energy.map((r) => [r.target, r.value])).toEqual([
      ['north', 100_000], ['south', 101_000], ['north', 102_000], ['south', 103_000], ['north', 104_000], ['south', 105_000], ['north', 106_000],
    ]);
    expect(energy[0]!.ts).toBe('2026-06-01T10:00:00.123Z');
    expect(last.state).toEqual({ watermark: '2026-06-01 10:45:00.123456+00' });
    const again = await runConnector('sql', config(), last.state, { now });
    expect(again.readings).toEqual([]);
  });

  it('completes a batch that is one watermark value only', async () => {
    const report = await runConnector('sql', config({ batchSize: 1 }), undefined, { now });
    expect(report.readings.filter((r) => r.quantity === 'energy.import').map((r) => r.target).sort()).toEqual(['north', 'south']);
    expect(report.state).toEqual({ watermark: '2026-06-01 10:00:00.123456+00' });
  });

  it('runs the query read-only and within its statement timeout', async () => {
    await db.query(`CREATE SEQUENCE IF NOT EXISTS ${table}_seq`);
    try {
      const writes = await runConnector('sql', config({ query: `SELECT ts, meter, energy_kwh, power_w, nextval('${table}_seq') AS n FROM ${table}` }), undefined, { now });
      expect(writes.error).toMatchObject({ code: 'source', message: expect.stringMatching(/read-only transaction/) });
    } finally {
      await db.query(`DROP SEQUENCE IF EXISTS ${table}_seq`);
    }
    const slow = await runConnector('sql', config({ query: `SELECT ts, meter, energy_kwh, power_w FROM ${table}, pg_sleep(2)`, statementTimeoutMs: 200 }), undefined, { now });
    expect(slow.error).toMatchObject({ code: 'source', message: expect.stringMatching(/statement timeout/) });
    const refused = await testConnector('sql', config({ port: 5433 }), { now });
    expect(refused.error?.code).toBe('unreachable');
  });
});
