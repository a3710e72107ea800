import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Principal } from '../kernel/principal.js';
import { getMember, loadCommunity, requireCommunityManager } from '../registry/index.js';
import { BadRequestError, ConflictError, NotFoundError } from '../kernel/errors.js';
import { formatNano } from '../kernel/money.js';
import { minorUnit, openDispute, resolveDispute, walletAccount, type DisputeDecision, type Posting } from './domain/ledger.js';
import { postToLedger } from './service.js';
import { correctedSoFar, disputeById, disputesOf, insertDispute, lockLedger, postingsBySequence, resolveStoredDispute, type StoredDispute } from './store.js';
import { ownMember, parseMinor, postingView } from './views.js';

/**
 * Disputes: a member objects to a posting of their wallet; a manager of the community resolves it
 * once — rejected with a note, or corrected by a new posting in the member's favour that refers to
 * the disputed one (domain `resolveDispute`). Both steps are on the audit trail as `wallet` changes,
 * and so entries of the verifiable record (the ledger logs money-relevant changes).
 */

const iso = (ms: number) => new Date(ms).toISOString();
const MEMBER_LIST_MAX = 200;
const COMMUNITY_LIST_MAX = 500;

function disputeView(d: StoredDispute, posting: Posting) {
  const r = d.resolution;
  return {
    id: d.id, memberId: d.memberId, posting: postingView(posting, walletAccount(d.memberId)), reason: d.reason, openedAt: iso(d.openedAtMs),
    state: r?.outcome ?? 'open' as const, note: r?.note ?? null, resolvedAt: r ? iso(r.atMs) : null,
    amount: r?.amount === undefined ? null : formatNano(r.amount), correction: d.correction ?? null,
  };
}

async function views(db: Queryable, communityId: string, disputes: readonly StoredDispute[]) {
  const postings = new Map((await postingsBySequence(db, communityId, [...new Set(disputes.map((d) => d.posting))])).map((p) => [p.sequence, p]));
  return disputes.map((d) => disputeView(d, postings.get(d.posting)!));
}

export async function memberDisputes(db: Queryable, principal: Principal, memberId: string) {
  const member = await getMember(db, principal, memberId);
  return views(db, member.communityId, await disputesOf(db, member.communityId, { memberId: member.id }, MEMBER_LIST_MAX));
}

export async function communityDisputes(db: Queryable, principal: Principal, communityId: string, state: 'open' | 'resolved' | undefined) {
  await requireCommunityManager(db, principal, communityId);
  const filter = state === undefined ? {} : { open: state === 'open' };
  return views(db, communityId, await disputesOf(db, communityId, filter, COMMUNITY_LIST_MAX));
}

/** A member disputes a posting of their own wallet; one open dispute per posting. */
export async function fileDispute(
  db: Db, events: EventPublisher, nowMs: number, principal: Principal, memberId: string, body: { posting: number; reason: string },
) {
  const member = await ownMember(db, principal, memberId);
  const reason = body.reason.trim();
  if (reason === '') throw new BadRequestError('body/reason: a dispute needs a reason', 'body/reason');
  const [posting] = await postingsBySequence(db, member.communityId, [body.posting]);
  const wallet = walletAccount(member.id);
  // Another member's posting is answered like one that does not exist: sequences say nothing about others' wallets.
  if (!posting || (posting.debit !== wallet && posting.credit !== wallet)) throw new NotFoundError(`posting ${body.posting} of your wallet`);
  const dispute = openDispute(posting, { id: randomUUID(), memberId: member.id, reason, atMs: nowMs });
  return events.transaction(db, async (tx, publish) => {
    if (!(await insertDispute(tx, member.communityId, dispute))) throw new ConflictError(`posting ${posting.sequence} is disputed already: wait for the manager's answer`);
    const view = disputeView({ ...dispute, communityId: member.communityId, correction: undefined }, posting);
    await recordChange(publish, {
      kind: 'wallet', communityId: member.communityId, resourceId: dispute.id, action: 'dispute', before: null, after: view, subjectMemberId: member.id, atMs: nowMs,
    });
    return view;
  });
}

/**
 * A manager's decision: rejected with a note, or corrected — `amount` (the currency, at most its
 * minor unit) credited to the member by a `dispute-correction` posting; refunds never exceed what
 * is left of the disputed posting. Under the community's ledger lock, so two resolutions of one
 * dispute cannot both post.
 */
export async function settleDispute(
  db: Db, events: EventPublisher, nowMs: number, principal: Principal, communityId: string, disputeId: string,
  body: { outcome: 'rejected' | 'corrected'; note: string; amount?: string | undefined },
) {
  await requireCommunityManager(db, principal, communityId);
  const community = (await loadCommunity(db, communityId))!;
  const note = body.note.trim();
  if (note === '') throw new BadRequestError('body/note: a resolution needs a note for the member', 'body/note');
  let decision: DisputeDecision;
  if (body.outcome === 'corrected') {
    if (body.amount === undefined) throw new BadRequestError('body/amount: a correction needs the amount credited to the member', 'body/amount');
    const { minor, digits } = parseMinor(community, body.amount, 'a correction');
    decision = { outcome: 'corrected', note, amount: minor * minorUnit(digits) };
  } else {
    if (body.amount !== undefined) throw new BadRequestError('body/amount: a rejection moves no money', 'body/amount');
    decision = { outcome: 'rejected', note };
  }
  return events.transaction(db, async (tx, publish) => {
    await lockLedger(tx, communityId);
    const dispute = await disputeById(tx, disputeId);
    if (!dispute || dispute.communityId !== communityId) throw new NotFoundError('dispute');
    const [posting] = await postingsBySequence(tx, communityId, [dispute.posting]);
    const before = disputeView(dispute, posting!);
    const { dispute: resolved, correction } = resolveDispute(dispute, posting!, decision, {
      atMs: nowMs, alreadyCorrected: await correctedSoFar(tx, communityId, dispute.posting),
    });
    const [entered] = correction ? await postToLedger(tx, communityId, [correction], nowMs, publish) : [];
    if (!(await resolveStoredDispute(tx, dispute.id, resolved.resolution!, entered?.sequence))) throw new ConflictError(`dispute ${dispute.id} is resolved already`);
    const after = disputeView({ ...resolved, communityId, correction: entered?.sequence }, posting!);
    await recordChange(publish, {
      kind: 'wallet', communityId, resourceId: dispute.id, action: 'resolve-dispute', before, after, subjectMemberId: dispute.memberId, atMs: nowMs,
    });
    return after;
  });
}
