import { describe, expect, it } from 'vitest';
import {
  balanceOf, clearSlot, COMMUNITY_ACCOUNTS, confirmPayout, correctSettlement, duePayouts, EMPTY_LEDGER,
  lowBalanceAlerts, netLines, NO_FEES, openDispute, positionsOfLines, post, replayPostings, resolveDispute, settlementPostings,
  settleSlot, sumOfBalances, topUp, walletAccount, walletTransfer, type MeteredNet, type PostingDraft, type SettlementLine,
} from '../../src/market/domain/index.js';
import { EXAMPLE_BOOK, price, T0 } from './support.js';

const SLOT = T0;
const balancing = { surplusPrice: price('0.08'), shortfallPrice: price('0.30') };
const trades = clearSlot('uniform', EXAMPLE_BOOK, NO_FEES).trades; // at .1650: alice buys 300, bob 150; dave sells 250, erin 200
const metered: MeteredNet[] = [
  { memberId: 'alice', netWh: -350, quality: 'measured' }, // bought 300, used 350 → short 50
  { memberId: 'bob', netWh: -100, quality: 'measured' }, // bought 150, used 100 → surplus 50
  { memberId: 'dave', netWh: 250, quality: 'measured' }, // sold 250, delivered 250
  { memberId: 'erin', netWh: 120, quality: 'estimated' }, // sold 200, delivered 120 → short 80
  { memberId: 'frank', netWh: 999, quality: 'measured' }, // did not trade: not in the market's settlement
];
const lineView = (l: { memberId: string; kind: string; energyWh: number; amount: bigint }) => `${l.memberId} ${l.kind} ${l.energyWh} Wh ${l.amount}`;

describe('settlement, by hand', () => {
  const settled = settleSlot({ slotStartMs: SLOT, trades, metered, balancing });

  it('pays trades at their price and balances the rest with the community', () => {
    // Members in the order of their first trade, each member's trade lines, then balancing.
    expect(settled.lines.map(lineView)).toEqual([
      'dave sale 250 Wh 41250000', // 250 × .165 = 0.04125 €
      'alice purchase 250 Wh -41250000',
      'alice purchase 50 Wh -8250000',
      'alice balancing-shortfall 50 Wh -15000000', // 50 × .30
      'erin sale 50 Wh 8250000',
      'erin sale 150 Wh 24750000',
      'erin balancing-shortfall 80 Wh -24000000', // 80 × .30
      'bob purchase 150 Wh -24750000',
      'bob balancing-surplus 50 Wh 4000000', // 50 × .08
    ]);
    expect(settled.positions.map((p) => [p.memberId, p.tradedNetWh, p.imbalanceWh, p.quality])).toEqual([
      ['dave', 250, 0, 'measured'], ['alice', -300, -50, 'measured'], ['erin', 200, -80, 'estimated'], ['bob', -150, 50, 'measured'],
    ]);
    const sales = settled.lines.filter((l) => l.kind === 'sale').reduce((s, l) => s + l.amount, 0n);
    const purchases = settled.lines.filter((l) => l.kind === 'purchase').reduce((s, l) => s + l.amount, 0n);
    expect(sales + purchases).toBe(0n);
  });

  it('charges the grid fee as its own line of the buyer', () => {
    const withFee = clearSlot('uniform', EXAMPLE_BOOK, { gridFee: price('0.03') }).trades;
    const lines = settleSlot({ slotStartMs: SLOT, trades: withFee, metered, balancing }).lines;
    expect(lines.filter((l) => l.kind === 'grid-fee').map(lineView)).toEqual([
      'alice grid-fee 250 Wh -7500000', 'alice grid-fee 50 Wh -1500000', 'bob grid-fee 150 Wh -4500000',
    ]);
  });

  it('is corrected, never changed, when late data arrive', () => {
    const late = metered.map((m) => (m.memberId === 'erin' ? { ...m, netWh: 230, quality: 'measured' as const } : m));
    const corrected = settleSlot({ slotStartMs: SLOT, trades, metered: late, balancing });
    const correction = correctSettlement(settled, corrected);
    // Erin's shortfall of 80 is taken back; she delivered 30 more than sold.
    expect(correction.map(lineView)).toEqual(['erin balancing-shortfall -80 Wh 24000000', 'erin balancing-surplus 30 Wh 2400000']);
    expect(netLines([...settled.lines, ...correction])).toEqual(netLines(corrected.lines));
    expect(correctSettlement(settled, settled)).toEqual([]);
  });

  it('reads each member\'s position back from the lines alone, also after a correction', () => {
    const view = (p: { memberId: string; meteredNetWh: number; tradedNetWh: number }) => [p.memberId, p.meteredNetWh, p.tradedNetWh];
    expect(positionsOfLines(settled.lines).map(view)).toEqual(settled.positions.map(view));
    const late = metered.map((m) => (m.memberId === 'erin' ? { ...m, netWh: 230 } : m));
    const corrected = settleSlot({ slotStartMs: SLOT, trades, metered: late, balancing });
    expect(positionsOfLines([...settled.lines, ...correctSettlement(settled, corrected)]).map(view)).toEqual(corrected.positions.map(view));
    expect(positionsOfLines([])).toEqual([]);
  });

  it('refuses to settle a trader without metered data, and bad input', () => {
    const withoutBob = metered.filter((m) => m.memberId !== 'bob');
    expect(() => settleSlot({ slotStartMs: SLOT, trades, metered: withoutBob, balancing })).toThrow(/member bob traded in the slot but has no metered value yet/);
    const missing = metered.map((m) => (m.memberId === 'bob' ? { ...m, quality: 'missing' as const } : m));
    expect(() => settleSlot({ slotStartMs: SLOT, trades, metered: missing, balancing })).toThrow(/bob/);
    expect(() => settleSlot({ slotStartMs: SLOT, trades, metered: [...metered, metered[0]!], balancing })).toThrow(/two metered values/);
    expect(() => settleSlot({ slotStartMs: SLOT, trades, metered: [{ ...metered[0]!, netWh: 0.5 }], balancing })).toThrow(/whole Wh/);
    expect(() => settleSlot({ slotStartMs: SLOT, trades, metered, balancing: { ...balancing, surplusPrice: -1n } })).toThrow(/negative/);
    expect(() => correctSettlement(settled, { ...settled, slotStartMs: SLOT + 900_000 })).toThrow(/same slot/);
  });
});

