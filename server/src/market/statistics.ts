import type { Queryable } from '../platform/store/db.js';
import type { Principal } from '../kernel/principal.js';
import { requireCommunityManager } from '../registry/index.js';
import { communityQuarters } from '../sharing/index.js';
import { BadRequestError, NotFoundError } from '../kernel/errors.js';
import { formatNano } from '../kernel/money.js';
import { DAY_MS } from '../kernel/time.js';
import { formatMarketPrice, volumeWeightedPrice } from './domain/price.js';
import { bookDepth, clearingOf, loadSettings, marketTotals } from './store.js';

/**
 * What the manager's market page charts: a cleared slot's order-book depth and the market's
 * figures over a period. Managers of the community (and admins) only: the depth sums the orders
 * per price, so no member's order is shown on its own.
 */

const iso = (ms: number) => new Date(ms).toISOString();
const optionalPrice = (p: bigint | undefined) => (p === undefined ? null : formatMarketPrice(p));
/** A year and a leap day: the longest period the statistics sum at once. */
const MAX_PERIOD_DAYS = 366;

export async function marketSlotDepth(db: Queryable, principal: Principal, communityId: string, start: string) {
  await requireCommunityManager(db, principal, communityId);
  const slotStartMs = Date.parse(start);
  const clearing = await clearingOf(db, communityId, slotStartMs);
  if (!clearing) throw new NotFoundError('cleared slot');
  // The fee in force at the slot's clearing; only a slot without trades cleared before that was kept falls back to today's.
  const gridFee = clearing.gridFee ?? (await loadSettings(db, communityId))?.gridFee ?? 0n;
  const levels = await bookDepth(db, communityId, slotStartMs, gridFee, clearing.refused.map((r) => r.orderId));
  const side = (s: 'buy' | 'sell') => levels.filter((l) => l.side === s)
    .map((l) => ({ price: formatMarketPrice(l.price), energyWh: l.energyWh, cumulativeWh: l.cumulativeWh }));
  return {
    slotStart: iso(slotStartMs), mechanism: clearing.mechanism, gridFee: formatMarketPrice(gridFee), clearingPrice: optionalPrice(clearing.clearingPrice),
    volumeWh: clearing.volumeWh, bids: side('buy'), offers: side('sell'),
  };
}

export async function marketStatistics(db: Queryable, nowMs: number, principal: Principal, communityId: string, query: { from?: string | undefined; to?: string | undefined }) {
  await requireCommunityManager(db, principal, communityId);
  const toMs = query.to ? Date.parse(query.to) : nowMs;
  const fromMs = query.from ? Date.parse(query.from) : toMs - 7 * DAY_MS;
  if (!(toMs > fromMs)) throw new BadRequestError('querystring/to: must be after from', 'querystring/to');
  if (toMs - fromMs > MAX_PERIOD_DAYS * DAY_MS) throw new BadRequestError(`querystring/to: at most ${MAX_PERIOD_DAYS} days per request`, 'querystring/to');
  const totals = await marketTotals(db, communityId, fromMs, toMs);
  let sharedWh = 0;
  for (const quarter of await communityQuarters(db, communityId, fromMs, toMs)) sharedWh += quarter.fromCommunityWh;
  const volumeWh = Number(totals.volumeWh);
  return {
    from: iso(fromMs), to: iso(toMs), slots: totals.slots, tradedSlots: totals.tradedSlots, trades: totals.trades, volumeWh,
    minPrice: optionalPrice(totals.minPrice), averagePrice: optionalPrice(volumeWeightedPrice(totals.value, totals.volumeWh)),
    maxPrice: optionalPrice(totals.maxPrice), welfare: formatNano(totals.welfare), gridFees: formatNano(totals.gridFees),
    sharedWh, tradedShare: sharedWh > 0 ? volumeWh / sharedWh : null,
  };
}
