import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EdaInputError, operatorAllocationRows, operatorFigures, parseConsumptionRecord, type OperatorFigure,
} from '../../../src/operator/domain/index.js';
import { communityDay, communityMessages, consumptionRecordXml, CONSUMER_A, CONSUMER_B, COMMUNITY_ID, kwh, PRODUCER, QH } from './support/messages.js';

const START = Date.UTC(2025, 5, 1, 10, 0);

function message(meteringPoint: string, series: { code: string; values: string[]; methods?: string | string[] }[], extra: { createdMs?: number; communityId?: string | null } = {}) {
  return parseConsumptionRecord(consumptionRecordXml({ meteringPoint, energy: [{ startMs: START, count: series[0]!.values.length, series }], ...extra }));
}

describe('operatorFigures: which code goes where', () => {
  it('a consumer: consumption ← 1-1:1.9.0 G.01, from community ← 1-1:2.9.0 G.03 (own coverage), not G.02 (the share)', () => {
    const [figure] = operatorFigures([message(CONSUMER_A, [
      { code: '1-1:1.9.0 G.01', values: ['0.200'] },
      { code: '1-1:1.9.0 G.01T', values: ['0.200'] },
      { code: '1-1:2.9.0 G.02', values: ['0.350000'] },
      { code: '1-1:2.9.0 G.03', values: ['0.200000'] },
      { code: '1-1:2.9.0 G.03R', values: ['0.150000'] },
    ])]);
    expect(figure).toEqual({
      gridConnectionId: CONSUMER_A, communityId: COMMUNITY_ID, startMs: START,
      consumptionWh: 200, fromCommunityWh: 200, productionWh: null, toCommunityWh: null,
      raw: { '1-1:1.9.0 G.01': 200, '1-1:1.9.0 G.01T': 200, '1-1:2.9.0 G.02': 350, '1-1:2.9.0 G.03': 200, '1-1:2.9.0 G.03R': 150 },
      rawMilliWh: { '1-1:1.9.0 G.01': 200_000, '1-1:1.9.0 G.01T': 200_000, '1-1:2.9.0 G.02': 350_000, '1-1:2.9.0 G.03': 200_000, '1-1:2.9.0 G.03R': 150_000 },
      quality: 'measured',
    } satisfies OperatorFigure);
  });

  it('a producer: production ← 1-1:2.9.0 G.01, to community ← G.01T − P.01T, from the exact values, rounded once', () => {
    const [figure] = operatorFigures([message(PRODUCER, [
      { code: '1-1:2.9.0 G.01', values: ['1.000'] },
      { code: '1-1:2.9.0 G.01T', values: ['0.800000'] },
      { code: '1-1:2.9.0 P.01T', values: ['0.299600'] },
      { code: '1-1:2.9.0 P.01', values: ['0.100000'] },
    ])]);
    // 800 − 299.6 = 500.4 → 500; rounding each first would give 800 − 300 = 500 too, but 0.2996 shows it is one rounding.
    expect(figure).toMatchObject({ consumptionWh: null, fromCommunityWh: null, productionWh: 1000, toCommunityWh: 500 });
  });

  it('falls back to G.01 − P.01 for data from before the participation factor (no T codes)', () => {
    const [figure] = operatorFigures([message(PRODUCER, [
      { code: '1-1:2.9.0 G.01', values: ['1.000'] },
      { code: '1-1:2.9.0 P.01', values: ['0.250'] },
    ])]);
    expect(figure).toMatchObject({ productionWh: 1000, toCommunityWh: 750 });
  });

  it('a surplus above the generation gives no to-community figure (the reconciliation flags it)', () => {
    const [figure] = operatorFigures([message(PRODUCER, [
      { code: '1-1:2.9.0 G.01T', values: ['0.100'] },
      { code: '1-1:2.9.0 P.01T', values: ['0.101'] },
    ])]);
    expect(figure).toMatchObject({ productionWh: null, toCommunityWh: null, raw: { '1-1:2.9.0 G.01T': 100, '1-1:2.9.0 P.01T': 101 } });
  });

  it('a missing code is null, never zero', () => {
    const [figure] = operatorFigures([message(CONSUMER_A, [{ code: '1-1:2.9.0 G.03', values: ['0.000'] }])]);
    expect(figure).toMatchObject({ consumptionWh: null, fromCommunityWh: 0 });
  });

  it('takes the weakest quality of an interval', () => {
    const figures = operatorFigures([message(CONSUMER_A, [
      { code: '1-1:1.9.0 G.01', values: ['0.1', '0.1', '0.1', '0.1'], methods: ['L2', 'L1', '01', 'L1'] },
      { code: '1-1:2.9.0 G.03', values: ['0.1', '0.1', '0.1', '0.1'], methods: ['L1', 'L3', 'L2', 'L1'] },
    ])]);
    expect(figures.map((f) => f.quality)).toEqual(['substitute', 'provisional', 'unspecified', 'measured']);
  });

  it('a later message replaces the same code and quarter hour, and keeps codes it does not carry', () => {
    const provisional = message(CONSUMER_A, [
      { code: '1-1:1.9.0 G.01', values: ['0.300', '0.300'], methods: 'L3' },
      { code: '1-1:2.9.0 G.03', values: ['0.100', '0.100'], methods: 'L3' },
    ]);
    const corrected = parseConsumptionRecord(consumptionRecordXml({ meteringPoint: CONSUMER_A, energy: [{ startMs: START + QH, count: 1, series: [
      { code: '1-1:1.9.0 G.01', values: ['0.310'] },
    ] }] }));
    const figures = operatorFigures([provisional, corrected]);
    expect(figures.map((f) => [f.consumptionWh, f.fromCommunityWh, f.quality])).toEqual([[300, 100, 'provisional'], [310, 100, 'provisional']]);
    expect(operatorFigures([corrected, provisional]).map((f) => f.consumptionWh)).toEqual([300, 300]);
  });

  it('keeps the figures of different communities (ECID) apart', () => {
    const one = message(CONSUMER_A, [{ code: '1-1:2.9.0 G.03', values: ['0.1'] }]);
    const other = message(CONSUMER_A, [{ code: '1-1:2.9.0 G.03', values: ['0.2'] }], { communityId: 'AT00100000000RC100002000000000002' });
    expect(operatorFigures([one, other]).map((f) => [f.communityId, f.fromCommunityWh])).toEqual([
      [COMMUNITY_ID, 100], ['AT00100000000RC100002000000000002', 200],
    ]);
  });
});

