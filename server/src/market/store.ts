import type { Queryable } from '../platform/store/db.js';
import type { MicroPrice, Nano } from '../kernel/money.js';
import type { AgentLimits } from './domain/agents.js';
import type { Trade } from './domain/clearing/types.js';
import type { MarketOrder, Side } from './domain/orders.js';
import { walletMember, type Dispute, type DisputeResolution, type Posting } from './domain/ledger.js';
import { tradeKey, type SettlementLine, type SettlementLineKind } from './domain/settlement.js';

/**
 * The only SQL on market's tables: market_settings, market_agent_limits, market_orders,
 * market_clearings, market_trades, market_settlement_runs, market_postings, market_accounts, market_disputes,
 * market_payouts.
 * Prices are micro-units (int8), amounts exact nano-units (numeric, read back as strings).
 */

export interface MarketSettings {
  readonly mechanism: string;
  readonly gateLeadMinutes: number;
  readonly gridFee: MicroPrice;
  readonly floor: MicroPrice | undefined;
  readonly ceiling: MicroPrice | undefined;
  readonly surplusPrice: MicroPrice;
  readonly shortfallPrice: MicroPrice;
  /** Wallets holding at least this (nano) are offered a payout each month; none: no payouts. */
  readonly payoutThreshold?: Nano | undefined;
  /** A posting that takes a wallet below this (nano) alerts its member; none: no alerts. */
  readonly lowBalanceThreshold?: Nano | undefined;
  readonly updatedAtMs: number;
}

interface SettingsRow {
  mechanism: string;
  gate_lead_minutes: number;
  grid_fee: string;
  price_floor: string | null;
  price_ceiling: string | null;
  surplus_price: string;
  shortfall_price: string;
  payout_threshold: string | null;
  low_balance_threshold: string | null;
  updated_at: Date;
}

const big = (text: string | null): bigint | undefined => (text === null ? undefined : BigInt(text));

export async function loadSettings(db: Queryable, communityId: string): Promise<MarketSettings | undefined> {
  const rows = await db.query<SettingsRow>(
    `SELECT mechanism, gate_lead_minutes, grid_fee::text, price_floor::text, price_ceiling::text, surplus_price::text, shortfall_price::text,
       payout_threshold::text, low_balance_threshold::text, updated_at
     FROM market_settings WHERE community_id = $1`, [communityId],
  );
  const r = rows[0];
  return r && {
    mechanism: r.mechanism, gateLeadMinutes: r.gate_lead_minutes, gridFee: BigInt(r.grid_fee), floor: big(r.price_floor), ceiling: big(r.price_ceiling),
    surplusPrice: BigInt(r.surplus_price), shortfallPrice: BigInt(r.shortfall_price), payoutThreshold: big(r.payout_threshold),
    lowBalanceThreshold: big(r.low_balance_threshold), updatedAtMs: r.updated_at.getTime(),
  };
}

const text = (value: bigint | undefined): string | null => (value === undefined ? null : value.toString());

export async function saveSettings(db: Queryable, communityId: string, s: MarketSettings): Promise<void> {
  await db.query(
    `INSERT INTO market_settings (community_id, mechanism, gate_lead_minutes, grid_fee, price_floor, price_ceiling, surplus_price, shortfall_price,
       payout_threshold, low_balance_threshold, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $10)
     ON CONFLICT (community_id) DO UPDATE SET mechanism = EXCLUDED.mechanism, gate_lead_minutes = EXCLUDED.gate_lead_minutes,
       grid_fee = EXCLUDED.grid_fee, price_floor = EXCLUDED.price_floor, price_ceiling = EXCLUDED.price_ceiling,
       surplus_price = EXCLUDED.surplus_price, shortfall_price = EXCLUDED.shortfall_price, payout_threshold = EXCLUDED.payout_threshold,
       low_balance_threshold = EXCLUDED.low_balance_threshold, updated_at = EXCLUDED.updated_at`,
    [communityId, s.mechanism, s.gateLeadMinutes, s.gridFee.toString(), text(s.floor), text(s.ceiling), s.surplusPrice.toString(),
      s.shortfallPrice.toString(), text(s.payoutThreshold), new Date(s.updatedAtMs), text(s.lowBalanceThreshold)],
  );
}

/** The communities whose market runs (their manager saved settings). */
export async function marketCommunities(db: Queryable): Promise<string[]> {
  return (await db.query<{ community_id: string }>('SELECT community_id FROM market_settings ORDER BY community_id')).map((r) => r.community_id);
}

export interface StoredLimits extends AgentLimits {
  readonly enabled: boolean;
  readonly updatedAtMs: number;
}

interface LimitsRow {
  member_id: string;
  enabled: boolean;
  min_sell_price: string | null;
  max_buy_price: string | null;
  sell_share: number;
  buy_share: number;
  metering_point_ids: string[];
  updated_at: Date;
}

const toLimits = (r: LimitsRow): StoredLimits => ({
  memberId: r.member_id, enabled: r.enabled, minSellPrice: big(r.min_sell_price), maxBuyPrice: big(r.max_buy_price),
  sellShare: r.sell_share, buyShare: r.buy_share, devices: r.metering_point_ids, updatedAtMs: r.updated_at.getTime(),
});

const LIMITS_COLUMNS = 'member_id, enabled, min_sell_price::text, max_buy_price::text, sell_share, buy_share, metering_point_ids::text[], updated_at';

export async function loadLimits(db: Queryable, communityId: string, memberId: string): Promise<StoredLimits | undefined> {
  const rows = await db.query<LimitsRow>(`SELECT ${LIMITS_COLUMNS} FROM market_agent_limits WHERE community_id = $1 AND member_id = $2`, [communityId, memberId]);
  return rows[0] && toLimits(rows[0]);
}

/** The limits of every member whose agent is enabled. */
export async function enabledLimits(db: Queryable, communityId: string): Promise<StoredLimits[]> {
  const rows = await db.query<LimitsRow>(`SELECT ${LIMITS_COLUMNS} FROM market_agent_limits WHERE community_id = $1 AND enabled ORDER BY member_id`, [communityId]);
  return rows.map(toLimits);
}

