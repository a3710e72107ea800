import { BadRequestError, ConflictError, ForbiddenError } from '../../kernel/errors.js';
import type { Nano } from '../../kernel/money.js';
import { QUARTER_HOUR_MS } from '../../kernel/time.js';
import type { SettlementLine, SettlementLineKind } from './settlement.js';

/**
 * The community's wallets as an exact double-entry ledger. Every movement is a posting that
 * debits one account and credits another by the same positive nano amount, so the balances of
 * all accounts always sum to zero; a posting is never changed or removed: a mistake is answered
 * by a correcting posting that refers to it. A balance is credits − debits: a member's wallet
 * is positive when it holds money; the top-ups account goes negative by what members paid in.
 */
export type AccountId = string;

export const COMMUNITY_ACCOUNTS = {
  /** Trades pass through it: buyers pay in, sellers are paid out; it nets to zero per slot. */
  clearing: 'community:clearing',
  /** The community's side of balancing: its balance is what the community owes the grid (−) or holds (+). */
  balancing: 'community:balancing',
  /** Grid fees collected on trades, for the community to pass on to the grid operator. */
  gridFees: 'community:grid-fees',
  /** Money members paid in through the manager (a payment provider would post here). */
  topUps: 'community:top-ups',
  /** Money paid out to members' bank accounts. */
  payouts: 'community:payouts',
} as const;

const COMMUNITY = new Set<string>(Object.values(COMMUNITY_ACCOUNTS));
const WALLET = 'wallet:';

export const walletAccount = (memberId: string): AccountId => `${WALLET}${memberId}`;

/** The member of a wallet account, or undefined for a community account. */
export const walletMember = (account: AccountId): string | undefined =>
  account.startsWith(WALLET) ? account.slice(WALLET.length) : undefined;

const isAccount = (account: AccountId): boolean => COMMUNITY.has(account) || (account.startsWith(WALLET) && account.length > WALLET.length);

export type PostingKind = 'top-up' | 'settlement' | 'settlement-correction' | 'payout' | 'dispute-correction' | 'transfer';

export interface PostingDraft {
  readonly debit: AccountId;
  readonly credit: AccountId;
  /** > 0, nano-units of the community's currency. */
  readonly amount: Nano;
  readonly kind: PostingKind;
  readonly memo: string;
  /**
   * Settlement postings: what they pay — the first slot, the line kind and, when the posting pays
   * exactly one trade, its orders. Since migration 0230 a settlement posting pays all of a member's
   * lines of one kind in its transaction (a day's slots): `slotEndMs` is the end of the last slot
   * and `lines` how many lines it pays; postings entered before carry neither (one line each).
   */
  readonly slotStartMs?: number | undefined;
  readonly slotEndMs?: number | undefined;
  readonly lines?: number | undefined;
  readonly line?: SettlementLineKind | undefined;
  readonly buyOrderId?: string | undefined;
  readonly sellOrderId?: string | undefined;
  /** Dispute corrections: the posting corrected and the dispute that decided it. */
  readonly corrects?: number | undefined;
  readonly disputeId?: string | undefined;
  /** Top-ups and payouts: the payment's reference outside Gridshare. */
  readonly externalReference?: string | undefined;
}

export interface Posting extends PostingDraft {
  /** 1, 2, 3 … in the order of entry: a posting's identity in the community's ledger. */
  readonly sequence: number;
  readonly atMs: number;
}

export interface LedgerState {
  readonly balances: ReadonlyMap<AccountId, Nano>;
  /** Sequence number of the next posting. */
  readonly nextSequence: number;
}

export const EMPTY_LEDGER: LedgerState = { balances: new Map(), nextSequence: 1 };

export const balanceOf = (state: LedgerState, account: AccountId): Nano => state.balances.get(account) ?? 0n;

/** Σ of every account's balance: zero, always (the property tests hold the ledger to it). */
export function sumOfBalances(state: LedgerState): Nano {
  let sum = 0n;
  for (const balance of state.balances.values()) sum += balance;
  return sum;
}

