import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EdaInputError, operatorFigures, parseConsumptionRecord, reconcile, type Difference, type MeteredInterval, type OperatorFigure,
} from '../../../src/operator/domain/index.js';
import { communityDay, communityMessages, consumptionRecordXml, CONSUMER_A, CONSUMER_B, PRODUCER, QH, type CommunityDay } from './support/messages.js';

const START = Date.UTC(2025, 5, 1, 10, 0);

function figuresOf(meteringPoint: string, series: { code: string; values: string[] }[]): OperatorFigure[] {
  return operatorFigures([parseConsumptionRecord(consumptionRecordXml({ meteringPoint, energy: [{ startMs: START, count: series[0]!.values.length, series }] }))]);
}

const imported = (gridConnectionId: string, values: (number | null)[], start = START): MeteredInterval[] =>
  values.map((importWh, k) => ({ gridConnectionId, startMs: start + k * QH, importWh, exportWh: null, quality: importWh === null ? 'missing' : 'measured' }));
const exported = (gridConnectionId: string, values: (number | null)[], start = START): MeteredInterval[] =>
  values.map((exportWh, k) => ({ gridConnectionId, startMs: start + k * QH, importWh: null, exportWh, quality: exportWh === null ? 'missing' : 'measured' }));

const kinds = (differences: readonly Difference[]) => differences.map((d) => [d.kind, d.gridConnectionId, (d.startMs - START) / QH, d.differenceWh]);

function dayFigures(day: CommunityDay) {
  const xml = communityMessages(day);
  return operatorFigures([xml.consumerA, xml.consumerB, xml.producer].map((x) => parseConsumptionRecord(x)));
}

function dayMetered(day: CommunityDay): MeteredInterval[] {
  return [
    ...imported(CONSUMER_A, [...day.consumptionWh[0]!], day.startMs),
    ...imported(CONSUMER_B, [...day.consumptionWh[1]!], day.startMs),
    ...exported(PRODUCER, [...day.productionWh], day.startMs),
  ];
}

describe('reconcile: a day in agreement', () => {
  const day = communityDay('2025-06-01', 1);
  const result = reconcile(dayFigures(day), dayMetered(day));

  it('flags nothing', () => {
    expect(result.differences).toEqual([]);
  });

  it('summarises per Zählpunkt and for the community', () => {
    const total = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
    expect(result.points.map((p) => [p.gridConnectionId, p.role, p.operatorIntervals, p.meteredIntervals, p.comparedIntervals, p.operatorWh, p.meteredWh, p.differenceWh, p.flagged])).toEqual([
      [CONSUMER_A, 'consumption', 96, 96, 96, total(day.consumptionWh[0]!), total(day.consumptionWh[0]!), 0, 0],
      [CONSUMER_B, 'consumption', 96, 96, 96, total(day.consumptionWh[1]!), total(day.consumptionWh[1]!), 0, 0],
      [PRODUCER, 'generation', 96, 96, 96, total(day.productionWh), total(day.productionWh), 0, 0],
    ]);
    expect(result.community.balancedIntervals).toBe(96);
    expect(result.community.imbalancedIntervals).toBe(0);
    expect(Math.abs(result.community.fromCommunityWh - result.community.toCommunityWh)).toBeLessThanOrEqual(96 * 1.5);
    expect(result.points[2]!.communityWh).toBe(result.community.toCommunityWh);
  });
});