describe('wallets, by hand', () => {
  const settled = settleSlot({ slotStartMs: SLOT, trades, metered, balancing });
  const ledgerAfterTopUps = post(EMPTY_LEDGER, [topUp('alice', 2000n, 2, 'bank-1'), topUp('bob', 500n, 2, 'bank-2')], T0);

  it('enters settlement postings between wallets and community accounts, the sum of all accounts zero', () => {
    const { state, postings } = post(ledgerAfterTopUps.state, settlementPostings(settled.lines, 'settlement'), T0 + 1);
    // One posting per member and line kind: alice's two purchases and erin's two sales are netted into one each.
    const view = (p: PostingDraft) => [p.debit, p.credit, p.amount, p.line, p.lines, p.buyOrderId === undefined ? '' : 'one trade'];
    expect(postings.map(view)).toEqual([
      [COMMUNITY_ACCOUNTS.clearing, walletAccount('dave'), 41_250_000n, 'sale', 1, 'one trade'],
      [walletAccount('alice'), COMMUNITY_ACCOUNTS.clearing, 49_500_000n, 'purchase', 2, ''],
      [walletAccount('alice'), COMMUNITY_ACCOUNTS.balancing, 15_000_000n, 'balancing-shortfall', 1, ''],
      [COMMUNITY_ACCOUNTS.clearing, walletAccount('erin'), 33_000_000n, 'sale', 2, ''],
      [walletAccount('erin'), COMMUNITY_ACCOUNTS.balancing, 24_000_000n, 'balancing-shortfall', 1, ''],
      [walletAccount('bob'), COMMUNITY_ACCOUNTS.clearing, 24_750_000n, 'purchase', 1, 'one trade'],
      [COMMUNITY_ACCOUNTS.balancing, walletAccount('bob'), 4_000_000n, 'balancing-surplus', 1, ''],
    ]);
    expect(postings.map((p) => p.sequence)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    // A posting that pays one trade names its orders, as the line does; the period is the slot.
    expect(postings[0]).toMatchObject({ buyOrderId: settled.lines[0]!.buyOrderId, sellOrderId: settled.lines[0]!.sellOrderId, slotStartMs: SLOT, slotEndMs: SLOT + 900_000 });
    expect(balanceOf(state, walletAccount('alice'))).toBe(20_000_000_000n - 41_250_000n - 8_250_000n - 15_000_000n);
    expect(balanceOf(state, walletAccount('dave'))).toBe(41_250_000n);
    expect(balanceOf(state, COMMUNITY_ACCOUNTS.clearing)).toBe(0n);
    expect(balanceOf(state, COMMUNITY_ACCOUNTS.balancing)).toBe(15_000_000n + 24_000_000n - 4_000_000n);
    expect(balanceOf(state, COMMUNITY_ACCOUNTS.topUps)).toBe(-25_000_000_000n);
    expect(sumOfBalances(state)).toBe(0n);
    expect(replayPostings([...ledgerAfterTopUps.postings, ...postings])).toEqual(state);
  });

  it('refuses bad postings as a whole', () => {
    const good = topUp('carol', 100n, 2, 'x');
    expect(() => post(EMPTY_LEDGER, [good, { ...good, amount: 0n }], T0)).toThrow(/posting 2 .*positive/);
    expect(() => post(EMPTY_LEDGER, [{ ...good, debit: good.credit }], T0)).toThrow(/two different accounts/);
    expect(() => post(EMPTY_LEDGER, [{ ...good, credit: 'bank' }], T0)).toThrow(/unknown account "bank"/);
    expect(() => post(EMPTY_LEDGER, [{ ...good, credit: 'wallet:' }], T0)).toThrow(/unknown account/);
    expect(() => topUp('carol', 0n, 2, 'x')).toThrow(/positive/);
  });

  it('pays a day\'s lines with one posting per member and kind: netted, over the period, none for a net of zero', () => {
    const line = (memberId: string, slot: number, kind: SettlementLine['kind'], amount: bigint, trade?: string): SettlementLine => ({
      memberId, slotStartMs: SLOT + slot * 900_000, kind, energyWh: 1, price: 1n, amount, buyOrderId: trade && `b-${trade}`, sellOrderId: trade && `s-${trade}`,
    });
    const day = [
      line('alice', 5, 'purchase', -300n, 't1'), line('bob', 0, 'sale', 300n, 't1'), line('alice', 2, 'purchase', -200n, 't2'),
      line('alice', 40, 'balancing-surplus', 70n), line('alice', 3, 'balancing-surplus', 0n), line('bob', 95, 'balancing-shortfall', -11n),
    ];
    expect(settlementPostings(day, 'settlement')).toEqual([
      { debit: walletAccount('alice'), credit: COMMUNITY_ACCOUNTS.clearing, amount: 500n, kind: 'settlement', memo: 'purchase', line: 'purchase',
        slotStartMs: SLOT + 2 * 900_000, slotEndMs: SLOT + 6 * 900_000, lines: 2, buyOrderId: undefined, sellOrderId: undefined },
      { debit: COMMUNITY_ACCOUNTS.clearing, credit: walletAccount('bob'), amount: 300n, kind: 'settlement', memo: 'sale', line: 'sale',
        slotStartMs: SLOT, slotEndMs: SLOT + 900_000, lines: 1, buyOrderId: 'b-t1', sellOrderId: 's-t1' },
      // The zero line of slot 3 is one of the lines this posting answers for.
      { debit: COMMUNITY_ACCOUNTS.balancing, credit: walletAccount('alice'), amount: 70n, kind: 'settlement', memo: 'balancing-surplus', line: 'balancing-surplus',
        slotStartMs: SLOT + 3 * 900_000, slotEndMs: SLOT + 41 * 900_000, lines: 2, buyOrderId: undefined, sellOrderId: undefined },
      { debit: walletAccount('bob'), credit: COMMUNITY_ACCOUNTS.balancing, amount: 11n, kind: 'settlement', memo: 'balancing-shortfall', line: 'balancing-shortfall',
        slotStartMs: SLOT + 95 * 900_000, slotEndMs: SLOT + 96 * 900_000, lines: 1, buyOrderId: undefined, sellOrderId: undefined },
    ]);
    // A correction's kind that nets to zero moves nothing; one that nets against the member runs the other way.
    const correction = [line('alice', 5, 'sale', 40n, 't3'), line('alice', 5, 'sale', -40n, 't4'), line('bob', 5, 'balancing-surplus', -9n)];
    expect(settlementPostings(correction, 'settlement-correction')).toEqual([
      { debit: walletAccount('bob'), credit: COMMUNITY_ACCOUNTS.balancing, amount: 9n, kind: 'settlement-correction', memo: 'correction: balancing-surplus',
        line: 'balancing-surplus', slotStartMs: SLOT + 5 * 900_000, slotEndMs: SLOT + 6 * 900_000, lines: 1, buyOrderId: undefined, sellOrderId: undefined },
    ]);
    expect(settlementPostings([], 'settlement')).toEqual([]);
  });

  it('alerts once when a wallet falls below the threshold', () => {
    const before = ledgerAfterTopUps.state;
    const after = post(before, settlementPostings(settled.lines, 'settlement'), T0 + 1).state;
    const threshold = 4_990_000_000n; // 4.99 €: bob (5.00 − 0.02475 + 0.004) falls below, alice stays above
    expect(lowBalanceAlerts(before, after, threshold)).toEqual([{ memberId: 'bob', balance: 5_000_000_000n - 24_750_000n + 4_000_000n }]);
    expect(lowBalanceAlerts(after, after, threshold)).toEqual([]);
  });

  it('proposes payouts of what the market brought in, never the top-ups, in whole cents, and pays what the manager confirms', () => {
    const deposited = new Map([['alice', 20_000_000_000n], ['bob', 5_000_000_000n]]);
    const options = { threshold: 10_000_000n, digits: 2, pending: new Set<string>(), deposited };
    // Top-ups alone are nobody's earnings: a threshold at or below a top-up asks for nothing.
    expect(duePayouts(ledgerAfterTopUps.state, options)).toEqual([]);
    // alice sells 100 kWh at 0.15 besides the slot's lines: 20 − 0.0645 + 15 = 34.9355 €, of which 14.9355 € earned → 14.93 €; bob lost.
    const sale = { memberId: 'alice', slotStartMs: T0, kind: 'sale' as const, energyWh: 100_000, price: 150_000n, amount: 15_000_000_000n };
    const state = post(ledgerAfterTopUps.state, settlementPostings([...settled.lines, sale], 'settlement'), T0 + 1).state;
    const requests = duePayouts(state, { ...options, threshold: 10_000_000_000n });
    expect(requests).toEqual([{ memberId: 'alice', amount: 14_930_000_000n }]);
    // dave topped up nothing and sold: all of his 0.04 € is earned.
    expect(duePayouts(state, options)).toEqual([{ memberId: 'alice', amount: 14_930_000_000n }, { memberId: 'dave', amount: 40_000_000n }]);
    expect(duePayouts(state, { ...options, threshold: 14_940_000_000n })).toEqual([]);
    expect(duePayouts(state, { ...options, threshold: 10_000_000_000n, pending: new Set(['alice']) })).toEqual([]);
    const paid = post(state, [confirmPayout(state, requests[0]!, 'sepa-7')], T0 + 2).state;
    expect(balanceOf(paid, walletAccount('alice'))).toBe(20_005_500_000n);
    expect(balanceOf(paid, COMMUNITY_ACCOUNTS.payouts)).toBe(14_930_000_000n);
    // Paid out is not payable again: the half cent left is below a cent.
    expect(duePayouts(paid, { ...options, pending: new Set(['dave']) })).toEqual([]);
    expect(() => confirmPayout(paid, { memberId: 'alice', amount: 20_010_000_000n }, 'sepa-8')).toThrow(/holds less than the payout/);
  });

  it('resolves a dispute with a correcting posting, the disputed one left as it was', () => {
    const { state, postings } = post(ledgerAfterTopUps.state, settlementPostings(settled.lines, 'settlement'), T0 + 1);
    const shortfall = postings.find((p) => p.line === 'balancing-shortfall' && p.debit === walletAccount('alice'))!;
    expect(() => openDispute(shortfall, { id: 'd1', memberId: 'bob', reason: 'not mine', atMs: T0 })).toThrow(/own wallet/);
    expect(() => openDispute(shortfall, { id: 'd1', memberId: 'alice', reason: ' ', atMs: T0 })).toThrow(/reason/);
    const dispute = openDispute(shortfall, { id: 'd1', memberId: 'alice', reason: 'the meter was offline', atMs: T0 + 3 });
    expect(() => resolveDispute(dispute, shortfall, { outcome: 'corrected', note: 'too much', amount: shortfall.amount + 1n }, { atMs: T0 + 4, alreadyCorrected: 0n })).toThrow(/cannot exceed/);
    const { dispute: resolved, correction } = resolveDispute(dispute, shortfall, { outcome: 'corrected', note: 'meter fault confirmed', amount: 10_000_000n }, { atMs: T0 + 4, alreadyCorrected: 0n });
    expect(resolved.resolution).toMatchObject({ outcome: 'corrected', amount: 10_000_000n });
    expect(correction).toMatchObject({
      debit: COMMUNITY_ACCOUNTS.balancing, credit: walletAccount('alice'), corrects: shortfall.sequence, disputeId: 'd1', kind: 'dispute-correction',
      line: 'balancing-shortfall', slotStartMs: SLOT, slotEndMs: SLOT + 900_000,
    });
    // A posting that pays several lines (alice's two purchases) is refunded up to all of it, never more.
    const purchases = postings.find((p) => p.line === 'purchase' && p.debit === walletAccount('alice'))!;
    const objection = openDispute(purchases, { id: 'd3', memberId: 'alice', reason: 'both', atMs: T0 });
    expect(resolveDispute(objection, purchases, { outcome: 'corrected', note: 'all', amount: 49_500_000n }, { atMs: T0, alreadyCorrected: 0n }).correction?.amount).toBe(49_500_000n);
    expect(() => resolveDispute(objection, purchases, { outcome: 'corrected', note: 'all', amount: 49_500_001n }, { atMs: T0, alreadyCorrected: 0n })).toThrow(/cannot exceed/);
    const after = post(state, [correction!], T0 + 4).state;
    expect(balanceOf(after, walletAccount('alice')) - balanceOf(state, walletAccount('alice'))).toBe(10_000_000n);
    expect(sumOfBalances(after)).toBe(0n);
    expect(() => resolveDispute(resolved, shortfall, { outcome: 'rejected', note: 'again' }, { atMs: T0 + 5, alreadyCorrected: 0n })).toThrow(/resolved already/);
    // A seller paid too little is credited once more along the sale.
    const sale = postings.find((p) => p.line === 'sale' && p.credit === walletAccount('dave'))!;
    const extra = resolveDispute(openDispute(sale, { id: 'd2', memberId: 'dave', reason: 'price', atMs: T0 }), sale, { outcome: 'corrected', note: 'ok', amount: 1_000n }, { atMs: T0, alreadyCorrected: 0n });
    expect(extra.correction).toMatchObject({ debit: COMMUNITY_ACCOUNTS.clearing, credit: walletAccount('dave'), amount: 1_000n });
    const rejected = resolveDispute(dispute, shortfall, { outcome: 'rejected', note: 'the meter was fine' }, { atMs: T0 + 4, alreadyCorrected: 0n });
    expect(rejected.correction).toBeUndefined();
  });

  it('a transfer moves exactly the amount from one wallet to another; zero, negative or to oneself is refused', () => {
    const funded = post(EMPTY_LEDGER, [topUp('alice', 500n, 2, 'bank')], T0).state;
    const draft = walletTransfer('alice', 'bob', 250n, 2, 'data-offer:1');
    expect(draft).toMatchObject({ debit: walletAccount('alice'), credit: walletAccount('bob'), amount: 2_500_000_000n, kind: 'transfer', externalReference: 'data-offer:1' });
    const { state } = post(funded, [draft], T0 + 1);
    expect([balanceOf(state, walletAccount('alice')), balanceOf(state, walletAccount('bob')), sumOfBalances(state)]).toEqual([2_500_000_000n, 2_500_000_000n, 0n]);
    expect(() => walletTransfer('alice', 'bob', 0n, 2, 'x')).toThrow(expect.objectContaining({ field: 'amount' }));
    expect(() => walletTransfer('alice', 'bob', -1n, 2, 'x')).toThrow(expect.objectContaining({ field: 'amount' }));
    expect(() => walletTransfer('alice', 'alice', 1n, 2, 'x')).toThrow(expect.objectContaining({ field: 'to' }));
  });
});
