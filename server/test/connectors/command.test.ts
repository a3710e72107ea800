import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTestReport } from '../../src/connectors/commands.js';
import { testConnector } from '../../src/connectors/index.js';
import { GRIDSHARE_BIN } from '../support/process.js';

const run = promisify(execFile);
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gridshare-connector-cli-'));
  await writeFile(join(dir, 'a.csv'), 'ts,kwh\n2026-06-01T11:00:00Z,12.5\n2026-06-01T11:15:00Z,x\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gridshare connector', () => {
  it('test: a dry run from a configuration file, as JSON, leaving the file where it was', async () => {
    const config = join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ source: { type: 'local', folder: dir }, mapping: { timestampColumn: 'ts', values: [{ field: 'kwh', target: 'm', quantity: 'energy.import', unit: 'kWh' }] } }));
    const { stdout } = await run(process.execPath, [GRIDSHARE_BIN, 'connector', 'test', '--kind', 'csv-files', '--config', config, '--json']);
    const report = JSON.parse(stdout) as { ok: boolean; readings: unknown[]; problems: { where: string; message: string }[] };
    expect(report.ok).toBe(true);
    expect(report.readings).toEqual([{ target: 'm', ts: '2026-06-01T11:00:00Z', quantity: 'energy.import', value: 12_500, unit: 'Wh' }]);
    expect(report.problems).toEqual([{ where: 'a.csv:3', message: 'kwh: "x" is not a number' }]);
    expect((await readdir(dir)).sort()).toEqual(['a.csv', 'config.json']);
  });

  it('prints readings as a table and problems after them, or the error', async () => {
    const report = await testConnector('csv-files', { source: { type: 'local', folder: dir }, pattern: 'a.csv', mapping: { timestampColumn: 'ts', values: [{ field: 'kwh', target: 'm', quantity: 'energy.import', unit: 'kWh' }] } });
    expect(formatTestReport(report).split('\n').slice(1)).toEqual([
      '  file: a.csv',
      '  matching: 1',
      '',
      'target  time (UTC)                quantity       value',
      'm       2026-06-01T11:00:00Z      energy.import  12500 Wh',
      '',
      '1 problem:',
      '  a.csv:3: kwh: "x" is not a number',
    ]);
    const failed = await testConnector('sql', { source: { type: 'local', folder: dir } }, { now: () => 0 });
    expect(formatTestReport(failed)).toMatch(/^sql: failed after 0 ms \(config\): config: must have required property 'dialect'/);
  });
});