describe('reconcile: operator against metered', () => {
  const operator = figuresOf(CONSUMER_A, [{ code: '1-1:1.9.0 G.01', values: ['0.100', '0.100', '0.100', '0.100'] }]);

  it('never flags 1 Wh (two whole-Wh meters), flags 2 Wh with the difference and both qualities', () => {
    const result = reconcile(operator, imported(CONSUMER_A, [100, 101, 99, 102]));
    expect(kinds(result.differences)).toEqual([['consumption_mismatch', CONSUMER_A, 3, -2]]);
    expect(result.differences[0]).toMatchObject({ operatorWh: 100, referenceWh: 102, allowedWh: 1, operatorQuality: 'measured', meteredQuality: 'measured' });
    expect(result.points[0]).toMatchObject({ comparedIntervals: 4, operatorWh: 400, meteredWh: 402, differenceWh: -2, largestDifferenceWh: 2, flagged: 1, flaggedByKind: { consumption_mismatch: 1 } });
  });

  it('does not flag rounding of values sent with more decimals than Wh', () => {
    const fine = figuresOf(CONSUMER_A, [{ code: '1-1:1.9.0 G.01', values: ['0.1004', '0.1005', '0.0995'] }]);
    expect(reconcile(fine, imported(CONSUMER_A, [100, 101, 99])).differences).toEqual([]);
    expect(reconcile(fine, imported(CONSUMER_A, [100, 100, 100])).differences).toEqual([]);
  });

  it('widens by tolerance in Wh and in percent of the larger side', () => {
    const metered = imported(CONSUMER_A, [105, 110, 90, 100]);
    expect(kinds(reconcile(operator, metered).differences).map((d) => d[2])).toEqual([0, 1, 2]);
    expect(kinds(reconcile(operator, metered, { wh: 5 }).differences).map((d) => d[2])).toEqual([1, 2]);
    expect(kinds(reconcile(operator, metered, { percent: 9.1 }).differences).map((d) => d[2])).toEqual([2]);
    expect(kinds(reconcile(operator, metered, { wh: 10, percent: 1 }).differences)).toEqual([]);
  });

  it('compares a generation Zählpunkt with the export, not the import', () => {
    const producer = figuresOf(PRODUCER, [{ code: '1-1:2.9.0 G.01', values: ['0.500', '0.500'] }]);
    const metered: MeteredInterval[] = [
      { gridConnectionId: PRODUCER, startMs: START, importWh: 3, exportWh: 500, quality: 'measured' },
      { gridConnectionId: PRODUCER, startMs: START + QH, importWh: 0, exportWh: 480, quality: 'estimated' },
    ];
    expect(reconcile(producer, metered).differences).toEqual([{
      kind: 'production_mismatch', gridConnectionId: PRODUCER, startMs: START + QH, operatorWh: 500, referenceWh: 480, differenceWh: 20,
      allowedWh: 1, operatorQuality: 'measured', meteredQuality: 'estimated',
    }]);
  });

  it('flags quarter hours present on one side only, and metered gaps', () => {
    const result = reconcile(operator.slice(0, 3), [...imported(CONSUMER_A, [100, null]), ...imported(CONSUMER_A, [100, 100], START + 3 * QH)]);
    expect(kinds(result.differences)).toEqual([
      ['missing_metered_interval', CONSUMER_A, 1, null],
      ['missing_metered_interval', CONSUMER_A, 2, null],
      ['missing_operator_figure', CONSUMER_A, 3, null],
      ['missing_operator_figure', CONSUMER_A, 4, null],
    ]);
    expect(result.differences[0]).toMatchObject({ operatorWh: 100, referenceWh: null, meteredQuality: 'missing' });
    expect(result.differences[2]).toMatchObject({ operatorWh: null, referenceWh: 100, operatorQuality: null });
    expect(result.points[0]).toMatchObject({ operatorIntervals: 3, meteredIntervals: 4, comparedIntervals: 1 });
  });

  it('flags a consumption figure without G.01 where we measured import', () => {
    const coverageOnly = figuresOf(CONSUMER_A, [{ code: '1-1:2.9.0 G.03', values: ['0.050'] }]);
    expect(kinds(reconcile(coverageOnly, imported(CONSUMER_A, [100])).differences.filter((d) => d.gridConnectionId !== null))).toEqual([['missing_operator_figure', CONSUMER_A, 0, null]]);
  });
});