export async function saveLimits(db: Queryable, communityId: string, l: StoredLimits): Promise<void> {
  await db.query(
    `INSERT INTO market_agent_limits (community_id, member_id, enabled, min_sell_price, max_buy_price, sell_share, buy_share, metering_point_ids, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::uuid[], $9)
     ON CONFLICT (community_id, member_id) DO UPDATE SET enabled = EXCLUDED.enabled, min_sell_price = EXCLUDED.min_sell_price,
       max_buy_price = EXCLUDED.max_buy_price, sell_share = EXCLUDED.sell_share, buy_share = EXCLUDED.buy_share,
       metering_point_ids = EXCLUDED.metering_point_ids, updated_at = EXCLUDED.updated_at`,
    [communityId, l.memberId, l.enabled, text(l.minSellPrice), text(l.maxBuyPrice), l.sellShare, l.buyShare, [...l.devices], new Date(l.updatedAtMs)],
  );
}

export interface StoredOrder extends MarketOrder {
  readonly communityId: string;
  readonly withdrawnAtMs: number | undefined;
}

interface OrderRow {
  community_id: string;
  id: string;
  member_id: string;
  slot_start: Date;
  side: Side;
  energy_wh: string;
  price: string;
  submitted_at: Date;
  origin: 'member' | 'agent';
  withdrawn_at: Date | null;
}

const ORDER_COLUMNS = 'community_id, id, member_id, slot_start, side, energy_wh::text, price::text, submitted_at, origin, withdrawn_at';

const toOrder = (r: OrderRow): StoredOrder => ({
  communityId: r.community_id, id: r.id, memberId: r.member_id, slotStartMs: r.slot_start.getTime(), side: r.side,
  energyWh: Number(r.energy_wh), price: BigInt(r.price), submittedAtMs: r.submitted_at.getTime(), origin: r.origin,
  withdrawnAtMs: r.withdrawn_at?.getTime(),
});

/** Stores orders; one already there (an agent's order of a slot cleared again) is left as it was. */
export async function insertOrders(db: Queryable, communityId: string, orders: readonly MarketOrder[]): Promise<void> {
  if (orders.length === 0) return;
  await db.query(
    `INSERT INTO market_orders (community_id, id, member_id, slot_start, side, energy_wh, price, submitted_at, origin)
     SELECT $1, o.id, o.member_id, o.slot_start, o.side, o.energy_wh, o.price, o.submitted_at, o.origin
     FROM jsonb_to_recordset($2::jsonb) AS o(id text, member_id uuid, slot_start timestamptz, side text, energy_wh int8, price int8, submitted_at timestamptz, origin text)
     ON CONFLICT (community_id, id) DO NOTHING`,
    [communityId, JSON.stringify(orders.map((o) => ({
      id: o.id, member_id: o.memberId, slot_start: new Date(o.slotStartMs).toISOString(), side: o.side, energy_wh: o.energyWh,
      price: o.price.toString(), submitted_at: new Date(o.submittedAtMs).toISOString(), origin: o.origin,
    })))],
  );
}

export async function orderById(db: Queryable, id: string): Promise<StoredOrder | undefined> {
  const rows = await db.query<OrderRow>(`SELECT ${ORDER_COLUMNS} FROM market_orders WHERE id = $1`, [id]);
  return rows[0] && toOrder(rows[0]);
}

/** Withdraws an open order; false when it was withdrawn already. */
export async function withdrawOrder(db: Queryable, communityId: string, id: string, atMs: number): Promise<boolean> {
  const rows = await db.query('UPDATE market_orders SET withdrawn_at = $3 WHERE community_id = $1 AND id = $2 AND withdrawn_at IS NULL RETURNING id',
    [communityId, id, new Date(atMs)]);
  return rows.length > 0;
}

