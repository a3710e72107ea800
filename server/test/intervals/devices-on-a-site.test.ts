import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTBOX_JOB } from '../../src/platform/events/index.js';
import { strFromU8, unzipSync } from 'fflate';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';
import { addSite, bindNewDevice } from '../support/sites.js';
import { memberQuarters } from '../../src/sharing/index.js';

const QUARTER = 15 * 60_000;
const FIVE_MINUTES = 5 * 60_000;

/**
 * Several devices on one site: each device's registers are its own, only the billing meter gives
 * the site's import and export, a PV inverter gives its PV, a second billing meter is refused,
 * and a quarter hour beyond the site's connection is quarantined and shown to the manager.
 */
describe.each(platformStoreKinds)('devices on one site on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let site: string;
  let reader: DeviceCredentials;
  let second: DeviceCredentials;
  const base = Math.floor(Date.now() / QUARTER) * QUARTER - 16 * QUARTER;
  const at = (i: number) => new Date(base + i * FIVE_MINUTES).toISOString();
  beforeAll(async () => {
    tp = await startTestPlatform(kind);
    w = await buildWorld(tp);
    site = await addSite(tp, w.communityA, w.memberA2.token, { role: 'prosumer' });
    reader = await bindNewDevice(tp, w.communityA, w.managerA.token, site);
  });
  afterAll(() => tp?.close());

  const send = async (device: DeviceCredentials, readings: { ts: string; quantity: string; value: number; unit: string }[]) => {
    const response = await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, { headers: { authorization: sasFor(device) }, body: { readings } });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  };
  const intervals = async (from: number, count: number) =>
    ((await tp.call('GET', `/api/v1/metering-points/${site}/intervals?from=${new Date(from).toISOString()}&to=${new Date(from + count * QUARTER).toISOString()}`,
      { token: w.managerA.token })).body as { importWh: number | null; exportWh: number | null; pvWh: number | null; quality: string }[]);
  const patchDevice = (deviceId: string, body: unknown) => tp.call('PATCH', `/api/v1/devices/${deviceId}`, { token: w.managerA.token, body });
  const settle = async () => {
    await tp.platform.intervals.flush();
    await tp.platform.sharing.flush();
  };

  it('refuses a second billing meter on a site, naming the one it has, when binding and when claiming', async () => {
    const batch = (await tp.call('POST', `/api/v1/communities/${w.communityA}/device-batches`, { token: w.managerA.token, body: { count: 2 } })).body;
    const [secondId, claimedId] = batch.deviceIds as [string, string];
    const refused = await patchDevice(secondId, { meteringPointId: site });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(new RegExp(`already has a billing meter, device ${reader.deviceId}`));
    expect((await tp.call('GET', `/api/v1/devices/${secondId}`, { token: w.managerA.token })).body).toMatchObject({ meteringPointId: null, role: null });
    expect((await patchDevice(secondId, { meteringPointId: site, role: 'billing' })).status).toBe(400);
    const bound = await patchDevice(secondId, { meteringPointId: site, role: 'sub-load' });
    expect(bound.status).toBe(200);
    expect(bound.body).toMatchObject({ meteringPointId: site, role: 'sub-load' });
    expect((await patchDevice(secondId, { role: 'billing-meter' })).status).toBe(409);
    second = await deviceCredentials(tp, w.managerA.token, secondId);

    // The member claims a reader by its sticker: without a role it would be a second billing meter.
    const files = unzipSync((await tp.call('GET', `/api/v1/device-batches/${batch.id}/artefacts.zip`, { token: w.managerA.token })).raw.rawPayload);
    const code = strFromU8(files['manifest.csv']!).trim().split('\r\n').slice(1).find((line) => line.startsWith(claimedId))!.split('code=')[1]!;
    const claim = (role?: string) => tp.call('POST', '/api/v1/claims', { token: w.memberA2.token, body: { code, meteringPointId: site, ...(role ? { role } : {}) } });
    const refusedClaim = await claim();
    expect(refusedClaim.status).toBe(409);
    expect(refusedClaim.body.message).toMatch(/already has a billing meter/);
    // The refusal changed nothing: the code still works, in a role the site can take.
    const claimed = await claim('production');
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ id: claimedId, meteringPointId: site, role: 'production' });
    expect((await patchDevice(claimedId, { meteringPointId: null })).body).toMatchObject({ meteringPointId: null, role: null });
  });

  it('never mixes the registers of two readers on one site: import comes from the billing meter alone', async () => {
    // The billing meter near 1.2 MWh (+50 Wh per 5 minutes), the sub-meter near 11.8 MWh (+100 Wh), interleaved.
    for (let i = 0; i <= 9; i++) {
      await send(reader, [{ ts: at(i), quantity: 'energy.import', value: 1_200_000 + 50 * i, unit: 'Wh' }, { ts: at(i), quantity: 'energy.export', value: 5_000, unit: 'Wh' }]);
      await send(second, [{ ts: new Date(base + i * FIVE_MINUTES + 60_000).toISOString(), quantity: 'energy.import', value: 11_800_000 + 100 * i, unit: 'Wh' }]);
    }
    await settle();
    expect((await intervals(base, 3)).map((r) => [r.importWh, r.exportWh, r.quality])).toEqual([[150, 0, 'measured'], [150, 0, 'measured'], [150, 0, 'measured']]);
    const energy = (await tp.call('GET', `/api/v1/members/${w.memberIdA2}/energy?from=${new Date(base).toISOString()}&to=${new Date(base + 3 * QUARTER).toISOString()}&resolution=15m`,
      { token: w.managerA.token })).body;
    expect(energy.totals.consumptionWh).toBeGreaterThanOrEqual(450);
    expect(energy.totals.consumptionWh).toBeLessThan(2_000);
  });

  it('takes PV from the site\'s PV inverter, per device, and not from what the billing meter reports', async () => {
    const inverter = await bindNewDevice(tp, w.communityA, w.managerA.token, site, {}, 'inverter');
    expect((await tp.call('GET', `/api/v1/devices/${inverter.deviceId}`, { token: w.managerA.token })).body.role).toBe('production');
    for (let i = 0; i <= 9; i++) {
      await send(inverter, [{ ts: at(i), quantity: 'pv.energy', value: 40_000 + 80 * i, unit: 'Wh' }]);
      // A reader wired to the inverter too: its PV must not count twice.
      await send(reader, [{ ts: at(i), quantity: 'pv.energy', value: 900_000 + 80 * i, unit: 'Wh' }]);
    }
    await settle();
    expect((await intervals(base, 3)).map((r) => [r.importWh, r.pvWh])).toEqual([[150, 240], [150, 240], [150, 240]]);
  });

  it('quarantines a quarter hour beyond the site\'s connection, shows the device and readings, and lets a manager raise the limit', async () => {
    // 20 kWh in a quarter hour on a household connection (43.47 kW: at most 10,867.5 Wh).
    for (const i of [10, 11, 12, 13]) {
      await send(reader, [{ ts: at(i), quantity: 'energy.import', value: i < 12 ? 1_200_000 + 50 * i : 1_220_000 + 50 * i, unit: 'Wh' },
        { ts: at(i), quantity: 'energy.export', value: 5_000, unit: 'Wh' }]);
    }
    await settle();
    const rows = await intervals(base + 3 * QUARTER, 1);
    expect(rows[0]).toMatchObject({ importWh: null, pvWh: null, quality: 'missing' });
    const issues = (await tp.call('GET', `/api/v1/communities/${w.communityA}/interval-issues`, { token: w.managerA.token })).body;
    const finding = issues.quarantined.find((q: { meteringPointId: string }) => q.meteringPointId === site);
    expect(finding).toMatchObject({
      start: new Date(base + 3 * QUARTER).toISOString(), series: 'import', energyWh: 20_150, limitWh: 10_867.5, deviceIds: [reader.deviceId],
      meteringPointName: expect.any(String), memberId: w.memberIdA2,
    });
    // The readings that bracket it: where the quarter hour starts, the last one in it, the first after it.
    expect(finding.readings.map((r: { deviceId: string; quantity: string; ts: string; value: number }) => [r.deviceId, r.quantity, r.ts, r.value])).toEqual([
      [reader.deviceId, 'energy.import', at(9), 1_200_450], [reader.deviceId, 'energy.import', at(11), 1_200_550], [reader.deviceId, 'energy.import', at(12), 1_220_600],
    ]);
    // Never shared as measured: the member's quarter hour is missing, the others' provisional.
    const member = await memberQuarters(tp.platform.db, w.memberIdA2, base + 3 * QUARTER, base + 4 * QUARTER);
    expect(member).toEqual([expect.objectContaining({ missing: true, consumptionWh: 0 })]);
    // The community's managers are told, once, in the app (the outbox hands intervals.quarantined to notifications); the member is not.
    await tp.platform.jobs.flush(OUTBOX_JOB);
    const told = async (token: string) => ((await tp.call('GET', '/api/v1/me/notifications', { token })).body.items as { event: string; params: Record<string, unknown> }[])
      .filter((n) => n.event === 'quarantined-quarter-hour');
    expect(await told(w.managerA.token)).toEqual([expect.objectContaining({ params: expect.objectContaining({ meteringPoint: finding.meteringPointName, quarterHourStartMs: base + 3 * QUARTER }) })]);
    expect(await told(w.memberA2.token)).toEqual([]);

    // A bigger connection (a farm, 120 kW): the quarter hour is plausible after all.
    expect((await tp.call('PATCH', `/api/v1/metering-points/${site}`, { token: w.memberA2.token, body: { connectionCapacityW: 120_000 } })).status).toBe(403);
    const raised = await tp.call('PATCH', `/api/v1/metering-points/${site}`, { token: w.managerA.token, body: { connectionCapacityW: 120_000 } });
    expect(raised.body).toMatchObject({ connectionCapacityW: 120_000, effectiveConnectionCapacityW: 120_000 });
    await settle();
    const again = (await intervals(base + 3 * QUARTER, 1))[0];
    expect(again, JSON.stringify(again)).toMatchObject({ importWh: 20_150, quality: 'measured' });
    const after = (await tp.call('GET', `/api/v1/communities/${w.communityA}/interval-issues`, { token: w.managerA.token })).body;
    expect(after.quarantined.filter((q: { meteringPointId: string }) => q.meteringPointId === site)).toEqual([]);
  });

  it('reads a device\'s readings again when its role changes', async () => {
    // The roles were the wrong way round: the manager swaps them, and the import is the other register's.
    expect((await patchDevice(reader.deviceId, { role: 'sub-load' })).status).toBe(200);
    expect((await patchDevice(second.deviceId, { role: 'billing-meter' })).status).toBe(200);
    await settle();
    // Its register starts a minute into the first quarter hour, which is not known from it.
    expect((await intervals(base, 3)).map((r) => [r.importWh, r.quality])).toEqual([[null, 'missing'], [300, 'measured'], [300, 'measured']]);
  });
});
