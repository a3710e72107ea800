import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Principal } from '../kernel/principal.js';
import { loadCommunity, requireCommunityManager } from '../registry/index.js';
import { ConflictError, NotFoundError } from '../kernel/errors.js';
import { formatNano, minorDigits } from '../kernel/money.js';
import { confirmPayout, duePayouts } from './domain/ledger.js';
import { postToLedger } from './service.js';
import {
  accountBalances, decidePayout, insertPayoutRequests, loadSettings, lockLedger, payoutById, payoutMembersOfPeriod, payoutsOf, topUpsByMember, type StoredPayout,
} from './store.js';

/**
 * Payouts: once per month (UTC) the market job asks for a payout of every wallet whose market
 * earnings (its balance less the member's top-ups) reach the community's threshold, for them down
 * to the minor unit (domain `duePayouts`). Nothing
 * moves until a manager confirms a request with the bank transfer's reference: then one posting
 * takes the amount from the wallet to `community:payouts` — refused (409) should the wallet hold
 * less by then. A manager may cancel a request instead; either decision is taken once.
 */

const iso = (ms: number) => new Date(ms).toISOString();
const LIST_MAX = 500;

/** The month of an instant, UTC: the period a payout run belongs to. */
export const payoutPeriod = (ms: number): string => iso(ms).slice(0, 7);

/**
 * This month's payout requests of a community, for the wallets not asked yet; how many were new.
 * Each new request is a `wallet` change (`request-payout`, by the system) on the audit trail and
 * so in the verifiable record, in the transaction that stores it.
 */
export async function requestDuePayouts(db: Db, events: EventPublisher, communityId: string, nowMs: number): Promise<number> {
  const settings = await loadSettings(db, communityId);
  if (settings?.payoutThreshold === undefined) return 0;
  const community = await loadCommunity(db, communityId);
  if (!community) return 0;
  const period = payoutPeriod(nowMs);
  const due = duePayouts({ balances: await accountBalances(db, communityId), nextSequence: 0 }, {
    threshold: settings.payoutThreshold, digits: minorDigits(community.currency), pending: await payoutMembersOfPeriod(db, communityId, period),
    deposited: await topUpsByMember(db, communityId),
  });
  if (due.length === 0) return 0;
  return events.transaction(db, async (tx, publish) => {
    const requested = await insertPayoutRequests(tx, communityId, period, due.map((d) => ({ id: randomUUID(), ...d })), nowMs);
    for (const r of requested) {
      const payout: StoredPayout = {
        communityId, id: r.id, memberId: r.memberId, period, amount: r.amount, requestedAtMs: nowMs, state: 'requested',
        decidedAtMs: undefined, reference: undefined, posting: undefined,
      };
      await recordChange(publish, {
        kind: 'wallet', communityId, resourceId: r.id, action: 'request-payout', before: null, after: payoutView(payout), subjectMemberId: r.memberId, atMs: nowMs,
      });
    }
    return requested.length;
  });
}

function payoutView(p: StoredPayout) {
  return {
    id: p.id, memberId: p.memberId, period: p.period, amount: formatNano(p.amount), requestedAt: iso(p.requestedAtMs), state: p.state,
    decidedAt: p.decidedAtMs === undefined ? null : iso(p.decidedAtMs), reference: p.reference ?? null, posting: p.posting ?? null,
  };
}

export async function communityPayouts(db: Queryable, principal: Principal, communityId: string) {
  await requireCommunityManager(db, principal, communityId);
  return (await payoutsOf(db, communityId, LIST_MAX)).map(payoutView);
}

/** A manager confirms (posting it) or cancels a requested payout. */
export async function decideOnPayout(
  db: Db, events: EventPublisher, nowMs: number, principal: Principal, communityId: string, payoutId: string,
  body: { outcome: 'confirmed' | 'cancelled'; reference: string },
) {
  await requireCommunityManager(db, principal, communityId);
  return events.transaction(db, async (tx, publish) => {
    await lockLedger(tx, communityId);
    const payout = await payoutById(tx, payoutId);
    if (!payout || payout.communityId !== communityId) throw new NotFoundError('payout');
    if (payout.state !== 'requested') throw new ConflictError(`payout ${payout.id} is ${payout.state} already`);
    let posting: number | undefined;
    if (body.outcome === 'confirmed') {
      const draft = confirmPayout({ balances: await accountBalances(tx, communityId), nextSequence: 0 }, { memberId: payout.memberId, amount: payout.amount }, body.reference);
      posting = (await postToLedger(tx, communityId, [draft], nowMs, publish))[0]!.sequence;
    }
    if (!(await decidePayout(tx, payout.id, { state: body.outcome, atMs: nowMs, reference: body.reference, posting }))) {
      throw new ConflictError(`payout ${payout.id} was decided already`);
    }
    const after = payoutView({ ...payout, state: body.outcome, decidedAtMs: nowMs, reference: body.reference, posting });
    await recordChange(publish, {
      kind: 'wallet', communityId, resourceId: payout.id, action: body.outcome === 'confirmed' ? 'confirm-payout' : 'cancel-payout',
      before: payoutView(payout), after, subjectMemberId: payout.memberId, atMs: nowMs,
    });
    return after;
  });
}
