import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import type { EventPayload } from '../../src/kernel/events.js';

const QUARTER = 15 * 60_000;
const HOUR = 4 * QUARTER;

/**
 * Plans in operation, through the API and the real event bus, with the clock moved by the test:
 * members' control settings (validated; bad input changes nothing), a plan stored and published
 * with commands for controllable devices only, a re-plan on a new forecast and on an override
 * (the override respected), an appliance start request, the manager's and the member's views.
 */
describe.each(platformStoreKinds)('plans in operation on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  // A summer morning (08:07 in Vienna): the intraday forecast covers the 8-hour horizon.
  let nowMs = Date.UTC(2026, 5, 15, 6, 7);
  const decided: EventPayload<'plan.decided'>[] = [];
  const devices = { battery: '', heatPump: '', ev: '', plug: '' };

  const call = (method: string, url: string, token: string, body?: unknown) => tp.call(method, url, { token, body });
  const control = (id: string, body: unknown, token = w.memberA.token) => call('PUT', `/api/v1/devices/${id}/control`, token, body);
  const latest = async () => (await call('GET', `/api/v1/communities/${w.communityA}/plan`, w.managerA.token)).body.plan;

  beforeAll(async () => {
    tp = await startTestPlatform(kind, {
      forecast: { now: () => nowMs, delayMs: 600_000 },
      optimise: { now: () => nowMs, delayMs: 600_000, steps: 32, timeLimitS: 10 },
    });
    w = await buildWorld(tp);
    tp.platform.events.afterCommit('plan.decided', (payload) => void decided.push(payload));
    const add = async (deviceKind: string, name: string, role: string) => (await call('POST', `/api/v1/communities/${w.communityA}/devices`, w.managerA.token,
      { kind: deviceKind, name, meteringPointId: w.meteringPointA, role })).body.id as string;
    devices.battery = await add('battery', 'Home battery', 'storage');
    devices.heatPump = await add('heat-pump', 'Heat pump', 'sub-load');
    devices.ev = await add('ev-charger', 'EV charger', 'sub-load');
    devices.plug = await add('smart-plug', 'Washing machine', 'sub-load');
  }, 60_000);
  afterAll(() => tp?.close());

  it('keeps control settings per device: only its member changes them, bad limits change nothing', async () => {
    const before = await call('GET', `/api/v1/devices/${devices.battery}/control`, w.memberA.token);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ supported: true, controllable: false, limits: {}, overrideUntil: null, requests: [] });

    const wrongKind = await control(devices.battery, { controllable: true, limits: { comfortMinC: 40 } });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.message).toContain('comfortMinC');
    const band = await control(devices.heatPump, { controllable: true, limits: { comfortMinC: 50, comfortMaxC: 51 } });
    expect(band.status).toBe(400);
    const meter = await control(w.deviceA, { controllable: true });
    expect(meter.status).toBe(400);
    expect((await control(devices.battery, { controllable: true }, w.managerA.token)).status).toBe(403);
    expect((await control(devices.battery, { controllable: true }, w.memberA2.token)).status).toBe(404);
    // Nothing changed.
    expect((await call('GET', `/api/v1/devices/${devices.battery}/control`, w.managerA.token)).body).toEqual(before.body);
    expect((await call('GET', `/api/v1/devices/${devices.heatPump}/control`, w.memberA.token)).body.controllable).toBe(false);

    const set = await control(devices.battery, { controllable: true, limits: { reserveSoc: 0.3, capacityWh: 10_000 } });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ controllable: true, limits: { reserveSoc: 0.3, capacityWh: 10_000 } });
    expect((await control(devices.heatPump, { controllable: true, limits: { comfortMinC: 45, comfortMaxC: 55 } })).status).toBe(200);
    expect((await control(devices.plug, { controllable: true, limits: { runPowerW: [2000, 500] } })).status).toBe(200);
  });

  it('plans on a new forecast, stores the plan and publishes commands for controllable devices only', async () => {
    await tp.platform.forecast.flush();
    await tp.platform.optimise.flush();
    const plan = await latest();
    expect(plan, 'a plan after the forecast').not.toBeNull();
    expect(plan.plan).toMatchObject({ trigger: 'forecast', horizonStart: new Date(Date.UTC(2026, 5, 15, 6, 15)).toISOString(), stepMinutes: 15, currency: 'EUR' });
    expect(['optimal', 'time-limit']).toContain(plan.plan.status);
    expect(plan.plan.saving).not.toBeNull();
    expect(plan.plan.size.columns).toBeGreaterThan(0);
    expect(plan.assets.map((a: { deviceId: string | null }) => a.deviceId)).toEqual(expect.arrayContaining([devices.battery, devices.heatPump]));

    const event = decided.at(-1)!;
    expect(event.planId).toBe(plan.plan.id);
    expect(event.communityId).toBe(w.communityA);
    const controlled = new Set([devices.battery, devices.heatPump]);
    expect(event.commands.length).toBeGreaterThan(0);
    expect(event.commands.every((c) => controlled.has(c.deviceId))).toBe(true);
    const battery = event.commands.filter((c) => c.kind === 'battery-power');
    const start = Date.UTC(2026, 5, 15, 6, 15);
    expect(battery.map((c) => c.validFromMs)).toEqual([0, 1, 2, 3].map((k) => start + k * QUARTER));
    expect(battery.every((c) => c.expiresAtMs === c.validFromMs + QUARTER && typeof c.value === 'number')).toBe(true);
    expect(event.commands.filter((c) => c.deviceId === devices.heatPump).every((c) => c.kind === 'heat-pump-power' || c.kind === 'heat-pump-block')).toBe(true);
    expect(plan.commandList).toHaveLength(event.commands.length);

    const byId = await call('GET', `/api/v1/plans/${plan.plan.id}`, w.managerA.token);
    expect(byId.status).toBe(200);
    expect(byId.body.plan.id).toBe(plan.plan.id);
    expect((await call('GET', `/api/v1/plans/${plan.plan.id}`, w.memberA.token)).status).toBe(403);
    expect((await call('GET', `/api/v1/plans/${plan.plan.id}`, w.managerB.token)).status).toBe(404);
  });

  it('respects an override reported by a device: the next plan leaves it alone', async () => {
    nowMs += 5 * 60_000;
    const count = decided.length;
    await tp.platform.events.publish(tp.platform.db, 'device.override', {
      communityId: w.communityA, deviceId: devices.battery, untilMs: nowMs + 2 * HOUR, source: 'device',
    });
    const seen = await call('GET', `/api/v1/devices/${devices.battery}/control`, w.memberA.token);
    expect(seen.body).toMatchObject({ controllable: true, overrideUntil: new Date(nowMs + 2 * HOUR).toISOString(), overrideSource: 'device' });
    await tp.platform.optimise.flush();
    const plan = await latest();
    expect(plan.plan.trigger).toBe('override');
    expect(plan.plan.warmStart).toBe(true);
    expect(plan.assets.map((a: { deviceId: string | null }) => a.deviceId)).not.toContain(devices.battery);
    expect(decided).toHaveLength(count + 1);
    expect(decided.at(-1)!.commands.some((c) => c.deviceId === devices.battery)).toBe(false);

    // The member ends it in the app (published as device.override, source app): the battery is planned again.
    const ended = await control(devices.battery, { overrideUntil: null });
    expect(ended.body).toMatchObject({ overrideUntil: null, overrideSource: null });
    await tp.platform.optimise.flush();
    expect(decided.at(-1)!.commands.some((c) => c.deviceId === devices.battery)).toBe(true);
    // An override in the past or beyond a week is refused.
    expect((await control(devices.battery, { overrideUntil: new Date(nowMs - 60_000).toISOString() })).status).toBe(400);
  });

  it('starts an appliance by its ready-by time and then plans its run as a fixed load', async () => {
    const start = Date.UTC(2026, 5, 15, 6, 15);
    // Ready by the end of a run started at the horizon's first step: it must start now.
    expect((await call('POST', `/api/v1/devices/${devices.ev}/appliance-requests`, w.memberA.token, { readyBy: new Date(start + 2 * QUARTER).toISOString() })).status).toBe(400);
    expect((await call('POST', `/api/v1/devices/${devices.plug}/appliance-requests`, w.memberA.token, { readyBy: new Date(nowMs - 1).toISOString() })).status).toBe(400);
    const created = await call('POST', `/api/v1/devices/${devices.plug}/appliance-requests`, w.memberA.token, { readyBy: new Date(start + 2 * QUARTER).toISOString() });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await tp.platform.optimise.flush();
    const plan = await latest();
    expect(plan.plan.trigger).toBe('request');
    const startCommand = decided.at(-1)!.commands.find((c) => c.kind === 'appliance-start');
    expect(startCommand).toMatchObject({ deviceId: devices.plug, validFromMs: start, expiresAtMs: start + 10 * 60_000, value: null });
    const after = await call('GET', `/api/v1/devices/${devices.plug}/control`, w.memberA.token);
    expect(after.body.requests).toEqual([expect.objectContaining({ id: created.body.id, startsAt: new Date(start).toISOString() })]);

    // A quarter hour later the run is under way: a fixed load, not started again.
    nowMs += 15 * 60_000;
    const next = await call('POST', `/api/v1/communities/${w.communityA}/plan/replan`, w.managerA.token);
    expect(next.status).toBe(200);
    expect(next.body.trigger).toBe('manual');
    expect(decided.at(-1)!.commands.some((c) => c.kind === 'appliance-start')).toBe(false);

    const other = await call('POST', `/api/v1/devices/${devices.plug}/appliance-requests`, w.memberA.token, { readyBy: new Date(nowMs + 6 * HOUR).toISOString() });
    expect((await call('DELETE', `/api/v1/appliance-requests/${other.body.id}`, w.memberA2.token)).status).toBe(404);
    expect((await call('DELETE', `/api/v1/appliance-requests/${other.body.id}`, w.managerA.token)).status).toBe(403);
    expect((await call('DELETE', `/api/v1/appliance-requests/${other.body.id}`, w.memberA.token)).status).toBe(204);
  });

  it('shows a member their plan and the saving, and lets the manager pick the objective', async () => {
    const mine = await call('GET', `/api/v1/members/${w.memberIdA}/plan`, w.memberA.token);
    expect(mine.status).toBe(200);
    expect(mine.body.plan).not.toBeNull();
    expect(mine.body.saving).toMatchObject({ total: expect.any(String), direct: expect.any(String), communityShare: expect.any(String) });
    expect(mine.body.assets.map((a: { deviceId: string }) => a.deviceId)).toContain(devices.battery);
    expect(mine.body.assets.every((a: { memberId: string }) => a.memberId === w.memberIdA)).toBe(true);
    expect((await call('GET', `/api/v1/members/${w.memberIdA}/plan`, w.memberA2.token)).status).toBe(404);
    const theirs = await call('GET', `/api/v1/members/${w.memberIdA2}/plan`, w.memberA2.token);
    expect(theirs.body.assets).toEqual([]);

    const objective = `/api/v1/communities/${w.communityA}/plan-objective`;
    expect((await call('GET', objective, w.managerA.token)).body).toEqual({ cost: 1, co2PerKg: 0, importPerKwh: 0, exportPerKwh: 0, peakPerKw: 0 });
    const zero = { cost: 0, co2PerKg: 0, importPerKwh: 0, exportPerKwh: 0, peakPerKw: 0 };
    expect((await call('PUT', objective, w.managerA.token, zero)).status).toBe(400);
    expect((await call('PUT', objective, w.managerA.token, { ...zero, cost: -1 })).status).toBe(400);
    expect((await call('PUT', objective, w.memberA.token, { ...zero, cost: 1 })).status).toBe(403);
    expect((await call('GET', objective, w.managerA.token)).body.cost).toBe(1);
    const weights = { ...zero, cost: 1, peakPerKw: 0.2 };
    expect((await call('PUT', objective, w.managerA.token, weights)).body).toEqual(weights);
    await tp.platform.optimise.flush();
    const plan = await latest();
    expect(plan.plan).toMatchObject({ trigger: 'settings', weights });
  });
});
