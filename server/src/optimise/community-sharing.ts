import { getRule, splitCommunity, type CoefficientPeriod, type ShareVersion } from '../sharing/index.js';
import { SharingError, type MemberWeight, type SavingsSharing } from './domain/savings.js';

/**
 * The community's own sharing rule as the way a plan's saving lands on members, pure: the plan's
 * import and export per step of every member's sites go through sharing's split (the same
 * function, rule and keys the community's metered energy goes through), and each member weighs
 * in with the community energy the rule gives them over the horizon. A rule with a key shows
 * the member's share in force at the horizon's start (a coefficient period's where one covers it).
 * Community batteries take no part: they are the community's, not a member's.
 */

/** The keys a rule may need: the static key's versions and coefficient periods covering the horizon. */
export interface CommunityKeys {
  readonly shareVersions: readonly ShareVersion[];
  readonly coefficientPeriods: readonly CoefficientPeriod[];
}

export function shareByCommunityRule(rule: string, keys: CommunityKeys): SavingsSharing {
  const definition = getRule(rule);
  if (!definition) throw new SharingError(`unknown sharing rule ${rule}`);
  const keyOf = (memberId: string, atMs: number): string => {
    const period = keys.coefficientPeriods.find((p) => p.startMs <= atMs && atMs < p.endMs);
    const version = keys.shareVersions.filter((v) => v.validFromMs <= atMs).at(-1);
    return (period ?? version)?.shares.get(memberId) ?? '0';
  };
  return {
    rule,
    basis: 'community-energy',
    weigh(members, stepStartsMs) {
      const points = members.flatMap((m) => m.planFlows.map((flows) => ({ id: `${m.member}/${flows.site}`, memberId: m.member, flows })));
      const flowsOf = new Map(points.map((p) => [p.id, p.flows]));
      const memberIds = members.map((m) => m.member);
      const split = splitCommunity({
        rule,
        // Operator mode settles metered energy with the operator's figures; a plan has none, so the rule computes.
        mode: 'compute',
        starts: stepStartsMs,
        memberIds,
        points: points.map((p) => ({ id: p.id, memberId: p.memberId, communityBattery: false, dataFromMs: stepStartsMs[0] ?? 0 })),
        shareVersions: keys.shareVersions,
        coefficientPeriods: keys.coefficientPeriods,
        // A plan's site has a value at every step: step t is at position t.
        series: (pointId) => {
          const site = flowsOf.get(pointId)!;
          return { at: (t) => t, importWh: site.importWh, exportWh: site.exportWh };
        },
        operator: () => undefined,
        poolAfter: () => undefined,
      });
      // Rows are step-major (`t * members + i`); a member without a row in a step has zeros there.
      const received = new Map<string, number>(memberIds.map((id) => [id, 0]));
      const allocated = split.members.allocatedFromCommunityWh;
      for (let r = 0; r < allocated.length; r++) {
        const id = memberIds[r % memberIds.length]!;
        received.set(id, received.get(id)! + allocated[r]!);
      }
      const startMs = stepStartsMs[0] ?? 0;
      return new Map(members.map((m): [string, MemberWeight] => [m.member, {
        weightWh: received.get(m.member)!,
        key: definition.needs === 'nothing' ? null : keyOf(m.member, startMs),
      }]));
    },
  };
}
