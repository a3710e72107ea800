import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  StatementAccumulator, StatementError, StatementPricing, tariffLineKey, type EnergyColumns, type MarketInput, type Statement, type StatementInput,
} from '../../src/billing/domain/statement.js';
import { tariffSchedule, type TariffVersion } from '../../src/billing/domain/tariff-schedule.js';
import { billingText } from '../../src/billing/domain/catalog.js';
import { energyCost, formatMinor, formatNano, roundToMinor, type Nano } from '../../src/kernel/money.js';
import type { Co2Intensity, Quality } from '../../src/kernel/energy.js';

const Q = 900_000;
const PERIOD_START = Date.parse('2026-10-01T00:00:00+02:00');
const PERIOD_END = Date.parse('2026-11-01T00:00:00+01:00');
const QUARTERS = (PERIOD_END - PERIOD_START) / Q;

const tariff = (overrides: Partial<TariffVersion> = {}): TariffVersion => ({
  id: 't1', name: 'Standard', validFrom: '2026-01-01', gridPrice: '0.30', communityPrice: '0.14', feedInPrice: '0.07',
  gridFeeReduction: '0.018', timeOfUse: null, ...overrides,
});

/** One stored quarter hour as sharing's columns carry it. */
interface Quarter {
  startMs: number; self: number; fromCommunity: number; fromGrid: number; toCommunity: number; toGrid: number; billed: number; gridOrigin: number;
  quality: Quality; provisional: boolean;
}

const columnsOf = (quarters: readonly Quarter[]): EnergyColumns => ({
  startsMs: quarters.map((q) => q.startMs),
  selfConsumedWh: quarters.map((q) => q.self),
  fromCommunityWh: quarters.map((q) => q.fromCommunity),
  fromGridWh: quarters.map((q) => q.fromGrid),
  toCommunityWh: quarters.map((q) => q.toCommunity),
  toGridWh: quarters.map((q) => q.toGrid),
  allocatedFromCommunityWh: quarters.map((q) => q.billed),
  communityGridOriginWh: quarters.map((q) => q.gridOrigin),
  quality: quarters.map((q) => q.quality),
  provisional: quarters.map((q) => q.provisional),
});

type Input = Omit<StatementInput, 'intervals'>;

/** The quarter hours fed in chunks (each chunk one call, as a settlement reads a few days at a time). */
function accumulate(input: Input, chunks: readonly (readonly Quarter[])[]): StatementAccumulator {
  const accumulator = new StatementAccumulator(new StatementPricing(input), input);
  for (const chunk of chunks) accumulator.addColumns(columnsOf(chunk));
  return accumulator;
}

/**
 * The reference: the statement priced quarter hour by quarter hour, as billing did before it
 * summed per price segment (each quarter hour's amounts and CO2 computed and added exactly).
 */