export async function ordersOfMember(db: Queryable, communityId: string, memberId: string, fromMs: number, toMs: number): Promise<StoredOrder[]> {
  const rows = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM market_orders WHERE community_id = $1 AND member_id = $2 AND slot_start >= $3 AND slot_start < $4
     ORDER BY slot_start, submitted_at, id`,
    [communityId, memberId, new Date(fromMs), new Date(toMs)],
  );
  return rows.map(toOrder);
}

/** Every order of a slot, withdrawn ones included (the book shows them as such). */
export async function ordersOfSlot(db: Queryable, communityId: string, slotStartMs: number): Promise<StoredOrder[]> {
  const rows = await db.query<OrderRow>(
    `SELECT ${ORDER_COLUMNS} FROM market_orders WHERE community_id = $1 AND slot_start = $2 ORDER BY submitted_at, id`,
    [communityId, new Date(slotStartMs)],
  );
  return rows.map(toOrder);
}

export interface RefusedOrder {
  readonly orderId: string;
  readonly message: string;
}

export interface StoredClearing {
  readonly slotStartMs: number;
  readonly mechanism: string;
  readonly clearingPrice: MicroPrice | undefined;
  readonly volumeWh: number;
  readonly welfare: Nano;
  readonly gridFees: Nano;
  /** The grid fee per kWh in force at the clearing (its bids were matched less it); undefined for a slot without trades cleared before it was kept. */
  readonly gridFee: MicroPrice | undefined;
  readonly orders: number;
  readonly refused: readonly RefusedOrder[];
  readonly clearedAtMs: number;
  readonly settledAtMs: number | undefined;
}

interface ClearingRow {
  slot_start: Date;
  mechanism: string;
  clearing_price: string | null;
  volume_wh: string;
  welfare: string;
  grid_fees: string;
  grid_fee: string | null;
  orders: number;
  refused: RefusedOrder[];
  cleared_at: Date;
  settled_at: Date | null;
}

const CLEARING_COLUMNS = 'slot_start, mechanism, clearing_price::text, volume_wh::text, welfare::text, grid_fees::text, grid_fee::text, orders, refused, cleared_at, settled_at';

const toClearing = (r: ClearingRow): StoredClearing => ({
  slotStartMs: r.slot_start.getTime(), mechanism: r.mechanism, clearingPrice: big(r.clearing_price), volumeWh: Number(r.volume_wh),
  welfare: BigInt(r.welfare), gridFees: BigInt(r.grid_fees), gridFee: big(r.grid_fee), orders: r.orders, refused: r.refused, clearedAtMs: r.cleared_at.getTime(),
  settledAtMs: r.settled_at?.getTime(),
});

/**
 * Stores a slot's clearing and its trades, once: false (and nothing written) when the slot was
 * cleared already, so clearing a slot again changes nothing.
 */
export async function insertClearing(db: Queryable, communityId: string, c: Omit<StoredClearing, 'settledAtMs'>, trades: readonly Trade[]): Promise<boolean> {
  const inserted = await db.query(
    `INSERT INTO market_clearings (community_id, slot_start, mechanism, clearing_price, volume_wh, welfare, grid_fees, orders, refused, cleared_at, grid_fee)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11) ON CONFLICT (community_id, slot_start) DO NOTHING RETURNING slot_start`,
    [communityId, new Date(c.slotStartMs), c.mechanism, text(c.clearingPrice), c.volumeWh, c.welfare.toString(), c.gridFees.toString(), c.orders,
      JSON.stringify(c.refused), new Date(c.clearedAtMs), text(c.gridFee)],
  );
  if (inserted.length === 0) return false;
  if (trades.length > 0) {
    await db.query(
      `INSERT INTO market_trades (community_id, slot_start, position, buy_order_id, sell_order_id, buyer_id, seller_id, energy_wh, price, grid_fee)
       SELECT $1, $2, t.position, t.buy, t.sell, t.buyer, t.seller, t.energy, t.price, t.fee
       FROM jsonb_to_recordset($3::jsonb) AS t(position int4, buy text, sell text, buyer uuid, seller uuid, energy int8, price int8, fee int8)`,
      [communityId, new Date(c.slotStartMs), JSON.stringify(trades.map((t, position) => ({
        position, buy: t.buyOrderId, sell: t.sellOrderId, buyer: t.buyerId, seller: t.sellerId, energy: t.energyWh,
        price: t.price.toString(), fee: t.gridFee.toString(),
      })))],
    );
  }
  return true;
}

/** Which of the slots in [fromMs, toMs) have been cleared. */
export async function clearedSlots(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<Set<number>> {
  const rows = await db.query<{ slot_start: Date }>(
    'SELECT slot_start FROM market_clearings WHERE community_id = $1 AND slot_start >= $2 AND slot_start < $3',
    [communityId, new Date(fromMs), new Date(toMs)],
  );
  return new Set(rows.map((r) => r.slot_start.getTime()));
}

export async function clearingOf(db: Queryable, communityId: string, slotStartMs: number): Promise<StoredClearing | undefined> {
  const rows = await db.query<ClearingRow>(`SELECT ${CLEARING_COLUMNS} FROM market_clearings WHERE community_id = $1 AND slot_start = $2`,
    [communityId, new Date(slotStartMs)]);
  return rows[0] && toClearing(rows[0]);
}

/** The newest clearings, newest first. */
export async function latestClearings(db: Queryable, communityId: string, limit: number): Promise<StoredClearing[]> {
  const rows = await db.query<ClearingRow>(`SELECT ${CLEARING_COLUMNS} FROM market_clearings WHERE community_id = $1 ORDER BY slot_start DESC LIMIT $2`,
    [communityId, limit]);
  return rows.map(toClearing);
}

/** Clearings not settled yet whose slot started before `startedBeforeMs`, oldest first. */
export async function unsettledClearings(db: Queryable, communityId: string, startedBeforeMs: number, limit: number): Promise<StoredClearing[]> {
  const rows = await db.query<ClearingRow>(
    `SELECT ${CLEARING_COLUMNS} FROM market_clearings WHERE community_id = $1 AND settled_at IS NULL AND slot_start < $2 ORDER BY slot_start LIMIT $3`,
    [communityId, new Date(startedBeforeMs), limit],
  );
  return rows.map(toClearing);
}

export interface StoredTrade extends Trade {
  readonly slotStartMs: number;
  /** Its place in the slot's trades (0, 1, …): settlement lines name their trade by it. */
  readonly position: number;
}

interface TradeRow {
  slot_start: Date;
  position: number;
  buy_order_id: string;
  sell_order_id: string;
  buyer_id: string;
  seller_id: string;
  energy_wh: string;
  price: string;
  grid_fee: string;
}

const TRADE_COLUMNS = 'slot_start, position, buy_order_id, sell_order_id, buyer_id, seller_id, energy_wh::text, price::text, grid_fee::text';

const toTrade = (r: TradeRow): StoredTrade => ({
  slotStartMs: r.slot_start.getTime(), position: r.position, buyOrderId: r.buy_order_id, sellOrderId: r.sell_order_id, buyerId: r.buyer_id, sellerId: r.seller_id,
  energyWh: Number(r.energy_wh), price: BigInt(r.price), gridFee: BigInt(r.grid_fee),
});

export async function tradesOfSlot(db: Queryable, communityId: string, slotStartMs: number): Promise<StoredTrade[]> {
  const rows = await db.query<TradeRow>(`SELECT ${TRADE_COLUMNS} FROM market_trades WHERE community_id = $1 AND slot_start = $2 ORDER BY position`,
    [communityId, new Date(slotStartMs)]);
  return rows.map(toTrade);
}

/** A member's trades as buyer or seller, newest slot first. */
export async function tradesOfMember(db: Queryable, communityId: string, memberId: string, fromMs: number, toMs: number): Promise<StoredTrade[]> {
  const rows = await db.query<TradeRow>(
    `SELECT ${TRADE_COLUMNS} FROM market_trades WHERE community_id = $1 AND (buyer_id = $2 OR seller_id = $2) AND slot_start >= $3 AND slot_start < $4
     ORDER BY slot_start DESC, position`,
    [communityId, memberId, new Date(fromMs), new Date(toMs)],
  );
  return rows.map(toTrade);
}

/** The trades of several slots, by slot and position. */
export async function tradesOfSlots(db: Queryable, communityId: string, startsMs: readonly number[]): Promise<StoredTrade[]> {
  const rows = await db.query<TradeRow>(
    `SELECT ${TRADE_COLUMNS} FROM market_trades WHERE community_id = $1 AND slot_start = ANY($2::timestamptz[]) ORDER BY slot_start, position`,
    [communityId, startsMs.map((ms) => new Date(ms))],
  );
  return rows.map(toTrade);
}

/** Marks these slots settled; the ones it marked (those settled already are left out, so a second run stops there). */
export async function markSettled(db: Queryable, communityId: string, startsMs: readonly number[], atMs: number): Promise<Set<number>> {
  const rows = await db.query<{ slot_start: Date }>(
    `UPDATE market_clearings SET settled_at = $3 WHERE community_id = $1 AND slot_start = ANY($2::timestamptz[]) AND settled_at IS NULL
     RETURNING slot_start`,
    [communityId, startsMs.map((ms) => new Date(ms)), new Date(atMs)],
  );
  return new Set(rows.map((r) => r.slot_start.getTime()));
}

/** Positions (1-based) of values in a list of the distinct ones: a statement's rows refer to uuids, instants and accounts by them. */
function positionsOf<T>(values: readonly T[]): { distinct: T[]; positions: number[] } {
  const index = new Map<T, number>();
  const positions = values.map((v) => {
    let k = index.get(v);
    if (k === undefined) index.set(v, (k = index.size + 1));
    return k;
  });
  return { distinct: [...index.keys()], positions };
}

/**
 * Stores the lines of one run (0: the settlement; 1, 2, …: corrections), of one slot or several,
 * as one row per slot: the run's lines in order as parallel arrays (migrations/0229), all slots in
 * one statement. A line names its trade by the trade's position in the slot (`trades`: the stored
 * trades of those slots), not by its two order ids, which were most of the row. A slot that has
 * this run already is refused by the primary key (the whole statement fails: a run is written
 * once, never merged into).
 */
export async function insertSettlementLines(
  db: Queryable, communityId: string, run: number, lines: readonly SettlementLine[], trades: readonly StoredTrade[],
): Promise<void> {
  if (lines.length === 0) return;
  const positionOf = new Map(trades.map((t) => [tradeKey(t.slotStartMs, t.buyOrderId, t.sellOrderId), t.position]));
  const tradeOf = (l: SettlementLine): number | null => {
    if (l.buyOrderId === undefined || l.sellOrderId === undefined) return null;
    const position = positionOf.get(tradeKey(l.slotStartMs, l.buyOrderId, l.sellOrderId));
    if (position === undefined) throw new Error(`settlement line of ${l.memberId} names a trade not stored in its slot (${l.buyOrderId} / ${l.sellOrderId})`);
    return position;
  };
  const bySlot = new Map<number, SettlementLine[]>();
  for (const line of lines) {
    const slot = bySlot.get(line.slotStartMs);
    if (slot) slot.push(line);
    else bySlot.set(line.slotStartMs, [line]);
  }
  // Each column of a slot travels as one comma-separated text ('-' for a line without a trade: an
  // empty item would make a one-line slot an empty array), split by the server: none of its values
  // holds a comma, and the driver's quoting of arrays, element by element, was much of the client's time.
  const params: unknown[] = [communityId, run];
  const list = (at: number, type: string) => `string_to_array($${at}, ',', '-')::${type}[]`;
  const rows = [...bySlot].map(([slotStartMs, slot]) => {
    const at = params.length;
    params.push(new Date(slotStartMs), slot.map((l) => l.memberId).join(), slot.map((l) => l.kind).join(), slot.map((l) => tradeOf(l) ?? '-').join(),
      slot.map((l) => l.energyWh).join(), slot.map((l) => l.price).join(), slot.map((l) => l.amount).join());
    return `($1, $${at + 1}::timestamptz, $2, ${list(at + 2, 'uuid')}, ${list(at + 3, 'text')}, ${list(at + 4, 'int4')}, ${list(at + 5, 'int8')}, `
      + `${list(at + 6, 'int8')}, ${list(at + 7, 'numeric')})`;
  });
  await db.query(
    `INSERT INTO market_settlement_runs (community_id, slot_start, run, member_ids, kinds, trades, energy_wh, prices, amounts)
     VALUES ${rows.join(', ')}`,
    params,
  );
}

/** A stored run as read back: its arrays as text (one parser on both stores), its trades' orders NULL where a line has no trade. */
interface RunRow {
  slot_start: Date;
  run: number;
  member_ids: string[];
  kinds: SettlementLineKind[];
  buy_order_ids: (string | null)[];
  sell_order_ids: (string | null)[];
  energy_wh: string[];
  prices: string[];
  amounts: string[];
}

/** The orders of a run's trades, element by element, from the slot's stored trades (NULL for a line without one). */
const ordersOfRun = (column: 'buy_order_id' | 'sell_order_id') =>
  `ARRAY(SELECT t.${column} FROM unnest(r.trades) WITH ORDINALITY AS u(position, k)
     LEFT JOIN market_trades t ON t.community_id = r.community_id AND t.slot_start = r.slot_start AND t.position = u.position ORDER BY u.k)`;

const RUN_COLUMNS = `r.slot_start, r.run, r.member_ids::text[] AS member_ids, r.kinds, ${ordersOfRun('buy_order_id')} AS buy_order_ids,
  ${ordersOfRun('sell_order_id')} AS sell_order_ids, r.energy_wh::text[] AS energy_wh, r.prices::text[] AS prices, r.amounts::text[] AS amounts`;

/** The quantities of a run's line `i`. */
const quantitiesAt = (r: Pick<RunRow, 'energy_wh' | 'prices' | 'amounts'>, i: number) =>
  ({ energyWh: Number(r.energy_wh[i]), price: BigInt(r.prices[i]!), amount: BigInt(r.amounts[i]!) });

/** A run's row as its lines, in order. */
function linesOfRun(r: RunRow): SettlementLine[] {
  const slotStartMs = r.slot_start.getTime();
  return r.member_ids.map((memberId, i) => ({
    memberId, slotStartMs, kind: r.kinds[i]!, buyOrderId: r.buy_order_ids[i] ?? undefined, sellOrderId: r.sell_order_ids[i] ?? undefined, ...quantitiesAt(r, i),
  }));
}

/** Every line of a slot, of every run, in order, and the last run (-1: none). */
export async function settlementLinesOfSlot(db: Queryable, communityId: string, slotStartMs: number): Promise<{ lines: SettlementLine[]; lastRun: number }> {
  const rows = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM market_settlement_runs r WHERE r.community_id = $1 AND r.slot_start = $2 ORDER BY r.run`,
    [communityId, new Date(slotStartMs)],
  );
  return {
    lines: rows.flatMap(linesOfRun),
    lastRun: rows.reduce((last, r) => Math.max(last, r.run), -1),
  };
}

