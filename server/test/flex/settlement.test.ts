import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  answerFlexSettlement, averagePower, ispSettlement, reviewOrderSettlement, settleOrder, toFlexOrderSettlement, type SettlementTerms,
} from '../../src/flex/domain/settlement.js';
import { addSplits, contributionWh, shareRemuneration } from '../../src/flex/domain/rewards.js';
import { parsePrice } from '../../src/kernel/money.js';
import type { FlexOrder, FlexSettlement } from '../../src/flex/domain/uftp/messages.js';
import { encodeMessage } from '../../src/flex/domain/uftp/messages.js';
import { writeXml } from '../../src/flex/domain/uftp/xml.js';
import { CONGESTION_POINT, flexOffer, flexOrder, flexRequest, NOW, oneOfEach, PERIOD, schemas } from './support.js';

const MW = 1_000_000;
const euros = (nano: bigint) => Number(nano) / 1e9;

/** The specification's settlement example: baseline 10 MW, 2 MW ordered, 7 €/MW flex, 11 €/MW penalty, one 15-minute ISP. */
describe('settlement: the specification’s example, figure by figure', () => {
  const order: FlexOrder = flexOrder(flexOffer(flexRequest()), { price: 14_000_000_000n, isps: [{ power: -2 * MW, start: 40, duration: 1 }] });
  // 11 € per MW for a quarter hour = 11 € per 250 kWh = 0.044 €/kWh.
  const terms: SettlementTerms = { penaltyPerKwh: parsePrice('0.044'), remuneration: 'delivered' };
  const table = [
    // allocation MW, delivered MW, flex paid €, deficiency MW, penalty €, settlement €
    [7, 2, 14, 0, 0, 14],
    [8, 2, 14, 0, 0, 14],
    [9, 1, 7, 1, 11, -4],
    [10, 0, 0, 2, 22, -22],
    [11, 0, 0, 3, 33, -33],
  ] as const;

  it.each(table)('allocation %i MW: delivered %i MW, paid %i €, deficiency %i MW, penalty %i €, settlement %i €', (allocation, delivered, paid, deficiency, penalty, net) => {
    const figures = ispSettlement(10 * MW, -2 * MW, allocation * MW);
    expect(figures).toEqual({ deliveredFlexPower: -delivered * MW || 0, powerDeficiency: deficiency * MW });
    const settled = settleOrder({
      order,
      baselinePower: new Map([[40, 10 * MW]]),
      actualEnergyWh: new Map([[40, (allocation * MW) / 4]]),
      terms,
    });
    expect([euros(settled.price), euros(settled.penalty), euros(settled.netSettlement)]).toEqual([paid, penalty, net]);
  });

  it('pays the order as placed under "ordered" remuneration (FlexOrderSettlement.Price)', () => {
    const settled = settleOrder({ order, baselinePower: new Map([[40, 10 * MW]]), actualEnergyWh: new Map([[40, 9 * MW / 4]]), terms: { ...terms, remuneration: 'ordered' } });
    expect([euros(settled.price), euros(settled.penalty), euros(settled.netSettlement)]).toEqual([14, 11, 3]);
  });

  it('works the same way for ordered increases (more consumption, e.g. at a midday PV peak)', () => {
    expect(ispSettlement(1000, 500, 1700)).toEqual({ deliveredFlexPower: 500, powerDeficiency: 0 });
    expect(ispSettlement(1000, 500, 1200)).toEqual({ deliveredFlexPower: 200, powerDeficiency: 300 });
    expect(ispSettlement(1000, 500, 800)).toEqual({ deliveredFlexPower: 0, powerDeficiency: 700 });
    expect(ispSettlement(1000, 0, 5000)).toEqual({ deliveredFlexPower: 0, powerDeficiency: 0 });
  });

  it('delivered flex never exceeds the order and never runs against it (property)', () => {
    fc.assert(fc.property(fc.integer({ min: -1e7, max: 1e7 }), fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: -1e7, max: 1e7 }), (b, f, a) => {
      const { deliveredFlexPower, powerDeficiency } = ispSettlement(b, f, a);
      expect(Math.abs(deliveredFlexPower)).toBeLessThanOrEqual(Math.abs(f));
      expect(deliveredFlexPower * f).toBeGreaterThanOrEqual(0);
      expect(powerDeficiency).toBeGreaterThanOrEqual(0);
      // Deficiency + delivered covers the order whenever the portfolio did not overshoot.
      if (f !== 0 && Math.sign(f) * (a - b) <= Math.abs(f)) expect(Math.abs(deliveredFlexPower) + powerDeficiency).toBeGreaterThanOrEqual(Math.abs(f));
    }));
  });

  it('turns metered energy into average power, rounding half away from zero', () => {
    expect(averagePower(250, 15)).toBe(1000);
    expect(averagePower(-7, 60)).toBe(-7);
    expect(averagePower(1, 45)).toBe(1); // 1.33 W
    expect(averagePower(5, 30)).toBe(10);
    expect(averagePower(-1, 8)).toBe(-8); // −7.5 W
  });
});

