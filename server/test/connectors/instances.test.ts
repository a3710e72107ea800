import { readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { freePort } from '../support/process.js';
import { DEMO_CONNECTOR_NAME, ensureDemoCommunity, startDemoConnectorSource } from '../../src/demo/index.js';
import { SITE_MODELS, startModbusDevice, sunspecRegisters, type ModbusDevice } from './support/modbus-device.js';

/**
 * Connector instances on a whole platform: a manager tests and saves a connector through the API,
 * the `connectors` job runs it against a real server on loopback, its readings go through ingest
 * to quarter-hour intervals, and its status says so; secrets are sealed and never returned; a
 * failing or hanging instance backs off while the others work; a SunSpec inverter takes a power limit.
 */
const QUARTER = 900_000;
const TOKEN = 'vendor-token-7f3a9c';
const base = Math.floor(Date.now() / QUARTER) * QUARTER - 3 * 3_600_000;
/** A cumulative import register rising 0.25 kWh every quarter hour. */
const REGISTER = Array.from({ length: 9 }, (_, i) => ({ t: new Date(base + i * QUARTER).toISOString(), kwh: (1_000 + i * 0.25).toFixed(2) }));

let server: Server;
let api: string;
let closedPort: number;
let inverter: ModbusDevice;

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/hang') return;
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{}');
  if (req.url === '/meter') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: REGISTER }));
  res.writeHead(404).end();
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  api = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  closedPort = await freePort();
  inverter = await startModbusDevice({ holding: sunspecRegisters(SITE_MODELS) });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await inverter.close();
});

const meterConfig = (url = `${api}/meter`) => ({
  auth: { type: 'bearer', token: TOKEN },
  steps: [{ url }],
  mapping: { items: '$.data[*]', timestamp: '$.t', values: [{ field: '$.kwh', target: 'meter', quantity: 'energy.import', unit: 'kWh' }] },
});

