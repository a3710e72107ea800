import type { MicroPrice, Nano } from '../../kernel/money.js';
import { BadRequestError } from '../../kernel/errors.js';
import { ispStartMs, layOut, perIsp, toRanges, type PeriodGrid } from './isp.js';
import { meanOver } from './portfolio.js';
import { roundToAmount, type Hundredths } from './uftp/values.js';
import { WRITTEN_VERSION } from './uftp/inbound.js';
import type { DPrognosis, FlexOffer, FlexRequest } from './uftp/messages.js';

/**
 * The validate and plan phases' arithmetic, pure: what a flexibility request asks of the plan
 * (targets), what the re-plan can deliver (the offer), and the D-Prognosis of a congestion point.
 * Powers are W, + = consumption (net import), as in UFTP; flex is a deviation from the baseline.
 */

/** Deviations smaller than this (W) are the plan's whole-Wh rounding, not flexibility. */
export const MIN_FLEX_W = 10;
/** An offer can be ordered until this long before its first ISP: the order must reach the plan in time. */
export const ORDER_LEAD_MS = 15 * 60_000;

export interface StepTarget {
  readonly step: number;
  readonly minW: number;
  readonly maxW: number;
}

/**
 * The plan's bounds for a request: at each step of an ISP the request addresses and the contract
 * makes available, the baseline plus the request's [MinPower, MaxPower] — or, `reach: 'most'`, pinned
 * at the most the DSO asks for in a directed ISP (MinPower of a decrease, MaxPower of an increase: the
 * full option of mutually exclusive ones); every other ISP of the Period stays at the baseline (no
 * deviation is offered outside the request and the windows).
 */
export function requestTargets(
  request: FlexRequest, ispSteps: ReadonlyMap<number, readonly number[]>, baselineW: readonly number[], available: (isp: number) => boolean,
  reach: 'band' | 'most' = 'band',
): StepTarget[] {
  const asked = perIsp(request.isps, (element) => element);
  const targets: StepTarget[] = [];
  for (const [isp, steps] of ispSteps) {
    const element = asked.get(isp);
    const open = element !== undefined && available(isp);
    const most = open && reach === 'most' && (element.disposition ?? 'Requested') === 'Requested' ? mostAsked(element.minPower, element.maxPower) : undefined;
    for (const step of steps) {
      const base = baselineW[step]!;
      targets.push(!open ? { step, minW: base, maxW: base } : most !== undefined ? { step, minW: base + most, maxW: base + most }
        : { step, minW: base + element.minPower, maxW: base + element.maxPower });
    }
  }
  return targets;
}

/** The most the DSO asks for in a directed ISP (signed W), undefined when its range includes no deviation. */
const mostAsked = (minW: number, maxW: number) => (maxW < 0 ? minW : minW > 0 ? maxW : undefined);

/**
 * Whether a request leaves room for mutually exclusive options: some Requested ISP asks for a
 * direction with a range (its least and most differ), so a partial and a full deviation differ.
 */
export function asksForRange(request: FlexRequest): boolean {
  return request.isps.some((e) => (e.disposition ?? 'Requested') === 'Requested' && mostAsked(e.minPower, e.maxPower) !== undefined && e.minPower !== e.maxPower);
}

export interface OfferInput {
  readonly request: FlexRequest;
  readonly grid: PeriodGrid;
  readonly ispSteps: ReadonlyMap<number, readonly number[]>;
  /** The watched connections' net import per step without the request (the baseline) and with it. */
  readonly baselineW: readonly number[];
  readonly plannedW: readonly number[];
  /** What the plan with the request costs more than the plan without it (nano-units; a saving counts 0). */
  readonly extraCost: Nano;
  /** The contract's volume remuneration per kWh. */
  readonly volumePrice: MicroPrice;
  readonly currency: string;
  readonly nowMs: number;
  readonly messageId: string;
  readonly contractId?: string;
  readonly dPrognosisMessageId?: string;
  /**
   * Further re-plans (the full deviation when the request gives a range and the congestion point
   * takes mutually exclusive offers): each becomes an option B, C, … when it helps a requested ISP
   * and differs from option A's deviations; each priced and bounded on its own.
   */
  readonly alternatives?: ReadonlyArray<{ readonly plannedW: readonly number[]; readonly extraCost: Nano }>;
  /** An offer without a FlexRequest (UFTP 3.1 Unsolicited): the request is the manager's, never sent, and not named. */
  readonly unsolicited?: boolean;
}

