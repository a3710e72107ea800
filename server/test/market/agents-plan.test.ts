import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWorld, type World } from '../support/world.js';
import { storeIntervals } from '../sharing/support/stored.js';
import { iso, MIN, Q, SETTINGS, T0 } from './operation-support.js';

/**
 * Agents seeded from the optimiser's plan: where the plan in force at a slot's gate closure plans a
 * member's metering point, the agent trades that point's planned net exchange (a battery charging
 * is a need, discharging a surplus); a point the plan leaves out trades its forecast or last metered
 * quarter hour as before, and a plan decided after the gate closed is not used.
 */
describe('market agents from the optimiser\'s plan', () => {
  let tp: TestPlatform;
  let w: World;
  let clock = T0;
  const S = T0 + 8 * Q;

  /** A plan as the optimiser stores one, with only what the agents read: each site's planned import and export per step. */
  const storePlan = async (decidedAtMs: number, horizonStartMs: number, stepMinutes: number, sites: { id: string; importWh: number[]; exportWh: number[] }[]) => {
    await tp.platform.db.query(
      `INSERT INTO optimise_plans (community_id, id, decided_at, trigger, horizon_start, horizon_end, step_minutes, status, message, time_s, size, warm_start,
         weights, currency, scenario, bindings, document)
       VALUES ($1, $2, $3, 'schedule', $4, $5, $6, 'optimal', '', 0, '{}', false, '{}', 'EUR', '{}', '[]', $7::jsonb)`,
      [w.communityA, randomUUID(), new Date(decidedAtMs), new Date(horizonStartMs), new Date(horizonStartMs + sites[0]!.importWh.length * stepMinutes * MIN),
        stepMinutes, JSON.stringify({ sites: [...sites, { id: null, importWh: [], exportWh: [] }] })],
    );
  };
  const agentOrdersOf = async (token: string, memberId: string, slot: number) =>
    ((await tp.call('GET', `/api/v1/members/${memberId}/market/orders?from=${iso(slot)}&to=${iso(slot + Q)}`, { token })).body as
      { origin: string; side: string; energyWh: number; price: string }[])
      .filter((o) => o.origin === 'agent').map((o) => ({ side: o.side, energyWh: o.energyWh, price: o.price }));

  beforeAll(async () => {
    tp = await startTestPlatform('pglite', { market: { now: () => clock, lookbackMs: 60 * MIN, finalDelayMs: 30 * MIN, everyMs: 3_600_000 } });
    w = await buildWorld(tp);
    expect((await tp.call('PUT', `/api/v1/communities/${w.communityA}/market/settings`, { token: w.managerA.token, body: SETTINGS })).status).toBe(200);
    for (const [token, memberId] of [[w.memberA.token, w.memberIdA], [w.memberA2.token, w.memberIdA2]] as const) {
      expect((await tp.call('PUT', `/api/v1/members/${memberId}/market/agent-limits`, {
        token, body: { enabled: true, minSellPrice: '0.0800', maxBuyPrice: '0.2500', sellShare: '1', buyShare: '0.5', meteringPointIds: [] },
      })).status).toBe(200);
    }
    // Without a plan both agents would trade the last metered quarter hour before each gate: A 100 Wh out, A2 300 Wh in.
    const metered = (importWh: number, exportWh: number) => Object.fromEntries([S - 2 * Q, S - Q, S].map((s) => [s, { importWh, exportWh }]));
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA, metered(0, 100));
    await storeIntervals(tp.platform.db, w.communityA, w.meteringPointA2, metered(300, 0));
    // The plan in force: A's point (its battery) charges 400 Wh in S and exports 700 Wh in S + Q; A2's point is not planned.
    await storePlan(S - 60 * MIN, S - 4 * Q, 15, [{ id: w.meteringPointA, importWh: [0, 0, 0, 0, 400, 0, 0, 0], exportWh: [0, 0, 0, 0, 0, 700, 0, 0] }]);
    // A plan decided after S + Q's gate closed (at S + Q − 5 min) says otherwise: not used for it.
    await storePlan(S + Q - 2 * MIN, S + Q, 15, [{ id: w.meteringPointA, importWh: [0, 0], exportWh: [5, 5] }]);
  });
  afterAll(() => tp?.close());

  it('bids for a planned battery charge and offers a planned export; an unplanned point trades its last metered quarter hour', async () => {
    clock = S - 5 * MIN;
    await tp.platform.market.flush();
    // Plan: 400 Wh needed → half of it bid at the member's limit; A2 from persistence: 300 Wh needed → 150 Wh.
    expect(await agentOrdersOf(w.memberA.token, w.memberIdA, S)).toEqual([{ side: 'buy', energyWh: 200, price: '0.2500' }]);
    expect(await agentOrdersOf(w.memberA2.token, w.memberIdA2, S)).toEqual([{ side: 'buy', energyWh: 150, price: '0.2500' }]);
    clock = S + Q - 5 * MIN;
    await tp.platform.market.flush();
    expect(await agentOrdersOf(w.memberA.token, w.memberIdA, S + Q)).toEqual([{ side: 'sell', energyWh: 700, price: '0.0800' }]);
  });

  it('counts a longer plan step by its quarter-hour share', async () => {
    // An hourly plan decided before S + 2Q's gate: 1,000 Wh exported in the hour → 250 Wh in the quarter hour.
    await storePlan(S + 2 * Q - 10 * MIN, S + Q, 60, [{ id: w.meteringPointA, importWh: [0, 0], exportWh: [1000, 0] }]);
    clock = S + 2 * Q - 5 * MIN;
    await tp.platform.market.flush();
    expect(await agentOrdersOf(w.memberA.token, w.memberIdA, S + 2 * Q)).toEqual([{ side: 'sell', energyWh: 250, price: '0.0800' }]);
  });
});