describe.each(platformStoreKinds)('connector instances on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let deviceB: string;
  const connectors = () => `/api/v1/communities/${w.communityA}/connectors`;
  const manager = () => ({ token: w.managerA.token });
  const storedReadings = async (deviceId: string) =>
    (await tp.platform.db.query<{ n: number }>('SELECT count(*)::int AS n FROM readings WHERE device_id = $1', [deviceId]))[0]!.n;
  const instanceCount = async () => (await tp.platform.db.query<{ n: number }>('SELECT count(*)::int AS n FROM connector_instances'))[0]!.n;

  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    deviceB = (await tp.call('POST', `/api/v1/communities/${w.communityB}/devices`, { token: w.managerB.token, body: { kind: 'meter-reader', name: 'Reader B' } })).body.id;
  });
  afterAll(() => tp?.close());

  it('tests before saving (nothing stored), saves with the secret sealed, runs on the job through ingest to intervals, and shows the status', async () => {
    const kinds = await tp.call('GET', '/api/v1/connector-kinds', manager());
    const httpJson = kinds.body.find((k: { name: string }) => k.name === 'http-json');
    expect(httpJson.secretFields).toContain('/auth/token');
    expect(kinds.body.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(['modbus-sunspec', 'modbus-registers', 'csv-files', 'http-json', 'sql']));
    // A serial line is hardware next to the agent, not the platform's to open.
    expect(kinds.body.map((k: { name: string }) => k.name)).not.toContain('modbus-rtu');

    const dry = await tp.call('POST', `${connectors()}/test`, { ...manager(), body: { kind: 'http-json', config: meterConfig(), limit: 3 } });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ ok: true, error: null });
    expect(dry.body.readings).toEqual(REGISTER.slice(0, 3).map((r, i) => ({ target: 'meter', ts: r.t.replace('.000Z', 'Z'), quantity: 'energy.import', value: 1_000_000 + i * 250, unit: 'Wh' })));
    const wrongToken = await tp.call('POST', `${connectors()}/test`, { ...manager(), body: { kind: 'http-json', config: { ...meterConfig(), auth: { type: 'bearer', token: 'nope' } } } });
    expect(wrongToken.body.error.code).toBe('auth');
    expect(await storedReadings(w.provisionedA)).toBe(0);
    expect(await instanceCount()).toBe(0);

    const created = await tp.call('POST', connectors(), {
      ...manager(), body: { kind: 'http-json', name: 'Utility portal', config: meterConfig(), bindings: [{ target: 'meter', deviceId: w.provisionedA }], intervalS: 900, jitterS: 60 },
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(TOKEN);
    expect(created.body.secretsSet).toEqual(['/auth/token']);
    expect(created.body.config.auth).toEqual({ type: 'bearer' });
    const [row] = await tp.platform.db.query<{ config: string; secrets: string; bindings: string }>(
      'SELECT config::text AS config, secrets, bindings::text AS bindings FROM connector_instances WHERE id = $1', [created.body.id]);
    expect(row!.config).not.toContain(TOKEN);
    expect(row!.secrets).toMatch(/^gs1:/);
    expect(row!.secrets).not.toContain(TOKEN);

    await tp.platform.connectors.flush();
    expect(await storedReadings(w.provisionedA)).toBe(REGISTER.length);
    await tp.platform.intervals.flush();
    const intervals = await tp.call('GET', `/api/v1/metering-points/${w.meteringPointA}/intervals?from=${new Date(base).toISOString()}&to=${new Date(base + 8 * QUARTER).toISOString()}`, { token: w.memberA.token });
    expect(intervals.body.map((i: { importWh: number }) => i.importWh)).toEqual(Array(8).fill(250));

    const status = (await tp.call('GET', `/api/v1/connectors/${created.body.id}`, manager())).body;
    expect(status.status).toMatchObject({ lastOutcome: 'ok', readingsStored: REGISTER.length, lastError: null, failuresInRow: 0 });
    expect(Date.parse(status.status.lastSuccessAt)).toBeGreaterThan(Date.now() - 60_000);
    // The next run is one interval plus at most the jitter away.
    const wait = Date.parse(status.status.nextRunAt) - Date.parse(status.status.lastRunAt);
    expect(wait).toBeGreaterThanOrEqual(900_000);
    expect(wait).toBeLessThan(962_000);
    const runs = await tp.call('GET', `/api/v1/connectors/${created.body.id}/runs`, manager());
    expect(runs.body).toMatchObject([{ outcome: 'ok', readingsStored: REGISTER.length, error: null }]);

    // A change that leaves the secret out keeps it: run again, nothing new, still authenticated.
    const changed = await tp.call('PATCH', `/api/v1/connectors/${created.body.id}`, { ...manager(), body: { config: { ...meterConfig(), auth: { type: 'bearer' } } } });
    expect(changed.status).toBe(200);
    expect(changed.body.secretsSet).toEqual(['/auth/token']);
    await tp.platform.connectors.flush();
    const again = (await tp.call('GET', `/api/v1/connectors/${created.body.id}/runs`, manager())).body;
    expect(again[0]).toMatchObject({ outcome: 'ok', readingsStored: 0 });
    expect(await storedReadings(w.provisionedA)).toBe(REGISTER.length);

    // A new master key: the connector's secret is sealed again with it and still opens.
    const sealedBefore = row!.secrets;
    expect((await tp.call('POST', '/api/v1/secrets/rotate', { token: tp.admin.token })).status).toBe(200);
    const [rotated] = await tp.platform.db.query<{ secrets: string }>('SELECT secrets FROM connector_instances WHERE id = $1', [created.body.id]);
    expect(rotated!.secrets.split(':')[1]).not.toBe(sealedBefore.split(':')[1]);
    await tp.call('POST', `/api/v1/connectors/${created.body.id}/run`, manager());
    await tp.platform.connectors.flush();
    expect((await tp.call('GET', `/api/v1/connectors/${created.body.id}/runs`, manager())).body[0]).toMatchObject({ outcome: 'ok', error: null });
  });

  it('backs off a failing and a hanging instance, records their errors, while another keeps working', async () => {
    const create = async (name: string, config: unknown, extra: Record<string, unknown> = {}) => {
      const response = await tp.call('POST', connectors(), { ...manager(), body: { kind: 'http-json', name, config, intervalS: 60, bindings: [{ target: 'meter', deviceId: w.deviceA }], ...extra } });
      expect(response.status).toBe(201);
      return response.body.id as string;
    };
    const hanging = await create('Hangs', meterConfig(`${api}/hang`), { timeoutMs: 4_000 });
    const unreachable = await create('Nothing listens', meterConfig(`http://127.0.0.1:${closedPort}/meter`));
    const working = await create('Works', meterConfig());
    const get = async (id: string) => (await tp.call('GET', `/api/v1/connectors/${id}`, manager())).body.status;
    const runsOf = async (id: string) => (await tp.call('GET', `/api/v1/connectors/${id}/runs`, manager())).body as unknown[];
    const until = async (what: string, condition: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 3_500; !(await condition());) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    // While the hanging source holds its run until its timeout, the job goes on: the working
    // instance runs, and runs again when asked, in later passes.
    tp.platform.connectors.wake();
    await until('the first run', async () => (await runsOf(working)).length === 1);
    expect((await tp.call('POST', `/api/v1/connectors/${working}/run`, manager())).status).toBe(202);
    await until('the second run', async () => (await runsOf(working)).length === 2);
    expect(await runsOf(hanging)).toEqual([]);
    await tp.platform.connectors.flush();
    expect(await get(working)).toMatchObject({ lastOutcome: 'ok', readingsStored: REGISTER.length });
    expect(await storedReadings(w.deviceA)).toBe(REGISTER.length);
    const failed = await get(unreachable);
    expect(failed).toMatchObject({ lastOutcome: 'failed', failuresInRow: 1, lastSuccessAt: null, lastError: { code: 'unreachable', message: expect.stringMatching(/refused the connection/) } });
    // Twice the interval after a failure…
    expect(Date.parse(failed.nextRunAt) - Date.parse(failed.lastRunAt)).toBeGreaterThanOrEqual(120_000);
    expect(Date.parse(failed.nextRunAt) - Date.parse(failed.lastRunAt)).toBeLessThan(125_000);
    expect(await get(hanging)).toMatchObject({ lastOutcome: 'failed', failuresInRow: 1, lastError: { code: 'timeout', message: expect.stringMatching(/within 4 s/) } });

    // …four times after the second in a row.
    expect((await tp.call('POST', `/api/v1/connectors/${unreachable}/run`, manager())).status).toBe(202);
    await tp.platform.connectors.flush();
    const second = await get(unreachable);
    expect(second.failuresInRow).toBe(2);
    expect(Date.parse(second.nextRunAt) - Date.parse(second.lastRunAt)).toBeGreaterThanOrEqual(240_000);
    const runs = (await tp.call('GET', `/api/v1/connectors/${unreachable}/runs`, manager())).body;
    expect(runs.map((r: { error: { code: string } }) => r.error.code)).toEqual(['unreachable', 'unreachable']);

    // Disabled: not run, no next run; enabled again: due at once.
    const disabled = await tp.call('PATCH', `/api/v1/connectors/${unreachable}`, { ...manager(), body: { enabled: false } });
    expect(disabled.body).toMatchObject({ enabled: false, status: { nextRunAt: null } });
    expect((await tp.call('POST', `/api/v1/connectors/${unreachable}/run`, manager())).status).toBe(409);
    const enabled = await tp.call('PATCH', `/api/v1/connectors/${unreachable}`, { ...manager(), body: { enabled: true } });
    expect(Date.parse(enabled.body.status.nextRunAt)).toBeLessThanOrEqual(Date.now());
    for (const id of [unreachable, hanging, working]) expect((await tp.call('DELETE', `/api/v1/connectors/${id}`, manager())).status).toBe(204);
  });

  it('reads a SunSpec inverter through ingest and writes a power limit that the device records', async () => {
    const created = await tp.call('POST', connectors(), {
      ...manager(), body: { kind: 'modbus-sunspec', name: unique('Inverter '), config: { host: '127.0.0.1', port: inverter.port }, bindings: [{ target: 'inverter', deviceId: w.deviceA }], intervalS: 60 },
    });
    expect(created.status).toBe(201);
    const before = await storedReadings(w.deviceA);
    await tp.platform.connectors.flush();
    const status = (await tp.call('GET', `/api/v1/connectors/${created.body.id}`, manager())).body.status;
    // The meter and the battery are bound to nothing: their readings are left out, and said so.
    expect(status.lastOutcome).toBe('partial');
    expect(await storedReadings(w.deviceA)).toBeGreaterThan(before);
    const runs = (await tp.call('GET', `/api/v1/connectors/${created.body.id}/runs`, manager())).body;
    expect(runs[0].problems).toContainEqual({ where: 'meter', message: 'bound to no device: its readings are not stored' });

    const writesBefore = inverter.writes.length;
    const command = await tp.call('POST', `/api/v1/connectors/${created.body.id}/commands`, { ...manager(), body: { command: { type: 'power-limit', percent: 60 } } });
    expect(command.status).toBe(200);
    expect(command.body).toMatchObject({ ok: true, error: null, written: expect.arrayContaining(['123/WMaxLimPct = 60']) });
    const body123 = 40000 + 2 + 68 + 52 + 28 + 2;
    expect(inverter.writes.slice(writesBefore)).toContainEqual({ address: body123 + 3, values: [60] });
    expect(inverter.holding.get(body123 + 3)).toBe(60);
    const bad = await tp.call('POST', `/api/v1/connectors/${created.body.id}/commands`, { ...manager(), body: { command: { type: 'power-limit', percent: 250 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/percent/);
    await tp.call('DELETE', `/api/v1/connectors/${created.body.id}`, manager());
  });

  it('refuses an unknown kind, a configuration its schema refuses and a binding to another community, changing nothing', async () => {
    const count = await instanceCount();
    const post = (body: unknown) => tp.call('POST', connectors(), { ...manager(), body });
    const unknownKind = await post({ kind: 'telepathy', name: 'x', config: {} });
    expect(unknownKind.status).toBe(400);
    expect(unknownKind.body).toMatchObject({ field: 'body/kind', message: expect.stringMatching(/unknown connector kind "telepathy"/) });
    const serial = { kind: 'modbus-rtu', name: 'x', config: { path: '/dev/ttyS0', registers: [{ quantity: 'energy.import', address: 0, type: 'uint32', unit: 'Wh' }] } };
    for (const refused of [await post(serial), await tp.call('POST', `${connectors()}/test`, { ...manager(), body: { kind: serial.kind, config: serial.config } })]) {
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ field: 'body/kind', message: expect.stringMatching(/runs in gridshare agent on the device, not on the platform/) });
    }
    const badConfig = await post({ kind: 'http-json', name: 'x', config: { ...meterConfig(), steps: [] } });
    expect(badConfig.status).toBe(400);
    expect(badConfig.body).toMatchObject({ field: 'body/config', message: expect.stringMatching(/steps/) });
    const otherCommunity = await post({ kind: 'http-json', name: 'x', config: meterConfig(), bindings: [{ target: 'meter', deviceId: deviceB }] });
    expect(otherCommunity.status).toBe(404);
    const twice = await post({ kind: 'http-json', name: 'x', config: meterConfig(), bindings: [{ target: 'meter', deviceId: w.deviceA }, { target: 'meter', deviceId: w.provisionedA }] });
    expect(twice.status).toBe(400);
    const jitter = await post({ kind: 'http-json', name: 'x', config: meterConfig(), intervalS: 60, jitterS: 120 });
    expect(jitter.status).toBe(400);
    const testUnknown = await tp.call('POST', `${connectors()}/test`, { ...manager(), body: { kind: 'telepathy', config: {} } });
    expect(testUnknown.status).toBe(400);
    expect(await instanceCount()).toBe(count);

    // An existing connector is not moved to another community's device either.
    const kept = await post({ kind: 'http-json', name: unique('Kept '), config: meterConfig(), enabled: false });
    const rebind = await tp.call('PATCH', `/api/v1/connectors/${kept.body.id}`, { ...manager(), body: { bindings: [{ target: 'meter', deviceId: deviceB }] } });
    expect(rebind.status).toBe(404);
    expect((await tp.call('GET', `/api/v1/connectors/${kept.body.id}`, manager())).body.bindings).toEqual([]);
  });

  it('shows the demo community\'s connector reading the CSV files the demo writes', async () => {
    const folder = join(tp.artefactsDir, 'demo-connector');
    // The file first: the connector's first pass may run as soon as it exists, and one that found no file waits its interval.
    const source = await startDemoConnectorSource(folder);
    source.close();
    const { communityId } = await ensureDemoCommunity(tp.platform.db, tp.platform.secrets.box, { connectorFolder: folder });
    await tp.platform.connectors.flush();
    const list = await tp.call('GET', `/api/v1/communities/${communityId}/connectors`, { token: tp.admin.token });
    // The last day, a reading every quarter hour, stored through ingest; the file renamed once stored.
    expect(list.body).toMatchObject([{ name: DEMO_CONNECTOR_NAME, kind: 'csv-files', status: { lastOutcome: 'ok', readingsStored: 97, lastError: null } }]);
    expect(readdirSync(folder)).toEqual([expect.stringMatching(/^heat-pump-.*\.csv\.read$/)]);
  });
});
