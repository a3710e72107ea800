import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { sasFor, type DeviceCredentials } from '../support/devices.js';
import { addSite, bindNewDevice } from '../support/sites.js';

const QUARTER = 15 * 60_000;

describe.each(platformStoreKinds)('poison readings on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
  });
  afterAll(() => tp?.close());

  const post = (device: DeviceCredentials, readings: unknown[]) => tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, {
    headers: { authorization: sasFor(device) }, body: { readings },
  });
  const state = async (device: DeviceCredentials) => (await tp.call('GET', `/api/v1/devices/${device.deviceId}/state`, { token: w.managerA.token })).body;
  const site = async () => {
    const pointId = await addSite(tp, w.communityA, w.memberA.token);
    return { pointId, device: await bindNewDevice(tp, w.communityA, w.managerA.token, pointId) };
  };
  // The platform's own job, so nothing runs twice at once.
  const drain = () => tp.platform.intervals.flush();
  const measured = async (pointId: string) => (await tp.platform.db.query<{ start: Date; import_wh: number }>(
    `SELECT start, import_wh FROM intervals WHERE metering_point_id = $1 AND quality = 'measured' ORDER BY start`, [pointId]))
    .map((r) => [r.start.toISOString(), r.import_wh]);

  it('refuses a value beyond the physical range of its quantity, with the reason, and counts it on the device', async () => {
    const { device } = await site();
    const ts = new Date(Date.now() - 60_000).toISOString();
    const cases: [string, number, string][] = [
      ['energy.import', 1e308, 'Wh'], ['energy.export', 2e12, 'Wh'], ['power.import', 5e9, 'W'], ['voltage.l1', 2e6, 'V'],
      ['frequency', 1000, 'Hz'], ['power.factor', 1.5, '1'], ['power.reactive', -1e12, 'var'], ['gas.volume', 1e15, 'm3'],
    ];
    for (const [quantity, value, unit] of cases) {
      const before = (await state(device)).rejectedTotal;
      const refused = await post(device, [{ ts, quantity: 'energy.import', value: 1_000, unit: 'Wh' }, { ts, quantity, value, unit }]);
      expect(refused.status, `${quantity} ${value}`).toBe(400);
      expect(refused.body.message).toMatch(new RegExp(`^out-of-range: readings/1/value: .*${quantity.replace('.', '\\.')}`));
      // Counted with the next group commit.
      await expect.poll(async () => (await state(device)).rejectedTotal).toBe(before + 1);
      expect((await state(device)).lastError).toMatch(/^out-of-range/);
    }
    // Nothing of a refused message is stored; the same reading within range is.
    expect(await tp.platform.db.query('SELECT 1 FROM readings WHERE device_id = $1', [device.deviceId])).toEqual([]);
    expect((await post(device, [{ ts, quantity: 'energy.import', value: 1_000, unit: 'Wh' }])).status).toBe(200);
  });

  it('a poison reading already stored never stops the other metering points\' quarter hours', async () => {
    const poisoned = await site();
    const healthy = await site();
    const base = Math.floor(Date.now() / QUARTER) * QUARTER - 8 * QUARTER;
    // Stored before readings were bounded: a register of 1e308 Wh, earlier than anything else waiting.
    await tp.platform.db.query(
      `INSERT INTO readings (device_id, quantity, ts, value, community_id, metering_point_id) VALUES
         ($1, 'energy.import', $3, 1000, $4, $2), ($1, 'energy.import', $5, 1e308, $4, $2)`,
      [poisoned.device.deviceId, poisoned.pointId, new Date(base), w.communityA, new Date(base + QUARTER)]);
    await tp.platform.db.query(`INSERT INTO interval_dirty (metering_point_id, start, community_id) VALUES ($1, $2, $4), ($1, $3, $4)`,
      [poisoned.pointId, new Date(base), new Date(base + QUARTER), w.communityA]);
    expect((await post(healthy.device, [0, 1, 2].map((i) => ({ ts: new Date(base + 2 * QUARTER + i * QUARTER).toISOString(), quantity: 'energy.import', value: 500 + i * 100, unit: 'Wh' })))).status).toBe(200);
    await drain();
    expect(await measured(healthy.pointId)).toEqual([
      [new Date(base + 2 * QUARTER).toISOString(), 100], [new Date(base + 3 * QUARTER).toISOString(), 100],
    ]);
    // Whatever happens to the poisoned point, 1e308 Wh is never a measured quarter hour.
    expect(await measured(poisoned.pointId)).toEqual([]);
  });

  it('sets aside a metering point whose computation keeps failing, says why, and retries it later with backoff', async () => {
    const failing = await site();
    const healthy = await site();
    const db = tp.platform.db;
    // Any failure of one point's computation (here the database refuses its rows).
    await db.exec(`CREATE OR REPLACE FUNCTION refuse_point() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.metering_point_id = '${failing.pointId}' THEN RAISE EXCEPTION 'disk says no for this point'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_point BEFORE INSERT OR UPDATE ON intervals FOR EACH ROW EXECUTE FUNCTION refuse_point();`);
    const base = Math.floor(Date.now() / QUARTER) * QUARTER - 6 * QUARTER;
    const readings = (from: number) => [0, 1, 2].map((i) => ({ ts: new Date(from + i * QUARTER).toISOString(), quantity: 'energy.import', value: 100 + i * 10, unit: 'Wh' }));
    expect((await post(failing.device, readings(base))).status).toBe(200);
    expect((await post(healthy.device, readings(base + QUARTER))).status).toBe(200);
    await drain();
    expect(await measured(healthy.pointId)).toHaveLength(2);

    const issues = async () => (await tp.call('GET', `/api/v1/communities/${w.communityA}/interval-issues`, { token: w.managerA.token })).body;
    const failure = (await issues()).failures.find((f: { meteringPointId: string }) => f.meteringPointId === failing.pointId);
    expect(failure).toMatchObject({ error: expect.stringMatching(/disk says no for this point/), attempts: 1 });
    expect(Date.parse(failure.retryAt)).toBeGreaterThan(Date.now());
    // Not retried in a tight loop: passes meanwhile leave it alone.
    for (let i = 0; i < 3; i++) await drain();
    expect((await issues()).failures.find((f: { meteringPointId: string }) => f.meteringPointId === failing.pointId).attempts).toBe(1);
    const metrics = await tp.call('GET', '/metrics', { token: tp.admin.token });
    expect(metrics.raw.body).toMatch(/^gridshare_interval_points_failing \d+$/m);
    expect(Number(/^gridshare_interval_points_failing (\d+)$/m.exec(metrics.raw.body)![1])).toBeGreaterThanOrEqual(1);

    // When its time comes it is tried again, and waits longer after another failure.
    await db.query('UPDATE interval_failures SET retry_at = now() - interval \'1 second\' WHERE metering_point_id = $1', [failing.pointId]);
    await drain();
    const second = (await issues()).failures.find((f: { meteringPointId: string }) => f.meteringPointId === failing.pointId);
    expect(second.attempts).toBe(2);
    expect(Date.parse(second.retryAt) - Date.parse(second.lastFailedAt)).toBeGreaterThan(Date.parse(failure.retryAt) - Date.parse(failure.lastFailedAt));

    // Once the cause is gone, the next try computes it and the failure is cleared.
    await db.exec('DROP TRIGGER refuse_point ON intervals; DROP FUNCTION refuse_point();');
    await db.query('UPDATE interval_failures SET retry_at = now() - interval \'1 second\' WHERE metering_point_id = $1', [failing.pointId]);
    await drain();
    expect(await measured(failing.pointId)).toHaveLength(2);
    expect((await issues()).failures.map((f: { meteringPointId: string }) => f.meteringPointId)).not.toContain(failing.pointId);
    // Managers of the community only.
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/interval-issues`, { token: w.memberA.token })).status).toBe(403);
    expect((await tp.call('GET', `/api/v1/communities/${w.communityA}/interval-issues`, { token: w.managerB.token })).status).toBe(404);
  });
});
