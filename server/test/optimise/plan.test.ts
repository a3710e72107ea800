import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../../src/optimise/domain/assets/index.js';
import { explainSavings, proportional, type SavingsSharing } from '../../src/optimise/domain/savings.js';
import { planDocument } from '../../src/optimise/domain/plan.js';
import { hour, solveScenario } from './support.js';

/** The plan reader, the baseline valued the same way, and savings explained per member. */
const community = {
  name: 'street', start: hour(0), steps: 4, stepMinutes: 60,
  community: { grid: { importPrice: [0.02, 0.02, 0.05, 0.05] } },
  sites: [
    {
      id: 'a', member: 'alice', grid: { importPrice: [0.1, 0.1, 0.5, 0.5], exportPrice: 0.05 },
      assets: [
        { type: 'load', id: 'base', powerW: 1000 },
        { type: 'storage', id: 'bat', capacityWh: 2000, maxChargeW: 1000, maxDischargeW: 1000, chargeEfficiency: 1, dischargeEfficiency: 1, initialSoc: 0 },
      ],
    },
    {
      id: 'b', member: 'bob', grid: { importPrice: [0.4, 0.1, 0.2, 0.3] },
      assets: [{ type: 'appliance', id: 'wm', profileW: [1000, 500] }],
    },
    { id: 'shared', grid: {}, assets: [{ type: 'producer', id: 'pv', forecastW: [0, 500, 500, 0] }] },
  ],
};

describe('plan and baseline', () => {
  it('values plan and baseline the same way, and the plan as the solver did', async () => {
    const s = await solveScenario(community);
    // The evaluation of the plan (whole Wh, exact money) is the solver's objective.
    expect(s.plan.totals.objective).toBeCloseTo(s.result.objective!, 6);
    // Site costs and the community connection add up to the total, to the nano-unit.
    expect(s.plan.sites.reduce((sum, site) => sum + site.costNano, 0n)).toBe(s.plan.totals.costNano);
    expect(s.base.sites.reduce((sum, site) => sum + site.costNano, 0n)).toBe(s.base.totals.costNano);
    // The plan is never worse than doing nothing (the baseline is feasible for the model).
    expect(s.plan.totals.costNano).toBeLessThan(s.base.totals.costNano);
    // Energy balances per site and step: import − export = what the assets take.
    for (const site of s.plan.sites.slice(0, -1)) {
      for (let t = 0; t < 4; t++) {
        const taken = site.assets.reduce((sum, a) => sum + a.steps.energyWh[t]!, 0);
        expect(site.importWh[t]! - site.exportWh[t]!).toBe(taken);
      }
    }
  });

  it('writes a plan document with powers, states, starts and money rounded once', async () => {
    const s = await solveScenario(community);
    const doc = planDocument(s.scenario, s.result, s.plan, s.base);
    expect(doc.start).toBe(hour(0));
    const bob = doc.sites.find((site) => site.id === 'b')!;
    expect(bob.assets[0]!.starts).toEqual([hour(1)]);
    expect(bob.assets[0]!.powerW).toEqual([0, 1000, 500, 0]);
    const alice = doc.sites.find((site) => site.id === 'a')!;
    expect(alice.assets[1]!.socWh).toEqual([1000, 2000, 1000, 0]);
    expect(doc.savings.cost.exact).toBe(
      // baseline − plan, exact
      (Number(s.base.totals.costNano - s.plan.totals.costNano) / 1e9).toString(),
    );
    expect(doc.totals.cost.amount).toMatch(/^-?\d+\.\d{2}$/);
  });
});

describe('savings per member', () => {
  it('gives each member the saving at their own meter plus a share of the community\'s, adding up exactly', async () => {
    const s = await solveScenario(community);
    const members = explainSavings(s.scenario, s.plan, s.base);
    expect(members.map((m) => m.member)).toEqual(['alice', 'bob']);
    const nano = (text: string) => BigInt(Math.round(Number(text) * 1e9));
    const total = members.reduce((sum, m) => sum + nano(m.total.exact), 0n);
    expect(total).toBe(s.base.totals.costNano - s.plan.totals.costNano);
    // Alice's battery saves 0.80 at her meter; Bob's washer moves from 0.45 to 0.20 (his PV-less site).
    expect(members[0]!.direct.amount).toBe('0.80');
    expect(members[1]!.direct.amount).toBe('0.25');
    expect(members[1]!.because.join(' ')).toMatch(/b\/wm \(appliance\) starts 2026-06-01T01:00:00Z instead of 2026-06-01T00:00:00Z/);
  });

  it('takes the rule it is given, and records on what it shared', async () => {
    const s = await solveScenario(community);
    const allToAlice: SavingsSharing = { rule: 'all-to-alice', basis: 'community-energy', weigh: (ms) => new Map(ms.map((m) => [m.member, { weightWh: m.member === 'alice' ? 1 : 0, key: null }])) };
    const members = explainSavings(s.scenario, s.plan, s.base, allToAlice);
    expect(members[1]!.communityShare.exact).toBe('0');
    expect(members[0]!.sharing).toEqual({ rule: 'all-to-alice', basis: 'community-energy', key: null, weightWh: 1 });
    // Without a rule: by baseline import (Alice 4 kWh, Bob 1.5 kWh).
    expect(explainSavings(s.scenario, s.plan, s.base).map((m) => m.sharing)).toEqual([
      { rule: 'baseline-import', basis: 'baseline-import', key: null, weightWh: 4000 },
      { rule: 'baseline-import', basis: 'baseline-import', key: null, weightWh: 1500 },
    ]);
  });

  it('splits any amount in proportion, exactly', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.array(fc.bigInt({ min: 0n, max: 1_000_000_000n }), { minLength: 1, maxLength: 30 }), (amount, weights) => {
      const parts = proportional(amount, weights);
      expect(parts.reduce((sum, p) => sum + p, 0n)).toBe(amount);
      const total = weights.reduce((sum, w) => sum + w, 0n);
      if (total > 0n) {
        weights.forEach((w, i) => {
          // Each part is within one nano-unit of its exact share.
          const exact = (amount * w * 1000n) / total;
          expect(parts[i]! * 1000n - exact <= 1000n && exact - parts[i]! * 1000n <= 1000n).toBe(true);
        });
      }
    }));
  });
});
