import type { Nano } from '../../kernel/money.js';
import type { Scenario } from './scenario.js';
import { money, type MoneyFigure, type Outcome } from './plan.js';
import { stepInstant } from './horizon.js';

/**
 * Where the community's saving lands, per member. A member's own sites save at their own
 * connection (their meter's prices); what is saved at the community's connection (and at
 * sites no member owns, such as a community battery) is shared among members in proportion to
 * weights a sharing rule gives them: in operation the community energy the community's own
 * allocation rule gives each member under the plan (`shareByCommunityRule` in ../community-sharing.ts),
 * by default their baseline import. Everything is exact: the parts add up to the community's
 * saving to the nano-unit.
 */

/** A site's import and export per step (Wh) under the plan: what an allocation rule splits. */
export interface SiteFlows {
  readonly site: string;
  readonly importWh: ArrayLike<number>;
  readonly exportWh: ArrayLike<number>;
}

export interface MemberOutcome {
  readonly member: string;
  readonly sites: readonly string[];
  readonly baselineCostNano: Nano;
  readonly planCostNano: Nano;
  /** Baseline import of the member's sites (Wh): a basis rules may share by. */
  readonly baselineImportWh: number;
  readonly planImportWh: number;
  /** Per site of the member, the plan's flows. */
  readonly planFlows: readonly SiteFlows[];
}

/** What the weights are: the community energy a rule gives each member under the plan, or their baseline import. */
export type SharingBasis = 'community-energy' | 'baseline-import';

/** A member's weight in the community's saving (whole Wh) and the key the rule gives them (a decimal share), if it has one. */
export interface MemberWeight {
  readonly weightWh: number;
  readonly key: string | null;
}

/** How the saving at community level is weighed among members. */
export interface SavingsSharing {
  /** The rule's name, as members see it. */
  readonly rule: string;
  readonly basis: SharingBasis;
  /** A weight for every member; `stepStartsMs` are the instants the steps start at. */
  weigh(members: readonly MemberOutcome[], stepStartsMs: readonly number[]): ReadonlyMap<string, MemberWeight>;
}

/** How a member's part of the community's saving was found: by which rule, on what basis, their key and weight. */
export interface SharingExplanation {
  readonly rule: string;
  readonly basis: SharingBasis;
  readonly key: string | null;
  readonly weightWh: number;
}

export interface MemberSavings {
  readonly member: string;
  readonly sites: readonly string[];
  readonly baselineCost: MoneyFigure;
  readonly planCost: MoneyFigure;
  /** Saved at the member's own connection(s). */
  readonly direct: MoneyFigure;
  /** The member's part of what the community saved at its connection. */
  readonly communityShare: MoneyFigure;
  /** Why the community share is what it is. */
  readonly sharing: SharingExplanation;
  readonly total: MoneyFigure;
  /** What the plan does differently for this member, one line per asset. */
  readonly because: readonly string[];
}

export class SharingError extends Error {}

/**
 * Splits an amount in proportion to weights exactly (largest remainder; ties to the earlier
 * member). With all weights zero it splits equally.
 */
export function proportional(amount: Nano, weights: readonly bigint[]): Nano[] {
  const total = weights.reduce((s, w) => s + w, 0n);
  const basis = total > 0n ? weights : weights.map(() => 1n);
  const denominator = total > 0n ? total : BigInt(weights.length);
  if (denominator === 0n) return [];
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const parts = basis.map((w) => (magnitude * w) / denominator);
  let left = magnitude - parts.reduce((s, p) => s + p, 0n);
  const order = basis.map((w, i) => ({ i, rest: (magnitude * w) % denominator })).sort((a, b) => (b.rest > a.rest ? 1 : b.rest < a.rest ? -1 : a.i - b.i));
  for (const { i } of order) {
    if (left === 0n) break;
    parts[i]! += 1n;
    left -= 1n;
  }
  return negative ? parts.map((p) => -p) : parts;
}

/** The default (and the fallback when a rule shares no energy under the plan): in proportion to the members' baseline import. */
export const shareByBaselineImport: SavingsSharing = {
  rule: 'baseline-import',
  basis: 'baseline-import',
  weigh: (members) => new Map(members.map((m) => [m.member, { weightWh: m.baselineImportWh, key: null }])),
};

