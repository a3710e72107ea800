import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOC_READING_MAX_AGE_MS } from '../../src/optimise/index.js';
import { keyFile } from '../../src/secrets/index.js';
import { deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { createTestDatabase, platformStoreKinds, type TestDatabase } from '../support/stores.js';
import { buildWorld, type World } from '../support/world.js';

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;
const HOUR = 60 * MINUTE;
const EV_CAPACITY_WH = 50_000;
const iso = (ms: number) => new Date(ms).toISOString();
/** HH:MM in the community's zone. */
const localTime = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Vienna', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(ms));

interface RawAsset { type: string; initialTempC?: number; sessions?: { arrival: string; socAtConnectionWh: number }[] }
interface ViewAsset { deviceId: string | null; socWh?: (number | null)[]; temperatureC?: number[]; initialSoc?: unknown; initialTemperature?: unknown }

/**
 * An EV's state of charge (ev.soc, from its charger) and a heat pump's tank temperature
 * (heat-pump.tank-temperature), reported through ingest's HTTP route, start the plan like a
 * battery's battery.soc: a fresh report of the device's own, else where the last plan left it, else
 * a default, each plan saying which. And a report that departs from the latest plan beyond the
 * threshold (10 % of the capacity, 3 K) has the MPC job plan again, a report that matches does not.
 */
describe.each(platformStoreKinds)('devices\' reported state on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-optimise-device-state-'));
  let database: TestDatabase;
  let tp: TestPlatform;
  let w: World;
  const devices = {} as Record<'battery' | 'ev' | 'heatPump' | 'reader', DeviceCredentials>;
  // The plans' clock runs two hours behind the real one, so a report stamped after the plans' now is not refused by ingest as from the future.
  let nowMs = Math.floor((Date.now() - 2 * HOUR) / QUARTER) * QUARTER + 7 * MINUTE;

  const call = (method: string, url: string, token: string, body?: unknown) => tp.call(method, url, { token, body });
  const report = async (device: DeviceCredentials, quantity: string, atMs: number, value: number, unit: string) => {
    const sent = await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, {
      headers: { authorization: sasFor(device) }, body: { readings: [{ ts: iso(atMs), quantity, value, unit }] },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
  };
  const evSoc = (atMs: number, percent: number) => report(devices.ev, 'ev.soc', atMs, percent, '%');
  const tank = (device: DeviceCredentials, atMs: number, celsius: number) => report(device, 'heat-pump.tank-temperature', atMs, celsius, '°C');
  const plan = async () => {
    const stored = await tp.platform.optimise.service.plan(w.communityA, 'manual');
    expect(['optimal', 'time-limit']).toContain(stored!.status);
    return stored!;
  };
  const rawAsset = (scenario: Record<string, unknown>, type: string) =>
    (scenario.sites as { assets: RawAsset[] }[]).flatMap((s) => s.assets).find((a) => a.type === type)!;
  const latest = async () => (await call('GET', `/api/v1/communities/${w.communityA}/plan`, w.managerA.token)).body.plan;
  const viewOf = async (planId: string, device: DeviceCredentials): Promise<ViewAsset> =>
    (await call('GET', `/api/v1/plans/${planId}`, w.managerA.token)).body.assets.find((a: ViewAsset) => a.deviceId === device.deviceId);

  beforeAll(async () => {
    database = await createTestDatabase(kind, kind === 'pglite' ? join(dir, 'db') : undefined);
    tp = await startTestPlatform(kind, {
      database, secretKeys: keyFile(join(dir, 'secret.key')), optimise: { now: () => nowMs, delayMs: 600_000, steps: 16, timeLimitS: 10 },
    });
    w = await buildWorld(tp);
    const add = async (deviceKind: string, name: string, role: string, limits: Record<string, unknown>) => {
      const added = await call('POST', `/api/v1/communities/${w.communityA}/devices`, w.managerA.token, { kind: deviceKind, name, meteringPointId: w.meteringPointA, role });
      expect(added.status).toBe(201);
      const controlled = await call('PUT', `/api/v1/devices/${added.body.id}/control`, w.memberA.token, { controllable: true, limits });
      expect(controlled.status, JSON.stringify(controlled.body)).toBe(200);
      return added.body.id as string;
    };
    // The car has been plugged in for two hours and is needed in three.
    const ids = {
      battery: await add('battery', 'Home battery', 'storage', { capacityWh: 10_000, reserveSoc: 0.1 }),
      ev: await add('ev-charger', 'Wallbox', 'sub-load', {
        capacityWh: EV_CAPACITY_WH, maxPowerW: 11_000, minChargeWh: 10_000, pluggedInFrom: localTime(nowMs - 2 * HOUR), readyBy: localTime(nowMs + 3 * HOUR),
      }),
      heatPump: await add('heat-pump', 'Heat pump', 'sub-load', { comfortMinC: 40, comfortMaxC: 60 }),
      reader: w.deviceA,
    };
    // Devices made through the registry have keys once one is rotated.
    for (const [name, id] of Object.entries(ids)) {
      expect((await call('POST', `/api/v1/devices/${id}/keys/primary/rotate`, w.managerA.token)).status).toBe(200);
      devices[name as keyof typeof devices] = await deviceCredentials(tp, w.managerA.token, id);
    }
  }, 120_000);
  afterAll(async () => {
    await tp?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ignores old, future and other devices\' reports: the EV connected at 30 %, the tank mid-band', async () => {
    await evSoc(nowMs - SOC_READING_MAX_AGE_MS - MINUTE, 90);
    await evSoc(nowMs + 5 * MINUTE, 90);
    await tank(devices.heatPump, nowMs - SOC_READING_MAX_AGE_MS - MINUTE, 58);
    await tank(devices.heatPump, nowMs + 5 * MINUTE, 58);
    // The meter reader at the same point reports a tank temperature: not the heat pump's.
    await tank(devices.reader, nowMs - MINUTE, 42);
    const stored = await plan();
    const ev = rawAsset(stored.scenario, 'ev');
    expect(ev.sessions![0]).toMatchObject({ arrival: iso(Math.ceil(nowMs / QUARTER) * QUARTER), socAtConnectionWh: 0.3 * EV_CAPACITY_WH });
    expect(rawAsset(stored.scenario, 'heat-pump').initialTempC).toBe(50);
    expect((await viewOf(stored.id, devices.ev)).initialSoc).toEqual({ soc: 0.3, source: 'default', measuredAt: null });
    expect((await viewOf(stored.id, devices.heatPump)).initialTemperature).toEqual({ temperatureC: 50, source: 'default', measuredAt: null });
  }, 60_000);

  it('starts the EV and the tank from fresh reports of their own', async () => {
    await evSoc(nowMs - 5 * MINUTE, 64);
    await tank(devices.heatPump, nowMs - 3 * MINUTE, 47.5);
    const stored = await plan();
    expect(rawAsset(stored.scenario, 'ev').sessions![0]!.socAtConnectionWh).toBe(0.64 * EV_CAPACITY_WH);
    expect(rawAsset(stored.scenario, 'heat-pump').initialTempC).toBe(47.5);
    expect((await viewOf(stored.id, devices.ev)).initialSoc).toEqual({ soc: 0.64, source: 'measured', measuredAt: iso(nowMs - 5 * MINUTE) });
    expect((await viewOf(stored.id, devices.heatPump)).initialTemperature).toEqual({ temperatureC: 47.5, source: 'measured', measuredAt: iso(nowMs - 3 * MINUTE) });
  }, 60_000);

  it('falls back to where the last plan left the car and the tank once the reports are old', async () => {
    const previous = (await plan()).id;
    const [ev, heatPump] = [await viewOf(previous, devices.ev), await viewOf(previous, devices.heatPump)];
    nowMs += 45 * MINUTE;
    const stored = await plan();
    // Three steps later: where the last plan has them after its third step.
    expect(rawAsset(stored.scenario, 'ev').sessions![0]!.socAtConnectionWh).toBe(Math.round(ev.socWh![2]!));
    expect(rawAsset(stored.scenario, 'heat-pump').initialTempC).toBeCloseTo(heatPump.temperatureC![2]!, 2);
    expect((await viewOf(stored.id, devices.ev)).initialSoc).toMatchObject({ source: 'previous-plan', measuredAt: null });
    expect((await viewOf(stored.id, devices.heatPump)).initialTemperature).toMatchObject({ source: 'previous-plan', measuredAt: null });
  }, 60_000);

  it('plans again when a report departs from the plan beyond its threshold, not when it matches', async () => {
    nowMs += QUARTER;
    // The reports above departed from the plans before them: what they asked for is done first.
    await tp.platform.optimise.flush();
    await report(devices.battery, 'battery.soc', nowMs - MINUTE, 60, '%');
    const first = await plan();
    // A minute on: reports from before a plan was decided were known to it.
    nowMs += MINUTE;
    const tankStart = rawAsset(first.scenario, 'heat-pump').initialTempC!;
    const evStart = rawAsset(first.scenario, 'ev').sessions![0]!.socAtConnectionWh / EV_CAPACITY_WH;
    // Before the horizon starts the plan expects each device where it starts it. (A device, quantity
    // and instant is one reading: each report has its own.)
    await report(devices.battery, 'battery.soc', nowMs - 40_000, 68, '%');
    await tank(devices.heatPump, nowMs - 40_000, tankStart + 2.5);
    await evSoc(nowMs - 40_000, Math.round(evStart * 100) + 8);
    // Far off, but from before the plan was decided: the plan knew it or a newer one.
    await report(devices.battery, 'battery.soc', nowMs - MINUTE - 30_000, 95, '%');
    await tp.platform.optimise.flush();
    expect((await latest()).plan, 'reports within the thresholds plan nothing').toMatchObject({ id: first.id, trigger: 'manual' });

    await report(devices.battery, 'battery.soc', nowMs - 20_000, 75, '%');
    await tp.platform.optimise.flush();
    const afterBattery = await latest();
    expect(afterBattery.plan).toMatchObject({ trigger: 'device-state' });
    expect(afterBattery.plan.id).not.toBe(first.id);
    expect((await viewOf(afterBattery.plan.id, devices.battery)).initialSoc).toMatchObject({ soc: 0.75, source: 'measured' });

    const tankNow = rawAsset((await tp.platform.optimise.service.plan(w.communityA, 'manual'))!.scenario, 'heat-pump').initialTempC!;
    nowMs += MINUTE;
    await tank(devices.heatPump, nowMs - 10_000, tankNow - 3.5);
    await tp.platform.optimise.flush();
    const afterTank = await latest();
    expect(afterTank.plan.trigger).toBe('device-state');
    expect((await viewOf(afterTank.plan.id, devices.heatPump)).initialTemperature).toMatchObject({ temperatureC: tankNow - 3.5, source: 'measured' });

    const evNow = rawAsset((await tp.platform.optimise.service.plan(w.communityA, 'manual'))!.scenario, 'ev').sessions![0]!.socAtConnectionWh / EV_CAPACITY_WH;
    const manual = (await latest()).plan.id;
    nowMs += MINUTE;
    await evSoc(nowMs - 10_000, Math.round(evNow * 100) + 15);
    await tp.platform.optimise.flush();
    const afterEv = await latest();
    expect(afterEv.plan).toMatchObject({ trigger: 'device-state' });
    expect(afterEv.plan.id).not.toBe(manual);
  }, 120_000);
});
