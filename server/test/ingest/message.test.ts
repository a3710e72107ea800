import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MESSAGE_LIMITS, MessageRejected, parseReadingsMessage } from '../../src/readings/message.js';

const NOW = Date.parse('2026-11-22T12:00:00Z');
const reading = (overrides: Record<string, unknown> = {}) => ({ ts: '2026-11-22T11:59:00Z', quantity: 'energy.import', value: 1234, unit: 'Wh', ...overrides });
const message = (...readings: unknown[]) => JSON.stringify({ readings });

function refusal(payload: string | Uint8Array): MessageRejected {
  try {
    parseReadingsMessage(payload, NOW);
  } catch (error) {
    expect(error).toBeInstanceOf(MessageRejected);
    return error as MessageRejected;
  }
  throw new Error('expected the message to be refused');
}

describe('device message validation', () => {
  it('normalises a valid message', () => {
    const parsed = parseReadingsMessage(message(reading({ ts: '2026-11-22T12:59:00+01:00' }), reading({ quantity: 'power.import', unit: 'W', value: 512.5 })), NOW);
    expect(parsed).toEqual([
      { ts: '2026-11-22T11:59:00.000Z', quantity: 'energy.import', value: 1234, unit: 'Wh' },
      { ts: '2026-11-22T11:59:00.000Z', quantity: 'power.import', value: 512.5, unit: 'W' },
    ]);
  });

  it.each([
    ['malformed JSON', '{"readings": [', 'malformed-json'],
    ['not an object', '[1,2]', 'bad-shape'],
    ['no readings', '{"readings": []}', 'bad-shape'],
    ['unknown top-level field', JSON.stringify({ readings: [reading()], extra: 1 }), 'bad-shape'],
    ['unknown reading field', message(reading({ meter: 'x' })), 'bad-shape'],
    ['unknown quantity', message(reading({ quantity: 'energy.magic' })), 'unknown-quantity'],
    ['wrong unit', message(reading({ unit: 'kWh' })), 'wrong-unit'],
    ['NaN as text', message(reading({ value: 'NaN' })), 'bad-value'],
    ['number as text', message(reading({ value: '1234' })), 'bad-value'],
    ['NaN literal', '{"readings":[{"ts":"2026-11-22T11:59:00Z","quantity":"energy.import","value":NaN,"unit":"Wh"}]}', 'malformed-json'],
    ['negative register', message(reading({ value: -1 })), 'bad-value'],
    ['negative power', message(reading({ quantity: 'power.export', unit: 'W', value: -5 })), 'bad-value'],
    ['state of charge above 100', message(reading({ quantity: 'battery.soc', unit: '%', value: 101 })), 'out-of-range'],
    ['a register beyond any meter (1e308 Wh)', message(reading({ value: 1e308 })), 'out-of-range'],
    ['a power beyond any device', message(reading({ quantity: 'power.import', unit: 'W', value: 1.5e8 })), 'out-of-range'],
    ['a power factor above 1', message(reading({ quantity: 'power.factor', unit: '1', value: 1.01 })), 'out-of-range'],
    ['reactive power far below zero', message(reading({ quantity: 'power.reactive', unit: 'var', value: -2e8 })), 'out-of-range'],
    ['timestamp without offset', message(reading({ ts: '2026-11-22T11:59:00' })), 'bad-timestamp'],
    ['impossible date', message(reading({ ts: '2026-02-30T10:00:00Z' })), 'bad-timestamp'],
    ['timestamp as number', message(reading({ ts: 1764000000 })), 'bad-timestamp'],
    ['timestamp from the future', message(reading({ ts: '2026-11-22T12:10:00Z' })), 'future-timestamp'],
    ['timestamp from long ago', message(reading({ ts: '2020-01-01T00:00:00Z' })), 'too-old'],
    ['too many readings', message(...Array.from({ length: MESSAGE_LIMITS.maxReadings + 1 }, () => reading())), 'bad-shape'],
  ])('refuses %s', (_name, payload, code) => {
    expect(refusal(payload).code).toBe(code);
  });

  it('refuses an oversized payload before parsing it', () => {
    expect(refusal(Buffer.alloc(MESSAGE_LIMITS.maxBytes + 1, 0x20)).code).toBe('too-large');
  });

  it('allows signed quantities to be negative', () => {
    expect(parseReadingsMessage(message(reading({ quantity: 'power.reactive', unit: 'var', value: -120 })), NOW)[0]!.value).toBe(-120);
  });

  it('never throws anything but MessageRejected on arbitrary input', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.uint8Array({ maxLength: 2048 })), (input) => {
      try {
        parseReadingsMessage(input, NOW);
      } catch (error) {
        expect(error).toBeInstanceOf(MessageRejected);
      }
    }), { numRuns: 2000 });
  });
});
