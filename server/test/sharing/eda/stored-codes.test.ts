import { describe, expect, it } from 'vitest';
import {
  EdaInputError, mergeCodes, messageCodes, operatorFigures, parseConsumptionRecord, parseStoredCodes, storedFigure,
  type ConsumptionRecord, type StoredCodes,
} from '../../../src/operator/domain/index.js';
import { communityDay, communityMessages, consumptionRecordXml, CONSUMER_A, kwh } from './support/messages.js';

const START = Date.UTC(2025, 5, 1, 10, 0);

function message(messageId: string, createdMs: number, values: string[], method = 'L1', code = '1-1:2.9.0 G.03'): ConsumptionRecord {
  return parseConsumptionRecord(consumptionRecordXml({
    meteringPoint: CONSUMER_A, messageId, createdMs, energy: [{ startMs: START, count: values.length, series: [{ code, values, methods: method }] }],
  }));
}

/** Stored codes after importing the messages in this order, as the import service does. */
function stored(records: readonly ConsumptionRecord[]): Map<number, StoredCodes> {
  const byStart = new Map<number, StoredCodes>();
  for (const record of records) for (const [ms, codes] of messageCodes(record)) byStart.set(ms, mergeCodes(byStart.get(ms), codes));
  return byStart;
}

describe('stored operator codes', () => {
  it('rebuild exactly the figures operatorFigures gives for the same messages', () => {
    const day = communityMessages(communityDay('2025-06-01', 7));
    for (const xml of [day.consumerA, day.producer]) {
      const record = parseConsumptionRecord(xml);
      const expected = operatorFigures([record]);
      const codes = stored([record]);
      // Through JSON, as the service stores them.
      const rebuilt = [...codes].map(([ms, c]) => storedFigure(record.meteringPoint, record.communityId, ms, parseStoredCodes(JSON.parse(JSON.stringify(c)))));
      expect(rebuilt).toEqual(expected);
    }
  });

  it('keep the newer message\'s value whatever the upload order; codes a message lacks are kept', () => {
    const provisional = message('PROV1', START + 86_400_000, [kwh(99_000), kwh(98_000)], 'L3');
    const correction = message('CORR1', START + 2 * 86_400_000, [kwh(30_000), kwh(31_000)], 'L1');
    const consumption = message('CONS1', START + 86_400_000, ['0.200', '0.210'], 'L1', '1-1:1.9.0 G.01');
    for (const order of [[provisional, correction, consumption], [correction, provisional, consumption], [consumption, correction, provisional]]) {
      const figure = storedFigure(CONSUMER_A, null, START, stored(order).get(START)!);
      expect(figure).toMatchObject({ fromCommunityWh: 30, consumptionWh: 200, quality: 'measured' });
    }
  });

  it('let the later upload win when a message has no creation time to compare', () => {
    const a = mergeCodes(undefined, { 'x': { milliWh: 1, quality: 'measured', messageId: 'A', createdAtMs: 5 } });
    const b = mergeCodes(a, { 'x': { milliWh: 2, quality: 'provisional', messageId: 'B', createdAtMs: null } });
    expect(b.x).toMatchObject({ milliWh: 2, messageId: 'B' });
    const c = mergeCodes(b, { 'x': { milliWh: 3, quality: 'measured', messageId: 'C', createdAtMs: 5 } });
    expect(c.x).toMatchObject({ milliWh: 3, messageId: 'C' });
  });

  it('refuse a corrupt stored row rather than reading a zero', () => {
    expect(() => parseStoredCodes(null)).toThrow(EdaInputError);
    expect(() => parseStoredCodes({ x: { milliWh: 1.5, quality: 'measured', messageId: 'A', createdAtMs: null } })).toThrow(EdaInputError);
    expect(() => parseStoredCodes({ x: { milliWh: 1, quality: 'good', messageId: 'A', createdAtMs: null } })).toThrow(EdaInputError);
    expect(parseStoredCodes({ x: { milliWh: 1, quality: 'substitute', messageId: 'A', createdAtMs: 7 } })).toEqual({ x: { milliWh: 1, quality: 'substitute', messageId: 'A', createdAtMs: 7 } });
  });
});