/** Each member's weight under the rule; a rule that gives nobody anything falls back to baseline import. */
function weighMembers(sharing: SavingsSharing, members: readonly MemberOutcome[], stepStartsMs: readonly number[]): { basis: SharingBasis; weights: MemberWeight[] } {
  const given = sharing.weigh(members, stepStartsMs);
  const weights = members.map((m) => {
    const weight = given.get(m.member);
    if (weight === undefined) throw new SharingError(`the sharing rule ${sharing.rule} gave no weight for member ${m.member}`);
    if (!Number.isSafeInteger(weight.weightWh) || weight.weightWh < 0) throw new SharingError(`the sharing rule ${sharing.rule} gave member ${m.member} the weight ${weight.weightWh} (whole Wh ≥ 0 expected)`);
    return weight;
  });
  if (weights.some((w) => w.weightWh > 0) || sharing === shareByBaselineImport) return { basis: sharing.basis, weights };
  const fallback = shareByBaselineImport.weigh(members, stepStartsMs);
  return { basis: 'baseline-import', weights: members.map((m, i) => ({ weightWh: fallback.get(m.member)!.weightWh, key: weights[i]!.key })) };
}

export function explainSavings(scenario: Scenario, plan: Outcome, base: Outcome, sharing: SavingsSharing = shareByBaselineImport): MemberSavings[] {
  const byMember = new Map<string, { sites: string[]; plan: Nano; base: Nano; baseImport: number; planImport: number; flows: SiteFlows[]; because: string[] }>();
  let communitySaving = 0n;
  plan.sites.forEach((site, i) => {
    const before = base.sites[i]!;
    if (site.member === undefined || site.siteId === null) {
      communitySaving += before.costNano - site.costNano;
      return;
    }
    const entry = byMember.get(site.member) ?? { sites: [], plan: 0n, base: 0n, baseImport: 0, planImport: 0, flows: [], because: [] };
    entry.sites.push(site.siteId);
    entry.flows.push({ site: site.siteId, importWh: site.importWh, exportWh: site.exportWh });
    entry.plan += site.costNano;
    entry.base += before.costNano;
    entry.baseImport += before.importWh.reduce((s, v) => s + v, 0);
    entry.planImport += site.importWh.reduce((s, v) => s + v, 0);
    site.assets.forEach((asset, k) => {
      const line = describeChange(scenario, site.siteId!, asset.type, asset.id, before.assets[k]!.steps, asset.steps);
      if (line) entry.because.push(line);
    });
    byMember.set(site.member, entry);
  });
  const members: MemberOutcome[] = [...byMember].map(([member, e]) => ({
    member, sites: e.sites, baselineCostNano: e.base, planCostNano: e.plan, baselineImportWh: e.baseImport, planImportWh: e.planImport, planFlows: e.flows,
  }));
  const stepStartsMs = Array.from({ length: scenario.horizon.steps }, (_, t) => scenario.horizon.startMs + t * scenario.horizon.stepMs);
  const { basis, weights } = members.length > 0 ? weighMembers(sharing, members, stepStartsMs) : { basis: sharing.basis, weights: [] };
  const shares = proportional(communitySaving, weights.map((w) => BigInt(w.weightWh)));
  const { currency } = scenario;
  return members.map((m, i) => {
    const direct = m.baselineCostNano - m.planCostNano;
    const share = shares[i]!;
    return {
      member: m.member,
      sites: m.sites,
      baselineCost: money(m.baselineCostNano, currency),
      planCost: money(m.planCostNano, currency),
      direct: money(direct, currency),
      communityShare: money(share, currency),
      sharing: { rule: sharing.rule, basis, key: weights[i]!.key, weightWh: weights[i]!.weightWh },
      total: money(direct + share, currency),
      because: byMember.get(m.member)!.because,
    };
  });
}

function describeChange(scenario: Scenario, site: string, type: string, id: string, before: { energyWh: Int32Array; starts?: readonly number[]; curtailedWh?: Int32Array }, after: typeof before): string | undefined {
  const at = (t: number) => stepInstant(scenario.horizon, t);
  const kwh = (wh: number) => `${(wh / 1000).toFixed(1)} kWh`;
  const name = `${site}/${id}`;
  if (after.starts && before.starts && after.starts.join() !== before.starts.join()) {
    return `${name} (${type}) starts ${after.starts.map(at).join(', ') || 'never'} instead of ${before.starts.map(at).join(', ') || 'never'}`;
  }
  if (after.curtailedWh) {
    const curtailed = after.curtailedWh.reduce((s, v) => s + v, 0);
    return curtailed > 0 ? `${name} curtailed by ${kwh(curtailed)} (export did not pay)` : undefined;
  }
  let moved = 0;
  for (let t = 0; t < after.energyWh.length; t++) moved += Math.abs(after.energyWh[t]! - before.energyWh[t]!);
  if (moved === 0) return undefined;
  const drawn = (e: Int32Array) => e.reduce((s, v) => s + Math.max(0, v), 0);
  return `${name} (${type}) draws ${kwh(drawn(after.energyWh))} at other times than without a plan (${kwh(moved / 2)} shifted; ${kwh(drawn(before.energyWh))} before)`;
}