describe('operatorFigures on a community day', () => {
  it('gives every consumer and the producer 96 figures; the community balances to the Wh', () => {
    const day = communityDay('2025-06-01', 1);
    const xml = communityMessages(day);
    const figures = operatorFigures([xml.consumerA, xml.consumerB, xml.producer].map((x) => parseConsumptionRecord(x)));
    expect(figures).toHaveLength(3 * 96);
    for (const k of [0, 40, 52, 95]) {
      const at = figures.filter((f) => f.startMs === day.startMs + k * QH);
      const from = at.reduce((sum, f) => sum + (f.fromCommunityWh ?? 0), 0);
      const to = at.reduce((sum, f) => sum + (f.toCommunityWh ?? 0), 0);
      expect(Math.abs(from - to)).toBeLessThanOrEqual(1);
      expect(at.find((f) => f.gridConnectionId === PRODUCER)!.productionWh).toBe(day.productionWh[k]);
    }
  });
});

describe('operatorFigures properties', () => {
  const community = fc.record({
    consumption: fc.array(fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
    production: fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 3, maxLength: 3 }),
    /** Static shares in per-mille of the production. */
    shares: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 4, maxLength: 4 }),
  });

  it('coverage never exceeds consumption or share, Σ coverage = Σ given within ½ Wh per value, and raw = exact values rounded', () => {
    fc.assert(fc.property(community, ({ consumption, production, shares }) => {
      const total = shares.slice(0, consumption.length).reduce((a, b) => a + b, 0) || 1;
      const points = consumption.map((_, i) => `${CONSUMER_A.slice(0, 32)}${i + 5}`);
      const share = consumption.map((_, i) => production.map((wh) => Math.floor((wh * 1000 * shares[i]!) / total)));
      const coverage = share.map((series, i) => series.map((mwh, k) => Math.min(mwh, consumption[i]![k]! * 1000)));
      const surplus = production.map((wh, k) => wh * 1000 - coverage.reduce((sum, series) => sum + series[k]!, 0));
      const records = [
        ...consumption.map((series, i) => message(points[i]!, [
          { code: '1-1:1.9.0 G.01', values: series.map((wh) => kwh(wh * 1000, 3)) },
          { code: '1-1:2.9.0 G.02', values: share[i]!.map((v) => kwh(v)) },
          { code: '1-1:2.9.0 G.03', values: coverage[i]!.map((v) => kwh(v)) },
        ])),
        message(PRODUCER, [
          { code: '1-1:2.9.0 G.01', values: production.map((wh) => kwh(wh * 1000, 3)) },
          { code: '1-1:2.9.0 G.01T', values: production.map((wh) => kwh(wh * 1000, 3)) },
          { code: '1-1:2.9.0 P.01T', values: surplus.map((v) => kwh(v)) },
        ]),
      ];
      const figures = operatorFigures(records);
      for (const figure of figures) {
        for (const [code, wh] of Object.entries(figure.raw)) expect(Math.abs(wh * 1000 - figure.rawMilliWh[code]!)).toBeLessThanOrEqual(500);
        if (figure.fromCommunityWh !== null) {
          expect(figure.fromCommunityWh).toBeLessThanOrEqual(figure.consumptionWh!);
          expect(figure.fromCommunityWh).toBeLessThanOrEqual(figure.raw['1-1:2.9.0 G.02']!);
        }
        if (figure.toCommunityWh !== null) expect(figure.toCommunityWh).toBeLessThanOrEqual(figure.productionWh!);
      }
      for (let k = 0; k < 3; k++) {
        const at = figures.filter((f) => f.startMs === START + k * QH);
        const from = at.reduce((sum, f) => sum + (f.fromCommunityWh ?? 0), 0);
        const to = at.reduce((sum, f) => sum + (f.toCommunityWh ?? 0), 0);
        expect(Math.abs(from - to)).toBeLessThanOrEqual(0.5 * (consumption.length + 1));
      }
    }), { numRuns: 150 });
  });

  it('the result does not depend on the order of messages for different Zählpunkte', () => {
    const day = communityDay('2025-06-01', 7);
    const xml = communityMessages(day);
    const records = [xml.consumerA, xml.consumerB, xml.producer].map((x) => parseConsumptionRecord(x));
    fc.assert(fc.property(fc.shuffledSubarray(records, { minLength: 3, maxLength: 3 }), (shuffled) => {
      expect(operatorFigures(shuffled)).toEqual(operatorFigures(records));
    }), { numRuns: 10 });
  });
});

