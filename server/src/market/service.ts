import type { Db, Queryable } from '../platform/store/db.js';
import type { EventPublisher, Publish } from '../platform/events/index.js';
import { communityIntervals, type StoredInterval } from '../intervals/index.js';
import { meteringPointsOfCommunity } from '../registry/index.js';
import { expectedNetWh } from '../forecast/index.js';
import { plannedNetWh } from '../optimise/index.js';
import { worst, type Quality } from '../kernel/energy.js';
import { HOUR_MS, MINUTE_MS, QUARTER_HOUR_MS, ceilToQuarterHour, floorToQuarterHour } from '../kernel/time.js';
import type { Nano } from '../kernel/money.js';
import { agentOrders, type SlotOutlook } from './domain/agents.js';
import { clearSlot } from './domain/clearing/index.js';
import { lowBalanceAlerts, post, settlementPostings, topUp, type Posting, type PostingDraft } from './domain/ledger.js';
import { orderProblems, type CommunityPricing, type GateRule, type MarketOrder } from './domain/orders.js';
import { correctSettlement, settleSlot, type MeteredNet, type SlotSettlement } from './domain/settlement.js';
import {
  accountBalances, appendPostings, balanceSum, clearedSlots, enabledLimits, insertClearing, insertOrders, insertSettlementLines, loadSettings, lockLedger,
  markSettled, nextPostingSequence, ordersOfSlot, saveLimits, saveSettings, settledSlots, settlementLinesOfSlot, tradesOfSlots, unsettledClearings, type MarketSettings, type RefusedOrder,
  type StoredLimits, type StoredTrade,
} from './store.js';

/** What a community's market uses until its manager changes it. */
export const DEFAULT_SETTINGS: Omit<MarketSettings, 'updatedAtMs'> = {
  mechanism: 'uniform',
  gateLeadMinutes: 5,
  gridFee: 0n,
  floor: undefined,
  ceiling: undefined,
  surplusPrice: 50_000n,
  shortfallPrice: 300_000n,
};

export const pricingOf = (s: Omit<MarketSettings, 'updatedAtMs'>): CommunityPricing => ({ gridFee: s.gridFee, floor: s.floor, ceiling: s.ceiling });
export const gateOf = (s: Omit<MarketSettings, 'updatedAtMs'>): GateRule => ({ leadMs: s.gateLeadMinutes * MINUTE_MS });

/** How far back an agent looks for a point's last metered quarter hour when it has no forecast. */
const PERSISTENCE_WINDOW_MS = 2 * HOUR_MS;

/**
 * Enters postings in one transaction: under the community's ledger lock, numbered after the last
 * one, the balances moved by them; refused (and so rolled back with everything else of the
 * transaction) should the community's balances not add up to zero afterwards. With `publish`, a
 * wallet the postings take below the community's low-balance threshold is announced
 * (market.wallet.low-balance, in the same transaction: once per fall).
 */
export async function postToLedger(tx: Queryable, communityId: string, drafts: readonly PostingDraft[], atMs: number, publish?: Publish): Promise<Posting[]> {
  if (drafts.length === 0) return [];
  await lockLedger(tx, communityId);
  const { state, postings } = post({ balances: new Map(), nextSequence: await nextPostingSequence(tx, communityId) }, drafts, atMs);
  const threshold = publish && (await loadSettings(tx, communityId))?.lowBalanceThreshold;
  const before = threshold === undefined ? undefined : await accountBalances(tx, communityId);
  await appendPostings(tx, communityId, postings, state.balances);
  const sum = await balanceSum(tx, communityId);
  if (sum !== 0n) throw new Error(`market ledger of community ${communityId} would not balance (Σ ${sum} nano); nothing was posted`);
  // The verifiable record takes every posting up to the last one (earlier ones entered without an event, as at seeding, included).
  if (publish) await publish('market.posted', { communityId, throughSequence: state.nextSequence - 1, atMs });
  if (publish && before && threshold !== undefined) {
    const after = new Map(before);
    for (const [account, delta] of state.balances) after.set(account, (after.get(account) ?? 0n) + delta);
    const states = (balances: Map<string, bigint>) => ({ balances, nextSequence: state.nextSequence });
    for (const alert of lowBalanceAlerts(states(before), states(after), threshold)) {
      await publish('market.wallet.low-balance', {
        communityId, memberId: alert.memberId, balanceNano: alert.balance.toString(), thresholdNano: threshold.toString(), atMs,
      });
    }
  }
  return postings;
}

