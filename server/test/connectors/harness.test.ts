import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnector, testConnector, type RunReport, type TargetReading } from '../../src/connectors/index.js';
import { registerKind } from '../../src/connectors/registry.js';
import { SITE_MODELS, startModbusDevice, sunspecRegisters, type ModbusDevice } from './support/modbus-device.js';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const now = () => NOW;

/** A kind that misbehaves the ways a kind's bug could, registered for this file only. */
let runs = 0;
registerKind({
  name: 'test-misbehaving',
  summary: 'test',
  configSchema: Type.Object({ mode: Type.Enum(['throw', 'bad-readings', 'ignore-signal', 'count']) }),
  stateSchema: Type.Object({ count: Type.Integer() }),
  initialState: { count: 0 },
  defaultTimeoutMs: 1000,
  configProblems: () => [],
  async test() {
    return { readings: [], problems: [], details: {} };
  },
  async run(config, state) {
    runs++;
    if (config.mode === 'throw') throw new TypeError('cannot read properties of undefined');
    if (config.mode === 'ignore-signal') return new Promise(() => undefined);
    if (config.mode === 'count') return { readings: [], problems: [], state: { count: state.count + 1 } };
    const good: TargetReading = { target: 'x', ts: '2026-06-01T11:00:00Z', quantity: 'power.import', value: 5, unit: 'W' };
    return {
      readings: [
        good,
        { ...good, value: Number.NaN },
        { ...good, value: -3 },
        { ...good, unit: 'kW' as 'W' },
        { ...good, ts: '2026-06-01T13:00:00Z' },
        { ...good, quantity: 'power.reactive', value: -3, unit: 'var' },
      ],
      problems: [],
      state,
    };
  },
});

describe('the harness', () => {
  it('turns a kind\'s bug into a failed report, never an exception', async () => {
    const report = await runConnector('test-misbehaving', { mode: 'throw' }, undefined, { now });
    expect(report.outcome).toBe('failed');
    expect(report.error).toEqual({ code: 'source', message: 'unexpected failure: cannot read properties of undefined' });
  });

  it('drops readings ingest would refuse, each with its reason, and keeps the rest', async () => {
    const report = await runConnector('test-misbehaving', { mode: 'bad-readings' }, undefined, { now });
    expect(report.outcome).toBe('partial');
    expect(report.readings.map((r) => [r.quantity, r.value])).toEqual([['power.import', 5], ['power.reactive', -3]]);
    expect(report.problems.map((p) => p.message)).toEqual([
      'power.import: value NaN is not a finite number',
      'power.import: negative value -3',
      'power.import is measured in W, not kW',
      'timestamp 2026-06-01T13:00:00Z is in the future',
    ]);
  });

  it('returns at the timeout even when a kind ignores its signal', async () => {
    const report = await runConnector('test-misbehaving', { mode: 'ignore-signal' }, { count: 4 }, { timeoutMs: 200 });
    expect(report.error).toEqual({ code: 'timeout', message: 'no result within 200 ms: the source is too slow or hangs' });
    expect(report.state).toEqual({ count: 4 });
  });

  it('resets a stored state that no longer fits, saying so', async () => {
    const report = await runConnector('test-misbehaving', { mode: 'count' }, { count: 'many' }, { now });
    expect(report.state).toEqual({ count: 1 });
    expect(report.problems).toEqual([{ where: 'state', message: expect.stringMatching(/stored state was unusable and was reset: count: must be integer/) }]);
  });

  it('refuses an unknown kind and a configuration of the wrong shape before running anything', async () => {
    const before = runs;
    const unknown = await testConnector('modbus-ascii', {}, { now });
    expect(unknown.error).toEqual({ code: 'config', message: expect.stringMatching(/unknown connector kind "modbus-ascii" \(known: modbus-sunspec, modbus-registers, modbus-rtu, csv-files, http-json, sql/) });
    const wrong = await runConnector('test-misbehaving', { mode: 'fly' }, undefined, { now });
    expect(wrong.error?.message).toMatch(/mode: must be one of "throw", "bad-readings"/);
    const union = await runConnector('csv-files', { source: { type: 'ftp', host: 'h' }, mapping: { timestampColumn: 't', values: [] } }, undefined, { now });
    expect(union.error?.message).toMatch(/source: must have required property 'user'/);
    expect(union.error?.message).not.toMatch(/folder/);
    expect(runs).toBe(before);
  });
});

describe('connectors run side by side', () => {
  let site: ModbusDevice;
  let hung: ModbusDevice;
  let folder: string;
  const http = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ t: '2026-06-01T11:45:00Z', w: 1200 }])));
  let base: string;
  beforeAll(async () => {
    site = await startModbusDevice({ holding: sunspecRegisters(SITE_MODELS) });
    hung = await startModbusDevice({ silent: true });
    folder = await mkdtemp(join(tmpdir(), 'gridshare-side-'));
    await writeFile(join(folder, 'a.csv'), 'ts,kwh\n2026-06-01T11:00:00Z,12.5\n');
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
    const address = http.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await Promise.all([site.close(), hung.close(), rm(folder, { recursive: true, force: true })]);
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });

  it('finish while others hang; a hanging one times out on its own; a stopped one ends at once', async () => {
    const done: string[] = [];
    const track = (name: string, run: Promise<RunReport>) => run.then((report) => {
      done.push(name);
      return report;
    });
    // The event loop keeps turning while they run.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const stop = new AbortController();
    const hungConfig = { host: '127.0.0.1', port: hung.port, requestTimeoutMs: 60_000 };
    const hanging = track('hanging', runConnector('modbus-sunspec', hungConfig, undefined, { now, timeoutMs: 2000 }));
    const stopped = track('stopped', runConnector('modbus-sunspec', hungConfig, undefined, { now, signal: stop.signal }));
    const [sunspec, csv, api] = await Promise.all([
      track('sunspec', runConnector('modbus-sunspec', { host: '127.0.0.1', port: site.port }, undefined, { now })),
      track('csv', runConnector('csv-files', { source: { type: 'local', folder }, afterRead: { action: 'keep' }, mapping: { timestampColumn: 'ts', values: [{ field: 'kwh', target: 'm', quantity: 'energy.import', unit: 'kWh' }] } }, undefined, { now })),
      track('api', runConnector('http-json', { steps: [{ url: base }], mapping: { timestamp: '$.t', values: [{ field: '$.w', target: 'p', quantity: 'pv.power', unit: 'W' }] } }, undefined, { now })),
    ]);
    // The others are done while two hang; stopping one ends it at once, the other ends at its timeout.
    done.push('stop');
    stop.abort();
    const stoppedReport = await stopped;
    const hangingReport = await hanging;
    clearInterval(ticker);
    expect(sunspec.outcome).toBe('ok');
    expect(csv.readings).toEqual([{ target: 'm', ts: '2026-06-01T11:00:00Z', quantity: 'energy.import', value: 12_500, unit: 'Wh' }]);
    expect(api.readings).toEqual([{ target: 'p', ts: '2026-06-01T11:45:00Z', quantity: 'pv.power', value: 1200, unit: 'W' }]);
    expect(stoppedReport.error).toEqual({ code: 'aborted', message: 'stopped before it finished' });
    expect(hangingReport.error).toEqual({ code: 'timeout', message: 'no result within 2 s: the source is too slow or hangs' });
    expect(done.slice(0, 3).sort()).toEqual(['api', 'csv', 'sunspec']);
    expect(done.slice(3)).toEqual(['stop', 'stopped', 'hanging']);
    expect(ticks).toBeGreaterThan(0);
  });
});