/** A settlement line as the verifiable record names it: its trade by position among the slot's trades, not by its orders. */
export type PositionedLine = Omit<SettlementLine, 'buyOrderId' | 'sellOrderId'> & { readonly run: number; readonly tradePosition: number | undefined };

type PositionedRunRow = Omit<RunRow, 'buy_order_ids' | 'sell_order_ids'> & { trades: (number | null)[] };

/**
 * The lines of these slots up to run `run` (the settlement and its corrections so far), by slot,
 * run and order within the run, each with its run and its trade's stored position.
 */
export async function settlementLinesThroughRun(db: Queryable, communityId: string, startsMs: readonly number[], run: number): Promise<PositionedLine[]> {
  const rows = await db.query<PositionedRunRow>(
    `SELECT r.slot_start, r.run, r.member_ids::text[] AS member_ids, r.kinds, r.trades, r.energy_wh::text[] AS energy_wh, r.prices::text[] AS prices,
       r.amounts::text[] AS amounts
     FROM market_settlement_runs r
     WHERE r.community_id = $1 AND r.slot_start = ANY($2::timestamptz[]) AND r.run <= $3 ORDER BY r.slot_start, r.run`,
    [communityId, startsMs.map((ms) => new Date(ms)), run],
  );
  return rows.flatMap((r) => {
    const slotStartMs = r.slot_start.getTime();
    return r.member_ids.map((memberId, i) => ({ run: r.run, memberId, slotStartMs, kind: r.kinds[i]!, tradePosition: r.trades[i] ?? undefined, ...quantitiesAt(r, i) }));
  });
}

