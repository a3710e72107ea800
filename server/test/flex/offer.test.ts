import { describe, expect, it } from 'vitest';
import { periodGrid } from '../../src/flex/domain/isp.js';
import { asksForRange, unsolicitedRequest, changedMaterially, deliveryDeviates, dPrognosis, offerFor, ORDER_LEAD_MS, prognosisPowers, requestTargets, revisedDuringPeriod, type OfferInput } from '../../src/flex/domain/offer.js';
import { connectionKey, nextPeriodGate, stepsOfIsps, withinWindows } from '../../src/flex/domain/portfolio.js';
import { encodeMessage, orderMismatches, scaledOption, writeXml } from '../../src/flex/index.js';
import { CONGESTION_POINT, flexOrder, flexRequest, PERIOD, PERIOD_START, schemas, uftpPresent } from './support.js';

/**
 * The plan and validate arithmetic, pure: ISPs over a plan's quarter hours, the targets a request
 * sets, the offer of a re-plan (deviation, price, minimum activation factor, refusals), D-Prognoses
 * and their material change, the gate, availability windows and connection ids.
 */
const grid = periodGrid(PERIOD, 'Europe/Amsterdam', 15)!;
const QUARTER = 15 * 60_000;
/** A horizon from 12:00 local the day before (10:00Z): the Period starts at step 48. */
const HORIZON_START = PERIOD_START - 12 * 4 * QUARTER;
const STEPS = 48 + 96;
const ispSteps = stepsOfIsps(grid, HORIZON_START, QUARTER, STEPS);
const flat = (w: number) => Array.from({ length: STEPS }, () => w);
const stepOf = (isp: number) => 48 + isp - 1;

function input(plannedAt: Record<number, number>, changes: Partial<OfferInput> = {}): OfferInput {
  const baselineW = flat(40_000);
  const plannedW = baselineW.map((w, step) => plannedAt[step] ?? w);
  return {
    request: flexRequest(), grid, ispSteps, baselineW, plannedW, extraCost: 1_234_567_890n, volumePrice: 120_000n, currency: 'EUR',
    nowMs: PERIOD_START - 10 * 3_600_000, messageId: '00000000-0000-4000-8000-0000000000aa', ...changes,
  };
}

