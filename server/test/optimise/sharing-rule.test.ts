import { describe, expect, it } from 'vitest';
import { parseNano } from '../../src/kernel/money.js';
import { shareByCommunityRule } from '../../src/optimise/community-sharing.js';
import { explainSavings, proportional, SharingError, type MemberOutcome, type SavingsSharing } from '../../src/optimise/domain/savings.js';
import { solveScenario } from './support.js';

/**
 * The community's sharing rule decides where the saving at the community's connection lands:
 * members weigh in with the community energy the rule gives them under the plan (sharing's own
 * split, per rule kind, hand-checked here), the saving is split in proportion, exactly.
 */
const QUARTER = 15 * 60_000;
const START = Date.UTC(2026, 5, 1, 10);
const STEPS = [0, 1, 2, 3].map((t) => START + t * QUARTER);

const member = (id: string, importWh: number[], exportWh: number[]): MemberOutcome => ({
  member: id, sites: [`${id}-home`], baselineCostNano: 0n, planCostNano: 0n,
  baselineImportWh: importWh.reduce((s, v) => s + v, 0), planImportWh: importWh.reduce((s, v) => s + v, 0),
  planFlows: [{ site: `${id}-home`, importWh, exportWh }],
});
/** Alice exports 1 kWh every quarter hour; Bob imports 600 Wh, Carol 200 Wh. */
const steady = [member('alice', [0, 0, 0, 0], [1000, 1000, 1000, 1000]), member('bob', [600, 600, 600, 600], [0, 0, 0, 0]), member('carol', [200, 200, 200, 200], [0, 0, 0, 0])];
const version = (shares: Record<string, string>) => ({ validFromMs: START - 86_400_000, shares: new Map(Object.entries(shares)) });
const weights = (sharing: SavingsSharing, members = steady) => Object.fromEntries([...sharing.weigh(members, STEPS)].map(([id, w]) => [id, w]));

describe('the community\'s rule weighs members by the community energy it gives them under the plan', () => {
  it('dynamic: in proportion to each quarter hour\'s import, no key', () => {
    const rule = shareByCommunityRule('dynamic', { shareVersions: [], coefficientPeriods: [] });
    expect(rule).toMatchObject({ rule: 'dynamic', basis: 'community-energy' });
    expect(weights(rule)).toEqual({ alice: { weightWh: 0, key: null }, bob: { weightWh: 2400, key: null }, carol: { weightWh: 800, key: null } });
  });

  it('static: each member\'s share of the production, capped at their import, with their key', () => {
    const rule = shareByCommunityRule('static', { shareVersions: [version({ bob: '0.25', carol: '0.75' })], coefficientPeriods: [] });
    // Bob: 0.25 × 1000 = 250 per quarter hour; Carol: 750, capped at her 200.
    expect(weights(rule)).toEqual({ alice: { weightWh: 0, key: '0' }, bob: { weightWh: 1000, key: '0.25' }, carol: { weightWh: 800, key: '0.75' } });
  });

  it('static: the key in force at the horizon\'s start, not a later or an earlier one', () => {
    const later = { validFromMs: START + QUARTER * 2, shares: new Map([['bob', '0.5'], ['carol', '0.5']]) };
    const rule = shareByCommunityRule('static', { shareVersions: [version({ bob: '0.1', carol: '0.1' }), later], coefficientPeriods: [] });
    // 100 + 100 Wh for Bob, then 500 + 500 from the later key.
    expect(weights(rule).bob).toEqual({ weightWh: 1200, key: '0.1' });
  });

  it('static-redistributed: what caps leave over goes to those who still import', () => {
    const rule = shareByCommunityRule('static-redistributed', { shareVersions: [version({ bob: '0.25', carol: '0.75' })], coefficientPeriods: [] });
    // Carol is capped at 200; the rest fills Bob up to his 600.
    expect(weights(rule)).toMatchObject({ bob: { weightWh: 2400, key: '0.25' }, carol: { weightWh: 800, key: '0.75' } });
  });

  it('coefficients per period (fr-acc-dynamic-simple): each step by its period\'s coefficients', () => {
    const period = (from: number, bob: string, carol: string) => ({ startMs: STEPS[from]!, endMs: STEPS[from]! + 2 * QUARTER, shares: new Map([['bob', bob], ['carol', carol]]) });
    const rule = shareByCommunityRule('fr-acc-dynamic-simple', { shareVersions: [], coefficientPeriods: [period(0, '0.5', '0.5'), period(2, '0.1', '0.9')] });
    // Bob: 500, 500, then 100, 100; Carol: 200 every step (capped).
    expect(weights(rule)).toMatchObject({ bob: { weightWh: 1200, key: '0.5' }, carol: { weightWh: 800, key: '0.5' } });
  });

  it('hourly (it-cer): the hour\'s sums are shared, not each quarter hour\'s', () => {
    // Alice exports in the first half hour only, Bob imports in the second only: per quarter hour Bob gets nothing.
    const uneven = [member('alice', [0, 0, 0, 0], [1000, 1000, 0, 0]), member('bob', [0, 0, 600, 600], [0, 0, 0, 0]), member('carol', [200, 200, 200, 200], [0, 0, 0, 0])];
    expect(weights(shareByCommunityRule('dynamic', { shareVersions: [], coefficientPeriods: [] }), uneven)).toMatchObject({ bob: { weightWh: 0 }, carol: { weightWh: 400 } });
    // Per hour: 2000 Wh injected, 1200 + 800 withdrawn: all shared.
    expect(weights(shareByCommunityRule('it-cer', { shareVersions: [], coefficientPeriods: [] }), uneven)).toMatchObject({ bob: { weightWh: 1200 }, carol: { weightWh: 800 } });
  });

  it('refuses a rule sharing does not know', () => {
    expect(() => shareByCommunityRule('by-height', { shareVersions: [], coefficientPeriods: [] })).toThrow(SharingError);
  });
});

