import { randomUUID } from 'node:crypto';
import type { FlexCongestionPoint } from '@gridshare/contract/flex';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Principal } from '../kernel/principal.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { meteringPointsOfCommunity, requireCommunityManager } from '../registry/index.js';
import { connectionKey, reportedPortfolios } from './domain/portfolio.js';
import type { AGRPortfolioQueryResponse } from './domain/uftp/messages.js';
import { participantById, participantsOfCommunity } from './store.js';
import { congestionPointsOfCommunity, replaceCongestionPoints, type StoredCongestionPoint } from './store/portfolio.js';

export interface CongestionPointInput {
  readonly entityAddress: string;
  readonly connections: readonly string[];
  readonly mutexOffersSupported: boolean;
  readonly prognosisGate: string;
}

/**
 * The portfolio as managers see and enter it: each DSO's congestion points (one of those the
 * DSO's address-book entry trades at) and the connections behind them, matched to the
 * community's metering points by grid connection id.
 */
export class FlexPortfolio {
  constructor(private readonly options: { db: Db; events: EventPublisher; now: () => number }) {}

  async list(principal: Principal, communityId: string): Promise<FlexCongestionPoint[]> {
    const { db } = this.options;
    await requireCommunityManager(db, principal, communityId);
    return this.view(communityId);
  }

  /** Replaces what managers entered for this DSO; a congestion point the DSO's entry does not list → 400 naming it. */
  async setByHand(principal: Principal, participantId: string, input: readonly CongestionPointInput[]): Promise<FlexCongestionPoint[]> {
    const { db } = this.options;
    const participant = await participantById(db, participantId);
    if (!participant) throw new NotFoundError('participant');
    await requireCommunityManager(db, principal, participant.communityId);
    if (participant.role !== 'DSO') throw new BadRequestError('congestion points belong to a DSO of the address book', 'params/id');
    const seen = new Set<string>();
    input.forEach((cp, i) => {
      if (!participant.congestionPoints.includes(cp.entityAddress)) {
        throw new BadRequestError(`body/congestionPoints/${i}/entityAddress: ${cp.entityAddress} is not one of ${participant.domain}'s congestion points in the address book`, `body/congestionPoints/${i}/entityAddress`);
      }
      if (seen.has(cp.entityAddress)) throw new BadRequestError(`body/congestionPoints/${i}/entityAddress: ${cp.entityAddress} is given twice`, `body/congestionPoints/${i}/entityAddress`);
      seen.add(cp.entityAddress);
    });
    const nowMs = this.options.now();
    const points: StoredCongestionPoint[] = input.map((cp) => ({
      id: randomUUID(), communityId: participant.communityId, participantId, entityAddress: cp.entityAddress, mutexOffersSupported: cp.mutexOffersSupported,
      prognosisGate: cp.prognosisGate, source: 'manager', connections: [...new Set(cp.connections)], updatedAtMs: nowMs,
    }));
    const ofParticipant = async (tx: Queryable) => (await this.view(participant.communityId, tx)).filter((cp) => cp.participantId === participantId);
    return this.options.events.transaction(db, async (tx, publish) => {
      const before = await ofParticipant(tx);
      await replaceCongestionPoints(tx, participantId, 'manager', points);
      const after = await ofParticipant(tx);
      // Keyed by congestion point, so the trail shows which one changed rather than list positions.
      const byPoint = (list: readonly FlexCongestionPoint[]) => Object.fromEntries(list.map(({ id: _id, updatedAt: _at, ...cp }) => [cp.entityAddress, cp]));
      await recordChange(publish, {
        kind: 'flex', communityId: participant.communityId, resourceId: participantId, action: 'set-portfolio', before: { portfolio: byPoint(before) }, after: { portfolio: byPoint(after) }, atMs: nowMs,
      });
      return after;
    });
  }

  private async view(communityId: string, db: Queryable = this.options.db): Promise<FlexCongestionPoint[]> {
    const [points, meteringPoints, participants] = await Promise.all([
      congestionPointsOfCommunity(db, communityId), meteringPointsOfCommunity(db, communityId), participantsOfCommunity(db, communityId),
    ]);
    const known = new Set(meteringPoints.map((p) => connectionKey(p.gridConnectionId)));
    const domainOf = new Map(participants.map((p) => [p.id, p.domain]));
    return points.map((cp) => ({
      id: cp.id, participantId: cp.participantId, dsoDomain: domainOf.get(cp.participantId) ?? '', entityAddress: cp.entityAddress,
      mutexOffersSupported: cp.mutexOffersSupported, prognosisGate: cp.prognosisGate, source: cp.source, connections: [...cp.connections],
      matchedMeteringPoints: cp.connections.filter((c) => known.has(connectionKey(c))).length, updatedAt: new Date(cp.updatedAtMs).toISOString(),
    }));
  }
}

/** The D-Prognosis gate of a congestion point a CRO reports that managers have not given one (the route's default). */
export const DEFAULT_PROGNOSIS_GATE = '12:00';

/**
 * A CRO's accepted AGRPortfolioQueryResponse, in the transaction that receives it: for each DSO of
 * the address book the answer names, its congestion points and connections replace those the CRO
 * reported before (source `cro`) and any a manager entered under the same EntityAddress, keeping
 * that point's gate. DSOs the answer does not name keep what they have.
 */
export async function applyPortfolioQueryResponse(tx: Queryable, communityId: string, response: AGRPortfolioQueryResponse, nowMs: number): Promise<void> {
  const reported = reportedPortfolios(response);
  const dsos = (await participantsOfCommunity(tx, communityId)).filter((p) => p.role === 'DSO' && reported.has(p.domain));
  if (dsos.length === 0) return;
  const existing = await congestionPointsOfCommunity(tx, communityId);
  for (const dso of dsos) {
    const gateOf = (entityAddress: string) => existing.find((cp) => cp.participantId === dso.id && cp.entityAddress === entityAddress)?.prognosisGate ?? DEFAULT_PROGNOSIS_GATE;
    await replaceCongestionPoints(tx, dso.id, 'cro', reported.get(dso.domain)!.map((cp) => ({
      id: randomUUID(), communityId, participantId: dso.id, entityAddress: cp.entityAddress, mutexOffersSupported: cp.mutexOffersSupported,
      prognosisGate: gateOf(cp.entityAddress), source: 'cro', connections: cp.connections, updatedAtMs: nowMs,
    })));
  }
}