/** Of these slots, the ones settled already. */
export async function settledSlots(db: Queryable, communityId: string, startsMs: readonly number[]): Promise<StoredClearing[]> {
  const rows = await db.query<ClearingRow>(
    `SELECT ${CLEARING_COLUMNS} FROM market_clearings WHERE community_id = $1 AND slot_start = ANY($2::timestamptz[]) AND settled_at IS NOT NULL ORDER BY slot_start`,
    [communityId, startsMs.map((ms) => new Date(ms))],
  );
  return rows.map(toClearing);
}

/** Serialises the community's postings: held until the transaction ends. */
export async function lockLedger(db: Queryable, communityId: string): Promise<void> {
  await db.query("SELECT pg_advisory_xact_lock(hashtextextended('market-ledger:' || $1::text, 0))", [communityId]);
}

export async function nextPostingSequence(db: Queryable, communityId: string): Promise<number> {
  const rows = await db.query<{ next: number }>('SELECT coalesce(max(sequence), 0) + 1 AS next FROM market_postings WHERE community_id = $1', [communityId]);
  return Number(rows[0]!.next);
}

/** Appends postings and moves the accounts' balances by them (call under lockLedger, in one transaction). */
export async function appendPostings(db: Queryable, communityId: string, postings: readonly Posting[], deltas: ReadonlyMap<string, Nano>): Promise<void> {
  if (postings.length === 0) return;
  // Accounts and slots travel once each; the rows refer to them by position.
  const accounts = positionsOf(postings.flatMap((p) => [p.debit, p.credit]));
  const slots = positionsOf(postings.flatMap((p) => [p.slotStartMs ?? -1, p.slotEndMs ?? -1]));
  const slotAt = slots.distinct.map((ms) => (ms === -1 ? null : new Date(ms)));
  const times = positionsOf(postings.map((p) => p.atMs));
  const optional = <T>(value: T | undefined) => value ?? null;
  await db.query(
    `INSERT INTO market_postings (community_id, sequence, at, debit, credit, amount, kind, memo, slot_start, slot_end, lines, line, buy_order_id, sell_order_id,
       external_reference, corrects, dispute_id)
     SELECT $1, p.sequence, ($2::timestamptz[])[p.at], ($3::text[])[p.debit], ($3::text[])[p.credit], p.amount::numeric, p.kind, p.memo,
       ($4::timestamptz[])[p.slot], ($4::timestamptz[])[p.slot_end], p.lines, p.line, p.buy, p.sell, p.ref, p.corrects, p.dispute
     FROM unnest($5::int4[], $6::int4[], $7::int4[], $8::int4[], $9::text[], $10::text[], $11::text[], $12::int4[], $13::int4[], $14::int4[], $15::text[],
       $16::text[], $17::text[], $18::text[], $19::int4[], $20::uuid[])
       AS p(sequence, at, debit, credit, amount, kind, memo, slot, slot_end, lines, line, buy, sell, ref, corrects, dispute)`,
    [communityId, times.distinct.map((ms) => new Date(ms)), accounts.distinct, slotAt,
      postings.map((p) => p.sequence), times.positions, accounts.positions.filter((_, k) => k % 2 === 0), accounts.positions.filter((_, k) => k % 2 === 1),
      postings.map((p) => p.amount.toString()), postings.map((p) => p.kind), postings.map((p) => p.memo),
      slots.positions.filter((_, k) => k % 2 === 0), slots.positions.filter((_, k) => k % 2 === 1), postings.map((p) => optional(p.lines)),
      postings.map((p) => optional(p.line)), postings.map((p) => optional(p.buyOrderId)), postings.map((p) => optional(p.sellOrderId)),
      postings.map((p) => optional(p.externalReference)), postings.map((p) => optional(p.corrects)), postings.map((p) => optional(p.disputeId))],
  );
  await db.query(
    `INSERT INTO market_accounts (community_id, account, balance)
     SELECT $1, a, d::numeric FROM unnest($2::text[], $3::text[]) AS u(a, d)
     ON CONFLICT (community_id, account) DO UPDATE SET balance = market_accounts.balance + EXCLUDED.balance`,
    [communityId, [...deltas.keys()], [...deltas.values()].map((d) => d.toString())],
  );
}