function perQuarterStatement(input: Input, quarters: readonly Quarter[]): Omit<Statement, 'market'> {
  const pricesAt = tariffSchedule(input.tariffs, input.timeZone);
  const lines = new Map<string, { code: 'community-energy' | 'community-sales' | 'grid-fee-reduction'; tariff: TariffVersion; energyWh: number; exact: Nano }>();
  const addLine = (code: 'community-energy' | 'community-sales' | 'grid-fee-reduction', t: TariffVersion, wh: number, exact: Nano) => {
    if (wh === 0) return;
    const line = lines.get(`${code}|${t.id}`) ?? { code, tariff: t, energyWh: 0, exact: 0n };
    line.energyWh += wh;
    line.exact += exact;
    lines.set(`${code}|${t.id}`, line);
  };
  const marketSlots = new Set(input.market?.settledSlotsMs ?? []);
  const energy = { consumptionWh: 0, selfConsumedWh: 0, fromCommunityWh: 0, fromGridWh: 0, productionWh: 0, toCommunityWh: 0, toGridWh: 0 };
  let savings = 0n;
  let co2Micrograms = 0n;
  let unpriced = 0;
  for (const q of quarters.filter((r) => r.quality !== 'missing')) {
    energy.selfConsumedWh += q.self;
    energy.fromCommunityWh += q.fromCommunity;
    energy.fromGridWh += q.fromGrid;
    energy.toCommunityWh += q.toCommunity;
    energy.toGridWh += q.toGrid;
    energy.consumptionWh += q.self + q.fromCommunity + q.fromGrid;
    energy.productionWh += q.self + q.toCommunity + q.toGrid;
    const grams = input.co2.kind === 'constant' ? input.co2.gramsPerKWh
      : input.co2.gramsPerKWh.get(Math.floor(q.startMs / 3_600_000) * 3_600_000) ?? input.co2.fallback;
    co2Micrograms += BigInt(q.self + q.fromCommunity - q.gridOrigin) * BigInt(Math.round(grams * 1000));
    const prices = pricesAt(q.startMs);
    if (!prices) {
      unpriced += 1;
      continue;
    }
    if (marketSlots.has(q.startMs)) {
      savings += energyCost(q.self, prices.grid) + energyCost(q.fromCommunity + q.fromGrid, prices.grid) - energyCost(q.toCommunity + q.toGrid, prices.feedIn);
      continue;
    }
    addLine('community-energy', prices.tariff, q.billed, energyCost(q.billed, prices.community));
    addLine('community-sales', prices.tariff, q.toCommunity, -energyCost(q.toCommunity, prices.community));
    addLine('grid-fee-reduction', prices.tariff, q.billed, -energyCost(q.billed, prices.gridFeeReduction));
    savings += energyCost(q.self, prices.grid) + energyCost(q.billed, prices.grid - prices.community + prices.gridFeeReduction)
      + energyCost(q.toCommunity, prices.community - prices.feedIn);
  }
  for (const line of input.market?.lines ?? []) if (line.kind !== 'dispute-correction') savings += line.amount;
  const codes = ['community-energy', 'community-sales', 'grid-fee-reduction'];
  let total = 0n;
  const statementLines = [...lines.values()]
    .sort((a, b) => a.tariff.validFrom.localeCompare(b.tariff.validFrom) || codes.indexOf(a.code) - codes.indexOf(b.code))
    .map((line) => {
      const rounded = roundToMinor(line.exact, 2);
      total += rounded;
      return {
        code: line.code, description: billingText('en', tariffLineKey(line.code), { tariff: line.tariff.name }), tariffId: line.tariff.id,
        energyWh: line.energyWh, unitPrice: line.code === 'grid-fee-reduction' ? line.tariff.gridFeeReduction : line.tariff.communityPrice,
        amount: formatMinor(rounded, 2), exactAmount: formatNano(line.exact),
      };
    });
  const grams = (co2Micrograms + 500_000n) / 1_000_000n; // non-negative here: half up is half away from zero
  return {
    memberId: input.memberId, periodStart: new Date(input.periodStartMs).toISOString(), periodEnd: new Date(input.periodEndMs).toISOString(),
    currency: input.currency, lines: statementLines, total: formatMinor(total, 2), energy, savings: formatMinor(roundToMinor(savings, 2), 2),
    co2AvoidedKg: formatMinor(grams, 3), unpricedIntervals: unpriced,
  };
}

const base = (overrides: Partial<Input> = {}): Input => ({
  memberId: 'm1', periodStartMs: PERIOD_START, periodEndMs: PERIOD_END, timeZone: 'Europe/Vienna', currency: 'EUR',
  tariffs: [tariff()], co2: { kind: 'constant', gramsPerKWh: 250 }, locale: 'en', ...overrides,
});

const quarter = (iso: string, flows: Partial<Quarter> = {}): Quarter => ({
  startMs: Date.parse(iso), self: 0, fromCommunity: 0, fromGrid: 0, toCommunity: 0, toGrid: 0, billed: flows.fromCommunity ?? 0, gridOrigin: 0,
  quality: 'measured', provisional: false, ...flows,
});

