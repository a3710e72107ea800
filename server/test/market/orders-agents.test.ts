import { describe, expect, it } from 'vitest';
import {
  agentOrderId, agentOrders, formatMarketPrice, gateClosureAt, gateDecision, marketOrderProblems,
  parseMarketPrice, parseShare, type AgentLimits, type MarketOrder, type SlotOutlook,
} from '../../src/market/domain/index.js';
import { price, T0 } from './support.js';

const MIN = 60_000;
const SLOT = T0 + 60 * MIN; // 09:00
const gate = { leadMs: 15 * MIN, horizonMs: 24 * 60 * MIN };

describe('prices', () => {
  it('reads prices with at most 4 places, never negative or absurd, and writes 4 places', () => {
    expect(parseMarketPrice('0.125')).toBe(125_000n);
    expect(formatMarketPrice(125_000n)).toBe('0.1250');
    expect(formatMarketPrice(parseMarketPrice('999999.9999')!)).toBe('999999.9999');
    for (const bad of ['0.12345', '-0.1', '+0.1', ' 0.1', '1e-3', 'NaN', '', '0,1', '1000000', 'Infinity']) {
      expect(parseMarketPrice(bad), bad).toBeUndefined();
    }
  });
});

describe('gate closure', () => {
  it('keeps a slot open until the lead before delivery, and not before the horizon', () => {
    expect(gateClosureAt(SLOT, gate)).toBe(SLOT - 15 * MIN);
    expect(gateDecision(SLOT, SLOT - 15 * MIN - 1, gate)).toEqual({ open: true });
    expect(gateDecision(SLOT, SLOT - 15 * MIN, gate)).toMatchObject({ open: false, reason: 'closed' });
    expect(gateDecision(SLOT, SLOT + 5 * MIN, gate)).toMatchObject({ open: false, reason: 'closed' });
    expect(gateDecision(SLOT, SLOT - 25 * 60 * MIN, gate)).toMatchObject({ open: false, reason: 'not-yet-open' });
    expect(gateDecision(SLOT + 7 * MIN, T0, gate)).toMatchObject({ open: false, reason: 'not-a-slot' });
    expect(gateDecision(SLOT, SLOT - 48 * 60 * MIN, { leadMs: 0 })).toEqual({ open: true });
  });

  it('names every reason a member\'s order cannot enter the book', () => {
    const order: MarketOrder = {
      id: 'o1', memberId: 'alice', side: 'buy', energyWh: 100, price: price('0.30'),
      submittedAtMs: SLOT, slotStartMs: SLOT, origin: 'member',
    };
    expect(marketOrderProblems(order, { gridFee: 0n }, gate, SLOT - 60 * MIN)).toEqual(['the submission time is in the future']);
    expect(marketOrderProblems({ ...order, submittedAtMs: SLOT - 60 * MIN }, { gridFee: 0n, ceiling: price('0.25') }, gate, SLOT - 10 * MIN)).toEqual([
      'the price 0.3000 is above the ceiling 0.2500',
      'the gate of this slot has closed',
    ]);
    expect(marketOrderProblems({ ...order, submittedAtMs: SLOT - 60 * MIN }, { gridFee: 0n }, gate, SLOT - 60 * MIN)).toEqual([]);
  });
});

describe('agents', () => {
  const limits: AgentLimits = {
    memberId: 'alice', minSellPrice: price('0.09'), maxBuyPrice: price('0.28'),
    sellShare: parseShare('0.8')!, buyShare: parseShare('0.5')!, devices: ['pv', 'battery'],
  };
  const outlook: SlotOutlook[] = [
    // Surplus 1,000 − 200 = 800 Wh; the battery is planned to charge 300 instead of the forecast's 200: 700 → 80 % = 560.
    { slotStartMs: SLOT, forecastWh: { pv: 1000, battery: -200, heatpump: -5000 }, plannedWh: { battery: -300 } },
    // Need 401 Wh → 50 % = 200 (rounded down).
    { slotStartMs: SLOT + 15 * MIN, forecastWh: { pv: 0, battery: -401 } },
    // Nothing to trade.
    { slotStartMs: SLOT + 30 * MIN, forecastWh: { pv: 100, battery: -100 } },
  ];
  const context = { pricing: { gridFee: 0n }, gate, nowMs: SLOT - 2 * 60 * MIN };

  it('offers a share of the surplus and bids for a share of the need, from the chosen devices, plan before forecast', () => {
    const orders = agentOrders(limits, outlook, context);
    expect(orders.map((o) => [o.id, o.side, o.energyWh, formatMarketPrice(o.price), o.origin, o.submittedAtMs])).toEqual([
      [agentOrderId('alice', SLOT, 'sell'), 'sell', 560, '0.0900', 'agent', context.nowMs],
      [agentOrderId('alice', SLOT + 15 * MIN, 'buy'), 'buy', 200, '0.2800', 'agent', context.nowMs],
    ]);
    expect(orders[0]!.id).toBe('agent:alice:2025-06-01T09:00:00Z:sell');
  });

  it('skips slots whose gate has closed and orders below the minimum size', () => {
    expect(agentOrders(limits, outlook, { ...context, nowMs: SLOT - 5 * MIN }).map((o) => o.slotStartMs)).toEqual([SLOT + 15 * MIN]);
    expect(agentOrders(limits, outlook, { ...context, minOrderWh: 300 }).map((o) => o.energyWh)).toEqual([560]);
  });

  it('brings limits inside the price bounds only where that keeps within the member\'s limit', () => {
    const pricing = { gridFee: price('0.05'), floor: price('0.10'), ceiling: price('0.20') };
    const orders = agentOrders(limits, outlook, { ...context, pricing });
    // Offer .09 < floor .10 → at the floor; bid .28 − fee .05 = .23 > ceiling .20 → bid .25 (pays at most .25 in all).
    expect(orders.map((o) => formatMarketPrice(o.price))).toEqual(['0.1000', '0.2500']);
    const strict = { ...limits, minSellPrice: price('0.21'), maxBuyPrice: price('0.14') };
    // Offer above the ceiling and a bid less the fee (.09) below the floor cannot trade within the limits.
    expect(agentOrders(strict, outlook, { ...context, pricing })).toEqual([]);
    expect(agentOrders({ ...limits, minSellPrice: undefined, maxBuyPrice: undefined }, outlook, context)).toEqual([]);
  });

  it('refuses shares outside 0…1 and forecasts that are not whole Wh', () => {
    expect(parseShare('1')).toBe(1_000_000);
    expect(parseShare('1.5')).toBeUndefined();
    expect(parseShare('-0.1')).toBeUndefined();
    expect(() => agentOrders({ ...limits, sellShare: 1_000_001 }, outlook, context)).toThrow(/shares/);
    expect(() => agentOrders(limits, [{ slotStartMs: SLOT, forecastWh: { pv: Number.NaN } }], context)).toThrow(/device pv at 2025-06-01T09:00:00Z: NaN is not whole Wh/);
  });
});
