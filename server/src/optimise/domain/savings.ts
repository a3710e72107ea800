import type { Nano } from '../../kernel/money.js';
import type { Scenario } from './scenario.js';
import { money, type MoneyFigure, type Outcome } from './plan.js';
import { stepInstant } from './horizon.js';

/**
 * Where the community's saving lands, per member. A member's own sites save at their own
 * connection (their meter's prices); what is saved at the community's connection (and at
 * sites no member owns, such as a community battery) is shared among members by the
 * community's sharing rule, which the caller passes in (phase 2 takes it from the community's
 * settings). Everything is exact: the parts add up to the community's saving to the nano-unit.
 */

export interface MemberOutcome {
  readonly member: string;
  readonly sites: readonly string[];
  readonly baselineCostNano: Nano;
  readonly planCostNano: Nano;
  /** Baseline import of the member's sites (Wh): a basis rules may share by. */
  readonly baselineImportWh: number;
  readonly planImportWh: number;
}

/** Maps the saving at community level to members; must return amounts that add up to it. */
export type SavingsSharing = (communitySavingNano: Nano, members: readonly MemberOutcome[]) => ReadonlyMap<string, Nano>;

export interface MemberSavings {
  readonly member: string;
  readonly sites: readonly string[];
  readonly baselineCost: MoneyFigure;
  readonly planCost: MoneyFigure;
  /** Saved at the member's own connection(s). */
  readonly direct: MoneyFigure;
  /** The member's part of what the community saved at its connection. */
  readonly communityShare: MoneyFigure;
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

/** Default until the community's rule is wired in: in proportion to the members' baseline import. */
export const shareByBaselineImport: SavingsSharing = (saving, members) => {
  const parts = proportional(saving, members.map((m) => BigInt(m.baselineImportWh)));
  return new Map(members.map((m, i) => [m.member, parts[i]!]));
};

export function explainSavings(scenario: Scenario, plan: Outcome, base: Outcome, sharing: SavingsSharing = shareByBaselineImport): MemberSavings[] {
  const byMember = new Map<string, { sites: string[]; plan: Nano; base: Nano; baseImport: number; planImport: number; because: string[] }>();
  let communitySaving = 0n;
  plan.sites.forEach((site, i) => {
    const before = base.sites[i]!;
    if (site.member === undefined || site.siteId === null) {
      communitySaving += before.costNano - site.costNano;
      return;
    }
    const entry = byMember.get(site.member) ?? { sites: [], plan: 0n, base: 0n, baseImport: 0, planImport: 0, because: [] };
    entry.sites.push(site.siteId);
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
    member, sites: e.sites, baselineCostNano: e.base, planCostNano: e.plan, baselineImportWh: e.baseImport, planImportWh: e.planImport,
  }));
  const shares = members.length > 0 ? sharing(communitySaving, members) : new Map<string, Nano>();
  let shared = 0n;
  for (const m of members) {
    const part = shares.get(m.member);
    if (part === undefined) throw new SharingError(`the sharing rule gave nothing for member ${m.member}`);
    shared += part;
  }
  if (members.length > 0 && shared !== communitySaving) throw new SharingError(`the sharing rule split ${communitySaving} nano-units into parts adding up to ${shared}`);
  const { currency } = scenario;
  return members.map((m) => {
    const direct = m.baselineCostNano - m.planCostNano;
    const share = shares.get(m.member)!;
    return {
      member: m.member,
      sites: m.sites,
      baselineCost: money(m.baselineCostNano, currency),
      planCost: money(m.planCostNano, currency),
      direct: money(direct, currency),
      communityShare: money(share, currency),
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
