import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { latestPlan } from '../../src/optimise/store.js';

/**
 * Connection limits and a device's technical data from the registry's routes into a plan: the
 * member records their battery's data (checked for its kind; bad data changes nothing), the
 * manager sets the site's export limit and the community's connection limit (validated, managers
 * only), and the next plan's scenario carries them, the battery planned with its data and the
 * plan saying where each value came from.
 */
describe.each(platformStoreKinds)('connection limits and technical data on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  let battery = '';
  const nowMs = Date.UTC(2026, 5, 15, 6, 7);
  const call = (method: string, url: string, token: string, body?: unknown) => tp.call(method, url, { token, body });

  beforeAll(async () => {
    tp = await startTestPlatform(kind, { optimise: { now: () => nowMs, delayMs: 600_000, steps: 8, timeLimitS: 10 } });
    w = await buildWorld(tp);
    battery = (await call('POST', `/api/v1/communities/${w.communityA}/devices`, w.managerA.token,
      { kind: 'battery', name: 'Home battery', meteringPointId: w.meteringPointA, role: 'storage' })).body.id as string;
  }, 60_000);
  afterAll(() => tp?.close());

  it('lets the member or a manager record a device\'s technical data, checked for its kind', async () => {
    const specs = `/api/v1/devices/${battery}/specs`;
    const wrong = await call('PUT', specs, w.memberA.token, { specs: { capacityWh: 13_500, cop: 3 } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toContain('body/cop');
    expect((await call('PUT', specs, w.memberA.token, { specs: { capacityWh: 13_500.5 } })).status).toBe(400);
    expect((await call('PUT', specs, w.memberA2.token, { specs: { capacityWh: 13_500 } })).status).toBe(404);
    expect((await call('GET', `/api/v1/devices/${battery}`, w.memberA.token)).body.specs).toBeNull();
    const set = await call('PUT', specs, w.memberA.token, { specs: { capacityWh: 13_500, maxChargeW: 5000, maxDischargeW: 4600 } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body.specs).toEqual({ capacityWh: 13_500, maxChargeW: 5000, maxDischargeW: 4600 });
    expect((await call('GET', `/api/v1/devices/${battery}`, w.managerA.token)).body.specs).toEqual(set.body.specs);
  });

  it('lets managers set a site\'s export limit and the community\'s connection limits, refusing what cannot be', async () => {
    const point = `/api/v1/metering-points/${w.meteringPointA}`;
    expect((await call('PATCH', point, w.memberA.token, { exportLimitW: 2000 })).status).toBe(403);
    const above = await call('PATCH', point, w.managerA.token, { exportLimitW: 50_000 });
    expect(above.status).toBe(400);
    expect(above.body.message).toContain('body/exportLimitW');
    expect((await call('GET', point, w.managerA.token)).body.exportLimitW).toBeNull();
    expect((await call('PATCH', point, w.managerA.token, { exportLimitW: 2000 })).body).toMatchObject({ exportLimitW: 2000, effectiveConnectionCapacityW: 43_470 });

    const communityUrl = `/api/v1/communities/${w.communityA}`;
    expect((await call('PATCH', communityUrl, w.memberA.token, { connectionImportLimitW: 30_000 })).status).toBe(403);
    expect((await call('PATCH', communityUrl, w.managerA.token, { connectionImportLimitW: 0 })).status).toBe(400);
    const limited = await call('PATCH', communityUrl, w.managerA.token, { connectionImportLimitW: 30_000, connectionExportLimitW: 20_000 });
    expect(limited.status).toBe(200);
    expect(limited.body).toMatchObject({ connectionImportLimitW: 30_000, connectionExportLimitW: 20_000 });
  });

  it('plans with the limits and the battery\'s data, narrowed by its member, and says where each value came from', async () => {
    expect((await call('PUT', `/api/v1/devices/${battery}/control`, w.memberA.token, { controllable: true, limits: { maxPowerW: 3000 } })).status).toBe(200);
    const replanned = await call('POST', `/api/v1/communities/${w.communityA}/plan/replan`, w.managerA.token);
    expect(replanned.status, JSON.stringify(replanned.body)).toBe(200);
    const stored = (await latestPlan(tp.platform.db, w.communityA))!;
    const scenario = stored.scenario as { community: { grid: Record<string, unknown> }; sites: { grid: Record<string, unknown>; assets: Record<string, unknown>[] }[] };
    expect(scenario.community.grid).toMatchObject({ importLimitW: 30_000, exportLimitW: 20_000 });
    const site = scenario.sites.find((s) => s.assets.some((a) => a.type === 'storage'))!;
    expect(site.grid).toMatchObject({ importLimitW: 43_470, exportLimitW: 2000 });
    expect(site.assets.find((a) => a.type === 'storage')).toMatchObject({ capacityWh: 13_500, maxChargeW: 3000, maxDischargeW: 3000 });

    const view = (await call('GET', `/api/v1/communities/${w.communityA}/plan`, w.managerA.token)).body.plan;
    expect(view.limitExcess).toEqual([]);
    const planned = view.assets.find((a: { deviceId: string | null }) => a.deviceId === battery);
    expect(planned.technical).toEqual({ capacityWh: 'device', maxChargeW: 'member-limit', maxDischargeW: 'member-limit', efficiency: 'default', reserveSoc: 'default' });
    expect((await call('GET', `/api/v1/members/${w.memberIdA}/plan`, w.memberA.token)).body.limitExcess).toEqual([]);
  });

  it('plans an EV that must charge beyond the community\'s import limit, and lists those steps in the manager\'s view', async () => {
    // 08:15–10:15 in Vienna; the car is plugged in all along and needs its energy by 10:00, the community may import 1 W.
    const ev = (await call('POST', `/api/v1/communities/${w.communityA}/devices`, w.managerA.token,
      { kind: 'ev-charger', name: 'EV charger', meteringPointId: w.meteringPointA, role: 'sub-load' })).body.id as string;
    expect((await call('PUT', `/api/v1/devices/${ev}/specs`, w.memberA.token, { specs: { maxPowerW: 7400, phases: 1 } })).status).toBe(200);
    expect((await call('PUT', `/api/v1/devices/${ev}/control`, w.memberA.token,
      { controllable: true, limits: { pluggedInFrom: '08:00', readyBy: '10:00', minChargeWh: 5000 } })).status).toBe(200);
    expect((await call('PATCH', `/api/v1/communities/${w.communityA}`, w.managerA.token, { connectionImportLimitW: 1 })).status).toBe(200);
    expect((await call('POST', `/api/v1/communities/${w.communityA}/plan/replan`, w.managerA.token)).status).toBe(200);
    const view = (await call('GET', `/api/v1/communities/${w.communityA}/plan`, w.managerA.token)).body.plan;
    expect(['optimal', 'time-limit']).toContain(view.plan.status);
    expect(view.limitExcess.length).toBeGreaterThan(0);
    expect(view.limitExcess.every((e: { meteringPointId: string | null; name: string; importW: number }) =>
      e.meteringPointId === null && e.name === 'community' && e.importW > 0)).toBe(true);
    expect(view.assets.find((a: { deviceId: string | null }) => a.deviceId === ev).technical).toEqual({ maxPowerW: 'device', minPowerW: 'device' });
    // The community's connection is no member's site: not in the member's view.
    expect((await call('GET', `/api/v1/members/${w.memberIdA}/plan`, w.memberA.token)).body.limitExcess).toEqual([]);
  });
});