function draftProblem(draft: PostingDraft): string | undefined {
  if (typeof draft.amount !== 'bigint' || draft.amount <= 0n) return 'the amount must be positive';
  if (!isAccount(draft.debit)) return `unknown account "${draft.debit}"`;
  if (!isAccount(draft.credit)) return `unknown account "${draft.credit}"`;
  if (draft.debit === draft.credit) return 'a posting must move money between two different accounts';
  return undefined;
}

/**
 * Enters postings, all or none: the new state and the postings with their sequence numbers.
 * The state given is not changed (phase 2 keeps the postings in an append-only table and the
 * balances as their sums).
 */
export function post(state: LedgerState, drafts: readonly PostingDraft[], atMs: number): { state: LedgerState; postings: Posting[] } {
  if (!Number.isSafeInteger(atMs)) throw new BadRequestError('the posting time is not a UTC instant', 'atMs');
  drafts.forEach((draft, i) => {
    const problem = draftProblem(draft);
    if (problem) throw new BadRequestError(`posting ${i + 1} (${draft.memo}): ${problem}`, 'postings');
  });
  const balances = new Map(state.balances);
  const postings = drafts.map((draft, i): Posting => {
    balances.set(draft.debit, (balances.get(draft.debit) ?? 0n) - draft.amount);
    balances.set(draft.credit, (balances.get(draft.credit) ?? 0n) + draft.amount);
    // The new fields first: V8 copies a spread several times faster into a literal that starts with its own fields.
    return { sequence: state.nextSequence + i, atMs, ...draft };
  });
  return { state: { balances, nextSequence: state.nextSequence + drafts.length }, postings };
}

/** Balances recomputed from postings: what phase 2 checks its stored balances against. */
export function replayPostings(postings: Iterable<Posting>): LedgerState {
  const balances = new Map<AccountId, Nano>();
  let nextSequence = 1;
  for (const p of postings) {
    balances.set(p.debit, (balances.get(p.debit) ?? 0n) - p.amount);
    balances.set(p.credit, (balances.get(p.credit) ?? 0n) + p.amount);
    nextSequence = Math.max(nextSequence, p.sequence + 1);
  }
  return { balances, nextSequence };
}

/** One minor unit of a currency with `digits` places (a cent: 10⁷ nano). */
export const minorUnit = (digits: number): Nano => 10n ** BigInt(9 - digits);

/** A member's top-up recorded by the manager: `amount` in the currency's minor unit (cents). */
export function topUp(memberId: string, amountMinor: bigint, digits: number, externalReference: string): PostingDraft {
  if (amountMinor <= 0n) throw new BadRequestError('a top-up must be positive', 'amount');
  return {
    debit: COMMUNITY_ACCOUNTS.topUps, credit: walletAccount(memberId), amount: amountMinor * minorUnit(digits),
    kind: 'top-up', memo: `top-up ${externalReference}`, externalReference,
  };
}

/**
 * A member pays another from wallet to wallet (the price of a data offer, privacy's): `amount` in
 * the currency's minor unit, `reference` the thing paid for. Whether the payer holds enough is the
 * caller's check, under the ledger lock (`payBetweenWallets`).
 */
export function walletTransfer(fromMemberId: string, toMemberId: string, amountMinor: bigint, digits: number, reference: string): PostingDraft {
  if (amountMinor <= 0n) throw new BadRequestError('a transfer must be positive', 'amount');
  if (fromMemberId === toMemberId) throw new BadRequestError('a transfer goes to another member\'s wallet', 'to');
  return {
    debit: walletAccount(fromMemberId), credit: walletAccount(toMemberId), amount: amountMinor * minorUnit(digits),
    kind: 'transfer', memo: `transfer ${reference}`, externalReference: reference,
  };
}

const COUNTERPART: Record<SettlementLineKind, AccountId> = {
  sale: COMMUNITY_ACCOUNTS.clearing,
  purchase: COMMUNITY_ACCOUNTS.clearing,
  'grid-fee': COMMUNITY_ACCOUNTS.gridFees,
  'balancing-surplus': COMMUNITY_ACCOUNTS.balancing,
  'balancing-shortfall': COMMUNITY_ACCOUNTS.balancing,
};

