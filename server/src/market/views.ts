import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher } from '../platform/events/index.js';
import { recordChange } from '../audit/index.js';
import type { Principal } from '../kernel/principal.js';
import { isManagerOf, requireUser } from '../accounts/index.js';
import { getMember, loadCommunity, meteringPointsOfMember, requireCommunityManager, type Community } from '../registry/index.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../kernel/errors.js';
import { formatNano, minorDigits, parseFixed } from '../kernel/money.js';
import { DAY_MS, formatUtcInstant, isQuarterHour } from '../kernel/time.js';
import { formatMarketPrice, parseMarketPrice } from './domain/price.js';
import { gateClosureAt, gateDecision, marketOrderProblems, pricingProblems, type MarketOrder } from './domain/orders.js';
import { mechanismNames } from './domain/clearing/index.js';
import { parseShare, SHARE_UNIT } from './domain/agents.js';
import { minorUnit, topUp, walletAccount, walletMember, type Posting } from './domain/ledger.js';
import { formatFixed } from '../kernel/decimal.js';
import { DEFAULT_SETTINGS, gateOf, postToLedger, pricingOf, sumOf } from './service.js';
import {
  accountBalances, clearingOf, driftedAccounts, insertOrders, latestClearings, loadLimits, loadSettings, orderById, ordersOfMember, ordersOfSlot,
  postingsBySequence, postingsOfWallet, saveLimits, saveSettings, tradesOfMember, tradesOfSlot, withdrawOrder, type MarketSettings, type StoredClearing, type StoredOrder,
} from './store.js';

/** What the market routes answer, with the callers' rights checked: members their own, managers their community, others 404. */

const iso = (ms: number) => new Date(ms).toISOString();
const price = formatMarketPrice;
const optionalPrice = (p: bigint | undefined) => (p === undefined ? null : price(p));

function parsePrice(text: string, field: string): bigint {
  const parsed = parseMarketPrice(text);
  if (parsed === undefined) throw new BadRequestError(`${field}: not a price per kWh ≥ 0 with at most 4 places`, field);
  return parsed;
}
const parseOptionalPrice = (text: string | null, field: string) => (text === null ? undefined : parsePrice(text, field));

function range(query: { from?: string | undefined; to?: string | undefined }, nowMs: number, back: number, ahead: number) {
  const fromMs = query.from ? Date.parse(query.from) : nowMs - back;
  const toMs = query.to ? Date.parse(query.to) : nowMs + ahead;
  if (!(toMs > fromMs)) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
  if (toMs - fromMs > 93 * DAY_MS) throw new BadRequestError('querystring/to: at most 93 days per request', 'querystring/to');
  return { fromMs, toMs };
}

/** The member's record when the caller is that member; managers and admins learn 403, everyone else 404. */
export async function ownMember(db: Queryable, principal: Principal, memberId: string) {
  const member = await getMember(db, principal, memberId);
  const user = requireUser(principal);
  if (!user.memberships.some((m) => m.memberId === member.id && m.state === 'active')) throw new ForbiddenError('only the member may trade for themself');
  return member;
}

async function settingsOrDefault(db: Queryable, communityId: string): Promise<MarketSettings & { enabled: boolean }> {
  const stored = await loadSettings(db, communityId);
  return stored ? { ...stored, enabled: true } : { ...DEFAULT_SETTINGS, updatedAtMs: 0, enabled: false };
}

function orderView(o: StoredOrder, settings: MarketSettings, nowMs: number) {
  const gateMs = gateClosureAt(o.slotStartMs, gateOf(settings));
  return {
    id: o.id, memberId: o.memberId, slotStart: iso(o.slotStartMs), side: o.side, energyWh: o.energyWh, price: price(o.price), origin: o.origin,
    submittedAt: iso(o.submittedAtMs), state: o.withdrawnAtMs !== undefined ? 'withdrawn' as const : nowMs >= gateMs ? 'closed' as const : 'open' as const,
    gateClosesAt: iso(gateMs),
  };
}

