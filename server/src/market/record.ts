import type { Queryable } from '../platform/store/db.js';
import type { Posting } from './domain/ledger.js';
import { positionsOfLines, tradeKey, type SettlementLine } from './domain/settlement.js';
import { postingsBetween, settlementLinesThroughRun, tradesOfSlots } from './store.js';

/**
 * What the verifiable record reads of the market (ledger's subscribers of `market.posted` and
 * `market.settled`): postings by sequence, and a settlement run's lines with the positions it
 * leaves each trading member in. A trade is named as the `market.trade` entries name it,
 * `<slot ms>-<position>` (its orders' ids can carry a member's id: an agent's do).
 */

type TradeNamed<T> = Omit<T, 'buyOrderId' | 'sellOrderId'> & { readonly tradeId: string | undefined };

export type RecordedPosting = TradeNamed<Posting>;
export type RecordedLine = TradeNamed<SettlementLine>;

export interface SettlementRunRecord {
  /** The run's own lines (a correction's delta lines), by slot, in their order within the run. */
  readonly lines: readonly RecordedLine[];
  /** Each trading member's metered and traded net per slot after the run (its lines with the runs before it). */
  readonly positions: readonly { slotStartMs: number; memberId: string; meteredNetWh: number; tradedNetWh: number }[];
}

/** Trade ids (`<slot ms>-<position>`) of the slots' trades by slot and orders: a pair of orders trades at most once in a slot. */
async function tradeIds(db: Queryable, communityId: string, slotsMs: readonly number[]): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const t of await tradesOfSlots(db, communityId, slotsMs)) ids.set(tradeKey(t.slotStartMs, t.buyOrderId, t.sellOrderId), `${t.slotStartMs}-${t.position}`);
  return ids;
}

function named<T extends { slotStartMs?: number | undefined; buyOrderId?: string | undefined; sellOrderId?: string | undefined }>(
  item: T, ids: ReadonlyMap<string, string>,
): TradeNamed<T> {
  const { buyOrderId, sellOrderId, ...rest } = item;
  const tradeId = buyOrderId !== undefined && sellOrderId !== undefined && item.slotStartMs !== undefined
    ? ids.get(tradeKey(item.slotStartMs, buyOrderId, sellOrderId))
    : undefined;
  return { ...rest, tradeId };
}

const slotsOf = (items: readonly { slotStartMs?: number | undefined; buyOrderId?: string | undefined }[]): number[] =>
  [...new Set(items.flatMap((i) => (i.slotStartMs !== undefined && i.buyOrderId !== undefined ? [i.slotStartMs] : [])))];

/** The postings numbered first … last, in order, each naming the trade it pays. */
export async function marketPostings(db: Queryable, communityId: string, first: number, last: number): Promise<RecordedPosting[]> {
  const postings = await postingsBetween(db, communityId, first, last);
  const ids = await tradeIds(db, communityId, slotsOf(postings));
  return postings.map((p) => named(p, ids));
}

/** Run `run` of these slots (0: their settlement; ≥ 1: a correction) as the record holds it. */
export async function settlementRun(db: Queryable, communityId: string, slotsMs: readonly number[], run: number): Promise<SettlementRunRecord> {
  const through = await settlementLinesThroughRun(db, communityId, slotsMs, run);
  const lines = through
    .filter((l) => l.run === run)
    .map(({ run: _run, tradePosition, ...line }) => ({ ...line, tradeId: tradePosition === undefined ? undefined : `${line.slotStartMs}-${tradePosition}` }));
  return { lines, positions: positionsOfLines(through) };
}
