import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { startFtpServer, startSftpServer, type FileServer } from './support/file-servers.js';
import { startModbusDevice, type ModbusDevice } from './support/modbus-device.js';

/**
 * Every connector kind and transport on one platform, each through the API as a manager would
 * set it up: modbus-registers, csv-files from a local folder, FTP and SFTP, sql on PostgreSQL and
 * on MariaDB. Each instance reads its real server on loopback on the `connectors` job, its
 * readings go through ingest to the quarter-hour intervals of the metering point whose billing
 * meter it is bound to, and its status says so. (http-json and modbus-sunspec: instances.test.ts.)
 */
const QUARTER = 900_000;
const base = Math.floor(Date.now() / QUARTER) * QUARTER - 3 * 3_600_000;
const at = (i: number) => new Date(base + i * QUARTER).toISOString();
/** A cumulative import register in kWh rising `stepWh` every quarter hour from `base`. */
const kwh = (stepWh: number, i: number) => ((1_000_000 + i * stepWh) / 1000).toFixed(3);
const csv = (stepWh: number) => ['ts,kwh', ...Array.from({ length: 9 }, (_, i) => `${at(i)},${kwh(stepWh, i)}`)].join('\n');
const CSV_MAPPING = { timestampColumn: 'ts', values: [{ field: 'kwh', target: 'meter', quantity: 'energy.import', unit: 'kWh' }] };
const SQL_MAPPING = { timestampColumn: 'ts', values: [{ field: 'energy_kwh', target: 'meter', quantity: 'energy.import', unit: 'kWh' }] };
const table = `gridshare_every_${randomBytes(4).toString('hex')}`;

let tp: TestPlatform;
let w: World;
let meter: ModbusDevice;
let ftp: FileServer;
let sftp: FileServer;
let mariadb: Connection;
let postgres: pg.Client;
const folders: Record<'local' | 'ftp' | 'sftp', string> = { local: '', ftp: '', sftp: '' };

