import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAN_RETENTION_DAYS, SOC_READING_MAX_AGE_MS } from '../../src/optimise/index.js';
import { warmStartOf } from '../../src/optimise/store.js';
import { keyFile } from '../../src/secrets/index.js';
import { deviceCredentials, sasFor, type DeviceCredentials } from '../support/devices.js';
import { startTestPlatform, unique, type TestPlatform } from '../support/platform.js';
import { createTestDatabase, storeKinds, type TestDatabase } from '../support/stores.js';
import { buildWorld, type World } from '../support/world.js';

const MINUTE = 60_000;
const QUARTER = 15 * MINUTE;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const CAPACITY_WH = 10_000;
const iso = (ms: number) => new Date(ms).toISOString();

interface ScenarioAsset { type: string; initialSoc?: number }

/**
 * Where the optimiser starts and what it remembers, through ingest, the API and the job on a real
 * database: a battery's reported state of charge (battery.soc) starts its plan when it is at most
 * 30 minutes old and not stamped after now, else the last plan's state (or half full) does; the
 * solver's warm start survives closing and reopening the platform; old plans are deleted, each
 * community's latest kept.
 */
describe.each(storeKinds)('the optimiser\'s state on %s', (kind) => {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-optimise-state-'));
  let database: TestDatabase;
  let tp: TestPlatform;
  let w: World;
  let battery: DeviceCredentials;
  let reader: DeviceCredentials;
  // The plans' clock runs two hours behind the real one: a report stamped after the plans' now is
  // still in the past for ingest, which refuses readings from the future.
  let nowMs = Math.floor((Date.now() - 2 * HOUR) / QUARTER) * QUARTER + 7 * MINUTE;

  const start = () => startTestPlatform(kind, {
    database, secretKeys: keyFile(join(dir, 'secret.key')), optimise: { now: () => nowMs, delayMs: 600_000, steps: 16, timeLimitS: 10 },
  });
  const call = (method: string, url: string, token: string, body?: unknown) => tp.call(method, url, { token, body });
  const report = async (device: DeviceCredentials, atMs: number, percent: number) => {
    const sent = await tp.call('POST', `/api/v1/devices/${device.deviceId}/readings`, {
      headers: { authorization: sasFor(device) }, body: { readings: [{ ts: iso(atMs), quantity: 'battery.soc', value: percent, unit: '%' }] },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
  };
  const plan = async () => {
    const stored = await tp.platform.optimise.service.plan(w.communityA, 'manual');
    expect(['optimal', 'time-limit']).toContain(stored!.status);
    return stored!;
  };
  const storageOf = (scenario: Record<string, unknown>) =>
    (scenario.sites as { assets: ScenarioAsset[] }[]).flatMap((s) => s.assets).find((a) => a.type === 'storage')!;
  const planView = async (id: string) => call('GET', `/api/v1/plans/${id}`, w.managerA.token);
  const batteryView = async (id: string) => (await planView(id)).body.assets.find((a: { deviceId: string | null }) => a.deviceId === battery.deviceId);

  beforeAll(async () => {
    database = await createTestDatabase(kind, kind === 'pglite' ? join(dir, 'db') : undefined);
    tp = await start();
    w = await buildWorld(tp);
    const added = await call('POST', `/api/v1/communities/${w.communityA}/devices`, w.managerA.token,
      { kind: 'battery', name: 'Home battery', meteringPointId: w.meteringPointA, role: 'storage' });
    expect(added.status).toBe(201);
    const controlled = await call('PUT', `/api/v1/devices/${added.body.id}/control`, w.memberA.token,
      { controllable: true, limits: { capacityWh: CAPACITY_WH, reserveSoc: 0.1 } });
    expect(controlled.status).toBe(200);
    // Devices made through the registry have keys once one is rotated.
    for (const id of [added.body.id, w.deviceA]) expect((await call('POST', `/api/v1/devices/${id}/keys/primary/rotate`, w.managerA.token)).status).toBe(200);
    battery = await deviceCredentials(tp, w.managerA.token, added.body.id);
    reader = await deviceCredentials(tp, w.managerA.token, w.deviceA);
  }, 120_000);
  afterAll(async () => {
    await tp?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ignores a report older than 30 minutes and one stamped after now: the battery is assumed half full', async () => {
    await report(battery, nowMs - SOC_READING_MAX_AGE_MS - 1_000, 90);
    await report(battery, nowMs + 5 * MINUTE, 20);
    const stored = await plan();
    expect(storageOf(stored.scenario).initialSoc).toBe(0.5);
    expect(await batteryView(stored.id)).toMatchObject({ initialSoc: { soc: 0.5, source: 'default', measuredAt: null } });
    // The first plan of the community has no solution to start from.
    expect(stored.warmStart).toBe(false);
  }, 60_000);

  it('starts the battery from a fresh report of its own, not from another device\'s', async () => {
    await report(battery, nowMs - 10 * MINUTE, 80);
    // Fresher, but from the meter reader at the same point: not the battery's state.
    await report(reader, nowMs - 2 * MINUTE, 10);
    const stored = await plan();
    expect(storageOf(stored.scenario).initialSoc).toBe(0.8);
    const view = await batteryView(stored.id);
    expect(view.initialSoc).toEqual({ soc: 0.8, source: 'measured', measuredAt: iso(nowMs - 10 * MINUTE) });
    // The plan's SoC moves on from 8 kWh by at most a quarter hour at full power (C/2: 5 kW, losses aside).
    expect(Math.abs(view.socWh[0] - 0.8 * CAPACITY_WH)).toBeLessThanOrEqual(1_500);
    expect(stored.warmStart).toBe(true);
  }, 60_000);

  it('falls back to where the last plan left the battery once every report is too old', async () => {
    const previous = await batteryView((await plan()).id);
    // 45 minutes on: the 80 % report is 55 minutes old, the one that was in the future 40.
    nowMs += 45 * MINUTE;
    const stored = await plan();
    // The new horizon starts three steps later: where the last plan has the battery after its third step.
    const expected = previous.socWh[2] / CAPACITY_WH;
    expect(storageOf(stored.scenario).initialSoc).toBeCloseTo(expected, 9);
    expect((await batteryView(stored.id)).initialSoc).toMatchObject({ source: 'previous-plan', measuredAt: null });
  }, 60_000);

  it('keeps the warm start across closing and reopening the platform', async () => {
    const before = (await call('GET', `/api/v1/communities/${w.communityA}/plan`, w.managerA.token)).body.plan.plan;
    expect((await warmStartOf(tp.platform.db, w.communityA))?.planId).toBe(before.id);
    await tp.close();
    nowMs += QUARTER;
    tp = await start();
    const after = await plan();
    expect(after.warmStart).toBe(true);
    expect((await call('GET', `/api/v1/communities/${w.communityA}/plan`, w.managerA.token)).body.plan.plan).toMatchObject({ id: after.id, warmStart: true });
    expect((await warmStartOf(tp.platform.db, w.communityA))?.planId).toBe(after.id);

    // A solution whose horizon (4 hours) has passed says nothing about the next one.
    nowMs += 5 * HOUR;
    expect((await plan()).warmStart).toBe(false);
  }, 120_000);

  it('deletes plans older than the retention from the job, and keeps each community\'s latest', async () => {
    const recent = (await plan()).id;
    // Community B has a metering point and nothing the job plans: its plans are made here only.
    const point = await call('POST', `/api/v1/communities/${w.communityB}/metering-points`, w.memberB.token,
      { name: 'Home B', gridConnectionId: unique('AT001GC'), role: 'consumer' });
    expect(point.status, JSON.stringify(point.body)).toBe(201);
    const planB = async () => (await tp.platform.optimise.service.plan(w.communityB, 'manual'))!.id;
    const present = nowMs;
    nowMs = present - (PLAN_RETENTION_DAYS + 5) * DAY;
    const [oldestA, oldA, oldestB, oldB] = [(await plan()).id, (await plan()).id, await planB(), await planB()];
    nowMs = present;
    // The job plans A again (its latest is from the old horizon) and deletes what is past the retention.
    await tp.platform.optimise.flush();
    const latestA = (await call('GET', `/api/v1/communities/${w.communityA}/plan`, w.managerA.token)).body.plan.plan;
    expect([oldestA, oldA, recent]).not.toContain(latestA.id);
    expect((await planView(oldestA)).status).toBe(404);
    expect((await planView(oldA)).status).toBe(404);
    expect((await planView(recent)).status).toBe(200);
    expect((await planView(latestA.id)).status).toBe(200);
    // B's latest plan is kept however old it is; the one before it is not.
    const viewB = (id: string) => call('GET', `/api/v1/plans/${id}`, w.managerB.token);
    expect((await viewB(oldestB)).status).toBe(404);
    expect((await viewB(oldB)).status).toBe(200);
    expect((await call('GET', `/api/v1/communities/${w.communityB}/plan`, w.managerB.token)).body.plan.plan.id).toBe(oldB);
  }, 120_000);
});