describe('plan and validate arithmetic', () => {
  it('maps ISPs onto the plan\'s steps, leaving out ISPs the horizon does not cover', () => {
    expect(ispSteps.size).toBe(96);
    expect(ispSteps.get(1)).toEqual([48]);
    expect(ispSteps.get(96)).toEqual([143]);
    const short = stepsOfIsps(grid, HORIZON_START, QUARTER, 48 + 10);
    expect([...short.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Hourly ISPs take four quarter hours each.
    const hourly = stepsOfIsps(periodGrid(PERIOD, 'Europe/Amsterdam', 60)!, HORIZON_START, QUARTER, STEPS);
    expect(hourly.get(2)).toEqual([52, 53, 54, 55]);
  });

  it('sets targets: the request\'s range around the baseline where asked and available, the baseline elsewhere', () => {
    const baseline = flat(40_000);
    const targets = requestTargets(flexRequest(), ispSteps, baseline, (isp) => isp !== 74);
    const at = (isp: number) => targets.find((t) => t.step === stepOf(isp));
    expect(at(73)).toEqual({ step: stepOf(73), minW: 20_000, maxW: 35_000 });
    expect(at(74)).toEqual({ step: stepOf(74), minW: 40_000, maxW: 40_000 });
    expect(at(1)).toEqual({ step: stepOf(1), minW: -10_000, maxW: 90_000 });
    expect(targets).toHaveLength(96);
  });

  it('offers the re-plan\'s deviation, priced at the extra cost plus volume remuneration, rounded up to 4 decimals', () => {
    // 8 kW less in ISPs 73–76, 4 kW more in 77–84 (the battery recharging).
    const planned: Record<number, number> = {};
    for (const isp of [73, 74, 75, 76]) planned[stepOf(isp)] = 32_000;
    for (let isp = 77; isp <= 84; isp++) planned[stepOf(isp)] = 44_000;
    const outcome = offerFor(input(planned));
    expect(outcome.outcome).toBe('offer');
    if (outcome.outcome !== 'offer') return;
    const [option] = outcome.offer.offerOptions;
    expect(option!.isps).toEqual([{ power: -8_000, start: 73, duration: 4 }, { power: 4_000, start: 77, duration: 8 }]);
    // Moved: 4 × 2000 Wh + 8 × 1000 Wh = 16 kWh × 0.12 = 1.92; + 1.23456789 extra = 3.15456789 → 3.1546.
    expect(option!.price).toBe(3_154_600_000n);
    // The DSO asks at least 5 kW of 8: 63 %.
    expect(option!.minActivationFactor).toBe(63);
    expect(outcome.offer.expirationDateTime).toBe(grid.startMs + 72 * QUARTER - ORDER_LEAD_MS);
    expect(outcome.baselineW.get(73)).toBe(40_000);
  });

  it('pins the full option\'s targets at the most the DSO asks for, only where a range is asked', () => {
    const targets = requestTargets(flexRequest(), ispSteps, flat(40_000), (isp) => isp !== 74, 'most');
    const at = (isp: number) => targets.find((t) => t.step === stepOf(isp));
    // ISP 73 asks −20 … −5 kW: pinned at −20 kW; 74 is outside the windows; Available ISPs keep their band.
    expect(at(73)).toEqual({ step: stepOf(73), minW: 20_000, maxW: 20_000 });
    expect(at(74)).toEqual({ step: stepOf(74), minW: 40_000, maxW: 40_000 });
    expect(at(1)).toEqual({ step: stepOf(1), minW: -10_000, maxW: 90_000 });
    expect(asksForRange(flexRequest())).toBe(true);
    const exact = flexRequest();
    expect(asksForRange({ ...exact, isps: exact.isps.map((e) => (e.disposition === 'Requested' ? { ...e, minPower: -8_000, maxPower: -8_000 } : e)) })).toBe(false);
  });

  it('offers mutually exclusive options: the partial re-plan (A) and the full one (B), each priced and bounded on its own; an order picks one', () => {
    const partial: Record<number, number> = Object.fromEntries([73, 74, 75, 76].map((isp) => [stepOf(isp), 32_000]));
    const fullW = flat(40_000).map((w, step) => (step >= stepOf(73) && step <= stepOf(76) ? 20_000 : w));
    const same = flat(40_000).map((w, step) => partial[step] ?? w);
    const outcome = offerFor(input(partial, { alternatives: [{ plannedW: same, extraCost: 9n }, { plannedW: fullW, extraCost: 4_000_000_000n }] }));
    if (outcome.outcome !== 'offer') throw new Error('expected an offer');
    // The alternative equal to A is no option of its own.
    expect(outcome.offer.offerOptions).toEqual([
      // 4 × 2000 Wh × 0.12 = 0.96 + 1.23456789 → 2.1946; at least 5 kW of 8: 63 %.
      { optionReference: 'A', price: 2_194_600_000n, minActivationFactor: 63, isps: [{ power: -8_000, start: 73, duration: 4 }] },
      // 4 × 5000 Wh × 0.12 = 2.40 + 4 = 6.40; at least 5 kW of 20: 25 %.
      { optionReference: 'B', price: 6_400_000_000n, minActivationFactor: 25, isps: [{ power: -20_000, start: 73, duration: 4 }] },
    ]);
    if (uftpPresent) expect(() => schemas().validate(writeXml(encodeMessage(outcome.offer)), '3.1.0')).not.toThrow();
    const offer = outcome.offer;
    const order = (optionReference: string | undefined, factor: number, option = offer.offerOptions[1]!) => {
      const { isps, price } = scaledOption(option, factor);
      const base = flexOrder(offer, { isps: [...isps], price, activationFactor: factor });
      const { optionReference: _named, ...rest } = base;
      return optionReference === undefined ? rest : { ...rest, optionReference };
    };
    expect(orderMismatches(order('B', 100), offer)).toEqual([]);
    expect(orderMismatches(order('B', 25), offer)).toEqual([]);
    expect(orderMismatches(order('A', 63, offer.offerOptions[0]), offer)).toEqual([]);
    // B's ISPs under A's name, an unknown option, no option named, B below its minimum factor.
    expect(orderMismatches(order('A', 100), offer).map((r) => r.code)).toEqual(expect.arrayContaining(['power_mismatch', 'price_mismatch']));
    expect(orderMismatches(order('Z', 100), offer)).toMatchObject([{ code: 'option_mismatch', detail: expect.stringContaining('no option "Z"') }]);
    expect(orderMismatches(order(undefined, 100), offer)).toMatchObject([{ code: 'option_mismatch', detail: expect.stringContaining('2 options and the order names none') }]);
    expect(orderMismatches(order('B', 24), offer).map((r) => r.code)).toContain('activation_factor_rejected');
  });

  it('plans an unsolicited offer from the manager\'s ranges, every other ISP free, and sends it without a FlexRequest', () => {
    const parties = { dso: 'dso.example.org', agr: 'community.example.org', nowMs: PERIOD_START - 10 * 3_600_000, messageId: '00000000-0000-4000-8000-0000000000b1', conversationId: '00000000-0000-4000-8000-0000000000b2' };
    const request = unsolicitedRequest({ participantId: 'p', congestionPoint: CONGESTION_POINT, period: PERIOD, isps: [{ start: 73, duration: 4, minPower: -20_000, maxPower: -5_000 }] }, grid, parties);
    expect(request.isps).toEqual([
      { disposition: 'Available', minPower: -1_000_000, maxPower: 1_000_000, start: 1, duration: 72 },
      { disposition: 'Requested', minPower: -20_000, maxPower: -5_000, start: 73, duration: 4 },
      { disposition: 'Available', minPower: -1_000_000, maxPower: 1_000_000, start: 77, duration: 20 },
    ]);
    const planned: Record<number, number> = Object.fromEntries([73, 74, 75, 76].map((isp) => [stepOf(isp), 32_000]));
    const outcome = offerFor(input(planned, { request, unsolicited: true }));
    if (outcome.outcome !== 'offer') throw new Error('expected an offer');
    expect(outcome.offer).toMatchObject({ unsolicited: true, congestionPoint: CONGESTION_POINT, recipientDomain: 'dso.example.org', senderDomain: 'community.example.org' });
    expect('flexRequestMessageId' in outcome.offer).toBe(false);
    if (uftpPresent) expect(() => schemas().validate(writeXml(encodeMessage(outcome.offer)), '3.1.0')).not.toThrow();
    const field = (isps: Parameters<typeof unsolicitedRequest>[0]['isps']) => {
      try {
        unsolicitedRequest({ participantId: 'p', congestionPoint: CONGESTION_POINT, period: PERIOD, isps }, grid, parties);
      } catch (error) {
        return (error as { field?: string }).field;
      }
      return 'accepted';
    };
    expect(field([])).toBe('body/isps');
    expect(field([{ start: 95, duration: 3, minPower: -2, maxPower: -1 }])).toBe('body/isps/0');
    expect(field([{ start: 1, duration: 1, minPower: -1, maxPower: -2 }])).toBe('body/isps/0');
    expect(field([{ start: 1, duration: 1, minPower: -1, maxPower: 1 }])).toBe('body/isps/0');
    expect(field([{ start: 1, duration: 2, minPower: 1, maxPower: 2 }, { start: 2, duration: 1, minPower: 1, maxPower: 2 }])).toBe('body/isps');
    expect(field([{ start: 96, duration: 1, minPower: 0, maxPower: 0 }])).toBe('body/isps/0');
  });

  it('asks the full activation when a requested ISP falls short of the least asked, and never prices a saving below the volume', () => {
    const planned: Record<number, number> = { [stepOf(73)]: 36_000, [stepOf(74)]: 32_000 };
    const outcome = offerFor(input(planned, { extraCost: -5_000_000_000n }));
    expect(outcome.outcome === 'offer' && outcome.offer.offerOptions[0]!.minActivationFactor).toBe(100);
    // 1000 Wh + 2000 Wh at 0.12: 0.36, the saving counting 0.
    expect(outcome.outcome === 'offer' && outcome.offer.offerOptions[0]!.price).toBe(360_000_000n);
  });

  it('rejects with a reason when nothing moves toward the request, or when it is too late to order', () => {
    const wrongWay: Record<number, number> = { [stepOf(73)]: 45_000 };
    expect(offerFor(input(wrongWay))).toMatchObject({ outcome: 'reject', reason: expect.stringContaining('cannot move toward') });
    expect(offerFor(input({}))).toMatchObject({ outcome: 'reject' });
    const late = offerFor(input({ [stepOf(73)]: 30_000 }, { nowMs: grid.startMs + 72 * QUARTER - 60_000 }));
    expect(late).toMatchObject({ outcome: 'reject', reason: expect.stringContaining('too late') });
    const outside = offerFor(input({}, { ispSteps: new Map() }));
    expect(outside).toMatchObject({ outcome: 'reject', reason: expect.stringContaining('planning horizon') });
  });

  it.skipIf(!uftpPresent)('writes offers and D-Prognoses that validate against the 3.1.0 schema', () => {
    const planned: Record<number, number> = { [stepOf(73)]: 30_000, [stepOf(74)]: 30_000 };
    const outcome = offerFor(input(planned));
    if (outcome.outcome !== 'offer') throw new Error('expected an offer');
    const prognosis = dPrognosis({
      senderDomain: 'community.example.org', recipientDomain: 'dso.example.org', congestionPoint: 'ea1.2026-01.org.example.dso:feeder-7', grid, revision: 2,
      nowMs: PERIOD_START - 3_600_000, messageId: '00000000-0000-4000-8000-0000000000ab', conversationId: '00000000-0000-4000-8000-0000000000ac',
    }, prognosisPowers(ispSteps, flat(40_000).map((w, s) => w + (s % 7) * 1000)));
    for (const message of [outcome.offer, prognosis]) expect(() => schemas().validate(writeXml(encodeMessage(message)), '3.1.0')).not.toThrow();
    expect(prognosis.isps.reduce((n, e) => n + e.duration, 0)).toBe(96);
  });

  it('tells a material change of a D-Prognosis: more than 10 % or 1 kW in some ISP, or other ISPs', () => {
    const sent = new Map([[1, 40_000], [2, 5_000]]);
    expect(changedMaterially(sent, new Map([[1, 43_900], [2, 5_900]]))).toBe(false);
    expect(changedMaterially(sent, new Map([[1, 44_100], [2, 5_000]]))).toBe(true);
    expect(changedMaterially(sent, new Map([[1, 40_000], [2, 6_100]]))).toBe(true);
    expect(changedMaterially(sent, new Map([[1, 40_000]]))).toBe(true);
  });

  it('tells a delivery that deviates from its order by the same threshold, and revises only the ISPs not begun', () => {
    // Ordered 800 W (baseline 2000 − 1200): 1000 W off is not material (the 1 kW floor), 1001 W is; 10 % of a large target.
    expect(deliveryDeviates([])).toBe(false);
    expect(deliveryDeviates([{ expectedW: 800, actualW: 1_800 }, { expectedW: 800, actualW: -200 }])).toBe(false);
    expect(deliveryDeviates([{ expectedW: 800, actualW: 800 }, { expectedW: 800, actualW: 1_801 }])).toBe(true);
    expect(deliveryDeviates([{ expectedW: -20_000, actualW: -17_900 }])).toBe(true);
    expect(deliveryDeviates([{ expectedW: -20_000, actualW: -18_100 }])).toBe(false);
    const sent = new Map([[1, 1_000], [2, 1_000], [3, 1_000], [4, 1_000]]);
    // ISPs 1–2 have begun: kept; 3 re-planned; 4 has no planned power (beyond the horizon): kept.
    expect(revisedDuringPeriod(sent, new Map([[1, 9_000], [2, 9_000], [3, 3_000]]), 3)).toEqual(new Map([[1, 1_000], [2, 1_000], [3, 3_000], [4, 1_000]]));
    expect(revisedDuringPeriod(sent, new Map([[3, 3_000]]), 5)).toEqual(sent);
  });

  it('finds tomorrow\'s Period and today\'s gate in the zone, ISPs inside availability windows, and connection ids', () => {
    expect(nextPeriodGate(Date.UTC(2026, 4, 31, 9, 0), 'Europe/Amsterdam', '12:00')).toEqual({ period: PERIOD, gateMs: Date.UTC(2026, 4, 31, 10, 0) });
    // 2026-06-01 is a Monday; ISP 45 is 11:00–11:15 local.
    const weekdays = [{ weekdays: [1, 2, 3, 4, 5], from: '11:00', to: '15:00' }];
    expect(withinWindows(weekdays, 'Europe/Amsterdam', grid, 45)).toBe(true);
    expect(withinWindows(weekdays, 'Europe/Amsterdam', grid, 44)).toBe(false);
    expect(withinWindows(weekdays, 'Europe/Amsterdam', grid, 60)).toBe(true);
    expect(withinWindows(weekdays, 'Europe/Amsterdam', grid, 61)).toBe(false);
    expect(withinWindows([{ weekdays: [6, 7], from: '00:00', to: '24:00' }], 'Europe/Amsterdam', grid, 45)).toBe(false);
    expect(connectionKey('ean.871685900012636543')).toBe(connectionKey('871685900012636543'));
    expect(connectionKey(' AT0010000000000000001000004392 ')).toBe(connectionKey('ean.at0010000000000000001000004392'));
  });
});