export async function memberOrders(db: Queryable, nowMs: number, principal: Principal, memberId: string, query: { from?: string | undefined; to?: string | undefined }) {
  const member = await getMember(db, principal, memberId);
  const { fromMs, toMs } = range(query, nowMs, DAY_MS, 2 * DAY_MS);
  const settings = await settingsOrDefault(db, member.communityId);
  return (await ordersOfMember(db, member.communityId, member.id, fromMs, toMs)).map((o) => orderView(o, settings, nowMs));
}

export async function submitOrder(
  db: Queryable, nowMs: number, principal: Principal, memberId: string, body: { slotStart: string; side: 'buy' | 'sell'; energyWh: number; price: string },
) {
  const member = await ownMember(db, principal, memberId);
  const settings = await loadSettings(db, member.communityId);
  if (!settings) throw new ConflictError('the community\'s market is not open: its manager has not set it up');
  const slotStartMs = Date.parse(body.slotStart);
  if (!isQuarterHour(slotStartMs)) throw new BadRequestError('body/slotStart: a delivery slot starts on a UTC quarter hour', 'body/slotStart');
  const order: MarketOrder = {
    id: randomUUID(), memberId: member.id, side: body.side, energyWh: body.energyWh, price: parsePrice(body.price, 'body/price'),
    submittedAtMs: nowMs, slotStartMs, origin: 'member',
  };
  const gate = gateDecision(slotStartMs, nowMs, gateOf(settings));
  if (!gate.open && gate.reason === 'closed') {
    throw new ConflictError(`the gate of the slot ${formatUtcInstant(slotStartMs)} closed at ${formatUtcInstant(gateClosureAt(slotStartMs, gateOf(settings)))}: orders are no longer taken`);
  }
  const problems = marketOrderProblems(order, pricingOf(settings), gateOf(settings), nowMs);
  if (problems.length > 0) throw new BadRequestError(problems.join('; '), 'body');
  await insertOrders(db, member.communityId, [order]);
  return orderView({ ...order, communityId: member.communityId, withdrawnAtMs: undefined }, settings, nowMs);
}

export async function withdraw(db: Queryable, nowMs: number, principal: Principal, orderId: string): Promise<void> {
  const user = requireUser(principal);
  const order = await orderById(db, orderId);
  if (!order) throw new NotFoundError('order');
  if (!user.memberships.some((m) => m.memberId === order.memberId && m.state === 'active')) {
    if (isManagerOf(user, order.communityId)) throw new ForbiddenError('only the member may withdraw their order');
    throw new NotFoundError('order');
  }
  const settings = await settingsOrDefault(db, order.communityId);
  if (!gateDecision(order.slotStartMs, nowMs, gateOf(settings)).open) {
    throw new ConflictError(`the gate of the slot ${formatUtcInstant(order.slotStartMs)} has closed: the order can no longer be withdrawn`);
  }
  if (!(await withdrawOrder(db, order.communityId, order.id, nowMs))) throw new ConflictError('the order was withdrawn already');
}

const shareText = (units: number) => formatFixed(BigInt(units), 6).replace(/0+$/, '').replace(/\.$/, '');

export async function agentLimits(db: Queryable, principal: Principal, memberId: string) {
  const member = await getMember(db, principal, memberId);
  const limits = await loadLimits(db, member.communityId, member.id);
  return {
    enabled: limits?.enabled ?? false,
    minSellPrice: optionalPrice(limits?.minSellPrice),
    maxBuyPrice: optionalPrice(limits?.maxBuyPrice),
    sellShare: shareText(limits?.sellShare ?? SHARE_UNIT),
    buyShare: shareText(limits?.buyShare ?? SHARE_UNIT),
    meteringPointIds: [...(limits?.devices ?? [])],
  };
}

