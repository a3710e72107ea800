import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildStatement, correctionFor, StatementError, type StatementInput } from '../../src/billing/domain/statement.js';
import type { TariffVersion } from '../../src/billing/domain/tariff-schedule.js';

import { type MemberInterval } from '../../src/kernel/energy.js';
const QUARTER = 900_000;

/** "-4.5892" → nano-units, exactly. */
function nano(text: string): bigint {
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  const value = BigInt(whole!) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  return text.startsWith('-') ? -value : value;
}
const tariff = (overrides: Partial<TariffVersion> = {}): TariffVersion => ({
  id: 't1', name: 'Standard', validFrom: '2026-01-01', gridPrice: '0.30', communityPrice: '0.14', feedInPrice: '0.07',
  gridFeeReduction: '0.018', timeOfUse: null, ...overrides,
});
const interval = (startMs: number, flows: Partial<MemberInterval> = {}): MemberInterval => ({
  startMs, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, toCommunityWh: 0, toGridWh: 0, ...flows,
});

/** Every quarter hour of the local month, as Europe/Vienna counts it. */
function quarterHours(fromIso: string, toIso: string): number[] {
  const out: number[] = [];
  for (let t = Date.parse(fromIso); t < Date.parse(toIso); t += QUARTER) out.push(t);
  return out;
}

const base = (intervals: MemberInterval[], overrides: Partial<StatementInput> = {}): StatementInput => ({
  memberId: 'm1', periodStartMs: Date.parse('2026-10-01T00:00:00+02:00'), periodEndMs: Date.parse('2026-11-01T00:00:00+01:00'),
  timeZone: 'Europe/Vienna', currency: 'EUR', intervals, tariffs: [tariff()], co2: { kind: 'constant', gramsPerKWh: 250 },
  ...overrides,
});

