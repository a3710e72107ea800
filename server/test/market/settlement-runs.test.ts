import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../src/platform/store/db.js';
import { loadMigrations, migrate } from '../../src/platform/store/migrate.js';
import { insertClearing, insertSettlementLines, settlementLinesOfSlot, settlementLinesThroughRun, statementRows, type StoredTrade } from '../../src/market/store.js';
import type { SettlementLine } from '../../src/market/domain/settlement.js';
import { createMigratedTestDatabase, createTestDatabase, storeKinds, type TestDatabase } from '../support/stores.js';
import { Q, T0 } from './operation-support.js';

/**
 * Settlement lines stored as one row of arrays per slot and run (migrations/0229): what the store
 * reads back is every line, in order, with its run; a run is written once; and the migration
 * carries the one-row-per-line table's rows over.
 */

const SELLER = '11111111-1111-4111-8111-111111111111';
const BUYER = '22222222-2222-4222-8222-222222222222';
const S = T0;

const line = (slotStartMs: number, memberId: string, kind: SettlementLine['kind'], energyWh: number, price: bigint, amount: bigint, trade?: [string, string]): SettlementLine => ({
  memberId, slotStartMs, kind, energyWh, price, amount, buyOrderId: trade?.[0], sellOrderId: trade?.[1],
});

const TRADE: [string, string] = ['buy-1', 'sell-1'];
// S's one trade, stored with its clearing: lines name it by its position there.
const TRADE_OF_S = { buyOrderId: TRADE[0], sellOrderId: TRADE[1], buyerId: BUYER, sellerId: SELLER, energyWh: 1000, price: 120_000n, gridFee: 10_000n };
const TRADES: StoredTrade[] = [{ ...TRADE_OF_S, slotStartMs: S, position: 0 }];
// Run 0 of S: a trade of 1,000 Wh at 0.12 with its grid fee, and both members balanced.
const SETTLEMENT = [
  line(S, SELLER, 'sale', 1000, 120_000n, 120_000_000n, TRADE),
  line(S, BUYER, 'purchase', 1000, 120_000n, -120_000_000n, TRADE),
  line(S, BUYER, 'grid-fee', 1000, 10_000n, -10_000_000n, TRADE),
  line(S, SELLER, 'balancing-surplus', 40, 60_000n, 2_400_000n),
  line(S, BUYER, 'balancing-shortfall', 25, 280_000n, -7_000_000n),
];
// Runs 1 and 2 of S: late data took 40 Wh of the seller's surplus back, then gave 10 back.
const FIRST_CORRECTION = [line(S, SELLER, 'balancing-surplus', -40, 60_000n, -2_400_000n)];
// An amount beyond int8 (energy × price can exceed it): kept exactly.
const SECOND_CORRECTION = [
  line(S, SELLER, 'balancing-surplus', 10, 60_000n, 600_000n),
  line(S, BUYER, 'balancing-shortfall', 1, 280_000n, -12_345_678_901_234_567_890_123n),
];
// S + Q: one line, settled in the same statement as S.
const NEXT = [line(S + Q, SELLER, 'balancing-surplus', 5, 60_000n, 300_000n)];

// As the record reads them: with their run, and their trade by its position among the slot's trades (S's one trade: 0).
const withRun = (run: number, lines: readonly SettlementLine[]) =>
  lines.map(({ buyOrderId, sellOrderId: _sell, ...l }) => ({ ...l, run, tradePosition: buyOrderId === undefined ? undefined : 0 }));

async function communityWithClearings(db: Db, slots: readonly number[]): Promise<string> {
  const [community] = await db.query<{ id: string }>(`INSERT INTO communities (name, time_zone, currency) VALUES ('Runs', 'Europe/Vienna', 'EUR') RETURNING id`);
  for (const slotStartMs of slots) {
    await insertClearing(db, community!.id, {
      slotStartMs, mechanism: 'uniform', clearingPrice: 120_000n, volumeWh: 1000, welfare: 0n, gridFees: 10_000_000n, gridFee: 10_000n,
      orders: 2, refused: [], clearedAtMs: slotStartMs - 5 * 60_000,
    }, slotStartMs === S ? [TRADE_OF_S] : []);
  }
  return community!.id;
}