export async function putAgentLimits(
  db: Db, events: EventPublisher, nowMs: number, principal: Principal, memberId: string,
  body: { enabled: boolean; minSellPrice: string | null; maxBuyPrice: string | null; sellShare: string; buyShare: string; meteringPointIds: string[] },
) {
  const member = await ownMember(db, principal, memberId);
  const own = new Set((await meteringPointsOfMember(db, member.id)).map((p) => p.id));
  const foreign = body.meteringPointIds.filter((id) => !own.has(id));
  if (foreign.length > 0) throw new BadRequestError(`body/meteringPointIds: not your metering points: ${foreign.join(', ')}`, 'body/meteringPointIds');
  const share = (text: string, field: string) => {
    const units = parseShare(text);
    if (units === undefined) throw new BadRequestError(`${field}: a share between 0 and 1`, field);
    return units;
  };
  const limits = {
    memberId: member.id, enabled: body.enabled,
    minSellPrice: parseOptionalPrice(body.minSellPrice, 'body/minSellPrice'), maxBuyPrice: parseOptionalPrice(body.maxBuyPrice, 'body/maxBuyPrice'),
    sellShare: share(body.sellShare, 'body/sellShare'), buyShare: share(body.buyShare, 'body/buyShare'),
    devices: [...new Set(body.meteringPointIds)], updatedAtMs: nowMs,
  };
  return events.transaction(db, async (tx, publish) => {
    const before = await agentLimits(tx, principal, memberId);
    await saveLimits(tx, member.communityId, limits);
    const after = await agentLimits(tx, principal, memberId);
    await recordChange(publish, { kind: 'agent-limits', communityId: member.communityId, resourceId: member.id, action: 'set', before, after, subjectMemberId: member.id, atMs: nowMs });
    return after;
  });
}

export async function memberTrades(db: Queryable, nowMs: number, principal: Principal, memberId: string, query: { from?: string | undefined; to?: string | undefined }) {
  const member = await getMember(db, principal, memberId);
  const { fromMs, toMs } = range(query, nowMs, 7 * DAY_MS, DAY_MS);
  return (await tradesOfMember(db, member.communityId, member.id, fromMs, toMs)).map((t) => {
    const buying = t.buyerId === member.id;
    return {
      slotStart: iso(t.slotStartMs), side: buying ? 'buy' as const : 'sell' as const, energyWh: t.energyWh, price: price(t.price),
      gridFee: price(buying ? t.gridFee : 0n), orderId: buying ? t.buyOrderId : t.sellOrderId,
    };
  });
}

/** A posting as its account sees it: + when money came in. */
export function postingView(p: Posting, account: string) {
  return {
    sequence: p.sequence, at: iso(p.atMs), kind: p.kind, line: p.line ?? null, slotStart: p.slotStartMs === undefined ? null : iso(p.slotStartMs),
    slotEnd: p.slotEndMs === undefined ? null : iso(p.slotEndMs), lines: p.lines ?? null,
    amount: formatNano(p.credit === account ? p.amount : -p.amount), memo: p.memo,
  };
}

/**
 * How far a community's postings are in the verifiable record (the ledger's, given by the
 * composition root: the ledger builds on the market, so the market cannot ask it itself).
 */
export type RecordedPostings = (communityId: string) => Promise<number>;

/** The member's wallet: balance and postings, each saying whether it is in the verifiable record yet (only then has it a proof). */
export async function memberWallet(db: Queryable, principal: Principal, memberId: string, recordedThrough: RecordedPostings) {
  const member = await getMember(db, principal, memberId);
  const community = (await loadCommunity(db, member.communityId))!;
  const account = walletAccount(member.id);
  const balances = await accountBalances(db, member.communityId);
  const recorded = await recordedThrough(member.communityId);
  return {
    memberId: member.id, currency: community.currency, balance: formatNano(balances.get(account) ?? 0n),
    postings: (await postingsOfWallet(db, member.communityId, account, 200)).map((p) => ({ ...postingView(p, account), recorded: p.sequence <= recorded })),
  };
}

/**
 * A posting of the member's wallet, for the member, their community's managers and admins (a
 * wallet's movement proof starts here); another wallet's posting or an unknown sequence is 404,
 * as it is for disputes: sequences say nothing about others' wallets.
 */
export async function walletPosting(db: Queryable, principal: Principal, memberId: string, sequence: number): Promise<{ communityId: string; posting: Posting }> {
  const member = await getMember(db, principal, memberId);
  const [posting] = await postingsBySequence(db, member.communityId, [sequence]);
  const wallet = walletAccount(member.id);
  if (!posting || (posting.debit !== wallet && posting.credit !== wallet)) throw new NotFoundError(`posting ${sequence} of the member's wallet`);
  return { communityId: member.communityId, posting };
}