describe("reconcile: the operator's own figures", () => {
  it('flags own coverage above consumption (G.01, and G.01T when sent) and above the share', () => {
    const figures = figuresOf(CONSUMER_A, [
      { code: '1-1:1.9.0 G.01', values: ['0.100', '0.100', '0.100', '0.100'] },
      { code: '1-1:1.9.0 G.01T', values: ['0.100', '0.050', '0.100', '0.100'] },
      { code: '1-1:2.9.0 G.02', values: ['0.200', '0.200', '0.080', '0.100'] },
      { code: '1-1:2.9.0 G.03', values: ['0.100001', '0.060', '0.090', '0.100'] },
    ]);
    const result = reconcile(figures, imported(CONSUMER_A, [100, 100, 100, 100]));
    expect(kinds(result.differences.filter((d) => d.kind !== 'community_imbalance'))).toEqual([
      ['allocated_exceeds_consumption', CONSUMER_A, 0, 0],
      ['allocated_exceeds_consumption', CONSUMER_A, 1, 10],
      ['allocated_exceeds_share', CONSUMER_A, 2, 10],
    ]);
    expect(result.differences[0]).toMatchObject({ operatorWh: 100, referenceWh: 100, allowedWh: 0 });
  });

  it('flags a surplus above the generation', () => {
    const figures = figuresOf(PRODUCER, [
      { code: '1-1:2.9.0 G.01T', values: ['0.100', '0.100'] },
      { code: '1-1:2.9.0 P.01T', values: ['0.100', '0.130'] },
    ]);
    const flagged = reconcile(figures, []).differences.filter((d) => d.kind === 'surplus_exceeds_production');
    expect(kinds(flagged)).toEqual([['surplus_exceeds_production', PRODUCER, 1, 30]]);
    expect(flagged[0]).toMatchObject({ operatorWh: 130, referenceWh: 100 });
  });

  it('balances the community per quarter hour on exact values, allowing ½ Wh per value sent', () => {
    const consumers = [
      ...figuresOf(CONSUMER_A, [{ code: '1-1:2.9.0 G.03', values: ['0.100400', '0.100', '0.100'] }]),
      ...figuresOf(CONSUMER_B, [{ code: '1-1:2.9.0 G.03', values: ['0.050400', '0.050', '0.050'] }]),
    ];
    const producer = figuresOf(PRODUCER, [
      { code: '1-1:2.9.0 G.01T', values: ['0.400', '0.400', '0.400'] },
      { code: '1-1:2.9.0 P.01T', values: ['0.250', '0.247', '0.253'] },
    ]);
    // Quarter hour 0: 150.8 covered vs 150 given, within 4 × ½ Wh; 1: 150 vs 153; 2: 150 vs 147.
    const result = reconcile([...consumers, ...producer], []);
    expect(kinds(result.differences.filter((d) => d.kind === 'community_imbalance'))).toEqual([
      ['community_imbalance', null, 1, -3],
      ['community_imbalance', null, 2, 3],
    ]);
    expect(result.differences.find((d) => d.kind === 'community_imbalance')).toMatchObject({ operatorWh: 150, referenceWh: 153, allowedWh: 2 });
    expect(result.community).toMatchObject({ balancedIntervals: 3, imbalancedIntervals: 2 });
    expect(reconcile([...consumers, ...producer], [], { wh: 3 }).community.imbalancedIntervals).toBe(0);
  });

  it('flags coverage without any producer figure as an imbalance', () => {
    const consumers = figuresOf(CONSUMER_A, [{ code: '1-1:2.9.0 G.03', values: ['0.100'] }]);
    expect(kinds(reconcile(consumers, []).differences)).toEqual([['community_imbalance', null, 0, 100]]);
  });
});