/** Σ of the community's balances: zero, always (checked in every transaction that posts). */
export async function balanceSum(db: Queryable, communityId: string): Promise<Nano> {
  const rows = await db.query<{ sum: string }>('SELECT coalesce(sum(balance), 0)::text AS sum FROM market_accounts WHERE community_id = $1', [communityId]);
  return BigInt(rows[0]!.sum);
}

/** How many accounts' stored balances differ from their postings replayed (0: none drifted). */
export async function driftedAccounts(db: Queryable, communityId: string): Promise<number> {
  const rows = await db.query<{ drifted: string }>(
    `WITH moved AS (
       SELECT account, sum(amount) AS balance FROM (
         SELECT credit AS account, amount FROM market_postings WHERE community_id = $1
         UNION ALL SELECT debit, -amount FROM market_postings WHERE community_id = $1) m GROUP BY account),
     stored AS (SELECT account, balance FROM market_accounts WHERE community_id = $1)
     SELECT count(*)::text AS drifted FROM stored FULL JOIN moved USING (account)
     WHERE coalesce(stored.balance, 0) <> coalesce(moved.balance, 0)`,
    [communityId],
  );
  return Number(rows[0]!.drifted);
}

export async function accountBalances(db: Queryable, communityId: string): Promise<Map<string, Nano>> {
  const rows = await db.query<{ account: string; balance: string }>(
    'SELECT account, balance::text FROM market_accounts WHERE community_id = $1 ORDER BY account', [communityId]);
  return new Map(rows.map((r) => [r.account, BigInt(r.balance)]));
}

interface PostingRow {
  sequence: number;
  at: Date;
  debit: string;
  credit: string;
  amount: string;
  kind: Posting['kind'];
  memo: string;
  slot_start: Date | null;
  slot_end: Date | null;
  lines: number | null;
  line: SettlementLineKind | null;
  buy_order_id: string | null;
  sell_order_id: string | null;
  external_reference: string | null;
  corrects: number | null;
  dispute_id: string | null;
}

const POSTING_COLUMNS = 'sequence, at, debit, credit, amount::text, kind, memo, slot_start, slot_end, lines, line, buy_order_id, sell_order_id, external_reference, corrects, dispute_id';

const toPosting = (r: PostingRow): Posting => ({
  sequence: r.sequence, atMs: r.at.getTime(), debit: r.debit, credit: r.credit, amount: BigInt(r.amount), kind: r.kind, memo: r.memo,
  slotStartMs: r.slot_start?.getTime(), slotEndMs: r.slot_end?.getTime(), lines: r.lines ?? undefined, line: r.line ?? undefined, buyOrderId: r.buy_order_id ?? undefined, sellOrderId: r.sell_order_id ?? undefined,
  externalReference: r.external_reference ?? undefined, corrects: r.corrects ?? undefined, disputeId: r.dispute_id ?? undefined,
});

/** The postings of one wallet account (`wallet:<member>`), newest first (at most `limit`): through the wallet-only indexes (migration 0197). */
export async function postingsOfWallet(db: Queryable, communityId: string, account: string, limit: number): Promise<Posting[]> {
  const rows = await db.query<PostingRow>(
    `SELECT ${POSTING_COLUMNS} FROM market_postings WHERE community_id = $1
       AND ((debit = $2 AND debit LIKE 'wallet:%') OR (credit = $2 AND credit LIKE 'wallet:%')) ORDER BY sequence DESC LIMIT $3`,
    [communityId, account, limit],
  );
  return rows.map(toPosting);
}

/** Postings by their sequence numbers (those that exist), in sequence order. */
export async function postingsBySequence(db: Queryable, communityId: string, sequences: readonly number[]): Promise<Posting[]> {
  if (sequences.length === 0) return [];
  const rows = await db.query<PostingRow>(
    `SELECT ${POSTING_COLUMNS} FROM market_postings WHERE community_id = $1 AND sequence = ANY($2::int4[]) ORDER BY sequence`,
    [communityId, [...sequences]],
  );
  return rows.map(toPosting);
}

/** The postings numbered first … last (inclusive), in sequence order. */
export async function postingsBetween(db: Queryable, communityId: string, first: number, last: number): Promise<Posting[]> {
  const rows = await db.query<PostingRow>(
    `SELECT ${POSTING_COLUMNS} FROM market_postings WHERE community_id = $1 AND sequence BETWEEN $2 AND $3 ORDER BY sequence`,
    [communityId, first, last],
  );
  return rows.map(toPosting);
}

/** What dispute corrections have credited back along a posting so far (nano). */
export async function correctedSoFar(db: Queryable, communityId: string, sequence: number): Promise<Nano> {
  const rows = await db.query<{ sum: string }>(
    "SELECT coalesce(sum(amount), 0)::text AS sum FROM market_postings WHERE community_id = $1 AND corrects = $2 AND kind = 'dispute-correction'",
    [communityId, sequence],
  );
  return BigInt(rows[0]!.sum);
}

export interface StoredDispute extends Dispute {
  readonly communityId: string;
  /** The correcting posting (corrected disputes). */
  readonly correction: number | undefined;
}

interface DisputeRow {
  community_id: string;
  id: string;
  member_id: string;
  posting: number;
  reason: string;
  opened_at: Date;
  outcome: 'rejected' | 'corrected' | null;
  note: string | null;
  resolved_at: Date | null;
  amount: string | null;
  correction: number | null;
}

const DISPUTE_COLUMNS = 'community_id, id, member_id, posting, reason, opened_at, outcome, note, resolved_at, amount::text, correction';

const toDispute = (r: DisputeRow): StoredDispute => ({
  communityId: r.community_id, id: r.id, memberId: r.member_id, posting: r.posting, reason: r.reason, openedAtMs: r.opened_at.getTime(),
  correction: r.correction ?? undefined,
  resolution: r.outcome === null || r.resolved_at === null
    ? undefined
    : { outcome: r.outcome, note: r.note ?? '', atMs: r.resolved_at.getTime(), amount: big(r.amount) },
});