describe('StatementAccumulator', () => {
  it('prices a hand-checked month: two price segments, a market quarter hour, a missing one, CO2 rounded once', () => {
    // Night (00:00–06:00 local) grid energy costs 0.20 instead of 0.30: two segments of one tariff.
    const input = base({
      tariffs: [tariff({ timeOfUse: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '06:00', gridPrice: '0.20' }] })],
      co2: { kind: 'constant', gramsPerKWh: 250.5 },
      market: { settledSlotsMs: [Date.parse('2026-10-05T12:15:00+02:00')], lines: [{ kind: 'sale', correction: false, energyWh: 10, amount: 50_000_000n, count: 1 }] },
    });
    const night = quarter('2026-10-05T01:00:00+02:00', { self: 10, fromCommunity: 100, fromGrid: 50, gridOrigin: 20, quality: 'estimated' });
    const noon = quarter('2026-10-05T12:00:00+02:00', { fromCommunity: 200, billed: 180, toCommunity: 40, toGrid: 10, provisional: true });
    const traded = quarter('2026-10-05T12:15:00+02:00', { self: 5, fromCommunity: 30, fromGrid: 20, toCommunity: 7, toGrid: 3 });
    const gap = quarter('2026-10-05T12:30:00+02:00', { fromCommunity: 999, quality: 'missing', provisional: true });
    const accumulator = accumulate(input, [[night], [noon, traded, gap]]);
    const statement = accumulator.statement();
    // Billed 100 + 180 = 280 Wh: × 0.14 = 0.0392 → 0.04; sold 40 Wh × 0.14 = 0.0056 → −0.01; 280 × 0.018 = 0.00504 → −0.01.
    expect(statement.lines.map((l) => [l.code, l.energyWh, l.exactAmount, l.amount])).toEqual([
      ['community-energy', 280, '0.0392', '0.04'],
      ['community-sales', 40, '-0.0056', '-0.01'],
      ['grid-fee-reduction', 280, '-0.00504', '-0.01'],
    ]);
    expect(statement.total).toBe('0.02');
    // Night: 10 × 0.20 + 100 × (0.20 − 0.14 + 0.018) = 0.0098; noon: 180 × 0.178 + 40 × 0.07 = 0.03484;
    // the market's quarter hour: 55 × 0.30 − 10 × 0.07 = 0.0158, plus the 0.05 its sale paid: 0.11044 → 0.11.
    expect(statement.savings).toBe('0.11');
    expect(statement.energy).toEqual({ consumptionWh: 415, selfConsumedWh: 15, fromCommunityWh: 330, fromGridWh: 70, productionWh: 75, toCommunityWh: 47, toGridWh: 13 });
    // (90 + 200 + 35) Wh × 250.5 mg/Wh = 81,412.5 mg → 81 g (rounding each quarter hour to grams would give 23 + 50 + 9 = 82).
    expect(statement.co2AvoidedKg).toBe('0.081');
    expect(statement.unpricedIntervals).toBe(0);
    expect(statement.market?.quarterHours).toBe(1);
    expect(accumulator.quarterCounts()).toEqual({ withData: 3, estimated: 1, provisional: 2 });
    expect(statement).toEqual({ ...perQuarterStatement(input, [night, noon, traded, gap]), market: statement.market });
  });

  it('gives the per-quarter statement for any quarter hours, tariffs, CO2 series, market slots and chunking (property)', () => {
    const flows = fc.record({
      quarter: fc.integer({ min: 0, max: QUARTERS - 1 }),
      self: fc.integer({ min: 0, max: 3000 }), fromCommunity: fc.integer({ min: 0, max: 5000 }), fromGrid: fc.integer({ min: 0, max: 5000 }),
      toCommunity: fc.integer({ min: 0, max: 5000 }), toGrid: fc.integer({ min: 0, max: 5000 }), battery: fc.integer({ min: 0, max: 300 }),
      gridOrigin: fc.integer({ min: 0, max: 100 }), quality: fc.constantFrom<Quality>('measured', 'measured', 'estimated', 'missing'), provisional: fc.boolean(),
      traded: fc.boolean(),
    });
    const price = fc.integer({ min: 0, max: 999_999 }).map((micro) => (micro / 1e6).toFixed(6));
    fc.assert(fc.property(
      fc.array(flows, { minLength: 0, maxLength: 400 }),
      fc.tuple(price, price, price, price, price, fc.integer({ min: 2, max: 28 })),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 743 }), fc.integer({ min: 0, max: 999_999 })), { maxLength: 60 }),
      fc.array(fc.integer({ min: 1, max: 399 }), { maxLength: 6 }),
      ([...drawn], [grid, community, feedIn, reduction, peak, secondDay], hours, cuts) => {
        // Each quarter hour once, ascending, as sharing stores them.
        const byStart = new Map(drawn.map((d) => [PERIOD_START + d.quarter * Q, d]));
        const quarters: Quarter[] = [...byStart.entries()].sort(([a], [b]) => a - b).map(([startMs, d]) => ({
          startMs, self: d.self, fromCommunity: d.fromCommunity, fromGrid: d.fromGrid, toCommunity: d.toCommunity, toGrid: d.toGrid,
          billed: d.fromCommunity + d.battery, gridOrigin: Math.min(d.gridOrigin, d.fromCommunity), quality: d.quality, provisional: d.provisional,
        }));
        const market: MarketInput = { settledSlotsMs: quarters.filter((q) => byStart.get(q.startMs)!.traded).map((q) => q.startMs), lines: [] };
        // No tariff before 3 October (unpriced), then two versions, the second with a weekday peak window.
        const tariffs = [
          tariff({ id: 'a', validFrom: '2026-10-03', gridPrice: grid, communityPrice: community, feedInPrice: feedIn, gridFeeReduction: reduction }),
          tariff({ id: 'b', name: 'Winter', validFrom: `2026-10-${String(Math.max(4, secondDay)).padStart(2, '0')}`, gridPrice: community, communityPrice: grid,
            feedInPrice: feedIn, gridFeeReduction: reduction, timeOfUse: [{ days: [1, 2, 3, 4, 5], from: '17:00', to: '20:00', gridPrice: peak }] }),
        ];
        const co2: Co2Intensity = hours.length === 0 ? { kind: 'constant', gramsPerKWh: 312.125 }
          : { kind: 'hourly', gramsPerKWh: new Map(hours.map(([h, milli]) => [Math.floor(PERIOD_START / 3_600_000) * 3_600_000 + h * 3_600_000, milli / 1000])), fallback: 401.5 };
        const input = base({ tariffs, co2, market });
        const bounds = [0, ...[...new Set(cuts)].sort((a, b) => a - b).filter((c) => c < quarters.length), quarters.length];
        const chunks = bounds.slice(1).map((end, i) => quarters.slice(bounds[i], end));
        const { market: _section, ...statement } = accumulate(input, chunks).statement();
        expect(statement).toEqual(perQuarterStatement(input, quarters));
        // Read in one chunk, the same statement.
        expect(accumulate(input, [quarters]).statement()).toEqual(accumulate(input, chunks).statement());
      },
    ), { numRuns: 150 });
  });

  it('refuses a quarter hour outside the period or off the quarter-hour grid, and energy that is not whole Wh', () => {
    const input = base();
    expect(() => accumulate(input, [[quarter('2026-09-30T21:45:00Z')]])).toThrow(/outside the period/);
    expect(() => accumulate(input, [[quarter('2026-10-31T23:00:00Z')]])).toThrow(/outside the period/);
    expect(() => accumulate(input, [[quarter('2026-10-05T10:05:00Z')]])).toThrow(StatementError);
    expect(() => accumulate(input, [[{ ...quarter('2026-10-05T10:00:00Z'), self: 0.5 }]]).statement()).toThrow(/whole Wh/);
    expect(() => new StatementPricing({ ...input, periodEndMs: input.periodStartMs })).toThrow(/must end after it starts/);
    expect(() => accumulate(base({ co2: { kind: 'constant', gramsPerKWh: 0.0001 } }), [[quarter('2026-10-05T10:00:00Z', { self: 1 })]])).toThrow(/3 decimals/);
  });

  it('counts quarter hours without a tariff as unpriced and bills nothing for them', () => {
    const input = base({ tariffs: [tariff({ validFrom: '2026-10-10' })] });
    const early = quarter('2026-10-05T10:00:00Z', { fromCommunity: 500 });
    const later = quarter('2026-10-12T10:00:00Z', { fromCommunity: 100 });
    const statement = accumulate(input, [[early], [later]]).statement();
    expect(statement.unpricedIntervals).toBe(1);
    expect(statement.lines.find((l) => l.code === 'community-energy')?.energyWh).toBe(100);
    expect(statement.energy.fromCommunityWh).toBe(600);
  });
});