describe('statements', () => {
  it('covers the DST month of October: 2,980 quarter hours, hand-computed amounts', () => {
    const starts = quarterHours('2026-10-01T00:00:00+02:00', '2026-11-01T00:00:00+01:00');
    expect(starts).toHaveLength(30 * 96 + 100); // 25 October has 25 hours
    // 37 Wh from the community and 11 Wh sold in every quarter hour, 5 Wh own PV.
    const statement = buildStatement(base(starts.map((t) => interval(t, { fromCommunityWh: 37, toCommunityWh: 11, selfConsumedWh: 5, fromGridWh: 100 }))));
    // 2,980 × 37 Wh = 110.26 kWh × 0.14 = 15.4364 → 15.44; sold 32.78 kWh × 0.14 = 4.5892 → -4.59;
    // reduction 110.26 kWh × 0.018 = 1.98468 → -1.98.
    expect(statement.lines.map((l) => [l.code, l.energyWh, l.amount, l.exactAmount])).toEqual([
      ['community-energy', 110_260, '15.44', '15.4364'],
      ['community-sales', 32_780, '-4.59', '-4.5892'],
      ['grid-fee-reduction', 110_260, '-1.98', '-1.98468'],
    ]);
    expect(statement.total).toBe('8.87');
    expect(statement.energy).toMatchObject({ consumptionWh: 2980 * 142, productionWh: 2980 * 16 });
    // Savings: own PV 14.9 kWh × 0.30 + community 110.26 × (0.30 − 0.14 + 0.018) + sold 32.78 × (0.14 − 0.07)
    //        = 4.47 + 19.62628 + 2.2946 = 26.39088 → 26.39
    expect(statement.savings).toBe('26.39');
    // (14.9 + 110.26) kWh × 250 g = 31.29 kg
    expect(statement.co2AvoidedKg).toBe('31.290');
  });

  it('starts a new tariff at local midnight and bills each version on its own line', () => {
    const starts = quarterHours('2026-10-14T21:45:00Z', '2026-10-14T22:30:00Z');
    const statement = buildStatement(base(starts.map((t) => interval(t, { fromCommunityWh: 1000 })), {
      tariffs: [tariff(), tariff({ id: 't2', name: 'Winter', validFrom: '2026-10-15', communityPrice: '0.16' })],
    }));
    // 21:45Z is 23:45 local on the 14th (old), 22:00Z and 22:00Z+15' are the 15th (new).
    expect(statement.lines.flatMap((l) => (l.code === 'community-energy' ? [[l.tariffId, l.energyWh, l.amount]] : []))).toEqual([
      ['t1', 1000, '0.14'], ['t2', 2000, '0.32'],
    ]);
  });

  it('uses time-of-use grid prices in local time for savings', () => {
    const peak = tariff({ timeOfUse: [{ days: [1, 2, 3, 4, 5], from: '17:00', to: '20:00', gridPrice: '0.50' }] });
    // Monday 19 October 2026, 17:00 local (15:00Z) is peak; 20:00 local is not.
    const statement = buildStatement(base([
      interval(Date.parse('2026-10-19T15:00:00Z'), { selfConsumedWh: 1000 }),
      interval(Date.parse('2026-10-19T18:00:00Z'), { selfConsumedWh: 1000 }),
    ], { tariffs: [peak] }));
    expect(statement.savings).toBe('0.80');
  });

  it('counts intervals before the first tariff as unpriced instead of guessing', () => {
    const statement = buildStatement(base([interval(Date.parse('2026-10-05T10:00:00Z'), { fromCommunityWh: 500 })], {
      tariffs: [tariff({ validFrom: '2026-10-10' })],
    }));
    expect(statement.unpricedIntervals).toBe(1);
    expect(statement.lines).toEqual([]);
    expect(statement.total).toBe('0.00');
  });

  it('refuses intervals outside the period', () => {
    expect(() => buildStatement(base([interval(Date.parse('2026-09-30T21:00:00Z'))]))).toThrow(/outside the period/);
  });

  it('the total always equals the sum of its rounded lines', () => {
    const starts = quarterHours('2026-10-01T00:00:00+02:00', '2026-10-03T00:00:00+02:00');
    fc.assert(fc.property(
      fc.array(fc.record({ c: fc.nat(5000), s: fc.nat(5000) }), { minLength: starts.length, maxLength: starts.length }),
      fc.constantFrom('0.123457', '0.1', '0.333333', '0.01'),
      (flows, price) => {
        const statement = buildStatement(base(starts.map((t, i) => interval(t, { fromCommunityWh: flows[i]!.c, toCommunityWh: flows[i]!.s })), {
          tariffs: [tariff({ communityPrice: price })],
        }));
        const sumOfLines = statement.lines.reduce((sum, line) => sum + nano(line.amount), 0n);
        expect(nano(statement.total)).toBe(sumOfLines);
        for (const line of statement.lines) {
          const error = nano(line.amount) - nano(line.exactAmount);
          expect(error <= 5_000_000n && error >= -5_000_000n).toBe(true);
        }
      },
    ), { numRuns: 50 });
  });

  describe('flexibility rewards', () => {
    const starts = quarterHours('2026-10-01T00:00:00+02:00', '2026-10-01T01:00:00+02:00');
    const energy = starts.map((t) => interval(t, { fromCommunityWh: 1000 }));
    const reward = (orderReference: string, amountMinor: bigint, contributionWh = 600) => ({ orderReference, period: '2026-10-05', contributionWh, amountMinor });

    it('credits each order\'s reward on its own line, in the catalog\'s words, and the total stays the exact sum of the lines', () => {
      const statement = buildStatement(base(energy, { flexRewards: [reward('order-1', 621n), reward('order-2', 200n, 400)], locale: 'de-AT' }));
      expect(statement.lines.filter((l) => l.code === 'flex-reward')).toEqual([
        { code: 'flex-reward', description: 'Flexibilitätsvergütung, Auftrag order-1 vom 05.10.2026', orderReference: 'order-1', orderPeriod: '2026-10-05', energyWh: 600, amount: '-6.21', exactAmount: '-6.21' },
        { code: 'flex-reward', description: 'Flexibilitätsvergütung, Auftrag order-2 vom 05.10.2026', orderReference: 'order-2', orderPeriod: '2026-10-05', energyWh: 400, amount: '-2.00', exactAmount: '-2' },
      ]);
      // 4 kWh × 0.14 = 0.56, reduction −0.072 → −0.07; rewards −8.21.
      expect(statement.total).toBe('-7.72');
      expect(nano(statement.total)).toBe(statement.lines.reduce((sum, line) => sum + nano(line.amount), 0n));
      expect(buildStatement(base(energy)).lines.some((l) => l.code === 'flex-reward')).toBe(false);
    });

    it('a reward recorded after the statement was issued is corrected on its own line; nothing else changes', () => {
      const issued = buildStatement(base(energy, { flexRewards: [reward('order-1', 621n)] }));
      const fresh = buildStatement(base(energy, { flexRewards: [reward('order-1', 621n), reward('order-2', 200n, 400)] }));
      const correction = correctionFor([issued], fresh)!;
      expect(correction.lines).toEqual([expect.objectContaining({ code: 'flex-reward', orderReference: 'order-2', energyWh: 400, amount: '-2.00' })]);
      expect(correction.total).toBe('-2.00');
      expect(nano(issued.total) + nano(correction.total)).toBe(nano(fresh.total));
      expect(correctionFor([issued, correction], fresh)).toBeUndefined();
    });

    it('refuses a negative reward (the community bears negative nets)', () => {
      expect(() => buildStatement(base(energy, { flexRewards: [reward('order-1', -1n)] }))).toThrow(StatementError);
    });
  });

  describe('the local market', () => {
    const t0 = Date.parse('2026-10-05T10:00:00Z');
    // Four quarter hours, 1,000 Wh from the community in each; the member traded in the middle two.
    const flows = [0, 1, 2, 3].map((k) => interval(t0 + k * QUARTER, { fromCommunityWh: 1000, selfConsumedWh: 100 }));
    const market = {
      settledSlotsMs: [t0 + QUARTER, t0 + 2 * QUARTER],
      lines: [
        // Bought 1,700 Wh at 0.1350 and 0.1450 (0.2380 in all), fee 0.0100; used 300 Wh beyond at 0.2800; a late correction of 25 Wh short.
        { kind: 'purchase' as const, correction: false, energyWh: 1700, amount: -238_000_000n, count: 2 },
        { kind: 'grid-fee' as const, correction: false, energyWh: 1700, amount: -17_000_000n, count: 2 },
        { kind: 'balancing-shortfall' as const, correction: false, energyWh: 300, amount: -84_000_000n, count: 2 },
        { kind: 'balancing-shortfall' as const, correction: true, energyWh: 25, amount: -7_000_000n, count: 1 },
        { kind: 'dispute-correction' as const, correction: true, energyWh: 0, amount: 50_000_000n, count: 1 },
      ],
    };

    it('bills the traded quarter hours by the market alone, each kind rounded once, in a total of its own', () => {
      const statement = buildStatement(base(flows, { market }));
      // The tariff bills the two untraded quarter hours: 2,000 Wh × 0.14 = 0.28, reduction 2,000 × 0.018 = 0.036 → -0.04.
      expect(statement.lines.map((l) => [l.code, l.energyWh, l.amount])).toEqual([['community-energy', 2000, '0.28'], ['grid-fee-reduction', 2000, '-0.04']]);
      expect(statement.total).toBe('0.24');
      expect(statement.market!.lines.map((l) => [l.kind, l.correction, l.energyWh, l.amount, l.exactAmount])).toEqual([
        ['purchase', false, 1700, '0.24', '0.238'], ['grid-fee', false, 1700, '0.02', '0.017'], ['balancing-shortfall', false, 300, '0.08', '0.084'],
        ['balancing-shortfall', true, 25, '0.01', '0.007'], ['dispute-correction', true, 0, '-0.05', '-0.05'],
      ]);
      expect(statement.market!.total).toBe('0.30');
      expect(statement.market!.quarterHours).toBe(2);
      expect(statement.market!.lines[3]!.description).toBe('Local market, correction: energy used beyond the market position (balancing)');
      // The energy is as metered in every quarter hour; where the market priced it, savings are what the grid would
      // have cost less what the market charged, not the tariff's figure.
      expect(statement.energy.fromCommunityWh).toBe(4000);
      // Own PV 400 Wh × 0.30 = 0.12; untraded 2,000 Wh × (0.30 − 0.14 + 0.018) = 0.356; traded 2,000 Wh × 0.30 = 0.60
      // less the market's 0.238 + 0.017 + 0.084 + 0.007 = 0.346 (the dispute's refund is no price): 0.73.
      expect(statement.savings).toBe('0.73');
      // Bought dearer on the market than from the grid, the traded quarter hours cost savings.
      const dear = buildStatement(base(flows, { market: { ...market, lines: [{ kind: 'purchase' as const, correction: false, energyWh: 2000, amount: -700_000_000n, count: 2 }] } }));
      // 0.12 + 0.356 + 0.60 − 0.70 = 0.376 → 0.38
      expect(dear.savings).toBe('0.38');
      // Without the market the same member is billed for all four quarter hours, and has no market section.
      const without = buildStatement(base(flows));
      expect(without.lines[0]!.energyWh).toBe(4000);
      expect(without.market).toBeUndefined();
    });

    it('corrects the market section by kind, and issued + correction = fresh', () => {
      const issued = buildStatement(base(flows, { market: { ...market, lines: market.lines.slice(0, 3) } }));
      const fresh = buildStatement(base(flows, { market }));
      const correction = correctionFor([issued], fresh)!;
      expect(correction.lines).toEqual([]);
      expect(correction.market!.lines.map((l) => [l.kind, l.correction, l.energyWh, l.amount])).toEqual([
        ['balancing-shortfall', true, 25, '0.01'], ['dispute-correction', true, 0, '-0.05'],
      ]);
      expect(correction.market!.total).toBe('-0.04');
      expect(correctionFor([issued, correction], fresh)).toBeUndefined();
    });

    it('refuses a market slot outside the period', () => {
      expect(() => buildStatement(base(flows, { market: { ...market, settledSlotsMs: [Date.parse('2026-11-05T10:00:00Z')] } }))).toThrow(StatementError);
    });
  });
});