/** Stores a new dispute; false when the posting has an open one already. */
export async function insertDispute(db: Queryable, communityId: string, d: Dispute): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO market_disputes (community_id, id, member_id, posting, reason, opened_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (community_id, posting) WHERE resolved_at IS NULL DO NOTHING RETURNING id`,
    [communityId, d.id, d.memberId, d.posting, d.reason, new Date(d.openedAtMs)],
  );
  return rows.length > 0;
}

export async function disputeById(db: Queryable, id: string): Promise<StoredDispute | undefined> {
  const rows = await db.query<DisputeRow>(`SELECT ${DISPUTE_COLUMNS} FROM market_disputes WHERE id = $1`, [id]);
  return rows[0] && toDispute(rows[0]);
}

/** A community's disputes (or one member's), open ones first, then newest first; at most `limit`. */
export async function disputesOf(db: Queryable, communityId: string, filter: { memberId?: string; open?: boolean }, limit: number): Promise<StoredDispute[]> {
  const rows = await db.query<DisputeRow>(
    `SELECT ${DISPUTE_COLUMNS} FROM market_disputes WHERE community_id = $1 AND ($2::uuid IS NULL OR member_id = $2)
       AND ($3::boolean IS NULL OR (resolved_at IS NULL) = $3)
     ORDER BY resolved_at IS NULL DESC, opened_at DESC, id LIMIT $4`,
    [communityId, filter.memberId ?? null, filter.open ?? null, limit],
  );
  return rows.map(toDispute);
}

/** Records a dispute's resolution; false when it was resolved already (the caller's transaction then rolls back). */
export async function resolveStoredDispute(db: Queryable, id: string, resolution: DisputeResolution, correction: number | undefined): Promise<boolean> {
  const rows = await db.query(
    `UPDATE market_disputes SET outcome = $2, note = $3, resolved_at = $4, amount = $5, correction = $6 WHERE id = $1 AND resolved_at IS NULL RETURNING id`,
    [id, resolution.outcome, resolution.note, new Date(resolution.atMs), text(resolution.amount), correction ?? null],
  );
  return rows.length > 0;
}

export type PayoutState = 'requested' | 'confirmed' | 'cancelled';

export interface StoredPayout {
  readonly communityId: string;
  readonly id: string;
  readonly memberId: string;
  readonly period: string;
  readonly amount: Nano;
  readonly requestedAtMs: number;
  readonly state: PayoutState;
  readonly decidedAtMs: number | undefined;
  readonly reference: string | undefined;
  readonly posting: number | undefined;
}

interface PayoutRow {
  community_id: string;
  id: string;
  member_id: string;
  period: string;
  amount: string;
  requested_at: Date;
  state: PayoutState;
  decided_at: Date | null;
  reference: string | null;
  posting: number | null;
}

const PAYOUT_COLUMNS = 'community_id, id, member_id, period, amount::text, requested_at, state, decided_at, reference, posting';

const toPayout = (r: PayoutRow): StoredPayout => ({
  communityId: r.community_id, id: r.id, memberId: r.member_id, period: r.period, amount: BigInt(r.amount), requestedAtMs: r.requested_at.getTime(),
  state: r.state, decidedAtMs: r.decided_at?.getTime(), reference: r.reference ?? undefined, posting: r.posting ?? undefined,
});

/** The members asked for a payout in this period already (whatever became of it). */
export async function payoutMembersOfPeriod(db: Queryable, communityId: string, period: string): Promise<Set<string>> {
  const rows = await db.query<{ member_id: string }>('SELECT member_id FROM market_payouts WHERE community_id = $1 AND period = $2', [communityId, period]);
  return new Set(rows.map((r) => r.member_id));
}

/** Σ of each member's top-ups (nano): their own money in the wallet, which payouts leave alone. */
export async function topUpsByMember(db: Queryable, communityId: string): Promise<Map<string, Nano>> {
  const rows = await db.query<{ credit: string; amount: string }>(
    "SELECT credit, sum(amount)::text AS amount FROM market_postings WHERE community_id = $1 AND kind = 'top-up' GROUP BY credit", [communityId]);
  return new Map(rows.flatMap((r) => {
    const memberId = walletMember(r.credit);
    return memberId === undefined ? [] : [[memberId, BigInt(r.amount)] as const];
  }));
}

/** Stores payout requests of a period; one already there for the member and period is left as it was. The new ones. */
export async function insertPayoutRequests<R extends { id: string; memberId: string; amount: Nano }>(
  db: Queryable, communityId: string, period: string, requests: readonly R[], atMs: number,
): Promise<R[]> {
  if (requests.length === 0) return [];
  const rows = await db.query<{ id: string }>(
    `INSERT INTO market_payouts (community_id, id, member_id, period, amount, requested_at, state)
     SELECT $1, r.id, r.member, $2, r.amount, $3, 'requested' FROM jsonb_to_recordset($4::jsonb) AS r(id uuid, member uuid, amount numeric)
     ON CONFLICT (community_id, member_id, period) DO NOTHING RETURNING id`,
    [communityId, period, new Date(atMs), JSON.stringify(requests.map((r) => ({ id: r.id, member: r.memberId, amount: r.amount.toString() })))],
  );
  const inserted = new Set(rows.map((r) => r.id));
  return requests.filter((r) => inserted.has(r.id));
}

export async function payoutById(db: Queryable, id: string): Promise<StoredPayout | undefined> {
  const rows = await db.query<PayoutRow>(`SELECT ${PAYOUT_COLUMNS} FROM market_payouts WHERE id = $1`, [id]);
  return rows[0] && toPayout(rows[0]);
}

/** A community's payouts, requested ones first, then newest first; at most `limit`. */
export async function payoutsOf(db: Queryable, communityId: string, limit: number): Promise<StoredPayout[]> {
  const rows = await db.query<PayoutRow>(
    `SELECT ${PAYOUT_COLUMNS} FROM market_payouts WHERE community_id = $1 ORDER BY state = 'requested' DESC, requested_at DESC, id LIMIT $2`,
    [communityId, limit],
  );
  return rows.map(toPayout);
}

/** Confirms or cancels a requested payout; false when it was decided already. */
export async function decidePayout(
  db: Queryable, id: string, decision: { state: 'confirmed' | 'cancelled'; atMs: number; reference: string; posting: number | undefined },
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE market_payouts SET state = $2, decided_at = $3, reference = $4, posting = $5 WHERE id = $1 AND state = 'requested' RETURNING id`,
    [id, decision.state, new Date(decision.atMs), decision.reference, decision.posting ?? null],
  );
  return rows.length > 0;
}

