import type { Queryable } from '../../platform/store/db.js';
import type { StoredOrderSettlement } from '../store.js';

/** What the managers' and members' views read of flex_prognoses, flex_order_settlements and flex_rewards. */

export interface PrognosisOfDay {
  readonly congestionPoint: string;
  readonly dsoDomain: string;
  readonly revision: number;
  readonly powers: ReadonlyMap<number, number>;
  readonly sentAtMs: number;
}

/** The latest revision sent per congestion point and DSO for one Period. */
export async function latestPrognosesOfPeriod(db: Queryable, communityId: string, period: string): Promise<PrognosisOfDay[]> {
  const rows = await db.query<{ congestion_point: string; domain: string; revision: number; powers: Record<string, number>; sent_at: Date }>(
    `SELECT DISTINCT ON (p.participant_id, p.congestion_point) p.congestion_point, d.domain, p.revision, p.powers, p.sent_at
     FROM flex_prognoses p JOIN flex_participants d ON d.id = p.participant_id
     WHERE p.community_id = $1 AND p.period = $2
     ORDER BY p.participant_id, p.congestion_point, p.revision DESC`,
    [communityId, period],
  );
  return rows
    .map((r) => ({
      congestionPoint: r.congestion_point, dsoDomain: r.domain, revision: r.revision, sentAtMs: r.sent_at.getTime(),
      powers: new Map(Object.entries(r.powers).map(([isp, w]) => [Number(isp), w])),
    }))
    .sort((a, b) => a.congestionPoint.localeCompare(b.congestionPoint) || a.dsoDomain.localeCompare(b.dsoDomain));
}

/** A settled order as the managers' list shows it: the stored review without its per-ISP figures, and the members' rewards. */
export interface OrderSettlementRow extends Omit<StoredOrderSettlement, 'communityId' | 'settlementId' | 'figures'> {
  readonly rewardedMembers: number;
  readonly rewardsMinor: bigint;
}

/** The community's settled orders, newest first, with what their members were given. */
export async function orderSettlementsOfCommunity(db: Queryable, communityId: string, limit: number): Promise<OrderSettlementRow[]> {
  const rows = await db.query<{
    id: string; order_reference: string; period: string; congestion_point: string; currency: string;
    dso_price: string; dso_penalty: string; dso_net: string; our_price: string | null; our_penalty: string | null; our_net: string | null;
    disposition: 'Accepted' | 'Disputed'; dispute_reason: string | null; members: string; rewards: string; settled_at: Date;
  }>(
    `SELECT s.id, s.order_reference, s.period::text AS period, s.congestion_point, s.currency, s.dso_price::text AS dso_price, s.dso_penalty::text AS dso_penalty,
       s.dso_net::text AS dso_net, s.our_price::text AS our_price, s.our_penalty::text AS our_penalty, s.our_net::text AS our_net, s.disposition, s.dispute_reason,
       (SELECT count(*) FROM flex_rewards r WHERE r.order_settlement_id = s.id)::text AS members,
       (SELECT coalesce(sum(r.amount_minor), 0) FROM flex_rewards r WHERE r.order_settlement_id = s.id)::text AS rewards, s.settled_at
     FROM flex_order_settlements s WHERE s.community_id = $1 ORDER BY s.settled_at DESC, s.order_reference LIMIT $2`,
    [communityId, limit],
  );
  return rows.map((r) => ({
    id: r.id, orderReference: r.order_reference, period: r.period, congestionPoint: r.congestion_point, currency: r.currency,
    dso: { price: BigInt(r.dso_price), penalty: BigInt(r.dso_penalty), net: BigInt(r.dso_net) },
    ours: r.our_price === null ? null : { price: BigInt(r.our_price), penalty: BigInt(r.our_penalty!), net: BigInt(r.our_net!) },
    disposition: r.disposition, disputeReason: r.dispute_reason, rewardedMembers: Number(r.members), rewardsMinor: BigInt(r.rewards), settledAtMs: r.settled_at.getTime(),
  }));
}

export interface MemberRewardRow {
  readonly period: string;
  readonly orderReference: string;
  readonly congestionPoint: string;
  readonly currency: string;
  readonly contributionWh: number;
  readonly amountMinor: bigint;
}

/** One member's rewards, newest Period first. */
export async function rewardsOfMember(db: Queryable, communityId: string, memberId: string, limit: number): Promise<MemberRewardRow[]> {
  const rows = await db.query<{ period: string; order_reference: string; congestion_point: string; currency: string; contribution_wh: string; amount_minor: string }>(
    `SELECT r.period::text AS period, s.order_reference, s.congestion_point, r.currency, r.contribution_wh::text AS contribution_wh, r.amount_minor::text AS amount_minor
     FROM flex_rewards r JOIN flex_order_settlements s ON s.id = r.order_settlement_id
     WHERE r.community_id = $1 AND r.member_id = $2 ORDER BY r.period DESC, s.order_reference LIMIT $3`,
    [communityId, memberId, limit],
  );
  return rows.map((r) => ({
    period: r.period, orderReference: r.order_reference, congestionPoint: r.congestion_point, currency: r.currency,
    contributionWh: Number(r.contribution_wh), amountMinor: BigInt(r.amount_minor),
  }));
}

/** The sum of all of one member's rewards per currency (minor units), however many there are. */
export async function rewardTotalsOfMember(db: Queryable, communityId: string, memberId: string): Promise<Array<{ currency: string; amountMinor: bigint }>> {
  const rows = await db.query<{ currency: string; total: string }>(
    'SELECT currency, sum(amount_minor)::text AS total FROM flex_rewards WHERE community_id = $1 AND member_id = $2 GROUP BY currency ORDER BY currency',
    [communityId, memberId],
  );
  return rows.map((r) => ({ currency: r.currency, amountMinor: BigInt(r.total) }));
}