beforeAll(async () => {
  for (const name of ['local', 'ftp', 'sftp'] as const) folders[name] = await mkdtemp(join(tmpdir(), `gridshare-every-${name}-`));
  [tp, meter, ftp, sftp, mariadb, postgres] = await Promise.all([
    startTestPlatform('pglite'),
    startModbusDevice({ holding: new Map([[0, 0], [1, 0]]) }),
    startFtpServer(folders.ftp, 'gateway', 'ftp-s3cret'),
    startSftpServer(folders.sftp, 'gateway', 'sftp-s3cret'),
    createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', connectTimeout: 2000, timezone: 'Z' }),
    (async () => {
      const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', connectionTimeoutMillis: 2000 });
      await client.connect();
      return client;
    })(),
  ]);
  w = await buildWorld(tp);
  await mariadb.query(`SET time_zone = '+00:00'`);
  await mariadb.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, ts TIMESTAMP(3) NOT NULL, energy_kwh DECIMAL(14,3) NOT NULL)`);
  await postgres.query(`CREATE TABLE ${table} (ts timestamptz NOT NULL, energy_kwh numeric NOT NULL)`);
}, 20_000);

afterAll(async () => {
  await Promise.allSettled([
    mariadb?.query(`DROP TABLE IF EXISTS ${table}`).then(() => mariadb.end()),
    postgres?.query(`DROP TABLE IF EXISTS ${table}`).then(() => postgres.end()),
    meter?.close(), ftp?.close(), sftp?.close(), tp?.close(),
  ]);
  await Promise.all(Object.values(folders).filter(Boolean).map((f) => rm(f, { recursive: true, force: true })));
});

/** PostgreSQL rows i in [from, to) of the register rising `step` Wh per quarter hour. */
async function insertPostgres(step: number, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await postgres.query(`INSERT INTO ${table} VALUES ($1, $2)`, [at(i), kwh(step, i)]);
}
async function insertMariadb(step: number, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await mariadb.query(`INSERT INTO ${table} VALUES (?, ?, ?)`, [i + 1, at(i).replace('T', ' ').replace('Z', ''), kwh(step, i)]);
}

describe('every connector kind through the API, the job and ingest to intervals (pglite)', () => {
  const manager = () => ({ token: w.managerA.token });
  interface Source { id: string; pointId: string; deviceId: string }

  /** A metering point of memberA with its own billing meter, and an instance of `kind` bound to it. */
  async function instance(kind: string, config: unknown): Promise<Source> {
    const point = await tp.call('POST', `/api/v1/communities/${w.communityA}/metering-points`, { token: w.memberA.token, body: { name: unique(`${kind} `), gridConnectionId: unique('AT001GC'), role: 'consumer' } });
    expect(point.status).toBe(201);
    const device = await tp.call('POST', `/api/v1/communities/${w.communityA}/devices`, { ...manager(), body: { kind: 'meter-reader', name: unique(`${kind} meter `), meteringPointId: point.body.id, role: 'billing-meter' } });
    expect(device.status).toBe(201);
    const created = await tp.call('POST', `/api/v1/communities/${w.communityA}/connectors`, {
      ...manager(), body: { kind, name: unique(`${kind} `), config, bindings: [{ target: 'meter', deviceId: device.body.id }], intervalS: 900, jitterS: 0 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { id: created.body.id, pointId: point.body.id, deviceId: device.body.id };
  }
  const storedReadings = async (deviceId: string) =>
    (await tp.platform.db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE device_id = $1', [deviceId]))[0]!.n;
  const importWh = async (pointId: string, from: number, to: number) =>
    (await tp.call('GET', `/api/v1/metering-points/${pointId}/intervals?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`, { token: w.memberA.token }))
      .body.map((i: { start: string; importWh: number; quality: string }) => [i.start, i.importWh, i.quality]);
  const quarters = (from: number, steps: number[]) => steps.map((wh, i) => [new Date(from + i * QUARTER).toISOString(), wh, 'measured']);
  const status = async (id: string) => (await tp.call('GET', `/api/v1/connectors/${id}`, manager())).body.status;
  const runAll = async () => {
    await tp.platform.connectors.flush();
    await tp.platform.intervals.flush();
  };

  it('reads csv-files (local, FTP, SFTP) and sql (PostgreSQL, MariaDB) to exact intervals; files are renamed or moved; sql reads only new rows the second time', async () => {
    await writeFile(join(folders.local, 'export.csv'), csv(250));
    await writeFile(join(folders.ftp, 'export.csv'), csv(300));
    await writeFile(join(folders.sftp, 'export.csv'), csv(350));
    await mkdir(join(folders.sftp, 'done'));
    await insertPostgres(400, 0, 5);
    await insertMariadb(450, 0, 5);

    const local = await instance('csv-files', { source: { type: 'local', folder: folders.local }, mapping: CSV_MAPPING });
    const overFtp = await instance('csv-files', { source: { type: 'ftp', host: '127.0.0.1', port: ftp.port, user: 'gateway', password: 'ftp-s3cret' }, mapping: CSV_MAPPING });
    const overSftp = await instance('csv-files', {
      source: { type: 'sftp', host: '127.0.0.1', port: sftp.port, username: 'gateway', password: 'sftp-s3cret', folder: '/' }, mapping: CSV_MAPPING, afterRead: { action: 'move', folder: 'done' },
    });
    const onPostgres = await instance('sql', { dialect: 'postgres', host: '127.0.0.1', port: 5432, database: 'test', user: 'postgres', query: `SELECT ts, energy_kwh FROM ${table}`, watermarkColumn: 'ts', mapping: SQL_MAPPING });
    const onMariadb = await instance('sql', { dialect: 'mysql', host: '127.0.0.1', port: 3306, database: 'test', user: 'root', query: `SELECT id, ts, energy_kwh FROM ${table}`, watermarkColumn: 'id', mapping: SQL_MAPPING });

    await runAll();
    for (const [source, step] of [[local, 250], [overFtp, 300], [overSftp, 350]] as const) {
      expect(await status(source.id)).toMatchObject({ lastOutcome: 'ok', readingsStored: 9, lastError: null, failuresInRow: 0 });
      expect(await storedReadings(source.deviceId)).toBe(9);
      expect(await importWh(source.pointId, base, base + 8 * QUARTER)).toEqual(quarters(base, Array(8).fill(step)));
    }
    // Read files are renamed (local, FTP) or moved (SFTP) once their readings are stored.
    expect(await readdir(folders.local)).toEqual(['export.csv.read']);
    expect(await readdir(folders.ftp)).toEqual(['export.csv.read']);
    expect((await readdir(folders.sftp)).sort()).toEqual(['done']);
    expect(await readdir(join(folders.sftp, 'done'))).toEqual(['export.csv']);
    // Their state was saved: a second run finds nothing new and has nothing left to rename.
    for (const source of [local, overFtp, overSftp]) expect((await tp.call('POST', `/api/v1/connectors/${source.id}/run`, manager())).status).toBe(202);
    await tp.platform.connectors.flush();
    for (const source of [local, overFtp, overSftp]) {
      const runs = (await tp.call('GET', `/api/v1/connectors/${source.id}/runs`, manager())).body;
      expect(runs.map((r: { outcome: string; readingsStored: number; problems: unknown[] }) => [r.outcome, r.readingsStored, r.problems])).toEqual([['ok', 0, []], ['ok', 9, []]]);
      expect(await storedReadings(source.deviceId)).toBe(9);
    }

    for (const [source, step] of [[onPostgres, 400], [onMariadb, 450]] as const) {
      expect(await status(source.id)).toMatchObject({ lastOutcome: 'ok', readingsStored: 5, lastError: null, failuresInRow: 0 });
      // The rows not yet there are missing quarter hours, never zeros.
      expect(await importWh(source.pointId, base, base + 8 * QUARTER)).toEqual([
        ...quarters(base, Array(4).fill(step)), ...quarters(base + 4 * QUARTER, Array(4).fill(null)).map(([start]) => [start, null, 'missing']),
      ]);
    }

    // New rows: the second run reads only those (after the watermark) and stores no reading twice.
    await insertPostgres(400, 5, 9);
    await insertMariadb(450, 5, 9);
    for (const source of [onPostgres, onMariadb]) expect((await tp.call('POST', `/api/v1/connectors/${source.id}/run`, manager())).status).toBe(202);
    await runAll();
    for (const [source, step] of [[onPostgres, 400], [onMariadb, 450]] as const) {
      const runs = (await tp.call('GET', `/api/v1/connectors/${source.id}/runs`, manager())).body;
      expect(runs.map((r: { outcome: string; readingsStored: number }) => [r.outcome, r.readingsStored])).toEqual([['ok', 4], ['ok', 5]]);
      expect(await status(source.id)).toMatchObject({ lastOutcome: 'ok', readingsStored: 9, lastError: null });
      expect(await storedReadings(source.deviceId)).toBe(9);
      expect(await importWh(source.pointId, base, base + 8 * QUARTER)).toEqual(quarters(base, Array(8).fill(step)));
    }
  });

  it('reads modbus-registers from the test Modbus server through ingest, its reading stamped with the run\'s time', async () => {
    meter.holding.set(0, 30);
    meter.holding.set(1, 0x1e84);
    const source = await instance('modbus-registers', {
      host: '127.0.0.1', port: meter.port,
      registers: [{ quantity: 'energy.import', address: 0, function: 'holding', type: 'uint32', wordOrder: 'big', byteOrder: 'big', scale: 1, unit: 'Wh' }],
    });
    const before = Date.now();
    await runAll();
    expect(await status(source.id)).toMatchObject({ lastOutcome: 'ok', readingsStored: 1, lastError: null, failuresInRow: 0 });
    const [stored] = await tp.platform.db.query<{ quantity: string; ts: Date; value: number }>('SELECT quantity, ts, value FROM readings WHERE device_id = $1', [source.deviceId]);
    // 30 × 65536 + 0x1e84 = 1,973,892 Wh.
    expect(stored).toMatchObject({ quantity: 'energy.import', value: 1_973_892 });
    expect(stored!.ts.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(stored!.ts.getTime()).toBeLessThanOrEqual(Date.now());
    // One reading of a register bounds no quarter hour: intervals need a reading on each side of it,
    // i.e. a run at least one quarter-hour boundary later (see the report on issue 16).
    expect((await importWh(source.pointId, base, Date.now())).filter((q: unknown[]) => q[2] === 'measured')).toEqual([]);
  });
});