/**
 * A period's statement figures: settlement lines summed per member, kind and settlement/correction;
 * the slots each member traded in (run 0); dispute corrections summed per account pair.
 */
export async function statementRows(db: Queryable, communityId: string, fromMs: number, toMs: number) {
  const range = [communityId, new Date(fromMs), new Date(toMs)];
  // The lines are unnested in SQL (only the columns summed: the order ids are never read here), so
  // a month's ≈ 900,000 lines reach this process as a few hundred sums.
  const sums = await db.query<{ member_id: string; kind: SettlementLineKind; correction: boolean; energy_wh: string; amount: string; count: number }>(
    `SELECT l.member_id, l.kind, r.run > 0 AS correction, sum(l.energy_wh)::text AS energy_wh, sum(l.amount)::text AS amount,
       count(DISTINCT r.slot_start)::int4 AS count
     FROM market_settlement_runs r, unnest(r.member_ids, r.kinds, r.energy_wh, r.amounts) AS l(member_id, kind, energy_wh, amount)
     WHERE r.community_id = $1 AND r.slot_start >= $2 AND r.slot_start < $3
     GROUP BY l.member_id, l.kind, r.run > 0`,
    range,
  );
  const slots = await db.query<{ member_id: string; slot_start: Date }>(
    `SELECT DISTINCT m.member_id, r.slot_start FROM market_settlement_runs r, unnest(r.member_ids) AS m(member_id)
     WHERE r.community_id = $1 AND r.slot_start >= $2 AND r.slot_start < $3 AND r.run = 0 ORDER BY m.member_id, r.slot_start`,
    range,
  );
  // A dispute's correction moves money into (or, never so far, out of) one wallet; the other side is a community account.
  const disputes = await db.query<{ debit: string; credit: string; amount: string; count: number }>(
    `SELECT debit, credit, sum(amount)::text AS amount, count(*)::int4 AS count FROM market_postings
     WHERE community_id = $1 AND at >= $2 AND at < $3 AND kind = 'dispute-correction' GROUP BY debit, credit`,
    range,
  );
  return { sums, slots, disputes };
}

export interface DepthLevel {
  readonly side: Side;
  /** Bids: the price the bid can pay the seller (its limit less the grid fee); offers: their price. */
  readonly price: MicroPrice;
  readonly energyWh: number;
  /** Σ energy at this price and better: bids from the highest down, offers from the lowest up. */
  readonly cumulativeWh: number;
}

/**
 * The depth of a cleared slot's book: the orders that entered its clearing (neither withdrawn nor
 * refused) summed per side and price, with the running totals of the demand and supply curves.
 */
export async function bookDepth(db: Queryable, communityId: string, slotStartMs: number, gridFee: MicroPrice, refused: readonly string[]): Promise<DepthLevel[]> {
  const rows = await db.query<{ side: Side; price: string; energy_wh: string; cumulative_wh: string }>(
    `WITH levels AS (
       SELECT side, CASE side WHEN 'buy' THEN price - $3::int8 ELSE price END AS price, sum(energy_wh) AS energy_wh
       FROM market_orders WHERE community_id = $1 AND slot_start = $2 AND withdrawn_at IS NULL AND NOT (id = ANY($4::text[]))
       GROUP BY 1, 2)
     SELECT side, price::text, energy_wh::text,
       sum(energy_wh) OVER (PARTITION BY side ORDER BY CASE side WHEN 'buy' THEN -price ELSE price END)::text AS cumulative_wh
     FROM levels ORDER BY side, CASE side WHEN 'buy' THEN -price ELSE price END`,
    [communityId, new Date(slotStartMs), gridFee.toString(), [...refused]],
  );
  return rows.map((r) => ({ side: r.side, price: BigInt(r.price), energyWh: Number(r.energy_wh), cumulativeWh: Number(r.cumulative_wh) }));
}

export interface MarketTotals {
  /** Slots cleared in the period, and of those the ones with trades. */
  readonly slots: number;
  readonly tradedSlots: number;
  readonly trades: number;
  readonly volumeWh: bigint;
  readonly welfare: Nano;
  readonly gridFees: Nano;
  /** Σ energy × price of the trades (nano): the value traded, for the volume-weighted price. */
  readonly value: Nano;
  readonly minPrice: MicroPrice | undefined;
  readonly maxPrice: MicroPrice | undefined;
}

/** The market's totals over the slots starting in [fromMs, toMs): clearings and trades summed in SQL. */
export async function marketTotals(db: Queryable, communityId: string, fromMs: number, toMs: number): Promise<MarketTotals> {
  const range = [communityId, new Date(fromMs), new Date(toMs)];
  const clearings = await db.query<{ slots: number; traded: number; volume: string; welfare: string; fees: string }>(
    `SELECT count(*)::int4 AS slots, (count(*) FILTER (WHERE volume_wh > 0))::int4 AS traded, coalesce(sum(volume_wh), 0)::text AS volume,
       coalesce(sum(welfare), 0)::text AS welfare, coalesce(sum(grid_fees), 0)::text AS fees
     FROM market_clearings WHERE community_id = $1 AND slot_start >= $2 AND slot_start < $3`,
    range,
  );
  const trades = await db.query<{ trades: number; value: string; min: string | null; max: string | null }>(
    `SELECT count(*)::int4 AS trades, coalesce(sum(energy_wh::numeric * price), 0)::text AS value, min(price)::text AS min, max(price)::text AS max
     FROM market_trades WHERE community_id = $1 AND slot_start >= $2 AND slot_start < $3`,
    range,
  );
  const c = clearings[0]!;
  const t = trades[0]!;
  return {
    slots: c.slots, tradedSlots: c.traded, trades: t.trades, volumeWh: BigInt(c.volume), welfare: BigInt(c.welfare), gridFees: BigInt(c.fees),
    value: BigInt(t.value), minPrice: big(t.min), maxPrice: big(t.max),
  };
}
