import { describe, expect, it } from 'vitest';
import type { SlotDepth } from '@gridshare/contract/market';
import { clearingPoint, depthSteps } from '../src/lib/market-depth.js';

const depth: SlotDepth = {
  slotStart: '2026-01-05T11:00:00.000Z', mechanism: 'uniform', gridFee: '0.0100', clearingPrice: '0.1200', volumeWh: 1000,
  bids: [{ price: '0.1900', energyWh: 600, cumulativeWh: 600 }, { price: '0.1600', energyWh: 400, cumulativeWh: 1000 }],
  offers: [{ price: '0.0800', energyWh: 1000, cumulativeWh: 1000 }, { price: '0.1500', energyWh: 500, cumulativeWh: 1500 }],
};

describe('order-book depth curves', () => {
  it('runs each price level flat over its energy and steps to the next', () => {
    expect(depthSteps(depth.bids)).toEqual([[0, 0.19], [0.6, 0.19], [0.6, 0.16], [1, 0.16]]);
    expect(depthSteps(depth.offers)).toEqual([[0, 0.08], [1, 0.08], [1, 0.15], [1.5, 0.15]]);
    expect(depthSteps([])).toEqual([]);
  });

  it('marks the clearing point only where something was traded', () => {
    expect(clearingPoint(depth)).toEqual([1, 0.12]);
    expect(clearingPoint({ ...depth, clearingPrice: null, volumeWh: 0 })).toBeUndefined();
  });
});
