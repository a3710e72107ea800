import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionCookie, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { DEMO_MANAGER_EMAIL, DEMO_PASSWORD, demoDeviceId, demoMemberEmail, ensureDemoCommunity } from '../../src/demo/seed.js';
import { startDemoSimulation } from '../../src/demo/simulation.js';
import { GARDEN_HOUSE, SITE_WITH_INVERTER, sunnyStreetDevices } from '../../src/simulator/sites.js';
import { memberQuarters } from '../../src/sharing/index.js';

const QUARTER = 15 * 60_000;

/**
 * The demo exercises several sites per member and several devices per site: household 2 has a
 * garden house with a meter of its own, and Sunny Street 3 a PV inverter beside its grid meter.
 * A short replay through the demo's agents and the real broker, then the platform's own jobs.
 */
describe('the demo community\'s sites and devices', () => {
  let tp: TestPlatform;
  let communityId: string;
  const agentsDir = mkdtempSync(join(tmpdir(), 'gridshare-demo-agents-'));
  let heartbeatsWhileRunning: { deviceId: string; lastFrameAt: string | null; transport: string; queueMessages: number }[] = [];
  const from = Math.floor((Date.now() - 50 * 60_000) / QUARTER) * QUARTER;
  beforeAll(async () => {
    tp = await startTestPlatform('pglite');
    communityId = (await ensureDemoCommunity(tp.platform.db, tp.platform.secrets.box)).communityId;
    const stop = new AbortController();
    const run = startDemoSimulation({
      db: tp.platform.db, secrets: tp.platform.secrets.box, agentsDir,
      endpoints: { ...tp.platform.endpoints, publicUrl: tp.platform.httpUrl, mqttUrl: tp.platform.mqttUrl.replace('localhost', '127.0.0.1') },
      speed: 900, intervalMs: 250, start: new Date(from), signal: stop.signal,
    });
    // 50 simulated minutes at 900× take about 3.5 s once every device is connected: until the replay has caught up.
    const latest = async () => (await tp.platform.db.query<{ last: Date | null }>(
      `SELECT max(ts) AS last FROM readings WHERE device_id = $1`, [demoDeviceId(33)]))[0]?.last?.getTime() ?? 0;
    for (const deadline = Date.now() + 40_000; (await latest()) < Date.now() - 3 * 60_000 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Every agent's heartbeat, as the managers' devices page reads it (every 10 s).
    const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: DEMO_MANAGER_EMAIL, password: DEMO_PASSWORD } });
    const cookie = sessionCookie(login);
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const health = await tp.call('GET', `/api/v1/communities/${communityId}/agent-health`, { cookie });
      heartbeatsWhileRunning = health.body;
      if (heartbeatsWhileRunning.filter((beat) => beat.lastFrameAt !== null).length >= sunnyStreetDevices().length) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    stop.abort();
    await run;
    await tp.platform.writer.close().catch(() => undefined);
    await tp.platform.intervals.flush();
    await tp.platform.sharing.flush();
  }, 180_000);
  afterAll(async () => {
    await tp?.close();
    rmSync(agentsDir, { recursive: true, force: true });
  });

  const points = async (names: string[]) => tp.platform.db.query<{ id: string; name: string; member_id: string }>(
    'SELECT id, name, member_id FROM metering_points WHERE community_id = $1 AND name = ANY($2::text[]) ORDER BY name', [communityId, names]);
  const measured = async (pointId: string) => tp.platform.db.query<{ start: Date; import_wh: number; export_wh: number; pv_wh: number | null }>(
    `SELECT start, import_wh, export_wh, pv_wh FROM intervals WHERE metering_point_id = $1 AND quality = 'measured' AND start >= $2 ORDER BY start`,
    [pointId, new Date(from)]);

  it('counts both sites of household 2 in its energy', async () => {
    const [home, garden] = await points(['Sunny Street 2', GARDEN_HOUSE]).then((rows) => [rows.find((r) => r.name === 'Sunny Street 2')!, rows.find((r) => r.name === GARDEN_HOUSE)!]);
    expect(garden!.member_id).toBe(home!.member_id);
    const homeRows = await measured(home!.id);
    const gardenRows = await measured(garden!.id);
    expect(homeRows.length).toBeGreaterThanOrEqual(2);
    expect(gardenRows.length).toBeGreaterThanOrEqual(2);
    const start = gardenRows[0]!.start;
    const [energy] = await memberQuarters(tp.platform.db, home!.member_id, start.getTime(), start.getTime() + 900_000);
    // What the member imported (no battery behind these meters): from the community and from the grid.
    expect({ importWh: energy!.fromCommunityWh + energy!.fromGridWh, missing: energy!.missing, estimated: energy!.estimated }).toEqual({
      importWh: homeRows.find((r) => r.start.getTime() === start.getTime())!.import_wh + gardenRows[0]!.import_wh, missing: false, estimated: false,
    });
    // The member logs in and sees both sites.
    const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: demoMemberEmail(2), password: DEMO_PASSWORD } });
    expect(login.status).toBe(200);
  });

  it('takes Sunny Street 3\'s PV from its inverter and its import and export from its grid meter', async () => {
    const [site] = await points([SITE_WITH_INVERTER]);
    const devices = await tp.platform.db.query<{ id: string; kind: string; role: string }>(
      'SELECT id, kind, role FROM devices WHERE metering_point_id = $1 ORDER BY id', [site!.id]);
    expect(devices).toEqual([{ id: demoDeviceId(2), kind: 'meter-reader', role: 'billing-meter' }, { id: demoDeviceId(33), kind: 'inverter', role: 'production' }]);
    const quantities = async (deviceId: string) => (await tp.platform.db.query<{ quantity: string }>(
      'SELECT DISTINCT quantity FROM readings WHERE device_id = $1 ORDER BY quantity', [deviceId])).map((r) => r.quantity);
    expect(await quantities(demoDeviceId(2))).toEqual(['energy.export', 'energy.import', 'power.export', 'power.import']);
    expect(await quantities(demoDeviceId(33))).toEqual(['pv.energy', 'pv.power']);
    const rows = await measured(site!.id);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    // PV measured (0 at night), never missing, for every quarter the inverter has reported to its
    // end: it comes from the inverter. (The replay stops once the inverter is near now; the grid
    // meter may already have closed a later quarter the inverter has not reached yet.)
    const inverterUntil = (await tp.platform.db.query<{ last: Date }>(
      'SELECT max(ts) AS last FROM readings WHERE device_id = $1', [demoDeviceId(33)]))[0]!.last.getTime();
    const reported = rows.filter((row) => row.start.getTime() + QUARTER <= inverterUntil);
    expect(reported.length).toBeGreaterThanOrEqual(2);
    for (const row of reported) expect(row.pv_wh).not.toBeNull();
  });

  it('shows member01 the heat and water its meter reader reads over M-Bus, and household 2 its gas, through the utilities route', async () => {
    const utilities = async (n: number) => {
      const login = await tp.call('POST', '/api/v1/auth/login', { body: { email: demoMemberEmail(n), password: DEMO_PASSWORD } });
      const cookie = sessionCookie(login);
      const me = await tp.call('GET', '/api/v1/me', { cookie });
      const memberId = (me.body.memberships as { memberId: string; communityId: string }[]).find((m) => m.communityId === communityId)!.memberId;
      const query = `from=${new Date(from - 60 * 60_000).toISOString()}&to=${new Date(Date.now() + 60 * 60_000).toISOString()}&resolution=1h`;
      const response = await tp.call('GET', `/api/v1/members/${memberId}/utilities?${query}`, { cookie });
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body as { utilities: { quantity: string; unit: string; total: number; buckets: { amount: number | null }[] }[] };
    };
    const first = await utilities(1);
    expect(first.utilities.map((u) => u.quantity).sort()).toEqual(['heat.energy', 'water.volume']);
    for (const usage of first.utilities) {
      const known = usage.buckets.filter((b) => b.amount !== null);
      expect(known.length, usage.quantity).toBeGreaterThan(0);
      expect(usage.total, usage.quantity).toBeGreaterThan(0);
      expect(known.reduce((sum, b) => sum + b.amount!, 0)).toBe(usage.total);
    }
    expect((await utilities(2)).utilities.map((u) => u.quantity)).toEqual(['gas.volume']);
    // A household without such meters has none.
    expect((await utilities(5)).utilities).toEqual([]);
  });

  it('sends every household\'s readings through its agent: queued, sent over MQTT, deleted once acknowledged, with heartbeats', async () => {
    const ids = sunnyStreetDevices().map((_, index) => demoDeviceId(index));
    // A heartbeat from every demo device, with the simulated meter's last frame and the MQTT uplink.
    expect(heartbeatsWhileRunning.map((beat) => beat.deviceId).filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    for (const beat of heartbeatsWhileRunning.filter((b) => ids.includes(b.deviceId))) {
      expect(beat.lastFrameAt).not.toBeNull();
      expect(beat.transport).toBe('mqtt');
    }
    // Each agent's queue (SQLite in the demo's folder) took every message before it was sent, and
    // let go of the acknowledged ones: its sequence counts what went in, its rows what is left.
    for (const id of ids) {
      const queue = new Database(join(agentsDir, id, 'agent-queue.db'), { readonly: true });
      try {
        const queued = (queue.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'outbox'`).get() as { seq: number } | undefined)?.seq ?? 0;
        const left = (queue.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
        expect(queued).toBeGreaterThan(10);
        expect(left).toBeLessThan(queued);
      } finally {
        queue.close();
      }
    }
    const stored = await tp.platform.db.query<{ n: number }>('SELECT count(DISTINCT device_id)::int AS n FROM readings WHERE device_id = ANY($1::text[])', [ids]);
    expect(stored[0]!.n).toBe(ids.length);
  });
});
