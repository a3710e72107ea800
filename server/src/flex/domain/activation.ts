import { BadRequestError } from '../../kernel/errors.js';
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
 * The power a member accepting a request says they will move by hand (W), checked against what their
 * opt-in allows: none given → the opt-in's maximum (null: the power it will count is left to the
 * opt-in); an opt-in without a maximum needs one, else the plan could count nothing for the answer;
 * above the opt-in's maximum, or given with a decline → refused naming `body/powerW`.
 */
export function acceptedPowerW(answer: ActivationAnswer, givenW: number | undefined, optInMaxW: number | null): number | null {
  if (givenW === undefined) {
    if (answer === 'accept' && optInMaxW === null) throw new BadRequestError('body/powerW: your opt-in sets no maximum power; say how much power (W) you will move by hand', 'body/powerW');
    return null;
  }
  if (answer === 'decline') throw new BadRequestError('body/powerW: a power goes with accept only', 'body/powerW');
  if (!Number.isInteger(givenW) || givenW < 1) throw new BadRequestError(`body/powerW: ${givenW} is not a whole number of watts above 0`, 'body/powerW');
  if (optInMaxW !== null && givenW > optInMaxW) throw new BadRequestError(`body/powerW: ${givenW} W is above the ${optInMaxW} W your opt-in allows`, 'body/powerW');
  return givenW;
}

/**
 * What the members who accepted a manual activation request are counted for in an ISP of the order
 * (W, signed as the ordered power): the power each said they will move (`acceptedPowerW`; none said: the
 * maximum of their opt-in; both: the smaller), summed, at most the ordered power. A declined or
 * unanswered request counts nothing; the plan's automated devices are bound to deliver the rest.
 */
export function countedByHandW(orderedW: number, acceptedAllowedW: readonly number[]): number {
  const allowed = acceptedAllowedW.reduce((sum, w) => sum + Math.max(0, w), 0);
  const counted = Math.min(Math.abs(orderedW), allowed);
  return orderedW < 0 && counted > 0 ? -counted : counted;
}
