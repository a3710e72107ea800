import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameError } from '../../src/meters/domain/decoder.js';
import { decodeDsmr } from '../../src/meters/domain/decoders/dsmr.js';
import '../../src/meters/domain/decoders/index.js';
import { decodeFrame } from '../../src/meters/domain/registry.js';
import { crc16Arc } from '../../src/meters/domain/crc.js';
import { dsmrTimestamp } from '../../src/meters/domain/dsmr/telegram.js';
import { scaledDecimal } from '../../src/meters/domain/exact.js';
import { loadVector, refusal } from './vectors.js';

const valuesOf = (file: string, ignoreCrc = false) => {
  const decoded = decodeDsmr(loadVector(file).bytes, { ignoreCrc });
  return { ...decoded, values: Object.fromEntries(decoded.readings.map((r) => [r.quantity, r.value])) };
};


describe('DSMR P1 conformance vectors (expected values from each file header)', () => {
  it('dsmr-v5-ndokter: tariff registers, powers, phases and gas at its own time', () => {
    const { values, readings, extra, meterId } = valuesOf('dsmr-v5-ndokter.txt');
    expect(values).toMatchObject({
      'energy.import.t1': 4426, 'energy.import.t2': 2399, 'energy.export.t1': 2444, 'energy.export.t2': 0,
      'power.import': 244, 'power.export': 0,
      'voltage.l1': 230, 'voltage.l2': 230, 'voltage.l3': 229,
      'current.l1': 0.48, 'current.l2': 0.44, 'current.l3': 0.86,
      'power.import.l1': 70, 'power.import.l2': 32, 'power.import.l3': 142, 'power.export.l1': 0,
      'gas.volume': 0.107,
    });
    // 170102192002W is 19:20:02 winter time = 18:20:02 UTC; the gas reading keeps its 16:10:05.
    expect(readings.find((r) => r.quantity === 'energy.import.t1')!.ts).toBe('2017-01-02T18:20:02.000Z');
    expect(readings.find((r) => r.quantity === 'gas.volume')).toEqual({ ts: '2017-01-02T15:10:05.000Z', quantity: 'gas.volume', value: 0.107, unit: 'm3' });
    expect(extra).toMatchObject({ version: 50, tariff: 2, powerFailures: 13, longPowerFailures: 0, 'mbus1.id': '2222ABCD123456789' });
    expect(meterId).toBe('K8EG004046395507');
  });

  it('dsmr-v5-two-mbus-ndokter: an empty channel 1 is skipped, gas comes from channel 2; summer time', () => {
    const { values, readings, extra } = valuesOf('dsmr-v5-two-mbus-ndokter.txt');
    expect(values).toMatchObject({ 'energy.import.t1': 2130115, 'energy.import.t2': 245467, 'power.import': 111, 'voltage.l3': 222.9, 'current.l3': 1, 'power.import.l3': 55, 'gas.volume': 246.138 });
    expect(readings.filter((r) => r.quantity === 'gas.volume')).toHaveLength(1);
    expect(readings[0]!.ts).toBe('2020-04-26T20:33:25.000Z');
    expect(readings.find((r) => r.quantity === 'gas.volume')!.ts).toBe('2020-04-26T20:30:01.000Z');
    expect(extra).toMatchObject({ tariff: 1, 'mbus2.id': 'G0039001936990619' });
    expect(extra).not.toHaveProperty('mbus1.id');
  });

  it('dsmr-unpadded-crc-ndokter: a three-digit CRC is valid; heat in GJ becomes Wh', () => {
    const { readings } = valuesOf('dsmr-unpadded-crc-ndokter.txt');
    expect(readings).toEqual([{ ts: '2026-02-15T19:05:23.000Z', quantity: 'heat.energy', value: Math.round(240.86e9 / 3600), unit: 'Wh' }]);
  });

  it.each([
    ['dsmr-5.0.2-spec-example-athombv.txt', 'EF2F', 0xe47c],
    ['dsmr-emucs-v2.1.1-spec-example-athombv.txt', '1234', 0x74e0],
    ['smarty-lux-spec-example-plain-athombv.txt', '8B52', 0x6da1],
  ])('%s has a wrong CRC and is refused', (file, sent, computed) => {
    expect(() => decodeDsmr(loadVector(file).bytes, {})).toThrow(new RegExp(`CRC-16 ${sent} sent, ${computed.toString(16).toUpperCase()} computed`));
    expect(refusal(() => decodeDsmr(loadVector(file).bytes, {}))).toBe('crc');
  });

  it('dsmr-5.0.2 spec example, read despite its CRC: all four registers, per-phase powers both ways, gas', () => {
    const { values, readings, extra } = valuesOf('dsmr-5.0.2-spec-example-athombv.txt', true);
    expect(values).toMatchObject({
      'energy.import.t1': 123456789, 'energy.import.t2': 123456789, 'energy.export.t1': 123456789, 'energy.export.t2': 123456789,
      'power.import': 1193, 'power.export': 0, 'voltage.l1': 220.1, 'voltage.l2': 220.2, 'voltage.l3': 220.3,
      'current.l1': 1, 'current.l2': 2, 'current.l3': 3,
      'power.import.l1': 1111, 'power.import.l2': 2222, 'power.import.l3': 3333,
      'power.export.l1': 4444, 'power.export.l2': 5555, 'power.export.l3': 6666, 'gas.volume': 12785.123,
    });
    expect(readings.find((r) => r.quantity === 'gas.volume')!.ts).toBe('2010-12-09T10:25:00.000Z');
    expect(extra).toMatchObject({ tariff: 2, powerFailures: 4, longPowerFailures: 2, 'voltageSags.l1': 2, 'voltageSags.l2': 1, 'voltageSwells.l2': 3 });
  });

  it('e-MUCS (Belgium): gas and water sub-meters (24.2.3) and the 96.1.1 equipment ids', () => {
    const { values, meterId } = valuesOf('dsmr-emucs-v2.1.1-spec-example-athombv.txt', true);
    expect(values).toMatchObject({ 'energy.import.t1': 34, 'energy.import.t2': 15758, 'energy.export.t2': 11, 'voltage.l1': 234.7, 'gas.volume': 112.384, 'water.volume': 872.234 });
    expect(meterId).toBe('1SAG3101021605');
  });

  it('Smarty plaintext: totals without tariffs, reactive registers, the second gas meter kept apart', () => {
    const { values, extra, meterId } = valuesOf('smarty-lux-spec-example-plain-athombv.txt', true);
    expect(values).toMatchObject({ 'energy.import': 25653, 'energy.export': 40, 'energy.reactive.import': 835, 'energy.reactive.export': 63781, 'power.import': 5, 'gas.volume': 0.006 });
    expect(extra).toMatchObject({ 'mbus4.gas.volume': 28.103, 'mbus4.id': 'ELS353589980300' });
    expect(meterId).toBe('SAG1030790002574');
  });
});