/** A street: Alice's battery, Bob's washing machine, Carol's PV; the community's grid costs more in the evening. */
const street = {
  name: 'street', start: '2026-06-01T00:00:00Z', steps: 4, stepMinutes: 60,
  community: { grid: { importPrice: [0.02, 0.02, 0.05, 0.05], exportPrice: 0.01 } },
  sites: [
    {
      id: 'a', member: 'alice', grid: { importPrice: [0.1, 0.1, 0.5, 0.5], exportPrice: 0.05 },
      assets: [
        { type: 'load', id: 'base', powerW: 1000 },
        { type: 'storage', id: 'bat', capacityWh: 2000, maxChargeW: 1000, maxDischargeW: 1000, chargeEfficiency: 1, dischargeEfficiency: 1, initialSoc: 0 },
      ],
    },
    { id: 'b', member: 'bob', grid: { importPrice: [0.4, 0.1, 0.2, 0.3] }, assets: [{ type: 'appliance', id: 'wm', profileW: [1000, 500] }] },
    { id: 'c', member: 'carol', grid: { importPrice: 0.1, exportPrice: 0.05 }, assets: [{ type: 'producer', id: 'pv', forecastW: [0, 500, 500, 0] }] },
  ],
};

describe('savings by the community\'s rule', () => {
  it('splits the saving at the community\'s connection in proportion to each member\'s community energy, exactly, and says how', async () => {
    const s = await solveScenario(street);
    const communitySaving = s.base.sites.at(-1)!.costNano - s.plan.sites.at(-1)!.costNano;
    expect(communitySaving).not.toBe(0n);
    const explain = (shares: Record<string, string>) => explainSavings(s.scenario, s.plan, s.base, shareByCommunityRule('static', { shareVersions: [{ validFromMs: 0, shares: new Map(Object.entries(shares)) }], coefficientPeriods: [] }));

    const even = explain({ alice: '0.5', bob: '0.5' });
    const byKey = explain({ alice: '0.9', bob: '0.1' });
    for (const members of [even, byKey]) {
      const parts = proportional(communitySaving, members.map((m) => BigInt(m.sharing.weightWh)));
      expect(members.map((m) => parseNano(m.communityShare.exact))).toEqual(parts);
      expect(members.every((m) => m.sharing.rule === 'static' && m.sharing.basis === 'community-energy')).toBe(true);
      // Carol has no share of the key: she gives community energy and receives none.
      expect(members.find((m) => m.member === 'carol')!.sharing).toMatchObject({ key: '0', weightWh: 0 });
    }
    expect(even.map((m) => m.sharing.key)).toEqual(['0.5', '0.5', '0']);
    const weightOf = (members: typeof even, id: string) => members.find((m) => m.member === id)!.sharing.weightWh;
    expect(weightOf(even, 'alice') + weightOf(even, 'bob')).toBeGreaterThan(0);
    // With 90 % of the key Alice gets more of the community energy, and so more of the saving.
    expect(weightOf(byKey, 'alice')).toBeGreaterThan(weightOf(even, 'alice'));
  });

  it('falls back to baseline import when the rule shares no energy under the plan, keeping the key', async () => {
    const s = await solveScenario(street);
    const members = explainSavings(s.scenario, s.plan, s.base, shareByCommunityRule('static', { shareVersions: [], coefficientPeriods: [] }));
    expect(members.map((m) => m.sharing)).toEqual([
      { rule: 'static', basis: 'baseline-import', key: '0', weightWh: 4000 },
      { rule: 'static', basis: 'baseline-import', key: '0', weightWh: 1500 },
      { rule: 'static', basis: 'baseline-import', key: '0', weightWh: 0 },
    ]);
  });

  it('refuses a rule that leaves a member out or weighs one negatively', async () => {
    const s = await solveScenario(street);
    const leavesOut: SavingsSharing = { rule: 'odd', basis: 'community-energy', weigh: () => new Map([['alice', { weightWh: 1, key: null }]]) };
    expect(() => explainSavings(s.scenario, s.plan, s.base, leavesOut)).toThrow(/no weight for member bob/);
    const negative: SavingsSharing = { rule: 'odd', basis: 'community-energy', weigh: (ms) => new Map(ms.map((m) => [m.member, { weightWh: -1, key: null }])) };
    expect(() => explainSavings(s.scenario, s.plan, s.base, negative)).toThrow(SharingError);
  });
});
