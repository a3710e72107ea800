import { describe, expect, it } from 'vitest';
import { currentPeriod, memberWindows, NO_COUNTS, type BindingPeriod } from '../../src/registry/binding-periods.js';

const period = (owner: string | null, from: number | null, until: number | null, messages = 0): BindingPeriod => ({
  meteringPointId: `mp-${owner}-${from}`, ownerMemberId: owner, from, until, countersAtStart: { ...NO_COUNTS, messages },
});

describe('binding periods', () => {
  // A's two sites back to back, then B, then A again; given out of order.
  const history = [period('B', 300, 400, 30), period('A', null, 200), period('A', 400, null, 40), period('A', 200, 300, 20)];

  it('merges a member\'s back-to-back periods and leaves out the others\'', () => {
    expect(memberWindows(history, new Set(['A']))).toEqual([{ from: null, until: 300 }, { from: 400, until: null }]);
    expect(memberWindows(history, new Set(['B']))).toEqual([{ from: 300, until: 400 }]);
    expect(memberWindows(history, new Set(['C']))).toEqual([]);
  });

  it('counts from the start of the member\'s current unbroken period only', () => {
    expect(currentPeriod(history, new Set(['A']))).toEqual({ from: 400, countersAtStart: { ...NO_COUNTS, messages: 40 } });
    expect(currentPeriod(history, new Set(['B']))).toBeUndefined();
    // Moved between A's own sites without a break: counted from the first of them.
    const own = [period('A', null, 200), period('A', 200, null, 20)];
    expect(currentPeriod(own, new Set(['A']))).toEqual({ from: null, countersAtStart: NO_COUNTS });
  });

  it('gives nobody a period whose site was deleted, and nothing for an unbound device', () => {
    expect(memberWindows([period(null, null, 100)], new Set(['A']))).toEqual([]);
    expect(currentPeriod([period('A', null, 100)], new Set(['A']))).toBeUndefined();
    expect(currentPeriod([], new Set(['A']))).toBeUndefined();
  });
});