export type OfferOutcome =
  | { readonly outcome: 'offer'; readonly offer: FlexOffer; readonly baselineW: ReadonlyMap<number, number> }
  | { readonly outcome: 'reject'; readonly reason: string };

/** Whether a deviation helps a requested range: toward it (a range that straddles 0 takes either direction). */
function helps(deviationW: number, minW: number, maxW: number): boolean {
  if (maxW < 0) return deviationW < 0;
  if (minW > 0) return deviationW > 0;
  return deviationW !== 0;
}

/** The least the DSO asks for in an ISP (W magnitude): 0 when its range includes no deviation. */
const leastAsked = (minW: number, maxW: number) => (maxW < 0 ? -maxW : minW > 0 ? minW : 0);

/**
 * The FlexOffer of a re-plan: option A's ISPs are the deviations (planned − baseline, mean per ISP,
 * at least MIN_FLEX_W) inside the Period; priced at the extra plan cost plus the volume
 * remuneration for the energy moved, rounded up to the 4 decimals UFTP carries; its minimum
 * activation factor is the smallest share of the option that still gives every requested ISP the
 * least the DSO asked for (100 when some ISP falls short). Each alternative re-plan that helps and
 * differs adds a mutually exclusive option the same way. Rejected — with the reason — when no
 * requested ISP moves toward the request, or when it is too late to order before the first ISP.
 */
export function offerFor(input: OfferInput): OfferOutcome {
  const { request, grid, ispSteps } = input;
  const baseline = new Map<number, number>();
  for (const [isp, steps] of ispSteps) baseline.set(isp, meanOver(input.baselineW, steps));
  const deviations = (plannedW: readonly number[]) => {
    const flex = new Map<number, number>();
    for (const [isp, steps] of ispSteps) {
      const deviation = meanOver(plannedW, steps) - baseline.get(isp)!;
      if (Math.abs(deviation) >= MIN_FLEX_W) flex.set(isp, deviation);
    }
    return flex;
  };
  const requested = request.isps.filter((e) => (e.disposition ?? 'Requested') === 'Requested');
  const askedIsps = perIsp(requested, (e) => e);
  const helpsSome = (flex: ReadonlyMap<number, number>) => [...askedIsps].some(([isp, e]) => helps(flex.get(isp) ?? 0, e.minPower, e.maxPower));
  const flex = deviations(input.plannedW);
  if (!helpsSome(flex)) {
    const covered = [...askedIsps.keys()].filter((isp) => ispSteps.has(isp)).length;
    return {
      outcome: 'reject',
      reason: covered === 0
        ? `no requested ISP of ${request.period} lies in the planning horizon`
        : `the portfolio at ${request.congestionPoint} cannot move toward the requested power in any requested ISP (devices opted in under the contract, their limits and the forecasts)`,
    };
  }
  const options = [{ flex, extraCost: input.extraCost }];
  for (const alternative of input.alternatives ?? []) {
    const other = deviations(alternative.plannedW);
    if (helpsSome(other) && options.every((o) => differ(o.flex, other))) options.push({ flex: other, extraCost: alternative.extraCost });
  }
  const firstIsp = Math.min(...options.flatMap((o) => [...o.flex.keys()]));
  const expiration = ispStartMs(grid, firstIsp) - ORDER_LEAD_MS;
  if (expiration <= input.nowMs) return { outcome: 'reject', reason: `too late: the first ISP with flexibility (${firstIsp}) starts within ${ORDER_LEAD_MS / 60_000} minutes` };

  const optionOf = (o: { flex: ReadonlyMap<number, number>; extraCost: Nano }, index: number) => {
    let minActivationFactor: Hundredths = 1;
    for (const [isp, element] of askedIsps) {
      const achieved = Math.abs(o.flex.get(isp) ?? 0);
      const least = leastAsked(element.minPower, element.maxPower);
      if (least === 0) continue;
      minActivationFactor = achieved < least ? 100 : Math.max(minActivationFactor, Math.ceil((100 * least) / achieved));
    }
    const movedWh = [...o.flex.values()].reduce((sum, w) => sum + Math.round((Math.abs(w) * grid.ispMinutes) / 60), 0);
    const extra = o.extraCost > 0n ? o.extraCost : 0n;
    return {
      optionReference: String.fromCharCode(65 + index), price: roundUpToAmount(extra + input.volumePrice * BigInt(movedWh)), minActivationFactor,
      isps: toRanges(o.flex).map(({ start, duration, value }) => ({ power: value, start, duration })),
    };
  };
  const offer: FlexOffer = {
    type: 'FlexOffer', version: WRITTEN_VERSION, senderDomain: request.recipientDomain, recipientDomain: request.senderDomain, timeStamp: input.nowMs,
    messageId: input.messageId, conversationId: request.conversationId, ispDurationMinutes: request.ispDurationMinutes, timeZone: request.timeZone,
    period: request.period, congestionPoint: request.congestionPoint, expirationDateTime: expiration,
    ...(input.unsolicited ? { unsolicited: true } : { flexRequestMessageId: request.messageId }), currency: input.currency,
    ...(input.contractId ? { contractId: input.contractId } : {}),
    ...(input.dPrognosisMessageId ? { dPrognosisMessageId: input.dPrognosisMessageId } : {}),
    offerOptions: options.map(optionOf),
  };
  return { outcome: 'offer', offer, baselineW: baseline };
}