const netOf = (i: StoredInterval): number | undefined =>
  i.quality === 'missing' || (i.importWh === null && i.exportWh === null) ? undefined : (i.exportWh ?? 0) - (i.importWh ?? 0);

/**
 * What each agent expects of its points in the slot: the optimiser's plan in force at the gate
 * closure where it plans the point (its net exchange: battery charge and discharge, shifted loads
 * and all), else the forecast (P50 production − consumption) issued by the gate closure, else
 * persistence: the point's last metered quarter hour that ended by then (within two hours).
 */
async function outlookOf(db: Queryable, communityId: string, pointIds: readonly string[], slotStartMs: number, gateMs: number): Promise<SlotOutlook> {
  const forecast = await expectedNetWh(db, pointIds, slotStartMs, slotStartMs + QUARTER_HOUR_MS, gateMs);
  const forecastWh: Record<string, number> = {};
  for (const [pointId, byStart] of forecast) {
    const wh = byStart.get(slotStartMs);
    if (wh !== undefined) forecastWh[pointId] = wh;
  }
  const lastEnded = floorToQuarterHour(gateMs) - QUARTER_HOUR_MS;
  const recent = (await communityIntervals(db, communityId, lastEnded + QUARTER_HOUR_MS - PERSISTENCE_WINDOW_MS, lastEnded + QUARTER_HOUR_MS))
    .sort((a, b) => a.startMs - b.startMs);
  const persisted: Record<string, number> = {};
  for (const interval of recent) {
    const net = netOf(interval);
    if (net !== undefined) persisted[interval.meteringPointId] = net;
  }
  const planned = await plannedNetWh(db, communityId, slotStartMs, gateMs);
  const plannedWh = Object.fromEntries(pointIds.flatMap((id) => (planned.has(id) ? [[id, planned.get(id)!] as const] : [])));
  return { slotStartMs, forecastWh: { ...persisted, ...forecastWh }, plannedWh };
}

/** The agents' orders of a slot, as posted just before its gate closed. */
async function agentOrdersOf(db: Queryable, communityId: string, settings: MarketSettings, slotStartMs: number): Promise<MarketOrder[]> {
  const limits = await enabledLimits(db, communityId);
  if (limits.length === 0) return [];
  const pointsOf = await pointsByMember(db, communityId);
  const gateMs = slotStartMs - gateOf(settings).leadMs;
  const allPoints = limits.flatMap((l) => pointsOf.get(l.memberId) ?? []);
  const outlook = await outlookOf(db, communityId, allPoints, slotStartMs, gateMs);
  const context = { pricing: pricingOf(settings), gate: gateOf(settings), nowMs: gateMs - 1 };
  return limits.flatMap((l) => {
    const own = pointsOf.get(l.memberId) ?? [];
    const devices = l.devices.length === 0 ? own : l.devices.filter((id) => own.includes(id));
    return agentOrders({ ...l, devices }, [outlook], context);
  });
}

/**
 * Clears one slot of a community at its gate closure: the agents post their orders, the open
 * orders of the slot are read, each one checked on its own (a bad one is refused and recorded,
 * the others clear), the community's mechanism clears them and the clearing and its trades are
 * stored, with `market.cleared` in the same transaction. A slot cleared already is left as it was (false).
 */