describe('operatorAllocationRows: the rows the sharing service stores', () => {
  const consumer = message(CONSUMER_A, [
    { code: '1-1:1.9.0 G.01', values: ['0.300'] },
    { code: '1-1:2.9.0 G.03', values: ['0.100'] },
  ]);
  const producer = message(PRODUCER, [
    { code: '1-1:2.9.0 G.01T', values: ['0.500'] },
    { code: '1-1:2.9.0 G.01', values: ['0.500'] },
    { code: '1-1:2.9.0 P.01T', values: ['0.400'] },
  ]);

  it('maps Zählpunkte to metering points and merges a prosumer\'s two Zählpunkte into one row', () => {
    const figures = operatorFigures([consumer, producer, message(CONSUMER_B, [{ code: '1-1:2.9.0 G.03', values: ['0'] }])]);
    const points = new Map([[CONSUMER_A, 'mp-home'], [PRODUCER, 'mp-home']]);
    expect(operatorAllocationRows(figures, (id) => points.get(id), 'eda:msg-1')).toEqual({
      rows: [{ meteringPointId: 'mp-home', startMs: START, consumptionWh: 300, fromCommunityWh: 100, productionWh: 500, toCommunityWh: 100, source: 'eda:msg-1' }],
      unmatched: [CONSUMER_B],
    });
  });

  it('refuses two Zählpunkte giving the same field to one metering point', () => {
    const figures = operatorFigures([consumer, message(CONSUMER_B, [{ code: '1-1:1.9.0 G.01', values: ['0.1'] }])]);
    expect(() => operatorAllocationRows(figures, () => 'mp-1', 'eda')).toThrow(EdaInputError);
    expect(() => operatorAllocationRows(figures, () => 'mp-1', 'eda')).toThrow(/consumptionWh of metering point mp-1 .* comes from AT0010000000000000001000000000001 and from AT0010000000000000001000000000002/);
  });

  it('refuses figures of two communities for the same metering point and quarter hour', () => {
    const other = message(CONSUMER_A, [{ code: '1-1:2.9.0 G.03', values: ['0.2'] }], { communityId: 'AT00100000000RC100002000000000002' });
    expect(() => operatorAllocationRows(operatorFigures([consumer, other]), () => 'mp-1', 'eda')).toThrow(/import one community at a time/);
  });
});
