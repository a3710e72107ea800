import fc from 'fast-check';
import { parseMarketPrice, PRICE_STEP, type ClearingOrder, type CommunityPricing, type Side } from '../../src/market/domain/index.js';

export const T0 = Date.UTC(2025, 5, 1, 8, 0);

/** "0.18" → micro-price, failing loudly on a typo in a test. */
export function price(text: string): bigint {
  const value = parseMarketPrice(text);
  if (value === undefined) throw new Error(`bad test price ${text}`);
  return value;
}

/** A test order: `order('B1', 'alice', 'buy', 300, '0.20', 1)` (last: minutes after T0). */
export function order(id: string, memberId: string, side: Side, energyWh: number, priceText: string, minute: number): ClearingOrder {
  return { id, memberId, side, energyWh, price: price(priceText), submittedAtMs: T0 + minute * 60_000 };
}

/** The book of the worked examples in the README. */
export const EXAMPLE_BOOK: readonly ClearingOrder[] = [
  order('S1', 'dave', 'sell', 250, '0.12', 1),
  order('B1', 'alice', 'buy', 300, '0.20', 2),
  order('S2', 'erin', 'sell', 200, '0.15', 3),
  order('B2', 'bob', 'buy', 200, '0.18', 4),
  order('S3', 'frank', 'sell', 100, '0.19', 5),
  order('B3', 'carol', 'buy', 100, '0.10', 6),
];

const FEE_TICKS = 300;

/**
 * Random books of up to 60 orders from `members` members, with many equal prices and submission
 * times so that the tie-breaks are exercised. Bids sit a fee higher so they stay admissible with
 * the fee of `pricings`.
 */
export const books = (members = 6) => fc.array(
  fc.record({
    member: fc.integer({ min: 0, max: members - 1 }),
    buy: fc.boolean(),
    energyWh: fc.integer({ min: 1, max: 5_000 }),
    ticks: fc.integer({ min: 0, max: 40 }),
    minute: fc.integer({ min: 0, max: 10 }),
  }),
  { maxLength: 60 },
).map((rows) => rows.map((r, i): ClearingOrder => ({
  id: `o${(i * 7919) % 1000}-${i}`,
  memberId: `m${r.member}`,
  side: r.buy ? 'buy' : 'sell',
  energyWh: r.energyWh,
  price: BigInt(r.ticks * 50 + (r.buy ? FEE_TICKS : 0)) * PRICE_STEP,
  submittedAtMs: T0 + r.minute * 60_000,
})));

export const pricings = fc.constantFrom<CommunityPricing>({ gridFee: 0n }, { gridFee: BigInt(FEE_TICKS) * PRICE_STEP });