export async function clearStoredSlot(db: Db, events: EventPublisher, communityId: string, settings: MarketSettings, slotStartMs: number, nowMs: number): Promise<boolean> {
  const agents = await agentOrdersOf(db, communityId, settings, slotStartMs);
  const gateMs = slotStartMs - gateOf(settings).leadMs;
  const pricing = pricingOf(settings);
  return events.transaction(db, async (tx, publish) => {
    await insertOrders(tx, communityId, agents);
    const open = (await ordersOfSlot(tx, communityId, slotStartMs)).filter((o) => o.withdrawnAtMs === undefined && o.submittedAtMs < gateMs);
    const refused: RefusedOrder[] = [];
    const accepted = open.filter((order) => {
      const problems = orderProblems(order, pricing);
      if (problems.length > 0) refused.push({ orderId: order.id, message: problems.join('; ') });
      return problems.length === 0;
    });
    const result = clearSlot(settings.mechanism, accepted, pricing);
    const stored = await insertClearing(tx, communityId, {
      slotStartMs, mechanism: result.mechanism, clearingPrice: result.clearingPrice, volumeWh: result.volumeWh, welfare: result.welfare,
      gridFees: result.gridFees, gridFee: pricing.gridFee, orders: accepted.length, refused, clearedAtMs: nowMs,
    }, result.trades);
    if (stored) await publish('market.cleared', { communityId, slotStartMs, clearedAtMs: nowMs, trades: result.trades.length });
    return stored;
  });
}

async function clearSlotsBetween(db: Db, events: EventPublisher, communityId: string, settings: MarketSettings, firstSlot: number, lastSlot: number, nowMs: number): Promise<number> {
  const done = await clearedSlots(db, communityId, firstSlot, lastSlot + QUARTER_HOUR_MS);
  let cleared = 0;
  for (let slot = firstSlot; slot <= lastSlot; slot += QUARTER_HOUR_MS) {
    if (!done.has(slot) && (await clearStoredSlot(db, events, communityId, settings, slot, nowMs))) cleared++;
  }
  return cleared;
}

/** Clears every slot whose gate closed in the last `lookbackMs` and is not cleared yet, oldest first; how many. */
export async function clearDueSlots(db: Db, events: EventPublisher, communityId: string, nowMs: number, lookbackMs: number): Promise<number> {
  const settings = await loadSettings(db, communityId);
  if (!settings) return 0;
  const leadMs = gateOf(settings).leadMs;
  return clearSlotsBetween(db, events, communityId, settings, ceilToQuarterHour(nowMs - lookbackMs + leadMs), floorToQuarterHour(nowMs + leadMs), nowMs);
}

/**
 * Catching up on slots of the past as their meter data comes in (the demo's replayed day): clears
 * the slots from `fromMs` whose gate has closed as far as the agents' input is there — slot S once
 * the quarter hour S − 30 min is metered at every point that has meter data. Returns how many
 * were cleared, the end of the data
 * (what counts as "now" for the settlement of the replayed slots) and whether it has caught up
 * with the slots whose gate has closed.
 */
export async function catchUpSlots(db: Db, events: EventPublisher, communityId: string, fromMs: number, nowMs: number): Promise<{ cleared: number; dataUntilMs: number; done: boolean }> {
  const settings = await loadSettings(db, communityId);
  if (!settings) return { cleared: 0, dataUntilMs: nowMs, done: true };
  const latestGate = floorToQuarterHour(nowMs + gateOf(settings).leadMs);
  // How far the meters have come: the latest metered quarter hour of the point that is furthest behind.
  const latestOf = new Map<string, number>();
  for (const interval of await communityIntervals(db, communityId, fromMs - 2 * QUARTER_HOUR_MS, nowMs + 1)) {
    if (netOf(interval) !== undefined) latestOf.set(interval.meteringPointId, Math.max(latestOf.get(interval.meteringPointId) ?? 0, interval.startMs));
  }
  if (latestOf.size === 0) return { cleared: 0, dataUntilMs: fromMs, done: false };
  const lastData = Math.min(...latestOf.values());
  const lastSlot = Math.min(latestGate, lastData + 2 * QUARTER_HOUR_MS);
  const cleared = await clearSlotsBetween(db, events, communityId, settings, ceilToQuarterHour(fromMs), lastSlot, nowMs);
  return { cleared, dataUntilMs: Math.min(nowMs, lastData + QUARTER_HOUR_MS), done: lastSlot >= latestGate };
}