describe('DSMR refuses what it cannot trust', () => {
  const good = loadVector('dsmr-v5-ndokter.txt').bytes;

  it('a flipped bit anywhere between "/" and "!" fails the CRC', () => {
    const end = good.indexOf(0x21);
    fc.assert(fc.property(fc.integer({ min: 0, max: end }), fc.integer({ min: 0, max: 7 }), (at, bit) => {
      const copy = Buffer.from(good);
      copy[at] = copy[at]! ^ (1 << bit);
      expect(['crc', 'format', 'truncated']).toContain(refusal(() => decodeDsmr(copy, {})));
    }), { numRuns: 300 });
  });

  it('a telegram cut short is truncated, a missing timestamp needs a receive time', () => {
    expect(refusal(() => decodeDsmr(good.subarray(0, 200), {}))).toBe('truncated');
    const noClock = Buffer.from(good.toString('latin1').replace('0-0:1.0.0(170102192002W)\r\n', '').replace(/!.*$/s, '!'), 'latin1');
    expect(refusal(() => decodeDsmr(noClock, {}))).toBe('format');
    const at = new Date('2026-11-23T10:00:00Z');
    expect(decodeDsmr(noClock, { receivedAt: at }).readings[0]!.ts).toBe(at.toISOString());
  });

  it('leaves a readout without CRC and without any line only DSMR sends to D0, so auto detection keeps its meter id', () => {
    const receivedAt = new Date('2026-11-23T12:00:00Z');
    const easymeter = loadVector('d0-moded-easymeter-q3d-ndokter.txt').bytes;
    expect(refusal(() => decodeDsmr(easymeter, { receivedAt }))).toBe('format');
    const auto = decodeFrame(easymeter, { receivedAt, format: 'auto' });
    expect(auto).toMatchObject({ format: 'd0', meterId: '0272031312565' });
    expect(auto.readings).toHaveLength(6);
    // A DSMR 2.2 telegram has no CRC either, but its equipment id and tariff lines are DSMR's own.
    const dsmr22 = Buffer.from('/ISk5\\2MT382-1004\r\n\r\n0-0:96.1.1(4B414C37303035313039)\r\n1-0:1.8.1(00123.456*kWh)\r\n0-0:96.14.0(0001)\r\n!\r\n', 'latin1');
    expect(decodeDsmr(dsmr22, { receivedAt })).toMatchObject({ meterId: 'KAL7005109', readings: [{ quantity: 'energy.import.t1', value: 123_456 }] });
  });

  it('a register in the wrong unit is refused, not converted', () => {
    const text = good.toString('latin1').replace('1-0:1.8.1(000004.426*kWh)', '1-0:1.8.1(000004.426*m3)').replace(/!.*$/s, '!');
    const body = Buffer.from(text, 'latin1');
    const crc = crc16Arc(body).toString(16).toUpperCase().padStart(4, '0');
    expect(refusal(() => decodeDsmr(Buffer.concat([body, Buffer.from(`${crc}\r\n`)]), {}))).toBe('format');
  });

  it('survives random and mutated input: readings or a FrameError, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const prefixed = Buffer.concat([Buffer.from('/ABC5 '), bytes]);
      for (const frame of [bytes, prefixed]) {
        try {
          decodeDsmr(frame, { receivedAt: new Date(0), ignoreCrc: true });
        } catch (error) {
          expect(error).toBeInstanceOf(FrameError);
        }
      }
    }), { numRuns: 400 });
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
      const copy = Buffer.from(good);
      for (const [at, byte] of edits) copy[at] = byte;
      try {
        const decoded = decodeDsmr(copy, { ignoreCrc: true });
        for (const r of decoded.readings) expect(Number.isFinite(r.value)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(FrameError);
      }
    }), { numRuns: 400 });
  });
});