/**
 * The postings that pay settlement lines (a transaction's: a day's slots, or a correction's delta
 * lines): the lines netted per member and line kind into one posting each, between the member's
 * wallet and the kind's community account, in the direction of the net (none where it nets to 0),
 * in the order the (member, kind) pairs first appear. Each carries its first slot, the end of its
 * last, how many lines it pays and, when it pays exactly one trade, that trade's orders. Σ of a
 * member's postings is exactly Σ of their line amounts.
 */
export function settlementPostings(lines: readonly SettlementLine[], kind: 'settlement' | 'settlement-correction'): PostingDraft[] {
  const groups = new Map<string, { first: SettlementLine; net: Nano; fromMs: number; toMs: number; lines: number }>();
  for (const l of lines) {
    const key = `${l.memberId}\n${l.kind}`;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { first: l, net: l.amount, fromMs: l.slotStartMs, toMs: l.slotStartMs, lines: 1 });
      continue;
    }
    group.net += l.amount;
    group.lines++;
    if (l.slotStartMs < group.fromMs) group.fromMs = l.slotStartMs;
    if (l.slotStartMs > group.toMs) group.toMs = l.slotStartMs;
  }
  const drafts: PostingDraft[] = [];
  for (const { first, net, fromMs, toMs, lines: count } of groups.values()) {
    if (net === 0n) continue;
    const wallet = walletAccount(first.memberId);
    const counterpart = COUNTERPART[first.kind];
    const [debit, credit] = net > 0n ? [counterpart, wallet] : [wallet, counterpart];
    const oneTrade = count === 1;
    drafts.push({
      debit, credit, amount: net > 0n ? net : -net, kind,
      memo: `${kind === 'settlement' ? '' : 'correction: '}${first.kind}`,
      slotStartMs: fromMs, slotEndMs: toMs + QUARTER_HOUR_MS, lines: count, line: first.kind,
      buyOrderId: oneTrade ? first.buyOrderId : undefined, sellOrderId: oneTrade ? first.sellOrderId : undefined,
    });
  }
  return drafts;
}

export interface LowBalanceAlert {
  readonly memberId: string;
  readonly balance: Nano;
}

/** Wallets that fell below `threshold` between two states (each fall alerts once, not every slot after). */
export function lowBalanceAlerts(before: LedgerState, after: LedgerState, threshold: Nano): LowBalanceAlert[] {
  const alerts: LowBalanceAlert[] = [];
  for (const [account, balance] of after.balances) {
    const memberId = walletMember(account);
    if (memberId !== undefined && balance < threshold && balanceOf(before, account) >= threshold) alerts.push({ memberId, balance });
  }
  return alerts;
}

export interface PayoutRequest {
  readonly memberId: string;
  /** Whole minor units, in nano. */
  readonly amount: Nano;
}

/**
 * The periodic payout run: a request for every wallet whose payable part holds at least
 * `threshold`, for that part down to the minor unit, unless one is already pending. Payable is
 * what the market brought in: the balance less the member's own top-ups (`deposited`, Σ per
 * member), which are there to buy with and are never paid out (payouts already made are out of
 * the balance). Requests move no money; the manager confirms each (confirmPayout).
 */
export function duePayouts(
  state: LedgerState, options: { threshold: Nano; digits: number; pending: ReadonlySet<string>; deposited: ReadonlyMap<string, Nano> },
): PayoutRequest[] {
  const unit = minorUnit(options.digits);
  const requests: PayoutRequest[] = [];
  for (const [account, balance] of state.balances) {
    const memberId = walletMember(account);
    if (memberId === undefined || options.pending.has(memberId)) continue;
    const payable = balance - (options.deposited.get(memberId) ?? 0n);
    if (payable < options.threshold) continue;
    const amount = payable - (payable % unit);
    if (amount > 0n) requests.push({ memberId, amount });
  }
  return requests.sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
}