/** Each trading member's metered net in the slot (export − import over their points); undefined while one is missing. */
function meteredNets(memberIds: ReadonlySet<string>, pointsOf: ReadonlyMap<string, readonly string[]>, intervals: readonly StoredInterval[]): MeteredNet[] | undefined {
  const byPoint = new Map(intervals.map((i) => [i.meteringPointId, i]));
  const nets: MeteredNet[] = [];
  for (const memberId of memberIds) {
    const points = pointsOf.get(memberId) ?? [];
    let netWh = 0;
    let quality: Quality = 'measured';
    for (const pointId of points) {
      const interval = byPoint.get(pointId);
      const net = interval && netOf(interval);
      if (!interval || net === undefined) return undefined;
      netWh += net;
      quality = worst(quality, interval.quality);
    }
    if (points.length === 0) return undefined;
    nets.push({ memberId, netWh, quality });
  }
  return nets;
}

async function pointsByMember(db: Queryable, communityId: string): Promise<Map<string, string[]>> {
  const pointsOf = new Map<string, string[]>();
  for (const point of await meteringPointsOfCommunity(db, communityId)) {
    const list = pointsOf.get(point.memberId) ?? [];
    list.push(point.id);
    pointsOf.set(point.memberId, list);
  }
  return pointsOf;
}

/**
 * Each slot's settlement on the intervals stored now (a slot where a trading member's are missing
 * is left out), and the slots' trades, which the stored lines name by position.
 */
async function settlementsNow(
  db: Queryable, communityId: string, settings: MarketSettings, startsMs: readonly number[], pointsOf: ReadonlyMap<string, readonly string[]>,
): Promise<{ settlements: Map<number, SlotSettlement>; trades: StoredTrade[] }> {
  const slotTrades = await tradesOfSlots(db, communityId, startsMs);
  const tradesOf = groupBy(slotTrades, (t) => t.slotStartMs);
  const traded = startsMs.filter((slot) => tradesOf.has(slot));
  const intervalsOf = traded.length === 0
    ? new Map<number, StoredInterval[]>()
    : groupBy(await communityIntervals(db, communityId, Math.min(...traded), Math.max(...traded) + QUARTER_HOUR_MS), (i) => i.startMs);
  const balancing = { surplusPrice: settings.surplusPrice, shortfallPrice: settings.shortfallPrice };
  const settlements = new Map<number, SlotSettlement>();
  for (const slotStartMs of startsMs) {
    const trades = tradesOf.get(slotStartMs) ?? [];
    const members = new Set(trades.flatMap((t) => [t.buyerId, t.sellerId]));
    const metered = trades.length === 0 ? [] : meteredNets(members, pointsOf, intervalsOf.get(slotStartMs) ?? []);
    if (metered) settlements.set(slotStartMs, settleSlot({ slotStartMs, trades, metered, balancing }));
  }
  return { settlements, trades: slotTrades };
}

