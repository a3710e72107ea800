import type { FlexMyRewards, FlexOrderSettlementView, FlexPrognosisDay } from '@gridshare/contract/flex';
import type { Db } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { createLocalClock, localDateOf } from '../kernel/calendar.js';
import { formatMinor, formatNano, minorDigits } from '../kernel/money.js';
import { activeMembership, requireUser } from '../accounts/index.js';
import { requireCommunityManager } from '../registry/index.js';
import { periodGrid } from './domain/isp.js';
import { averagePower } from './domain/settlement.js';
import { MeteringOfPeriods } from './settle.js';
import { identityOfCommunity } from './store.js';
import { latestPrognosesOfPeriod, orderSettlementsOfCommunity, rewardsOfMember, rewardTotalsOfMember } from './store/reports.js';

const LIST_LIMIT = 200;

/** What managers and members read of the cycle's outcome: a day's prognosis against the meters, settlements, rewards. */
export class FlexReports {
  constructor(private readonly options: { db: Db; now: () => number }) {}

  /** The latest D-Prognosis per congestion point of a Period beside the community's metered power per ISP. */
  async prognosis(principal: Principal, communityId: string, period: string | undefined): Promise<FlexPrognosisDay> {
    const { db } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const identity = await identityOfCommunity(db, communityId);
    if (!identity) throw new NotFoundError('UFTP identity');
    const day = period ?? localDateOf(this.options.now(), createLocalClock(identity.timeZone));
    const grid = periodGrid(day, identity.timeZone, identity.ispDurationMinutes);
    if (!grid) throw new BadRequestError(`${day} is not a day`, 'period');
    const metering = await new MeteringOfPeriods(db, communityId).of(day, identity.timeZone, identity.ispDurationMinutes);
    const measured = typeof metering === 'string' ? new Map<number, number>() : metering.portfolio;
    const ispMs = identity.ispDurationMinutes * 60_000;
    const prognoses = await latestPrognosesOfPeriod(db, communityId, day);
    return {
      period: day, timeZone: identity.timeZone, ispDurationMinutes: identity.ispDurationMinutes,
      congestionPoints: prognoses.map((p) => ({
        congestionPoint: p.congestionPoint, dsoDomain: p.dsoDomain, revision: p.revision, sentAt: new Date(p.sentAtMs).toISOString(),
        isps: [...p.powers].sort(([a], [b]) => a - b).map(([isp, prognosisW]) => {
          const energy = measured.get(isp);
          return {
            isp, start: new Date(grid.startMs + (isp - 1) * ispMs).toISOString(), prognosisW,
            actualW: energy === undefined ? null : averagePower(energy, identity.ispDurationMinutes),
          };
        }),
      })),
    };
  }

  async settlements(principal: Principal, communityId: string): Promise<FlexOrderSettlementView[]> {
    const { db } = this.options;
    await requireCommunityManager(db, principal, communityId);
    const figures = (f: { price: bigint; penalty: bigint; net: bigint }) => ({ price: formatNano(f.price), penalty: formatNano(f.penalty), net: formatNano(f.net) });
    return (await orderSettlementsOfCommunity(db, communityId, LIST_LIMIT)).map((s) => ({
      id: s.id, orderReference: s.orderReference, period: s.period, congestionPoint: s.congestionPoint, currency: s.currency,
      dso: figures(s.dso), ours: s.ours && figures(s.ours), disposition: s.disposition, disputeReason: s.disputeReason,
      rewards: { members: s.rewardedMembers, total: formatMinor(s.rewardsMinor, minorDigits(s.currency)) },
      settledAt: new Date(s.settledAtMs).toISOString(),
    }));
  }

  /** The caller's own rewards in the community: nobody else's, not even a manager's view of them. */
  async myRewards(principal: Principal, communityId: string): Promise<FlexMyRewards> {
    const membership = activeMembership(requireUser(principal), communityId);
    if (!membership) throw new NotFoundError('community');
    const rows = await rewardsOfMember(this.options.db, communityId, membership.memberId, LIST_LIMIT);
    const totals = await rewardTotalsOfMember(this.options.db, communityId, membership.memberId);
    return {
      rewards: rows.map((r) => ({
        period: r.period, orderReference: r.orderReference, congestionPoint: r.congestionPoint, currency: r.currency,
        contributionWh: r.contributionWh, amount: formatMinor(r.amountMinor, minorDigits(r.currency)),
      })),
      totals: totals.map((t) => ({ currency: t.currency, amount: formatMinor(t.amountMinor, minorDigits(t.currency)) })),
    };
  }
}
