import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EdaMessageError, parseConsumptionRecord, type ConsumptionRecord } from '../../../src/operator/domain/index.js';
import { consumptionRecordXml, CONSUMER_A, kwh, QH } from './support/messages.js';

const START = Date.UTC(2025, 0, 14, 23, 0);
const BASE = consumptionRecordXml({
  meteringPoint: CONSUMER_A,
  energy: [{ startMs: START, count: 4, reason: '00', series: [
    { code: '1-1:1.9.0 G.01', values: ['0.123', '0.456', '0.789', '1.000'] },
    { code: '1-1:2.9.0 G.02', values: ['0.200000', '0.200000', '0.200000', '0.200000'] },
    { code: '1-1:2.9.0 G.03', values: ['0.123000', '0.200000', '0.200000', '0.200000'], methods: ['L1', 'L2', 'L3', 'L1'] },
  ] }],
});

/** Whatever the input, the parser returns a consistent record or throws an EdaMessageError, quickly. */
function outcome(input: string | Uint8Array): ConsumptionRecord | EdaMessageError {
  const started = performance.now();
  try {
    const record = parseConsumptionRecord(input);
    for (const block of record.energy) {
      expect(block.periodEndMs - block.periodStartMs).toBe(block.intervalCount * QH);
      for (const series of block.series) {
        expect(series.positions).toHaveLength(block.intervalCount);
        for (const position of series.positions) {
          expect(position.startMs % QH).toBe(0);
          expect(position.startMs).toBeGreaterThanOrEqual(block.periodStartMs);
          expect(position.startMs).toBeLessThan(block.periodEndMs);
          expect(Number.isSafeInteger(position.milliWh)).toBe(true);
          expect(Math.abs(position.wh * 1000 - position.milliWh)).toBeLessThanOrEqual(500);
          if (series.known) expect(position.milliWh).toBeGreaterThanOrEqual(0);
        }
      }
    }
    return record;
  } catch (error) {
    if (!(error instanceof EdaMessageError)) throw error;
    expect(error.reason).toMatch(/^[a-z0-9_]+$/);
    return error;
  } finally {
    expect(performance.now() - started).toBeLessThan(2000);
  }
}

describe('parseConsumptionRecord under fuzzing', () => {
  it('the base message parses', () => {
    expect(outcome(BASE)).not.toBeInstanceOf(EdaMessageError);
  });

  it('random bytes and random text: typed refusals only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => void outcome(bytes)), { numRuns: 300 });
    fc.assert(fc.property(fc.string({ maxLength: 600 }), (text) => void outcome(text)), { numRuns: 300 });
  });

  it('mutated messages (flipped bytes, cuts, splices, repeats): a consistent record or a typed refusal', () => {
    const bytes = Buffer.from(BASE);
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(bytes.length - 1), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(bytes.length - 1), length: fc.integer({ min: 1, max: 80 }) }),
      fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(bytes.length - 1), length: fc.integer({ min: 1, max: 200 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(bytes.length - 1), text: fc.constantFrom('<', '>', '&', '&amp;', ']]>', '<!DOCTYPE x>', '<EP/>', '-', '.', '9', ' ', '+03:00', 'Z', '\u0000', '\uffff') }),
    );
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
      let current = bytes;
      for (const m of mutations) {
        const at = Math.min(m.at, current.length);
        if (m.kind === 'flip') current = Buffer.concat([current.subarray(0, at), Buffer.from([m.value]), current.subarray(at + 1)]);
        if (m.kind === 'cut') current = Buffer.concat([current.subarray(0, at), current.subarray(at + m.length)]);
        if (m.kind === 'repeat') current = Buffer.concat([current.subarray(0, at + m.length), current.subarray(at)]);
        if (m.kind === 'insert') current = Buffer.concat([current.subarray(0, at), Buffer.from(m.text), current.subarray(at)]);
      }
      outcome(current);
    }), { numRuns: 1500 });
  });

  it('any BQ text is read exactly or refused: never a float approximation', () => {
    const quantity = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 2_147_483 }), fc.integer({ min: 0, max: 999_999 })).map(([kwhPart, micro]) => kwh(kwhPart * 1_000_000 + micro)),
      fc.string({ maxLength: 20 }).filter((s) => !/[<&]/.test(s)),
    );
    fc.assert(fc.property(quantity, (text) => {
      const message = BASE.replace('<cp:BQ>0.456</cp:BQ>', `<cp:BQ>${text}</cp:BQ>`);
      const result = outcome(message);
      if (result instanceof EdaMessageError) return;
      const milliWh = result.energy[0]!.series[0]!.positions[1]!.milliWh;
      const [whole, fraction = ''] = text.trim().replace(/^\+/, '').split('.');
      expect(milliWh).toBe(Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0')));
    }), { numRuns: 500 });
  });
});