describe('settlement: reviewing the DSO’s FlexSettlement', () => {
  const order = flexOrder(flexOffer(flexRequest()));
  const terms: SettlementTerms = { penaltyPerKwh: parsePrice('0.25'), remuneration: 'ordered' };
  const baseline = new Map([73, 74, 75, 76].map((isp) => [isp, 40_000]));
  const metered = new Map([[73, 8000], [74, 8000], [75, 8500], [76, 9500]]); // 32, 32, 34, 38 kW
  const ours = settleOrder({ order, baselinePower: baseline, actualEnergyWh: metered, terms });

  it('computes the order’s figures: delivered, deficiency, penalty, net', () => {
    expect(ours.isps.map((i) => [i.actualPower, i.deliveredFlexPower, i.powerDeficiency])).toEqual([[32_000, -8000, 0], [32_000, -8000, 0], [34_000, -6000, 2000], [38_000, -2000, 6000]]);
    // 8 kW short for 15 min = 2 kWh × 0.25 = 0.50.
    expect([ours.price, ours.penalty, ours.netSettlement]).toEqual([12_500_000_000n, 500_000_000n, 12_000_000_000n]);
  });

  it('accepts the DSO’s identical figures, written compactly, and they validate', () => {
    const item = toFlexOrderSettlement(ours, order);
    expect(item.isps.length).toBe(3); // ISPs 73–74 merged
    expect(reviewOrderSettlement(item, ours, terms, { actualPowerW: 100 })).toEqual({ orderReference: order.orderReference, disposition: 'Accepted' });
  });

  it('disputes every kind of discrepancy, saying which', () => {
    const item = toFlexOrderSettlement(ours, order);
    const review = (changes: Partial<typeof item>) => reviewOrderSettlement({ ...item, ...changes }, ours, terms, { actualPowerW: 100 });
    const withIsp = (k: number, changes: object) => ({ isps: item.isps.map((isp, i) => (i === k ? { ...isp, ...changes } : isp)) });
    expect(review({ price: 13_000_000_000n }).disputeReason).toMatch(/price 13, the order’s price is 12.5/);
    expect(review({ penalty: 900_000_000n, netSettlement: 11_600_000_000n }).disputeReason).toMatch(/penalty 0.9, the contract's rate gives 0.5/);
    expect(review({ netSettlement: 12_100_000_000n }).disputeReason).toMatch(/not price minus penalty/);
    expect(review(withIsp(0, { baselinePower: 45_000 })).disputeReason).toMatch(/baseline ISP 73: 45000 W, the agreed baseline is 40000 W/);
    expect(review(withIsp(0, { orderedFlexPower: -9000 })).disputeReason).toMatch(/ordered flex ISP 73/);
    expect(review(withIsp(2, { actualPower: 38_500, powerDeficiency: 6500 })).disputeReason).toMatch(/actual power ISP 76: 38500 W, metered 38000 W/);
    expect(review(withIsp(1, { deliveredFlexPower: -8000 })).disputeReason).toMatch(/delivered flex ISP 75: -8000 W, -6000 W follows from its own figures/);
    expect(review({ isps: item.isps.slice(0, 2) }).disputeReason).toMatch(/ordered ISPs missing: 76/);
    // A DSO meter 50 W off ours (an over-delivery, so nothing else changes) is within the tolerance.
    expect(review(withIsp(0, { actualPower: 31_950 })).disposition).toBe('Accepted');
    expect(review(withIsp(0, { actualPower: 31_850 })).disposition).toBe('Disputed');
  });

  it('answers a FlexSettlement per order: accepted, disputed, unknown; the response validates', () => {
    const base = oneOfEach().find((m): m is FlexSettlement => m.type === 'FlexSettlement')!;
    const item = toFlexOrderSettlement(ours, order);
    const settlement: FlexSettlement = {
      ...base,
      flexOrderSettlements: [item, { ...item, orderReference: 'ORD-2026-0002', congestionPoint: CONGESTION_POINT, period: PERIOD }, { ...item, price: 1n * 100_000n }],
    };
    const mine = new Map([[order.orderReference, ours]]);
    const response = answerFlexSettlement(settlement, mine, terms, { actualPowerW: 100 }, { messageId: '11111111-2222-4333-8444-555555555555', nowMs: NOW });
    expect(response.flexOrderSettlementStatuses.map((s) => s.disposition)).toEqual(['Accepted', 'Disputed', 'Disputed']);
    expect(response.flexOrderSettlementStatuses[1]!.disputeReason).toMatch(/no accepted order "ORD-2026-0002"/);
    expect(response).toMatchObject({ result: 'Accepted', flexSettlementMessageId: settlement.messageId, conversationId: settlement.conversationId, recipientDomain: settlement.senderDomain });
    expect(() => schemas().validate(writeXml(encodeMessage(response)), '3.1.0')).not.toThrow();
    expect(() => schemas().validate(writeXml(encodeMessage({ ...settlement, flexOrderSettlements: [item] })), '3.1.0')).not.toThrow();
    const rejected = answerFlexSettlement(settlement, mine, terms, { actualPowerW: 100 }, { messageId: '11111111-2222-4333-8444-555555555556', nowMs: NOW }, 'Missing Settlement Items: orders ORD-9');
    expect(rejected.result).toBe('Rejected');
    expect(rejected.flexOrderSettlementStatuses.every((s) => s.disposition === 'Disputed')).toBe(true);
  });

  it('refuses to settle without a baseline or metering rather than guessing', () => {
    expect(() => settleOrder({ order, baselinePower: new Map(), actualEnergyWh: metered, terms })).toThrow(/no baseline for ISP 73/);
    expect(() => settleOrder({ order, baselinePower: baseline, actualEnergyWh: new Map([[73, 1]]), terms })).toThrow(/no metering for ISP 74/);
  });
});

describe('members’ rewards: the net remuneration shared by measured contribution', () => {
  const rule = { communityFeeBasisPoints: 1000, minorDigits: 2 };

  it('measures each member’s contribution in the ordered direction only', () => {
    const ordered = new Map([[73, -8000], [74, -8000], [75, 0]]);
    expect(contributionWh(ordered, [
      { isp: 73, baselineWh: 500, actualWh: 200 }, // 300 Wh less: counts
      { isp: 74, baselineWh: 500, actualWh: 650 }, // the wrong way: 0, not −150
      { isp: 75, baselineWh: 500, actualWh: 0 }, // no flex ordered: does not count
    ])).toBe(300);
  });

  it('splits 12.00 € net after a 10 % fee as 3 : 2 : 1, to the cent', () => {
    const split = shareRemuneration(12_000_000_000n, [{ memberId: 'b', contributionWh: 200 }, { memberId: 'a', contributionWh: 300 }, { memberId: 'c', contributionWh: 100 }], rule);
    expect(split.members.map((m) => [m.memberId, m.amount])).toEqual([['a', 540n], ['b', 360n], ['c', 180n]]);
    expect(split.community).toBe(1_200_000_000n);
  });

  it('gives the leftover cents to the largest remainders, ties to the earlier member', () => {
    const split = shareRemuneration(1_000_000_000n, [{ memberId: 'x', contributionWh: 1 }, { memberId: 'y', contributionWh: 1 }, { memberId: 'z', contributionWh: 1 }], { communityFeeBasisPoints: 0, minorDigits: 2 });
    expect(split.members.map((m) => m.amount)).toEqual([34n, 33n, 33n]);
    expect(split.community).toBe(0n);
  });

  it('members never pay: a negative net or no contribution stays with the community', () => {
    const contributions = [{ memberId: 'a', contributionWh: 300 }];
    expect(shareRemuneration(-4_000_000_000n, contributions, rule)).toEqual({ members: [{ memberId: 'a', contributionWh: 300, amount: 0n }], community: -4_000_000_000n });
    expect(shareRemuneration(5_000_000_000n, [{ memberId: 'a', contributionWh: 0 }], rule).community).toBe(5_000_000_000n);
    expect(() => shareRemuneration(1n, [{ memberId: 'a', contributionWh: Number.NaN }], rule)).toThrow(RangeError);
    expect(() => shareRemuneration(1n, contributions, { communityFeeBasisPoints: 10_001, minorDigits: 2 })).toThrow(RangeError);
  });

  it('members’ amounts plus the community’s part equal the net, to the nano-unit (property)', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n }),
      fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 0, max: 10_000 }),
      (net, contributions, fee) => {
        const split = shareRemuneration(net, contributions.map((wh, i) => ({ memberId: `m${String(i).padStart(2, '0')}`, contributionWh: wh })), { communityFeeBasisPoints: fee, minorDigits: 2 });
        const paid = split.members.reduce((sum, m) => sum + m.amount, 0n) * 10_000_000n;
        expect(paid + split.community).toBe(net);
        for (const m of split.members) expect(m.amount >= 0n).toBe(true);
        if (net > 0n) expect(split.community >= (net * BigInt(fee)) / 10_000n - 10_000_000n).toBe(true);
      },
    ));
  });

  it('adds several orders’ splits per member, still exact', () => {
    const first = shareRemuneration(1_000_000_000n, [{ memberId: 'a', contributionWh: 1 }, { memberId: 'b', contributionWh: 2 }], rule);
    const second = shareRemuneration(-500_000_000n, [{ memberId: 'b', contributionWh: 5 }], rule);
    const total = addSplits([first, second]);
    expect(total.members).toEqual([{ memberId: 'a', contributionWh: 1, amount: 30n }, { memberId: 'b', contributionWh: 7, amount: 60n }]);
    expect(total.members.reduce((s, m) => s + m.amount, 0n) * 10_000_000n + total.community).toBe(500_000_000n);
  });
});
