import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { finishConnector, runConnector, testConnector } from '../../src/connectors/index.js';
import { hostKeyFingerprint } from '../../src/connectors/files/sftp.js';
import { startFtpServer, startSftpServer, type FileServer } from './support/file-servers.js';

const now = () => Date.UTC(2026, 10, 1, 12, 0, 0);
let folder: string;
beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'gridshare-csv-'));
});
afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** A utility's export: semicolons, decimal commas, local time in Vienna, energy in kWh. */
const MAPPING = {
  timestampColumn: 'Zeit',
  timestampFormat: 'DD.MM.YYYY HH:mm',
  timeZone: 'Europe/Vienna',
  values: [
    { field: 'Bezug kWh', target: 'AT0010000000000000001000000012345', quantity: 'energy.import', unit: 'kWh' },
    { field: 'Einspeisung kWh', target: 'AT0010000000000000001000000012345', quantity: 'energy.export', unit: 'kWh' },
  ],
};
const EUROPEAN = { decimalSeparator: ',' };
const local = (extra: Record<string, unknown> = {}) => ({ source: { type: 'local', folder }, csv: EUROPEAN, mapping: MAPPING, ...extra });

const CLEAN = 'Zeit;Bezug kWh;Einspeisung kWh\n25.10.2026 01:45;1.234,5;0,0\n25.10.2026 02:00;1.234,75;0,5\n';
/** The night the clocks go back: 02:00–02:45 come twice, in order. */
const FALL_BACK = ['Zeit;Bezug kWh;Einspeisung kWh', ...['02:00', '02:45', '02:00', '02:45', '03:00'].map((t, i) => `25.10.2026 ${t};${100 + i};0`)].join('\n');
/** Spring forward, with a row in the hour that does not exist, a value that is no number and a row cut short. */
const BROKEN = [
  'Zeit;Bezug kWh;Einspeisung kWh',
  '29.03.2026 01:45;10,5;0',
  '29.03.2026 02:30;10,6;0',
  '29.03.2026 03:00;n/a;0,25',
  '29.03.2026 03:15',
  '29.03.2026 03:30;10,8;0',
].join('\r\n');