/** The posting of a confirmed payout; refused when the wallet no longer holds the amount. */
export function confirmPayout(state: LedgerState, request: PayoutRequest, externalReference: string): PostingDraft {
  const wallet = walletAccount(request.memberId);
  if (request.amount <= 0n) throw new BadRequestError('a payout must be positive', 'amount');
  if (balanceOf(state, wallet) < request.amount) throw new ConflictError(`wallet of ${request.memberId} holds less than the payout`);
  return {
    debit: wallet, credit: COMMUNITY_ACCOUNTS.payouts, amount: request.amount,
    kind: 'payout', memo: `payout ${externalReference}`, externalReference,
  };
}

/** A member's objection to one posting of their wallet (a day's trades, fees or balancing of one kind, a payout, …). */
export interface Dispute {
  readonly id: string;
  readonly memberId: string;
  readonly posting: number;
  readonly reason: string;
  readonly openedAtMs: number;
  readonly resolution?: DisputeResolution | undefined;
}

export interface DisputeResolution {
  readonly outcome: 'rejected' | 'corrected';
  readonly note: string;
  readonly atMs: number;
  /** The amount credited to the member (corrected only). */
  readonly amount?: Nano | undefined;
}

export function openDispute(posting: Posting, request: { id: string; memberId: string; reason: string; atMs: number }): Dispute {
  const wallet = walletAccount(request.memberId);
  if (posting.debit !== wallet && posting.credit !== wallet) throw new ForbiddenError('a member may dispute only postings of their own wallet');
  if (request.reason.trim() === '') throw new BadRequestError('a dispute needs a reason', 'reason');
  return { id: request.id, memberId: request.memberId, posting: posting.sequence, reason: request.reason, openedAtMs: request.atMs };
}

export type DisputeDecision =
  | { readonly outcome: 'rejected'; readonly note: string }
  | { readonly outcome: 'corrected'; readonly note: string; readonly amount: Nano };

/**
 * The manager's decision on a dispute. A correction is in the member's favour: it credits their
 * wallet with `amount` from the disputed posting's other account — back along a posting that
 * debited the wallet (a refund, at most what has not been refunded of it yet) or once more along
 * one that credited it (the member was paid too little). The disputed posting stays as it was.
 */
export function resolveDispute(
  dispute: Dispute,
  posting: Posting,
  decision: DisputeDecision,
  context: { atMs: number; alreadyCorrected: Nano },
): { dispute: Dispute; correction?: PostingDraft } {
  if (dispute.resolution) throw new ConflictError(`dispute ${dispute.id} is resolved already`);
  if (posting.sequence !== dispute.posting) throw new BadRequestError(`dispute ${dispute.id} is about posting ${dispute.posting}, not ${posting.sequence}`, 'posting');
  if (decision.note.trim() === '') throw new BadRequestError('a resolution needs a note for the member', 'note');
  if (decision.outcome === 'rejected') {
    return { dispute: { ...dispute, resolution: { outcome: 'rejected', note: decision.note, atMs: context.atMs } } };
  }
  const wallet = walletAccount(dispute.memberId);
  const refund = posting.debit === wallet;
  if (decision.amount <= 0n) throw new BadRequestError('the correction must be positive', 'amount');
  if (refund && decision.amount > posting.amount - context.alreadyCorrected) {
    throw new BadRequestError('a refund cannot exceed what is left of the disputed posting', 'amount');
  }
  const other = refund ? posting.credit : posting.debit;
  return {
    dispute: { ...dispute, resolution: { outcome: 'corrected', note: decision.note, atMs: context.atMs, amount: decision.amount } },
    correction: {
      debit: other, credit: wallet, amount: decision.amount, kind: 'dispute-correction',
      memo: `dispute ${dispute.id}: ${decision.note}`, corrects: posting.sequence, disputeId: dispute.id,
      slotStartMs: posting.slotStartMs, slotEndMs: posting.slotEndMs, line: posting.line, buyOrderId: posting.buyOrderId, sellOrderId: posting.sellOrderId,
    },
  };
}
