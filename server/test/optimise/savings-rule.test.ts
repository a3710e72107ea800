import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNano } from '../../src/kernel/money.js';
import { proportional } from '../../src/optimise/index.js';
import { latestPlan } from '../../src/optimise/store.js';
import { constantShares, createAllocator, createMatrix } from '../../src/sharing/domain/allocation/index.js';
import { platformStoreKinds } from '../support/stores.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, joinA, PARTICIPATION_START, type Joiner, type World } from '../support/world.js';

/**
 * A community with a static key sees its plan's saving at the community's connection split by
 * that key: each member's weight is the community energy the static rule gives them under the
 * plan (checked here against sharing's engine on the plan's own flows), the amounts follow the
 * weights exactly, and a member's plan says which rule, their key, weight and amount.
 */
describe.each(platformStoreKinds)('savings by the community\'s static key on %s', (kind) => {
  let tp: TestPlatform;
  let w: World;
  // A summer morning (08:07 in Vienna): PV produces over the 8-hour horizon.
  const nowMs = Date.UTC(2026, 5, 15, 6, 7);

  const call = (method: string, url: string, token: string, body?: unknown) => tp.call(method, url, { token, body });
  let third: Joiner;
  const setKey = async (a2: string, a3: string) => {
    const put = await call('PUT', `/api/v1/communities/${w.communityA}/allocation-shares`, w.managerA.token, {
      validFrom: '2026-06-01T00:00:00Z', shares: [{ memberId: w.memberIdA2, share: a2 }, { memberId: third.memberId, share: a3 }],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  };

  beforeAll(async () => {
    tp = await startTestPlatform(kind, {
      forecast: { now: () => nowMs, delayMs: 600_000 },
      optimise: { now: () => nowMs, delayMs: 600_000, steps: 32, timeLimitS: 10 },
    });
    w = await buildWorld(tp);
    // Member A's PV is the community's production; A2 and a third member consume, A2 with a battery the plan controls.
    third = await joinA(tp, w, 'memberA3', PARTICIPATION_START);
    expect((await call('PATCH', `/api/v1/communities/${w.communityA}`, w.managerA.token, { allocationRule: 'static' })).status).toBe(200);
    const battery = await call('POST', `/api/v1/communities/${w.communityA}/devices`, w.managerA.token,
      { kind: 'battery', name: 'Home battery', meteringPointId: w.meteringPointA2, role: 'storage' });
    expect((await call('PUT', `/api/v1/devices/${battery.body.id}/control`, w.memberA2.token, { controllable: true, limits: { capacityWh: 10_000 } })).status).toBe(200);
    await tp.platform.forecast.flush();
  }, 120_000);
  afterAll(() => tp?.close());

  /** Plans with the key (A2's share, the third member's share); each member's explanation checked against sharing's engine. */
  const planWithKey = async (a2: string, a3: string) => {
    await setKey(a2, a3);
    const stored = await tp.platform.optimise.service.plan(w.communityA, 'manual');
    expect(['optimal', 'time-limit']).toContain(stored!.status);
    const plan = (await latestPlan(tp.platform.db, w.communityA, true))!;
    expect(plan.id).toBe(stored!.id);
    const document = plan.document!;
    // Sharing's engine on the plan's flows, one column per member (their sites' import and export summed).
    const memberIds = [w.memberIdA, w.memberIdA2, third.memberId];
    const n = memberIds.length;
    const matrix = createMatrix(memberIds, Float64Array.from({ length: document.steps }, (_, t) => Date.parse(document.start) + t * 15 * 60_000));
    for (const site of document.sites.filter((s) => s.member !== undefined)) {
      const i = memberIds.indexOf(site.member!);
      for (let t = 0; t < document.steps; t++) {
        matrix.importWh[t * n + i]! += site.importWh[t]!;
        matrix.exportWh[t * n + i]! += site.exportWh[t]!;
      }
    }
    const allocated = createAllocator('static', { shares: constantShares([0, Number(a2), Number(a3)]) }).allocate(matrix);
    const received = (i: number) => Array.from({ length: document.steps }, (_, t) => allocated.fromCommunityWh[t * n + i]!).reduce((sum, v) => sum + v, 0);
    const members = memberIds.map((id) => document.members.find((m) => m.member === id)!);
    expect(members.map((m) => m.sharing)).toEqual([
      { rule: 'static', basis: 'community-energy', key: '0', weightWh: received(0) },
      { rule: 'static', basis: 'community-energy', key: a2, weightWh: received(1) },
      { rule: 'static', basis: 'community-energy', key: a3, weightWh: received(2) },
    ]);
    return members;
  };

  it('weighs members by the community energy the key gives them under the plan, and splits the saving exactly by it', async () => {
    const members = await planWithKey('0.04', '0.08');
    const weights = members.map((m) => BigInt(m.sharing!.weightWh));
    // A only produces; below both consumers' import, twice the key is twice the community energy (within rounding).
    expect(weights[0]).toBe(0n);
    expect(weights[1]).toBeGreaterThan(0n);
    expect(Number(weights[2]! - 2n * weights[1]!)).toBeLessThanOrEqual(32);
    expect(Number(2n * weights[1]! - weights[2]!)).toBeLessThanOrEqual(32);
    // The document keeps each figure exact as well as rounded.
    const exact = (figure: { amount: string }) => parseNano((figure as { amount: string; exact: string }).exact);
    const communitySaving = members.reduce((sum, m) => sum + exact(m.communityShare), 0n);
    expect(communitySaving).not.toBe(0n);
    expect(members.map((m) => exact(m.communityShare))).toEqual(proportional(communitySaving, weights));

    // The member sees it: which rule, their key, their weight, the amount.
    const mine = await call('GET', `/api/v1/members/${w.memberIdA2}/plan`, w.memberA2.token);
    expect(mine.status).toBe(200);
    expect(mine.body.saving).toMatchObject({
      communityShare: members[1]!.communityShare.amount,
      sharing: { rule: 'static', basis: 'community-energy', key: '0.04', weightWh: Number(weights[1]) },
    });
  }, 120_000);

  it('follows a new key: the member whose share grows weighs more', async () => {
    const before = await planWithKey('0.04', '0.08');
    const after = await planWithKey('0.08', '0.04');
    expect(after[1]!.sharing!.weightWh).toBeGreaterThan(before[1]!.sharing!.weightWh);
    expect(after[1]!.sharing!.weightWh).toBeGreaterThan(after[2]!.sharing!.weightWh);
    const theirs = await call('GET', `/api/v1/members/${third.memberId}/plan`, third.user.token);
    expect(theirs.body.saving.sharing).toMatchObject({ rule: 'static', key: '0.04' });
  }, 120_000);
});