function settingsView(s: MarketSettings & { enabled: boolean }) {
  return {
    enabled: s.enabled, mechanism: s.mechanism, mechanisms: mechanismNames(), gateLeadMinutes: s.gateLeadMinutes, gridFee: price(s.gridFee),
    floor: optionalPrice(s.floor), ceiling: optionalPrice(s.ceiling), surplusPrice: price(s.surplusPrice), shortfallPrice: price(s.shortfallPrice),
    payoutThreshold: s.payoutThreshold === undefined ? null : formatNano(s.payoutThreshold),
    lowBalanceThreshold: s.lowBalanceThreshold === undefined ? null : formatNano(s.lowBalanceThreshold),
  };
}

export async function marketSettings(db: Queryable, principal: Principal, communityId: string) {
  await requireCommunityManager(db, principal, communityId);
  return settingsView(await settingsOrDefault(db, communityId));
}

/** The settings as the trail keeps them: without the list of mechanisms this installation offers. */
const trailedSettings = ({ mechanisms: _mechanisms, ...settings }: ReturnType<typeof settingsView>) => settings;

export async function putMarketSettings(
  db: Db, events: EventPublisher, nowMs: number, principal: Principal, communityId: string,
  body: {
    mechanism: string; gateLeadMinutes: number; gridFee: string; floor: string | null; ceiling: string | null; surplusPrice: string; shortfallPrice: string;
    payoutThreshold?: string | null | undefined;
    lowBalanceThreshold?: string | null | undefined;
  },
) {
  await requireCommunityManager(db, principal, communityId);
  const community = (await loadCommunity(db, communityId))!;
  const payout = body.payoutThreshold ? parseMinor(community, body.payoutThreshold, 'the payout threshold', 'body/payoutThreshold') : undefined;
  const low = body.lowBalanceThreshold ? parseMinor(community, body.lowBalanceThreshold, 'the low-balance threshold', 'body/lowBalanceThreshold') : undefined;
  if (!mechanismNames().includes(body.mechanism)) {
    throw new BadRequestError(`body/mechanism: unknown mechanism "${body.mechanism}" (known: ${mechanismNames().join(', ')})`, 'body/mechanism');
  }
  const settings: MarketSettings = {
    mechanism: body.mechanism, gateLeadMinutes: body.gateLeadMinutes, gridFee: parsePrice(body.gridFee, 'body/gridFee'),
    floor: parseOptionalPrice(body.floor, 'body/floor'), ceiling: parseOptionalPrice(body.ceiling, 'body/ceiling'),
    surplusPrice: parsePrice(body.surplusPrice, 'body/surplusPrice'), shortfallPrice: parsePrice(body.shortfallPrice, 'body/shortfallPrice'),
    payoutThreshold: payout && payout.minor * minorUnit(payout.digits), lowBalanceThreshold: low && low.minor * minorUnit(low.digits), updatedAtMs: nowMs,
  };
  const problems = pricingProblems(pricingOf(settings));
  if (problems.length > 0) throw new BadRequestError(problems.join('; '), 'body');
  const after = settingsView({ ...settings, enabled: true });
  await events.transaction(db, async (tx, publish) => {
    const before = settingsView(await settingsOrDefault(tx, communityId));
    await saveSettings(tx, communityId, settings);
    await recordChange(publish, {
      kind: 'market', communityId, resourceId: communityId, action: 'set-settings', before: trailedSettings(before), after: trailedSettings(after), atMs: nowMs,
    });
  });
  return after;
}

function summaryView(c: StoredClearing, trades: number) {
  return {
    slotStart: iso(c.slotStartMs), mechanism: c.mechanism, clearingPrice: optionalPrice(c.clearingPrice), volumeWh: c.volumeWh, trades,
    orders: c.orders, refused: c.refused.length, welfare: formatNano(c.welfare), clearedAt: iso(c.clearedAtMs),
    settledAt: c.settledAtMs === undefined ? null : iso(c.settledAtMs),
  };
}

export async function marketSlots(db: Queryable, principal: Principal, communityId: string, limit: number) {
  await requireCommunityManager(db, principal, communityId);
  const clearings = await latestClearings(db, communityId, limit);
  return Promise.all(clearings.map(async (c) => summaryView(c, (await tradesOfSlot(db, communityId, c.slotStartMs)).length)));
}