function groupBy<T>(items: readonly T[], key: (item: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** Slots settled in one transaction at most: a day's. */
const SETTLE_BATCH_SLOTS = 96;

/** Ascending slots in batches of at most a day's slots, each within one day from its first (so a batch reads at most a day of intervals). */
function dayBatches(startsMs: readonly number[]): number[][] {
  const batches: number[][] = [];
  for (const slot of startsMs) {
    const last = batches[batches.length - 1];
    if (last && last.length < SETTLE_BATCH_SLOTS && slot < last[0]! + SETTLE_BATCH_SLOTS * QUARTER_HOUR_MS) last.push(slot);
    else batches.push([slot]);
  }
  return batches;
}

/**
 * Settles the cleared slots whose intervals are final: the slot ended by `endedByMs` (in operation
 * half an hour ago) and every trading member has a metered value. A day's slots at a time: their
 * trades and intervals read at once, then one transaction marks them settled and writes their
 * lines and postings, so each slot is paid once whatever runs again (a slot settled meanwhile is
 * left out by its mark). How many were settled.
 */
export async function settleDueSlots(db: Db, events: EventPublisher, communityId: string, nowMs: number, endedByMs: number): Promise<number> {
  const settings = await loadSettings(db, communityId);
  if (!settings) return 0;
  const due = await unsettledClearings(db, communityId, endedByMs - QUARTER_HOUR_MS + 1, 500);
  if (due.length === 0) return 0;
  const pointsOf = await pointsByMember(db, communityId);
  let settled = 0;
  for (const batch of dayBatches(due.map((c) => c.slotStartMs))) {
    const { settlements, trades } = await settlementsNow(db, communityId, settings, batch, pointsOf);
    if (settlements.size === 0) continue;
    settled += await events.transaction(db, async (tx, publish) => {
      const marked = await markSettled(tx, communityId, [...settlements.keys()], nowMs);
      const lines = [...settlements].filter(([slot]) => marked.has(slot)).flatMap(([, settlement]) => settlement.lines);
      await insertSettlementLines(tx, communityId, 0, lines, trades);
      await postToLedger(tx, communityId, settlementPostings(lines, 'settlement'), nowMs, publish);
      if (marked.size > 0) await publish('market.settled', { communityId, run: 0, slotsMs: [...marked].sort((a, b) => a - b), atMs: nowMs });
      return marked.size;
    });
  }
  return settled;
}

/**
 * Late data: settles these slots again where they are settled already, on the intervals stored
 * now, and appends the difference as a correction run (delta lines and their
 * `settlement-correction` postings); the original lines and postings stay as they were, and
 * original + corrections net to the settlement of the corrected data. A slot whose figures did
 * not change gets nothing, so a repeated run changes nothing. How many slots were corrected.
 */
export async function correctSettledSlots(db: Db, events: EventPublisher, communityId: string, startsMs: readonly number[], nowMs: number): Promise<number> {
  const settings = await loadSettings(db, communityId);
  if (!settings || startsMs.length === 0) return 0;
  const settled = await settledSlots(db, communityId, startsMs);
  if (settled.length === 0) return 0;
  const now = await settlementsNow(db, communityId, settings, settled.map((c) => c.slotStartMs), await pointsByMember(db, communityId));
  let corrected = 0;
  for (const [slotStartMs, settlement] of now.settlements) {
    const done = await events.transaction(db, async (tx, publish) => {
      await lockLedger(tx, communityId);
      const before = await settlementLinesOfSlot(tx, communityId, slotStartMs);
      const delta = correctSettlement({ slotStartMs, positions: [], lines: before.lines }, settlement);
      if (delta.length === 0) return false;
      await insertSettlementLines(tx, communityId, before.lastRun + 1, delta, now.trades);
      await postToLedger(tx, communityId, settlementPostings(delta, 'settlement-correction'), nowMs, publish);
      await publish('market.settled', { communityId, run: before.lastRun + 1, slotsMs: [slotStartMs], atMs: nowMs });
      return true;
    });
    if (done) corrected++;
  }
  return corrected;
}

/** Σ of a set of nano amounts (the totals the manager sees). */
export const sumOf = (amounts: Iterable<Nano>): Nano => {
  let sum = 0n;
  for (const a of amounts) sum += a;
  return sum;
};

/** Opens (or re-sets) a community's market with these settings. */
export async function openMarket(db: Queryable, communityId: string, settings: Omit<MarketSettings, 'updatedAtMs'>, nowMs: number): Promise<void> {
  await saveSettings(db, communityId, { ...settings, updatedAtMs: nowMs });
}

/** Sets a member's agent limits (the demo; members use the route). */
export async function setAgentLimits(db: Queryable, communityId: string, limits: Omit<StoredLimits, 'updatedAtMs'>, nowMs: number): Promise<void> {
  await saveLimits(db, communityId, { ...limits, updatedAtMs: nowMs });
}

/** Records a member's top-up of `amountMinor` minor units (in the caller's transaction). */
export async function fundWallet(
  tx: Queryable, communityId: string, top: { memberId: string; amountMinor: bigint; digits: number; reference: string }, nowMs: number,
): Promise<void> {
  await postToLedger(tx, communityId, [topUp(top.memberId, top.amountMinor, top.digits, top.reference)], nowMs);
}
