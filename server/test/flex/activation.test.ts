import { describe, expect, it } from 'vitest';
import { acceptedPowerW, activationWindow, answered, countedByHandW } from '../../src/flex/domain/activation.js';
import { periodGrid } from '../../src/flex/domain/isp.js';

/** Manual activation requests, pure: the ordered window and direction, and answers only before it begins. */
const grid = periodGrid('2026-06-16', 'Europe/Amsterdam', 15)!;
const at = (isp: number) => grid.startMs + (isp - 1) * 900_000;

describe('manual activation requests', () => {
  it('asks for the ordered ISPs that move, first to last, in the order\'s direction', () => {
    expect(activationWindow({ isps: [{ power: 0, start: 1, duration: 72 }, { power: -1500, start: 73, duration: 4 }, { power: 0, start: 77, duration: 20 }] }, grid))
      .toEqual({ firstIsp: 73, lastIsp: 76, startsAtMs: at(73), endsAtMs: at(77), direction: 'decrease' });
    expect(activationWindow({ isps: [{ power: 800, start: 10, duration: 2 }, { power: -200, start: 12, duration: 1 }] }, grid))
      .toEqual({ firstIsp: 10, lastIsp: 12, startsAtMs: at(10), endsAtMs: at(13), direction: 'increase' });
    expect(activationWindow({ isps: [{ power: 0, start: 1, duration: 96 }] }, grid)).toBeUndefined();
  });

  it('takes an answer until the first ISP begins, not from then on', () => {
    expect(answered(at(73), 'accept', at(73) - 1)).toBe('accepted');
    expect(answered(at(73), 'decline', at(73) - 1)).toBe('declined');
    expect(answered(at(73), 'accept', at(73))).toBeUndefined();
    expect(answered(at(73), 'decline', at(80))).toBeUndefined();
  });

  it('counts members who accepted for their allowed power, signed as ordered and never more than the order', () => {
    expect(countedByHandW(-1_500, [])).toBe(0);
    expect(countedByHandW(-1_500, [300, 400])).toBe(-700);
    expect(countedByHandW(-500, [300, 400])).toBe(-500);
    expect(countedByHandW(800, [300])).toBe(300);
    expect(countedByHandW(0, [300])).toBe(0);
    expect(countedByHandW(-1_500, [-300, 200])).toBe(-200);
  });

  it('takes the power a member says when accepting, within their opt-in; an opt-in without a maximum needs one', () => {
    expect(acceptedPowerW('accept', undefined, 300)).toBeNull();
    expect(acceptedPowerW('accept', 200, 300)).toBe(200);
    expect(acceptedPowerW('accept', 300, 300)).toBe(300);
    expect(acceptedPowerW('accept', 5_000, null)).toBe(5_000);
    expect(acceptedPowerW('decline', undefined, null)).toBeNull();
    for (const [answer, given, max] of [['accept', undefined, null], ['accept', 301, 300], ['accept', 0, null], ['accept', 1.5, null], ['decline', 100, 300]] as const) {
      expect(() => acceptedPowerW(answer, given, max), `${answer} ${given} ${max}`).toThrow(expect.objectContaining({ field: 'body/powerW' }));
    }
  });
});