export async function marketSlot(db: Queryable, principal: Principal, communityId: string, start: string) {
  await requireCommunityManager(db, principal, communityId);
  const slotStartMs = Date.parse(start);
  const clearing = await clearingOf(db, communityId, slotStartMs);
  if (!clearing) throw new NotFoundError('cleared slot');
  const trades = await tradesOfSlot(db, communityId, slotStartMs);
  const matched = new Map<string, number>();
  for (const t of trades) {
    matched.set(t.buyOrderId, (matched.get(t.buyOrderId) ?? 0) + t.energyWh);
    matched.set(t.sellOrderId, (matched.get(t.sellOrderId) ?? 0) + t.energyWh);
  }
  const refused = new Map(clearing.refused.map((r) => [r.orderId, r.message]));
  const orders = await ordersOfSlot(db, communityId, slotStartMs);
  const rank = (o: StoredOrder) => (o.side === 'buy' ? -o.price : o.price);
  const book = [...orders].sort((a, b) => (a.side !== b.side ? (a.side === 'buy' ? -1 : 1) : rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : a.submittedAtMs - b.submittedAtMs));
  return {
    summary: summaryView(clearing, trades.length),
    book: book.map((o) => ({
      id: o.id, memberId: o.memberId, side: o.side, energyWh: o.energyWh, matchedWh: matched.get(o.id) ?? 0, price: price(o.price), origin: o.origin,
      submittedAt: iso(o.submittedAtMs), withdrawn: o.withdrawnAtMs !== undefined, refused: refused.get(o.id) ?? null,
    })),
    trades: trades.map((t) => ({ buyOrderId: t.buyOrderId, sellOrderId: t.sellOrderId, energyWh: t.energyWh, price: price(t.price) })),
  };
}

export async function walletTotals(db: Queryable, principal: Principal, communityId: string) {
  await requireCommunityManager(db, principal, communityId);
  const community = (await loadCommunity(db, communityId))!;
  const balances = await accountBalances(db, communityId);
  const wallets = [...balances].filter(([account]) => walletMember(account) !== undefined).map(([, b]) => b);
  const others = [...balances].filter(([account]) => walletMember(account) === undefined).map(([, b]) => b);
  return {
    currency: community.currency,
    accounts: [...balances].map(([account, balance]) => ({ account, memberId: walletMember(account) ?? null, balance: formatNano(balance) })),
    walletsTotal: formatNano(sumOf(wallets)), communityTotal: formatNano(sumOf(others)), sum: formatNano(sumOf(balances.values())),
    drifted: await driftedAccounts(db, communityId),
  };
}

/** An amount a manager entered, in the currency's minor units: positive, at most its digits. */
export function parseMinor(community: Community, amount: string, what: string, field = 'body/amount'): { minor: bigint; digits: number } {
  const digits = minorDigits(community.currency);
  let minor: bigint;
  try {
    minor = parseFixed(amount, digits);
  } catch {
    throw new BadRequestError(`${field}: at most ${digits} places in ${community.currency}`, field);
  }
  if (minor <= 0n) throw new BadRequestError(`${field}: ${what} must be positive`, field);
  return { minor, digits };
}

export async function recordTopUp(db: Db, events: EventPublisher, nowMs: number, principal: Principal, communityId: string, body: { memberId: string; amount: string; reference: string }) {
  await requireCommunityManager(db, principal, communityId);
  const community: Community = (await loadCommunity(db, communityId))!;
  const member = await getMember(db, principal, body.memberId).catch(() => undefined);
  if (!member || member.communityId !== communityId) throw new BadRequestError('body/memberId: not a member of this community', 'body/memberId');
  const { minor, digits } = parseMinor(community, body.amount, 'a top-up');
  const draft = topUp(member.id, minor, digits, body.reference);
  return events.transaction(db, async (tx, publish) => {
    const [posting] = await postToLedger(tx, communityId, [draft], nowMs, publish);
    const view = postingView(posting!, walletAccount(member.id));
    await recordChange(publish, {
      kind: 'wallet', communityId, resourceId: String(view.sequence), action: 'top-up', before: null, after: view, subjectMemberId: member.id, atMs: nowMs,
    });
    return view;
  });
}