describe.each(storeKinds)('settlement runs on %s', (kind) => {
  let database: TestDatabase;
  let db: Db;
  let communityId: string;

  beforeAll(async () => {
    database = await createMigratedTestDatabase(kind);
    db = await openDb(database.config);
    await migrate(db);
    communityId = await communityWithClearings(db, [S, S + Q, S + 2 * Q]);
    await insertSettlementLines(db, communityId, 0, [...SETTLEMENT, ...NEXT], TRADES);
    await insertSettlementLines(db, communityId, 1, FIRST_CORRECTION, TRADES);
    await insertSettlementLines(db, communityId, 2, SECOND_CORRECTION, TRADES);
  }, 180_000);
  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('reads a slot settled and corrected twice back line by line, in order, with the last run', async () => {
    expect(await settlementLinesOfSlot(db, communityId, S)).toEqual({ lines: [...SETTLEMENT, ...FIRST_CORRECTION, ...SECOND_CORRECTION], lastRun: 2 });
    expect(await settlementLinesOfSlot(db, communityId, S + Q)).toEqual({ lines: NEXT, lastRun: 0 });
    expect(await settlementLinesOfSlot(db, communityId, S + 2 * Q)).toEqual({ lines: [], lastRun: -1 });
  });

  it('reads the lines of several slots through a run, each with its run', async () => {
    expect(await settlementLinesThroughRun(db, communityId, [S + Q, S], 1)).toEqual([
      ...withRun(0, SETTLEMENT), ...withRun(1, FIRST_CORRECTION), ...withRun(0, NEXT),
    ]);
    expect(await settlementLinesThroughRun(db, communityId, [S], 0)).toEqual(withRun(0, SETTLEMENT));
    expect(await settlementLinesThroughRun(db, communityId, [S + 2 * Q], 5)).toEqual([]);
  });

  it('refuses a run stored twice for a slot, for the whole statement, and keeps the first', async () => {
    const again = line(S, SELLER, 'sale', 1, 1n, 1n, TRADE);
    await expect(insertSettlementLines(db, communityId, 1, [again], TRADES)).rejects.toThrow(/duplicate key|unique/i);
    // S + 2Q's new run 1 goes with S's duplicate in one statement: neither is stored.
    await expect(insertSettlementLines(db, communityId, 1, [line(S + 2 * Q, SELLER, 'balancing-surplus', 1, 1n, 1n), again], TRADES)).rejects.toThrow(/duplicate key|unique/i);
    expect(await settlementLinesOfSlot(db, communityId, S + 2 * Q)).toEqual({ lines: [], lastRun: -1 });
    expect((await settlementLinesOfSlot(db, communityId, S)).lines).toHaveLength(SETTLEMENT.length + FIRST_CORRECTION.length + SECOND_CORRECTION.length);
  });

  it('refuses an unknown kind, a slot never cleared, and a negative run; stores nothing for no lines', async () => {
    const bad = { ...line(S + 2 * Q, SELLER, 'sale', 1, 1n, 1n), kind: 'gift' } as unknown as SettlementLine;
    await expect(insertSettlementLines(db, communityId, 0, [bad], TRADES)).rejects.toThrow(/check constraint/i);
    await expect(insertSettlementLines(db, communityId, 0, [line(S + 9 * Q, SELLER, 'sale', 1, 1n, 1n)], TRADES)).rejects.toThrow(/foreign key/i);
    await expect(insertSettlementLines(db, communityId, -1, [line(S + 2 * Q, SELLER, 'sale', 1, 1n, 1n)], TRADES)).rejects.toThrow(/check constraint/i);
    await insertSettlementLines(db, communityId, 0, [], TRADES);
    expect(await settlementLinesOfSlot(db, communityId, S + 2 * Q)).toEqual({ lines: [], lastRun: -1 });
  });

  it('stores a trade line by its trade\'s position, and refuses one naming a trade its slot does not have', async () => {
    const [row] = await db.query<{ trades: (number | null)[] }>(
      'SELECT trades FROM market_settlement_runs WHERE community_id = $1 AND slot_start = $2 AND run = 0', [communityId, new Date(S)]);
    expect(row!.trades).toEqual([0, 0, 0, null, null]);
    const stranger = line(S + 2 * Q, SELLER, 'sale', 1, 1n, 1n, TRADE);
    await expect(insertSettlementLines(db, communityId, 0, [stranger], TRADES)).rejects.toThrow(/names a trade not stored in its slot \(buy-1 \/ sell-1\)/);
    expect(await settlementLinesOfSlot(db, communityId, S + 2 * Q)).toEqual({ lines: [], lastRun: -1 });
  });

  it('sums a period\'s lines per member, kind and settlement or correction, with the slots each member traded in', async () => {
    const { sums, slots } = await statementRows(db, communityId, S, S + 2 * Q);
    const byKey = Object.fromEntries(sums.map((s) => [`${s.member_id}/${s.kind}/${s.correction}`, [s.energy_wh, s.amount, s.count]]));
    expect(byKey).toEqual({
      [`${SELLER}/sale/false`]: ['1000', '120000000', 1],
      [`${SELLER}/balancing-surplus/false`]: ['45', '2700000', 2],
      [`${SELLER}/balancing-surplus/true`]: ['-30', '-1800000', 1],
      [`${BUYER}/purchase/false`]: ['1000', '-120000000', 1],
      [`${BUYER}/grid-fee/false`]: ['1000', '-10000000', 1],
      [`${BUYER}/balancing-shortfall/false`]: ['25', '-7000000', 1],
      [`${BUYER}/balancing-shortfall/true`]: ['1', '-12345678901234567890123', 1],
    });
    expect(slots.map((s) => [s.member_id, s.slot_start.getTime()])).toEqual([[SELLER, S], [SELLER, S + Q], [BUYER, S]]);
    // The period's end is excluded, its start included.
    expect((await statementRows(db, communityId, S + Q, S + 2 * Q)).slots.map((s) => s.member_id)).toEqual([SELLER]);
  });
});