describe('reconcile refuses inputs no caller should pass', () => {
  const operator = figuresOf(CONSUMER_A, [{ code: '1-1:1.9.0 G.01', values: ['0.100'] }]);
  it.each<[string, () => unknown]>([
    ['a metered interval twice', () => reconcile(operator, [...imported(CONSUMER_A, [1]), ...imported(CONSUMER_A, [2])])],
    ['a figure twice', () => reconcile([...operator, ...operator], [])],
    ['a start off the quarter-hour grid', () => reconcile(operator, imported(CONSUMER_A, [1], START + 60_000))],
    ['NaN Wh', () => reconcile(operator, imported(CONSUMER_A, [Number.NaN]))],
    ['negative Wh', () => reconcile(operator, imported(CONSUMER_A, [-1]))],
    ['fractional Wh', () => reconcile(operator, imported(CONSUMER_A, [1.5]))],
    ['a negative tolerance', () => reconcile(operator, [], { wh: -1 })],
    ['an infinite tolerance', () => reconcile(operator, [], { wh: Number.POSITIVE_INFINITY })],
    ['a tolerance over 100 %', () => reconcile(operator, [], { percent: 101 })],
    ['figures of two communities', () => reconcile([...operator, { ...operator[0]!, gridConnectionId: CONSUMER_B, communityId: 'AT00100000000RC100002000000000002' }], [])],
  ])('%s', (_, call) => {
    expect(call).toThrow(EdaInputError);
  });

  it('accepts figures without a community (schema before 01.40) next to one community', () => {
    const older = { ...operator[0]!, gridConnectionId: CONSUMER_B, communityId: null };
    expect(reconcile([...operator, older], [...imported(CONSUMER_A, [100]), ...imported(CONSUMER_B, [100])]).differences).toEqual([]);
  });
});

describe('reconcile properties', () => {
  const day = communityDay('2025-06-01', 11);
  const figures = dayFigures(day);
  const metered = dayMetered(day);
  const points = [CONSUMER_A, CONSUMER_B, PRODUCER];

  it('a change of d Wh in one metered quarter hour is flagged exactly when |d| > 1, with difference −d', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: metered.length - 1 }), fc.integer({ min: -50, max: 50 }), (index, delta) => {
      const interval = metered[index]!;
      const value = (interval.importWh ?? interval.exportWh)!;
      fc.pre(value + delta >= 0);
      const changed = metered.map((m, k) => (k !== index ? m : m.importWh !== null ? { ...m, importWh: value + delta } : { ...m, exportWh: value + delta }));
      const result = reconcile(figures, changed);
      if (Math.abs(delta) <= 1) expect(result.differences).toEqual([]);
      else expect(kinds(result.differences)).toEqual([[interval.importWh !== null ? 'consumption_mismatch' : 'production_mismatch', interval.gridConnectionId, (interval.startMs - START) / QH, -delta]]);
    }), { numRuns: 200 });
  });

  it('more tolerance never flags more; summaries count exactly the differences of their point', () => {
    const noisy = fc.array(fc.integer({ min: -30, max: 30 }), { minLength: metered.length, maxLength: metered.length });
    fc.assert(fc.property(noisy, fc.nat(40), fc.nat(40), fc.double({ min: 0, max: 20, noNaN: true }), (noise, a, b, percent) => {
      const changed = metered.map((m, k) => (m.importWh !== null ? { ...m, importWh: Math.max(0, m.importWh + noise[k]!) } : { ...m, exportWh: Math.max(0, m.exportWh! + noise[k]!) }));
      const loose = reconcile(figures, changed, { wh: Math.max(a, b), percent });
      const strict = reconcile(figures, changed, { wh: Math.min(a, b) });
      expect(loose.differences.length).toBeLessThanOrEqual(strict.differences.length);
      for (const result of [loose, strict]) {
        for (const point of result.points) {
          expect(point.flagged).toBe(result.differences.filter((d) => d.gridConnectionId === point.gridConnectionId).length);
          expect(point.differenceWh).toBe(point.operatorWh - point.meteredWh);
        }
        for (const difference of result.differences) expect(Math.abs(difference.differenceWh!)).toBeGreaterThanOrEqual(difference.allowedWh);
      }
    }), { numRuns: 100 });
  });

  it('the outcome does not depend on the order of the inputs', () => {
    fc.assert(fc.property(fc.shuffledSubarray(figures, { minLength: figures.length, maxLength: figures.length }),
      fc.shuffledSubarray(metered, { minLength: metered.length, maxLength: metered.length }), (f, m) => {
        const changed = m.map((x) => (x.gridConnectionId === points[0] && x.importWh !== null ? { ...x, importWh: x.importWh + 3 } : x));
        const sorted = metered.map((x) => (x.gridConnectionId === points[0] && x.importWh !== null ? { ...x, importWh: x.importWh + 3 } : x));
        expect(reconcile(f, changed)).toEqual(reconcile(figures, sorted));
      }), { numRuns: 20 });
  });
});