/** Two options' deviations differ when an ISP is in one only or moves by MIN_FLEX_W or more between them. */
function differ(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  const isps = new Set([...a.keys(), ...b.keys()]);
  return [...isps].some((isp) => !a.has(isp) || !b.has(isp) || Math.abs(a.get(isp)! - b.get(isp)!) >= MIN_FLEX_W);
}

/** Up to the next 4-decimal amount (an offer never asks less than what the plan costs). */
function roundUpToAmount(v: Nano): Nano {
  const rounded = roundToAmount(v);
  return rounded < v ? roundToAmount(v + 50_000n) : rounded;
}

/**
 * A D-Prognosis changes materially when an ISP's power moves by more than this share of what was
 * sent (or PROGNOSIS_CHANGE_MIN_W, whichever is larger), or an ISP appears or disappears.
 */
export const PROGNOSIS_CHANGE_SHARE = 0.1;
export const PROGNOSIS_CHANGE_MIN_W = 1000;

/** The prognosis per ISP: the mean planned net import of the congestion point's connections. */
export function prognosisPowers(ispSteps: ReadonlyMap<number, readonly number[]>, plannedW: readonly number[]): Map<number, number> {
  return new Map([...ispSteps].map(([isp, steps]) => [isp, meanOver(plannedW, steps)]));
}

/**
 * Each member's baseline per ISP (Wh): the planned net import of their metering points over the
 * ISP's steps, summed and rounded once — what the D-Prognosis assumed of them, against which their
 * contribution to an order is measured. Points without a member (the community's own) are left out.
 */
export function memberBaselinesOf(
  ispSteps: ReadonlyMap<number, readonly number[]>, points: readonly { readonly memberId: string | null; readonly importW: readonly number[] }[], stepMinutes: number,
): { memberId: string; isp: number; baselineWh: number }[] {
  const perMember = new Map<string, (readonly number[])[]>();
  for (const point of points) if (point.memberId !== null) perMember.set(point.memberId, [...(perMember.get(point.memberId) ?? []), point.importW]);
  return [...perMember].flatMap(([memberId, series]) => [...ispSteps].map(([isp, steps]) => ({
    memberId, isp, baselineWh: Math.round(series.reduce((sum, w) => sum + steps.reduce((s, step) => s + w[step]!, 0), 0) * stepMinutes / 60),
  })));
}

export function changedMaterially(sent: ReadonlyMap<number, number>, next: ReadonlyMap<number, number>): boolean {
  if (sent.size !== next.size) return true;
  for (const [isp, power] of next) {
    const before = sent.get(isp);
    if (before === undefined) return true;
    if (differsMaterially(before, power)) return true;
  }
  return false;
}

/** More than PROGNOSIS_CHANGE_SHARE of the expected power, or PROGNOSIS_CHANGE_MIN_W, whichever is larger. */
function differsMaterially(expectedW: number, otherW: number): boolean {
  return Math.abs(otherW - expectedW) > Math.max(PROGNOSIS_CHANGE_MIN_W, PROGNOSIS_CHANGE_SHARE * Math.abs(expectedW));
}

/**
 * Whether delivery deviates from an order materially: some metered ISP's actual power missed what
 * was ordered (the offer's baseline + the ordered power) by more than the prognosis's own threshold.
 */
export function deliveryDeviates(isps: ReadonlyArray<{ readonly expectedW: number; readonly actualW: number }>): boolean {
  return isps.some(({ expectedW, actualW }) => differsMaterially(expectedW, actualW));
}

/**
 * A revision of a D-Prognosis during its Period: the ISPs that have begun keep what was sent (the
 * past is not revised), the others take the re-plan's power where it has one.
 */