describe('csv-files from a local folder', () => {
  it('maps rows to readings in UTC, exactly, and renames the file only once the readings are stored', async () => {
    await writeFile(join(folder, 'export-1.csv'), CLEAN);
    const report = await runConnector('csv-files', local(), undefined, { now });
    expect(report.error).toBeUndefined();
    expect(report.outcome).toBe('ok');
    expect(report.readings).toEqual([
      { target: 'AT0010000000000000001000000012345', ts: '2026-10-24T23:45:00Z', quantity: 'energy.import', value: 1_234_500, unit: 'Wh' },
      { target: 'AT0010000000000000001000000012345', ts: '2026-10-24T23:45:00Z', quantity: 'energy.export', value: 0, unit: 'Wh' },
      { target: 'AT0010000000000000001000000012345', ts: '2026-10-25T00:00:00Z', quantity: 'energy.import', value: 1_234_750, unit: 'Wh' },
      { target: 'AT0010000000000000001000000012345', ts: '2026-10-25T00:00:00Z', quantity: 'energy.export', value: 500, unit: 'Wh' },
    ]);
    // Not yet renamed: the readings are not stored until the caller says so.
    expect(await readdir(folder)).toEqual(['export-1.csv']);
    const finished = await finishConnector('csv-files', local(), report.state, { now });
    expect(finished.ok).toBe(true);
    expect(await readdir(folder)).toEqual(['export-1.csv.read']);
    const again = await runConnector('csv-files', local(), finished.state, { now });
    expect(again.readings).toEqual([]);
    expect(again.outcome).toBe('ok');
  });

  it('reads the repeated hour of the fall-back night as two different hours', async () => {
    await writeFile(join(folder, 'night.csv'), FALL_BACK);
    const report = await runConnector('csv-files', local(), undefined, { now });
    const imports = report.readings.filter((r) => r.quantity === 'energy.import').map((r) => [r.ts, r.value]);
    expect(imports).toEqual([
      ['2026-10-25T00:00:00Z', 100_000], ['2026-10-25T00:45:00Z', 101_000],
      ['2026-10-25T01:00:00Z', 102_000], ['2026-10-25T01:45:00Z', 103_000],
      ['2026-10-25T02:00:00Z', 104_000],
    ]);
  });

  it('keeps the good rows of a broken file, and keeps the file renamed .failed with its errors next to it', async () => {
    await writeFile(join(folder, 'broken.csv'), BROKEN);
    await writeFile(join(folder, 'good.csv'), CLEAN);
    const report = await runConnector('csv-files', local(), undefined, { now });
    expect(report.outcome).toBe('partial');
    const imports = report.readings.filter((r) => r.quantity === 'energy.import' && r.target.startsWith('AT')).map((r) => [r.ts, r.value]);
    expect(imports).toEqual([
      ['2026-03-29T00:45:00Z', 10_500], ['2026-03-29T01:30:00Z', 10_800],
      ['2026-10-24T23:45:00Z', 1_234_500], ['2026-10-25T00:00:00Z', 1_234_750],
    ]);
    // The export of the 03:00 row is good even though its import is not.
    expect(report.readings.find((r) => r.ts === '2026-03-29T01:00:00Z')).toMatchObject({ quantity: 'energy.export', value: 250 });
    expect(report.problems).toEqual([
      { where: 'broken.csv:3', message: 'Zeit: local time 2026-03-29 02:30 does not exist in Europe/Vienna (the clocks skip it): is the time zone right?' },
      { where: 'broken.csv:4', message: 'Bezug kWh: "n/a" is not a number' },
      { where: 'broken.csv:5', message: expect.stringMatching(/Invalid Record Length: expect 3, got 1/) },
    ]);
    await finishConnector('csv-files', local(), report.state, { now });
    expect((await readdir(folder)).sort()).toEqual(['broken.csv.errors.txt', 'broken.csv.failed', 'good.csv.read']);
    const errors = await readFile(join(folder, 'broken.csv.errors.txt'), 'utf8');
    expect(errors).toMatch(/^# broken\.csv: read by Gridshare at 2026-11-01T12:00:00Z\n# 5 readings from good rows were taken; 3 problems:\nbroken\.csv:3: Zeit: local time 2026-03-29 02:30 does not exist/);
  });

  it('refuses a wrong time zone and a unit that cannot express the quantity, before reading anything', async () => {
    await writeFile(join(folder, 'a.csv'), CLEAN);
    const report = await runConnector('csv-files', local({ mapping: { ...MAPPING, timeZone: 'Europe/Viena', values: [{ field: 'Bezug kWh', target: 'x', quantity: 'energy.import', unit: 'kW' }] } }), undefined, { now });
    expect(report.error?.code).toBe('config');
    expect(report.error?.message).toMatch(/unknown time zone "Europe\/Viena"/);
    expect(report.error?.message).toMatch(/energy.import cannot be given in kW \(use Wh, kWh, MWh\)/);
    expect(await readdir(folder)).toEqual(['a.csv']);
  });

  it('reads one row per target (long format) and files kept in place only once, unless they change', async () => {
    const file = join(folder, 'long.csv');
    await writeFile(file, 'ts,meter,power_kw\n2026-06-01T10:00:00Z,north,1.5\n2026-06-01T10:00:00+02:00,south,-0.25\n');
    const config = {
      source: { type: 'local', folder }, afterRead: { action: 'keep' },
      mapping: { timestampColumn: 'ts', values: [{ field: 'power_kw', targetField: 'meter', quantity: 'power.import', negativeQuantity: 'power.export', unit: 'kW' }] },
    };
    const first = await runConnector('csv-files', config, undefined, { now });
    expect(first.readings).toEqual([
      { target: 'north', ts: '2026-06-01T10:00:00Z', quantity: 'power.import', value: 1500, unit: 'W' },
      { target: 'north', ts: '2026-06-01T10:00:00Z', quantity: 'power.export', value: 0, unit: 'W' },
      { target: 'south', ts: '2026-06-01T08:00:00Z', quantity: 'power.import', value: 0, unit: 'W' },
      { target: 'south', ts: '2026-06-01T08:00:00Z', quantity: 'power.export', value: 250, unit: 'W' },
    ]);
    const second = await runConnector('csv-files', config, first.state, { now });
    expect(second.readings).toEqual([]);
    expect(await readdir(folder)).toEqual(['long.csv']);
    await writeFile(file, 'ts,meter,power_kw\n2026-06-01T10:15:00Z,north,2\n');
    await utimes(file, new Date(), new Date(Date.now() + 5_000));
    const third = await runConnector('csv-files', config, second.state, { now });
    expect(third.readings.map((r) => r.value)).toEqual([2000, 0]);
  });

  it('tests a configuration on the first file without renaming it', async () => {
    await writeFile(join(folder, 'x.csv'), CLEAN);
    const report = await testConnector('csv-files', local(), { now, limit: 2 });
    expect(report.ok).toBe(true);
    expect(report.readings).toHaveLength(2);
    expect(report.details).toMatchObject({ file: 'x.csv' });
    expect(await readdir(folder)).toEqual(['x.csv']);
    const wrongColumns = await testConnector('csv-files', local({ mapping: { ...MAPPING, timestampColumn: 'Time' } }), { now });
    expect(wrongColumns.error?.message).toBe('x.csv:1: no column "Time" in the header (it has "Zeit", "Bezug kWh", "Einspeisung kWh"; delimiter ";")');
    const missing = await testConnector('csv-files', { ...local(), source: { type: 'local', folder: join(folder, 'nope') } }, { now });
    expect(missing.error).toMatchObject({ code: 'unreachable', message: expect.stringMatching(/does not exist/) });
  });
});

describe('csv-files from FTP and SFTP servers', () => {
  const servers: FileServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('reads from an FTP server and renames there, good and failed files alike', async () => {
    const ftp = await startFtpServer(folder, 'gateway', 's3cret');
    servers.push(ftp);
    await writeFile(join(folder, 'a.csv'), CLEAN);
    await writeFile(join(folder, 'b.csv'), BROKEN);
    const config = { source: { type: 'ftp', host: '127.0.0.1', port: ftp.port, user: 'gateway', password: 's3cret' }, csv: EUROPEAN, mapping: MAPPING };
    const tested = await testConnector('csv-files', config, { now });
    expect(tested.error).toBeUndefined();
    const report = await runConnector('csv-files', config, undefined, { now });
    expect(report.readings.filter((r) => r.quantity === 'energy.import')).toHaveLength(4);
    expect(report.problems).toHaveLength(3);
    const finished = await finishConnector('csv-files', config, report.state, { now });
    expect(finished.problems).toEqual([]);
    expect((await readdir(folder)).sort()).toEqual(['a.csv.read', 'b.csv.errors.txt', 'b.csv.failed']);
    const refused = await testConnector('csv-files', { ...config, source: { ...config.source, password: 'wrong' } }, { now });
    expect(refused.error).toMatchObject({ code: 'auth', message: expect.stringMatching(/refused the login/) });
    const closed = await testConnector('csv-files', { ...config, source: { ...config.source, port: 1 } }, { now });
    expect(closed.error).toMatchObject({ code: 'unreachable', message: expect.stringMatching(/^cannot log in to ftp:\/\/127.0.0.1:1\/ refused the connection/) });
  });

  it('reads from an SFTP server, reports its host key, and refuses a server whose key is not the pinned one', async () => {
    const sftp = await startSftpServer(folder, 'gateway', 's3cret');
    servers.push(sftp);
    await writeFile(join(folder, 'a.csv'), CLEAN);
    const config = { source: { type: 'sftp', host: '127.0.0.1', port: sftp.port, username: 'gateway', password: 's3cret', folder: '/' }, csv: EUROPEAN, mapping: MAPPING, afterRead: { action: 'move', folder: 'done' } };
    const tested = await testConnector('csv-files', config, { now });
    expect(tested.error).toBeUndefined();
    expect(tested.details['hostKey']).toBe(hostKeyFingerprint(sftp.hostKey));
    const pinned = { ...config, source: { ...config.source, hostKeySha256: tested.details['hostKey'] } };
    const report = await runConnector('csv-files', pinned, undefined, { now });
    expect(report.readings).toHaveLength(4);
    // On a server, the folder to move to must exist.
    await mkdir(join(folder, 'done'));
    await finishConnector('csv-files', pinned, report.state, { now });
    expect(await readdir(join(folder, 'done'))).toEqual(['a.csv']);
    const otherKey = { ...config, source: { ...config.source, hostKeySha256: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } };
    const refused = await testConnector('csv-files', otherKey, { now });
    expect(refused.error).toMatchObject({ code: 'auth', message: expect.stringMatching(/presented host key SHA256:.*not the pinned/) });
    const badPassword = await testConnector('csv-files', { ...config, source: { ...config.source, password: 'nope' } }, { now });
    expect(badPassword.error?.code).toBe('auth');
  });
});
