import { ispStartMs, perIsp, type PeriodGrid } from './isp.js';
import type { FlexOrder } from './uftp/messages.js';

/**
 * Manual activation requests, pure: what a member whose device the plan may not control is asked
 * to do by hand for an accepted order — move in the ordered ISPs, in the ordered direction — and
 * until when they can answer (the first ordered ISP's start: an answer after it changes nothing).
 */

export type ActivationDirection = 'decrease' | 'increase';
export type ActivationState = 'pending' | 'accepted' | 'declined';
export type ActivationAnswer = 'accept' | 'decline';

export interface ActivationWindow {
  readonly firstIsp: number;
  readonly lastIsp: number;
  readonly startsAtMs: number;
  readonly endsAtMs: number;
  readonly direction: ActivationDirection;
}

/** The ordered ISPs with a deviation, from first to last, and its direction; undefined when the order moves nothing. */
export function activationWindow(order: Pick<FlexOrder, 'isps'>, grid: PeriodGrid): ActivationWindow | undefined {
  const moving = [...perIsp(order.isps, (e) => e.power)].filter(([, power]) => power !== 0);
  if (moving.length === 0) return undefined;
  const isps = moving.map(([isp]) => isp);
  const firstIsp = Math.min(...isps);
  const lastIsp = Math.max(...isps);
  // The ordered power is the portfolio's deviation: below zero asks for less consumption.
  const decrease = moving.reduce((sum, [, power]) => sum + power, 0) < 0;
  return { firstIsp, lastIsp, startsAtMs: ispStartMs(grid, firstIsp), endsAtMs: ispStartMs(grid, lastIsp + 1), direction: decrease ? 'decrease' : 'increase' };
}

/** The state after a member's answer; undefined when answering is over (the ISPs have begun). */
export function answered(startsAtMs: number, answer: ActivationAnswer, nowMs: number): ActivationState | undefined {
  if (nowMs >= startsAtMs) return undefined;
  return answer === 'accept' ? 'accepted' : 'declined';
}

/**
 * What the members who accepted a manual activation request are counted for in an ISP of the order
 * (W, signed as the ordered power): the power they allowed on their opt-in, summed, at most the
 * ordered power. A declined or unanswered request counts nothing, nor one whose member set no
 * maximum power (how far a device moved by hand goes is not known then); the plan's automated
 * devices are bound to deliver the rest.
 */
export function countedByHandW(orderedW: number, acceptedAllowedW: readonly number[]): number {
  const allowed = acceptedAllowedW.reduce((sum, w) => sum + Math.max(0, w), 0);
  const counted = Math.min(Math.abs(orderedW), allowed);
  return orderedW < 0 && counted > 0 ? -counted : counted;
}
