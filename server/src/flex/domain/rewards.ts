import type { Wh } from '../../kernel/energy.js';
import type { Minor, Nano } from '../../kernel/money.js';

/**
 * Sharing an order's net remuneration among the members whose assets took part, by measured
 * contribution. The rule (documented in the README, shown to members):
 *
 * 1. A member's contribution to an order is, summed over the ISPs with ordered flex, how far
 *    their metered energy moved from their own baseline in the ordered direction:
 *    max(0, direction × (actual − baseline)) Wh. Moving the wrong way counts 0, not negative.
 * 2. The community keeps its fee (the manager's basis points) and every penalty: when the net
 *    settlement is zero or negative, or nobody contributed, members receive nothing and the
 *    community bears the result.
 * 3. The rest is split in proportion to contribution, in whole minor units (cents): each member
 *    gets the floor of their exact share, and the cents left over go one each to the largest
 *    remainders (ties: the earlier member id), so the split is exact and reproducible.
 *    Whatever is not paid out in whole cents stays with the community: members' amounts plus
 *    the community's part always equal the net settlement, to the nano-unit.
 */

export interface MemberIspEnergy {
  readonly isp: number;
  readonly baselineWh: Wh;
  readonly actualWh: Wh;
}

/** A member's contribution in Wh to an order with `orderedFlexPower` per ISP (sign = direction). */
export function contributionWh(orderedFlexPower: ReadonlyMap<number, number>, energy: readonly MemberIspEnergy[]): Wh {
  let total = 0;
  for (const { isp, baselineWh, actualWh } of energy) {
    const direction = Math.sign(orderedFlexPower.get(isp) ?? 0);
    total += Math.max(0, direction * (actualWh - baselineWh));
  }
  return total;
}

export interface SharingRule {
  /** The community's fee, in basis points of a positive net settlement (0–10,000). */
  readonly communityFeeBasisPoints: number;
  /** Minor-unit digits of the currency (2 for EUR). */
  readonly minorDigits: number;
}

export interface MemberReward {
  readonly memberId: string;
  readonly contributionWh: Wh;
  readonly amount: Minor;
}

export interface RewardSplit {
  readonly members: readonly MemberReward[];
  /** The community's part in nano-units: the fee, the rounding rest, or the whole (possibly negative) net. */
  readonly community: Nano;
}

export function shareRemuneration(netSettlement: Nano, contributions: ReadonlyArray<{ readonly memberId: string; readonly contributionWh: Wh }>, rule: SharingRule): RewardSplit {
  if (!Number.isInteger(rule.communityFeeBasisPoints) || rule.communityFeeBasisPoints < 0 || rule.communityFeeBasisPoints > 10_000) {
    throw new RangeError(`community fee must be 0–10000 basis points, got ${rule.communityFeeBasisPoints}`);
  }
  for (const c of contributions) {
    if (!Number.isSafeInteger(c.contributionWh) || c.contributionWh < 0) throw new RangeError(`contribution of ${c.memberId} must be whole Wh ≥ 0, got ${c.contributionWh}`);
  }
  const sorted = [...contributions].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const totalWh = sorted.reduce((sum, c) => sum + BigInt(c.contributionWh), 0n);
  const nothing = (): RewardSplit => ({ members: sorted.map((c) => ({ memberId: c.memberId, contributionWh: c.contributionWh, amount: 0n })), community: netSettlement });
  if (netSettlement <= 0n || totalWh === 0n) return nothing();

  const nanoPerMinor = 10n ** BigInt(9 - rule.minorDigits);
  const distributable = (netSettlement * BigInt(10_000 - rule.communityFeeBasisPoints)) / 10_000n / nanoPerMinor;
  const shares = sorted.map((c, index) => {
    const exact = distributable * BigInt(c.contributionWh);
    return { index, amount: exact / totalWh, remainder: exact % totalWh };
  });
  let left = distributable - shares.reduce((sum, s) => sum + s.amount, 0n);
  const byRemainder = [...shares].sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const share of byRemainder) {
    if (left === 0n) break;
    if (share.remainder === 0n) continue;
    share.amount += 1n;
    left -= 1n;
  }
  const members = sorted.map((c, index) => ({ memberId: c.memberId, contributionWh: c.contributionWh, amount: shares[index]!.amount }));
  const paid = members.reduce((sum, m) => sum + m.amount, 0n) * nanoPerMinor;
  return { members, community: netSettlement - paid };
}

/** Several orders' splits added up per member (each order split on its own, so each stays exact). */
export function addSplits(splits: readonly RewardSplit[]): RewardSplit {
  const byMember = new Map<string, { contributionWh: Wh; amount: Minor }>();
  let community = 0n;
  for (const split of splits) {
    community += split.community;
    for (const m of split.members) {
      const sum = byMember.get(m.memberId) ?? { contributionWh: 0, amount: 0n };
      byMember.set(m.memberId, { contributionWh: sum.contributionWh + m.contributionWh, amount: sum.amount + m.amount });
    }
  }
  const members = [...byMember].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([memberId, sum]) => ({ memberId, ...sum }));
  return { members, community };
}
