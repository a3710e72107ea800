/**
 * Property tests of settlement and the wallets' ledger (fast-check):
 * - a settlement plus its correction nets to the settlement of the corrected data, line by line;
 * - a day's settlement postings (one per member and line kind) pay each member exactly Σ of their lines;
 * - every line is its energy × price, each member's position is metered − traded, the trade
 *   lines net to zero across members;
 * - Σ of all accounts is zero after any sequence of operations (top-ups, settlements,
 *   corrections, payouts, disputes, refused operations), the balances equal a replay of the
 *   postings, and a refused operation changes nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  COMMUNITY_ACCOUNTS, clearSlot, confirmPayout, correctSettlement, duePayouts, EMPTY_LEDGER, netLines,
  openDispute, post, replayPostings, resolveDispute, settlementPostings, settleSlot, sumOfBalances, topUp, walletMember,
  type BalancingPrices, type LedgerState, type MeteredNet, type Posting, type PostingDraft, type SlotSettlement, type Trade,
} from '../../src/market/domain/index.js';
import { books, pricings, T0 } from './support.js';

const MEMBERS = 6;
const SLOT_MS = 900_000;

const meterings = fc.array(
  fc.record({ netWh: fc.integer({ min: -6_000, max: 6_000 }), estimated: fc.boolean() }),
  { minLength: MEMBERS, maxLength: MEMBERS },
).map((rows) => rows.map((r, i): MeteredNet => ({ memberId: `m${i}`, netWh: r.netWh, quality: r.estimated ? 'estimated' : 'measured' })));

// Balancing prices in micro-units: tariffs may carry 6 places.
const balancings = fc.record({
  surplusPrice: fc.bigInt({ min: 0n, max: 400_000n }),
  shortfallPrice: fc.bigInt({ min: 0n, max: 600_000n }),
}) satisfies fc.Arbitrary<BalancingPrices>;

const slots = fc.record({
  orders: books(MEMBERS),
  pricing: pricings,
  mechanism: fc.constantFrom('uniform', 'pay-as-bid'),
  metered: meterings,
  balancing: balancings,
});

const tradesOf = (s: { orders: Parameters<typeof clearSlot>[1]; pricing: Parameters<typeof clearSlot>[2]; mechanism: string }): readonly Trade[] =>
  clearSlot(s.mechanism, s.orders, s.pricing).trades;

describe('settlement properties', () => {
  it('a settlement plus its correction equals the settlement of the corrected data', () => {
    fc.assert(fc.property(slots, meterings, balancings, (slot, lateMeter, lateBalancing) => {
      const trades = tradesOf(slot);
      const original = settleSlot({ slotStartMs: T0, trades, metered: slot.metered, balancing: slot.balancing });
      const corrected = settleSlot({ slotStartMs: T0, trades, metered: lateMeter, balancing: lateBalancing });
      const correction = correctSettlement(original, corrected);
      expect(netLines([...original.lines, ...correction])).toEqual(netLines(corrected.lines));
      // Paid as postings, the wallets end where the corrected settlement alone would put them.
      const viaCorrection = post(post(EMPTY_LEDGER, settlementPostings(original.lines, 'settlement'), T0).state, settlementPostings(correction, 'settlement-correction'), T0).state;
      const direct = post(EMPTY_LEDGER, settlementPostings(corrected.lines, 'settlement'), T0).state;
      for (let i = 0; i < MEMBERS; i++) expect(viaCorrection.balances.get(`wallet:m${i}`) ?? 0n).toBe(direct.balances.get(`wallet:m${i}`) ?? 0n);
    }), { numRuns: 200 });
  });

  it('a day\'s postings pay each member exactly the sum of their lines, one posting per member and kind at most', () => {
    fc.assert(fc.property(fc.array(slots, { minLength: 1, maxLength: 6 }), fc.array(fc.nat({ max: 95 }), { minLength: 6, maxLength: 6 }), (day, offsets) => {
      // A day's slots (in any order, as a batch may hold them), settled one by one and paid in one transaction.
      const settled = day.map((slot, i) => settleSlot({ slotStartMs: T0 + offsets[i]! * SLOT_MS, trades: tradesOf(slot), metered: slot.metered, balancing: slot.balancing }));
      const lines = settled.flatMap((s) => s.lines);
      const drafts = settlementPostings(lines, 'settlement');
      const paid = post(EMPTY_LEDGER, drafts, T0).state;
      for (let i = 0; i < MEMBERS; i++) {
        const own = lines.filter((l) => l.memberId === `m${i}`);
        expect(paid.balances.get(`wallet:m${i}`) ?? 0n).toBe(own.reduce((sum, l) => sum + l.amount, 0n));
        for (const kind of new Set(own.map((l) => l.kind))) {
          const ofKind = own.filter((l) => l.kind === kind);
          const postings = drafts.filter((d) => d.line === kind && (d.debit === `wallet:m${i}` || d.credit === `wallet:m${i}`));
          const net = ofKind.reduce((sum, l) => sum + l.amount, 0n);
          expect(postings.length).toBe(net === 0n ? 0 : 1);
          if (net === 0n) continue;
          // It says what it pays: its first slot, the end of its last, how many lines, the orders only of a single trade.
          const starts = ofKind.map((l) => l.slotStartMs);
          expect(postings[0]).toMatchObject({ slotStartMs: Math.min(...starts), slotEndMs: Math.max(...starts) + SLOT_MS, lines: ofKind.length });
          expect(postings[0]!.buyOrderId).toBe(ofKind.length === 1 ? ofKind[0]!.buyOrderId : undefined);
        }
      }
      expect(sumOfBalances(paid)).toBe(0n);
      for (const d of drafts) expect(d.amount > 0n && d.lines! >= 1).toBe(true);
    }), { numRuns: 200 });
  });

  it('lines are energy × price, positions are metered − traded, trade lines net to zero', () => {
    fc.assert(fc.property(slots, (slot) => {
      const trades = tradesOf(slot);
      const settled = settleSlot({ slotStartMs: T0, trades, metered: slot.metered, balancing: slot.balancing });
      const sign = { sale: 1n, purchase: -1n, 'grid-fee': -1n, 'balancing-surplus': 1n, 'balancing-shortfall': -1n } as const;
      for (const l of settled.lines) expect(l.amount).toBe(sign[l.kind] * BigInt(l.energyWh) * l.price);
      const traders = new Set(trades.flatMap((t) => [t.buyerId, t.sellerId]));
      expect(new Set(settled.positions.map((p) => p.memberId))).toEqual(traders);
      for (const p of settled.positions) {
        const own = settled.lines.filter((l) => l.memberId === p.memberId);
        const energy = (kind: string) => own.filter((l) => l.kind === kind).reduce((s, l) => s + l.energyWh, 0);
        expect(energy('sale') - energy('purchase')).toBe(p.tradedNetWh);
        expect(p.imbalanceWh).toBe(slot.metered.find((m) => m.memberId === p.memberId)!.netWh - p.tradedNetWh);
        expect(energy('balancing-surplus') - energy('balancing-shortfall')).toBe(p.imbalanceWh);
      }
      const tradeSum = settled.lines.filter((l) => l.kind === 'sale' || l.kind === 'purchase').reduce((s, l) => s + l.amount, 0n);
      expect(tradeSum).toBe(0n);
    }), { numRuns: 200 });
  });
});

const operations = fc.array(fc.oneof(
  fc.record({ op: fc.constant('top-up' as const), member: fc.integer({ min: 0, max: MEMBERS - 1 }), cents: fc.integer({ min: 1, max: 5_000 }) }),
  fc.record({ op: fc.constant('settle' as const), slot: slots }),
  fc.record({ op: fc.constant('correct' as const), metered: meterings, balancing: balancings }),
  fc.record({ op: fc.constant('payouts' as const), thresholdCents: fc.integer({ min: 0, max: 3_000 }), confirm: fc.array(fc.boolean(), { maxLength: MEMBERS }) }),
  fc.record({ op: fc.constant('overdraw' as const), member: fc.integer({ min: 0, max: MEMBERS - 1 }) }),
  fc.record({ op: fc.constant('dispute' as const), pick: fc.nat(), fraction: fc.double({ min: 0, max: 1.5, noNaN: true }), reject: fc.boolean() }),
), { maxLength: 25 });

describe('ledger properties', () => {
  it('Σ of all accounts is zero after any sequence of operations, and balances equal the replay of the postings', () => {
    fc.assert(fc.property(operations, (ops) => {
      let state: LedgerState = EMPTY_LEDGER;
      const postings: Posting[] = [];
      const corrected = new Map<number, bigint>();
      let lastSettled: { settlement: SlotSettlement; trades: readonly Trade[] } | undefined;
      let slotStart = T0;
      let now = T0;
      const enter = (drafts: PostingDraft[]) => {
        const result = post(state, drafts, ++now);
        state = result.state;
        postings.push(...result.postings);
      };
      /** A refused operation must leave the ledger exactly as it was. */
      const refused = (attempt: () => void) => {
        const before = state;
        expect(attempt).toThrow();
        expect(state).toBe(before);
      };
      for (const o of ops) {
        if (o.op === 'top-up') enter([topUp(`m${o.member}`, BigInt(o.cents), 2, `bank-${now}`)]);
        if (o.op === 'settle') {
          slotStart += SLOT_MS;
          const trades = tradesOf(o.slot);
          const settlement = settleSlot({ slotStartMs: slotStart, trades, metered: o.slot.metered, balancing: o.slot.balancing });
          enter(settlementPostings(settlement.lines, 'settlement'));
          lastSettled = { settlement, trades };
        }
        if (o.op === 'correct' && lastSettled) {
          const again = settleSlot({ slotStartMs: lastSettled.settlement.slotStartMs, trades: lastSettled.trades, metered: o.metered, balancing: o.balancing });
          enter(settlementPostings(correctSettlement(lastSettled.settlement, again), 'settlement-correction'));
          lastSettled = { settlement: again, trades: lastSettled.trades };
        }
        if (o.op === 'payouts') {
          const requests = duePayouts(state, { threshold: BigInt(o.thresholdCents) * 10_000_000n, digits: 2, pending: new Set(), deposited: new Map() });
          for (const r of requests) expect(r.amount % 10_000_000n).toBe(0n);
          enter(requests.filter((_, i) => o.confirm[i]).map((r) => confirmPayout(state, r, `sepa-${now}`)));
        }
        if (o.op === 'overdraw') {
          const memberId = `m${o.member}`;
          const balance = state.balances.get(`wallet:${memberId}`) ?? 0n;
          refused(() => enter([confirmPayout(state, { memberId, amount: (balance > 0n ? balance : 0n) + 10_000_000n }, 'too-much')]));
        }
        if (o.op === 'dispute') {
          const candidates = postings.filter((p) => p.kind === 'settlement');
          if (candidates.length > 0) {
            const posting = candidates[o.pick % candidates.length]!;
            const memberId = walletMember(posting.debit) ?? walletMember(posting.credit)!;
            const dispute = openDispute(posting, { id: `d${now}`, memberId, reason: 'wrong', atMs: now });
            const already = corrected.get(posting.sequence) ?? 0n;
            const amount = BigInt(Math.floor(o.fraction * Number(posting.amount)));
            const decision = o.reject ? { outcome: 'rejected' as const, note: 'no' } : { outcome: 'corrected' as const, note: 'yes', amount };
            const refund = posting.debit === `wallet:${memberId}`;
            if (!o.reject && (amount <= 0n || (refund && amount > posting.amount - already))) {
              refused(() => resolveDispute(dispute, posting, decision, { atMs: now, alreadyCorrected: already }));
            } else {
              const { correction } = resolveDispute(dispute, posting, decision, { atMs: now, alreadyCorrected: already });
              if (correction) {
                enter([correction]);
                corrected.set(posting.sequence, already + correction.amount);
              }
            }
          }
        }
        expect(sumOfBalances(state)).toBe(0n);
        expect(replayPostings(postings)).toEqual(state);
        expect(postings.map((p) => p.sequence)).toEqual(postings.map((_, i) => i + 1));
      }
      // The clearing account moves only by disputes of trade lines.
      const clearingDisputes = postings.filter((p) => p.kind === 'dispute-correction')
        .reduce((s, p) => s + (p.credit === COMMUNITY_ACCOUNTS.clearing ? p.amount : 0n) - (p.debit === COMMUNITY_ACCOUNTS.clearing ? p.amount : 0n), 0n);
      expect(state.balances.get(COMMUNITY_ACCOUNTS.clearing) ?? 0n).toBe(clearingDisputes);
    }), { numRuns: 150 });
  });
});