export function revisedDuringPeriod(sent: ReadonlyMap<number, number>, planned: ReadonlyMap<number, number>, firstOpenIsp: number): Map<number, number> {
  return new Map([...sent].map(([isp, power]) => [isp, isp >= firstOpenIsp ? planned.get(isp) ?? power : power]));
}

export interface PrognosisHeader {
  readonly senderDomain: string;
  readonly recipientDomain: string;
  readonly congestionPoint: string;
  readonly grid: PeriodGrid;
  readonly revision: number;
  readonly nowMs: number;
  readonly messageId: string;
  readonly conversationId: string;
}

export function dPrognosis(header: PrognosisHeader, powers: ReadonlyMap<number, number>): DPrognosis {
  const { grid } = header;
  return {
    type: 'D-Prognosis', version: WRITTEN_VERSION, senderDomain: header.senderDomain, recipientDomain: header.recipientDomain, timeStamp: header.nowMs,
    messageId: header.messageId, conversationId: header.conversationId, ispDurationMinutes: grid.ispMinutes, timeZone: grid.timeZone, period: grid.period,
    congestionPoint: header.congestionPoint, revision: header.revision,
    isps: toRanges(powers).map(({ start, duration, value }) => ({ power: value, start, duration })),
  };
}

/** What a manager offers a DSO unasked: the ISPs and the power range (W, + = consumption) to move toward in each. */
export interface UnsolicitedOfferInput {
  readonly participantId: string;
  readonly congestionPoint: string;
  readonly period: string;
  readonly isps: ReadonlyArray<{ readonly start: number; readonly duration: number; readonly minPower: number; readonly maxPower: number }>;
}

/** How far the other ISPs of an unsolicited offer may move (W): the plan is free there, as under a DSO's Available band. */
const UNSOLICITED_AVAILABLE_W = 1_000_000;

/**
 * The request an unsolicited offer is planned from (never sent): the manager's ranges Requested,
 * every other ISP of the Period Available; each range checked — inside the Period, none twice, MinPower
 * ≤ MaxPower, one direction — or a BadRequestError naming it.
 */
export function unsolicitedRequest(input: UnsolicitedOfferInput, grid: PeriodGrid, parties: { readonly dso: string; readonly agr: string; readonly nowMs: number; readonly messageId: string; readonly conversationId: string }): FlexRequest {
  if (input.isps.length === 0) throw new BadRequestError('body/isps: name at least one ISP range', 'body/isps');
  input.isps.forEach((e, i) => {
    const at = `body/isps/${i}`;
    if (!Number.isInteger(e.start) || !Number.isInteger(e.duration) || e.start < 1 || e.duration < 1 || e.start + e.duration - 1 > grid.count) {
      throw new BadRequestError(`${at}: ISPs ${e.start}–${e.start + e.duration - 1} are not inside the ${grid.count} ISPs of ${grid.period}`, at);
    }
    if (e.minPower > e.maxPower) throw new BadRequestError(`${at}: minPower ${e.minPower} is above maxPower ${e.maxPower}`, at);
    if (mostAsked(e.minPower, e.maxPower) === undefined) throw new BadRequestError(`${at}: the range ${e.minPower}…${e.maxPower} W has no direction (both below 0 or both above)`, at);
  });
  const asked = layOut(input.isps, grid.count);
  if (asked.conflicts.length > 0) throw new BadRequestError(`body/isps: ISP ${asked.conflicts[0]} is named twice`, 'body/isps');
  const free = new Map<number, true>();
  for (let isp = 1; isp <= grid.count; isp++) if (!asked.byIsp.has(isp)) free.set(isp, true);
  return {
    type: 'FlexRequest', version: WRITTEN_VERSION, senderDomain: parties.dso, recipientDomain: parties.agr, timeStamp: parties.nowMs,
    messageId: parties.messageId, conversationId: parties.conversationId, ispDurationMinutes: grid.ispMinutes, timeZone: grid.timeZone, period: grid.period,
    congestionPoint: input.congestionPoint, revision: 1, expirationDateTime: grid.endMs,
    isps: [
      ...input.isps.map((e) => ({ disposition: 'Requested' as const, minPower: e.minPower, maxPower: e.maxPower, start: e.start, duration: e.duration })),
      ...toRanges(free).map(({ start, duration }) => ({ disposition: 'Available' as const, minPower: -UNSOLICITED_AVAILABLE_W, maxPower: UNSOLICITED_AVAILABLE_W, start, duration })),
    ].sort((a, b) => a.start - b.start),
  };
}