describe.each(storeKinds)('migration 0229 on %s', (kind) => {
  it('carries the one-row-per-line table over, each slot\'s runs in position order, and drops it', async () => {
    const database = await createTestDatabase(kind);
    const db = await openDb(database.config);
    try {
      const all = loadMigrations();
      await migrate(db, all.filter((m) => m.version < '0229'));
      const communityId = await communityWithClearings(db, [S, S + Q]);
      const old = [
        ...SETTLEMENT.map((l, position) => ({ ...l, position, run: 0 })),
        ...FIRST_CORRECTION.map((l, k) => ({ ...l, position: SETTLEMENT.length + k, run: 1 })),
        ...SECOND_CORRECTION.map((l, k) => ({ ...l, position: SETTLEMENT.length + FIRST_CORRECTION.length + k, run: 2 })),
        ...NEXT.map((l, position) => ({ ...l, position, run: 0 })),
      ];
      // Inserted in reverse: the migration orders by position, not by how the rows happen to lie.
      for (const l of [...old].reverse()) {
        await db.query(
          `INSERT INTO market_settlement_lines (community_id, slot_start, position, run, member_id, kind, buy_order_id, sell_order_id, energy_wh, price, amount)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [communityId, new Date(l.slotStartMs), l.position, l.run, l.memberId, l.kind, l.buyOrderId ?? null, l.sellOrderId ?? null, l.energyWh,
            l.price.toString(), l.amount.toString()]);
      }
      expect(await migrate(db, all.filter((m) => m.version <= '0229'))).toEqual(['market/0229_market_settlement_runs.sql']);
      expect(await settlementLinesOfSlot(db, communityId, S)).toEqual({ lines: [...SETTLEMENT, ...FIRST_CORRECTION, ...SECOND_CORRECTION], lastRun: 2 });
      expect(await settlementLinesOfSlot(db, communityId, S + Q)).toEqual({ lines: NEXT, lastRun: 0 });
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM market_settlement_runs WHERE community_id = $1', [communityId]))[0]!.n).toBe(4);
      expect(await db.query(`SELECT 1 FROM pg_class WHERE relname = 'market_settlement_lines'`)).toEqual([]);
    } finally {
      await db.close();
      await database.drop();
    }
  }, 180_000);
});