describe('DSMR values and clock', () => {
  it('scales decimals exactly', () => {
    expect(scaledDecimal('000004.426', 3)).toBe(4426);
    expect(scaledDecimal('00.070', 3)).toBe(70);
    expect(scaledDecimal('0.48')).toBe(0.48);
    fc.assert(fc.property(fc.integer({ min: 0, max: 999_999_999 }), (wh) => {
      const kwh = `${Math.floor(wh / 1000)}.${String(wh % 1000).padStart(3, '0')}`;
      expect(scaledDecimal(kwh, 3)).toBe(wh);
    }));
    expect(() => scaledDecimal('1e5')).toThrow(FrameError);
    expect(() => scaledDecimal('NaN')).toThrow(FrameError);
    expect(() => scaledDecimal('1'.repeat(25))).toThrow(FrameError);
    expect(scaledDecimal('1'.repeat(24), -24)).toBe(Number(`0.${'1'.repeat(24)}`));
  });

  it('reads W as UTC+1 and S as UTC+2, and knows the "no value" stamps', () => {
    expect(dsmrTimestamp('170102192002W')!.toISOString()).toBe('2017-01-02T18:20:02.000Z');
    expect(dsmrTimestamp('200426223325S')!.toISOString()).toBe('2020-04-26T20:33:25.000Z');
    expect(dsmrTimestamp('632525252525S')).toBeUndefined();
    expect(dsmrTimestamp('700101010000W')).toBeUndefined();
    expect(() => dsmrTimestamp('2001021920W')).toThrow(FrameError);
  });
});
